"""Under mpirun: read a KA data file, compute the elastic terms and the relaxed C by LAMMPS finite
differences (glassmodes.elastic.lammps_fd), save them (rank 0).

usage: elastic_fd_ranks.py DATA DIM OUT.npz
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

from glassmodes.elastic.lammps_fd import relaxed_from_lammps, terms_from_lammps  # noqa: E402
from glassmodes.lammps_session import open_lammps  # noqa: E402
from systems import KA_PAIR, run  # noqa: E402

data, dim, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lmp = open_lammps()
run(lmp, ["units lj", f"dimension {dim}", "atom_style atomic", "atom_modify map yes", f"read_data {data}",
          *KA_PAIR, "neighbor 0.3 bin"])
t = terms_from_lammps(lmp)
r = relaxed_from_lammps(lmp, ftol=1e-11)
if MPI.COMM_WORLD.rank == 0:
    np.savez(out, stress=t.stress, born=t.born, xi=t.xi, C=r["C"])
lmp.close()
