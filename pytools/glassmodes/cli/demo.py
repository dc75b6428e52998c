"""Run the main job on the built-in sample and write DIR/report.html (what `make demo` runs).

Examples:
  glassmodes demo                      # into demo-out/; a rerun resumes at the first unfinished stage
  glassmodes demo --out demo-small --n 500 --np 2
  glassmodes demo --fresh              # start over

Prepares a 3D glass of the binary 12-inverse-power-law model of Mizuno, Tong, Ikeda and Mossa
(2020) (N = 1000), writes its Hessian and third-order force constants through the plugin,
computes every mode, the participation ratios, the mode classes (quasi-localized modes are soft
and localized), the vDOS and the classical three-phonon lifetimes (on every core), renders the
softest QLM and writes a report with the command that reproduces each stage.
"""

from __future__ import annotations

from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="output folder (default demo-out)")
    parser.add_argument("--n", type=int, default=1000, help="number of particles (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the glass (default 1)")
    parser.add_argument("--T", dest="temperature", type=float, default=1e-3,
                        help="temperature of the lifetimes, energy units (default 1e-3)")
    parser.add_argument("--pr-threshold", type=float, default=0.2, help="QLM threshold on the PR (default 0.2)")
    parser.add_argument("--np", type=int, default=None,
                        help="MPI ranks of the lifetime stage (default: the number of cores)")
    parser.add_argument("--fresh", action="store_true", help="recompute every stage (default: resume)")


def run(args) -> int:
    from glassmodes.demo import run_demo

    if args.n < 8:
        raise ValueError(f"--n must be at least 8, got {args.n}")
    run_demo(args.out, n=args.n, seed=args.seed, temperature=args.temperature, pr_threshold=args.pr_threshold,
             np_ranks=args.np, fresh=args.fresh)
    return 0
