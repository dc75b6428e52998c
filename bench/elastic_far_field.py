"""Far-field decay of dipole responses |z(r)| ~ r^s (continuum elasticity: s = -(d - 1)).

For each data file (glassmodes prepare ...; Hessian by serial write_hessian), --pairs random
interacting pairs (seed --seed), z = H^+ d_ij by block-Jacobi CG (rtol 1e-10). Per pair and per fit
window [r_min, r_max] (r_max given as fractions of the box width L): the least-squares log-slope of
the median |z_k| in 8 log-spaced shells around the dipole's centre
(glassmodes.elastic.dipoles.far_field_slope). Windows: the periodic images of the dipole flatten
|z| as r approaches L/2, so windows ending at L/4 .. L/2 are all reported.

Continuum reference (glassmodes.elastic.continuum): for each pair, the displacement u of an isotropic
continuum in the same periodic box under the same two forces (-n/sqrt 2 on i, +n/sqrt 2 on j), at the
atoms' positions, with the glass's own Lame constants: the isotropic (Voigt) average of the relaxed
stress-strain tensor B (relaxed_elastic on the same Hessian, CG route), or --lame LAMBDA MU. The same
shells and the same median statistic give the continuum slope per window, the difference glass -
continuum (mean +- s.e. over the pairs), and the profile median|z| / median|u| per shell from r_min
to L/2 (flat where continuum elasticity holds). The continuum field is regularised over --width a
(default r_min / 5): exact to ~1e-3 for r >= 5 a.

Usage: python bench/elastic_far_field.py DATA [DATA ...] --pairs 10 --rmin 2 \
           --out bench/results/elastic_far_field_3d.json --plot bench/results/elastic_far_field_3d.png
       (add --lame LAMBDA MU to skip the relaxed-tensor solve on a large glass)
       python bench/elastic_far_field.py --continuum-box 49.6 --lame 78.55 12.78 --pairs 6 --rmin 4 --out F.json
       (the continuum alone in a 3D box of that size: what it predicts before any glass is analysed)
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


def hessian_of(data: Path, folder: Path, replicate: int = 1):
    """The Hessian of a data file (serial write_hessian), optionally of its k x k (x k) periodic replica."""
    from glassmodes.hessian_job import HessianJob, data_commands, write_hessian_job
    from glassmodes.io.hessian import read_hessian
    from glassmodes.lammps_session import open_lammps

    if replicate == 1:
        write_hessian_job(HessianJob(source=data, output=folder / "H", keywords={"mass": "no"}))
        return read_hessian(folder / "H")
    lmp = open_lammps()
    lmp.commands_list(data_commands(data))
    dim = int(lmp.extract_setting("dimension"))
    lmp.command(f"replicate {replicate} {replicate} {replicate if dim == 3 else 1}")
    lmp.command(f"write_hessian all {folder / 'H'} mass no")
    lmp.close()
    return read_hessian(folder / "H")


def glass_lame(h, solver) -> dict:
    """Lame constants of the isotropic average of the relaxed B of Hessian h (same solver as the dipoles)."""
    from glassmodes.elastic import relaxed_elastic, terms_from_hessian
    from glassmodes.elastic.continuum import isotropic_lame

    rel = relaxed_elastic(terms_from_hessian(h), solver)
    lam, mu = isotropic_lame(rel.B, h.dimension)
    return {"lambda": lam, "mu": mu, "source": "isotropic (Voigt) average of the relaxed B (CG)",
            "G_thesis": rel.moduli["G_thesis"], "G_iso_B": rel.moduli["G_iso_B"], "K": rel.moduli["K"],
            "P": rel.moduli["P"]}


def mean_sem(values) -> tuple:
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")


def analyse(data: Path, npairs: int, seed: int, rmin: float, fractions, replicate: int = 1, lame=None,
            width: float | None = None) -> dict:
    from glassmodes.elastic import CGSolver
    from glassmodes.elastic.continuum import dipole_forces, periodic_displacement
    from glassmodes.elastic.dipoles import dipole_response, far_field_slope, random_pairs
    from glassmodes.elastic.terms import box_widths, pairs_from_hessian

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        h = hessian_of(data, Path(tmp), replicate)
    t_h = time.perf_counter() - t0
    pairs, _ = pairs_from_hessian(h)
    d = h.dimension
    solver = CGSolver(h.matrix, d, rtol=1e-10)
    res = dipole_response(solver, pairs, h.natoms, random_pairs(pairs, npairs, seed=seed), keep_z=True)
    t1 = time.perf_counter()
    moduli = glass_lame(h, solver) if lame is None else {"lambda": float(lame[0]), "mu": float(lame[1]),
                                                          "source": "--lame"}
    t_c = time.perf_counter() - t1
    width = rmin / 5.0 if width is None else width
    x = h.positions()
    box = h.meta["box"]
    L = float(box_widths(box, d).min())
    fits = {f"{f:g}L": [] for f in fractions}
    cfits = {f"{f:g}L": [] for f in fractions}
    profiles, ratios = [], []
    t2 = time.perf_counter()
    for k in range(res.kappa.size):
        src, forces = dipole_forces(x[res.i[k]], x[res.j[k]], box)
        c = src.mean(axis=0)
        u = periodic_displacement(x, src, forces, box, moduli["lambda"], moduli["mu"], width=width).ravel()
        for f in fractions:
            fits[f"{f:g}L"].append(far_field_slope(res.z[:, k], x, box, c, rmin, r_max=f * L).slope)
            cfits[f"{f:g}L"].append(far_field_slope(u, x, box, c, rmin, r_max=f * L).slope)
        full = far_field_slope(res.z[:, k], x, box, c, 1.0, r_max=0.5 * L, nbins=12)
        profiles.append({"r": full.r.tolist(), "median_abs_z": full.amplitude.tolist()})
        gz = far_field_slope(res.z[:, k], x, box, c, rmin, r_max=0.5 * L, nbins=10)
        gu = far_field_slope(u, x, box, c, rmin, r_max=0.5 * L, nbins=10)
        ratios.append({"r": gz.r.tolist(), "median_abs_z": gz.amplitude.tolist(), "median_abs_u": gu.amplitude.tolist(),
                       "ratio": (gz.amplitude / gu.amplitude).tolist()})
    t_u = time.perf_counter() - t2
    shells = None
    if len({tuple(np.round(p["r"], 9)) for p in ratios}) == 1:           # same shells for every pair
        shells = {"r": ratios[0]["r"], "ratio": np.median([p["ratio"] for p in ratios], axis=0).tolist()}
    summary = {}
    for key, s in fits.items():
        s, cs = np.array(s), np.array(cfits[key])
        m, e = mean_sem(s)
        cm, ce = mean_sem(cs)
        dm, de = mean_sem(s - cs)
        summary[key] = {"slopes": s.round(4).tolist(), "mean": m, "sem": e,
                        "r_max": float(fractions[list(fits).index(key)] * L),
                        "continuum_slopes": cs.round(4).tolist(), "continuum_mean": cm, "continuum_sem": ce,
                        "difference_mean": dm, "difference_sem": de}
    return {"file": data.name, "replicate": replicate, "natoms": h.natoms, "dim": d, "L": L, "r_min": rmin, "expected": -(d - 1),
            "units": h.meta.get("units"), "kappa_mean": float(res.kappa.mean()), "cg": res.solve, "fits": summary,
            "profiles": profiles,
            "continuum": {"lame": moduli, "width": width, "profiles": ratios, "ratio_median_over_pairs": shells,
                          "field": "periodic isotropic continuum, same box and forces (glassmodes.elastic.continuum)",
                          "ratio": "median |z| / median |u| per shell (10 log shells from r_min to L/2)"},
            "seconds": time.perf_counter() - t0, "seconds_hessian": t_h, "seconds_moduli": t_c,
            "seconds_continuum": t_u}


def continuum_only(L: float, dim: int, natoms: int, npairs: int, seed: int, rmin: float, fractions, lame,
                   width: float | None = None) -> dict:
    """The periodic continuum alone in a cubic box of side L: its slopes over the same windows.

    The points are ``natoms`` uniform random positions (the glass's density), the dipoles have length
    1, random centres and orientations (seed ``seed``): what the continuum predicts for a glass of that
    box before any glass is analysed.
    """
    from glassmodes.elastic.continuum import dipole_forces, periodic_displacement
    from glassmodes.elastic.dipoles import far_field_slope

    t0 = time.perf_counter()
    width = rmin / 5.0 if width is None else width
    box = {"boxlo": [0.0] * 3, "boxhi": [L] * dim + [1.0] * (3 - dim)}
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, L, size=(natoms, dim))
    fits = {f"{f:g}L": [] for f in fractions}
    for _ in range(npairs):
        c = rng.uniform(0.0, L, size=dim)
        n = rng.normal(size=dim)
        n /= np.linalg.norm(n)
        src, forces = dipole_forces(c - 0.5 * n, c + 0.5 * n, box)
        u = periodic_displacement(x, src, forces, box, lame[0], lame[1], width=width).ravel()
        for f in fractions:
            fits[f"{f:g}L"].append(far_field_slope(u, x, box, src.mean(axis=0), rmin, r_max=f * L).slope)
    summary = {}
    for key, v in fits.items():
        m, e = mean_sem(v)
        summary[key] = {"continuum_slopes": np.round(v, 4).tolist(), "continuum_mean": m, "continuum_sem": e,
                        "r_max": float(fractions[list(fits).index(key)] * L)}
    return {"L": L, "dim": dim, "natoms": natoms, "r_min": rmin, "lame": {"lambda": lame[0], "mu": lame[1]},
            "width": width, "fits": summary, "seconds": time.perf_counter() - t0,
            "points": "uniform random positions", "dipoles": "length 1, random centres and orientations"}


def plot(rows: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(2, len(rows), figsize=(5 * len(rows), 7), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1]})
    for col, row in enumerate(rows):
        ax, ax2 = axes[0, col], axes[1, col]
        lj = row.get("units") == "lj"
        dist, force = ("sigma", "eps/sigma") if lj else ("distance", "force")
        cont = row.get("continuum", {}).get("profiles", [])
        for n, p in enumerate(row["profiles"]):
            colour = f"C{n % 10}"
            ax.loglog(p["r"], p["median_abs_z"], "-", color=colour, lw=0.8, alpha=0.8)
            if n < len(cont):
                ax.loglog(cont[n]["r"], cont[n]["median_abs_u"], "--", color=colour, lw=0.8, alpha=0.8)
                ax2.semilogx(cont[n]["r"], cont[n]["ratio"], "-", color=colour, lw=0.8, alpha=0.8)
        first = np.array([p["median_abs_z"][0] for p in row["profiles"]])
        r0 = row["profiles"][0]["r"][0]
        r = np.geomspace(r0, row["L"] / 2, 20)
        s = row["expected"]
        ax.loglog(r, np.median(first) * (r / r0) ** s, "k:", lw=1.2, label=f"r^{s}")
        ax.plot([], [], "k-", lw=0.8, label="glass z = H^+ d")
        ax.plot([], [], "k--", lw=0.8, label="periodic continuum u")
        for f, st in (("0.25L", ":"), ("0.5L", "-.")):
            if f in row["fits"]:
                for a in (ax, ax2):
                    a.axvline(row["fits"][f]["r_max"], color="gray", ls=st, lw=0.8)
        ticks = [t for t in (1, 2, 4, 8, 16, 32, 64, 128) if 0.9 <= t <= row["L"] / 2]
        for a in (ax, ax2):
            a.axvline(row["r_min"], color="gray", lw=0.8)
            a.set_xticks(ticks)
            a.set_xticklabels([str(t) for t in ticks])
            a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        q, h = row["fits"]["0.25L"], row["fits"]["0.5L"]
        lame = row.get("continuum", {}).get("lame", {})
        title = (f"{row['file']}" + (f" x{row['replicate']}^d" if row.get("replicate", 1) > 1 else "")
                 + f"\nslope [{row['r_min']:g}, L/4]: {q['mean']:.2f} +- {q['sem']:.2f}; "
                 f"[{row['r_min']:g}, L/2]: {h['mean']:.2f} +- {h['sem']:.2f}")
        if "continuum_mean" in h:
            title += (f"\ncontinuum: {q['continuum_mean']:.2f}; {h['continuum_mean']:.2f} "
                      f"(lambda {lame.get('lambda', float('nan')):.3g}, mu {lame.get('mu', float('nan')):.3g})")
        ax.set_title(title, fontsize=8)
        ax.set_xlabel(f"r from the dipole centre ({dist})")
        ax.set_ylabel(f"median |z| in shell ({dist} per {force})")
        ax.legend(fontsize=7)
        ax2.axhline(1.0, color="k", lw=0.5)
        ax2.set_yscale("log")
        ax2.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax2.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax2.set_xlabel(f"r from the dipole centre ({dist})")
        ax2.set_ylabel("median |z| / median |u| per shell")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="*")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--rmin", type=float, default=2.0)
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.33, 0.4, 0.5])
    ap.add_argument("--replicate", type=int, default=1,
                    help="analyse the k x k (x k) periodic replica of each sample (a periodic medium of glass cells, "
                         "not a larger glass: a check of the decay, not of a glass of that size)")
    ap.add_argument("--lame", type=float, nargs=2, metavar=("LAMBDA", "MU"), default=None,
                    help="Lame constants of the continuum reference (energy/distance^d); default: the isotropic "
                         "average of each glass's relaxed B, computed here by CG")
    ap.add_argument("--width", type=float, default=None,
                    help="regularisation length of the continuum field (default r_min/5: exact for r >= r_min)")
    ap.add_argument("--continuum-box", type=float, default=None, metavar="L",
                    help="no glass: the periodic continuum alone in a cubic box of side L (needs --lame; "
                         "--dim, --natoms uniform random points, --pairs random dipoles)")
    ap.add_argument("--dim", type=int, default=3, choices=(2, 3))
    ap.add_argument("--natoms", type=int, default=100000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args(argv)
    if args.width is not None and args.width > args.rmin / 5.0:
        print(f"note: --width {args.width:g} > r_min/5 = {args.rmin / 5.0:g}: the continuum field is regularised "
              f"(not a point-force field) in the first shells, up to r ~ {5 * args.width:g}", flush=True)
    if args.continuum_box is not None:
        if args.lame is None or args.data:
            ap.error("--continuum-box needs --lame LAMBDA MU and no data files")
        row = continuum_only(args.continuum_box, args.dim, args.natoms, args.pairs, args.seed, args.rmin,
                             sorted(set(args.fractions) | {0.25, 0.5}), args.lame, args.width)
        for key, v in row["fits"].items():
            print(f"window [{args.rmin:g}, {key} = {v['r_max']:.3g}]: periodic continuum "
                  f"{v['continuum_mean']:.3f} +- {v['continuum_sem']:.3f}")
        Path(args.out).write_text(json.dumps({"continuum_only": row, "argv": sys.argv, "loadavg": os.getloadavg()},
                                             indent=1))
        return 0
    if not args.data:
        ap.error("give data files, or --continuum-box L")
    if 0.25 not in args.fractions or 0.5 not in args.fractions:
        args.fractions = sorted(set(args.fractions) | {0.25, 0.5})
    rows = []
    for data in args.data:
        row = analyse(Path(data), args.pairs, args.seed, args.rmin, args.fractions, args.replicate, args.lame,
                      args.width)
        rows.append(row)
        print(row["file"], {k: (round(v["mean"], 3), round(v["sem"], 3)) for k, v in row["fits"].items()},
              "expected", row["expected"], f"{row['seconds']:.0f} s", flush=True)
        lame = row["continuum"]["lame"]
        print(f"  continuum reference: lambda {lame['lambda']:.4g}, mu {lame['mu']:.4g} ({lame['source']}), "
              f"width {row['continuum']['width']:g}")
        for key, v in row["fits"].items():
            print(f"  window [{row['r_min']:g}, {key} = {v['r_max']:.3g}]: glass {v['mean']:.3f} +- {v['sem']:.3f}, "
                  f"continuum {v['continuum_mean']:.3f} +- {v['continuum_sem']:.3f}, "
                  f"glass - continuum {v['difference_mean']:.3f} +- {v['difference_sem']:.3f}")
        shells = row["continuum"].get("ratio_median_over_pairs")
        if shells:
            print("  median|z|/median|u| per shell (median over the pairs):",
                  " ".join(f"r={a:.3g}:{b:.3f}" for a, b in zip(shells["r"], shells["ratio"])), flush=True)
        Path(args.out).write_text(json.dumps({"rows": rows, "loadavg": os.getloadavg(),
                                              "method": "median |z| in 8 log shells, least-squares log-slope",
                                              "argv": sys.argv},
                                             indent=1))
    if args.plot:
        plot(rows, Path(args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
