"""Quench every frame of an MD dump to its inherent structure: r_IS(t), Phi_IS(t) in an HDF5 file.

Each frame is minimized (FIRE, CG, FIRE to the largest per-atom force --ftol) in a private serial
LAMMPS instance; frames are split over MPI ranks (--np P re-runs itself under mpirun). Restartable:
frames already in the output are skipped. A few frames are also re-quenched from perturbed copies
to measure the quench noise floor used by `glassmodes events`. Progress goes to stderr.

With --md the input is instead one LAMMPS data file of a glass of atom_style charge (diameter in the
charge column, the seed-002 files) or sphere: MD at --temperature with a minimization every
--quench-every steps (Khomenko et al. (2020), Sec. II: T_hop = 0.04), default force field the seed-002
model (pair_style ipl/smooth/poly 12 2 1.25 0.2). -o is then a folder: minima/ (one data file per
distinct inherent structure, named by its energy per particle), trajectory.csv, transitions.csv (the
hop graph with visit counts; candidate pairs: --min-hops hops, both ways unless --one-way) and
summary.json; `glassmodes double-wells OUT/minima --transitions OUT/transitions.csv` analyses the
candidate pairs (docs/double_wells.md).

Examples:
  glassmodes is-trajectory traj.dump --forcefield inputs/forcefields/seed004-ipl12.ff -o IS.h5
  glassmodes is-trajectory traj.dump --forcefield ff -o IS.h5 --np 2 --ftol 1e-10
  glassmodes is-trajectory traj.dump --forcefield ff -o IS.h5 --stride 50   # long runs (docs/landscape.md)
  glassmodes is-trajectory glass.conf.txt --md --temperature 0.04 --steps 20000 --quench-every 100 -o md
"""

from __future__ import annotations

import os
import sys


def add_arguments(parser) -> None:
    parser.add_argument("dump", help="LAMMPS text dump (id type x y z [ix iy iz] [vx vy vz]; "
                                     "inputs/is_trajectory.lmp); with --md a LAMMPS data file (atom_style charge or "
                                     "sphere)")
    parser.add_argument("--forcefield", default=None,
                        help="force-field file: mass/pair_style/pair_coeff/neighbor lines (inputs/forcefields/*.ff), "
                             "or the `glassmodes hessian` layout with a read_data line (required without --md; with "
                             "--md default the seed-002 model)")
    parser.add_argument("-o", "--output", required=True,
                        help="IS trajectory file (HDF5) to create or continue; with --md an output folder")
    md = parser.add_argument_group("MD with periodic minimization (--md; seed-002 protocol)")
    md.add_argument("--md", action="store_true",
                    help="run MD from the data file and minimize periodically instead of quenching a dump")
    md.add_argument("--temperature", type=float, default=None, help="MD temperature, eps/k_B (seed 002: 0.04)")
    md.add_argument("--steps", type=int, default=None, help="MD steps after the equilibration")
    md.add_argument("--quench-every", type=int, default=100, help="MD steps between minimizations (default 100)")
    md.add_argument("--timestep", type=float, default=0.005, help="MD time step, tau (default 0.005)")
    md.add_argument("--tdamp", type=float, default=0.5, help="Nose-Hoover damping time, tau (default 0.5)")
    md.add_argument("--equilibrate", type=int, default=1000, help="MD steps before the first minimization "
                                                                   "(default 1000)")
    md.add_argument("--same-tol", type=float, default=1e-3,
                    help="same minimum when no particle differs by more than this, sigma (default 1e-3)")
    md.add_argument("--min-hops", type=int, default=2, help="hops that make a candidate pair (default 2)")
    md.add_argument("--one-way", action="store_true", help="candidate pairs need not be visited back and forth")
    parser.add_argument("--np", type=int, default=1, help="MPI ranks (re-runs itself under mpirun; default 1)")
    parser.add_argument("--ftol", type=float, default=1e-10,
                        help="largest per-atom force of a converged quench, force units (default 1e-10)")
    parser.add_argument("--maxiter", type=int, default=100000, help="iteration limit per minimizer stage")
    parser.add_argument("--fire-dt", type=float, default=0.005, help="FIRE time step, time units (default 0.005)")
    parser.add_argument("--stages", default="fire,cg,fire", help="minimizer stages (default fire,cg,fire)")
    parser.add_argument("--units", default="lj", help="LAMMPS unit style of the force field (default lj)")
    parser.add_argument("--ntypes", type=int, default=None, help="atom types of the box (default: largest in dump)")
    parser.add_argument("--no-velocities", action="store_true",
                        help="accept a dump without velocities (T(t) is then not stored)")
    parser.add_argument("--noise-frames", type=int, default=3,
                        help="frames re-quenched from perturbed copies for the noise floor (default 3; 0: none)")
    parser.add_argument("--noise-replicas", type=int, default=4, help="perturbed copies per noise frame (default 4)")
    parser.add_argument("--noise-amplitude", type=float, default=1e-4,
                        help="standard deviation of the perturbation per component, distance units (default 1e-4)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the perturbations")
    parser.add_argument("--stride", type=int, default=1,
                        help="quench every S-th frame, then bisect the intervals whose IS changed (default 1: all)")
    parser.add_argument("--refine-dr", type=float, default=1e-3,
                        help="with --stride: |r_IS change| above which an interval is bisected (default 1e-3)")
    parser.add_argument("--refine-budget", type=int, default=None,
                        help="with --stride: at most this many bisection quenches (0: no bisection)")
    parser.add_argument("--window", default=None, metavar="FIRST:LAST",
                        help="with --stride: also quench every frame FIRST <= k < LAST (a fully resolved stretch)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _window(spec):
    if spec is None:
        return None
    a, sep, b = spec.partition(":")
    try:
        return int(a), int(b)
    except ValueError:
        raise ValueError(f"--window expects FIRST:LAST (frame numbers), got {spec!r}") from None


def _run_md(args) -> int:
    from pathlib import Path

    from glassmodes.landscape.md import MDSettings, md_minima, write_md_minima
    from glassmodes.landscape.neb import SEED002_FORCEFIELD, read_configuration
    from glassmodes.landscape.quench import read_forcefield

    if args.np != 1:
        raise ValueError("--md runs serially (one MD, one minimizer); --np is for dumps")
    if args.temperature is None or args.steps is None:
        raise ValueError("--md needs --temperature and --steps")
    if args.min_hops < 1:
        raise ValueError(f"--min-hops must be >= 1, got {args.min_hops}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder (--md writes a folder)")
    if (out / "summary.json").exists():
        raise ValueError(f"{out}: holds an earlier --md result (summary.json); choose another -o")
    settings = MDSettings(temperature=args.temperature, steps=args.steps, quench_every=args.quench_every,
                          timestep=args.timestep, tdamp=args.tdamp, seed=args.seed, equilibrate=args.equilibrate,
                          ftol=args.ftol, same_tol=args.same_tol)
    cfg = read_configuration(args.dump)
    ff = read_forcefield(args.forcefield) if args.forcefield else SEED002_FORCEFIELD

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    res = md_minima(cfg, settings, ff, progress=progress)
    summary = write_md_minima(out, cfg, res, settings, ff, min_hops=args.min_hops, back_and_forth=not args.one_way)
    print(f"is-trajectory: {summary['quenches']} minimizations over t = {summary['md_time']:g} at T = "
          f"{settings.temperature:g} ({summary['not_converged']} not converged): {summary['distinct_minima']} distinct "
          f"minima, {summary['pairs_with_hops']} pair(s) joined by hops, {summary['candidate_pairs']} candidate "
          f"pair(s) (>= {args.min_hops} hops{'' if args.one_way else ', both ways'}); {out}/transitions.csv")
    if summary["not_converged"]:
        print(f"is-trajectory: warning: {summary['not_converged']} minimization(s) stopped above --ftol "
              f"{args.ftol:g}; flagged in trajectory.csv, no hop counted next to them", file=sys.stderr)
    return 0


def run(args) -> int:
    if args.md:
        return _run_md(args)
    if args.forcefield is None:
        raise ValueError("--forcefield is required (the force field of the dump)")
    if args.np < 1:
        raise ValueError(f"--np must be >= 1, got {args.np}")
    from glassmodes.cli._mpi import relaunch

    status = relaunch(args.np)
    if status is not None:
        return status
    from glassmodes.landscape.driver import quench_trajectory
    from glassmodes.landscape.quench import QuenchSettings

    comm = None
    if "GLASSMODES_UNDER_MPIRUN" in os.environ or int(os.environ.get("PMI_SIZE", "1")) > 1:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
    settings = QuenchSettings(ftol=args.ftol, maxiter=args.maxiter, fire_dt=args.fire_dt,
                              stages=tuple(s.strip() for s in args.stages.split(",") if s.strip()), units=args.units)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    counts = quench_trajectory(args.dump, args.forcefield, args.output, settings=settings, comm=comm,
                               require_velocities=not args.no_velocities, noise_frames=args.noise_frames,
                               noise_replicas=args.noise_replicas, noise_amplitude=args.noise_amplitude,
                               noise_seed=args.seed, ntypes=args.ntypes, stride=args.stride,
                               refine_dr=args.refine_dr, refine_budget=args.refine_budget,
                               window=_window(args.window), progress=progress)
    if counts and (counts["not_converged"] or counts["failed"]):
        print(f"is-trajectory: warning: {counts['not_converged']} frame(s) not converged and {counts['failed']} "
              "failed; they are flagged in the output and `glassmodes events` will not count events next to them",
              file=sys.stderr)
    return 0
