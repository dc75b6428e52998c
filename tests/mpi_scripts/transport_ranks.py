"""Under mpirun: flux products (blocks over ranks) and the classical kappa of a sample.

usage: transport_ranks.py MODES HESSIAN OUT.npz   (rank 0 saves W and the modal kappa)
"""

import sys

import numpy as np
from mpi4py import MPI

from glassmodes.transport import Linewidths, compute_flux, conductivity

comm = MPI.COMM_WORLD
fp = compute_flux(sys.argv[1], sys.argv[2], block=64, comm=comm)
res = conductivity(fp, [0.5], Linewidths.classical(np.linspace(0.2, 0.8, fp.nmodes), 0.5))
if comm.Get_rank() == 0:
    np.savez(sys.argv[3], W=fp.W, kappa_modal=res.kappa_modal)
