"""Result file, tables (one CSV per plot) and figures of a conductivity sweep.

The result file (format ``glassmodes-conductivity``, version 1, HDF5, written atomically) holds every
array of :class:`glassmodes.transport.qhgk.ConductivitySweep` under its own name, the mode indices,
the class labels and per-class kappa, the ``C(mu, nu)`` / ``D(mu, nu)`` maps of chosen modes, and
attributes with units, conventions, hbar, kB, eta_min and the versions.

Every figure: axes labelled with quantity and units; log axes where the interest is at low omega or
low T; beside each ``NAME.png`` a ``NAME.csv`` with the plotted numbers (first line ``#`` + JSON
metadata).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from glassmodes.io.atomic import atomic_output

FORMAT_NAME = "glassmodes-conductivity"
FORMAT_VERSION = 1
CONVENTIONS = (
    "Gamma_mu = energy-decay rate (FWHM), tau_mu = 1/Gamma_mu; pair kernel tau_munu = g/((w_mu-w_nu)^2+g^2), "
    "g = (Gamma_mu+Gamma_nu)/2; Allen-Feldman: Gamma_mu = eta (HWHM of the pair Lorentzian); "
    "D_munu = ftm2v^2 W_munu tau_munu/(4 d w_mu w_nu); kappa = (1/V) sum_{mu!=nu} C_munu D_munu = (1/d) tr kappa^ab; "
    "C_munu = kB x_mu x_nu (n_nu - n_mu)/(x_mu - x_nu) (quantum), kB (classical); diagonal = |w_mu - w_nu| <= band")


def class_labels(sweep, preset: str = "xiang"):
    """Labels and names of the modes' classes (:mod:`glassmodes.analysis.classify`, four categories for
    ``xiang``; QLM / other for the two-class presets)."""
    from glassmodes.analysis.classify import CATEGORY_NAMES, classify_four, criterion, qlm_mask

    crit = criterion(preset)
    if crit.four_categories:
        c = classify_four(sweep.omega, sweep.participation, crit.pr_threshold, complete_spectrum=True)
        return c.labels, list(CATEGORY_NAMES), crit
    mask = qlm_mask(sweep.omega, sweep.participation, crit.pr_threshold)
    return np.where(mask, 0, 1).astype(np.int8), ["quasi-localized", "other"], crit


def default_map_modes(omega: np.ndarray, pr: np.ndarray) -> np.ndarray:
    """Three modes as in Xiang et al. (2022), Fig. 3: the lowest, the one nearest the median frequency, and the most
    localized (lowest PR) of the top 10 % in frequency. Flux-mode indices."""
    m = omega.size
    top = np.arange(int(0.9 * m), m)
    picks = [0, int(np.argmin(np.abs(omega - np.median(omega)))), int(top[np.argmin(pr[top])])]
    return np.array(sorted(set(picks)), dtype=np.int64)


def write_result(path, sweep, flux, *, labels=None, names=None, preset: str = "", maps=None, extra: dict | None = None):
    """Write the result file (see module docs). ``maps``: ``(modes, temperature, C, D)`` or None."""
    import h5py

    from glassmodes import __version__

    with atomic_output(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            a = f.attrs
            a["format"] = FORMAT_NAME
            a["format_version"] = FORMAT_VERSION
            a["glassmodes_version"] = __version__
            a["units"] = sweep.units
            a["omega_unit"] = sweep.omega_unit
            a["kappa_unit"] = sweep.kappa_unit
            a["diffusivity_unit"] = sweep.diffusivity_unit
            a["heat_capacity_unit"] = "kB"
            a["rate_unit"] = f"1/{sweep.meta.get('time_unit', 'time')}"
            a["limit"] = sweep.limit
            a["kernel"] = sweep.kernel
            a["hbar"] = sweep.hbar
            a["kB"] = sweep.kB
            a["eta_min"] = sweep.eta_min
            a["dimension"] = sweep.dimension
            a["natoms"] = sweep.natoms
            a["volume"] = sweep.volume
            a["conventions"] = CONVENTIONS
            a["linewidths"] = json.dumps(sweep.meta, default=str)
            a["flux_source"] = json.dumps({k: flux.meta.get(k) for k in ("modes_source", "hessian_source", "path")},
                                          default=str)
            a["classification_preset"] = preset
            a["seconds"] = sweep.seconds
            a["extra"] = json.dumps(extra or {}, default=str)
            for name in ("temperature", "kappa", "kappa_modal", "diffusivity", "mode_heat_capacity", "heat_capacity",
                         "bands", "kappa_diagonal", "kappa_modal_diagonal", "gamma", "floored", "omega",
                         "participation"):
                f.create_dataset(name, data=getattr(sweep, name))
            if sweep.kappa_tensor is not None:
                f.create_dataset("kappa_tensor", data=sweep.kappa_tensor)
            if sweep.kappa_si is not None:
                d = f.create_dataset("kappa_si", data=sweep.kappa_si)
                d.attrs["units"] = "W/(m K)"
            f.create_dataset("mode_index", data=flux.mode_index)
            if labels is not None:
                f.create_dataset("class_labels", data=labels)
                f.attrs["class_names"] = json.dumps(list(names))
                f.create_dataset("class_kappa", data=np.stack([sweep.kappa_modal[:, labels == c].sum(axis=1)
                                                               for c in range(len(names))], axis=1))
            if maps is not None:
                modes, T, C, D = maps
                g = f.create_group("maps")
                g.attrs["temperature"] = T
                g.create_dataset("modes", data=modes)
                g.create_dataset("C", data=C).attrs["units"] = "kB"
                g.create_dataset("D", data=D).attrs["units"] = sweep.diffusivity_unit


def _csv(path: Path, meta: dict, names: list[str], columns) -> None:
    table = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    with atomic_output(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write("# " + json.dumps(meta, default=float) + "\n")
            fh.write(",".join(names) + "\n")
            np.savetxt(fh, table, delimiter=",", fmt="%.10g")


def _log(ax, x: bool = True, y: bool = False) -> None:
    """Log axes; the minor tick labels are dropped where the data span more than a decade (they overlap)."""
    from matplotlib.ticker import NullFormatter

    for on, axis, scale, lim in ((x, ax.xaxis, ax.set_xscale, ax.get_xlim), (y, ax.yaxis, ax.set_yscale, ax.get_ylim)):
        if not on:
            continue
        scale("log")
        lo, hi = lim()
        if lo > 0 and hi / lo > 10:
            axis.set_minor_formatter(NullFormatter())


def _save(fig, path: Path) -> None:
    with atomic_output(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=140, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)


def write_plots(out_dir, sweep, *, labels=None, names=None, maps=None, natoms: int | None = None) -> list[Path]:
    """The figures and their CSVs (see module docs); returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    T, w, pr = sweep.temperature, sweep.omega, sweep.participation
    ku, ou, du = sweep.kappa_unit, sweep.omega_unit, sweep.diffusivity_unit
    N = natoms or sweep.natoms
    meta = {"units": sweep.units, "limit": sweep.limit, "kernel": sweep.kernel, "hbar": sweep.hbar,
            "eta_min": sweep.eta_min, "kappa_unit": ku, "omega_unit": ou, "diffusivity_unit": du}
    band = sweep.bands[len(sweep.bands) // 2]

    # kappa(T) with the split and the classes
    fig, ax = plt.subplots(figsize=(5.5, 4.2), constrained_layout=True)
    ax.plot(T, sweep.kappa, "o-", color="black", label="total")
    ax.plot(T, sweep.kappa_diagonal[:, len(sweep.bands) // 2], "s--", label=rf"diagonal, $|\Delta\omega| \leq {band:.3g}$")
    ax.plot(T, sweep.kappa - sweep.kappa_diagonal[:, len(sweep.bands) // 2], "^--", label="off-diagonal")
    cols, nm = [T, sweep.kappa], ["T", "kappa"]
    if sweep.kappa_si is not None:
        cols.append(sweep.kappa_si)
        nm.append("kappa_W_per_mK")
    for b, ws in enumerate(sweep.bands):
        cols.append(sweep.kappa_diagonal[:, b])
        nm.append(f"kappa_diagonal_band_{ws:.4g}")
    if labels is not None:
        for c, name in enumerate(names):
            kc = sweep.kappa_modal[:, labels == c].sum(axis=1)
            cols.append(kc)
            nm.append(f"kappa_{name}")
            if kc.any() and c != 1:
                ax.plot(T, np.abs(kc), ":", label=f"{name} modes")
    _log(ax, x=T.size > 1, y=True)
    ax.set_xlabel("temperature T [temperature units]")
    ax.set_ylabel(rf"thermal conductivity $\kappa$ [{ku}]")
    ax.set_title(f"{sweep.kernel}, {sweep.limit}", fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, out / "kappa_T.png")
    _csv(out / "kappa_T.csv", meta, nm, cols)
    written += [out / "kappa_T.png", out / "kappa_T.csv"]

    # heat capacity
    fig, ax = plt.subplots(figsize=(5.5, 4.2), constrained_layout=True)
    ax.plot(T, sweep.heat_capacity / N, "o-")
    _log(ax, x=T.size > 1, y=T.size > 1)
    ax.set_xlabel("temperature T [temperature units]")
    ax.set_ylabel(r"heat capacity per atom $C(T)/N$ [$k_B$]")
    _save(fig, out / "heat_capacity_T.png")
    _csv(out / "heat_capacity_T.csv", meta, ["T", "C_per_atom_kB", "C_sample_kB"], [T, sweep.heat_capacity / N,
                                                                                    sweep.heat_capacity])
    written += [out / "heat_capacity_T.png", out / "heat_capacity_T.csv"]

    # cumulative kappa
    fig, ax = plt.subplots(figsize=(5.5, 4.2), constrained_layout=True)
    cum = np.cumsum(sweep.kappa_modal, axis=1)
    for t in range(T.size):
        ax.plot(w, cum[t], label=f"T = {T[t]:.4g}")
    _log(ax)
    ax.set_xlabel(rf"angular frequency $\omega$ [{ou}]")
    ax.set_ylabel(rf"cumulative $\kappa_c(\omega)$ [{ku}]")
    if T.size <= 8:
        ax.legend(fontsize=7)
    _save(fig, out / "cumulative_kappa.png")
    _csv(out / "cumulative_kappa.csv", meta, ["omega"] + [f"kappa_c_T_{t:.6g}" for t in T], [w, *cum])
    written += [out / "cumulative_kappa.png", out / "cumulative_kappa.csv"]

    # modal kappa and diffusivity coloured by PR (first temperature)
    for name, values, unit, label in (("modal_kappa", sweep.kappa_modal, ku, r"modal $\kappa(\mu)$"),
                                      ("diffusivity", sweep.diffusivity, du, r"diffusivity $D(\mu)$")):
        fig, ax = plt.subplots(figsize=(5.5, 4.2), constrained_layout=True)
        v = values[0]
        ok = v > 0
        sc = ax.scatter(w[ok], v[ok], c=pr[ok], s=6, cmap="viridis", vmin=0, vmax=1)
        fig.colorbar(sc, ax=ax, label="participation ratio")
        _log(ax, y=True)
        ax.set_xlabel(rf"angular frequency $\omega_\mu$ [{ou}]")
        ax.set_ylabel(f"{label} [{unit}]")
        ax.set_title(f"T = {T[0]:.4g} ({sweep.kernel}, {sweep.limit})", fontsize=9)
        _save(fig, out / f"{name}.png")
        _csv(out / f"{name}.csv", meta, ["omega", "participation_ratio"] + [f"{name}_T_{t:.6g}" for t in T],
             [w, pr, *values])
        written += [out / f"{name}.png", out / f"{name}.csv"]

    # C(mu, nu) and D(mu, nu) maps
    if maps is not None:
        modes, Tm, C, D = maps
        fig, axes = plt.subplots(2, 1, figsize=(5.5, 6.5), constrained_layout=True, sharex=True)
        for r, mu in enumerate(modes):
            lab = rf"$\omega_\mu$ = {w[mu]:.4g}, PR = {pr[mu]:.3g}"
            axes[0].plot(w, C[r], lw=0.8, label=lab)
            axes[1].plot(w, np.where(D[r] > 0, D[r], np.nan), lw=0.8, label=lab)
        axes[0].set_ylabel(r"$C(\mu,\nu)$ [$k_B$]")
        _log(axes[1], y=True)
        axes[1].set_ylabel(rf"$D(\mu,\nu)$ [{du}]")
        axes[1].set_xlabel(rf"angular frequency $\omega_\nu$ [{ou}]")
        axes[0].legend(fontsize=7)
        axes[0].set_title(f"T = {Tm:.4g} ({sweep.limit})", fontsize=9)
        _save(fig, out / "pair_maps.png")
        nm = ["omega_nu"] + [f"C_mode_{mu}" for mu in modes] + [f"D_mode_{mu}" for mu in modes]
        _csv(out / "pair_maps.csv", dict(meta, temperature=Tm), nm, [w, *C, *D])
        written += [out / "pair_maps.png", out / "pair_maps.csv"]
    return written


def summary_line(sweep) -> str:
    """One line: kappa at the first and last temperature, the diagonal share, units."""
    b = len(sweep.bands) // 2
    parts = []
    for t in sorted({0, sweep.temperature.size - 1}):
        k = sweep.kappa[t]
        si = f" ({sweep.kappa_si[t]:.4g} W/m/K)" if sweep.kappa_si is not None else ""
        parts.append(f"T = {sweep.temperature[t]:.4g}: kappa = {k:.4g} {sweep.kappa_unit}{si}, "
                     f"diagonal {100 * sweep.kappa_diagonal[t, b] / k:.0f} % (band {sweep.bands[b]:.3g})")
    floored = int(sweep.floored.max())
    return (f"{sweep.kernel} {sweep.limit}, {sweep.omega.size} modes: " + "; ".join(parts)
            + (f"; {floored} linewidths floored at eta_min = {sweep.eta_min:.3g}" if floored else ""))


def demo_stage(modes_file, hessian, lifetimes, out_dir, temperatures, eta: float | None = None):
    """The conductivity stage of ``glassmodes demo``: flux, kappa(T) from the demo's classical lifetimes.

    Parameters
    ----------
    modes_file, hessian : path
        The demo's mode file (every eigenvector) and Hessian.
    lifetimes : :class:`glassmodes.anharmonic.Lifetimes`
        Its classical three-phonon rates of every mode (scaled with T), or None with ``eta``.
    out_dir : path
        Receives ``conductivity.h5`` and the figures with their CSVs.
    temperatures : sequence of float
    eta : float, optional
        Allen-Feldman width instead of lifetimes.

    Returns
    -------
    (sweep, figures, summary) : ConductivitySweep, list of PNG paths, one-line summary.
    The CLI equivalent: ``glassmodes conductivity MODES HESSIAN --fc3 FC3 --width W --T ... -o
    DIR/conductivity.h5 --plot DIR`` (or ``--eta``).
    """
    from glassmodes.transport.flux import compute_flux
    from glassmodes.transport.qhgk import Linewidths, conductivity, pair_maps

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flux = compute_flux(modes_file, hessian)
    lw = Linewidths.constant(eta, flux.nmodes) if lifetimes is None else Linewidths.from_lifetimes(lifetimes, flux)
    sweep = conductivity(flux, temperatures, lw)
    labels, names, crit = class_labels(sweep, "xiang")
    rows = default_map_modes(flux.omega, flux.participation)
    C, D = pair_maps(flux, rows, float(sweep.temperature[0]), lw, eta_min=sweep.eta_min)
    maps = (rows, float(sweep.temperature[0]), C, D)
    write_result(out / "conductivity.h5", sweep, flux, labels=labels, names=names, preset=crit.name, maps=maps)
    written = write_plots(out, sweep, labels=labels, names=names, maps=maps)
    return sweep, [p for p in written if p.suffix == ".png"], summary_line(sweep)
