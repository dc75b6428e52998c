"""Write the Hessian of a LAMMPS deck or data file (serial, or under mpirun with --np).

Examples:
  glassmodes hessian glass.in -o H                      # the deck leaves a minimized system
  glassmodes hessian glass.data --forcefield ka.ff -o H --np 4 --method fd
The force-field file holds the lines around a line `read_data` (units, atom_style, pair_style ...).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from glassmodes.hessian_job import HessianJob, write_hessian_job
from glassmodes.lammps_session import venv_mpirun


def add_arguments(parser) -> None:
    parser.add_argument("source", type=Path, help="LAMMPS input deck, or data file with --forcefield")
    parser.add_argument("-o", "--output", type=Path, required=True, help="Hessian file to write")
    parser.add_argument("--forcefield", type=Path, help="force-field lines for a data file")
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
    if args.np > 1 and "GLASSMODES_UNDER_MPIRUN" not in os.environ:
        argv = [a for a in sys.argv[1:]]
        cmd = [str(venv_mpirun()), "-np", str(args.np), sys.executable, "-m", "glassmodes.cli.main", *argv]
        env = dict(os.environ, GLASSMODES_UNDER_MPIRUN="1")
        return subprocess.call(cmd, env=env)
    keywords = {"method": args.method, "mass": args.mass}
    if args.delta is not None:
        keywords["delta"] = args.delta
    if args.ftol is not None:
        keywords["ftol"] = args.ftol
    if args.no_fcheck:
        keywords["fcheck"] = "no"
    job = HessianJob(source=args.source, output=args.output, forcefield=args.forcefield,
                     group=args.group, keywords=keywords, minimize=args.minimize)
    write_hessian_job(job, log=args.log)
    return 0
