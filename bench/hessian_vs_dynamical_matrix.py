"""Benchmark: write_hessian against LAMMPS's dynamical_matrix, and write_hessian's scaling with N.

Every measurement runs in a fresh process (wall time of the one LAMMPS command, and the growth of
the process's peak resident memory during it). Writes bench/results/hessian.md.

    make bench                     # all benchmarks
    .venv/bin/python bench/hessian_vs_dynamical_matrix.py [--quick]
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

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "hessian.md"

KA = """units lj
atom_style atomic
atom_modify map array
{box}
mass * 1.0
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
pair_coeff 1 2 1.5 0.8 2.0
pair_coeff 2 2 0.5 0.88 2.2
neighbor 0.3 bin
"""

LATTICE_BOX = """lattice {lattice} 1.2
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 2 box
create_atoms 1 box
set type 1 type/fraction 2 0.2 7"""

# a Kob-Andersen glass: melt a lattice at T = 2, quench instantly, minimize (FIRE, then CG)
GLASS = """velocity all create 2.0 11
fix nvt all nvt temp 2.0 2.0 0.1
timestep 0.005
run 2000
unfix nvt
min_style fire
minimize 0 1e-6 100000 1000000
min_style cg
minimize 0 1e-11 100000 1000000
write_data {data} nocoeff
"""

WORKER = r"""
import json, resource, sys, time
from glassmodes.lammps_session import open_lammps
setup, command = sys.argv[1], sys.argv[2]
lmp = open_lammps()
for line in open(setup).read().splitlines():
    if line.strip():
        lmp.command(line)
lmp.command("run 0")
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
lmp.command(command)
seconds = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss_gb": r1.ru_maxrss / 1e6,
                  "extra_rss_gb": (r1.ru_maxrss - r0.ru_maxrss) / 1e6}))
"""


def measure(setup_text: str, command: str, workdir: Path) -> dict:
    setup = workdir / "setup.in"
    setup.write_text(setup_text)
    worker = workdir / "worker.py"
    worker.write_text(WORKER)
    out = subprocess.run([sys.executable, str(worker), str(setup), command], capture_output=True,
                         text=True, check=False, env=os.environ)
    if out.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_glass(lattice: str, cells: int, workdir: Path) -> Path:
    data = workdir / f"ka-{lattice}{cells}.data"
    if not data.exists():
        text = KA.format(box=LATTICE_BOX.format(lattice=lattice, cells=cells)) + GLASS.format(data=data)
        (workdir / "prep.in").write_text(text)
        subprocess.run([sys.executable, "-c", (
            "from glassmodes.lammps_session import open_lammps\n"
            f"lmp = open_lammps()\nlmp.file({str(workdir / 'prep.in')!r})")], check=True)
    return data


def glass_setup(data: Path) -> str:
    return KA.format(box=f"read_data {data}").replace("mass * 1.0\n", "")


def lattice_setup(cells: int) -> str:
    # a jittered crystal stands in for a glass at large N: same density, neighbors and cost
    return KA.format(box=LATTICE_BOX.format(lattice="fcc", cells=cells)) + "displace_atoms all random 0.05 0.05 0.05 3\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gm-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows_vs, rows_scaling = [], []

    # 1. against dynamical_matrix on minimized KA glasses: N = 1000 (sc 10^3), 4000 (fcc 10^3)
    for lattice in (("sc",) if args.quick else ("sc", "fcc")):
        data = make_glass(lattice, 10, workdir)
        setup = glass_setup(data)
        natoms = 10**3 * (4 if lattice == "fcc" else 1)
        ours = measure(setup, f"write_hessian all {workdir / 'H'} method analytic", workdir)
        fd = measure(setup, f"write_hessian all {workdir / 'Hfd'} method fd", workdir)
        theirs = measure(setup, f"dynamical_matrix all regular 1e-5 file {workdir / 'dm.bin'} binary yes", workdir)
        rows_vs.append((natoms, ours, fd, theirs))
        print(f"N={natoms}: analytic {ours['seconds']:.3f}s fd {fd['seconds']:.2f}s "
              f"dynamical_matrix {theirs['seconds']:.2f}s", flush=True)
        for f in workdir.glob("dm.bin*"):
            f.unlink()

    # 2. scaling of write_hessian with N (jittered fcc KA mixture at density 1.2)
    analytic_cells = (6, 14, 29, 63) if not args.quick else (6, 14)
    fd_cells = (6, 14, 29) if not args.quick else (6,)
    for method, cell_list in (("analytic", analytic_cells), ("fd", fd_cells)):
        for cells in cell_list:
            r = measure(lattice_setup(cells), f"write_hessian all {workdir / 'S'} method {method} fcheck no", workdir)
            meta = json.loads((workdir / "S.json").read_text())
            size = (workdir / "S").stat().st_size
            rows_scaling.append((method, 4 * cells**3, r, meta, size))
            print(f"{method} N={4 * cells**3}: {r['seconds']:.2f}s, +{r['extra_rss_gb']:.2f} GB", flush=True)
            for f in workdir.glob("S*"):
                f.unlink()

    lines = [
        "# write_hessian benchmarks",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}; one MPI rank; measured {time.strftime('%Y-%m-%d')}.",
        "Reproduce: `.venv/bin/python bench/hessian_vs_dynamical_matrix.py` (part of `make bench`).",
        "Each number is one fresh process; memory is the growth of the peak resident set during the",
        "command (LAMMPS's own arrays are excluded).",
        "",
        "## Against LAMMPS `dynamical_matrix` (minimized Kob-Andersen glass, lj/cut 2.5)",
        "",
        "| N | write_hessian analytic (s) | write_hessian fd (s) | dynamical_matrix (s) | speed-up analytic | speed-up fd | memory analytic / fd / dynamical_matrix (GB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, ours, fd, theirs in rows_vs:
        lines.append(
            f"| {n} | {ours['seconds']:.3f} | {fd['seconds']:.2f} | {theirs['seconds']:.2f} | "
            f"{theirs['seconds'] / ours['seconds']:.0f}x | {theirs['seconds'] / fd['seconds']:.1f}x | "
            f"{ours['extra_rss_gb']:.3f} / {fd['extra_rss_gb']:.3f} / {theirs['extra_rss_gb']:.3f} |")
    lines += [
        "",
        "## Scaling (jittered fcc KA mixture, density 1.2, lj/cut 2.5)",
        "",
        "| method | N | seconds | seconds per 1000 atoms | extra memory (GB) | force evaluations | fd colors | file size (GB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method, n, r, meta, size in rows_scaling:
        lines.append(
            f"| {method} | {n} | {r['seconds']:.2f} | {1000 * r['seconds'] / n:.4f} | {r['extra_rss_gb']:.3f} | "
            f"{meta['force_evaluations']} | {meta.get('fd_colors', '-')} | {size / 1e9:.2f} |")
    lines += [
        "",
        "Notes. `dynamical_matrix` makes 6N force evaluations and writes all (3N)^2 entries (it",
        "reduces one 3 x 3N row block at a time onto rank 0, so its memory stays small); write_hessian",
        "analytic makes one force evaluation, computes each pair block from `Pair::born_matrix` and",
        "streams the nonzero rows to the file (memory O(N/P)); at N = 10^6 its time is dominated by",
        "computing each row twice (count pass, then values) and writing the 7 GB file. fd makes",
        "2 d x (colors) force evaluations, independent of N once the box is wider than the coloring",
        "period; it keeps the blocks of its rows in memory until they are written (about 47 kB per",
        "atom), so fd beyond ~10^5 atoms per rank needs more ranks.",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
