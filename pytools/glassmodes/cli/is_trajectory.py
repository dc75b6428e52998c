"""Quench every frame of an MD dump to its inherent structure: r_IS(t), Phi_IS(t) in an HDF5 file.

Each frame is minimized (FIRE, CG, FIRE to the largest per-atom force --ftol) in a private serial
LAMMPS instance; frames are split over MPI ranks (--np P re-runs itself under mpirun). Restartable:
frames already in the output are skipped. A few frames are also re-quenched from perturbed copies
to measure the quench noise floor used by `glassmodes events`. Progress goes to stderr.

Examples:
  glassmodes is-trajectory traj.dump --forcefield inputs/forcefields/seed004-ipl12.ff -o IS.h5
  glassmodes is-trajectory traj.dump --forcefield ff -o IS.h5 --np 2 --ftol 1e-10
  glassmodes is-trajectory traj.dump --forcefield ff -o IS.h5 --stride 50   # long runs (docs/landscape.md)
"""

from __future__ import annotations

import os
import sys


def add_arguments(parser) -> None:
    parser.add_argument("dump", help="LAMMPS text dump (id type x y z [ix iy iz] [vx vy vz]; inputs/is_trajectory.lmp)")
    parser.add_argument("--forcefield", required=True,
                        help="force-field file: mass/pair_style/pair_coeff/neighbor lines (inputs/forcefields/*.ff), "
                             "or the `glassmodes hessian` layout with a read_data line")
    parser.add_argument("-o", "--output", required=True, help="IS trajectory file (HDF5) to create or continue")
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


def run(args) -> int:
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
