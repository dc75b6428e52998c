"""Thermal conductivity of a glass: quasi-harmonic Green-Kubo (QHGK) or its Allen-Feldman limit.

Examples:
  glassmodes conductivity modes.h5 H --eta 0.264 --T 0.03 -o af.h5 --plot af_plots
  glassmodes conductivity modes.h5 H --lifetimes pt.csv --T 0.01 0.02 0.03 -o kappa.h5 --plot plots
  glassmodes conductivity modes.h5 H --lifetimes q1.csv q2.csv --T 0.01 0.02 --quantum --hbar 0.0296 -o q.h5
  glassmodes conductivity modes.h5 H --fc3 is.fc3 --width 0.187 --quantum --hbar 0.0296 --T 0.001 0.003 0.01 -o q.h5
  glassmodes conductivity --flux flux.h5 --eta 0.264 --T 0.03 -o af.h5
MODES: a mode file with every eigenvector (glassmodes modes --backend dense); HESSIAN: the Hessian it was
computed from (the flux matrices need the pair vectors). --save-flux keeps the temperature-independent
flux products for later sweeps (--flux). --lifetimes: glassmodes lifetimes tables of every mode (one
classical table serves every T, Gamma ~ T; quantum tables: one per T). Gamma is the energy-decay rate
(tau = 1/Gamma); --fc3 computes them here once (quantum: exact re-weighting to every T); --eta is the Allen-Feldman width (Gamma_mu = eta for every mode). kappa in kB/(sigma t0)
(lj, 3D) or W/m/K (metal, real). Formulas and conventions: docs/transport.md.
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("modes", nargs="?", help="mode file with every eigenvector")
    parser.add_argument("hessian", nargs="?", help="the Hessian file of the same structure")
    parser.add_argument("--flux", help="read the flux products from this file instead of MODES HESSIAN")
    parser.add_argument("--save-flux", help="write the flux products (W, and S with --tensor) to this HDF5 file")
    width = parser.add_mutually_exclusive_group(required=True)
    width.add_argument("--lifetimes", nargs="+", metavar="CSV",
                       help="glassmodes lifetimes table(s): one classical, or one quantum per temperature")
    width.add_argument("--eta", type=float, help="Allen-Feldman limit: constant width Gamma_mu = eta (rad/time)")
    width.add_argument("--fc3", help="third-order force constants (write_fc3): compute the linewidths here, once "
                                     "(quantum: partner weights re-weighted at every T; classical: Gamma ~ T)")
    parser.add_argument("--width", type=float, help="with --fc3: fixed smearing width (rad/time; Gaussian std)")
    parser.add_argument("--adaptive", type=float, help="with --fc3: smearing = this x the local level spacing")
    parser.add_argument("--smearing", choices=("gaussian", "lorentzian"), default="gaussian", help="with --fc3")
    parser.add_argument("--save-lifetimes", metavar="CSV",
                        help="with --fc3: write the linewidths at the first temperature (glassmodes lifetimes table)")
    parser.add_argument("--T", type=float, nargs="+", required=True, dest="temperatures",
                        help="temperatures (LAMMPS temperature units, > 0)")
    parser.add_argument("--quantum", action="store_true", help="Bose-Einstein heat capacity (needs --hbar in lj)")
    parser.add_argument("--hbar", type=float, help="hbar in energy x time units (lj: required with --quantum; "
                                                   "0.0296 is the argon mapping)")
    parser.add_argument("--kB", type=float, help="Boltzmann constant (default: the unit style's)")
    parser.add_argument("--eta-min", type=float,
                        help="floor of the linewidths (default: the mean level spacing of the modes)")
    parser.add_argument("--bands", type=float, nargs="+",
                        help="|omega_mu - omega_nu| of the diagonal/off-diagonal splits (default 0.5, 1, 2 x 0.264 "
                             "in lj, the paper's f_s = 0.042 t0^-1)")
    parser.add_argument("--rc", type=float, help="interaction range (default: the Hessian sidecar's pair cutoff)")
    parser.add_argument("--tensor", action="store_true", help="keep the full S^a: the kappa^ab tensor")
    parser.add_argument("--float32", action="store_true", help="single-precision eigenvectors and products")
    parser.add_argument("--block", type=int, default=256, help="modes per block (default 256)")
    parser.add_argument("--classify", default="xiang", help="classification preset for the class shares "
                                                            "(xiang, khomenko, kumar)")
    parser.add_argument("--map-modes", type=int, nargs="+",
                        help="mode indices (in the mode file) of the C(mu,nu)/D(mu,nu) maps (default: three)")
    parser.add_argument("--np", type=int, default=1, help="MPI ranks for the flux build (re-runs under mpirun)")
    parser.add_argument("-o", "--output", required=True, help="result file (HDF5)")
    parser.add_argument("--plot", metavar="DIR", help="folder for the figures and their CSV tables")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def run(args) -> int:
    from glassmodes.cli._mpi import relaunch, world_comm

    status = relaunch(args.np)
    if status is not None:
        return status
    from pathlib import Path

    import numpy as np

    from glassmodes.transport import Linewidths, compute_flux, conductivity, load_linewidths, pair_maps, read_flux
    from glassmodes.transport.report import class_labels, default_map_modes, summary_line, write_plots, write_result

    comm = world_comm()
    rank = 0 if comm is None else comm.Get_rank()
    say = None if (args.quiet or rank != 0) else (lambda s: print(s, file=sys.stderr, flush=True))
    # check everything cheap before the expensive step
    limit = "quantum" if args.quantum else "classical"
    smearing = None
    if args.fc3:
        from glassmodes.anharmonic import Smearing

        if args.flux:
            raise ValueError("--fc3 needs MODES and HESSIAN (the eigenvectors), not --flux")
        if not Path(args.fc3).exists():
            raise ValueError(f"{args.fc3}: no such file")
        smearing = Smearing(kind=args.smearing, width=args.width, adaptive=args.adaptive)
    elif args.width is not None or args.adaptive is not None or args.save_lifetimes:
        raise ValueError("--width, --adaptive and --save-lifetimes go with --fc3")
    if any(not t > 0 for t in args.temperatures):
        raise ValueError(f"temperatures must be > 0, got {args.temperatures}")
    if args.quantum and args.hbar is None and args.flux is None:
        from glassmodes.modes import ModeFile

        if args.modes and Path(args.modes).is_file():
            with ModeFile(args.modes) as mf:
                if mf.units == "lj":
                    raise ValueError("--quantum in lj units needs --hbar (hbar* = hbar/(sigma sqrt(m eps)); "
                                     "0.0296 for the argon mapping)")
    for p in (args.output, args.save_flux, args.save_lifetimes):
        if p and not Path(p).resolve().parent.is_dir():
            raise ValueError(f"cannot write {p}: its folder does not exist")
    if args.flux:
        if args.modes or args.hessian:
            raise ValueError("give either MODES HESSIAN or --flux, not both")
        flux = read_flux(args.flux, tensor=args.tensor)
    else:
        if not (args.modes and args.hessian):
            raise ValueError("give MODES and HESSIAN (or --flux FILE)")
        for p in (args.modes, args.hessian):
            if not Path(p).is_file():
                raise ValueError(f"{p}: no such file")
        if args.lifetimes:                      # check the tables before the expensive step
            from types import SimpleNamespace

            from glassmodes.modes import ModeFile

            with ModeFile(args.modes) as mf:
                w = mf.frequencies
                use = np.flatnonzero(w > 1e-6 * float(w.max()))
                light = SimpleNamespace(mode_index=use, omega=w[use], nmodes=use.size, units=mf.units)
            load_linewidths(args.lifetimes, light)
        if say:
            say("conductivity: building the flux matrices")
        flux = compute_flux(args.modes, args.hessian, interaction_range_override=args.rc, keep_tensor=args.tensor,
                            block=args.block, dtype=np.float32 if args.float32 else np.float64, comm=comm,
                            progress=say)
    lifetimes = None
    if args.fc3:
        from glassmodes.anharmonic.lifetimes import compute_lifetimes

        if say:
            say(f"conductivity: {limit} three-phonon linewidths at T = {args.temperatures[0]:g}")
        lifetimes = compute_lifetimes(args.modes, args.fc3, args.temperatures[0], limit=limit, smearing=smearing,
                                      hbar=args.hbar, kB=args.kB, partner_weights=(limit == "quantum"),
                                      dtype=np.float32 if args.float32 else np.float64, comm=comm, progress=say)
    if rank != 0:
        return 0
    if args.save_lifetimes:
        from glassmodes.anharmonic.report import write_lifetimes_csv

        write_lifetimes_csv(args.save_lifetimes, lifetimes)
    if args.lifetimes:
        lw = load_linewidths(args.lifetimes, flux)
    elif args.fc3:
        lw = Linewidths.from_lifetimes(lifetimes, flux)
    else:
        lw = Linewidths.constant(args.eta, flux.nmodes)
    sweep = conductivity(flux, args.temperatures, lw, limit=limit, hbar=args.hbar, kB=args.kB, eta_min=args.eta_min,
                         bands=args.bands, tensor=args.tensor, progress=say)
    labels, names, crit = class_labels(sweep, args.classify)
    if args.map_modes:
        pos = {int(k): i for i, k in enumerate(flux.mode_index)}
        bad = [k for k in args.map_modes if k not in pos]
        if bad:
            raise ValueError(f"--map-modes {bad}: not among the flux modes (omega > 0)")
        rows = np.array([pos[k] for k in args.map_modes])
    else:
        rows = default_map_modes(flux.omega, flux.participation)
    Tm = float(sweep.temperature[0])
    C, D = pair_maps(flux, rows, Tm, lw, limit=limit, hbar=args.hbar, kB=args.kB, eta_min=sweep.eta_min)
    maps = (rows, Tm, C, D)
    if args.save_flux:
        from glassmodes.transport import write_flux

        write_flux(args.save_flux, flux)
    write_result(args.output, sweep, flux, labels=labels, names=names, preset=crit.name, maps=maps)
    if args.plot:
        write_plots(args.plot, sweep, labels=labels, names=names, maps=maps)
    if not args.quiet:
        print(summary_line(sweep) + f" -> {args.output}", file=sys.stderr)
    return 0
