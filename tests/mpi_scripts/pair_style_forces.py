"""Under mpirun: the polydisperse seed-002 model on a random 216-atom configuration; rank 0
writes the energy and the forces (ordered by atom ID) as JSON.

usage: pair_style_forces.py OUT
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mpi4py import MPI  # noqa: E402

from glassmodes.lammps_session import open_lammps  # noqa: E402
from test_pair_styles import MODELS, random_config_lines  # noqa: E402

out = Path(sys.argv[1])
lmp = open_lammps()
for line in random_config_lines(MODELS["poly-seed002"], seed=5, nside=6):
    lmp.command(line)
lmp.command("run 0 post no")
pe = lmp.get_thermo("pe")
natoms = lmp.get_natoms()
forces = np.array(lmp.gather_atoms("f", 1, 3)).reshape(natoms, 3)
if MPI.COMM_WORLD.Get_rank() == 0:
    out.write_text(json.dumps({"natoms": natoms, "pe": pe, "forces": forces.tolist()}))
lmp.close()
