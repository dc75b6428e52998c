"""Plots of mode statistics (matplotlib); every function takes ``ax=None`` and returns the Axes.

Every axis is labelled with its quantity and units (``omega_unit`` such as "rad/tau").
"""

from __future__ import annotations

import math

import numpy as np

from glassmodes.analysis.classify import (
    CATEGORY_LABELS, DELOCALIZED, HYBRIDIZED, LOCALIZED, QUASI_LOCALIZED,
)

#: One style per category (code in :mod:`glassmodes.analysis.classify`), shared by every figure that
#: colors modes by category (PR vs omega here, lifetimes in :mod:`glassmodes.anharmonic.report`):
#: the QLMs large, red and on top, the extended modes small and grey.
CATEGORY_STYLE = (
    dict(color="tab:red", s=22, zorder=4, alpha=1.0, edgecolor="black", lw=0.4),   # quasi-localized
    dict(color="0.6", s=4, zorder=2, alpha=0.6, lw=0),                               # delocalized
    dict(color="tab:blue", s=7, zorder=3, alpha=0.8, lw=0),                          # hybridized
    dict(color="tab:green", s=7, zorder=3, alpha=0.8, lw=0),                         # high-frequency localized
)
_LEGEND = dict(fontsize=7, markerscale=1.5, framealpha=0.85)


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.8, 4.4), constrained_layout=True)
    return ax


def _title(ax, title):
    if title:
        ax.set_title(title, fontsize=8, loc="left")


def scatter_categories(ax, x, y, categories, counts: bool = True) -> None:
    """Scatter ``(x, y)`` colored by category (:data:`CATEGORY_STYLE`), legend labels with counts."""
    x, y, categories = np.asarray(x), np.asarray(y), np.asarray(categories)
    for c in (DELOCALIZED, HYBRIDIZED, LOCALIZED, QUASI_LOCALIZED):  # QLMs drawn last, on top
        m = categories == c
        label = CATEGORY_LABELS[c] + (f": {int(m.sum())}" if counts else "")
        if m.any():
            ax.scatter(x[m], y[m], label=label, **CATEGORY_STYLE[c])
        elif c == QUASI_LOCALIZED:   # say there is none rather than leave it out
            ax.scatter([], [], label=label, **CATEGORY_STYLE[c])


def plot_pr_vs_omega(omega, pr, omega_unit: str, pr_threshold: float | None = None, categories=None,
                     omega_qvm: float | None = None, omega_max_qlm: float | None = None, mean=None,
                     phonon: float | None = None, title: str | None = None, ax=None):
    """Participation ratio against angular frequency on log-log axes (the QLMs live at low omega).

    Points colored by category (QLMs: :func:`glassmodes.analysis.classify.qlm_mask`), the PR
    threshold dashed, the QLM frequency bound (``omega_max_qlm`` or the mean ``omega_qvm``) and the
    first phonon band dotted, the bin mean of the PR in orange.
    """
    ax = _axes(ax)
    omega, pr = np.asarray(omega), np.asarray(pr)
    keep = omega > 0
    if categories is not None and len(categories) == len(omega):
        scatter_categories(ax, omega[keep], pr[keep], np.asarray(categories)[keep])
    else:
        ax.scatter(omega[keep], pr[keep], s=4, color="black", alpha=0.7, lw=0)
    if mean is not None:   # (centers, mean PR[, counts]): bins with fewer than 5 modes left out
        x, y = np.asarray(mean[0]), np.asarray(mean[1])
        ok = np.isfinite(y) & (np.asarray(mean[2]) >= 5 if len(mean) > 2 else True)
        ax.plot(x[ok], y[ok], color="tab:orange", lw=1.0, zorder=2.5, label="bin mean PR (bins of >= 5 modes)")
    if pr_threshold is not None:
        ax.axhline(pr_threshold, ls="--", color="black", lw=0.8, zorder=1, label=f"PR = {pr_threshold:g}")
    if omega_max_qlm is not None:
        ax.axvline(omega_max_qlm, ls="-.", color="black", lw=0.8, zorder=1,
                   label=rf"QLM bound $\omega$ = {omega_max_qlm:.3g} (given)")
    elif omega_qvm is not None and math.isfinite(omega_qvm):
        ax.axvline(omega_qvm, ls=":", color="black", lw=1, zorder=1,
                   label=rf"QLM bound $\omega_{{\rm QVM}}$ = {omega_qvm:.3g}")
    if phonon is not None and math.isfinite(phonon):
        ax.axvline(phonon, color="tab:purple", lw=1, ls=(0, (1, 2)), zorder=1,
                   label=rf"first phonon band $\omega_{{\rm ph}}$ = {phonon:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel("participation ratio PR [dimensionless]")
    _title(ax, title)
    ax.legend(loc="lower center", **_LEGEND)
    return ax


def _mark(ax, omega_complete, phonon=None):
    if omega_complete is not None and math.isfinite(omega_complete):
        ax.axvline(omega_complete, color="gray", lw=1, ls="--", label="spectrum complete below")
    if phonon is not None and math.isfinite(phonon):
        ax.axvline(phonon, color="tab:purple", lw=1, ls=(0, (1, 2)),
                   label=rf"first phonon band $\omega_{{\rm ph}}$ = {phonon:.3g}")


def plain_log_ticks(axis, dense: bool = False) -> None:
    """Tick labels of a log axis spanning few decades as plain numbers (1, 2, 5, 10, 20, ...; 0.02);
    ``dense`` (an axis of about one decade) labels 2, 3, 4, 6, 8 times the powers of ten too."""
    from matplotlib.ticker import FuncFormatter

    digits = "23468" if dense else "25"
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}".lstrip("0.")[:1] in digits else ""))


def _with_errors(ax, x, y, counts, label) -> None:
    """Points with Poisson error bars (relative error 1/sqrt(count) per bin), clipped above zero."""
    rel = 1.0 / np.sqrt(np.maximum(np.asarray(counts, dtype=float), 1.0))
    lower = np.minimum(y * rel, 0.95 * y)
    ax.errorbar(x, y, yerr=(lower, y * rel), fmt="o-", ms=3, color="black", lw=1, elinewidth=0.7, capsize=0,
                label=label + " (Poisson errors)")


def _note(ax, text: str, y: float = 0.03) -> None:
    ax.text(0.02, y, text, transform=ax.transAxes, fontsize=7, va="bottom", ha="left",
            bbox=dict(boxstyle="round", facecolor="white", edgecolor="0.7", alpha=0.9))


def plot_vdos(vdos, omega_unit: str, fit=None, omega_complete=None, phonon=None, guide: float = 4.0,
              samples: int | None = None, min_fit_modes: int = 50, title: str | None = None, ax=None):
    """vDOS g(omega) on log-log axes with an omega^guide line through the lowest non-empty bins.

    The power-law fit (a :class:`~glassmodes.analysis.vdos.PowerLawFit`) is drawn over its window
    with beta, its interval, the window and the number of modes (and samples) when it holds at
    least ``min_fit_modes`` modes; otherwise a note on the figure says why no fit is drawn.
    """
    ax = _axes(ax)
    x, g = vdos.centers, vdos.g
    ok = g > 0
    _with_errors(ax, x[ok], g[ok], vdos.counts[ok], r"$g(\omega)$ (per mode, $\int g\,d\omega = 1$)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if ok.any():
        first = np.flatnonzero(ok)[: max(3, ok.sum() // 5)]
        a = np.exp(np.mean(np.log(g[first]) - guide * np.log(x[first])))
        x0, x1 = x[ok].min(), x[ok].max()
        xx = np.array([x0, x0 * (x1 / x0) ** 0.3])  # over the lowest 30 % (log) of the range
        ax.loglog(xx, a * xx ** guide, "--", color="gray", lw=1,
                  label=rf"$\propto\omega^{{{guide:g}}}$ guide (not a fit)")
    if fit is not None:
        window = rf"$\omega \leq$ {fit.omega_hi:.3g}" if fit.omega_lo == 0 else \
            rf"{fit.omega_lo:.3g} < $\omega \leq$ {fit.omega_hi:.3g}"
        size = f"{fit.n} modes" + (f", {samples} sample{'s' if samples != 1 else ''}" if samples else "")
        if fit.n >= min_fit_modes:
            xx = np.geomspace(max(fit.omega_lo, x[ok].min() if ok.any() else fit.omega_hi / 10), fit.omega_hi, 50)
            pct = round(100 * fit.confidence)
            ax.loglog(xx, fit.amplitude * xx ** fit.beta, "-", color="tab:red", lw=1.5,
                      label=(rf"ML fit $\beta$ = {fit.beta:.2f} [{fit.beta_ci[0]:.2f}, {fit.beta_ci[1]:.2f}] ({pct}%)"
                             f"\nover {window}: {size}"))
        else:   # said in the legend, as a line without a handle
            ax.plot([], [], " ", label=f"no power-law fit drawn: {size} in the\nwindow {window}, fewer than "
                                       f"{min_fit_modes} (more samples or a larger N needed)")
    _mark(ax, omega_complete, phonon)
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel(rf"vDOS $g(\omega)$ [({omega_unit})$^{{-1}}$]")
    _title(ax, title)
    ax.legend(loc="lower center", **_LEGEND)
    return ax


def plot_reduced_vdos(vdos, omega_unit: str, omega_complete=None, phonon=None, debye: dict | None = None,
                      title: str | None = None, ax=None):
    """Reduced vDOS g(omega)/omega^2 (boson peak) with the Debye level.

    ``debye``: :attr:`glassmodes.analysis.ModeStatistics.debye` (``level``, ``c_t``, ``c_l``,
    ``source``); without it a note says that no Debye level is drawn and why.
    """
    ax = _axes(ax)
    x, r = vdos.centers, vdos.reduced
    ok = vdos.g > 0
    _with_errors(ax, x[ok], r[ok], vdos.counts[ok], r"$g(\omega)/\omega^2$")
    if debye is not None:
        ax.axhline(debye["level"], color="tab:blue", lw=1.2, ls="--",
                   label=(rf"Debye level $3/\omega_D^3$ = {debye['level']:.3g} ($\omega_D$ = {debye['omega_D']:.3g})"
                          f"\nfrom $c_T$ = {debye['c_t']:.3g}, $c_L$ = {debye['c_l']:.3g}"))
        _note(ax, r"$3/\omega_D^3 = (c_L^{-3} + 2 c_T^{-3})/(6\pi^2 n)$, $n = N/V$; $g$ per non-zero mode"
                  "\n" + debye["source"].replace("; ", "\n") + "\naxis from 1% of the Debye level (band edge cut)",
              y=0.03)
    else:
        _note(ax, "no Debye level drawn: sound speeds unknown\n(analyze --phonon, or --c-t and --c-l)", y=0.03)
    _mark(ax, omega_complete, phonon)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if debye is not None:   # the interest is the low-frequency excess over the Debye level
        ax.set_ylim(bottom=0.01 * debye["level"])
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel(rf"reduced vDOS $g(\omega)/\omega^2$ [({omega_unit})$^{{-3}}$]")
    _title(ax, title)
    ax.legend(loc="upper right", **_LEGEND)
    return ax


def plot_cumulative(omega, cumulative, omega_unit: str, omega_complete=None, phonon=None, title: str | None = None,
                    ax=None):
    """C(omega)/omega^5, ``C(omega) = int_0^omega g`` the fraction of modes below omega: a plateau
    (at A/5) where ``g = A omega^4`` (Kapteijns, thesis, Fig. 2.4). With the first phonon band
    known, the axis stops at 4 omega_ph (the plateau is a low-frequency feature)."""
    ax = _axes(ax)
    omega, c = np.asarray(omega), np.asarray(cumulative)
    ok = c > 0
    shown = ok
    if phonon is not None and math.isfinite(phonon) and np.any(ok & (omega <= 4 * phonon)):
        shown = ok & (omega <= 4 * phonon)
    label = r"$C(\omega)/\omega^5$" + (rf" (up to 4$\omega_{{\rm ph}}$)" if shown.sum() < ok.sum() else "")
    ax.loglog(omega[shown], c[shown] / omega[shown] ** 5, "o-", ms=3, color="black", lw=1, label=label)
    _mark(ax, omega_complete, phonon)
    _note(ax, r"$C(\omega) = \int_0^\omega g(\omega')\,d\omega'$: fraction of the non-zero modes below $\omega$"
              "\n" r"plateau $A/5$ where $g = A\,\omega^4$; points at the upper bin edges", y=0.03)
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel(rf"$C(\omega)/\omega^5$ [({omega_unit})$^{{-5}}$]")
    if shown.any() and omega[shown].max() / omega[shown].min() < 100:   # few decades: plain tick labels
        plain_log_ticks(ax.xaxis)
    _title(ax, title)
    ax.legend(loc="upper right", **_LEGEND)
    return ax
