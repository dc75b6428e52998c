"""Entry point of the ``glassmodes`` command: dispatches to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

DESCRIPTION = """\
glassmodes: vibrational and anharmonic physics of computer glasses (LAMMPS plugin companion).

The first ten minutes (README.md), from the repository's folder:
  glassmodes prepare seed004-ipl12 --n 500 --seed 1 --out tour/glasses
  glassmodes hessian tour/glasses/seed004-ipl12-N500-s1.data -o tour/H --fc3 tour/F3
  glassmodes modes tour/H --backend dense -o tour/modes.h5
  glassmodes analyze tour/modes.h5 --plot --out tour/analysis
'glassmodes COMMAND --help' shows each command's options and examples.
"""

# subcommand name -> module in glassmodes.cli providing add_arguments(parser) and run(args)
SUBCOMMANDS = {
    "demo": "demo",
    "doctor": "doctor",
    "hessian": "hessian",
    "modes": "modes",
    "analyze": "analyze",
    "render": "render",
    "export-mode": "export_mode",
    "prepare": "prepare",
    "is-trajectory": "is_trajectory",
    "events": "events",
    "lifetimes": "lifetimes",
    "md-lifetimes": "md_lifetimes",
    "conductivity": "conductivity",
    "expand": "expand",
    "elastic": "elastic",
    "dipoles": "dipoles",
    "gamma": "gamma",
    "attenuation": "attenuation",
    "nonlinear": "nonlinear",
    "double-wells": "double_wells",
}


def build_parser() -> argparse.ArgumentParser:
    from glassmodes import __version__

    parser = argparse.ArgumentParser(prog="glassmodes", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"glassmodes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        mod = importlib.import_module(f"glassmodes.cli.{module}")
        # the module docstring is the help text: its examples keep their lines
        p = sub.add_parser(name, help=mod.__doc__.strip().splitlines()[0], description=mod.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except Exception as exc:  # noqa: BLE001 - LAMMPS raises plain Exception; show its message only
        if os.environ.get("GLASSMODES_DEBUG"):
            raise
        print(f"glassmodes {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
