"""Quartic expansion along quasi-localized modes: b2, b3, b4, beta, groups A/B (Kumar et al. 2021).

Examples:
  glassmodes expand modes.h5 glass.data -o expansion.csv              # one sample, PR < 0.27
  glassmodes expand modes.h5 F4 --below-band --check-lammps glass.data -o expansion.h5 --plot figs
  glassmodes expand m1.h5 g1.data m2.h5 g2.data --np 2 -o ensemble.csv --plot figs   # samples over 2 ranks

MODES FC are pairs: a mode file with eigenvectors (glassmodes modes) and the order-4 force
constants of the same structure (LAMMPS: write_fc3 all F4 order 4), or instead of FC the
structure's LAMMPS data file (its .ff force field beside it): the order-4 table is then written to
a temporary folder and removed at the end. Each selected mode is expanded as
U(s) = b2 s^2/2 + b3 s^3/6 + b4 s^4/24 along its mass-weighted unit eigenvector, with the sign
chosen so that b3 >= 0; beta = b3 / sqrt(3 b2 b4); group A: beta^2 <= 1, group B: beta^2 > 1.
Selection: PR < --pr-max (default 0.27, Kumar et al.; every frequency, the paper's stated rule);
--below-band: only modes below the lower edge of the first transverse phonon band (the paper's
yield implies a low-frequency restriction it does not state; docs/expansion.md); --below-qvm:
only modes below the sample's first mode with PR >= --pr-max (the QLM rule of glassmodes
analyze). --check-lammps DATA (one data file per sample, force field from the .ff beside it)
fits b2, b3, b4 to LAMMPS forces along each line and relaxes every double-well candidate from
its second minimum. The summary (counts with binomial errors, barriers, power laws) is printed and
stored in the table's metadata.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, metavar="MODES FC",
                        help="pairs: mode file, order-4 force-constant file or LAMMPS data file (one pair per sample)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="table to write (.csv or .h5)")
    parser.add_argument("--pr-max", type=float, default=0.27,
                        help="participation-ratio cut (default 0.27, Kumar et al.); 1 keeps every mode")
    parser.add_argument("--below-band", action="store_true",
                        help="also require omega below the lower edge of the first transverse phonon band")
    parser.add_argument("--below-qvm", action="store_true",
                        help="also require omega below the sample's lowest mode with PR >= --pr-max "
                             "(the QLM rule of glassmodes analyze)")
    parser.add_argument("--omega-max", type=float, help="also require omega <= OMEGA_MAX")
    parser.add_argument("--check-lammps", nargs="+", type=Path, metavar="DATA",
                        help="LAMMPS data file of each sample (same order): line fits and second-well relaxations")
    parser.add_argument("--check-lines", type=int, metavar="K",
                        help="line fits for the K lowest selected modes per sample (default all; 0.5-3 s "
                             "each at N = 1000) plus every double-well candidate")
    parser.add_argument("--max-displacement", type=float, default=0.01,
                        help="largest particle displacement of a line scan (distance; default 0.01)")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="write P(beta), D_A/D_B and barrier plots here")
    parser.add_argument("--np", type=int, default=1, help="MPI ranks (samples are shared out)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def run(args) -> int:
    from glassmodes.cli._mpi import relaunch, world_comm

    status = relaunch(args.np)
    if status is not None:
        return status
    if len(args.inputs) % 2:
        raise ValueError(f"MODES FC come in pairs: got {len(args.inputs)} paths")
    pairs = [(args.inputs[i], args.inputs[i + 1]) for i in range(0, len(args.inputs), 2)]
    for m, f in pairs:
        if not m.is_file():
            raise FileNotFoundError(f"{m}: no such mode file")
        if not f.is_file():
            raise FileNotFoundError(f"{f}: no such force-constant file")
    if args.check_lammps is not None and len(args.check_lammps) != len(pairs):
        raise ValueError(f"--check-lammps needs one data file per sample: {len(pairs)} samples, "
                         f"{len(args.check_lammps)} data files")
    if args.output.suffix not in (".csv", ".h5", ".hdf5"):
        raise ValueError(f"{args.output}: the table is written as .csv or .h5")
    if not 0 < args.pr_max <= 1:
        raise ValueError(f"--pr-max must lie in (0, 1], got {args.pr_max}")
    samples = [{"modes": m, "fc": f, **({"data": args.check_lammps[i]} if args.check_lammps else {})}
               for i, (m, f) in enumerate(pairs)]
    comm = world_comm()
    rank = 0 if comm is None else comm.Get_rank()
    say = None if args.quiet or rank else (lambda s: print(s, file=sys.stderr))
    from glassmodes.expansion.driver import expand_samples
    from glassmodes.expansion.ensemble import save_plots, summarize, write_table

    cols, infos = expand_samples(samples, comm=comm, progress=say, pr_max=args.pr_max if args.pr_max < 1 else None,
                                 omega_max=args.omega_max, below_band=args.below_band,
                                 below_qvm=args.below_qvm,
                                 check_lines=args.check_lines, max_displacement=args.max_displacement)
    if rank:
        return 0
    if not cols:
        raise ValueError("no sample produced a table")
    summary = summarize(cols, n_samples=len(samples))
    write_table(args.output, cols, {"summary": summary, "samples": infos, "command": " ".join(sys.argv)})
    unit = infos[0]["omega_unit"] if infos else "omega unit"
    if args.plot:
        for p in save_plots(cols, args.plot, omega_unit=unit):
            print(f"wrote {p}", file=sys.stderr)
    print(json.dumps({k: summary[k] for k in ("samples", "modes", "A", "B", "B_fraction", "B_fraction_err",
                                              "A_with_higher_second_well", "omega_median_A", "omega_median_B")}
                     | {"B_barrier_range": summary.get("B_barrier_range")}, indent=1))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
