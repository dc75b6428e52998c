"""Under mpirun: swap Monte Carlo of diameters on a frozen polydisperse configuration.

Positions do not move (no integrator), so the energy changes only through accepted swaps: rank 0
writes the energy before and after, the fix's sum of accepted dE, its counters, and the final
diameters ordered by atom ID as JSON. Used to check the local, MPI-reduced energy change against
LAMMPS' full energy on 1 and 2 ranks.

usage: swap_diameter.py OUT NATOMS
"""

import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

from glassmodes.lammps_session import open_lammps

SMAX = 1.45 / 0.9              # seed 003 sizes
SMIN = SMAX / 2.219
out, natoms = Path(sys.argv[1]), int(sys.argv[2])
length = natoms ** (1.0 / 3.0)
lmp = open_lammps()
for line in [
    "units lj", "atom_style sphere", "atom_modify map yes",
    f"region box block 0 {length} 0 {length} 0 {length}", "create_box 1 box",
    f"create_atoms 1 random {natoms} 5 NULL overlap 0.7 maxtry 500",
    f"variable d atom ({SMIN!r}^-2-(id-0.5)/{natoms}*({SMIN!r}^-2-{SMAX!r}^-2))^-0.5",
    "set group all diameter v_d", "set group all mass 1.0",
    "pair_style ipl/smooth/poly 12 2 1.25 0.2", "pair_coeff * * 1.0",
    "neighbor 0.3 bin", "minimize 0 1e-4 1000 10000",
    "fix sw all swap/diameter 1 20 0.1 123",
    "thermo_style custom step pe f_sw[1] f_sw[2] f_sw[3] f_sw[4]", "thermo_modify norm no",
    "run 0",
]:
    lmp.command(line)
pe0 = lmp.get_thermo("pe")
lmp.command("run 50")
pe1 = lmp.get_thermo("pe")
stats = [lmp.extract_fix("sw", 0, 1, k) for k in range(4)]
ids = np.array(lmp.gather_atoms("id", 0, 1))
radius = np.array(lmp.gather_atoms("radius", 1, 1))
if MPI.COMM_WORLD.Get_rank() == 0:
    order = np.argsort(ids)
    out.write_text(json.dumps({"pe0": pe0, "pe1": pe1, "stats": stats,
                               "diameters": (2 * radius[order]).tolist()}))
lmp.close()
