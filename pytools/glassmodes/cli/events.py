"""Detect inherent-structure rearrangements in an IS trajectory file and link them to normal modes.

Writes into --out: events.csv (one row per event: |dr_IS|, dPhi_IS, N_rearr, far-field exponent a,
mode overlaps), timeseries.csv (t, |dr_IS|, dPhi_IS, |r_IS(t)-r_IS(0)|, Phi_IS(t)-Phi_IS(0), T(t),
Phi(t), MSD), summary.json (thresholds, noise floor, event rate), figures (PNG), and per event
an OVITO-ready mode-like file event_K.modes.h5 and extended XYZ event_K.xyz (--export), and with
--render a PNG of the event drawn by the OVITO mode renderer.
Definitions and thresholds: docs/landscape.md (Mizuno et al. (2020), Eqs. 5-7; Khomenko et al. (2020), Eqs. 7-8).

Examples:
  glassmodes events IS.h5 --out events/
  glassmodes events IS.h5 --out events/ --compute-modes 60        # modes of each event's starting IS
  glassmodes events IS.h5 --out events/ --modes is_frame_812.modes.h5
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("is_file", help="IS trajectory file from glassmodes is-trajectory")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--dt", type=float, default=None,
                        help="MD time step, only for dumps without ITEM: TIME (time = step * dt)")
    parser.add_argument("--dr-min", type=float, default=1e-3,
                        help="absolute floor of the event threshold on |dr_IS|, distance units (default 1e-3)")
    parser.add_argument("--noise-factor", type=float, default=100.0,
                        help="threshold = max(dr_min, factor * quench noise floor) (default 100)")
    parser.add_argument("--r-min", type=float, default=2.0, help="far-field fit from this distance (default 2.0)")
    parser.add_argument("--r-max", type=float, default=None, help="far-field fit up to (default: half the box)")
    parser.add_argument("--bins", type=int, default=10, help="logarithmic bins of the far-field fit (default 10)")
    parser.add_argument("--modes", nargs="*", default=[],
                        help="mode files; each is used for the events whose starting IS it was computed for")
    parser.add_argument("--compute-modes", type=int, default=0, metavar="K",
                        help="compute the lowest K modes of each event's starting IS (Hessian + sparse solver)")
    parser.add_argument("--max-events-modes", type=int, default=20,
                        help="with --compute-modes: at most this many events (the largest |dr_IS|) (default 20)")
    parser.add_argument("--export", choices=("none", "top", "all"), default="top",
                        help="OVITO files per event: none, the largest event only (default), or all")
    parser.add_argument("--render", action="store_true",
                        help="also render each exported event to event_K.png with OVITO (glassmodes render)")
    parser.add_argument("--no-plots", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args) -> int:
    from glassmodes.landscape.report import EventReportOptions, write_event_report

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    opts = EventReportOptions(dt=args.dt, dr_min=args.dr_min, noise_factor=args.noise_factor, r_min=args.r_min,
                              r_max=args.r_max, nbins=args.bins, mode_files=tuple(args.modes),
                              compute_modes=args.compute_modes, max_events_modes=args.max_events_modes,
                              export=args.export, render=args.render, plots=not args.no_plots)
    summary = write_event_report(args.is_file, args.out, opts, progress=progress)
    print(f"events: {summary['events']} event(s) ({summary['flagged_events']} flagged) in {summary['duration']:.6g} "
          f"time units, rate {summary['rate']:.4g} per time unit; threshold {summary['threshold']:.3g}; "
          f"results in {args.out}")
    return 0
