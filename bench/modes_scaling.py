"""Benchmark: lowest 50 modes of 3D Kob-Andersen glasses of growing N with the sparse (ARPACK on
SuperLU) and SLEPc (Krylov-Schur, shift-and-invert, CG + GAMG, or LOBPCG preconditioned by GAMG;
1 and 2 ranks) backends, and the full dense spectrum at N = 1000 and 4000. Wall time and peak
resident memory of each solve, every solve in a fresh process.

Glasses (RECIPES): N = 1000 and 4000 are melted at T = 2 and minimized (FIRE, CG); N = 8000 is
2 x 2 x 2 replicas of the 1000 glass, 108000 is 3 x 3 x 3 replicas of the 4000 glass and 864000
2 x 2 x 2 replicas of that (a replicated minimum is a minimum, with the same largest force; its
spectrum contains the small box's modes with their degeneracy multiplied, so the solvers see
exactly degenerate clusters). The Hessian is written by `write_hessian ... method analytic`.

    .venv/bin/python bench/modes_scaling.py [--sizes 1e4 1e5] [--dense 1000 4000] [--work DIR]
        [--methods krylovschur lobpcg] [--ranks 1 2] [--probe-iterations 2 10 [--probe-only]]

Writes bench/results/modes.md (and modes.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
K = 50

# the Kob-Andersen force field and the lattice box of the Hessian benchmark (same glasses)
from hessian_vs_dynamical_matrix import KA, LATTICE_BOX as MELT  # noqa: E402

MD = """velocity all create 2.0 11
fix nvt all nvt temp 2.0 2.0 0.1
timestep 0.005
run 2000
unfix nvt"""
REPLICATE = """read_data {data}
replicate {rep} {rep} {rep}"""
HESSIAN = """write_hessian all {hessian} method analytic"""
MINIMIZE = """min_style fire
minimize 0 1e-6 100000 1000000
min_style cg
minimize 0 1e-11 100000 1000000
write_data {data} nocoeff
""" + HESSIAN

# one solve in a fresh process: wall time and peak resident memory (of this rank)
WORKER = r"""
import json, resource, sys, time
from mpi4py import MPI
from glassmodes.modes import ModeError, solve_modes
path, backend, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
comm = MPI.COMM_WORLD if backend == "slepc" else None
opts = {"method": sys.argv[4]} if backend == "slepc" else {}
max_it = int(sys.argv[5]) if len(sys.argv) > 5 else None    # a probe: stop after max_it iterations
t0 = time.perf_counter()
try:
    modes = solve_modes(path, backend=backend, k=k if k > 0 else None, comm=comm,  # dense, k = 0: all modes
                        **opts, **({"max_it": max_it} if max_it else {}))
    stopped = None
except ModeError as exc:
    if not max_it:
        raise
    modes, stopped = None, str(exc)
seconds = time.perf_counter() - t0
rss = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) if comm else \
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if max_it and (comm is None or comm.rank == 0):
    print(json.dumps({"max_it": max_it, "seconds": seconds, "peak_rss_gb_all_ranks": rss / 1e6,
                      "converged": stopped is None, "stopped": stopped}))
elif modes is not None:
    info = modes.info
    print(json.dumps({"seconds": seconds, "peak_rss_gb_all_ranks": rss / 1e6, "nmodes": int(modes.eigenvalues.size),
                      "omega_min": float(modes.omega[0]), "omega_max": float(modes.omega[-1]),
                      "max_residual": float(max(info.residual_norms)), "method": info.method,
                      "iterations": info.iterations,
                      "timings": getattr(info, "timings", None), "options": info.options}, default=str))
"""

# the preconditioner of the SLEPc LOBPCG path, built and applied once without an eigensolver: time
# and resident memory of each step (what N = 10^6 needs before any eigenvector block is allocated)
SETUP_WORKER = r"""
import json, resource, sys, time
from mpi4py import MPI
from petsc4py import PETSc
comm = PETSc.COMM_WORLD
def rss():    # GB, current and peak, summed over the ranks
    cur = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
    return comm.tompi4py().allreduce(cur) / 1e9, comm.tompi4py().allreduce(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1e6
out, t = {}, time.perf_counter()
A = PETSc.Mat().create(comm=comm)
A.setType(PETSc.Mat.Type.AIJ)
A.setBlockSize(3)
A.load(PETSc.Viewer().createBinary(sys.argv[1], "r", comm=comm))
out["load_s"], (out["rss_after_load_gb"], _) = time.perf_counter() - t, rss()
T = [A.createVecRight() for _ in range(3)]
lo, hi = T[0].getOwnershipRange()
for a in range(3):
    idx = list(range(lo + (a - lo) % 3, hi, 3))
    T[a].setValues(idx, [1.0] * len(idx))
    T[a].assemble()
    T[a].normalize()
A.setNearNullSpace(PETSc.NullSpace().create(constant=False, vectors=T, comm=comm))
pc = PETSc.PC().create(comm=comm)
pc.setType(PETSc.PC.Type.GAMG)
pc.setOperators(A)
t = time.perf_counter()
pc.setUp()
out["gamg_setup_s"], (out["rss_after_setup_gb"], out["peak_rss_gb"]) = time.perf_counter() - t, rss()
x, y = A.createVecs()
x.setRandom()
t = time.perf_counter()
for _ in range(5):
    pc.apply(x, y)
out["gamg_apply_s"] = (time.perf_counter() - t) / 5
t = time.perf_counter()
for _ in range(5):
    A.mult(x, y)
out["matmult_s"] = (time.perf_counter() - t) / 5
out["nnz"] = A.getInfo()["nz_used"]
out["ranks"] = comm.getSize()
if comm.getRank() == 0:
    print(json.dumps(out))
"""


def lammps_run(deck: str, work: Path, nprocs: int = 1) -> None:
    (work / "deck.in").write_text(deck)
    code = ("from mpi4py import MPI\nfrom glassmodes.lammps_session import open_lammps\n"
            f"lmp = open_lammps()\nlmp.file({str(work / 'deck.in')!r})\n")
    cmd = [sys.executable, "-c", code]
    if nprocs > 1:
        cmd = [str(Path(sys.executable).with_name("mpirun")), "-np", str(nprocs), *cmd]
    subprocess.run(cmd, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))


# size asked -> (lattice, cells) melted directly, or (base size, replicas per side)
RECIPES = {1000: ("sc", 10), 4000: ("fcc", 10), 10**4: (1000, 2), 10**5: (4000, 3), 10**6: (10**5, 2)}


def glass(n: int, work: Path) -> Path:
    """Hessian file of a minimized KA glass for size n of RECIPES (built once, kept in work)."""
    hessian = work / f"H{n}"
    if hessian.exists():
        return hessian
    if n not in RECIPES:
        raise SystemExit(f"no recipe for N = {n}: one of {sorted(RECIPES)}")
    a, b = RECIPES[n]
    md = ""
    if isinstance(a, str):
        box, md = MELT.format(lattice=a, cells=b), MD + "\n"
    else:
        glass(a, work)
        box = REPLICATE.format(data=work / f"ka{a}.data", rep=b)
    t = time.perf_counter()
    # a replica of a minimum is a minimum (same forces): no minimization
    tail = MINIMIZE if md else "write_data {data} nocoeff\n" + HESSIAN
    lammps_run(KA.format(box=box) + md + tail.format(data=work / f"ka{n}.data", hessian=hessian), work, nprocs=2)
    print(f"glass {n}: {time.perf_counter() - t:.0f} s", flush=True)
    return hessian


def solve(hessian: Path, backend: str, k: int, nprocs: int, work: Path, method: str = "krylovschur",
          max_it: int | None = None) -> dict:
    worker = work / "solve_worker.py"
    worker.write_text(WORKER)
    cmd = [sys.executable, str(worker), str(hessian), backend, str(k), method, *([str(max_it)] if max_it else [])]
    if backend == "slepc":
        cmd = [str(Path(sys.executable).with_name("mpirun")), "-np", str(nprocs), *cmd]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    wall = time.perf_counter() - t
    if proc.returncode:
        return {"error": (proc.stdout + proc.stderr)[-1500:], "wall_s": wall}
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["wall_incl_startup_s"] = wall
    return r


def setup_probe(hessian: Path, nprocs: int, work: Path) -> dict:
    worker = work / "setup_worker.py"
    worker.write_text(SETUP_WORKER)
    cmd = [str(Path(sys.executable).with_name("mpirun")), "-np", str(nprocs), sys.executable, str(worker), str(hessian)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    if proc.returncode:
        return {"error": (proc.stdout + proc.stderr)[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="*", default=[1e4, 1e5])
    ap.add_argument("--dense", type=int, nargs="*", default=[1000, 4000])
    ap.add_argument("--skip-sparse-above", type=float, default=1e4,
                    help="no SuperLU run above this N (3D fill-in: 11 GB at N = 8000)")
    ap.add_argument("--ranks", type=int, nargs="*", default=[1, 2], help="SLEPc rank counts")
    ap.add_argument("--methods", nargs="*", default=["krylovschur", "lobpcg"], help="SLEPc eigensolvers")
    ap.add_argument("--no-sparse", action="store_true", help="skip the sparse (SuperLU) backend")
    ap.add_argument("--probe-iterations", type=int, nargs=2, metavar=("A", "B"),
                    help="also run each SLEPc solve stopped after A and after B iterations: the time per "
                         "early iteration and the setup time")
    ap.add_argument("--probe-only", action="store_true", help="only the probes of the SLEPc solves")
    ap.add_argument("--setup-probe", action="store_true",
                    help="also load each matrix and build its GAMG preconditioner without an eigensolver "
                         "(time, memory, one application)")
    ap.add_argument("--work", default="/tmp/gm-modes-bench")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = HERE / "results" / "modes.json"
    results = json.loads(out.read_text()) if out.exists() else {}

    def record(key, value):
        results[key] = {**value, "date": time.strftime("%Y-%m-%d")}
        print(key, json.dumps(value, default=str)[:400], flush=True)
        out.write_text(json.dumps(results, indent=1, default=str))

    for n in args.dense:
        h = glass(n, work)
        record(f"dense N={n}", {**solve(h, "dense", 0, 1, work), "natoms": n})
    for size in args.sizes:
        n = int(size)
        h = glass(n, work)
        meta = json.loads(Path(str(h) + ".json").read_text())
        if args.setup_probe:
            for nprocs in args.ranks:
                record(f"setup np={nprocs} N={meta['natoms']}", {**setup_probe(h, nprocs, work), "natoms": meta["natoms"]})
        if n <= args.skip_sparse_above and not (args.no_sparse or args.probe_only):
            record(f"sparse N={meta['natoms']}", {**solve(h, "sparse", K, 1, work), "natoms": meta["natoms"]})
        for method in args.methods:
            for nprocs in args.ranks:
                tag = "slepc" if method == "krylovschur" else f"slepc-{method}"
                if not args.probe_only:
                    record(f"{tag} np={nprocs} N={meta['natoms']}",
                           {**solve(h, "slepc", K, nprocs, work, method), "natoms": meta["natoms"]})
                if args.probe_iterations:
                    a, b = (solve(h, "slepc", K, nprocs, work, method, m) for m in args.probe_iterations)
                    record(f"probe {tag} np={nprocs} N={meta['natoms']}", {"natoms": meta["natoms"], "runs": [a, b]})
    write_table(results)


NOTES = "<!-- notes: kept when the table above is rewritten -->"


def write_table(results: dict) -> None:
    lines = ["# Normal modes: time and memory", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores; every solve a fresh process.",
             "Reproduce: `.venv/bin/python bench/modes_scaling.py` (glasses and Hessians are built first, "
             "not timed).", "",
             "| solve | N | modes | wall (s) | peak memory, all ranks (GB) | omega range | largest residual | method "
             "| iterations | measured |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    probes, setups = [], []
    for key, r in results.items():
        if key.startswith("probe "):
            probes.append((key[len("probe "):], r))
            continue
        if key.startswith("setup "):
            setups.append((key, r))
            continue
        if "error" in r:
            lines.append(f"| {key} | {r.get('natoms', '')} | failed | {r['wall_s']:.0f} | | | | "
                         f"{r['error'].splitlines()[-1][:120]} | | {r.get('date', '')} |")
            continue
        lines.append(f"| {key.split(' N=')[0]} | {r['natoms']} | {r['nmodes']} | {r['seconds']:.1f} | "
                     f"{r['peak_rss_gb_all_ranks']:.2f} | {r['omega_min']:.4g} - {r['omega_max']:.4g} | "
                     f"{r['max_residual']:.1e} | {r['method']} | {r.get('iterations', '')} | {r.get('date', '')} |")
    if probes:
        lines += ["", "Where the time goes: the same solve stopped after A and after B iterations (`--probe-iterations "
                  "A B`): the time of the early iterations and the setup (load, symmetrize, preconditioner) by "
                  "difference; the full solve's mean time per iteration = (its wall time - setup) / its iterations.",
                  "", "| solve | N | stopped after | wall (s) | time per early iteration (s) | setup (s) | iterations "
                  "of the full solve | its mean time per iteration (s) | peak memory (GB) | measured |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for key, r in probes:
            (a, b), full = r["runs"], results.get(key, {})
            if "error" in a or "error" in b:
                lines.append(f"| {key.split(' N=')[0]} | {r['natoms']} | failed | | | | | | {r.get('date', '')} |")
                continue
            per = (b["seconds"] - a["seconds"]) / (b["max_it"] - a["max_it"])
            setup = a["seconds"] - a["max_it"] * per
            its = full.get("iterations")
            mean = f"{(full['seconds'] - setup) / its:.2f}" if its else ""
            lines.append(f"| {key.split(' N=')[0]} | {r['natoms']} | {a['max_it']}, {b['max_it']} | "
                         f"{a['seconds']:.1f}, {b['seconds']:.1f} | {per:.2f} | {setup:.1f} | {its or ''} | {mean} | "
                         f"{max(a['peak_rss_gb_all_ranks'], b['peak_rss_gb_all_ranks']):.2f} | {r.get('date', '')} |")
    if setups:
        lines += ["", "The LOBPCG preconditioner alone (`--setup-probe`): the matrix loaded and GAMG built and applied "
                  "without an eigensolver; memory summed over the ranks.", "",
                  "| ranks | N | nonzeros | load (s) | memory after load (GB) | GAMG setup (s) | memory after setup "
                  "(GB) | peak (GB) | one GAMG application (s) | one product D x (s) | measured |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for key, r in setups:
            if "error" in r:
                lines.append(f"| {key.split()[1]} | {r['natoms']} | failed: {r['error'].splitlines()[-1][:100]} "
                             f"| | | | | | | | {r.get('date', '')} |")
                continue
            lines.append(f"| {r['ranks']} | {r['natoms']} | {r['nnz']:.3g} | {r['load_s']:.3g} | "
                         f"{r['rss_after_load_gb']:.2f} | {r['gamg_setup_s']:.3g} | {r['rss_after_setup_gb']:.2f} | "
                         f"{r['peak_rss_gb']:.2f} | {r['gamg_apply_s']:.3g} | {r['matmult_s']:.3g} | "
                         f"{r.get('date', '')} |")
    md = HERE / "results" / "modes.md"
    old = md.read_text() if md.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    md.write_text("\n".join(lines) + "\n\n" + NOTES + notes)


if __name__ == "__main__":
    main()
