"""Fits, bootstrap errors and figures of bench/nonlinear_thesis_scalings.py (the ``analyze`` step).

Per system size N (2D, density 0.86, L = sqrt(N / 0.86)):

* energetic convergence y_E = (omega4^2 - omega2^2)/omega4^2 and structural convergence
  y_S = 1 - |pi4 . psi| against omega4 (thesis Eqs. 3.15, 3.16): least-squares line of log y on
  log omega4 over the glasses whose omega4 lies below ``FIT_FRACTION`` x omega_ph(L), the first
  (transverse) phonon frequency 2 pi c_T / L with c_T = sqrt(G/rho), G = 15.8 and rho = 0.86 (thesis
  Table 3.2, the high-parent-temperature modulus of the 2D IPL model: our glasses are instantaneous
  quenches from T = 2.0); the prefactors f = median(y_E / omega4^2) and g = median(y_S / omega4^4)
  over the same glasses; their ratio between the sizes against the thesis' (L ratio)^2 and ^4
  (Eqs. 3.20, 3.25);
* omega3 > omega4: fraction, and omega3^2/omega4^2 - 1 (median, quartiles);
* tau3^2 against kappa3 chi3 (thesis Fig. 3.9(d)): slope of log tau3^2 on log(kappa3 chi3), median
  ratio; the same for the quartic modes (Fig. 3.9(e): they do not follow it);
* PHM against psi (thesis ch. 4): 1 - |pi_phm . psi| and (omega_phm^2 - omega2^2)/omega_phm^2 against
  omega_phm, slopes over the same fit range.

Errors: percentile bootstrap over glasses (95 %), ``--boot`` resamples, fixed generator seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

G_THESIS, RHO = 15.8, 0.86            # thesis Table 3.2 (2D IPL)
FIT_FRACTION = 0.6                     # fit range: omega4 < FIT_FRACTION * omega_ph(L)
FIT_FRACTIONS = (0.6, 1.0)             # reported: the primary range and a wider one (sensitivity)
CI = (2.5, 97.5)


def omega_ph(n: int) -> float:
    """First transverse phonon frequency 2 pi sqrt(G/rho) / L of a 2D box of N particles."""
    return 2 * np.pi * np.sqrt(G_THESIS / RHO) / np.sqrt(n / RHO)


def arrays(rows: list[dict]) -> dict:
    """Per-glass quantities, ndarrays of shape (glasses,)."""
    g = {k: np.array([r[k] for r in rows], dtype=float) for k in (
        "kappa_psi", "kappa4", "kappa3", "kappa_phm", "tau3", "chi3", "tau4", "chi4", "overlap_4_psi",
        "overlap_phm_psi", "Ne4", "Ne3", "Ne_psi")}
    g["converged"] = np.array([r["converged"] for r in rows], dtype=bool)
    g["omega4"] = np.sqrt(g["kappa4"])
    g["omega_phm"] = np.sqrt(g["kappa_phm"])
    g["yE"] = (g["kappa4"] - g["kappa_psi"]) / g["kappa4"]
    g["yS"] = 1 - g["overlap_4_psi"]
    g["yE_phm"] = (g["kappa_phm"] - g["kappa_psi"]) / g["kappa_phm"]
    g["yS_phm"] = 1 - g["overlap_phm_psi"]
    return g


def _slope(x, y):
    lx, ly = np.log(x), np.log(y)
    return np.polyfit(lx, ly, 1)          # slope, intercept


def _boot(fn, n: int, boot: int, rng) -> np.ndarray:
    out = []
    for _ in range(boot):
        idx = rng.integers(0, n, n)
        try:
            out.append(fn(idx))
        except (ValueError, np.linalg.LinAlgError, TypeError):
            continue
    return np.array(out)


def _ci(values) -> list:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return [float(x) for x in np.percentile(v, CI)] if v.size else [float("nan")] * 2


def power_fit(x, y, boot: int, rng, fixed: float | None = None) -> dict:
    """Slope of log y on log x with bootstrap CI; with ``fixed`` also the prefactor median(y / x^fixed)."""
    ok = (x > 0) & (y > 0)
    x, y = x[ok], y[ok]
    n = x.size
    out = {"glasses": int(n)}
    if n < 3:
        out["slope"] = float("nan")
        return out
    s, c = _slope(x, y)
    bs = _boot(lambda i: _slope(x[i], y[i])[0], n, boot, rng)
    out.update(slope=float(s), intercept=float(c), slope_ci95=_ci(bs), x_range=[float(x.min()), float(x.max())])
    if fixed is not None:
        pre = lambda i: float(np.median(y[i] / x[i] ** fixed))     # noqa: E731
        out["fixed_slope"] = fixed
        out["prefactor"] = pre(np.arange(n))
        out["prefactor_boot"] = _boot(pre, n, boot, rng)
        out["prefactor_ci95"] = _ci(out["prefactor_boot"])
    return out


def analyze(by_n: dict, a) -> dict:
    rng = np.random.default_rng(20261203)
    res = {"model": "thesis-ipl10-2d, instantaneous quench from T = 2.0 (glassmodes prepare --set T_liquid=2.0 "
                    "--set rate=0)",
           "units": "LJ (eps, sigma, m = 1); omega in sqrt(eps/(m sigma^2)), kappa = omega^2",
           "fit_range": f"omega4 < {FIT_FRACTION} omega_ph(L), omega_ph = 2 pi sqrt(G/rho)/L, G = {G_THESIS}, "
                        f"rho = {RHO} (thesis Table 3.2)",
           "bootstrap": {"resamples": a.boot, "ci": "95 % percentile", "seed": 20261203},
           "sizes": {}}
    data = {}
    for n in sorted(by_n):
        g = arrays(by_n[n])
        data[n] = g
        wph = omega_ph(n)
        conv = g["converged"]
        fits = {}
        for frac in FIT_FRACTIONS:
            sel = conv & (g["omega4"] < frac * wph)
            fits[f"{frac:g}"] = {
                "fit_glasses": int(sel.sum()), "omega4_max": float(frac * wph),
                "energetic": power_fit(g["omega4"][sel], g["yE"][sel], a.boot, rng, fixed=2.0),
                "structural": power_fit(g["omega4"][sel], g["yS"][sel], a.boot, rng, fixed=4.0)}
        k3, k4 = g["kappa3"][conv], g["kappa4"][conv]
        rel = k3 / k4 - 1
        tt = g["tau3"][conv] ** 2
        kc = (g["kappa3"] * g["chi3"])[conv]
        tt4 = g["tau4"][conv] ** 2
        kc4 = (g["kappa4"] * g["chi4"])[conv]
        params = {r.get("parameters", {}).get("t_equil", "100") for r in by_n[n]}
        e_is = np.array([r["E_per_particle"] for r in by_n[n]])
        res["sizes"][str(n)] = {
            "glasses": int(len(g["kappa4"])), "converged": int(conv.sum()),
            "L": float(np.sqrt(n / RHO)), "omega_ph": wph, "t_equil": sorted(params),
            "E_IS_per_particle_mean_sem": [float(np.mean(e_is)), float(np.std(e_is, ddof=1) / np.sqrt(e_is.size))]
            if e_is.size > 1 else [float(e_is.mean()), float("nan")],
            "omega_psi_median": float(np.median(np.sqrt(g["kappa_psi"]))),
            "fraction_psi_below_omega_ph": float(np.mean(np.sqrt(g["kappa_psi"]) < wph)),
            "fits": fits,
            "energetic_all": power_fit(g["omega4"][conv], g["yE"][conv], a.boot, rng),
            "structural_all": power_fit(g["omega4"][conv], g["yS"][conv], a.boot, rng),
            "cubic_vs_quartic": {
                "fraction_omega3_gt_omega4": float(np.mean(k3 > k4)), "count_omega3_le_omega4": int(np.sum(k3 <= k4)),
                "median_omega3sq_over_omega4sq_minus_1": float(np.median(rel)),
                "quartiles": [float(np.percentile(rel, 25)), float(np.percentile(rel, 75))],
                "median_ci95": _ci(_boot(lambda i: float(np.median(rel[i])), rel.size, a.boot, rng)),
            },
            "tau3sq_vs_kappa3chi3": {
                **{k: v for k, v in power_fit(kc, tt, a.boot, rng).items()},
                "median_ratio": float(np.median(tt / kc)),
                "ratio_quartiles": [float(np.percentile(tt / kc, 25)), float(np.percentile(tt / kc, 75))],
                "fraction_tau3sq_gt_3_kappa3chi3": float(np.mean(tt > 3 * kc)),
            },
            "tau4sq_vs_kappa4chi4": {
                **{k: v for k, v in power_fit(kc4, tt4, a.boot, rng).items()},
                "median_ratio": float(np.median(tt4 / kc4)),
                "ratio_quartiles": [float(np.percentile(tt4 / kc4, 25)), float(np.percentile(tt4 / kc4, 75))],
            },
            "phm_vs_psi": {
                "fits": {f"{frac:g}": {
                    "fit_glasses": int(sel.sum()),
                    "structural": power_fit(g["omega_phm"][sel], g["yS_phm"][sel], a.boot, rng),
                    "energetic": power_fit(g["omega_phm"][sel], g["yE_phm"][sel], a.boot, rng)}
                    for frac in FIT_FRACTIONS for sel in [conv & (g["omega_phm"] < frac * wph)]},
                "median_1_minus_overlap_lowest_quartile": _quartile_median(g["omega_phm"][conv], g["yS_phm"][conv], 0),
                "median_1_minus_overlap_highest_quartile": _quartile_median(g["omega_phm"][conv], g["yS_phm"][conv], 3),
            },
            "cpu_seconds_per_glass_median": float(np.median([sum(r["cpu_s"].values()) for r in by_n[n]])),
        }
    sizes = sorted(data)
    if len(sizes) >= 2:
        n1, n2 = sizes[0], sizes[-1]
        s1, s2 = res["sizes"][str(n1)], res["sizes"][str(n2)]
        lr = np.sqrt(n2 / n1)
        res["size_ratio"] = {}
        for frac in FIT_FRACTIONS:
            comp = {"sizes": [n1, n2], "L_ratio": float(lr)}
            f1, f2 = s1["fits"][f"{frac:g}"], s2["fits"][f"{frac:g}"]
            for key, power, name in (("energetic", 2, "f"), ("structural", 4, "g")):
                b1, b2 = f1[key].get("prefactor_boot"), f2[key].get("prefactor_boot")
                if b1 is None or b2 is None or not len(b1) or not len(b2):
                    continue
                m = min(len(b1), len(b2))
                comp[f"{name}_ratio"] = f2[key]["prefactor"] / f1[key]["prefactor"]
                comp[f"{name}_ratio_ci95"] = _ci(np.asarray(b2[:m]) / np.asarray(b1[:m]))
                comp[f"{name}_ratio_thesis"] = float(lr ** power)
            res["size_ratio"][f"{frac:g}"] = comp
    for s in res["sizes"].values():
        for blk in s["fits"].values():
            for key in ("energetic", "structural"):
                blk[key].pop("prefactor_boot", None)
                _needed(blk[key], s["glasses"], blk["fit_glasses"], 0.5 if key == "energetic" else 0.8)
    text = json.dumps(res, indent=1)
    print(text)
    if a.json:
        from glassmodes.io.atomic import atomic_output
        with atomic_output(a.json, suffix=".json") as tmp:
            Path(tmp).write_text(text + "\n")
    if a.plots:
        plots(data, res, Path(a.plots))
    return res


def _needed(fit: dict, glasses: int, in_range: int, halfwidth: float) -> None:
    """Glasses (in all) for a 95 % slope CI of +-``halfwidth``, assuming the CI shrinks as 1/sqrt(n)."""
    ci = fit.get("slope_ci95")
    if not ci or not in_range or not np.all(np.isfinite(ci)):
        return
    have = (ci[1] - ci[0]) / 2
    n_fit = in_range * (have / halfwidth) ** 2
    fit["glasses_needed_for_slope_ci"] = {"halfwidth": halfwidth,
                                          "in_fit_range": int(np.ceil(n_fit)),
                                          "in_all": int(np.ceil(n_fit * glasses / in_range))}


def _quartile_median(x, y, q: int) -> float:
    lo, hi = np.percentile(x, [25 * q, 25 * (q + 1)])
    sel = (x >= lo) & (x <= hi)
    return float(np.median(y[sel]))


def running_median(x, y, per_bin: int = 10):
    order = np.argsort(x)
    x, y = x[order], y[order]
    k = max(1, x.size // per_bin)
    xs = [np.median(c) for c in np.array_split(x, k)]
    ys = [np.median(c) for c in np.array_split(y, k)]
    return np.array(xs), np.array(ys)


def plots(data: dict, res: dict, folder: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glassmodes.io.atomic import atomic_output

    folder.mkdir(parents=True, exist_ok=True)
    colors = {n: c for n, c in zip(sorted(data), ("C0", "C3", "C2", "C1"))}

    def save(fig, name):
        fig.tight_layout()
        with atomic_output(folder / name, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", dpi=120)
        plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, key, power, label in ((axes[0], "yE", 2, r"$(\omega_4^2-\omega_2^2)/\omega_4^2$"),
                                  (axes[1], "yS", 4, r"$1-|\hat\pi_4\cdot\hat\psi|$")):
        fitkey = "energetic" if key == "yE" else "structural"
        for n, g in data.items():
            c = colors[n]
            ok = g["converged"] & (g[key] > 0)
            ax.scatter(g["omega4"][ok], g[key][ok], s=6, color=c, alpha=0.35)
            xm, ym = running_median(g["omega4"][ok], g[key][ok])
            ax.plot(xm, ym, "-", color=c, lw=1.5, label=f"N = {n} running median")
            wph = omega_ph(n)
            for frac, ls in zip(FIT_FRACTIONS, ("--", "-.")):
                fr = res["sizes"][str(n)]["fits"][f"{frac:g}"][fitkey]
                ax.axvline(frac * wph, color=c, ls=":", lw=1, alpha=1.0 if frac == FIT_FRACTION else 0.5)
                if np.isfinite(fr.get("slope", np.nan)):
                    xx = np.linspace(*fr["x_range"], 20)
                    ax.plot(xx, np.exp(fr["intercept"]) * xx ** fr["slope"], ls, color=c, lw=1.2,
                            label=f"N = {n}, omega4 < {frac:g} omega_ph: slope {fr['slope']:.2f} "
                                  f"({fr['glasses']} glasses)")
        xg = np.array([0.35, 0.8])
        ymid = np.nanmedian(np.concatenate([g[key][g[key] > 0] for g in data.values()]))
        ax.plot(xg, ymid * (xg / 0.55) ** power, "k-", lw=0.8, label=f"slope {power} (thesis)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\omega_4$ (LJ units); dotted: fit limits 0.6 and 1.0 $\omega_{ph}(L)$")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("2D IPL, quench from T = 2.0: harmonic mode psi vs quartic mode pi4")
    save(fig, "convergence_psi_pi4.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for n, g in data.items():
        ok = g["converged"]
        rel = g["kappa3"][ok] / g["kappa4"][ok] - 1
        axes[0].hist(rel, bins=20, histtype="step", color=colors[n], label=f"N = {n} ({ok.sum()} glasses)")
        axes[1].scatter(g["kappa3"][ok] * g["chi3"][ok], g["tau3"][ok] ** 2, s=6, color=colors[n], alpha=0.5,
                        label=f"cubic, N = {n}")
        axes[1].scatter(g["kappa4"][ok] * g["chi4"][ok], g["tau4"][ok] ** 2, s=6, marker="x", color=colors[n],
                        alpha=0.3, label=f"quartic, N = {n}")
    axes[0].axvspan(0.2, 0.4, color="0.9", label="0.2 .. 0.4 (acceptance)")
    axes[0].set_xlabel(r"$\omega_3^2/\omega_4^2 - 1$")
    axes[0].set_ylabel("glasses")
    axes[0].legend(fontsize=7, frameon=False)
    lim = np.array([1e-1, 1e3])
    axes[1].plot(lim, lim, "k-", lw=0.8, label=r"$\tau^2 = \kappa\chi$")
    axes[1].plot(lim, 3 * lim, "k:", lw=0.8, label=r"$\tau^2 = 3\kappa\chi$")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel(r"$\kappa\chi$")
    axes[1].set_ylabel(r"$\tau^2$")
    axes[1].legend(fontsize=7, frameon=False)
    save(fig, "cubic_vs_quartic.png")

    if len(data) >= 2:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        for ax, key, power, name in ((axes[0], "energetic", 2, "f(L)"), (axes[1], "structural", 4, "g(L)")):
            for frac, mk in zip(FIT_FRACTIONS, ("o", "s")):
                L, pre, lo, hi = [], [], [], []
                for n in sorted(data):
                    fr = res["sizes"][str(n)]["fits"][f"{frac:g}"][key]
                    if "prefactor" in fr:
                        L.append(np.sqrt(n / RHO))
                        pre.append(fr["prefactor"])
                        lo.append(fr["prefactor"] - fr["prefactor_ci95"][0])
                        hi.append(fr["prefactor_ci95"][1] - fr["prefactor"])
                if L:
                    ax.errorbar(L, pre, yerr=[lo, hi], fmt=mk, capsize=3,
                                label=f"median y/omega4^{power}, omega4 < {frac:g} omega_ph")
                    LL = np.array([min(L), max(L)])
                    ax.plot(LL, pre[0] * (LL / L[0]) ** power, "k--", lw=0.8)
            ax.plot([], [], "k--", lw=0.8, label=f"~ L^{power} (thesis, 2D)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("L (sigma); N = " + ", ".join(str(n) for n in sorted(data)))
            ax.set_ylabel(name)
            ax.legend(fontsize=7, frameon=False)
        save(fig, "prefactors_vs_L.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, key, label in ((axes[0], "yS_phm", r"$1-|\hat\pi_{PHM}\cdot\hat\psi|$"),
                           (axes[1], "yE_phm", r"$(\omega_{PHM}^2-\omega_2^2)/\omega_{PHM}^2$")):
        for n, g in data.items():
            ok = g["converged"] & (g[key] > 0)
            ax.scatter(g["omega_phm"][ok], g[key][ok], s=6, color=colors[n], alpha=0.35)
            xm, ym = running_median(g["omega_phm"][ok], g[key][ok])
            ax.plot(xm, ym, "-", color=colors[n], label=f"N = {n} running median")
            ax.axvline(FIT_FRACTION * omega_ph(n), color=colors[n], ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\omega_{PHM}$ (LJ units)")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("PHM vs the harmonic mode psi")
    save(fig, "phm_vs_psi.png")
