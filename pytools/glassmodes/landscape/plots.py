"""Figures of an event analysis (Mizuno et al. (2020), Figs. 1, 5-9); each function draws on ``ax`` and returns it."""

from __future__ import annotations

import numpy as np

# LAMMPS unit style -> (distance, energy, time) labels
UNIT_LABELS = {
    "lj": ("\u03c3", "\u03b5", "\u03c4"),
    "metal": ("\u00c5", "eV", "ps"),
    "real": ("\u00c5", "kcal/mol", "fs"),
    "si": ("m", "J", "s"),
    "cgs": ("cm", "erg", "s"),
    "electron": ("bohr", "Ha", "fs"),
    "micro": ("\u00b5m", "pg \u00b5m\u00b2/\u00b5s\u00b2", "\u00b5s"),
    "nano": ("nm", "ag nm\u00b2/ns\u00b2", "ns"),
}


def units_of(analysis) -> tuple[str, str, str]:
    return UNIT_LABELS.get(analysis.trajectory.units, ("distance", "energy", "time"))


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 4.2))
    return ax


def plot_dr_series(analysis, ax=None):
    """|Delta r_IS(t)| (Eq. 5) with the threshold and noise floor (Mizuno et al. (2020), Fig. 5)."""
    ax = _ax(ax)
    L, E, T = units_of(analysis)
    t, dr = analysis.times, analysis.dr
    m = np.isfinite(dr)
    floor = 1e-16
    ax.semilogy(t[m], np.maximum(dr[m], floor), ".", ms=2.5, color="0.3",
                label=r"$|\Delta r_{IS}|$ over the lag ending at t")
    ax.axhline(analysis.threshold, color="C3", ls="--", lw=1, label=f"threshold {analysis.threshold:.2g} {L}")
    if analysis.noise_floor > 0:
        ax.axhline(analysis.noise_floor, color="C2", ls=":", lw=1, label=f"quench noise {analysis.noise_floor:.2g} {L}")
    ev = analysis.events
    if ev:
        ax.plot([e.time for e in ev], [e.dr for e in ev], "o", ms=4, mfc="none", color="C3", label=f"{len(ev)} events")
    fl = analysis.flagged_events
    if fl:
        ax.plot([e.time for e in fl], [e.dr for e in fl], "x", ms=5, color="C1", label=f"{len(fl)} flagged")
    ax.set_xlabel(f"time t [{T}]")
    ax.set_ylabel(rf"$|\Delta r_{{IS}}(t)|$ [{L}]")
    ax.legend(fontsize=8, loc="best")
    return ax


def plot_dphi_vs_dr(analysis, ax=None):
    """|Delta Phi_IS| against |Delta r_IS| for each event (Mizuno et al. (2020), Fig. 6a)."""
    ax = _ax(ax)
    L, E, _ = units_of(analysis)
    ev = analysis.events
    if ev:
        ax.loglog([e.dr for e in ev], [max(e.abs_dphi, 1e-300) for e in ev], "o", ms=4, mfc="none")
    ax.set_xlabel(rf"$|\Delta r_{{IS}}|$ [{L}]")
    ax.set_ylabel(rf"$|\Delta \Phi_{{IS}}|$ [{E}]")
    ax.set_title(f"{len(ev)} events", fontsize=9)
    return ax


def plot_nrearr_vs_dr(analysis, ax=None):
    """N_rearr (Eq. 7) against |Delta r_IS| for each event (Mizuno et al. (2020), Fig. 6b)."""
    ax = _ax(ax)
    L, _, _ = units_of(analysis)
    ev = analysis.events
    if ev:
        ax.loglog([e.dr for e in ev], [e.n_rearr for e in ev], "o", ms=4, mfc="none")
    ax.set_xlabel(rf"$|\Delta r_{{IS}}|$ [{L}]")
    ax.set_ylabel(r"$N_{rearr}$ (particles)")
    ax.set_title(f"{len(ev)} events", fontsize=9)
    return ax


def plot_decay(analysis, event, ax=None):
    """|Delta r_IS,i| / |Delta r_IS,1| against r with the far-field fit (Mizuno et al. (2020), Fig. 7b)."""
    ax = _ax(ax)
    L, _, _ = units_of(analysis)
    r, ratio = analysis.decay(event)
    m = (r > 0) & (ratio > 0)
    ax.loglog(r[m], ratio[m], ".", ms=1.5, color="0.6", label="particles")
    fit = event.fit
    if fit.nbins:
        ax.errorbar(fit.r_bins, 10 ** fit.log_ratio, yerr=None, fmt="s", ms=4, color="C0", label="bin geometric means")
    if np.isfinite(fit.a):
        rr = np.array([fit.r_min, fit.r_max])
        ax.loglog(rr, 10 ** (fit.intercept - fit.a * np.log10(rr)), "-", color="C3",
                  label=rf"$r^{{-a}}$, a = {fit.a:.2f} $\pm$ {fit.a_err:.2f}")
    ax.axvspan(fit.r_min, fit.r_max, color="C3", alpha=0.06)
    ax.set_xlabel(f"distance r from the most displaced particle [{L}]")
    ax.set_ylabel(r"$|\Delta r_{IS,i}| / |\Delta r_{IS,1}|$")
    ax.set_title(f"event {event.number}, frame {event.frame}: N_rearr = {event.n_rearr:.0f}", fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    return ax


def plot_far_field_all(analysis, ax=None):
    """Binned far-field profiles of all events, and the distribution of a in the legend."""
    ax = _ax(ax)
    L, _, _ = units_of(analysis)
    a = []
    for e in analysis.events:
        if e.fit.nbins:
            ax.loglog(e.fit.r_bins, 10 ** e.fit.log_ratio, "-", lw=0.7, alpha=0.6)
        if np.isfinite(e.fit.a):
            a.append(e.fit.a)
    rr = np.array([analysis.r_min, analysis.summary()["fit_r_max"]])
    for slope, ls in ((2.0, ":"), (3.0, "--")):
        ax.loglog(rr, 0.3 * (rr / rr[0]) ** -slope, ls, color="k", lw=1, label=f"$r^{{-{slope:.0f}}}$")
    if a:
        ax.set_title(f"{len(a)} events: a median {np.median(a):.2f}, range {min(a):.2f}-{max(a):.2f}", fontsize=9)
    ax.set_xlabel(f"distance r from the most displaced particle [{L}]")
    ax.set_ylabel(r"$\langle |\Delta r_{IS,i}| / |\Delta r_{IS,1}| \rangle_{geo}$")
    ax.legend(fontsize=8)
    return ax


def plot_basin(analysis, axes=None):
    """|r_IS(t) - r_IS(0)| and Phi_IS(t) - Phi_IS(0) (Mizuno et al. (2020), Figs. 8, 9); ``axes``: two Axes."""
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True)
    L, E, T = units_of(analysis)
    t = analysis.times
    axes[0].plot(t, analysis.basin_dr, lw=0.7)
    axes[0].set_ylabel(rf"$|r_{{IS}}(t) - r_{{IS}}(0)|$ [{L}]")
    axes[1].plot(t, analysis.basin_dphi, lw=0.7, color="C1")
    axes[1].set_ylabel(rf"$\Phi_{{IS}}(t) - \Phi_{{IS}}(0)$ [{E}]")
    axes[1].set_xlabel(f"time t [{T}]")
    return axes


def plot_msd(analysis, ax=None):
    """Mean-squared displacement of the MD frames from frame 0 (Mizuno et al. (2020), Fig. 1)."""
    ax = _ax(ax)
    L, _, T = units_of(analysis)
    traj = analysis.trajectory
    t = analysis.times - analysis.times[0]
    msd = traj.md_msd if traj.md_msd is not None else np.full(t.size, np.nan)
    m = (t > 0) & np.isfinite(msd) & (msd > 0)
    ax.loglog(t[m], msd[m], lw=0.8)
    ax.set_xlabel(f"time t [{T}]")
    ax.set_ylabel(rf"MSD $\langle |r_i(t) - r_i(0)|^2 \rangle$ [{L}$^2$]")
    return ax


def plot_overlaps(overlaps, event=None, ax=None):
    """c and a (Khomenko et al. (2020), Eqs. 7-8) of an event against the mode frequencies."""
    ax = _ax(ax)
    ax.plot(overlaps.omega, overlaps.c, "o", ms=3, label="c (3N-dim. scalar product)")
    ax.plot(overlaps.omega, overlaps.a, "s", ms=3, mfc="none", label="a (per-particle magnitudes)")
    ax.set_xlabel(f"mode frequency \u03c9 [{overlaps.omega_unit}]")
    ax.set_ylabel("overlap with the event")
    ax.set_ylim(0, 1.02)
    if event is not None:
        ax.set_title(f"event {event.number} (frame {event.frame}): best c = {overlaps.c[overlaps.best_c]:.2f}, "
                     f"sum c^2 = {overlaps.captured:.2f}", fontsize=9)
    ax.legend(fontsize=8)
    return ax
