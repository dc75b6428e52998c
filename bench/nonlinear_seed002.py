"""Check of Khomenko et al. (2020), Figs. 7-8: the cubic map seeded with r_AB of a double-well pair
gives a mode with overlaps c, a with r_AB far above the best harmonic mode's; seeded with the softest
harmonic mode it does not.

Data: /work/shared/data/seed002_is (public minima of one T_f = 0.062 glass, N = 1500, README there);
pair style ipl/smooth/poly 12 2 1.25 0.2 (the authors' lj/poly; docs/pair_styles.md). Both minima are
re-minimized (the files' residual forces reach 2e-5), the Hessian (dense, all 4497 modes) and the order-4
pair table are written at A, r_AB = x_B - x_A (minimum image).

Usage:
  python bench/nonlinear_seed002.py [A.conf.txt B.conf.txt] [--out bench/results/nonlinear_seed002.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path("/work/shared/data/seed002_is")
PAIR = ("2.044528139E-01.conf.txt", "2.044543839E-01.conf.txt")   # design note C.3


def read_charge_data(path: Path):
    """ids, diameters (charge column), positions, box (lo, hi) of a write_data file (atom_style charge)."""
    lines = path.read_text().splitlines()
    lo, hi = np.zeros(3), np.zeros(3)
    for ln in lines:
        for a, ax in enumerate("xyz"):
            if ln.strip().endswith(f"{ax}lo {ax}hi"):
                lo[a], hi[a] = map(float, ln.split()[:2])
    n = int(next(ln.split()[0] for ln in lines if ln.strip().endswith("atoms")))
    k = next(i for i, ln in enumerate(lines) if ln.startswith("Atoms"))
    rows = [ln.split() for ln in lines[k + 1:] if ln.strip()][:n]
    ids = np.array([int(r[0]) for r in rows])
    diam = np.array([float(r[2]) for r in rows])
    x = np.array([[float(v) for v in r[3:6]] for r in rows])
    o = np.argsort(ids)
    return ids[o], diam[o], x[o], lo, hi


def minimized(lmp_open, ids, diam, x, lo, hi, folder: Path | None = None):
    """Re-minimize; write Hessian + order-4 table into ``folder`` if given; return positions (ID order)."""
    lmp = lmp_open()
    try:
        for c in ["units lj", "atom_style sphere", "atom_modify map yes", "boundary p p p",
                  "region box block " + " ".join(repr(float(v)) for pair in zip(lo, hi) for v in pair),
                  "create_box 1 box"]:
            lmp.command(c)
        lmp.create_atoms(len(ids), ids.tolist(), [1] * len(ids), x.ravel().tolist())
        for i, d in zip(ids, diam):
            lmp.command(f"set atom {int(i)} diameter {float(d)!r}")
        for c in ["set group all mass 1.0", "pair_style ipl/smooth/poly 12 2 1.25 0.2", "pair_coeff * * 1.0",
                  "neighbor 0.3 bin", "neigh_modify every 1 delay 0 check yes", "min_style cg",
                  "min_modify line quadratic", "minimize 0 1e-10 20000 200000"]:
            lmp.command(c)
        if folder is not None:
            lmp.command(f"write_hessian all {folder / 'H'} ftol 1e-9")
            lmp.command(f"write_fc3 all {folder / 'F'} method analytic order 4")
        xs = np.array(lmp.numpy.extract_atom("x"))[:len(ids)]
        idn = np.array(lmp.numpy.extract_atom("id"))[:len(ids)]
        fmax = float(np.max(np.abs(np.array(lmp.numpy.extract_atom("f"))[:len(ids)])))
        pe = lmp.get_thermo("pe")          # per atom: units lj normalizes thermo output
    finally:
        lmp.close()
    o = np.argsort(idn)
    return xs[o], fmax, pe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*", default=[str(DATA / p) for p in PAIR])
    ap.add_argument("--out", default="bench/results/nonlinear_seed002.json")
    args = ap.parse_args()
    from glassmodes.fc3 import read_fc3
    from glassmodes.landscape.overlaps import overlap_a, overlap_c
    from glassmodes.lammps_session import open_lammps
    from glassmodes.modes import solve_modes
    from glassmodes.nonlinear import ForceConstantOperator, find_mode

    fa, fb = map(Path, args.files)
    out = {"A": fa.name, "B": fb.name}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ids, diam, xa, lo, hi = read_charge_data(fa)
        idb, diamb, xb, _, _ = read_charge_data(fb)
        assert np.array_equal(ids, idb) and np.allclose(diam, diamb)
        xa, fa_max, ea = minimized(open_lammps, ids, diam, xa, lo, hi, tmp)
        xb, fb_max, eb = minimized(open_lammps, ids, diam, xb, lo, hi)
        out.update(E_A_per_atom=ea, E_B_per_atom=eb, fmax_A=fa_max, fmax_B=fb_max)
        L = hi - lo
        r = xb - xa
        r -= L * np.round(r / L)
        r = r.ravel()
        out["r_AB_norm"] = float(np.linalg.norm(r))
        t1 = time.perf_counter()
        modes = solve_modes(str(tmp / "H"), backend="dense")
        psi = modes.vectors
        out["harmonic_seconds"] = time.perf_counter() - t1
        c_h, a_h = overlap_c(r, psi), overlap_a(r, psi, 3)
        kbest = int(np.argmax(c_h))
        out["harmonic"] = {"nmodes": int(psi.shape[1]), "best_c": float(c_h[kbest]), "best_c_mode": kbest,
                           "best_c_omega": float(modes.omega[kbest]), "best_a": float(np.max(a_h)),
                           "softest_c": float(c_h[0]), "softest_a": float(a_h[0]),
                           "softest_omega": float(modes.omega[0])}
        op = ForceConstantOperator(read_fc3(tmp / "F"))
        for name, seed in (("r_AB", r), ("softest_psi", psi[:, 0])):
            for method in ("map", "lbfgs+map"):
                m = find_mode(op, kind="cubic", seed=seed, method=method, seed_label=name)
                out[f"cubic_from_{name}_{method}"] = {
                    "c": float(overlap_c(r, m.pi[:, None])[0]), "a": float(overlap_a(r, m.pi[:, None], 3)[0]),
                    "omega": m.omega, "tau": m.tau, "chi": m.chi, "Ne": m.participation_number,
                    "residual": m.residual, "converged": m.converged, "iterations": m.iterations,
                    "seconds": m.seconds, "stop": m.stop}
                print(name, method, json.dumps(out[f"cubic_from_{name}_{method}"]), flush=True)
    out["seconds_total"] = time.perf_counter() - t0
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(out["harmonic"]))


if __name__ == "__main__":
    main()
