"""Far-field decay of dipole responses |z(r)| ~ r^s (expected s = -(d-1)) on one 2D and one 3D thesis IPL glass.

10 random interacting pairs each (seed 2), block-Jacobi CG, fit between r = 2 and half the box
(glassmodes.elastic.dipoles.far_field_slope). Usage: python bench/elastic_far_field.py DATA [DATA ...]
"""
import sys

import numpy as np, tempfile
from pathlib import Path
from glassmodes.hessian_job import HessianJob, write_hessian_job
from glassmodes.io.hessian import read_hessian
from glassmodes.elastic import CGSolver
from glassmodes.elastic.dipoles import dipole_response, random_pairs, far_field_slope
from glassmodes.elastic.terms import pairs_from_hessian, minimum_image
for data in sys.argv[1:]:
    with tempfile.TemporaryDirectory() as tmp:
        write_hessian_job(HessianJob(source=Path(data), output=Path(tmp)/"H", keywords={"mass": "no"}))
        h = read_hessian(Path(tmp)/"H")
    pairs, _ = pairs_from_hessian(h)
    r = dipole_response(CGSolver(h.matrix, h.dimension), pairs, h.natoms, random_pairs(pairs, 10, seed=2), keep_z=True)
    x = h.positions(); sl = []
    for k in range(10):
        c = x[r.i[k]] + 0.5*minimum_image((x[r.j[k]]-x[r.i[k]])[None,:], h.meta["box"], h.dimension)[0]
        sl.append(far_field_slope(r.z[:,k], x, h.meta["box"], c, 2.0).slope)
    print(data.split("/")[-1], "slopes", np.round(sl,2), "mean", np.mean(sl), "sem", np.std(sl,ddof=1)/np.sqrt(10), "expected", -(h.dimension-1), "kappa mean", r.kappa.mean())
