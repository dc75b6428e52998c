"""Run the main job on the built-in sample and write DIR/report.html (what `make demo` runs).

Prepares a 3D glass of seed 004's model (N = 1000), writes its Hessian and third-order force
constants through the plugin, computes every mode, the participation ratios, the QLMs, the vDOS
and the classical three-phonon lifetimes, renders the softest QLM and writes a report.
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


def run(args) -> int:
    from glassmodes.demo import run_demo

    run_demo(args.out, n=args.n, seed=args.seed, temperature=args.temperature, pr_threshold=args.pr_threshold)
    return 0
