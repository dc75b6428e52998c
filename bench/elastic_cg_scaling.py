"""Cost of the relaxed tensor by block-Jacobi CG (or PETSc CG + GAMG) vs N: a glass replicated k x k x k times.

A periodic minimum replicated by LAMMPS ``replicate`` is still a minimum (no minimization needed),
so one prepared sample gives every N = k^d N0. For each k: ``write_hessian all H mass no``, the
terms from the pair blocks, the CG solve of the d(d+1)/2 strain right-hand sides (rtol 1e-10),
timed separately (``seconds_relaxed_total`` includes the PETSc setup), with the iterations, the nonzeros and the peak memory (ru_maxrss).
Cost model: seconds(CG) ~ iterations x nnz x nrhs.

Usage: python bench/elastic_cg_scaling.py DATA --k 1 2 3 --out bench/results/elastic_cg_scaling.json
       python bench/elastic_cg_scaling.py DATA --k 1 2 3 5 --solver petsc --out bench/results/elastic_petsc_scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--k", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--out", required=True)
    ap.add_argument("--solver", choices=("cg", "petsc"), default="cg",
                    help="block-Jacobi CG (SciPy) or PETSc CG + GAMG (serial here)")
    args = ap.parse_args(argv)
    from glassmodes.elastic import CGSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.hessian_job import data_commands
    from glassmodes.io.hessian import read_hessian
    from glassmodes.lammps_session import open_lammps

    data = Path(args.data)
    rows = []
    for k in args.k:
        with tempfile.TemporaryDirectory() as tmp:
            lmp = open_lammps()
            t0 = time.perf_counter()
            lmp.commands_list(data_commands(data))
            dim = int(lmp.extract_setting("dimension"))
            if k > 1:
                lmp.command(f"replicate {k} {k} {k if dim == 3 else 1}")
            lmp.command(f"write_hessian all {tmp}/H mass no")
            lmp.close()
            t1 = time.perf_counter()
            h = read_hessian(f"{tmp}/H")
            terms = terms_from_hessian(h)
            t2 = time.perf_counter()
            if args.solver == "cg":
                solver = CGSolver(h.matrix, h.dimension, rtol=1e-10)
            else:
                from glassmodes.elastic.relaxed import PetscCGSolver

                solver = PetscCGSolver(f"{tmp}/H", rtol=1e-10)
            res = relaxed_elastic(terms, solver, max_force=1e-8)
            t3 = time.perf_counter()
        row = {"solver": args.solver, "k": k, "natoms": h.natoms, "nnz": int(h.matrix.nnz), "seconds_hessian": t1 - t0,
               "seconds_terms": t2 - t1, "seconds_cg": res.solve.seconds, "seconds_relaxed_total": t3 - t2,
               "iterations_max": int(res.solve.iterations.max()), "residual_max": float(res.solve.residuals.max()),
               "nrhs": int(res.C.shape[0]), "G_thesis": res.moduli["G_thesis"], "G_iso_B": res.moduli["G_iso_B"],
               "peak_rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "loadavg": os.getloadavg()}
        row["ns_per_iteration_nnz_rhs"] = 1e9 * row["seconds_cg"] / (row["iterations_max"] * row["nnz"] * row["nrhs"])
        rows.append(row)
        print(json.dumps(row), flush=True)
        Path(args.out).write_text(json.dumps({"data": str(data), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
