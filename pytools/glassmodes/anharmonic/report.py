"""Tables and figures of lifetimes: CSV writers/readers, frequency-bin averages, tau(omega) plots.

Every axis is labelled with its quantity and units. :func:`plot_lifetimes` is the figure of the demo
and of ``glassmodes lifetimes --plot`` (one style for both): lifetime and decay rate on two axes,
modes colored by the categories of :mod:`glassmodes.analysis.classify`.
"""

from __future__ import annotations

import json
import os

import numpy as np

from glassmodes.io.atomic import atomic_output


def bin_average(omega, values, edges, log: bool = True):
    """Mean (geometric for ``log``) of ``values`` in frequency bins, with its standard error.

    Returns ``(centers, mean, err, count)``, each shape=(nbins,); NaN in empty bins. Mizuno et al. (2020)
    averages tau over bins of width 0.5 (Fig. 2).
    """
    omega, values = np.asarray(omega, float), np.asarray(values, float)
    edges = np.asarray(edges, float)
    nb = edges.size - 1
    centers = 0.5 * (edges[1:] + edges[:-1])
    mean = np.full(nb, np.nan)
    err = np.full(nb, np.nan)
    count = np.zeros(nb, dtype=np.int64)
    ok = np.isfinite(values) & (values > 0 if log else True)
    idx = np.digitize(omega, edges) - 1
    for b in range(nb):
        v = values[(idx == b) & ok]
        count[b] = v.size
        if v.size == 0:
            continue
        if log:
            lv = np.log(v)
            mean[b] = np.exp(lv.mean())
            err[b] = mean[b] * (lv.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan)
        else:
            mean[b] = v.mean()
            err[b] = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan
    return centers, mean, err, count


def write_lifetimes_csv(path: str | os.PathLike, res) -> None:
    """One row per mode: index, omega, Gamma (total, split, combine), tau, joint DOS, pair counts.

    The first lines (``#``) give units, temperature, limit, smearing and method as JSON.
    """
    from glassmodes import __version__

    meta = {"quantity": "three-phonon energy decay rates (Mizuno et al. (2020), Eqs. 10, 13)",
            "omega_unit": res.omega_unit, "rate_unit": res.rate_unit, "units": res.units,
            "temperature": res.temperature, "limit": res.limit, "kT": res.kT,
            "hbar": None if not np.isfinite(res.hbar) else res.hbar,
            "smearing": {"kind": res.smearing.kind, "width": res.smearing.width, "adaptive": res.smearing.adaptive,
                         "cutoff_widths": res.smearing.window},
            "method": res.method, "nmodes_total": res.nmodes_total, "seconds": res.seconds,
            "convention": "Gamma = decay rate of the mode energy; tau = 1/Gamma; amplitude decays at Gamma/2",
            "glassmodes_version": __version__}
    cols = res.to_dict()
    names = list(cols)
    table = np.column_stack([np.asarray(cols[n], dtype=float) for n in names])
    with atomic_output(path) as tmp:
        with open(tmp, "w") as f:
            f.write("# " + json.dumps(meta, default=float) + "\n")
            f.write(",".join(names) + "\n")
            np.savetxt(f, table, delimiter=",", fmt="%.10g")


def write_md_lifetimes_csv(path: str | os.PathLike, res, meta: dict | None = None) -> None:
    """One row per mode: index, omega, tau_1e, its error, tau_fit, its error, <E_k>."""
    from glassmodes import __version__

    info = {"quantity": "lifetimes from the mode-energy autocorrelation (Mizuno et al. (2020), Eq. 9): "
                        "C(tau_1e) = 1/e",
            "time_unit": res.time_unit, "blocks": res.nblocks, "duration": res.duration,
            "glassmodes_version": __version__}
    info.update(meta or {})
    K = res.tau_1e.size
    mode = res.mode_index if res.mode_index is not None else np.arange(K)
    omega = res.omega if res.omega is not None else np.full(K, np.nan)
    names = ["mode", "omega", "tau_1e", "tau_1e_err", "tau_fit", "tau_fit_err", "mean_energy"]
    table = np.column_stack([mode, omega, res.tau_1e, res.tau_1e_err, res.tau_fit, res.tau_fit_err,
                             res.mean_energy])
    with atomic_output(path) as tmp:
        with open(tmp, "w") as f:
            f.write("# " + json.dumps(info, default=float) + "\n")
            f.write(",".join(names) + "\n")
            np.savetxt(f, table, delimiter=",", fmt="%.10g")


def read_table(path: str | os.PathLike) -> tuple[dict, dict]:
    """Read a CSV written above: ``(meta, columns)``."""
    with open(path) as f:
        first = f.readline()
        if not first.startswith("# "):
            raise ValueError(f"{path}: not a glassmodes lifetimes table")
        meta = json.loads(first[2:])
        names = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",", ndmin=2)
    return meta, {n: data[:, i] for i, n in enumerate(names)}


def plot_tau_vs_omega(pt=None, md=None, bin_width: float = 0.5, omega_unit: str = "rad/tau",
                      time_unit: str = "tau", ax=None, label_pt: str = "perturbation theory",
                      label_md: str = "MD, C(tau) = 1/e"):
    """Lifetime against frequency, both routes on one log axis (Mizuno et al. (2020), Fig. 2).

    ``pt``: ``(omega, tau)`` or a :class:`~glassmodes.anharmonic.lifetimes.Lifetimes`; ``md``:
    ``(omega, tau[, err])`` or an :class:`~glassmodes.anharmonic.md.MDLifetimes`. Points per
    mode, lines the bin averages (geometric mean in bins of ``bin_width``).
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 4.2), constrained_layout=True)
    series = []
    if pt is not None:
        w, tau = (pt.omega, pt.tau) if hasattr(pt, "tau") else (pt[0], pt[1])
        series.append((np.asarray(w), np.asarray(tau), None, label_pt, "black", "o"))
    if md is not None:
        if hasattr(md, "tau_1e"):
            w, tau, err = md.omega, md.tau_1e, md.tau_1e_err
        else:
            w, tau = md[0], md[1]
            err = md[2] if len(md) > 2 else None
        series.append((np.asarray(w), np.asarray(tau), err, label_md, "tab:red", "s"))
    wmax = max(float(np.nanmax(s[0])) for s in series) if series else 1.0
    edges = np.arange(0.0, wmax + bin_width, bin_width)
    for w, tau, err, label, color, marker in series:
        ok = np.isfinite(tau) & (tau > 0)
        ax.scatter(w[ok], tau[ok], s=5, color=color, alpha=0.35, marker=marker, lw=0)
        c, m, e, n = bin_average(w, tau, edges)
        good = n > 0
        ax.errorbar(c[good], m[good], yerr=e[good], color=color, lw=1.5, marker=marker, ms=3, capsize=2,
                    label=f"{label} (bins of {bin_width:g})")
    ax.set_yscale("log")
    ax.set_xlabel(rf"angular frequency $\omega_k$ [{omega_unit}]")
    ax.set_ylabel(rf"lifetime $\tau_k = 1/\Gamma_k$ [{time_unit}]")
    ax.legend(fontsize=7)
    return ax


def mode_categories(modes_file, pr_threshold: float = 0.2, omega_max: float | None = None) -> np.ndarray:
    """Category code of every mode of a mode file (:func:`glassmodes.analysis.classify_four` with
    the QLM rule of :func:`glassmodes.analysis.qlm_mask`), shape=(nmodes,), int8."""
    from glassmodes.analysis import classify_four
    from glassmodes.modes import ModeFile

    with ModeFile(modes_file) as mf:
        omega, pr = mf.frequencies, mf.participation_ratio
        complete = omega.size + mf.solver.zero_modes.count >= mf.dimension * mf.natoms
    return classify_four(omega, pr, pr_threshold, omega_qvm=omega_max, complete_spectrum=complete).labels


def plot_lifetimes(res, categories=None, pr_threshold: float | None = None, title: str | None = None,
                   bins_per_decade: int = 8, ax=None):
    """Three-phonon lifetimes against frequency on log-log axes, decay rate on the right axis.

    Parameters
    ----------
    res : glassmodes.anharmonic.lifetimes.Lifetimes
        ``omega`` (``omega_unit``), ``tau = 1/Gamma`` (time units of ``rate_unit``).
    categories : ndarray of int, shape=(nmodes,), optional
        Category of every mode of the mode file (:func:`mode_categories`), indexed by ``res.modes``:
        points colored as in the PR vs omega figure (:data:`glassmodes.analysis.plots.CATEGORY_STYLE`).
    pr_threshold : float, optional
        The threshold of the categories, for the legend title.
    bins_per_decade : int
        The black line: geometric mean of tau in logarithmic frequency bins (bins with >= 3 modes).

    Returns the Axes; the right axis (``Gamma_k = 1/tau_k``, ``rate_unit``) is a secondary axis of it.
    """
    from glassmodes.analysis.plots import _LEGEND, plain_log_ticks, scatter_categories

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.8, 5.2), constrained_layout=True)
    omega, tau = np.asarray(res.omega, float), np.asarray(res.tau, float)
    ok = np.isfinite(tau) & (tau > 0) & (omega > 0)
    time_unit = res.rate_unit[2:] if res.rate_unit.startswith("1/") else f"1/({res.rate_unit})"
    if categories is not None:
        cat = np.asarray(categories)[np.asarray(res.modes)]
        scatter_categories(ax, omega[ok], tau[ok], cat[ok])
    else:
        ax.scatter(omega[ok], tau[ok], s=5, color="0.4", lw=0, label=f"modes: {int(ok.sum())}")
    if ok.sum() >= 3:
        lo, hi = np.log10(omega[ok].min()), np.log10(omega[ok].max())
        edges = 10 ** np.linspace(lo, hi + 1e-9, max(2, int(np.ceil((hi - lo) * bins_per_decade)) + 1))
        c, m, _, n = bin_average(omega[ok], tau[ok], edges)
        good = n >= 3
        ax.plot(np.sqrt(edges[:-1] * edges[1:])[good], m[good], "-", color="black", lw=1.2, zorder=5,
                label=f"geometric mean ({bins_per_decade} bins per decade)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(rf"angular frequency $\omega_k$ [{res.omega_unit}]")
    ax.set_ylabel(rf"lifetime $\tau_k = 1/\Gamma_k$ [{time_unit}]")

    def inverse(x):
        with np.errstate(divide="ignore"):
            return 1.0 / np.asarray(x, dtype=float)

    right = ax.secondary_yaxis("right", functions=(inverse, inverse))
    right.set_ylabel(rf"energy decay rate $\Gamma_k$ [{res.rate_unit}]")
    span = tau[ok].max() / tau[ok].min() if ok.any() else np.inf
    if span < 300:   # few decades: plain tick labels on both axes
        plain_log_ticks(ax.yaxis, dense=span < 20)
        plain_log_ticks(right.yaxis, dense=span < 20)
    head = f"{res.limit} three-phonon lifetimes, T = {res.temperature:g}, {res.smearing.describe()}"
    if title:
        head = f"{title}\n{head}"
    ax.set_title(head, fontsize=8, loc="left")
    leg_title = None if pr_threshold is None else f"categories at PR < {pr_threshold:g}"
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, title=leg_title, title_fontsize=7,
              **_LEGEND)   # below the axes: no mode hidden
    return ax


def save_lifetimes_plot(path, res, categories=None, pr_threshold: float | None = None, title: str | None = None):
    """:func:`plot_lifetimes` written to a PNG (dpi 130, as the analysis figures)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    ax = plot_lifetimes(res, categories=categories, pr_threshold=pr_threshold, title=title)
    ax.figure.savefig(path, dpi=130)
    plt.close(ax.figure)
    return path
