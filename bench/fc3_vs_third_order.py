"""Benchmark: write_fc3 against LAMMPS's third_order (time and accuracy), and write_fc3's scaling.

Every timing of a LAMMPS command is one fresh process (wall time of the command, growth of the
peak resident memory during it). Each part updates bench/results/fc3.json and rewrites
bench/results/fc3.md from it.

    .venv/bin/python bench/fc3_vs_third_order.py                       # all parts: about 1 hour
    .venv/bin/python bench/fc3_vs_third_order.py --part third_order --quick   # N = 250 only
    .venv/bin/python bench/fc3_vs_third_order.py --part scaling        # write_fc3 up to N = 108000
    .venv/bin/python bench/fc3_vs_third_order.py --part contractions   # Python, N = 108000

third_order costs O(N_ext^2) force evaluations (every pair of atoms within two neighbor cutoffs,
4 evaluations per pair of coordinates), i.e. O(N^3) for these small boxes; its binary output has
3N doubles per such pair of coordinates (3.4 GB at N = 250), so at N = 500 it writes to /dev/null.
--reuse takes the measurements an interrupted run cached in --workdir instead of repeating them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "fc3.md"
sys.path.insert(0, str(REPO / "tests"))

from systems import KA_PAIR, ka_glass  # noqa: E402

SETUP = ["units lj", "atom_style atomic", "atom_modify map yes", "read_data {data}", *KA_PAIR,
         "neighbor 0.3 bin"]

# one LAMMPS command timed in a fresh process (wall, CPU, peak-memory growth)
from hessian_vs_dynamical_matrix import WORKER  # noqa: E402


REUSE = False    # --reuse: take measurements cached in the workdir (their output files must exist)


def measure(setup_lines: list[str], command: str, workdir: Path) -> dict:
    cache_file = workdir / "measurements.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    key = "\n".join(setup_lines) + "\n" + command
    if REUSE and key in cache:
        print(f"reusing the cached measurement of: {command}", flush=True)
        return cache[key]
    setup = workdir / "setup.in"
    setup.write_text("\n".join(setup_lines) + "\n")
    worker = workdir / "worker.py"
    worker.write_text(WORKER)
    out = subprocess.run([sys.executable, str(worker), str(setup), command], capture_output=True,
                         text=True, check=False, env=os.environ)
    if out.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    cache[key] = result
    cache_file.write_text(json.dumps(cache, indent=1))
    return result


def make_glass(n: int, workdir: Path) -> Path:
    data = workdir / f"ka{n}.data"
    if not data.exists():
        lines = ka_glass(n) + [f"write_data {data} nocoeff"]
        (workdir / "prep.in").write_text("\n".join(lines) + "\n")
        subprocess.run([sys.executable, "-c", (
            "from glassmodes.lammps_session import open_lammps\n"
            f"lmp = open_lammps()\nlmp.file({str(workdir / 'prep.in')!r})")], check=True)
    return data


def setup_lines(data: Path, replicate: tuple[int, int, int] | None = None) -> list[str]:
    lines = [s.format(data=data) for s in SETUP]
    if replicate and replicate != (1, 1, 1):
        lines.append("replicate {} {} {}".format(*replicate))
    return lines


def third_order_neighbors(data: Path) -> list[np.ndarray]:
    """The atoms third_order pairs with each atom i (0-based, ascending): i, its neighbors and
    their neighbors, from the same neighbor list LAMMPS builds (cutoff + skin per type pair)."""
    from glassmodes.lammps_session import open_lammps

    lmp = open_lammps()
    for line in setup_lines(data) + ["run 0"]:
        lmp.command(line)
    nall = lmp.extract_global("nlocal") + lmp.extract_global("nghost")
    tags = np.ctypeslib.as_array(lmp.extract_atom("id"), shape=(nall,)).copy() - 1
    n = lmp.get_natoms()
    near = [{t} for t in range(n)]
    for i, neigh in lmp.numpy.get_neighlist(lmp.find_pair_neighlist("lj/cut")):
        for j in neigh:
            near[tags[i]].add(tags[j])
            near[tags[j]].add(tags[i])
    lmp.close()
    return [np.array(sorted(set().union(*[near[j] for j in near[i]]))) for i in range(n)]


class ThirdOrderBinary:
    """third_order's binary output: for each atom i (ascending), component a, atom j of its
    extended neighborhood (ascending), component b: 3N doubles d^2 F_{k,c} / dx_{i,a} dx_{j,b}
    = -Phi3(i_a, j_b, k_c). Pairs (i, j) it skips are farther apart than two neighbor cutoffs."""

    def __init__(self, path: Path, ext: list[np.ndarray]):
        self.ext, self.n = ext, len(ext)
        counts = np.array([len(e) for e in ext])
        n3 = 3 * self.n
        size = path.stat().st_size
        if size != 8 * 9 * n3 * counts.sum():
            raise RuntimeError(f"{path}: {size} bytes, expected {8 * 9 * n3 * counts.sum()} for these neighbor lists")
        self.data = np.memmap(path, dtype="<f8", mode="r")
        self.offsets = np.concatenate([[0], np.cumsum(9 * n3 * counts)])

    def slab(self, i: int) -> np.ndarray:
        """Phi3(i_a, ., .) as shape=(3, 3N, 3N)."""
        n3 = 3 * self.n
        raw = self.data[self.offsets[i]: self.offsets[i + 1]].reshape(3, len(self.ext[i]), 3, n3)
        out = np.zeros((3, self.n, 3, n3))
        out[:, self.ext[i]] = -raw
        return out.reshape(3, n3, n3)


def compare_with_dense(fc, refs: list) -> tuple[list[float], float]:
    """Relative Frobenius differences ours vs each reference, and between the first two
    references, streaming one atom's slab (3 x 3N x 3N) at a time."""
    idx, vals = fc.to_blocks()
    n, d = fc.natoms, 3
    order = np.argsort(idx[:, 0], kind="stable")
    idx, vals = idx[order], vals[order]
    starts = np.searchsorted(idx[:, 0], np.arange(n + 1))
    diff2 = np.zeros(len(refs))
    ref2 = np.zeros(len(refs))
    between2 = 0.0
    for i in range(n):
        sl = slice(starts[i], starts[i + 1])
        ours = np.zeros((d, n, d, n, d))
        ours[:, idx[sl, 1], :, idx[sl, 2], :] = vals[sl]    # advanced indices first: (B, a, b, c)
        ours = ours.reshape(d, n * d, n * d)
        slabs = [r.slab(i) for r in refs]
        for m, s in enumerate(slabs):
            diff2[m] += np.sum((ours - s) ** 2)
            ref2[m] += np.sum(s**2)
        if len(slabs) > 1:
            between2 += np.sum((slabs[0] - slabs[1]) ** 2)
    return list(np.sqrt(diff2 / ref2)), float(np.sqrt(between2 / ref2[1])) if len(refs) > 1 else float("nan")


def part_third_order(workdir: Path, quick: bool) -> dict:
    """write_fc3 against third_order: time at N = 250 and 500, accuracy of the whole tensor at 250."""
    from glassmodes.fc3 import read_fc3

    rows, accuracy = [], None
    for n in ((250,) if quick else (250, 500)):
        data = make_glass(n, workdir)
        setup = setup_lines(data)
        analytic = measure(setup, f"write_fc3 all {workdir / 'A'} method analytic mass no", workdir)
        fd = measure(setup, f"write_fc3 all {workdir / 'F'} method fd mass no", workdir)
        target = workdir / "t3a.bin" if n == 250 else Path("/dev/null")
        theirs = measure(setup, f"third_order all regular 1e-4 file {target} binary yes", workdir)
        rows.append(dict(n=n, analytic=analytic["seconds"], fd=fd["seconds"], third_order=theirs["seconds"],
                         analytic_cpu=analytic["cpu"], fd_cpu=fd["cpu"], third_order_cpu=theirs["cpu"]))
        print(rows[-1], flush=True)
        if n == 250:
            fine = measure(setup, f"third_order all regular 3e-5 file {workdir / 't3b.bin'} binary yes", workdir)
            a, f = read_fc3(workdir / "A"), read_fc3(workdir / "F")
            ext = third_order_neighbors(data)
            refs = [ThirdOrderBinary(workdir / "t3a.bin", ext), ThirdOrderBinary(workdir / "t3b.bin", ext)]
            errs, between = compare_with_dense(a, refs)
            fd_errs, _ = compare_with_dense(f, refs[1:])
            accuracy = dict(ours_vs_coarse=errs[0], ours_vs_fine=errs[1], coarse_vs_fine=between,
                            fd_vs_fine=fd_errs[0], fine_cpu=fine.get("cpu"))
            print(accuracy, flush=True)
            del refs
            for p in workdir.glob("t3*.bin"):
                p.unlink()
    return dict(rows=rows, accuracy=accuracy)


def part_scaling(workdir: Path) -> dict:
    """write_fc3 with N: the N = 500 glass replicated (a minimum stays a minimum)."""
    data = make_glass(500, workdir)
    cases = [("analytic", r) for r in ((1, 1, 1), (2, 2, 2), (4, 4, 2), (6, 6, 6))]
    cases += [("analytic order 4", (6, 6, 6))]
    cases += [("fd", r) for r in ((1, 1, 1), (2, 1, 1), (2, 2, 2))]
    rows = []
    for method, rep in cases:
        n = 500 * rep[0] * rep[1] * rep[2]
        r = measure(setup_lines(data, rep), f"write_fc3 all {workdir / 'S'} method {method}", workdir)
        meta = json.loads((workdir / "S.json").read_text())
        rows.append(dict(method=method, n=n, seconds=r["seconds"], cpu=r["cpu"], extra_rss_gb=r["extra_rss_gb"],
                         nrecords=meta["nrecords"], file_mb=(workdir / "S").stat().st_size / 1e6,
                         hessian_evaluations=meta.get("hessian_evaluations", "-"),
                         fd_colors=meta.get("fd_colors", "-")))
        print(rows[-1], flush=True)
        for p in workdir.glob("S*"):
            p.unlink()
    return dict(rows=rows)


def part_contractions(workdir: Path) -> dict:
    """glassmodes.fc3 contractions on the order-4 table of the N = 108000 glass, one process."""
    from glassmodes.fc3 import read_fc3

    data = make_glass(500, workdir)
    measure(setup_lines(data, (6, 6, 6)), f"write_fc3 all {workdir / 'C'} method analytic order 4", workdir)
    t0, c0 = time.perf_counter(), time.process_time()
    fc = read_fc3(workdir / "C")
    rows = [("read_fc3 (memory map and checks)", time.perf_counter() - t0, time.process_time() - c0)]
    rng = np.random.default_rng(1)
    u, v, w, x = (rng.normal(size=fc.ndof) for _ in range(4))
    calls = [("phi3(u) -> sparse matrix", lambda: fc.phi3(u)), ("phi3(u, v) -> vector", lambda: fc.phi3(u, v)),
             ("phi3(u, v, w) -> scalar", lambda: fc.phi3(u, v, w)),
             ("phi4(u, v) -> sparse matrix", lambda: fc.phi4(u, v)),
             ("phi4(u, v, w) -> vector", lambda: fc.phi4(u, v, w)),
             ("phi4(u, v, w, x) -> scalar", lambda: fc.phi4(u, v, w, x)),
             ("hessian() -> sparse matrix", lambda: fc.hessian())]
    fc.phi3(u, v, w)    # geometry (unit vectors, radial coefficients) computed once, cached
    for name, call in calls:
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        rows.append((name, time.perf_counter() - t0, time.process_time() - c0))
    out = dict(natoms=fc.natoms, nrecords=int(fc.meta["nrecords"]), rows=rows)
    for p in workdir.glob("C*"):
        p.unlink()
    print(out, flush=True)
    return out


def render(results: dict) -> str:
    machine = results["machine"]
    lines = [
        "# write_fc3 benchmarks",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores (shared with other jobs), "
        f"{machine['system']}; one MPI rank; Python {machine['python']}. Each section lists when it ran "
        "and the load average around it: other jobs shared the cores, so absolute times are "
        "pessimistic, and each ratio compares runs made minutes apart.",
        "",
        "Reproduce: `.venv/bin/python bench/fc3_vs_third_order.py [--part third_order|scaling|contractions]"
        " [--quick]`; every part updates `bench/results/fc3.json` and rewrites this file. Each timing "
        "of a LAMMPS command is one fresh process running it on a minimized Kob-Andersen glass "
        "(lj/cut 2.5, 80:20, density 1.2, masses 1); memory is the growth of the peak resident set "
        "during it.",
    ]
    t3 = results.get("third_order")
    if t3:
        lines += [
            "",
            "## Against LAMMPS `third_order` (PHONON package, `regular 1e-4`, binary output)",
            "",
            f"Ran {t3['when']}, load average {t3['load'][0]:.1f} -> {t3['load'][1]:.1f}.",
            "",
            "Wall / CPU seconds of the one command; speed-ups from CPU time (the cores were shared).",
            "",
            "| N | write_fc3 analytic (s) | write_fc3 fd (s) | third_order (s) | speed-up analytic | speed-up fd |",
            "|---|---|---|---|---|---|",
        ]
        for r in t3["rows"]:
            lines.append(f"| {r['n']} | {r['analytic']:.4f} / {r['analytic_cpu']:.4f} | {r['fd']:.2f} / {r['fd_cpu']:.2f} | "
                         f"{r['third_order']:.1f} / {r['third_order_cpu']:.1f} | "
                         f"{r['third_order_cpu'] / max(r['analytic_cpu'], 1e-3):.0f}x | "
                         f"{r['third_order_cpu'] / r['fd_cpu']:.0f}x |")
        acc = t3.get("accuracy")
        if acc:
            lines += [
                "",
                "### Accuracy at N = 250 (the whole (3N)^3 tensor, relative Frobenius norm of the difference)",
                "",
                "| comparison | relative difference |",
                "|---|---|",
                f"| write_fc3 analytic vs third_order delta = 1e-4 | {acc['ours_vs_coarse']:.2e} |",
                f"| write_fc3 analytic vs third_order delta = 3e-5 | {acc['ours_vs_fine']:.2e} |",
                f"| third_order delta = 1e-4 vs delta = 3e-5 (LAMMPS's own fd error) | {acc['coarse_vs_fine']:.2e} |",
                f"| write_fc3 fd (delta = 1e-5) vs third_order delta = 3e-5 | {acc['fd_vs_fine']:.2e} |",
                "",
                *(["The delta = 3e-5 output was taken from an earlier run of this script on the same glass "
                   "(`--reuse`; that run's accuracy step had failed).", ""] if acc.get("fine_cpu") is None else []),
                "third_order's central differences carry an O(delta^2) error; the analytic tensor agrees",
                "with it to about that error at each delta. At delta = 2e-4 and above a pair of this kind",
                "of glass crosses lj/cut's cutoff (the force jumps there) and third_order is wrong.",
            ]
    sc = results.get("scaling")
    if sc:
        lines += [
            "",
            "## Scaling (the N = 500 glass replicated)",
            "",
            f"Ran {sc['when']}, load average {sc['load'][0]:.1f} -> {sc['load'][1]:.1f}.",
            "",
            "| method | N | wall (s) | CPU (s) | CPU seconds per 1000 atoms | extra memory (GB) | records | file (MB) | Hessian evaluations | fd colors |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in sc["rows"]:
            lines.append(f"| {r['method']} | {r['n']} | {r['seconds']:.3f} | {r['cpu']:.3f} | {1000 * r['cpu'] / r['n']:.4f} | "
                         f"{r['extra_rss_gb']:.3f} | {r['nrecords']} | {r['file_mb']:.1f} | "
                         f"{r['hessian_evaluations']} | {r['fd_colors']} |")
    co = results.get("contractions")
    if co:
        lines += [
            "",
            f"## Python contractions (`glassmodes.fc3`, order-4 pair table, N = {co['natoms']}, "
            f"{co['nrecords']} pairs, one process)",
            "",
            f"Ran {co['when']}, load average {co['load'][0]:.1f} -> {co['load'][1]:.1f}.",
            "",
            "| call | wall (s) | CPU (s) |",
            "|---|---|---|",
        ]
        lines += [f"| `{name}` | {sec:.3f} | {cpu:.3f} |" for name, sec, cpu in co["rows"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "third_order", "scaling", "contractions"), default="all")
    parser.add_argument("--quick", action="store_true", help="third_order part at N = 250 only")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the measurements (and outputs) cached in --workdir by an earlier run")
    args = parser.parse_args()
    global REUSE
    REUSE = args.reuse
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gm-fc3-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    store = RESULTS.with_suffix(".json")
    machine = dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                   system=f"{platform.system()} {platform.release()}", python=platform.python_version())
    parts = ("third_order", "scaling", "contractions") if args.part == "all" else (args.part,)
    for part in parts:
        load0 = os.getloadavg()[0]
        when = time.strftime("%Y-%m-%d %H:%M")
        if part == "third_order":
            out = part_third_order(workdir, args.quick)
        elif part == "scaling":
            out = part_scaling(workdir)
        else:
            out = part_contractions(workdir)
        out.update(when=when, load=(load0, os.getloadavg()[0]))
        # merge into what is stored now (another part may have finished meanwhile)
        results = json.loads(store.read_text()) if store.exists() else {}
        results["machine"] = machine
        results[part] = out
        RESULTS.parent.mkdir(exist_ok=True)
        store.write_text(json.dumps(results, indent=1))
        RESULTS.write_text(render(results))
        print(f"wrote {RESULTS}", flush=True)


if __name__ == "__main__":
    main()
