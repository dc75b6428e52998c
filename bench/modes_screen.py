"""Screen one SLEPc configuration for the lowest modes (issue 19): one solve, a JSON line on stdout.

    PYTHONPATH=pytools .venv/bin/python bench/modes_screen.py HESSIAN METHOD INNER 'PETSC_OPTIONS_JSON' TAG \
        [K] ['SOLVE_SLEPC_KWARGS_JSON'] [--out DIR]

e.g. ``bench/modes_screen.py /tmp/gm-slepc/H1000 lobpcg gamg-block '{}' fast 50 '{"conv": "norm",
"near_null": "rigid"}'``. Prints: wall ``s``, CPU ``cpu`` (user + system summed over the ranks:
the fair measure on a shared machine), iterations ``its`` (main solve and completeness re-search)
and ``main_its`` (main solve), ``verify_s`` (the re-search's wall time), the largest residual
``|D x - lambda x| / |D|_inf``, the load average at the end, and ``ev``: PETSc's log events
(wall seconds, count) -- ``PCMatApply`` (the preconditioner on LOBPCG's block), ``BVMatMult``
(the products ``D X``), ``BVOrthogonalize``/``BVDot``/``BVMult`` (orthogonalization and
projections), ``DSSolve`` (the Rayleigh-Ritz eigenproblems), ``PCSetUp`` (GAMG's setup). The
eigenvalues go to ``DIR/eig_TAG.npy`` (default /tmp/gm-s7) for comparisons. Runs under mpirun.
The Hessians: bench/modes_scaling.py's ``glass()`` (bench/modes_fast.py builds N = 1000, 8000,
27000 in /tmp/gm-slepc). Results of the issue-19 screen: bench/results/modes_screen.md.
"""

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from glassmodes.modes.slepc_backend import solve_slepc

EVENTS = ("EPSSolve", "MatMult", "MatMatMultNum", "PCApply", "PCSetUp", "KSPSolve", "BVOrthogonalize", "BVMult",
          "BVDot", "DSSolve", "BVMatMult", "PCMatApply")


def main() -> None:
    argv = list(sys.argv[1:])
    out = Path("/tmp/gm-s7")
    if "--out" in argv:
        i = argv.index("--out")
        out = Path(argv[i + 1])
        del argv[i:i + 2]
    path, method, inner, opts, tag = argv[:5]
    k = int(argv[5]) if len(argv) > 5 else 50
    kw = json.loads(argv[6]) if len(argv) > 6 else {}
    PETSc.Log.begin()
    comm = MPI.COMM_WORLD
    t0 = time.perf_counter()
    m = solve_slepc(path, comm=comm, k=k, method=method, inner=inner, options=json.loads(opts),
                    progress=lambda s: print(s, file=sys.stderr, flush=True), **kw)
    sec = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = comm.allreduce(ru.ru_utime + ru.ru_stime)
    ev = {}
    for name in EVENTS:
        info = PETSc.Log.Event(name).getPerfInfo()
        ev[name] = (round(info["time"], 2), info["count"])
    if comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / f"eig_{tag}.npy", m.eigenvalues)
        o = m.info.options
        print(json.dumps({"tag": tag, "s": round(sec, 1), "cpu": round(cpu, 1), "its": m.info.iterations,
                          "main_its": o.get("main_iterations"), "verify_s": round(o["verify_seconds"], 1),
                          "maxres": float(m.info.residual_norms.max()),
                          "load": Path("/proc/loadavg").read_text().split()[0], "ev": ev}), flush=True)


if __name__ == "__main__":
    main()
