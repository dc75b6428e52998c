"""Fraction of cubic nonlinear modes without a double well along them (Khomenko et al. (2020), Sec. III).

Khomenko et al. report that about 95 % of their nonlinear modes show no double well in the energy
along the straight line V(s) = U(x_A + s pi) - U(x_A). Here, at each of a few public seed-002 minima
(``/work/shared/data/seed002_is``, re-minimized to max |F_i| <= 1e-10): the lowest K harmonic modes
(sparse), the cubic map seeded with each (glassmodes.nonlinear, the paper's procedure), de-duplicated
at |overlap| > 0.99; along each distinct cubic mode the slope dV/ds = -F . pi on a grid of s out to a
largest particle displacement of ``--max-disp`` on both sides, from LAMMPS forces. A double well
along the line = a second zero of the slope where it goes from negative to positive (a second local
minimum of V(s)). The quartic profile from (kappa, tau, chi) is reported beside it.

    python bench/tls_nonlinear_dw.py --minima 3 --k 30 --out bench/results/tls_nonlinear_dw.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("GLASSMODES_SEED002_IS", "/work/shared/data/seed002_is"))


def line_minima(land, x0, pi, max_disp: float, npts: int) -> tuple[list[float], float]:
    """s values (both sides) where dV/ds changes from - to + (second minima), and the grid step."""
    p = pi.reshape(-1, 3)
    smax = max_disp / np.sqrt(np.max(np.einsum("ij,ij->i", p, p)))
    s = np.linspace(-smax, smax, 2 * npts + 1)
    g = np.array([-np.dot(land.energy_forces(x0 + si * p)[1].ravel(), pi) for si in s])
    minima = [float(0.5 * (s[i] + s[i + 1])) for i in range(len(s) - 1)
              if g[i] < 0 <= g[i + 1] and abs(0.5 * (s[i] + s[i + 1])) > 2 * (s[1] - s[0])]
    return minima, float(s[1] - s[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minima", type=int, default=3, help="how many minima (the first in name order)")
    ap.add_argument("--k", type=int, default=30, help="harmonic seeds per minimum")
    ap.add_argument("--max-disp", type=float, default=0.5, help="largest particle displacement of the scan (sigma)")
    ap.add_argument("--npts", type=int, default=100, help="grid points per side")
    ap.add_argument("--out", default="bench/results/tls_nonlinear_dw.json")
    args = ap.parse_args()

    from glassmodes.expansion import quartic_profile
    from glassmodes.landscape.neb import Landscape, read_configuration
    from glassmodes.landscape.tls import cubic_modes, harmonic_modes
    from glassmodes.nonlinear.modes import deduplicate

    files = sorted(DATA.glob("*.conf.txt"))[: args.minima]
    rows, t0, unconverged = [], time.perf_counter(), 0
    for f in files:
        cfg = read_configuration(f)
        land = Landscape(cfg)
        xa, ea, fa = land.minimize(cfg.x)
        w2, v = harmonic_modes(land, xa, args.k)
        seeds = {f"psi_{j}": v[:, 3 + j] for j in range(args.k)}
        found = cubic_modes(land, xa, seeds)
        kept, _ = deduplicate([m for m in found.values() if m.converged], 0.99)
        land.energy_forces(xa, rebuild=True)
        for m in kept:
            mins, ds = line_minima(land, xa, m.pi, args.max_disp, args.npts)
            q = quartic_profile(m.kappa, m.tau, m.chi)
            rows.append({"minimum": f.name, "seed": m.seed_label, "omega": m.omega, "participation_number":
                         m.participation_number, "beta": float(q.beta), "quartic_second_well": bool(q.has_second_well),
                         "line_second_minima": mins, "double_well": bool(mins), "step": ds})
            print(f"{f.name} {m.seed_label:7s} omega {m.omega:.4f} N e {m.participation_number:5.1f} "
                  f"beta {float(q.beta):.2f} line minima {['%.3f' % x for x in mins]}", flush=True)
        nconv = sum(m.converged for m in found.values())
        unconverged += len(found) - nconv
        print(f"{f.name}: {len(found)} seeds, {nconv} converged -> {len(kept)} distinct cubic modes "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        land.close()
    n = len(rows)
    ndw = sum(r["double_well"] for r in rows)
    summary = {"minima": len(files), "seeds_per_minimum": args.k, "distinct_modes": n, "unconverged_seeds": unconverged,
               "with_double_well": ndw,
               "fraction_without_double_well": (n - ndw) / n if n else None,
               "quartic_second_well": sum(r["quartic_second_well"] for r in rows),
               "max_disp": args.max_disp, "npts_per_side": args.npts, "seconds": time.perf_counter() - t0,
               "load": os.getloadavg()[0], "paper": "Khomenko et al. (2020): about 95 % without a double well"}
    Path(args.out).write_text(json.dumps({"summary": summary, "modes": rows}, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
