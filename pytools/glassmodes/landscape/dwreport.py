"""Stages after the NEB of ``glassmodes double-wells``: splittings again, plots, OVITO files.

``resplit``
    The tunnel splitting of a stored path at another hbar~ or threshold, without a new NEB: the path
    potential V(xi) is rebuilt from the stored images (arc length, energy, slope dV/dxi and the end
    curvatures) exactly as :func:`glassmodes.landscape.tls.analyze_pair` built it, so the same hbar~
    gives the same splitting to round-off (tested).
``save_plots``
    barrier vs asymmetry, the histogram of splittings with the TLS threshold, V(xi) with the two
    lowest levels of the double wells of smallest splitting, and the best overlap with the harmonic
    (and, with ``--cubic``, cubic) modes vs the splitting (the quantities of Khomenko, Reichman and
    Zamponi, arXiv:2012.07998 (2020), Figs. 3-8).
``write_displacement_mode_file``
    r_AB of a pair as a one-"mode" mode file (mass-weighted unit vector, frequency NaN), so that
    ``glassmodes render`` / ``export-mode`` and the OVITO modifier show it like a mode.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from glassmodes.landscape.schrodinger import PathPotential, tunnel_splitting


def _has_path(row: dict) -> bool:
    p = row.get("path", {})
    return bool(p.get("xi")) and bool(p.get("slope")) and bool(row.get("k_ends"))


def path_potential(row: dict) -> PathPotential:
    """V(xi) of a stored result (a row of ``pairs/*.json`` with status ok or 'saddle check failed')."""
    if not _has_path(row):
        raise ValueError(f"no analysed path stored (status {row.get('status')!r})")
    p = row["path"]
    return PathPotential(np.asarray(p["xi"], float), np.asarray(p["energy"], float), np.asarray(p["slope"], float),
                         tuple(float(k) for k in row["k_ends"]))


def resplit(row: dict, hbar: float, E_th: float) -> dict:
    """A copy of ``row`` (and of its segments, recursively) with E, E_dvr, e0, e1, tls at ``hbar``, ``E_th``.

    Rows without an analysed path (not converged, split into segments) keep their status; their
    ``hbar`` and ``E_th`` are updated so the table states what the thresholds were.
    """
    if hbar is None or not hbar > 0:
        raise ValueError("hbar~ (> 0) is required for the tunnel splitting")
    if E_th is None or not E_th > 0:
        raise ValueError("the TLS threshold E_th (> 0, eps) is required")
    out = dict(row, hbar=float(hbar), E_th=float(E_th))
    if _has_path(row):
        sp = tunnel_splitting(path_potential(row), hbar)
        out.update(E=sp.E, E_dvr=sp.E_dvr, e0=sp.e0, e1=sp.e1, tls=sp.is_tls(E_th))
    if row.get("segments"):
        out["segments"] = [resplit(s, hbar, E_th) for s in row["segments"]]
    return out


def flatten(results: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """(name, row) of every pair and every segment of a split path (``name#k``), in table order."""
    out = []
    for name, row in results:
        out.append((name, row))
        out += flatten([(f"{name}#{k}", s) for k, s in enumerate(row.get("segments", []))])
    return out


def _best(row: dict, key: str) -> float:
    v = row.get("overlaps", {}).get("r_AB", {}).get(key)
    return float("nan") if v is None else float(v)


def _major_labels_only(ax) -> None:
    """Minor tick labels off on log axes spanning a decade or more (otherwise they collide)."""
    from matplotlib.ticker import NullFormatter

    for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if lo > 0 and hi / lo >= 10:        # at least one labelled decade tick remains
            axis.set_minor_formatter(NullFormatter())


def save_plots(results: list[tuple[str, dict]], folder, levels: int = 3) -> list[Path]:
    """The four double-well figures (module docs) from ``(name, row)`` results; returns the PNG paths.

    Only rows with status ``ok`` (a checked saddle) enter; each figure names its sample size.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glassmodes.expansion.ensemble import _finish

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ok = [(n, r) for n, r in flatten(results) if r.get("status") == "ok" and r.get("E") is not None]
    n_all = len(flatten(results))
    E = np.array([r["E"] for _, r in ok], float)
    bar = np.array([r["barrier"] for _, r in ok], float)
    asym = np.abs(np.array([r["asymmetry"] for _, r in ok], float))
    tls = np.array([bool(r.get("tls")) for _, r in ok])
    hbars = sorted({r.get("hbar") for _, r in ok})
    eths = sorted({r.get("E_th") for _, r in ok})
    hb = hbars[0] if len(hbars) == 1 else None
    eth = eths[0] if len(eths) == 1 else None
    tag = (f"hbar~ = {hb:g}" if hb is not None else "mixed hbar~") + f", {len(ok)} double wells of {n_all} rows"
    paths = []

    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    if ok:
        pos = asym > 0
        for m, col, lab in ((~tls & pos, "tab:blue", "double wells"), (tls & pos, "tab:red", "TLS")):
            if m.any():
                ax.scatter(asym[m], bar[m], s=14, color=col, label=f"{lab} ({int(m.sum())})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _major_labels_only(ax)
        ax.set_title(tag, fontsize=8)
    paths.append(_finish(fig, ax, r"asymmetry $|E_B - E_A|$ [$\varepsilon$]", r"barrier $V_{\max} - E_A$ [$\varepsilon$]",
                         folder / "dw_barrier_asymmetry.png", "no analysed double well"))

    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    if ok and np.all(E > 0):
        lo, hi = np.log10(E.min()) - 0.1, np.log10(E.max()) + 0.1
        if eth is not None:
            lo, hi = min(lo, np.log10(eth) - 0.3), max(hi, np.log10(eth) + 0.1)
        ax.hist(E, bins=np.logspace(lo, hi, 25), color="tab:blue", alpha=0.8, label=f"splittings ({E.size})")
        if eth is not None:
            ax.axvline(eth, color="tab:red", ls="--", lw=1, label=rf"TLS threshold $E_{{th}}$ = {eth:g}")
        ax.set_xscale("log")
        ax.set_title(tag, fontsize=8)
    paths.append(_finish(fig, ax, r"tunnel splitting $E = \epsilon_1 - \epsilon_0$ [$\varepsilon$]", "double wells",
                         folder / "dw_splittings.png", "no analysed double well"))

    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    order = np.argsort(E) if ok else []
    for rank, i in enumerate(order[:levels]):
        name, row = ok[i]
        pp = path_potential(row)
        x = np.linspace(pp.xi[0], pp.xi[-1], 400)
        label = name.replace(".conf.txt", "").replace(".data", "").replace("__", " -> ")
        line, = ax.plot(x, pp(x), lw=1.2, label=f"{label}: E = {row['E']:.2e}")
        for e in (row.get("e0"), row.get("e1")):
            if e is not None:
                ax.axhline(e, color=line.get_color(), ls=":", lw=0.9)
    if len(order):
        ax.set_title(f"{min(levels, len(order))} smallest splittings; dotted: the two lowest levels", fontsize=8)
    paths.append(_finish(fig, ax, r"mass-weighted arc length $\xi$ [$\sigma\sqrt{m}$]",
                         r"$V(\xi) - E_A$ [$\varepsilon$]", folder / "dw_path_levels.png", "no analysed double well"))

    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    c_h = np.array([_best(r, "best_c") for _, r in ok])
    c_cub = np.array([r.get("overlaps_extra", {}).get("cubic(r_AB)", {}).get("r_AB", {}).get("c", np.nan)
                      for _, r in ok], float)
    drawn = False
    for vals, col, lab in ((c_h, "tab:blue", "best harmonic mode"), (c_cub, "tab:red", r"cubic mode seeded by $r_{AB}$")):
        m = np.isfinite(vals) & (E > 0)
        if m.any():
            ax.scatter(E[m], np.abs(vals[m]), s=14, color=col, label=f"{lab} ({int(m.sum())})")
            drawn = True
    if drawn:
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        if eth is not None:
            ax.axvline(eth, color="grey", ls="--", lw=1)
        ax.set_title(tag, fontsize=8)
    paths.append(_finish(fig, ax, r"tunnel splitting $E$ [$\varepsilon$]", r"overlap $|c|$ with $r_{AB}$",
                         folder / "dw_overlap_splitting.png", "no overlaps stored (run with --modes and/or --cubic)"))
    return paths


def write_displacement_mode_file(path: str | os.PathLike, conf, xa: np.ndarray, xb: np.ndarray,
                                 meta: dict | None = None) -> None:
    """r_AB = x_B - x_A (minimum image) of a pair as a one-"mode" glassmodes mode file (atoms at A, by ID).

    The vector is ``sqrt(m_i) r_AB,i / |M^1/2 r_AB|`` (translations removed), frequency NaN; its
    participation ratio is the one of the displacement. ``conf`` is a
    :class:`glassmodes.landscape.neb.Configuration` of the glass (IDs, types, masses, box).
    """
    from glassmodes.landscape.export import write_field_mode_file

    xa = np.asarray(xa, float).reshape(-1, 3)
    lengths = np.asarray(conf.boxhi, float) - np.asarray(conf.boxlo, float)
    d = np.asarray(xb, float).reshape(-1, 3) - xa
    d -= lengths * np.round(d / lengths)        # minimum image: a particle that crossed the box is not a jump
    d -= d.mean(axis=0)
    if not np.any(d):
        raise ValueError("identical ends: r_AB = 0")
    write_field_mode_file(path, xa, d, conf.ids, conf.types, conf.masses, conf.boxlo, conf.boxhi, (1, 1, 1),
                          backend="double-well", method="r_AB",
                          note="not an eigenvector: the normalized, mass-weighted displacement x_B - x_A of a double "
                               "well (translations removed)",
                          source="glassmodes double-wells: r_AB as a mode-like vector",
                          meta={"double_well": meta or {}})


__all__ = ["path_potential", "resplit", "flatten", "save_plots", "write_displacement_mode_file"]
