"""Time and memory per nonlinear mode against N (3D Kob-Andersen glass quenched from random positions).

Stages in separate processes so that the peak memory of the mode search is its own:
  python bench/nonlinear_cost.py prepare --n 4096 --dir /tmp/nlbench/4096   # LAMMPS: glass, order-4 table
  python bench/nonlinear_cost.py time --dir /tmp/nlbench/4096 --out F.json   # also writes psi.npy there
  python bench/nonlinear_cost.py replicate --src /tmp/nlbench/4096 --dir /tmp/nlbench/32768   # 2x2x2 copy
  python bench/nonlinear_cost.py time --dir /tmp/nlbench/32768 --embed /tmp/nlbench/4096 --out G.json
  python bench/nonlinear_cost.py replicate --src /tmp/nlbench/4096 --dir /tmp/nlbench/110592 --times 3
  python bench/nonlinear_cost.py prepare --data G.data --dir /tmp/nlbench/1e5   # table of a prepared glass
  python bench/nonlinear_cost.py time --dir /tmp/nlbench/1e5 --seed shear --kinds cubic,quartic --out H.json
The seed is the softest harmonic mode (sparse shift-invert), or for a replicated glass (--embed) that
of the original placed in the first copy; the chain is the CLI's: quartic from psi, cubic from the
quartic mode, PHM from psi. Reported per mode: wall and CPU seconds, the load average, L-BFGS
iterations and cost evaluations, map steps, CG iterations, residual; per stage: CPU seconds of the
setup (reading the table, building the operator) and the process's peak resident memory
(ru_maxrss) after each stage; CPU ms of one cost evaluation per kind and of each product.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def prepare(n: int, folder: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from systems import ka_glass

    from glassmodes.lammps_session import open_lammps

    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    lmp = open_lammps()
    try:
        for line in ka_glass(n, seed=2024, ftol=1e-10):
            lmp.command(line)
        lmp.command(f"write_fc3 all {folder / 'F'} method analytic order 4")
    finally:
        lmp.close()
    print(f"prepared N={n} in {time.perf_counter() - t:.1f} s")


def prepare_from_data(data: Path, folder: Path) -> None:
    """The pair table (order 4) of an existing minimized glass: a LAMMPS data file with its force-field
    sidecar (``glassmodes prepare`` writes both), e.g. a 3D N = 1e5 thesis IPL glass."""
    from glassmodes.hessian_job import data_commands
    from glassmodes.lammps_session import open_lammps

    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    lmp = open_lammps()
    try:
        lmp.commands_list(data_commands(data))
        lmp.command(f"write_fc3 all {folder / 'F'} method analytic order 4")
    finally:
        lmp.close()
    print(f"table of {data} written in {time.perf_counter() - t:.1f} s")


def replicate(src: Path, folder: Path, times: int = 2) -> None:
    """Rebuild the glass of ``src`` (its table's atoms file and box), ``replicate times times times`` (a
    periodic copy of a minimum is a minimum; its soft modes come in ``times^3`` copies), write the table."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import numpy as np
    from systems import KA_PAIR

    from glassmodes.fc3 import read_fc3
    from glassmodes.lammps_session import open_lammps

    fc = read_fc3(src / "F")
    box = fc.meta["box"]
    at = fc.atoms
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    lmp = open_lammps()
    try:
        for c in ["units lj", "atom_style atomic", "atom_modify map yes",
                  "region box block " + " ".join(repr(float(v)) for p in zip(box["boxlo"], box["boxhi"]) for v in p),
                  "create_box 2 box"]:
            lmp.command(c)
        lmp.create_atoms(at.size, at["id"].tolist(), at["type"].tolist(), np.asarray(at["x"]).ravel().tolist())
        for c in ["mass 1 1.0", "mass 2 1.0", *KA_PAIR, "neighbor 0.3 bin", f"replicate {times} {times} {times}",
                  "min_style cg", "minimize 0 1e-10 10000 100000"]:
            lmp.command(c)
        lmp.command(f"write_fc3 all {folder / 'F'} method analytic order 4")
    finally:
        lmp.close()
    print(f"replicated {src} x{times}^3 in {time.perf_counter() - t:.1f} s")


def products(folder: Path, out: Path | None = None) -> None:
    """Setup CPU seconds and memory, CPU ms of one cost evaluation per kind (M z and g in one pass)
    and of one M z (sparse M, built here), U3:zz, U4:.zzz, (D, zeta) on a random field (median of 7)."""
    import numpy as np

    from glassmodes.fc3 import read_fc3
    from glassmodes.nonlinear import ForceConstantOperator

    res = {"rss_start_MB": rss_mb(), "loadavg_start": os.getloadavg()[0]}
    cpu = time.process_time()
    fc = read_fc3(folder / "F")
    op = ForceConstantOperator(fc)
    res.update(natoms=op.natoms, npairs=int(fc.records.shape[0]), setup_cpu_seconds=time.process_time() - cpu,
               rss_after_setup_MB=rss_mb())
    z = op.project(np.random.default_rng(0).normal(size=op.ndof))

    def median_ms(fn):
        ts = []
        for _ in range(7):
            t = time.process_time()
            fn()
            ts.append(time.process_time() - t)
        return float(np.median(ts) * 1e3)

    for kind in ("quartic", "cubic", "phm"):
        res[f"evaluate_{kind}_cpu_ms"] = median_ms(lambda: op.evaluate_products(kind, z))
    res["rss_after_evaluations_MB"] = rss_mb()
    cpu = time.process_time()
    op.matrix()
    res.update(matrix_build_cpu_seconds=time.process_time() - cpu, rss_with_matrix_MB=rss_mb())
    for name, fn in (("matvec", op.matvec), ("cubic", op.cubic), ("quartic", op.quartic), ("pairs", op.pairs)):
        res[f"{name}_cpu_ms"] = median_ms(lambda: fn(z))
    res["loadavg_end"] = os.getloadavg()[0]
    print(json.dumps(res))
    if out is not None:
        out.write_text(json.dumps(res, indent=1))


def time_modes(folder: Path, kinds, out: Path | None, embed: Path | None = None, save_modes: bool = False,
               seed: str = "softest") -> None:
    import numpy as np
    import scipy.sparse.linalg as spla

    from glassmodes.fc3 import read_fc3
    from glassmodes.nonlinear import ForceConstantOperator, find_mode
    from glassmodes.nonlinear.solvers import ScipyCG

    res = {"rss_start_MB": rss_mb(), "note": "seconds = wall, cpu_seconds = this process's CPU time (the "
           "machine is shared: wall/cpu gives the load)", "loadavg_start": os.getloadavg()[0]}
    t = time.perf_counter()
    cpu0 = time.process_time()
    fc = read_fc3(folder / "F")
    op = ForceConstantOperator(fc)
    res.update(natoms=op.natoms, npairs=int(fc.records.shape[0]), setup_seconds=time.perf_counter() - t,
               setup_cpu_seconds=time.process_time() - cpu0, rss_after_setup_MB=rss_mb())
    t = time.perf_counter()
    cpu0 = time.process_time()
    cached = folder / "psi.npy"
    was_cached = cached.is_file()
    if seed == "shear":
        # the non-affine response to simple xy shear (thesis appendix 3.B): a seed for a glass so large
        # that its softest harmonic modes are phonons (no eigensolve); the cubic mode comes first
        from glassmodes.nonlinear.seeds import shear_seeds
        label, psi = shear_seeds(fc, "simple")[0]
        psi = op.project(psi)
        psi /= np.linalg.norm(psi)
        lam = float(psi @ op.evaluate_products("cubic", psi)[0])
        res["seed"] = f"{label} (non-affine response to simple shear)"
        was_cached = False
    elif embed is not None and not was_cached:
        # a replicated glass: the softest mode of the original, in the first copy (IDs 1..n0
        # keep their atoms under `replicate`), zeros elsewhere; a localized seed without an
        # eigensolve of the large system
        small = np.load(embed / "psi.npy")
        x_small = np.asarray(read_fc3(embed / "F").atoms["x"], float)
        shift = float(np.max(np.abs(np.asarray(fc.atoms["x"], float)[:x_small.shape[0]] - x_small)))
        if shift > 1e-3:
            raise SystemExit(f"the first {x_small.shape[0]} atoms are not the original copy (shift {shift:.3g})")
        res["seed_copy_max_shift"] = shift
        psi = np.zeros(op.ndof)
        psi[:small.size] = small
        psi = op.project(psi)
        psi /= np.linalg.norm(psi)
        lam = float(psi @ op.evaluate_products("cubic", psi)[0])   # M psi without building M
        res["seed"] = f"softest mode of {embed}, embedded in the first copy"
    elif was_cached:                  # the softest mode of an earlier run on this glass
        psi = np.load(cached)
        lam = float(psi @ op.evaluate_products("cubic", psi)[0])   # M psi without building M
    else:
        M = op.matrix().tocsc()
        # softest non-translational mode: shift-invert just below zero, translations projected
        vals, vecs = spla.eigsh(M, k=6, sigma=-1e-3, which="LM")
        psi = None
        for j in np.argsort(vals):
            v = op.project(vecs[:, j])
            if np.linalg.norm(v) > 0.5:
                psi, lam = v / np.linalg.norm(v), vals[j]
                break
        np.save(cached, psi)
    res.update(seed_cached=was_cached, seed_seconds=time.perf_counter() - t, seed_cpu_seconds=time.process_time() - cpu0,
               psi_kappa=float(lam), rss_after_seed_MB=rss_mb())
    solver = ScipyCG(op)
    modes = {}
    seed_of = {"quartic": psi, "cubic": None, "phm": psi}
    if seed == "shear":          # the thesis' order: cubic from the shear response, then quartic from it
        kinds = sorted(kinds, key=lambda k: {"cubic": 0, "quartic": 1, "phm": 2}[k])
        seed_of = {"cubic": psi, "quartic": None, "phm": psi}
    for kind in kinds:
        other = "cubic" if seed == "shear" else "quartic"
        s = seed_of[kind] if seed_of[kind] is not None else (modes[other].pi if other in modes else psi)
        cpu = time.process_time()
        m = find_mode(op, kind=kind, seed=s, solver=solver)
        cpu = time.process_time() - cpu
        modes[kind] = m
        res[kind] = {"seconds": m.seconds, "cpu_seconds": cpu, "omega": m.omega, "kappa": m.kappa,
                     "Ne": m.participation_number, "residual": m.residual, "converged": m.converged,
                     "iterations": m.iterations, "stop": m.stop, "rss_MB": rss_mb(), "loadavg": os.getloadavg()[0]}
        if save_modes:
            np.save(folder / f"pi_{kind}.npy", m.pi)
        print(kind, json.dumps(res[kind]), flush=True)
    # one cost evaluation (M z and g in one pass over the pairs), CPU ms, median of 5
    for kind in kinds:
        ts = []
        for _ in range(5):
            c = time.process_time()
            op.evaluate_products(kind, psi)
            ts.append(time.process_time() - c)
        res[f"evaluate_{kind}_cpu_ms"] = float(np.median(ts) * 1e3)
    res["rss_after_modes_MB"] = rss_mb()
    # per-product cost (the first matvec builds the sparse M: memory of the map's linear solves)
    t = time.process_time()
    op.matrix()
    res["matrix_build_cpu_seconds"] = time.process_time() - t
    z = psi
    for name, fn in (("matvec", op.matvec), ("cubic", op.cubic), ("quartic", op.quartic), ("pairs", op.pairs)):
        t = time.perf_counter()
        for _ in range(5):
            fn(z)
        res[f"{name}_ms"] = (time.perf_counter() - t) / 5 * 1e3
    for name, fn in (("matvec", op.matvec), ("cubic", op.cubic), ("quartic", op.quartic), ("pairs", op.pairs)):
        t = time.process_time()
        for _ in range(5):
            fn(z)
        res[f"{name}_cpu_ms"] = (time.process_time() - t) / 5 * 1e3
    res["rss_end_MB"] = rss_mb()
    print(json.dumps({k: v for k, v in res.items() if not isinstance(v, dict)}))
    if out is not None:
        out.write_text(json.dumps(res, indent=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=("prepare", "replicate", "time"))
    ap.add_argument("--src", type=Path, help="replicate: folder of the glass to copy TIMES^3 times")
    ap.add_argument("--times", type=int, default=2, help="replicate: copies per box side (2: 8 copies)")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--kinds", default="quartic,cubic,phm")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--embed", type=Path, help="time: seed = psi.npy of this (smaller, replicated) glass's folder, "
                                                "zero-padded (no eigensolve of the large glass)")
    ap.add_argument("--data", type=Path, help="prepare: table of this minimized glass (LAMMPS data file with its "
                                               ".ff sidecar) instead of a new KA quench")
    ap.add_argument("--seed", choices=("softest", "shear"), default="softest",
                    help="time: softest harmonic mode (or --embed), or the simple-shear non-affine response "
                         "(cubic mode first, the quartic mode from it)")
    ap.add_argument("--save-modes", action="store_true", help="time: write pi_<kind>.npy into --dir")
    ap.add_argument("--products-only", action="store_true",
                    help="time: only the CPU time of one product of each kind (random field), no mode search")
    a = ap.parse_args()
    if a.stage == "prepare":
        if a.data is not None:
            prepare_from_data(a.data, a.dir)
        else:
            prepare(a.n, a.dir)
    elif a.stage == "replicate":
        replicate(a.src, a.dir, a.times)
    else:
        if a.products_only:
            products(a.dir, a.out)
        else:
            time_modes(a.dir, a.kinds.split(","), a.out, a.embed, a.save_modes, a.seed)


if __name__ == "__main__":
    main()
