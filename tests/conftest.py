"""Shared fixtures: LAMMPS instances with the plugin, and mpirun launches of helper scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from glassmodes.lammps_session import open_lammps, plugin_path, venv_mpirun

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


@pytest.fixture(scope="session")
def plugin() -> Path:
    return plugin_path()


@pytest.fixture
def lmp(plugin):
    """A serial LAMMPS instance with the plugin loaded; closed after the test."""
    instance = open_lammps()
    yield instance
    instance.close()


def run_mpi(nprocs: int, script: Path | str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python script args`` under the venv's mpirun with ``nprocs`` ranks; raise on failure."""
    cmd = [str(venv_mpirun()), "-np", str(nprocs), sys.executable, str(script), *map(str, args)]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def mpirun():
    return run_mpi
