"""FCC crystal lifetimes in q-space: where tau ~ omega^-2 holds (seed 004, Fig. 2(b)).

Seed 004's monodisperse crystal (``pair_style ipl/smooth 12 1 2.5 powers all``, FCC at number
density 1.015, m = 1), classical, T = 1e-2 (the temperature of `lifetimes_crystal_md.py`), with
:mod:`glassmodes.anharmonic.crystal` (q-space; on a mesh it equals the supercell code, tested):

1. thermal linewidths: every mode of an ``--nc-thermal``^3-cell mesh (8: 2048 wavevectors; one
   member per cubic class is computed), fixed Gaussian width ``--width-thermal``; repeated on a
   second mesh (``--nc-check``) for convergence;
2. sharp lines: TA and LA along [100], [110], [111], omega from ~0.03 to ~3, partners on an
   ``--nc-sharp``^3-cell mesh, Gaussian width ``--rel-width`` x omega (a width that shrinks with
   omega keeps the delta sharp on the scale of the frequency mismatch, which shrinks with q);
3. broadened partners: the same directions with omega down to 1e-4, each partner's line
   broadened by its own rate from step 1 (nearest mesh point, same branch);
4. convergence along [100]: other partner meshes, Gaussian widths and linewidth tables.

Local exponents d ln tau / d ln omega in each regime; the MD and supercell-PT shells of the
N = 4000 box (`lifetimes_crystal_md.json`) are plotted with the q-space curves.

    python bench/lifetimes_crystal_qspace.py [--nc-thermal 8] [--nc-sharp 24] [--nc-broad 16]

Writes bench/results/lifetimes_crystal_qspace.json and .png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DIRECTIONS = {"[100]": (1.0, 0.0, 0.0), "[110]": (1.0, 1.0, 0.0), "[111]": (1.0, 1.0, 1.0)}
BRANCHES = {"TA": 0, "LA": 2}     # along these directions the two TA branches are degenerate at [100], [111]


def thermal_rates(crystal, nc: int, width: float, T: float):
    """Rates of every mode of an nc^3-cell mesh (one member per cubic class computed)."""
    from glassmodes.anharmonic import Smearing
    from glassmodes.anharmonic.crystal import crystal_decay_rates

    mesh = crystal.mesh(nc)
    w, _ = crystal.phonons(mesh)
    first, inverse = crystal.cubic_irreducible(mesh)
    targets = [(mesh[i], s) for i in first for s in range(3) if w[i, s] > 1e-6]
    res = crystal_decay_rates(crystal, targets, mesh, T, smearing=Smearing("gaussian", width=width))
    g = np.full((first.size, 3), np.nan)
    g[w[first] > 1e-6] = res.gamma          # row-major: the order of the targets
    gamma = g[inverse]
    return mesh, w, gamma, res.seconds


def direction_targets(crystal, direction, omegas, branch):
    """Wavevectors along a direction whose branch has the given frequencies (small-q slope, refined)."""
    d = np.asarray(direction, dtype=float)
    d /= np.linalg.norm(d)
    q = []
    for wt in omegas:
        lo, hi = 0.0, 1e-6
        while crystal.phonons(hi * d)[0][0, branch] < wt:
            lo, hi = hi, 2 * hi
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if crystal.phonons(mid * d)[0][0, branch] < wt:
                lo = mid
            else:
                hi = mid
        q.append(0.5 * (lo + hi) * d)
    return q


def local_exponents(omega, tau):
    o = np.argsort(omega)
    lw, lt = np.log(omega[o]), np.log(tau[o])
    return omega[o], tau[o], np.diff(lt) / np.diff(lw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=float, default=1e-2)
    ap.add_argument("--nc-thermal", type=int, default=8)
    ap.add_argument("--nc-check", type=int, default=10)
    ap.add_argument("--width-thermal", type=float, default=0.1)
    ap.add_argument("--nc-sharp", type=int, default=24)
    ap.add_argument("--rel-width", type=float, default=0.1)
    ap.add_argument("--nc-broad", type=int, default=16)
    ap.add_argument("--nc-broad-check", type=int, default=12)
    ap.add_argument("--nc-sharp-check", type=int, default=32)
    ap.add_argument("--out", type=Path, default=RESULTS / "lifetimes_crystal_qspace.json")
    args = ap.parse_args()

    from glassmodes.anharmonic import Smearing
    from glassmodes.anharmonic.crystal import BravaisPairCrystal, MeshLinewidths, crystal_decay_rates, fcc_primitive
    from glassmodes.anharmonic.pair_fc3 import IPLSmooth

    pot = IPLSmooth(n=12, q=1, xc=2.5, powers="all", pair_coeffs={(1, 1): (1.0, 1.0)})
    crystal = BravaisPairCrystal(fcc_primitive(1.015), 1.0, pot)
    out = {"model": "ipl/smooth 12 1 2.5 powers all, FCC, density 1.015, m = 1", "T": args.T, "args": {
        k: v for k, v in vars(args).items() if k != "out"}}
    t_all = time.perf_counter()

    # 1. thermal linewidths, and their convergence with the mesh
    thermal, lw = {}, {}
    for nc, width in ((args.nc_thermal, args.width_thermal),
                      (args.nc_check, args.width_thermal * args.nc_thermal / args.nc_check)):
        mesh, w, gamma, sec = thermal_rates(crystal, nc, width, args.T)
        ok = np.isfinite(gamma)
        edges = np.arange(0.0, np.nanmax(w) + 2.0, 2.0)
        mean_tau = [float(np.mean(1 / gamma[ok & (w >= a) & (w < b)])) if np.any(ok & (w >= a) & (w < b)) else None
                    for a, b in zip(edges[:-1], edges[1:])]
        thermal[f"nc{nc}"] = {"nc": nc, "width": width, "seconds": sec,
                              "median_gamma": float(np.median(gamma[ok])), "median_tau": float(np.median(1 / gamma[ok])),
                              "bins": edges.tolist(), "mean_tau_per_bin": mean_tau}
        # acoustic modes at q = 0 have no rate: they get the smallest one (their vertices vanish anyway)
        lw[nc] = MeshLinewidths(crystal, mesh, np.where(np.isfinite(gamma), gamma, np.nanmin(gamma)))
        print(f"thermal nc={nc}: median Gamma {thermal[f'nc{nc}']['median_gamma']:.4g}, {sec:.0f} s", flush=True)
    out["thermal"] = thermal
    linewidths = lw[args.nc_thermal]

    # 2. sharp lines, 3. broadened partners
    sharp_mesh, broad_mesh = crystal.mesh(args.nc_sharp), crystal.mesh(args.nc_broad)
    curves = {}
    for dname, d in DIRECTIONS.items():
        for bname, b in BRANCHES.items():
            key = f"{bname} {dname}"
            w_sharp = np.geomspace(0.03, 3.0, 11)
            t0 = time.perf_counter()
            sharp = [crystal_decay_rates(crystal, [(q, b)], sharp_mesh, args.T,
                                         smearing=Smearing("gaussian", width=args.rel_width * wt))
                     for q, wt in zip(direction_targets(crystal, d, w_sharp, b), w_sharp)]
            w_broad = np.geomspace(1e-4, 3.0, 16)
            broad = crystal_decay_rates(crystal, [(q, b) for q in direction_targets(crystal, d, w_broad, b)],
                                        broad_mesh, args.T, partner_gamma=linewidths)
            curves[key] = {
                "sharp": {"omega": [float(r.omega[0]) for r in sharp], "tau": [float(r.tau[0]) for r in sharp]},
                "broadened": {"omega": broad.omega.tolist(), "tau": broad.tau.tolist()},
                "seconds": time.perf_counter() - t0}
            for kind in ("sharp", "broadened"):
                o, t, e = local_exponents(np.array(curves[key][kind]["omega"]), np.array(curves[key][kind]["tau"]))
                curves[key][kind]["local_exponent"] = e.tolist()
            print(key, "sharp exponents", np.round(curves[key]["sharp"]["local_exponent"], 2),
                  "broadened", np.round(curves[key]["broadened"]["local_exponent"], 2), flush=True)
    out["curves"] = curves

    # 4. convergence: other meshes, widths and linewidth tables at a few frequencies ([100])
    conv = {}
    for bname, b in BRANCHES.items():
        wb, ws = [1e-4, 1e-3, 1e-2], [0.03, 0.3, 3.0]
        qb = direction_targets(crystal, DIRECTIONS["[100]"], wb, b)
        qs = direction_targets(crystal, DIRECTIONS["[100]"], ws, b)
        rows = {}
        for label, nc, table in ((f"broadened, mesh {args.nc_broad}, linewidths nc{args.nc_thermal}", args.nc_broad, lw[args.nc_thermal]),
                                 (f"broadened, mesh {args.nc_broad_check}, linewidths nc{args.nc_thermal}", args.nc_broad_check, lw[args.nc_thermal]),
                                 (f"broadened, mesh {args.nc_broad}, linewidths nc{args.nc_check}", args.nc_broad, lw[args.nc_check])):
            r = crystal_decay_rates(crystal, [(q, b) for q in qb], crystal.mesh(nc), args.T, partner_gamma=table)
            rows[label] = {"omega": r.omega.tolist(), "tau": r.tau.tolist()}
        for label, nc, rel in ((f"sharp, mesh {args.nc_sharp}, width {args.rel_width} omega", args.nc_sharp, args.rel_width),
                               (f"sharp, mesh {args.nc_sharp_check}, width {args.rel_width} omega", args.nc_sharp_check, args.rel_width),
                               (f"sharp, mesh {args.nc_sharp_check}, width {args.rel_width / 2} omega", args.nc_sharp_check, args.rel_width / 2)):
            m = crystal.mesh(nc)
            r = [crystal_decay_rates(crystal, [(q, b)], m, args.T, smearing=Smearing("gaussian", width=rel * wt))
                 for q, wt in zip(qs, ws)]
            rows[label] = {"omega": [float(x.omega[0]) for x in r], "tau": [float(x.tau[0]) for x in r]}
        conv[f"{bname} [100]"] = rows
        for label, row in rows.items():
            print(f"{bname} [100] {label}: tau {np.round(row['tau'], 1).tolist()}", flush=True)
    out["convergence"] = conv
    out["seconds"] = time.perf_counter() - t_all
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    plot(out, args.out.with_suffix(".png"))


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    colors = {"[100]": "C0", "[110]": "C1", "[111]": "C2"}
    g = out["thermal"][f"nc{out['args']['nc_thermal']}"]["median_gamma"]
    for key, c in out["curves"].items():
        b, d = key.split()
        ls = "-" if b == "TA" else "--"
        w, t = np.array(c["broadened"]["omega"]), np.array(c["broadened"]["tau"])
        low = w <= 3 * g          # above, the narrow partner lines are not resolved by the mesh: thin
        ax.loglog(w[low], t[low], ls, color=colors[d], label=f"{key} broadened")
        ax.loglog(w[~low | (np.arange(w.size) == low.sum() - 1)], t[~low | (np.arange(w.size) == low.sum() - 1)],
                  ls, color=colors[d], lw=0.5)
        ax.loglog(c["sharp"]["omega"], c["sharp"]["tau"], "o", ms=3, color=colors[d], mfc="none" if b == "LA" else None)
    md = RESULTS / "lifetimes_crystal_md.json"
    if md.exists():
        m = json.loads(md.read_text())
        ax.loglog([s["omega"] for s in m["shells"]], [s["tau_fit"] for s in m["shells"]], "k^", ms=4,
                  label=f"MD, N = {m['N']} box, shells (T = {m['T']})")
        ax.loglog([s[0] for s in m["pt"]["shells"]], [s[1] for s in m["pt"]["shells"]], "kx", ms=5,
                  label="supercell PT, same shells")
    w = np.geomspace(1e-4, 3, 10)
    ax.axvline(g, color="gray", lw=0.8, ls=":", label="median rate of the thermal phonons")
    ax.loglog(w, 1e8 * (w / 1e-4) ** -2, color="gray", lw=0.8, label=r"$\propto\omega^{-2}$")
    ax.set_xlabel(r"$\omega$")
    ax.set_ylabel(r"$\tau$")
    ax.set_title(f"FCC crystal, T = {out['T']}: q-space PT (lines: broadened partners; points: sharp lines)",
                 fontsize=8)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
