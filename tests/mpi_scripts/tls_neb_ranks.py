"""Under mpirun: the in-process NEB with its LAMMPS instance on MPI_COMM_WORLD (domain-decomposed).

Every rank runs the same NumPy optimizer on gathered forces; rank 0 writes the re-minimized end
energies, the image energies and arc length of a 4-image NEB of the seed-002 pair as JSON. Used to check
1 and 2 ranks against each other.

usage: tls_neb_ranks.py OUT A.conf B.conf
"""

import json
import sys
from pathlib import Path

from mpi4py import MPI

from glassmodes.landscape.neb import Landscape, neb_python, read_configuration

out, fa, fb = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
a, b = read_configuration(fa), read_configuration(fb)
land = Landscape(a, comm=MPI.COMM_WORLD)
xa, ea, _ = land.minimize(a.x)
xb, eb, _ = land.minimize(b.x)
m = neb_python(land, xa, xb, nimages=4)
land.close()
if MPI.COMM_WORLD.rank == 0:
    out.write_text(json.dumps({"ranks": MPI.COMM_WORLD.size, "E_A": ea, "E_B": eb, "energy": m.energy.tolist(),
                               "length": m.length, "iterations": m.iterations, "barrier": m.barrier}))
