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


def test_fc3_order_4_from_the_command_line(tmp_path):
    """--fc3-order 4 writes the fourth order too: Phi4 contractions equal those of write_fc3 ... order 4."""
    from glassmodes.fc3 import read_fc3

    r = glassmodes("prepare", "seed004-ipl12", "--n", 64, "--seed", 2, "--out", tmp_path, "--quiet")
    assert r.returncode == 0, r.stderr
    data = tmp_path / "seed004-ipl12-N64-s2.data"
    r = glassmodes("hessian", data, "-o", tmp_path / "H", "--fc3", tmp_path / "F4", "--fc3-order", 4)
    assert r.returncode == 0, r.stderr
    r = glassmodes("hessian", data, "-o", tmp_path / "H3", "--fc3", tmp_path / "F3")
    assert r.returncode == 0, r.stderr
    lmp = open_lammps()
    ff = (tmp_path / "seed004-ipl12-N64-s2.ff").read_text().splitlines()
    for line in ff:
        lmp.command(f"read_data {data}" if line.split()[:1] == ["read_data"] else line)
    lmp.command(f"write_fc3 all {tmp_path / 'ref'} order 4")
    lmp.close()
    u = np.random.default_rng(5).normal(size=3 * 64)
    f4, ref, f3 = read_fc3(tmp_path / "F4"), read_fc3(tmp_path / "ref"), read_fc3(tmp_path / "F3")
    assert f4.phi4(u, u, u, u) == ref.phi4(u, u, u, u) != 0.0    # same LAMMPS computation, bit for bit
    with np.testing.assert_raises(Exception):
        f3.phi4(u, u, u, u)                                       # the default file has no fourth order
    r = glassmodes("hessian", data, "-o", tmp_path / "H4", "--fc3-order", 4)
    assert r.returncode == 2 and "--fc3-order 4 needs --fc3" in r.stderr and not (tmp_path / "H4").exists()
