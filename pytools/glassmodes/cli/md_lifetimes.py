"""Mode lifetimes from MD: energy autocorrelation of compute mode/energy records (Mizuno et al. (2020), Eq. 9).

Examples:
  glassmodes md-lifetimes --write-projection modes.h5 --every 10 -o modes.proj     # for the compute
  lmp -in inputs/md_mode_energies.lmp -var data is.data -var proj modes.proj -var T 1e-3 -var out E1.txt
  glassmodes md-lifetimes E1.txt E2.txt --projection modes.proj --dt 0.005 --max-lag 400 --kT 1e-3 -o md.csv \
      --compare pt.csv --plot tau.png
Each ENERGIES file is one independent run (fix ave/time output of c_ID[*]); tau_k where C_k = 1/e
and from an exponential fit, error bars from blocks of every run. --compare adds perturbation
theory (glassmodes lifetimes -o pt.csv) to the plot.
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("energies", nargs="*", help="fix ave/time files of compute mode/energy (one per run)")
    parser.add_argument("--write-projection", metavar="MODES",
                        help="write the mode-projection file of this mode file to -o and stop")
    parser.add_argument("--every", type=int, default=1, help="with --write-projection: every n-th mode")
    parser.add_argument("--wmax", type=float, help="with --write-projection: modes with omega <= wmax only")
    parser.add_argument("--projection", help="the mode-projection file the runs used (frequencies, indices)")
    parser.add_argument("--dt", type=float, help="MD time step (time units)")
    parser.add_argument("--max-lag", type=float, help="longest lag of the autocorrelation (time units)")
    parser.add_argument("--blocks", type=int, default=4, help="blocks per run for the error bars (default 4)")
    parser.add_argument("--fit-min", type=float, default=0.15, help="lowest C used by the exponential fit")
    parser.add_argument("--kT", type=float,
                        help="equilibrium <E_k> = kT to subtract (recommended; default: each block's own mean, "
                             "which biases tau low by about 2 tau / block length)")
    parser.add_argument("--compare", help="perturbation-theory table (glassmodes lifetimes -o) for the plot")
    parser.add_argument("--bin-width", type=float, default=0.5, help="frequency bins of the plot (default 0.5)")
    parser.add_argument("-o", "--output", required=True, help="CSV table (or the projection file)")
    parser.add_argument("--plot", help="PNG of tau(omega)")


def run(args) -> int:
    import numpy as np

    if args.write_projection:
        from glassmodes.anharmonic.projection import write_mode_projection
        from glassmodes.modes import ModeFile

        with ModeFile(args.write_projection) as mf:
            idx = mf.vector_index
            w = mf.frequencies[idx]
        keep = w > 0
        if args.wmax is not None:
            keep &= w <= args.wmax
        sel = idx[keep]
        sel = sel[::max(1, args.every)]
        if sel.size == 0:
            raise ValueError("no mode selected for the projection file")
        write_mode_projection(args.write_projection, args.output, indices=sel)
        print(f"{sel.size} modes -> {args.output}", file=sys.stderr)
        return 0
    if not args.energies:
        raise ValueError("give the mode-energy files of the runs (or --write-projection)")
    if args.dt is None or args.max_lag is None:
        raise ValueError("--dt and --max-lag are required")
    from glassmodes.anharmonic.md import md_lifetimes
    from glassmodes.anharmonic.report import plot_tau_vs_omega, read_table, write_md_lifetimes_csv

    res = md_lifetimes(args.energies, dt=args.dt, max_lag=args.max_lag, blocks=args.blocks,
                       projection=args.projection, fit_min=args.fit_min, mean=args.kT)
    write_md_lifetimes_csv(args.output, res, {"files": list(args.energies), "dt": args.dt})
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        pt = None
        omega_unit = "rad/time"
        if args.compare:
            meta, cols = read_table(args.compare)
            pt = (cols["omega"], cols["tau"])
            omega_unit = meta.get("omega_unit", omega_unit)
        if res.omega is None:
            raise ValueError("--plot needs --projection (the modes' frequencies)")
        ax = plot_tau_vs_omega(pt=pt, md=res, bin_width=args.bin_width, omega_unit=omega_unit,
                               time_unit=omega_unit.split("/")[-1])
        ax.figure.savefig(args.plot, dpi=150)
    ok = np.isfinite(res.tau_1e)
    print(f"{res.tau_1e.size} modes ({ok.sum()} with C reaching 1/e), {res.nblocks} blocks, "
          f"{res.duration:g} time units -> {args.output}", file=sys.stderr)
    return 0
