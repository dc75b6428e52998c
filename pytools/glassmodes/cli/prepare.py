"""Prepare glass samples of the papers' models with their LAMMPS decks (inputs/*.in).

Examples:
  glassmodes prepare --list
  glassmodes prepare seed004-ipl12 --n 500 --seed 1 --out tour/glasses
  glassmodes prepare thesis-ipl10-2d --n 1600 --seed 1 --samples 10 --out glasses --np 2
  glassmodes prepare ka --n 1000 --check

Runs the model's deck for seeds S .. S+K-1 and writes, per sample, DIR/<model>-N<n>-s<seed>.data
(LAMMPS data file of the minimized glass), .ff (its force field: the lines that read it back
into LAMMPS, found by `glassmodes hessian` beside the data file), .json (metadata: model, N,
seed, density, energy per particle, largest residual force, wall time, LAMMPS version,
parameters, force field) and .log.
Deck parameters are changed with --set NAME=VALUE (e.g. --set rate=1e-2 --set t_equil=50);
--list shows the models and their parameters. Input is checked before any run starts.
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("model", nargs="?", help="model name (see --list)")
    parser.add_argument("--n", type=int, default=None, help="number of particles (default: the model's)")
    parser.add_argument("--seed", type=int, default=1, help="first random seed (default 1)")
    parser.add_argument("--samples", type=int, default=1, help="number of samples K (default 1)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output folder (created if missing); required unless --list or --check")
    parser.add_argument("--np", type=int, default=1, help="MPI ranks per sample (mpirun; default 1)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a deck parameter (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the models and their parameters")
    parser.add_argument("--check", action="store_true", help="check the request and stop (no run)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def _overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--set expects NAME=VALUE, got {item!r}")
        out[name.strip()] = value
    return out


def run(args) -> int:
    from glassmodes.prepare import MODELS, check_request, deck_variables, prepare

    if args.list:
        for model in MODELS.values():
            params = {k: v for k, v in deck_variables(model.deck_path()).items() if k not in ("N", "seed", "out")}
            params.update(model.settings)
            print(f"{model.name}: {model.paper}; default N {model.default_n}; deck {model.deck_path()}")
            print("    " + " ".join(f"{k}={v}" if v else f'{k}=""' for k, v in params.items()))
        return 0
    if not args.model:
        raise ValueError(f"give a model name; known models: {', '.join(MODELS)}")
    overrides = _overrides(args.set)
    if args.check:
        req = check_request(args.model, args.n, overrides)
        print(f"{req.model.name}: N {req.n}, dimension {req.dimension}, density {req.density:g}, "
              f"types {req.type_counts}, core packing fraction {req.core_packing:.3f}: ok")
        return 0
    if not args.out:
        raise ValueError("--out DIR is required (the folder for the data, .ff, .json and .log files)")
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    prepare(args.model, n=args.n, seed=args.seed, samples=args.samples, out_dir=args.out,
            np_ranks=args.np, overrides=overrides, progress=progress)
    return 0
