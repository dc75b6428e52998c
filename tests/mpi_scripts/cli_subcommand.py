"""Run one glassmodes CLI subcommand module (for mpirun tests): python cli.py SUBCOMMAND ARGS..."""

import argparse
import importlib
import sys


def main(argv):
    mod = importlib.import_module(f"glassmodes.cli.{argv[1]}")
    p = argparse.ArgumentParser(prog=f"glassmodes {argv[1]}")
    mod.add_arguments(p)
    return int(mod.run(p.parse_args(argv[2:])) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
