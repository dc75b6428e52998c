"""Three-phonon lifetimes of the modes from perturbation theory (Mizuno et al. (2020), Eqs. (10)-(14)).

Examples:
  glassmodes lifetimes modes.h5 glass.fc3 --T 1e-3 --classical --smearing gaussian --width 0.05 -o pt.csv
  glassmodes lifetimes modes.h5 glass.fc3 --T 1e-3 --quantum --hbar 0.03 --adaptive 2 --wmax 2 -o pt.csv
  glassmodes lifetimes modes.h5 glass.fc3 --T 1e-3 --classical --width 0.05 --np 2 -o pt.csv --plot pt.png
MODES: a mode file with every eigenvector (glassmodes modes --backend dense); FC3: write_fc3's
output for the same structure. Gamma is the decay rate of the mode energy (tau = 1/Gamma), the
quantity the MD route measures (glassmodes md-lifetimes). Conventions: docs/lifetimes.md.
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("modes", help="mode file with every eigenvector")
    parser.add_argument("fc3", help="third-order force constants of the same structure (write_fc3)")
    parser.add_argument("--T", type=float, required=True, dest="temperature",
                        help="temperature (LAMMPS temperature units, > 0)")
    lim = parser.add_mutually_exclusive_group(required=True)
    lim.add_argument("--classical", action="store_const", const="classical", dest="limit",
                     help="classical limit (Mizuno et al. (2020), Eq. 13)")
    lim.add_argument("--quantum", action="store_const", const="quantum", dest="limit",
                     help="Bose-Einstein occupations (Mizuno et al. (2020), Eq. 10)")
    parser.add_argument("--hbar", type=float, help="hbar in energy x time units (required for units lj --quantum)")
    parser.add_argument("--kB", type=float, help="Boltzmann constant (default: the unit style's)")
    parser.add_argument("--smearing", choices=("gaussian", "lorentzian"), default="gaussian")
    width = parser.add_mutually_exclusive_group(required=True)
    width.add_argument("--width", type=float, help="fixed smearing width (rad per time unit)")
    width.add_argument("--adaptive", type=float, help="width = this x the local mean level spacing")
    parser.add_argument("--cutoff", type=float, help="window half-width in widths (default 5 gaussian, 50 lorentzian)")
    sel = parser.add_mutually_exclusive_group()
    sel.add_argument("--wmax", type=float, help="only modes with omega <= wmax")
    sel.add_argument("--qlm", type=float, metavar="PR",
                     help="only quasi-localized modes: participation ratio < PR and omega below --qlm-wmax, "
                          "by default below omega_QVM (the lowest mode with PR >= the threshold): soft and "
                          "localized, never the high-frequency localized modes")
    sel.add_argument("--modes-list", help="only these mode indices, comma separated")
    parser.add_argument("--qlm-wmax", type=float, help="upper frequency of QLMs for --qlm (default omega_QVM)")
    parser.add_argument("--float32", action="store_true", help="single-precision products (half memory, faster)")
    parser.add_argument("--block", type=int, default=16, help="pivot modes per stacked product (default 16)")
    parser.add_argument("--chunk", type=int, default=256, help="eigenvector columns per block (default 256)")
    parser.add_argument("--np", type=int, default=1, help="MPI ranks (re-runs itself under mpirun)")
    parser.add_argument("-o", "--output", required=True, help="CSV table to write (one row per mode)")
    parser.add_argument("--plot", help="PNG of tau and Gamma against omega, modes colored by category "
                                       "(quasi-localized, hybridized, high-frequency localized, delocalized)")
    parser.add_argument("--pr-threshold", type=float, default=None,
                        help="PR threshold of the categories in --plot (default: --qlm's, else 0.2)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def run(args) -> int:
    from glassmodes.cli._mpi import relaunch, world_comm

    status = relaunch(args.np)
    if status is not None:
        return status
    import numpy as np

    from glassmodes.anharmonic.lifetimes import Smearing, compute_lifetimes
    from glassmodes.analysis import qlm_bound, qlm_mask
    from glassmodes.anharmonic.report import mode_categories, save_lifetimes_plot, write_lifetimes_csv
    from glassmodes.modes import ModeFile

    comm = world_comm()
    rank = 0 if comm is None else comm.Get_rank()
    with ModeFile(args.modes) as mf:
        omega, pr = mf.frequencies, mf.participation_ratio
    targets = None
    if args.wmax is not None:
        targets = np.flatnonzero((omega > 0) & (omega <= args.wmax))
    elif args.qlm is not None:
        targets = np.flatnonzero(qlm_mask(omega, pr, args.qlm, args.qlm_wmax))
        if rank == 0 and not args.quiet:
            print(f"lifetimes: {targets.size} QLMs: PR < {args.qlm:g} and "
                  f"{qlm_bound(omega, pr, args.qlm, args.qlm_wmax)[1]}", file=sys.stderr, flush=True)
    elif args.modes_list:
        targets = np.array([int(s) for s in args.modes_list.split(",") if s.strip()])
    if targets is not None and targets.size == 0:
        raise ValueError("the mode selection is empty")
    smearing = Smearing(kind=args.smearing, width=args.width, adaptive=args.adaptive, cutoff=args.cutoff)
    progress = None if (args.quiet or rank != 0) else (lambda s: print(s, file=sys.stderr, flush=True))
    res = compute_lifetimes(args.modes, args.fc3, args.temperature, limit=args.limit, smearing=smearing,
                            targets=targets, hbar=args.hbar, kB=args.kB, block=args.block, chunk=args.chunk,
                            dtype=np.float32 if args.float32 else np.float64, comm=comm, progress=progress)
    if rank == 0:
        write_lifetimes_csv(args.output, res)
        if args.plot:
            thr = args.pr_threshold if args.pr_threshold is not None else (args.qlm or 0.2)
            cats = mode_categories(args.modes, thr, args.qlm_wmax)
            save_lifetimes_plot(args.plot, res, categories=cats, pr_threshold=thr)
        if not args.quiet:
            print(f"{res.modes.size} modes, {res.seconds:.1f} s ({res.method}); median tau "
                  f"{np.median(res.tau[np.isfinite(res.tau)]):.4g} {res.rate_unit.split('/')[-1]} -> {args.output}",
                  file=sys.stderr)
    return 0
