"""Disorder parameter gamma(N) = N (Delta mu/<mu>)^2 of a modulus over samples, with bootstrap intervals.

Reads the results of `glassmodes elastic` (one JSON per sample), groups them by N, and gives per N:
gamma (Kapteijns, PhD thesis, Eq. 5.7) with its percentile-bootstrap interval over the samples,
<mu>, Delta mu sqrt(N), the skewness with its interval, the left tail of P(mu) (thesis Eq. 5.5:
~ (<mu> - mu)^-7/2), the smallest and largest mu, and the gamma of the Gaussian core
(N (IQR/1.349/median)^2, insensitive to the tail; not the thesis' gamma). With two or more sizes
it says whether their intervals overlap (gamma should not depend on N). The modulus is a key of the results' `moduli` (default
G_thesis = C_xyxy + sigma_yy, the thesis' shear modulus; docs/elasticity.md lists the keys).

Examples:
  glassmodes prepare thesis-ipl10-2d --n 100 --seed 1 --samples 6 --out gam --set T_liquid=2.0 --set rate=0
  for f in gam/*.data; do glassmodes elastic $f -o ${f%.data}.el.json; done
  glassmodes gamma gam/*.el.json -o gam/gamma.json --plot gam/plots

Output: JSON (one entry per N, the modulus, the bootstrap settings, the overlap test) and a table
on stdout; --plot DIR: P(mu) per N and gamma(N) with its intervals (gamma.png).
"""

from __future__ import annotations

import json
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("results", nargs="+", help="JSON results of `glassmodes elastic` (one per sample)")
    parser.add_argument("--modulus", default="G_thesis",
                        help="key of the results' `moduli` (default G_thesis; e.g. G_iso_B, K)")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples (default 2000)")
    parser.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap random seed (default 0)")
    parser.add_argument("-o", "--output", default=None, help="JSON file to write")
    parser.add_argument("--plot", metavar="DIR", default=None, help="write gamma.png to DIR")


def load_samples(paths, key: str) -> dict:
    """{N: [(path, mu)]} from `glassmodes elastic` results; one dimension and unit style for all."""
    groups, seen, kinds = {}, set(), set()
    for p in paths:
        try:
            d = json.loads(Path(p).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{p}: cannot read a JSON result ({exc})") from None
        if not isinstance(d, dict) or d.get("format") != "glassmodes-elastic-result":
            raise ValueError(f"{p}: not a `glassmodes elastic` result (format glassmodes-elastic-result)")
        if key not in d.get("moduli", {}):
            raise ValueError(f"{p}: no modulus {key!r} (has {', '.join(sorted(d.get('moduli', {})))})")
        src = d.get("source") or str(Path(p).resolve())
        if src in seen:
            raise ValueError(f"{p}: sample {src} given twice")
        seen.add(src)
        kinds.add((d.get("dimension"), d.get("units")))
        groups.setdefault(int(d["meta"]["natoms"]), []).append((str(p), float(d["moduli"][key])))
    if len(kinds) > 1:
        raise ValueError(f"results mix dimensions/unit styles {sorted(kinds, key=str)}")
    return dict(sorted(groups.items())), kinds.pop()


def plot(out: dict, groups: dict, folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for n, rows in groups.items():       # cumulative distribution: the left tail stays visible on a log axis
        mu = np.sort(np.array([m for _, m in rows]))
        ax[0].step(mu, np.arange(1, mu.size + 1) / mu.size, where="post", label=f"N = {n} ({mu.size} samples)")
    ax[0].set_yscale("log")
    dim = out.get("dimension")
    ax[0].set_xlabel(f"{out['modulus']} [energy/distance^{dim}]" if dim else out["modulus"])
    ax[0].set_ylabel(f"P({out['modulus']} <= x)  (cumulative)")
    ax[0].legend()
    ns = np.array([s["natoms"] for s in out["sizes"]])
    g = np.array([s["gamma"] for s in out["sizes"]])
    ci = np.array([s["gamma_ci"] for s in out["sizes"]])
    ax[1].errorbar(ns, g, yerr=[g - ci[:, 0], ci[:, 1] - g], fmt="o", capsize=4)
    ax[1].set_xscale("log")
    ax[1].set_xlabel("N")
    ax[1].set_ylabel(f"gamma = N (Delta mu/<mu>)^2 ({int(out['confidence'] * 100)} % bootstrap)")
    fig.tight_layout()
    path = folder / "gamma.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(args) -> int:
    from glassmodes.elastic.ensemble import disorder_parameter, left_tail
    from glassmodes.io.atomic import atomic_output

    if not 0 < args.confidence < 1:
        raise ValueError(f"--confidence must lie in (0, 1), got {args.confidence}")
    if args.bootstrap < 100:
        raise ValueError(f"--bootstrap needs at least 100 resamples, got {args.bootstrap}")
    groups, (dim, units) = load_samples(args.results, args.modulus)
    sizes = []
    for n, rows in groups.items():
        if len(rows) < 3:
            raise ValueError(f"N = {n}: {len(rows)} sample(s); gamma needs at least 3 per size")
        mu = [m for _, m in rows]
        r = disorder_parameter(mu, natoms=n, n_bootstrap=args.bootstrap, confidence=args.confidence, seed=args.seed)
        tail = left_tail(mu)
        r["tail_slope"], r["tail_n"] = tail["slope"], tail["n_tail"]
        r["min"], r["max"] = float(min(mu)), float(max(mu))
        sizes.append(r)
    overlap = None
    if len(sizes) > 1:
        lo = max(s["gamma_ci"][0] for s in sizes)
        hi = min(s["gamma_ci"][1] for s in sizes)
        overlap = bool(lo <= hi)
    out = {"format": "glassmodes-gamma", "format_version": 1, "modulus": args.modulus, "dimension": dim,
           "units": units, "modulus_units": "energy/distance^d (LAMMPS unit style `units`)",
           "definition": "gamma = N var(mu)/<mu>^2 (ddof 1; Kapteijns thesis Eq. 5.7), percentile bootstrap "
                         "over samples", "confidence": args.confidence, "n_bootstrap": args.bootstrap,
           "seed": args.seed, "sizes": sizes, "intervals_overlap": overlap,
           "files": {str(n): [p for p, _ in rows] for n, rows in groups.items()}}
    for s in sizes:
        print(f"N = {s['natoms']}: {s['n_samples']} samples, <{args.modulus}> = {s['mean']:.6g}, "
              f"gamma = {s['gamma']:.4g} [{s['gamma_ci'][0]:.4g}, {s['gamma_ci'][1]:.4g}] "
              f"({int(args.confidence * 100)} %), Delta mu sqrt(N) = {s['std_sqrtN']:.4g}, "
              f"skewness = {s['skewness']:.3f} [{s['skewness_ci'][0]:.3f}, {s['skewness_ci'][1]:.3f}], "
              f"min {args.modulus} = {s['min']:.4g}; core (IQR) gamma = {s['gamma_core']:.4g}")
    if overlap is not None:
        print(f"gamma intervals of the {len(sizes)} sizes overlap: {'yes' if overlap else 'no'}")
    if args.output:
        with atomic_output(args.output) as t:
            Path(t).write_text(json.dumps(out, indent=1))
        print(f"-> {args.output}")
    if args.plot:
        print(f"plot -> {plot(out, groups, Path(args.plot))}")
    return 0
