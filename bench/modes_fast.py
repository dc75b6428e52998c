"""Benchmark (issue 19): faster SLEPc paths for the lowest 50 modes of 3D KA glasses, each timed
against today's LOBPCG + GAMG (random start) on the same matrix in the same run.

Methods: ``lobpcg`` (today), ``lobpcg-pw`` (LOBPCG + GAMG from the plane-wave starting subspace),
``chebyshev`` (Chebyshev-filtered subspace iteration from the plane-wave start; block products
only), ``lobpcg-blockgamg`` (``inner="gamg-block"``), ``lobpcg-norm`` (``conv="norm"``),
``lobpcg-rigid`` (``near_null="rigid"``), ``lobpcg-blocknorm`` (``gamg-block`` and ``norm``) and
``lobpcg-fast`` (all three). Every solve is a fresh process under mpirun; recorded: wall time, CPU time summed over the
ranks (user + system; the fair measure on a shared machine), iterations, block products, largest
residual, the largest relative eigenvalue difference to today's method, the load average before
and after, and the time spent in the completeness re-search (LOBPCG, the same for all methods).

Glasses: as bench/modes_scaling.py (its ``glass()``), plus N = 27000 = 3 x 3 x 3 replicas of the
1000-atom glass. ``--concurrent`` runs the methods of one size and rank count at the same time
(each gets the same share of a loaded machine; compare CPU times then).

    .venv/bin/python bench/modes_fast.py [--sizes 8000 27000] [--ranks 1 2]
        [--methods lobpcg lobpcg-pw chebyshev] [--work DIR] [--concurrent] [--max-it N]

``--max-it N`` stops every solve after N iterations (outer steps for chebyshev; a probe of the
time per iteration, not a solve). Writes bench/results/modes_fast.json and modes_fast.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import modes_scaling  # noqa: E402  (glass recipes and builder)

K = 50
METHODS = {"lobpcg": {"method": "lobpcg"},
           "lobpcg-pw": {"method": "lobpcg", "start": "planewaves"},
           "lobpcg-blockgamg": {"method": "lobpcg", "inner": "gamg-block"},
           "chebyshev": {"method": "chebyshev"},
           # the convergence test relative to |D| (stops at the reported residual, not |D|/lambda below it)
           "lobpcg-norm": {"method": "lobpcg", "conv": "norm"},
           # rotations in GAMG's near null space
           "lobpcg-rigid": {"method": "lobpcg", "near_null": "rigid"},
           # the block-applied GAMG and the norm test, without the rotations
           "lobpcg-blocknorm": {"method": "lobpcg", "inner": "gamg-block", "conv": "norm"},
           # all three gains together
           "lobpcg-fast": {"method": "lobpcg", "inner": "gamg-block", "conv": "norm", "near_null": "rigid"}}
DEFAULT_METHODS = ["lobpcg", "lobpcg-blockgamg", "lobpcg-fast", "chebyshev"]
KERNELS = HERE / "results" / "modes_fast_kernels.json"
SIZES = {1000: 1000, 8000: 10**4, 27000: 27000, 108000: 10**5}   # atoms -> modes_scaling recipe key
modes_scaling.RECIPES[27000] = (1000, 3)

WORKER = r"""
import json, resource, sys, time
import numpy as np
from mpi4py import MPI
from glassmodes.modes import ModeError, solve_modes
path, k, kw, out = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
comm = MPI.COMM_WORLD
t0 = time.perf_counter()
try:
    modes, stopped = solve_modes(path, backend="slepc", k=k, comm=comm, **kw), None
except ModeError as exc:
    if "max_it" not in kw:
        raise
    modes, stopped = None, str(exc)
seconds = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = comm.allreduce(ru.ru_utime + ru.ru_stime)
rss = comm.allreduce(ru.ru_maxrss) / 1e6
if comm.rank == 0:
    r = {"seconds": seconds, "cpu_s_all_ranks": cpu, "peak_rss_gb_all_ranks": rss, "stopped": stopped}
    if modes is not None:
        info = modes.info
        np.save(out, modes.eigenvalues)
        r.update(nmodes=int(modes.eigenvalues.size), max_residual=float(info.residual_norms.max()),
                 method=info.method, iterations=info.iterations, options=info.options)
    print(json.dumps(r, default=str))
"""


# the kernels of the cost model, one rank: one product D x, one GAMG application (the LOBPCG
# preconditioner, default smoothers), GAMG applied to a block at once (PCMatApply), and block
# products D X (MatMatMult) of 63 and 75 columns; CPU time of this process and wall time, each the
# mean over `reps` repetitions
KERNEL_WORKER = r"""
import json, sys, time
import numpy as np
from petsc4py import PETSc
comm = PETSc.COMM_WORLD
A = PETSc.Mat().create(comm=comm)
A.setType(PETSc.Mat.Type.AIJ)
A.setBlockSize(3)
A.load(PETSc.Viewer().createBinary(sys.argv[1], "r", comm=comm))
n, nloc = A.getSize()[0], A.getLocalSize()[0]
T = [A.createVecRight() for _ in range(3)]
lo, hi = T[0].getOwnershipRange()
for a in range(3):
    arr = np.zeros(nloc)
    arr[(np.arange(lo, hi) % 3) == a] = 1.0
    T[a].setArray(arr)
    T[a].normalize()
A.setNearNullSpace(PETSc.NullSpace().create(constant=False, vectors=T, comm=comm))
pc = PETSc.PC().create(comm=comm)
pc.setType(PETSc.PC.Type.GAMG)
pc.setOperators(A)
pc.setUp()
out = {"n": n, "nnz": A.getInfo()["nz_used"], "ranks": comm.getSize()}
x, y = A.createVecs()
x.setRandom()
def timed(key, fn, reps):
    c, t = time.process_time(), time.perf_counter()
    for _ in range(reps):
        fn()
    out[key + "_cpu_s"] = (time.process_time() - c) / reps
    out[key + "_wall_s"] = (time.perf_counter() - t) / reps
timed("matmult", lambda: A.mult(x, y), 20)
opts = PETSc.Options()
for k, v in {"richardson": "ksp_type", "jacobi": "pc_type", "0.6": "ksp_richardson_scale", "3": "ksp_max_it"}.items():
    opts.setValue("blk_mg_levels_" + v, k)
pcb = PETSc.PC().create(comm=comm)
pcb.setType(PETSc.PC.Type.GAMG)
pcb.setOptionsPrefix("blk_")
pcb.setOperators(A)
pcb.setFromOptions()
pcb.setUp()
timed("gamgblock_apply", lambda: pcb.apply(x, y), 5)
timed("gamg_apply", lambda: pc.apply(x, y), 5)
for m in (63, 75):
    X = PETSc.Mat().createDense(((nloc, n), (None, m)), array=np.asfortranarray(
        np.random.default_rng(0).standard_normal((nloc, m))), comm=comm)
    X.assemble()
    Y = A.matMult(X)
    timed(f"matmatmult{m}", lambda: A.matMult(X, Y), 3)
    if m == 63:
        Z = X.duplicate()
        timed("gamg_matapply63", lambda: pc.matApply(X, Z), 1)
        timed("gamgblock_matapply63", lambda: pcb.matApply(X, Z), 1)
if comm.getRank() == 0:
    print(json.dumps(out))
"""


def kernel_probe(hessian: Path, work: Path) -> dict:
    worker = work / "kernel_worker.py"
    worker.write_text(KERNEL_WORKER)
    load0 = loadavg()
    proc = subprocess.run([sys.executable, str(worker), str(hessian)], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    if proc.returncode:
        return {"error": (proc.stdout + proc.stderr)[-1500:]}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load_before": load0, "load_after": loadavg()}


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def launch(hessian: Path, nprocs: int, kw: dict, work: Path, tag: str):
    worker = work / "fast_worker.py"
    worker.write_text(WORKER)
    out = work / f"eig_{tag}.npy"
    cmd = [str(Path(sys.executable).with_name("mpirun")), "-np", str(nprocs), sys.executable, str(worker),
           str(hessian), str(K), json.dumps(kw), str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    return proc, out, time.perf_counter(), loadavg()


def finish(proc, out, t, load0) -> dict:
    stdout, stderr = proc.communicate()
    r = {"wall_s": time.perf_counter() - t, "load_before": load0, "load_after": loadavg()}
    if proc.returncode:
        return {**r, "error": (stdout + stderr)[-1500:]}
    r.update(json.loads(stdout.strip().splitlines()[-1]))
    return {**r, "eigenvalues_file": str(out)} if out.exists() else r   # a probe (max_it) writes none


def main() -> None:
    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[8000, 27000], choices=sorted(SIZES))
    ap.add_argument("--ranks", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--methods", nargs="*", default=DEFAULT_METHODS, choices=list(METHODS))
    ap.add_argument("--concurrent", action="store_true", help="run the methods of one size/rank count at once")
    ap.add_argument("--max-it", type=int, help="stop after this many iterations (a probe)")
    ap.add_argument("--kernels", action="store_true",
                    help="only the kernel probe (one rank): product, GAMG, block product times per size")
    ap.add_argument("--table-only", action="store_true", help="only rewrite modes_fast.md from the json files")
    ap.add_argument("--work", default="/tmp/gm-slepc")
    args = ap.parse_args()
    if args.table_only:
        write_table(json.loads((HERE / "results" / "modes_fast.json").read_text()))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    res_json = HERE / "results" / "modes_fast.json"
    results = json.loads(res_json.read_text()) if res_json.exists() else {}
    run_id = time.strftime("%H%M%S", time.gmtime())   # one run's rows share it (and its baseline)
    for n in args.sizes:
        h = modes_scaling.glass(SIZES[n], work)
        if args.kernels:
            kern = json.loads(KERNELS.read_text()) if KERNELS.exists() else {}
            kern[f"kernels N={n}"] = {**kernel_probe(h, work), "natoms": n,
                                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
            print(n, kern[f"kernels N={n}"], flush=True)
            KERNELS.write_text(json.dumps(kern, indent=1, default=str))
            continue
        for nprocs in args.ranks:
            runs = {}
            todo = [(m, {**METHODS[m], **({"max_it": args.max_it} if args.max_it else {})}) for m in args.methods]
            tags = {m: f"{m}_N{n}_np{nprocs}{'_probe' if args.max_it else ''}_{run_id}" for m, _ in todo}
            if args.concurrent:
                procs = {m: launch(h, nprocs, kw, work, tags[m]) for m, kw in todo}
                runs = {m: finish(*p) for m, p in procs.items()}
            else:
                for m, kw in todo:
                    runs[m] = finish(*launch(h, nprocs, kw, work, tags[m]))
                    print(m, n, nprocs, json.dumps(runs[m], default=str)[:300], flush=True)
            base = runs.get("lobpcg")
            for m, r in runs.items():
                if base and "eigenvalues_file" in base and "eigenvalues_file" in r:
                    a, b = np.load(base["eigenvalues_file"]), np.load(r["eigenvalues_file"])
                    r["max_rel_eig_diff_vs_lobpcg"] = float(np.max(np.abs(b / a - 1)))
                if base and "cpu_s_all_ranks" in base and "cpu_s_all_ranks" in r:
                    r["cpu_ratio_lobpcg_over_this"] = base["cpu_s_all_ranks"] / r["cpu_s_all_ranks"]
                    r["wall_ratio_lobpcg_over_this"] = base["seconds"] / r["seconds"]
                key = (f"{m} N={n} np={nprocs}{' max_it=%d' % args.max_it if args.max_it else ''}"
                       f" run={run_id}")
                results[key] = {**r, "natoms": n, "nprocs": nprocs, "concurrent": args.concurrent,
                                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
                print(key, json.dumps(results[key], default=str)[:400], flush=True)
            # merge with what other runs wrote meanwhile (several benchmark processes may run at once)
            results = {**(json.loads(res_json.read_text()) if res_json.exists() else {}),
                       **{k: v for k, v in results.items() if k.endswith(f"run={run_id}")}}
            res_json.write_text(json.dumps(results, indent=1, default=str))
    write_table(results)


def write_table(results: dict) -> None:
    lines = ["# Lowest 50 modes, faster SLEPc paths (issue 19): measured against LOBPCG + GAMG in the same run", "",
             f"Machine: {os.cpu_count()} cores shared with other jobs (load average recorded); "
             "reproduce: `.venv/bin/python bench/modes_fast.py --sizes 8000 --ranks 1 --concurrent`. "
             "CPU = user + system time summed over the ranks; ratio = today's LOBPCG / this method.", "",
             "| method | N | ranks | wall (s) | CPU (s) | CPU ratio | iterations | block products (columns) | "
             "largest residual | eigenvalues vs LOBPCG (max rel) | re-search (s) | load before/after | "
             "concurrent | measured |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, r in results.items():
        m = key.split()[0]
        if "error" in r:
            lines.append(f"| {m} | {r['natoms']} | {r['nprocs']} | failed | | | | | "
                         f"{r['error'].strip().splitlines()[-1][:100]} | | | | | {r['date']} |")
            continue
        o = r.get("options", {}) or {}
        probe = f" (stopped at max_it {key.split('max_it=')[1].split()[0]})" if "max_it=" in key else ""
        lines.append(
            f"| {m}{probe} | {r['natoms']} | {r['nprocs']} | {r['seconds']:.1f} | {r['cpu_s_all_ranks']:.1f} | "
            f"{r.get('cpu_ratio_lobpcg_over_this', float('nan')):.2f} | {r.get('iterations', '')} | "
            f"{o.get('block_products', '')} | {r.get('max_residual', float('nan')):.1e} | "
            f"{r.get('max_rel_eig_diff_vs_lobpcg', float('nan')):.1e} | "
            f"{float(o.get('verify_seconds', float('nan'))):.1f} | "
            f"{r['load_before']:.1f} / {r['load_after']:.1f} | {'yes' if r['concurrent'] else 'no'} | {r['date']} |")
    kern = json.loads(KERNELS.read_text()) if KERNELS.exists() else {}
    if kern:
        lines += ["", "Kernels of the cost model (`--kernels`, one rank, GAMG with the default smoothers): mean CPU "
                  "time of this process per call (wall in brackets).", "",
                  "| N | nonzeros | D x (s) | GAMG on one vector (s) | GAMG on 63 vectors, PCMatApply (s) | "
                  "D X, 63 columns (s) | D X, 75 columns (s) | gamg-block on one vector (s) | gamg-block on 63 "
                  "vectors, PCMatApply (s) | load before/after | measured |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for key, r in kern.items():
            if "error" in r:
                lines.append(f"| {r['natoms']} | failed | | | | | | | {r['date']} |")
                continue
            cell = lambda k: f"{r[k + '_cpu_s']:.3g} ({r[k + '_wall_s']:.3g})"  # noqa: E731
            lines.append(f"| {r['natoms']} | {r['nnz']:.3g} | {cell('matmult')} | {cell('gamg_apply')} | "
                         f"{cell('gamg_matapply63')} | {cell('matmatmult63')} | {cell('matmatmult75')} | "
                         f"{cell('gamgblock_apply') if 'gamgblock_apply_cpu_s' in r else ''} | "
                         f"{cell('gamgblock_matapply63') if 'gamgblock_matapply63_cpu_s' in r else ''} | "
                         f"{r['load_before']:.1f} / {r['load_after']:.1f} | {r['date']} |")
    md = HERE / "results" / "modes_fast.md"
    old = md.read_text() if md.exists() else ""
    notes = old.split(modes_scaling.NOTES, 1)[1] if modes_scaling.NOTES in old else "\n"
    md.write_text("\n".join(lines) + "\n\n" + modes_scaling.NOTES + notes)


if __name__ == "__main__":
    main()
