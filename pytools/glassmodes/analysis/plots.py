"""Plots of mode statistics (matplotlib); every function takes ``ax=None`` and returns the Axes.

Every axis is labelled with its quantity and units (``omega_unit`` such as "rad/tau").
"""

from __future__ import annotations

import math

import numpy as np

from glassmodes.analysis.classify import CATEGORY_NAMES

_COLORS = ("black", "tab:red", "tab:blue", "tab:green")  # paper 000's Fig. 2 colors per category


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 4.2), constrained_layout=True)
    return ax


def plot_pr_vs_omega(omega, pr, omega_unit: str, pr_threshold: float | None = None, categories=None,
                     omega_qvm: float | None = None, omega_max_qlm: float | None = None, mean=None, ax=None):
    """Participation ratio against angular frequency, log PR axis, threshold as a dashed line."""
    ax = _axes(ax)
    omega, pr = np.asarray(omega), np.asarray(pr)
    if categories is not None and len(categories) == len(omega):
        for c, name in enumerate(CATEGORY_NAMES):
            m = np.asarray(categories) == c
            if m.any():
                ax.scatter(omega[m], pr[m], s=4, color=_COLORS[c], label=name, alpha=0.7, lw=0)
    else:
        ax.scatter(omega, pr, s=4, color="black", alpha=0.7, lw=0)
    if mean is not None:
        x, y = mean
        ok = np.isfinite(y)
        ax.plot(np.asarray(x)[ok], np.asarray(y)[ok], color="tab:orange", lw=1.5, label="bin mean")
    if pr_threshold is not None:
        ax.axhline(pr_threshold, ls="--", color="gray", lw=1, label=f"PR = {pr_threshold:g}")
    if omega_qvm is not None and math.isfinite(omega_qvm):
        ax.axvline(omega_qvm, ls=":", color="black", lw=1, label=r"$\omega_{\rm QVM}$ (mean)")
    if omega_max_qlm is not None:
        ax.axvline(omega_max_qlm, ls="-.", color="gray", lw=1, label=r"QLM $\omega$ limit")
    ax.set_yscale("log")
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel("participation ratio $e$ [dimensionless]")
    ax.legend(fontsize=7, markerscale=3)
    return ax


def _mark(ax, omega_complete, phonon=None):
    if omega_complete is not None and math.isfinite(omega_complete):
        ax.axvline(omega_complete, color="gray", lw=1, ls="--", label="spectrum complete below")
    if phonon is not None and math.isfinite(phonon):
        ax.axvline(phonon, color="tab:purple", lw=1, ls=":", label=r"first phonon band $\omega_{\rm ph}$")


def plot_vdos(vdos, omega_unit: str, fit=None, omega_complete=None, phonon=None, guide: float = 4.0, ax=None):
    """vDOS g(omega) on log-log axes with an omega^guide line through the lowest non-empty bins."""
    ax = _axes(ax)
    x, g = vdos.centers, vdos.g
    ok = g > 0
    ax.loglog(x[ok], g[ok], "o-", ms=3, color="black", lw=1, label=r"$g(\omega)$")
    if ok.any():
        first = np.flatnonzero(ok)[: max(3, ok.sum() // 5)]
        a = np.exp(np.mean(np.log(g[first]) - guide * np.log(x[first])))
        x0, x1 = x[ok].min(), x[ok].max()
        xx = np.array([x0, x0 * (x1 / x0) ** 0.5])  # over the lower half (log) of the range
        ax.loglog(xx, a * xx ** guide, "--", color="gray", lw=1, label=rf"$\propto\omega^{{{guide:g}}}$ guide")
    if fit is not None:
        xx = np.geomspace(max(fit.omega_lo, x[ok].min() if ok.any() else fit.omega_hi / 10), fit.omega_hi, 50)
        ax.loglog(xx, fit.amplitude * xx ** fit.beta, "-", color="tab:red", lw=1.5,
                  label=rf"fit $\beta$ = {fit.beta:.2f} [{fit.beta_ci[0]:.2f}, {fit.beta_ci[1]:.2f}]")
    _mark(ax, omega_complete, phonon)
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel(rf"vDOS $g(\omega)$ [({omega_unit})$^{{-1}}$]")
    ax.legend(fontsize=7)
    return ax


def plot_reduced_vdos(vdos, omega_unit: str, omega_complete=None, phonon=None, ax=None):
    """Reduced vDOS g(omega)/omega^2 (boson peak / Debye level)."""
    ax = _axes(ax)
    x, r = vdos.centers, vdos.reduced
    ok = vdos.g > 0
    ax.plot(x[ok], r[ok], "o-", ms=3, color="black", lw=1)
    _mark(ax, omega_complete, phonon)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel(rf"$g(\omega)/\omega^2$ [({omega_unit})$^{{-3}}$]")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return ax


def plot_cumulative(omega, cumulative, omega_unit: str, omega_complete=None, ax=None):
    """C(omega)/omega^5: a plateau where g ~ omega^4 (thesis 001, Fig. 2.4)."""
    ax = _axes(ax)
    omega, c = np.asarray(omega), np.asarray(cumulative)
    ok = c > 0
    ax.loglog(omega[ok], c[ok] / omega[ok] ** 5, "o-", ms=3, color="black", lw=1)
    _mark(ax, omega_complete)
    ax.set_xlabel(rf"angular frequency $\omega$ [{omega_unit}]")
    ax.set_ylabel(rf"$C(\omega)/\omega^5$ [({omega_unit})$^{{-5}}$]")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return ax
