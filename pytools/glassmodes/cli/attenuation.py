"""Transverse wave attenuation Gamma(omega) of glass samples by shift-invert Lanczos, pooled over samples.

For every sample (LAMMPS data file with its .ff, or Hessian file `write_hessian all H mass no`):
the relaxed G_thesis (CG, docs/elasticity.md), then the spectral measures of the transverse plane
waves of the shells |n|^2 = S by shift-invert Lanczos (no modes: any N whose sparse LU fits;
glassmodes.elastic.lanczos). Per N and shell, the measures of all samples are averaged and one
Lorentzian is fitted: centre Omega and FWHM Gamma, the *energy* decay rate (docs/lifetimes.md).
A line counts when it holds Gamma g(Omega) >= --min-modes modes of the samples (exact Sylvester
counts). Frequencies are reduced by omega0 = c_s/a0, c_s = sqrt(<G_thesis>/rho), a0 = (V/N)^(1/d)
(Kapteijns, PhD thesis, Sec. 5.2). The Rayleigh fit uses the resolved lines of all sizes with
Omega/omega0 <= --fit-max: log-slope (d + 1 = 3 in 2D) and the amplitude (Gamma/omega0)/(Omega/omega0)^(d+1);
with >= 3 samples of one N, gamma = N (Delta G/<G>)^2 of those samples and, in 2D, the thesis
prediction amplitude = 3.77 gamma (Fig. 5.3b).

Examples:
  glassmodes prepare thesis-ipl10-2d --n 400 --seed 1 --samples 3 --out att --set T_liquid=2.0 --set rate=0
  glassmodes attenuation att/*.data --shells 1 2 4 5 8 -o att/attenuation.json --plot att/plots

Output: JSON (per sample G_thesis and c_T; per N the pooled lines; the Rayleigh fit; gamma) and
--plot DIR/attenuation_lanczos.png: Gamma/omega0 vs omega/omega0 on log axes with the omega^(d+1)
guide through the fitted amplitude, the Ioffe-Regel line pi Gamma = omega, the fit range and the
number of samples per N.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("sources", nargs="+", help="data files (with .ff) or Hessian files, one per sample")
    parser.add_argument("--shells", type=int, nargs="+", default=[1, 2, 4, 5, 8],
                        help="|n|^2 of the wave-vector shells (default 1 2 4 5 8)")
    parser.add_argument("--steps", type=int, default=200, help="Lanczos steps per plane wave (default 200)")
    parser.add_argument("--min-modes", type=float, default=10.0,
                        help="a pooled line is resolved when it holds >= this many modes (default 10)")
    parser.add_argument("--fit-max", type=float, default=0.25,
                        help="largest Omega/omega0 in the Rayleigh fit (default 0.25)")
    parser.add_argument("--bootstrap", type=int, default=500, metavar="B",
                        help="resamples (over samples, per N) for the 95 %% intervals of the Rayleigh slope, "
                             "amplitude and each fitted Gamma (default 500; 0: none)")
    parser.add_argument("--max-force", type=float, default=1e-8,
                        help="refuse a sample whose largest net force exceeds this (default 1e-8)")
    parser.add_argument("-o", "--output", required=True, help="JSON file to write")
    parser.add_argument("--plot", metavar="DIR", default=None, help="write attenuation_lanczos.png to DIR")


def sample_measures(source: str, shells, steps: int, max_force: float) -> tuple:
    """(record, measures, D) of one sample: G_thesis by CG, the Lanczos shell measures, the dynamical matrix."""
    import numpy as np

    from glassmodes.cli.elastic import load_hessian
    from glassmodes.elastic import CGSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.elastic.attenuation import lanczos_measures

    with tempfile.TemporaryDirectory() as tmp:
        h = load_hessian(source, Path(tmp))
    terms = terms_from_hessian(h)
    res = relaxed_elastic(terms, CGSolver(h.matrix, h.dimension, atom_ids=h.atoms["id"]), max_force=max_force)
    d, n = h.dimension, h.natoms
    rho = float(np.sum(h.atoms["mass"]) / terms.volume)
    ct = float(np.sqrt(res.moduli["G_thesis"] / rho))
    D = h.dynamical_matrix()
    ms = lanczos_measures(D, h.positions(), h.atoms["mass"], h.meta["box"], shells, ct, steps)
    rec = {"source": str(source), "natoms": n, "dimension": d, "units": h.meta.get("units"),
           "G_thesis": res.moduli["G_thesis"], "rho": rho, "a0": (terms.volume / n) ** (1.0 / d), "c_t": ct}
    return rec, ms, D


def pooled_analysis(records: list, measures: list, shells, min_modes: float, fit_max: float,
                    n_boot: int = 0, seed: int = 0) -> dict:
    """Per-N pooled lines, reduced by that N's omega0, and the Rayleigh fit over all sizes.

    ``n_boot`` > 0: 95 % percentile intervals of the fit's slope and amplitude and of every fitted
    line's reduced Gamma, from resampling the samples of each N with replacement (the lines in the
    fit are those of the full ensemble: resolution is not re-decided per resample).
    """
    import numpy as np

    from glassmodes.elastic.attenuation import SpectralLine, bootstrap_lines, fit_line, rayleigh_analysis
    from glassmodes.elastic.ensemble import disorder_parameter

    dims = {r["dimension"] for r in records}
    if len(dims) > 1:
        raise ValueError("samples of different dimensions")
    d = dims.pop()
    sizes, fit_lines, boot_groups = [], [], []
    for n in sorted({r["natoms"] for r in records}):
        idx = [i for i, r in enumerate(records) if r["natoms"] == n]
        G = np.array([records[i]["G_thesis"] for i in idx])
        rho, a0 = records[idx[0]]["rho"], records[idx[0]]["a0"]
        omega0 = float(np.sqrt(G.mean() / rho) / a0)
        lines = []
        for s in shells:
            ms = [m for i in idx for m in measures[i] if m.shell == s]
            if ms:
                lines.append(fit_line(ms, min_modes))
        # reduced copies for the fit across sizes (omega0 differs slightly between N)
        in_fit = []
        for l in lines:
            if l.resolved and l.omega_center / omega0 <= fit_max:
                fit_lines.append(SpectralLine(**{**vars(l), "omega_center": l.omega_center / omega0,
                                                 "gamma": l.gamma / omega0}))
                in_fit.append([[m for m in measures[i] if m.shell == l.shell][0] for i in idx])
        # omega0 of a resample: sqrt(<G>/rho)/a0 with the resample's <G> (rho, a0 fixed per N)
        boot_groups.append((lambda pick, G=G, rho=rho, a0=a0: np.sqrt(G[pick].mean() / rho) / a0, in_fit))
        size = {"natoms": n, "samples": len(idx), "omega0": omega0, "G_mean": float(G.mean()), "rho": rho, "a0": a0,
                "lines": [vars(l) for l in lines], "rayleigh": rayleigh_analysis(lines, d, omega0=omega0)}
        if len(idx) >= 3:
            size["gamma"] = disorder_parameter(G, natoms=n)
        sizes.append(size)
    fit = rayleigh_analysis(fit_lines, d)
    if n_boot and len(fit_lines) >= 2:
        bl = bootstrap_lines(boot_groups, n_boot, seed=seed)
        lo, hi = np.log(bl[:, :, 0]), np.log(bl[:, :, 1])
        slopes = np.array([np.polyfit(lo[b], hi[b], 1)[0] for b in range(bl.shape[0])])
        amps = np.median(bl[:, :, 1] / bl[:, :, 0] ** (d + 1), axis=1)
        fit["bootstrap"] = {"resamples": int(n_boot), "confidence": 0.95, "over": "samples within each N",
                            "slope_ci": np.percentile(slopes, [2.5, 97.5]).tolist(),
                            "amplitude_ci": np.percentile(amps, [2.5, 97.5]).tolist(),
                            "gamma_ci": np.percentile(bl[:, :, 1], [2.5, 97.5], axis=0).T.tolist()}
    out = {"dimension": d, "sizes": sizes, "fit_max": fit_max, "rayleigh_fit": fit, "min_modes": min_modes,
           "fit_lines": [vars(l) for l in fit_lines]}
    if d == 2:
        out["thesis"] = {"c_Gamma": 3.77, "relation": "(Gamma/omega0)/(omega/omega0)^3 = c_Gamma gamma "
                         "(Kapteijns, PhD thesis, Eq. 5.8 and Fig. 5.3b; gamma of the same samples here)",
                         "predicted": {str(s["natoms"]): 3.77 * s["gamma"]["gamma"] for s in sizes if "gamma" in s},
                         "predicted_interval": {str(s["natoms"]): [3.77 * g for g in s["gamma"]["gamma_ci"]]
                                                for s in sizes if "gamma" in s},
                         "other_reading": "(Gamma/omega0)/(omega/omega0)^3 = gamma / c_Gamma (if the figure's "
                                          "'scaled by c_Gamma' multiplies the rate)",
                         "predicted_other_reading": {str(s["natoms"]): s["gamma"]["gamma"] / 3.77
                                                     for s in sizes if "gamma" in s}}
    return out


def label_reduced_axes(ax) -> None:
    """Axis labels of Gamma(omega) plots in the thesis' reduced units (shared with `glassmodes elastic --lines`)."""
    ax.set_xlabel("omega / omega0   (omega0 = c_s / a0)")
    ax.set_ylabel("Gamma / omega0   (energy decay rate)")


def plot(out: dict, folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    d = out["dimension"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    allx = []
    for j, s in enumerate(out["sizes"]):
        om = np.array([l["omega_center"] for l in s["lines"]]) / s["omega0"]
        ga = np.array([l["gamma"] for l in s["lines"]]) / s["omega0"]
        ok = np.array([l["resolved"] for l in s["lines"]], dtype=bool)
        allx.extend(om)
        ax.loglog(om[ok], ga[ok], "o", color=f"C{j}", label=f"N = {s['natoms']}, {s['samples']} samples")
        if (~ok).any():                     # no legend entry for markers that are not drawn
            ax.loglog(om[~ok], ga[~ok], "x", color=f"C{j}",
                      label=f"N = {s['natoms']}: < {out['min_modes']:g} modes in line")
    x = np.geomspace(min(allx) / 1.3, max(allx) * 1.3, 60)
    ax.loglog(x, x / np.pi, ":", color="gray", label="Ioffe-Regel: pi Gamma = omega")
    fit = out["rayleigh_fit"]
    if fit["amplitude"] is not None:
        ax.loglog(x, fit["amplitude"] * x ** (d + 1), "k--", lw=0.8,
                  label=f"omega^{d + 1} guide, amplitude {fit['amplitude']:.3g}")
    if out["fit_max"] > x[0]:
        ax.axvspan(x[0], min(out["fit_max"], x[-1]), color="C7", alpha=0.1,
                   label=f"fit range omega/omega0 <= {out['fit_max']:g}")
    pred = out.get("thesis", {}).get("predicted", {})
    if pred:                                # the size whose gamma has the most samples
        n = str(max((s for s in out["sizes"] if "gamma" in s), key=lambda s: s["samples"])["natoms"])
        g = pred[n] / 3.77
        ax.loglog(x, 3.77 * g * x ** (d + 1), "-", color="C3", lw=0.7, label=f"3.77 gamma omega^{d + 1}, gamma(N={n}) = {g:.3g}")
        ax.loglog(x, g / 3.77 * x ** (d + 1), "-.", color="C4", lw=0.7,
                  label=f"gamma/3.77 omega^{d + 1} (other reading)")
    bs = fit.get("bootstrap")
    if bs:                                  # 95 % intervals of the lines in the fit
        fl = out["fit_lines"]
        fo = np.array([l["omega_center"] for l in fl])
        fg = np.array([l["gamma"] for l in fl])
        ci = np.array(bs["gamma_ci"])
        ax.errorbar(fo, fg, yerr=[fg - ci[:, 0], ci[:, 1] - fg], fmt="none", ecolor="k", elinewidth=0.8, capsize=2,
                    label="95 % interval (bootstrap over samples)")
    title = f"slope {fit['slope']:.2f} over {fit['n_resolved']} lines" if fit["slope"] is not None else \
        f"{fit['n_resolved']} resolved line(s) in the fit range"
    if bs and fit["slope"] is not None:
        title += " [{:.2f}, {:.2f}] (95 %); omega/omega0 in [{:.3g}, {:.3g}]".format(*bs["slope_ci"], *fit["range"])
    ax.set_title(title, fontsize=9)
    from matplotlib.ticker import NullFormatter

    if x[-1] / x[0] >= 10:                  # a labelled decade remains; minor labels would collide
        ax.xaxis.set_minor_formatter(NullFormatter())
    label_reduced_axes(ax)
    ax.legend(fontsize=6)
    fig.tight_layout()
    path = folder / "attenuation_lanczos.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run(args) -> int:
    from glassmodes.io.atomic import atomic_output

    if any(s < 1 for s in args.shells):
        raise ValueError(f"--shells must be positive integers |n|^2, got {args.shells}")
    if args.steps < 10:
        raise ValueError(f"--steps must be at least 10, got {args.steps}")
    if not args.fit_max > 0:
        raise ValueError(f"--fit-max must be positive, got {args.fit_max}")
    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    records, measures = [], []
    for src in args.sources:
        rec, ms, _ = sample_measures(src, args.shells, args.steps, args.max_force)
        records.append(rec)
        measures.append(ms)
        print(f"{src}: N = {rec['natoms']}, G_thesis = {rec['G_thesis']:.5g}, c_T = {rec['c_t']:.4g}", flush=True)
    out = {"format": "glassmodes-attenuation", "format_version": 1, "units": records[0]["units"],
           "convention": "Gamma = FWHM in omega of the ensemble-averaged line = energy decay rate; omega, Gamma in "
                         "rad/time of the unit style; reduced by omega0 = c_s/a0",
           "shells": args.shells, "steps": args.steps, "samples": records,
           **pooled_analysis(records, measures, args.shells, args.min_modes, args.fit_max, n_boot=args.bootstrap)}
    with atomic_output(args.output) as t:
        Path(t).write_text(json.dumps(out, indent=1))
    for s in out["sizes"]:
        for l in s["lines"]:
            w0 = s["omega0"]
            print(f"N = {s['natoms']} shell {l['shell']}: omega/omega0 = {l['omega_center'] / w0:.4f}, "
                  f"Gamma/omega0 = {l['gamma'] / w0:.4g}, {l['n_line']:.1f} modes in line"
                  + ("" if l["resolved"] else " (unresolved)"))
        if "gamma" in s:
            g = s["gamma"]
            print(f"N = {s['natoms']}: gamma = {g['gamma']:.4g} [{g['gamma_ci'][0]:.4g}, {g['gamma_ci'][1]:.4g}]")
    f = out["rayleigh_fit"]
    ci = f.get("bootstrap")
    print(f"Rayleigh fit (omega/omega0 <= {args.fit_max:g}, {f['n_resolved']} resolved lines): slope "
          + (f"{f['slope']:.3f}" if f["slope"] is not None else "n/a")
          + (" [{:.3f}, {:.3f}]".format(*ci["slope_ci"]) if ci else "") + ", amplitude "
          + (f"{f['amplitude']:.4g}" if f["amplitude"] is not None else "n/a")
          + (" [{:.4g}, {:.4g}]".format(*ci["amplitude_ci"]) if ci else "")
          + (" (95 %, bootstrap over samples)" if ci else "") + f" -> {args.output}")
    if args.plot:
        print(f"plot -> {plot(out, Path(args.plot))}")
    return 0
