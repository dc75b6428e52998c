"""Under mpirun: all-mode (triples) and subset (direct) decay rates of a random dense tensor.

usage: lifetimes_ranks.py OUT.npy   (saves [gamma_triples, gamma_direct_padded])
"""

import sys

import numpy as np
import scipy.sparse as sp
from mpi4py import MPI

from glassmodes.anharmonic import Smearing, decay_rates


class Dense:
    dimension = 3

    def __init__(self, T):
        self.T = T

    def contract(self, u):
        return sp.csr_matrix(np.einsum("a,abc->bc", u, self.T))


rng = np.random.default_rng(1)
n = 36
T = rng.standard_normal((n, n, n))
T = sum(T.transpose(p) for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]) / 6
Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
w = np.sort(rng.uniform(0.5, 3.0, n))
sm = Smearing("gaussian", width=0.3)
comm = MPI.COMM_WORLD
a = decay_rates(w, Q, Dense(T), 0.8, smearing=sm, block=4, comm=comm)
b = decay_rates(w, Q, Dense(T), 0.8, smearing=sm, targets=np.arange(0, n, 2), comm=comm)
if comm.Get_rank() == 0:
    pad = np.zeros(n)
    pad[::2] = b.gamma
    np.save(sys.argv[1], np.array([a.gamma, pad]))
