"""The output of ``glassmodes events``: tables, summary, figures, mode overlaps and OVITO files.

Files written into the output folder (names fixed, documented in docs/landscape.md):

``events.csv``
    One row per candidate above the threshold (flagged ones with ``flagged = 1`` and the reason):
    ``event, frame, time, lag, dr_IS, dPhi_IS, abs_dPhi_IS, N_rearr, top_id, top_dr, a, a_err,
    fit_r_min, fit_r_max, fit_bins, flagged, reason`` and, when modes are available for the
    event's starting IS, ``modes, n_modes, omega_max, captured_c2, best_c_mode, best_c,
    best_c_omega, best_c_PR, best_a_mode, best_a, best_a_omega, best_a_PR``.
``timeseries.csv``
    ``frame, time, status, dr_IS, dPhi_IS, basin_dr, basin_dPhi, Phi_IS, T_md, Phi_md, msd_md``.
``summary.json``
    Counts, thresholds, noise floor, event rate, medians, the options used.
``*.png``
    ``dr_series``, ``dphi_vs_dr``, ``nrearr_vs_dr``, ``far_field_largest``, ``far_field_all``,
    ``basin``, ``msd``, ``overlaps_event_K``.
``event_K.modes.h5``, ``event_K.xyz``, ``event_K.png``
    The event's field for OVITO (:mod:`glassmodes.landscape.export`); the PNG (``render``) is
    drawn by :func:`glassmodes.ovito.render.render_mode` with arrows on the ``N_rearr`` top movers.
``is_frame_K.modes.h5``
    Modes computed for the IS of frame K (``compute_modes``).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from glassmodes.io.atomic import atomic_output
from glassmodes.landscape.events import EventAnalysis
from glassmodes.landscape.isfile import read_is_trajectory


@dataclass(frozen=True)
class EventReportOptions:
    """Options of :func:`write_event_report` (the ``glassmodes events`` flags)."""

    dt: float | None = None
    dr_min: float = 1e-3
    noise_factor: float = 100.0
    r_min: float = 2.0
    r_max: float | None = None
    nbins: int = 10
    mode_files: tuple = ()
    compute_modes: int = 0
    max_events_modes: int = 20
    export: str = "top"
    render: bool = False
    plots: bool = True
    match_tol: float = 1e-6


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with atomic_output(path, suffix=".csv") as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})


def _finite(o):
    """NaN and infinities as null (strict JSON)."""
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    if isinstance(o, (float, np.floating)):
        return float(o) if np.isfinite(o) else None
    return o


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_event_report(is_file: str | os.PathLike, out: str | os.PathLike,
                       opts: EventReportOptions = EventReportOptions(), progress: Callable[[str], None] | None = None) -> dict:
    """Analyse ``is_file`` and write the report into ``out`` (module docs); returns the summary."""
    from glassmodes.landscape.export import write_event_mode_file, write_event_xyz
    from glassmodes.landscape.overlaps import compute_is_modes, event_overlaps, match_mode_file

    say = progress or (lambda msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    traj = read_is_trajectory(is_file, dt=opts.dt)
    for mf in opts.mode_files:
        if not Path(mf).is_file():
            raise FileNotFoundError(f"{mf}: no such mode file")
    ea = EventAnalysis(dr_min=opts.dr_min, noise_factor=opts.noise_factor, r_min=opts.r_min, r_max=opts.r_max,
                       nbins=opts.nbins).compute(traj, progress=say)
    summary = ea.summary()
    if summary["frames_not_converged"] or summary["frames_failed"]:
        say(f"events: warning: {summary['frames_not_converged']} frame(s) of {is_file} not converged and "
            f"{summary['frames_failed']} failed: changes next to them are flagged, not counted")
    if summary["frames_pending"]:
        say(f"events: {summary['frames_pending']} frame(s) not quenched (stride, or a run in progress): a change "
            "across them is flagged as unresolved unless bisected")

    # -- modes of each event's starting IS ------------------------------------------------------
    overlaps = {}
    used = set()
    counted = sorted(ea.events, key=lambda e: -e.dr)
    for rank_, ev in enumerate(counted):
        before, field = ea.event_field(ev)
        chosen = None
        for mf in opts.mode_files:
            try:
                match_mode_file(mf, before, traj.ids, traj.lengths, traj.periodicity, opts.match_tol)
            except ValueError:
                continue
            chosen = Path(mf)
            used.add(str(mf))
            break
        if chosen is None and opts.compute_modes > 0 and rank_ < opts.max_events_modes:
            chosen = out / f"is_frame_{ev.frame_before}.modes.h5"
            if chosen.is_file():
                try:
                    match_mode_file(chosen, before, traj.ids, traj.lengths, traj.periodicity, opts.match_tol)
                except ValueError:
                    chosen.unlink()
            if not chosen.is_file():
                say(f"event {ev.number}: computing the lowest {opts.compute_modes} modes of the IS of frame "
                    f"{ev.frame_before}")
                compute_is_modes(before, traj.ids, traj.types, traj.boxlo, traj.boxhi, traj.periodicity,
                                 traj.forcefield, chosen, k=opts.compute_modes, units=traj.units)
        if chosen is not None:
            ov = event_overlaps(field, chosen, traj.ids)
            overlaps[ev.number] = ov
            r = ov.row()
            say(f"event {ev.number}: best c = {r['best_c']:.3f} (mode {r['best_c_mode']}, "
                f"omega {r['best_c_omega']:.4g}, PR {r['best_c_PR']:.3g}); best a = {r['best_a']:.3f} (mode {r['best_a_mode']}); "
                f"sum c^2 over {r['n_modes']} modes = {r['captured_c2']:.3f}")
    for mf in opts.mode_files:
        if str(mf) not in used:
            say(f"events: warning: mode file {mf} matches the starting IS of no event (unused)")

    # -- tables ------------------------------------------------------------------------------------
    ev_cols = list(next(iter(ea.all_events)).row().keys()) if ea.all_events else [
        "event", "frame", "time", "lag", "dr_IS", "dPhi_IS", "abs_dPhi_IS", "N_rearr", "top_id", "top_dr", "a",
        "a_err", "fit_r_min", "fit_r_max", "fit_bins", "flagged", "reason"]
    ov_cols = ["modes", "n_modes", "omega_max", "captured_c2", "best_c_mode", "best_c", "best_c_omega", "best_c_PR",
               "best_a_mode", "best_a", "best_a_omega", "best_a_PR"]
    rows = []
    for ev in ea.all_events:
        r = ev.row()
        if ev.number in overlaps:
            r.update(overlaps[ev.number].row())
        rows.append(r)
    _write_csv(out / "events.csv", rows, ev_cols + (ov_cols if overlaps else []))
    nan = np.full(traj.nframes, np.nan)
    t_md, phi_md, msd_md = ((a if a is not None else nan) for a in (traj.md_temperature, traj.md_energy, traj.md_msd))
    ts = [{"frame": k, "time": float(ea.times[k]), "status": int(traj.status[k]), "dr_IS": float(ea.dr[k]),
           "dPhi_IS": float(ea.dphi[k]), "basin_dr": float(ea.basin_dr[k]), "basin_dPhi": float(ea.basin_dphi[k]),
           "Phi_IS": float(traj.energy[k]), "T_md": float(t_md[k]), "Phi_md": float(phi_md[k]),
           "msd_md": float(msd_md[k])} for k in range(traj.nframes)]
    _write_csv(out / "timeseries.csv", ts, list(ts[0].keys()))
    summary.update({"is_file": str(is_file), "options": asdict(opts), "units": traj.units,
                    "events_with_modes": len(overlaps),
                    "best_c_median": float(np.median([o.c[o.best_c] for o in overlaps.values()])) if overlaps else None,
                    "T_md_mean": float(np.nanmean(traj.md_temperature)) if traj.md_temperature is not None
                    and np.any(np.isfinite(traj.md_temperature)) else None})
    with atomic_output(out / "summary.json", suffix=".json") as tmp:
        tmp.write_text(json.dumps(_finite(summary), indent=2, default=_json_default) + "\n")

    # -- OVITO files -----------------------------------------------------------------------------
    exported = counted if opts.export == "all" else (counted[:1] if opts.export == "top" else [])
    for ev in exported:
        before, field = ea.event_field(ev)
        write_event_mode_file(out / f"event_{ev.number}.modes.h5", ev, before, field, traj.ids, traj.types,
                              traj.boxlo, traj.boxhi, traj.periodicity, traj.units, traj.type_masses)
        write_event_xyz(out / f"event_{ev.number}.xyz", ev, before, field, traj.ids, traj.types, traj.boxlo,
                        traj.boxhi, traj.periodicity)
        if opts.render:
            from glassmodes.ovito.render import render_mode  # needs the ovito package

            frac = min(1.0, max(ev.n_rearr, 1.0) / traj.natoms) if np.isfinite(ev.n_rearr) else 0.02
            render_mode(out / f"event_{ev.number}.modes.h5", 0, out / f"event_{ev.number}.png", select=frac)

    # -- figures -----------------------------------------------------------------------------------
    if opts.plots:
        _figures(ea, out, counted, overlaps)
    say(f"events: {summary['events']} event(s), {summary['flagged_events']} flagged; report in {out}")
    return summary


def _figures(ea: EventAnalysis, out: Path, counted, overlaps) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glassmodes.landscape import plots

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=130)
        plt.close(fig)

    for name, fn in (("dr_series", plots.plot_dr_series), ("dphi_vs_dr", plots.plot_dphi_vs_dr),
                     ("nrearr_vs_dr", plots.plot_nrearr_vs_dr), ("far_field_all", plots.plot_far_field_all),
                     ("msd", plots.plot_msd)):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        fn(ea, ax=ax)
        save(fig, name)
    fig, axes = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True)
    plots.plot_basin(ea, axes=axes)
    save(fig, "basin")
    if counted:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        plots.plot_decay(ea, counted[0], ax=ax)
        save(fig, "far_field_largest")
    for ev in counted:
        if ev.number in overlaps:
            fig, ax = plt.subplots(figsize=(6.4, 4.2))
            plots.plot_overlaps(overlaps[ev.number], ev, ax=ax)
            save(fig, f"overlaps_event_{ev.number}")
