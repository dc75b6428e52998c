"""Under mpirun: contractions of a force-constant file read with a communicator (each rank a slice
of the records); rank 0 saves them to an .npz.

usage: fc3_contractions.py FC3 VECTORS.npz OUT.npz
"""

import sys

import numpy as np
from mpi4py import MPI

from glassmodes.fc3 import read_fc3


def main(argv):
    path, vectors, out = argv[1:4]
    comm = MPI.COMM_WORLD
    fc = read_fc3(path, comm=comm)
    v = np.load(vectors)
    u, w, x, y = v["u"], v["v"], v["w"], v["x"]
    res = {"m3": fc.phi3(u).toarray(), "v3": fc.phi3(u, w), "s3": fc.phi3(u, w, x)}
    if fc.order >= 4:
        res.update(m4=fc.phi4(u, w).toarray(), v4=fc.phi4(u, w, x), s4=fc.phi4(u, w, x, y))
    nrec = comm.allreduce(len(fc.records))
    if comm.Get_rank() == 0:
        np.savez(out, nprocs=comm.Get_size(), nrecords=nrec, **res)


if __name__ == "__main__":
    main(sys.argv)
