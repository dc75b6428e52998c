"""Transverse attenuation Gamma(omega) of 2D thesis IPL glasses by shift-invert Lanczos, pooled per N, resumable.

The computation of `glassmodes attenuation` (glassmodes.cli.attenuation: G_thesis by CG, Lanczos
measures of the shells, per-N ensemble lines, Rayleigh fit over Omega/omega0 <= --fit-max, gamma of
the same samples and the thesis' 3.77 gamma), with a per-sample cache (--cache DIR: the sample's
record, its measures and its dynamical matrix for the exact mode counts) so that samples can be
added as they are prepared. --modes K: the dense modes route on the first K samples too, and both
pooled fits side by side (validation of the Lanczos route at the size of interest).

Usage: python bench/elastic_attenuation_lanczos.py DIR1600/*.data DIR6400/*.data --cache C --shells 1 2 4 5 8 \
         --steps 150 --out bench/results/elastic_attenuation_lanczos_2d.json --plot bench/results
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def load_or_compute(src: str, cache: Path, shells, steps: int):
    from glassmodes.cli.attenuation import sample_measures
    from glassmodes.elastic.attenuation import ShellMeasure
    from glassmodes.elastic.lanczos import eigen_count

    tag = f"{Path(src).stem}-m{steps}"
    fj, fz, fd = cache / f"{tag}.json", cache / f"{tag}.npz", cache / f"{tag}.D.npz"
    if fj.exists():
        rec = json.loads(fj.read_text())
        D = sp.load_npz(fd).tocsr()
        z = np.load(fz)
        have = set(rec["cached_shells"])
        if set(shells) <= have:
            def count(lo, hi, D=D):
                return eigen_count(D, hi ** 2) - eigen_count(D, max(lo, 0.0) ** 2) if hi > max(lo, 0.0) else 0
            ms = [ShellMeasure(shell=s, k=float(z[f"k{s}"]), omega=z[f"o{s}"], weights=z[f"w{s}"],
                               nwaves=int(z[f"n{s}"]), captured=float(z[f"w{s}"].sum()), count=count) for s in shells]
            return rec, ms, D
    t0 = time.perf_counter()
    rec, ms, D = sample_measures(src, shells, steps, 1e-8)
    rec["seconds"] = time.perf_counter() - t0
    rec["cached_shells"] = [m.shell for m in ms]
    np.savez(fz, **{f"{p}{m.shell}": v for m in ms for p, v in (("k", m.k), ("o", m.omega), ("w", m.weights),
                                                                   ("n", m.nwaves))})
    sp.save_npz(fd, sp.csr_matrix(D))
    fj.write_text(json.dumps(rec))
    print(f"{src}: G_thesis {rec['G_thesis']:.4f}, {rec['seconds']:.0f} s", flush=True)
    return rec, ms, D


def main(argv=None) -> int:
    from glassmodes.cli.attenuation import plot, pooled_analysis
    from glassmodes.elastic.attenuation import fit_line, mode_measures

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="+")
    ap.add_argument("--cache", required=True)
    ap.add_argument("--shells", type=int, nargs="+", default=[1, 2, 4, 5, 8])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--min-modes", type=float, default=10.0)
    ap.add_argument("--fit-max", type=float, default=0.25)
    ap.add_argument("--bootstrap", type=int, default=500, help="resamples over samples for the 95 %% intervals")
    ap.add_argument("--modes", type=int, default=0)
    ap.add_argument("--only-compute", action="store_true")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    recs, meas = [], []
    for src in args.sources:
        rec, ms, _ = load_or_compute(src, cache, args.shells, args.steps)
        recs.append(rec)
        meas.append(ms)
    if args.only_compute:
        return 0
    out = {"samples": recs, "shells": args.shells, "steps": args.steps, "loadavg": os.getloadavg(),
           "units": "LJ; omega in rad/tau; Gamma = FWHM of the ensemble line in omega = energy decay rate",
           **pooled_analysis(recs, meas, args.shells, args.min_modes, args.fit_max, n_boot=args.bootstrap)}
    if args.modes:
        from glassmodes.cli.elastic import load_hessian
        from glassmodes.modes import solve_modes
        import tempfile

        mm = []
        for src in args.sources[: args.modes]:
            with tempfile.TemporaryDirectory() as tmp:
                h = load_hessian(src, Path(tmp))
            m = solve_modes(h, backend="dense")
            mm.append(mode_measures(m.omega, m.vectors, h.positions(), h.atoms["mass"], h.meta["box"], args.shells))
        out["validation_modes_vs_lanczos"] = []
        for j, s in enumerate(args.shells):
            a = fit_line([x[j] for x in mm], args.min_modes)
            b = fit_line([x[j] for x in meas[: args.modes]], args.min_modes)
            out["validation_modes_vs_lanczos"].append({"shell": s, "samples": args.modes, "gamma_modes": a.gamma,
                                                       "gamma_lanczos": b.gamma, "omega_modes": a.omega_center,
                                                       "omega_lanczos": b.omega_center, "n_line_modes": a.n_line,
                                                       "n_line_lanczos": b.n_line})
    Path(args.out).write_text(json.dumps(out, indent=1))
    for s in out["sizes"]:
        for l in s["lines"]:
            w0 = s["omega0"]
            print(f"N = {s['natoms']} ({s['samples']}) shell {l['shell']}: omega/omega0 {l['omega_center'] / w0:.4f} "
                  f"Gamma/omega0 {l['gamma'] / w0:.5f} Gamma/omega^3 {(l['gamma'] / w0) / (l['omega_center'] / w0) ** 3:.2f} "
                  f"n_line {l['n_line']:.1f} {'' if l['resolved'] else '(unresolved)'}")
        if "gamma" in s:
            print(f"N = {s['natoms']}: gamma {s['gamma']['gamma']:.3g} {s['gamma']['gamma_ci']}")
    print("Rayleigh fit:", out["rayleigh_fit"])
    if args.plot:
        print("plot ->", plot(out, Path(args.plot)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
