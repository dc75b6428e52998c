"""mpirun helper: lowest modes of a Hessian file with the slepc backend; rank 0 saves an .npz.

usage: python slepc_modes.py HESSIAN OUT.npz K [METHOD] [INNER] [WMAX]
"""

import sys

import numpy as np
from mpi4py import MPI

from glassmodes.modes import solve_modes


def main(argv):
    path, out, k = argv[1], argv[2], int(argv[3])
    method = argv[4] if len(argv) > 4 else "krylovschur"
    inner = argv[5] if len(argv) > 5 else "gamg"
    w_max = float(argv[6]) if len(argv) > 6 else None
    modes = solve_modes(path, backend="slepc", k=k if k > 0 else None, w_max=w_max, comm=MPI.COMM_WORLD,
                        method=method, inner=inner)
    if MPI.COMM_WORLD.Get_rank() == 0:
        zm = modes.info.zero_modes
        np.savez(out, eigenvalues=modes.eigenvalues, vectors=modes.vectors, omega=modes.omega,
                 residuals=modes.info.residual_norms, zero_count=zm.count, zero_max=zm.max_abs_eigenvalue,
                 nprocs=MPI.COMM_WORLD.Get_size())


if __name__ == "__main__":
    main(sys.argv)
