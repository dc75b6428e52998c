"""``--np N`` for the subcommands: re-run the same command line under the venv's mpirun."""

from __future__ import annotations

import os
import subprocess
import sys

UNDER_MPIRUN = "GLASSMODES_UNDER_MPIRUN"


def relaunch(nprocs: int) -> int | None:
    """Exit status of ``mpirun -np nprocs glassmodes <same arguments>``; None when nothing to do
    (one rank, or already under that mpirun)."""
    if nprocs <= 1 or UNDER_MPIRUN in os.environ:
        return None
    from glassmodes.lammps_session import venv_mpirun

    cmd = [str(venv_mpirun()), "-np", str(nprocs), sys.executable, "-m", "glassmodes.cli.main", *sys.argv[1:]]
    return subprocess.call(cmd, env=dict(os.environ, **{UNDER_MPIRUN: "1"}))


def world_comm():
    """MPI_COMM_WORLD inside such a relaunch, else None (serial)."""
    if UNDER_MPIRUN not in os.environ:
        return None
    from mpi4py import MPI

    return MPI.COMM_WORLD
