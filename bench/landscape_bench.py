"""Acceptance runs of issue 7 (inherent-structure rearrangements): results in bench/results/landscape.md.

Stages (each writes into --work, skips what exists; run one stage at a time with --stage):

  glass    seed 004 glass: random binary IPL, FIRE to remove overlaps, NVT at T = 1.0 for
           --t-liquid, instantaneous quench (minimization) to the inherent structure -> glass-N.data
  md       inputs/is_trajectory.lmp: NVT at T for --t-nvt, then NVE --nsteps dumping every 20 steps
  is       glassmodes is-trajectory on the dump (mpirun -np --np)
  events   glassmodes events on the IS file
  scaling  quench cost per frame against N (4000, 32000: the glass replicated 2x2x2) and frames per
           second against ranks (1, 2), on a few frames of a short MD run at --T

Usage (the commands of bench/results/landscape.md):
  python bench/landscape_bench.py --stage glass --n 4000 --work W
  python bench/landscape_bench.py --stage md --n 4000 --T 0.05 --nsteps 100000 --work W
"""

from __future__ import annotations

import argparse

import numpy as np
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FF_GLASS = REPO / "inputs" / "forcefields" / "seed004-ipl12.ff"
FF_FCC = REPO / "inputs" / "forcefields" / "seed004-fcc.ff"
DECK = REPO / "inputs" / "is_trajectory.lmp"


def make_glass(n: int, out: Path, seed: int = 1, t_liquid: float = 20.0, dt: float = 0.005) -> None:
    from glassmodes.lammps_session import open_lammps

    lmp = open_lammps(log=str(out.with_suffix(".log")))
    L = (n / 1.015) ** (1 / 3)
    n1 = n // 2
    for line in [
        "units lj", "atom_style atomic", "atom_modify map yes", "boundary p p p",
        f"region box block 0 {L!r} 0 {L!r} 0 {L!r}", "create_box 2 box",
        f"create_atoms 1 random {n1} {seed} NULL overlap 0.6 maxtry 1000",
        f"create_atoms 2 random {n - n1} {seed + 7919} NULL overlap 0.6 maxtry 1000",
    ]:
        lmp.command(line)
    lmp.file(str(FF_GLASS))
    lmp.command("thermo 2000")
    lmp.command("minimize 0 1e-3 1000 10000")
    lmp.command(f"timestep {dt}")
    lmp.command(f"velocity all create 1.0 {seed + 104729} dist gaussian mom yes rot no")
    lmp.command(f"fix md all nvt temp 1.0 1.0 {40 * dt}")
    lmp.command(f"run {round(t_liquid / dt)}")
    lmp.command("unfix md")
    lmp.command("min_modify norm max")
    for style in ("fire", "cg", "fire"):
        lmp.command(f"min_style {style}")
        lmp.command("minimize 0 1e-10 200000 200000")
    lmp.command("velocity all set 0 0 0")
    lmp.command(f"write_data {out}")
    lmp.close()


def run_md(data: str, ff: Path, T: float, nsteps: int, dump: Path, t_nvt: float, ncell: int | None = None,
           every: int = 20) -> None:
    from glassmodes.lammps_session import open_lammps

    lmp = open_lammps(log=str(dump.with_suffix(".log")))
    variables = {"ff": str(ff), "T": repr(T), "nsteps": str(nsteps), "dump": str(dump), "t_nvt": repr(t_nvt),
                 "every": str(every)}
    if ncell is not None:
        variables.update(start="fcc", ncell=str(ncell))
    else:
        variables.update(start="data", data=data)
    for k, v in variables.items():
        lmp.command(f"variable {k} index {v}")
    lmp.file(str(DECK))
    lmp.close()


def replicate(data: Path, out: Path, n: int) -> None:
    """The glass replicated n x n x n (cost-per-frame measurement at n^3 times the size)."""
    from glassmodes.lammps_session import open_lammps

    lmp = open_lammps()
    for line in ["units lj", "atom_style atomic", "atom_modify map yes", f"read_data {data} nocoeff"]:
        lmp.command(line)
    lmp.file(str(FF_GLASS))
    lmp.command(f"replicate {n} {n} {n}")
    lmp.command(f"write_data {out} nocoeff")
    lmp.close()


def scaling(work: Path, T: float, frames: int, sizes=(4000, 32000), ranks=(1, 2)) -> list[dict]:
    """Quench cost per frame against N (serial) and frames per second against ranks (N = 4000)."""
    import json

    from glassmodes.landscape.driver import quench_trajectory
    from glassmodes.landscape.isfile import read_is_trajectory

    rows = []
    base = work / "glass-N4000-s1.data"
    for n in sizes:
        data = base if n == 4000 else work / f"glass-N{n}-rep.data"
        if n != 4000 and not data.exists():
            replicate(base, data, round((n / 4000) ** (1 / 3)))
        dump = work / f"scaling-N{n}.dump"
        if not dump.exists():
            run_md(str(data), FF_GLASS, T, 20 * (frames - 1), dump, t_nvt=2.0)
        out = work / f"scaling-N{n}-np1.h5"
        if out.exists():
            out.unlink()
        t0 = time.perf_counter()
        c = quench_trajectory(dump, FF_GLASS, out, noise_frames=0, progress=lambda m: print(m, file=sys.stderr))
        traj = read_is_trajectory(out)
        import h5py

        with h5py.File(out, "r") as f:
            sec, it = f["seconds"][()], f["iterations"][()]
        rows.append({"N": n, "ranks": 1, "frames": int(c["quenched"]), "wall_s": time.perf_counter() - t0,
                     "frames_per_s": c["frames_per_second"], "s_per_frame": float(np.mean(sec)),
                     "iterations_per_frame": float(np.mean(it)), "ms_per_iteration": float(1e3 * np.sum(sec) / np.sum(it)),
                     "fmax_max": float(np.max(traj.fmax))})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    n = sizes[0]
    dump = work / f"scaling-N{n}.dump"
    for p in ranks:
        if p == 1:
            continue
        out = work / f"scaling-N{n}-np{p}.h5"
        if out.exists():
            out.unlink()
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "glassmodes.cli.main", "is-trajectory", str(dump), "--forcefield",
                        str(FF_GLASS), "-o", str(out), "--np", str(p), "--noise-frames", "0", "--quiet"], check=True)
        wall = time.perf_counter() - t0
        import h5py

        with h5py.File(out, "r") as f:
            sec, it = f["seconds"][()], f["iterations"][()]
            one = read_is_trajectory(work / f"scaling-N{n}-np1.h5")
            dev = max(float(np.max(np.abs(f["positions"][k] - one.frame(k)))) for k in range(len(sec)))
        rows.append({"N": n, "ranks": p, "frames": len(sec), "wall_s": wall, "frames_per_s": len(sec) / wall,
                     "s_per_frame": float(np.mean(sec)), "iterations_per_frame": float(np.mean(it)),
                     "ms_per_iteration": float(1e3 * np.sum(sec) / np.sum(it)), "max_dev_vs_np1": dev})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    (work / "scaling.json").write_text(json.dumps(rows, indent=1))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=("glass", "md", "scaling"), required=True)
    p.add_argument("--frames", type=int, default=4, help="scaling: frames per dump")
    p.add_argument("--sizes", default="4000,32000", help="scaling: system sizes")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--T", type=float, default=0.05)
    p.add_argument("--nsteps", type=int, default=100000)
    p.add_argument("--t-nvt", type=float, default=50.0)
    p.add_argument("--t-liquid", type=float, default=20.0)
    p.add_argument("--fcc", type=int, default=None, help="FCC crystal with this many cells per edge")
    p.add_argument("--every", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tag", default=None)
    a = p.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if a.stage == "scaling":
        scaling(a.work, a.T, a.frames, tuple(int(x) for x in a.sizes.split(",")))
    elif a.stage == "glass":
        out = a.work / f"glass-N{a.n}-s{a.seed}.data"
        make_glass(a.n, out, a.seed, a.t_liquid)
    else:
        tag = a.tag or (f"fcc{a.fcc}-T{a.T:g}" if a.fcc else f"glass-N{a.n}-T{a.T:g}")
        dump = a.work / f"{tag}.dump"
        data = str(a.work / f"glass-N{a.n}-s{a.seed}.data")
        run_md(data, FF_FCC if a.fcc else FF_GLASS, a.T, a.nsteps, dump, a.t_nvt, a.fcc, a.every)
    print(f"{a.stage}: {time.perf_counter() - t0:.1f} s wall", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
