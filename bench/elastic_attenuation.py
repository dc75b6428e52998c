"""Transverse-wave attenuation Gamma(omega) of 2D thesis IPL glasses from complete mode sets.

For every ``*.data`` (glassmodes prepare thesis-ipl10-2d ...) in the folder, up to --limit samples:
the plain Hessian, all modes (dense), the relaxed G_thesis, and the spectral lines of the shells
|n|^2 = 1..--max-shell (glassmodes.elastic.attenuation); the lines of all samples are pooled per
shell (median of Omega and Gamma over samples, reduced by the ensemble omega0 = c_s/a0,
c_s = sqrt(<G_thesis>/rho)), and the Rayleigh analysis is run on the shells whose lines pass the
line-resolution test in the majority of samples. Design note B5/B6.6: expected log-slope 3 at low
omega (needs N ~ 6400; at N = 1600 the resolved lines may already lie above the Ioffe-Regel point).

Usage: python bench/elastic_attenuation.py GLASSDIR --limit 4 --out bench/results/elastic_attenuation_2d.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    from glassmodes.elastic import CGSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.elastic.attenuation import SpectralLine, rayleigh_analysis, spectral_lines
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.io.hessian import read_hessian
    from glassmodes.modes import solve_modes

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--max-shell", type=int, default=13)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    samples = []
    for data in sorted(Path(args.folder).glob("*.data"))[: args.limit]:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            write_hessian_job(HessianJob(source=data, output=Path(tmp) / "H", keywords={"mass": "no"}))
            h = read_hessian(Path(tmp) / "H")
        terms = terms_from_hessian(h)
        res = relaxed_elastic(terms, CGSolver(h.matrix, h.dimension))
        m = solve_modes(h, backend="dense")
        lines = spectral_lines(m.omega, m.vectors, h.positions(), h.atoms["mass"], h.meta["box"],
                               shells=range(1, args.max_shell + 1))
        rho = float(np.sum(h.atoms["mass"]) / terms.volume)
        samples.append({"file": data.name, "natoms": h.natoms, "G_thesis": res.moduli["G_thesis"], "rho": rho,
                        "a0": (terms.volume / h.natoms) ** 0.5, "lines": [vars(l) for l in lines],
                        "seconds": time.perf_counter() - t0})
        print(data.name, f"G {res.moduli['G_thesis']:.3f}",
              [(l.shell, round(l.omega_center, 3), round(l.gamma, 3), l.resolved) for l in lines], flush=True)
    G = np.mean([s["G_thesis"] for s in samples])
    rho, a0 = samples[0]["rho"], samples[0]["a0"]
    omega0 = float(np.sqrt(G / rho) / a0)
    pooled = []
    for shell in sorted({l["shell"] for s in samples for l in s["lines"]}):
        ls = [l for s in samples for l in s["lines"] if l["shell"] == shell]
        res_frac = np.mean([l["resolved"] for l in ls])
        pooled.append(SpectralLine(shell=shell, k=ls[0]["k"], omega_center=float(np.median([l["omega_center"] for l in ls])),
                                   gamma=float(np.median([l["gamma"] for l in ls])),
                                   n_line=float(np.median([l["n_line"] for l in ls])), resolved=bool(res_frac > 0.5),
                                   nwaves=int(sum(l["nwaves"] for l in ls)), captured=float(np.mean([l["captured"] for l in ls])),
                                   omega_static=float(np.median([l["omega_static"] for l in ls]))))
    ra = rayleigh_analysis(pooled, 2, omega0=omega0)
    out = {"samples": samples, "pooled": [vars(l) for l in pooled], "rayleigh": ra, "omega0": omega0,
           "G_mean": float(G), "loadavg": os.getloadavg(), "units": "LJ; omega in rad/tau; Gamma = energy decay rate"}
    Path(args.out).write_text(json.dumps(out, indent=1))
    for l in pooled:
        print(f"shell {l.shell}: omega/omega0 {l.omega_center / omega0:.4f}  Gamma/omega0 {l.gamma / omega0:.4f}  "
              f"n_line {l.n_line:.1f}  resolved {l.resolved}")
    print("rayleigh", ra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
