"""Annealed vs quenched thesis IPL glasses: shear modulus and mean dipole stiffness.

Kapteijns' thesis (Ch. 6, Fig. 6.3) measures the *relative change* of the mean dipole stiffness
<kappa> and of the athermal shear modulus <G> between ensembles of inherent structures of different
parent temperatures: <kappa> varies by almost 100 % over the MD-accessible range, G by 26 %.
Design-note acceptance: annealed glasses stiffer, and <kappa> rising at least twice as fast as G.

For each ensemble (a folder of ``*.data`` samples from ``glassmodes prepare``, labelled
LABEL=DIR, the first one the reference), per sample: the relaxed moduli by block-Jacobi CG
(rtol 1e-10) -- ``G_thesis`` (C_xyxy + sigma_yy, the thesis' Eq. 6.4 for x += gamma y),
``G_ss`` (the mean of the d(d-1) simple-shear moduli C_abab + sigma_bb of the sample: the same
ensemble mean as G_thesis, less noise), ``G_iso_B`` -- and the mean of kappa_ij over --pairs random
interacting pairs (seed 1). Then per ensemble: mean +- standard error over the samples; per
non-reference ensemble: the relative rises r_X = <X>/<X>_ref - 1 and the ratio
r_kappa / r_G, with standard errors and 68 % intervals from a bootstrap over the samples of both
ensembles (resampled independently).

Usage:
  python bench/elastic_annealing.py q=DIR_QUENCH a=DIR_ANNEAL [more=DIR ...] --pairs 200 [--cache DIR] \
      --out bench/results/elastic_annealing_2d.json --plot bench/results/elastic_annealing_2d.png
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

KEYS = ("G_thesis", "G_ss", "G_iso_B", "kappa_mean")


def sample(data: Path, pairs: int) -> dict:
    """Moduli and mean kappa_ij of one sample (serial write_hessian, CG)."""
    from glassmodes.elastic import CGSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.elastic.dipoles import dipole_response, random_pairs
    from glassmodes.elastic.terms import pairs_from_hessian
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.io.hessian import read_hessian

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_hessian_job(HessianJob(source=data, output=Path(tmp) / "H", keywords={"mass": "no"}))
        h = read_hessian(Path(tmp) / "H")
    solver = CGSolver(h.matrix, h.dimension, rtol=1e-10)
    terms = terms_from_hessian(h)
    r = relaxed_elastic(terms, solver)
    table, _ = pairs_from_hessian(h)
    d = dipole_response(solver, table, h.natoms, random_pairs(table, pairs, seed=1))
    meta = json.loads(data.with_suffix(".json").read_text()) if data.with_suffix(".json").is_file() else {}
    return {"file": data.name, "G_thesis": r.moduli["G_thesis"], "G_ss": r.moduli["G_simple_shear_mean"],
            "G_iso_B": r.moduli["G_iso_B"], "P": r.moduli["P"], "kappa_mean": float(np.mean(d.kappa)),
            "kappa_median": float(np.median(d.kappa)), "npairs": int(d.kappa.size),
            "max_force": terms.meta["max_force"], "energy_per_particle": meta.get("energy_per_particle"),
            "seconds": time.perf_counter() - t0}


def summary(rows: list) -> dict:
    out = {"nsamples": len(rows)}
    for k in KEYS + ("P", "energy_per_particle"):
        v = np.array([r[k] for r in rows if r.get(k) is not None], dtype=float)
        out[f"{k}_mean"] = float(v.mean())
        out[f"{k}_sem"] = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else None
        out[f"{k}_sd"] = float(v.std(ddof=1)) if v.size > 1 else None
    return out


def rises(ref: list, other: list, nboot: int = 4000, seed: int = 7) -> dict:
    """Relative rises <X>/<X>_ref - 1 and kappa/G ratios with bootstrap standard errors and 68 % intervals."""
    rng = np.random.default_rng(seed)
    a = {k: np.array([r[k] for r in ref]) for k in KEYS}
    b = {k: np.array([r[k] for r in other]) for k in KEYS}
    point = {k: float(b[k].mean() / a[k].mean() - 1) for k in KEYS}
    ia = rng.integers(0, len(ref), size=(nboot, len(ref)))
    ib = rng.integers(0, len(other), size=(nboot, len(other)))
    boot = {k: b[k][ib].mean(axis=1) / a[k][ia].mean(axis=1) - 1 for k in KEYS}
    out = {}
    for k in KEYS:
        out[f"rise_{k}"] = point[k]
        out[f"rise_{k}_se"] = float(boot[k].std(ddof=1))
    for g in ("G_thesis", "G_ss", "G_iso_B"):
        ratio = boot["kappa_mean"] / boot[g]
        lo, hi = np.percentile(ratio, [16, 84])
        out[f"ratio_kappa_over_{g}"] = point["kappa_mean"] / point[g] if point[g] else float("nan")
        out[f"ratio_kappa_over_{g}_68"] = [float(lo), float(hi)]
        out[f"ratio_kappa_over_{g}_5pct"] = float(np.percentile(ratio, 5))
        out[f"p_ratio_below_2_{g}"] = float(np.mean(ratio < 2))
    return out


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(out["ensembles"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    x = np.arange(len(labels))
    for k, (key, name) in enumerate((("G_ss", "<G> (simple shear, thesis Eq. 6.4)"), ("kappa_mean", "<kappa>"))):
        ref = out["ensembles"][labels[0]][f"{key}_mean"]
        y = [out["ensembles"][l][f"{key}_mean"] / ref - 1 for l in labels]
        e = [out["ensembles"][l][f"{key}_sem"] / ref for l in labels]
        ax.errorbar(x + 0.05 * k, 100 * np.array(y), 100 * np.array(e), marker="o", capsize=3, label=name)
    ax.set_xticks(x, labels, fontsize=8)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set_ylabel(f"relative change vs {labels[0]} [%]")
    ax.set_title("mean +- s.e. over samples (error of the reference not included)", fontsize=8)
    ax.legend(fontsize=8)
    ax = axes[1]
    for l in labels:
        rows = out["ensembles"][l]["samples"]
        ax.plot([r["G_ss"] for r in rows], [r["kappa_mean"] for r in rows], ".", label=f"{l} ({len(rows)} samples)")
    ax.set_xlabel("G_ss per sample [energy/distance^d]")
    ax.set_ylabel("mean kappa_ij per sample [energy/distance^2]")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ensembles", nargs="+", metavar="LABEL=DIR", help="the first one is the reference")
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--limit", type=int, default=None, help="at most this many samples per ensemble")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot", default=None)
    ap.add_argument("--cache", default=None, help="folder of per-sample results (reused when present)")
    ap.add_argument("--cached-only", action="store_true",
                    help="use only the samples already in --cache (a sample's order, not its result, decides)")
    ap.add_argument("--reverse", action="store_true", help="process the samples in reverse order (a second worker)")
    args = ap.parse_args(argv)
    out = {"pairs_per_sample": args.pairs, "solver": "block-Jacobi CG, rtol 1e-10", "ensembles": {},
           "conventions": {"G_thesis": "C_xyxy + sigma_yy = (1/V)(d2U/dgamma2 - Xi.H^+.Xi), x += gamma y",
                           "G_ss": "mean over the d(d-1) simple shears x_a += gamma x_b of C_abab + sigma_bb",
                           "G_iso_B": "Voigt isotropic average of Wallace's B",
                           "kappa_mean": "mean of kappa_ij = (d.H^+.d)/(d.H^+2.d) over random interacting pairs",
                           "units": "LJ: epsilon/sigma^d (moduli), epsilon/sigma^2 (kappa)"}}
    rows_by = {}
    for item in args.ensembles:
        label, _, folder = item.partition("=")
        files = sorted((p for p in Path(folder).glob("*.data") if p.with_suffix(".json").is_file()),  # finished
                       key=lambda p: p.name)[: args.limit]
        if not files:
            raise SystemExit(f"{folder}: no *.data samples")
        rows = []
        for f in (files[::-1] if args.reverse else files):
            cached = Path(args.cache) / f"{label}-{f.stem}-p{args.pairs}.json" if args.cache else None
            if cached is not None and cached.is_file():
                rows.append(json.loads(cached.read_text()))
                continue
            if args.cached_only:
                continue
            rows.append(sample(f, args.pairs))
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(rows[-1]))
            print(label, {k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
        rows_by[label] = rows
        out["ensembles"][label] = {"folder": str(folder), **summary(rows), "samples": rows}
    labels = list(rows_by)
    out["rises"] = {l: rises(rows_by[labels[0]], rows_by[l]) for l in labels[1:]}
    out["loadavg"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(out, indent=1))
    for l in labels[1:]:
        r = out["rises"][l]
        print(f"{l} vs {labels[0]}: rise G_ss {100 * r['rise_G_ss']:.2f} +- {100 * r['rise_G_ss_se']:.2f} %, "
              f"kappa {100 * r['rise_kappa_mean']:.2f} +- {100 * r['rise_kappa_mean_se']:.2f} %, ratio "
              f"{r['ratio_kappa_over_G_ss']:.2f} (68 % {r['ratio_kappa_over_G_ss_68']}, P(ratio < 2) = "
              f"{r['p_ratio_below_2_G_ss']:.3f})")
    if args.plot:
        plot(out, Path(args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
