"""`glassmodes hessian`: a deck or a data file plus force field, serial and under mpirun."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from glassmodes.io import read_hessian
from glassmodes.lammps_session import open_lammps
from systems import KA_PAIR, ka_glass, run


def glassmodes(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "glassmodes.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_deck_and_data_file_give_the_same_hessian(tmp_path):
    lmp = open_lammps()
    run(lmp, ka_glass(120, seed=3))
    lmp.command(f"write_data {tmp_path / 'g.data'} nocoeff")
    lmp.close()
    deck = tmp_path / "g.in"
    deck.write_text("\n".join(["units lj", "atom_style atomic", f"read_data {tmp_path / 'g.data'}",
                               *KA_PAIR, "neighbor 0.3 bin"]) + "\n")
    ff = tmp_path / "ka.ff"
    ff.write_text("\n".join(["units lj", "atom_style atomic", "read_data", *KA_PAIR]) + "\n")

    r1 = glassmodes("hessian", deck, "-o", tmp_path / "A")
    assert r1.returncode == 0, r1.stderr
    r2 = glassmodes("hessian", tmp_path / "g.data", "--forcefield", ff, "-o", tmp_path / "B",
                    "--np", "2", "--method", "fd")
    assert r2.returncode == 0, r2.stderr
    a, b = read_hessian(tmp_path / "A"), read_hessian(tmp_path / "B")
    assert a.meta["method"] == "analytic" and b.meta["method"] == "fd" and b.meta["nprocs"] == 2
    err = np.linalg.norm((a.matrix - b.matrix).toarray()) / np.linalg.norm(a.matrix.toarray())
    assert err < 1e-6


def test_bad_input_is_reported_without_traceback(tmp_path):
    r = glassmodes("hessian", tmp_path / "missing.in", "-o", tmp_path / "H")
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    ff = tmp_path / "ff"
    ff.write_text("units lj\n")
    (tmp_path / "x.data").write_text("\n")
    r = glassmodes("hessian", tmp_path / "x.data", "--forcefield", ff, "-o", tmp_path / "H")
    assert r.returncode == 2 and "read_data" in r.stderr
