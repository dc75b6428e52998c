"""Analyze mode files: participation ratios, QLM classification, vDOS, power-law tail, plots.

Streams over any number of mode files (one sample each) and writes DIR/summary.json,
DIR/vdos.csv (per frequency bin) and, with --plot, PNG figures (PR vs omega, vDOS with an
omega^4 guide and the power-law fit when >= 50 modes are in its window, reduced vDOS with the
Debye level when the sound speeds are known, C(omega)/omega^5; log-log axes).
QLMs are soft and localized: PR < threshold and omega below --qlm-wmax, by default below
omega_QVM (the lowest mode with PR >= threshold); the other PR < threshold modes are reported as
hybridized or high-frequency localized.
"""

from __future__ import annotations

import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("modes", nargs="+", help="mode files (glassmodes modes -o ...)")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--plot", action="store_true", help="write PNG figures")
    parser.add_argument("--bins", type=int, default=60, help="number of frequency bins (default 60)")
    parser.add_argument("--omega-range", type=float, nargs=2, metavar=("LO", "HI"), default=None,
                        help="range of the bins (default: the first file's)")
    parser.add_argument("--linear-bins", action="store_true", help="linear instead of logarithmic bins")
    parser.add_argument("--preset", choices=("xiang", "khomenko", "kumar"), default="xiang",
                        help="QLM criterion: xiang PR<0.2 (Xiang et al. 2022, four categories), "
                             "khomenko PR<0.1 (Khomenko et al. 2020), kumar PR<0.27 (Kumar et al. 2021) "
                             "(default xiang)")
    parser.add_argument("--pr-threshold", type=float, default=None, help="replace the preset's PR threshold")
    parser.add_argument("--qlm-wmax", type=float, default=None,
                        help="QLM frequency bound, e.g. the first phonon band (default: omega_QVM, the lowest "
                             "mode with PR >= the threshold, per sample)")
    parser.add_argument("--fit-range", type=float, nargs=2, metavar=("LO", "HI"), default=None,
                        help="power-law fit window (default: below the first delocalized mode)")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates over samples (default 200)")
    parser.add_argument("--phonon", action="store_true",
                        help="estimate the first transverse phonon band and the sound speeds c_T, c_L from the "
                             "eigenvectors (Debye level of the reduced vDOS)")
    parser.add_argument("--c-t", type=float, default=None,
                        help="transverse sound speed sqrt(G/rho): phonon band at 2 pi c_t / L")
    parser.add_argument("--c-l", type=float, default=None,
                        help="longitudinal sound speed sqrt((K + 4G/3)/rho), with --c-t: Debye level")
    parser.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def run(args) -> int:
    from glassmodes.analysis import ModeStatistics
    from glassmodes.analysis.report import write_summary, write_table

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stats = ModeStatistics(bins=args.bins, omega_range=args.omega_range, log_bins=not args.linear_bins,
                           preset=args.preset, pr_threshold=args.pr_threshold, omega_max_qlm=args.qlm_wmax,
                           fit_range=args.fit_range, confidence=args.confidence, n_bootstrap=args.bootstrap,
                           phonon=args.phonon, c_t=args.c_t, c_l=args.c_l)
    for i, path in enumerate(args.modes):
        stats.compute(path, reset=(i == 0))
        if not args.quiet and (i + 1) % 50 == 0:
            print(f"analyze: {i + 1}/{len(args.modes)} files", file=sys.stderr, flush=True)
    summary = stats.summary()
    summary["files"] = [str(p) for p in args.modes[:1000]]
    written = [write_summary(out / "summary.json", summary), write_table(out / "vdos.csv", stats.table(),
                                                                          units=stats.omega_unit)]
    if args.plot:
        written += stats.save_plots(out)
    pl = summary.get("power_law", {})
    if "beta" in pl:
        beta = (f"beta = {pl['beta']:.3f} [{pl['beta_ci'][0]:.3f}, {pl['beta_ci'][1]:.3f}] from {pl['n']} modes "
                f"of {pl['samples']} sample(s) at {pl['omega_lo']:.4g} < omega <= {pl['omega_hi']:.4g}")
        if not pl["reliable"]:
            beta += f" (too few modes: not drawn, {pl['note']})"
    else:
        beta = "no fit"
    cat = summary["categories"]
    print(f"{summary['samples']} sample(s), {summary['modes_counted']} modes; {summary['qlm_count']} QLMs "
          f"({summary['qlm_criterion']['name']}: {summary['qlm_rule']}); not QLMs: {cat['hybridized']} hybridized, "
          f"{cat['high-frequency localized']} high-frequency localized; power law {beta}")
    for note in stats.notes:
        print(f"note: {note}", file=sys.stderr)
    for p in written:
        print(f"wrote {p}")
    return 0

