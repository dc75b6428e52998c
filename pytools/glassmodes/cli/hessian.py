"""Write the Hessian (and optionally the third-order force constants) of a LAMMPS deck or data file.

Examples:
  glassmodes hessian glasses/seed004-ipl12-N500-s1.data -o H         # a glass from glassmodes prepare
  glassmodes hessian glasses/seed004-ipl12-N500-s1.data -o H --fc3 F3 --np 2
  glassmodes hessian glasses/seed004-ipl12-N500-s1.data -o H --fc3 F4 --fc3-order 4   # with phi'''' (expand, nonlinear)
  glassmodes hessian glass.in -o H                                   # a deck that leaves a minimized system
  glassmodes hessian glass.data --forcefield ka.ff -o H --np 4 --method fd

A data file needs its force field: the .ff file that glassmodes prepare writes beside it is found
automatically; otherwise give --forcefield FILE, a file with the set-up lines (units, atom_style,
pair_style ...), a line `read_data`, then the lines that follow it (pair_coeff, pair_modify,
neighbor ...). Serial, or under mpirun with --np.
"""

from __future__ import annotations

from pathlib import Path

from glassmodes.hessian_job import HessianJob, write_hessian_job


def add_arguments(parser) -> None:
    parser.add_argument("source", type=Path, help="LAMMPS input deck, or data file with --forcefield")
    parser.add_argument("-o", "--output", type=Path, required=True, help="Hessian file to write")
    parser.add_argument("--forcefield", type=Path,
                        help="force-field file for a data file (default: the .ff file beside it)")
    parser.add_argument("--fc3", type=Path, metavar="FILE",
                        help="also write the third-order force constants (write_fc3) to FILE")
    parser.add_argument("--fc3-order", type=int, choices=[3, 4], default=3,
                        help="4: the --fc3 file also holds the fourth order (write_fc3 ... order 4; analytic "
                             "pair styles), for glassmodes expand and glassmodes nonlinear")
    parser.add_argument("--group", default="all", help="LAMMPS group whose rows/columns are written")
    parser.add_argument("--method", choices=["auto", "analytic", "fd"], default="auto")
    parser.add_argument("--mass", choices=["yes", "no"], default="yes",
                        help="yes: dynamical matrix M^-1/2 H M^-1/2 (default); no: plain Hessian")
    parser.add_argument("--delta", type=float, help="fd displacement (distance units)")
    parser.add_argument("--ftol", type=float, help="residual-force warning threshold (force units)")
    parser.add_argument("--no-fcheck", action="store_true", help="do not stop on unminimized structures")
    parser.add_argument("--minimize", metavar="ARGS", help='run "minimize ARGS" first, e.g. "0 1e-12 10000 100000"')
    parser.add_argument("--np", type=int, default=1, help="MPI ranks (re-runs itself under mpirun)")
    parser.add_argument("--log", help="LAMMPS log file")


def run(args) -> int:
    from glassmodes.cli._mpi import relaunch

    if args.fc3_order == 4 and args.fc3 is None:
        raise ValueError("--fc3-order 4 needs --fc3 FILE (the file that gets the third and fourth order)")
    status = relaunch(args.np)
    if status is not None:
        return status
    keywords = {"method": args.method, "mass": args.mass}
    if args.delta is not None:
        keywords["delta"] = args.delta
    if args.ftol is not None:
        keywords["ftol"] = args.ftol
    if args.no_fcheck:
        keywords["fcheck"] = "no"
    job = HessianJob(source=args.source, output=args.output, forcefield=args.forcefield,
                     group=args.group, keywords=keywords, minimize=args.minimize, fc3_output=args.fc3,
                     fc3_order=args.fc3_order)
    write_hessian_job(job, log=args.log)
    return 0
