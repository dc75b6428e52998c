"""Shear seeds of the nonlinear-mode search (glassmodes.nonlinear.seeds.shear_seeds, CLI --shear).

Independent route: the non-affine displacement of the glass under a small imposed shear, relaxed by
LAMMPS at fixed box (central difference over +-delta), against u = -H^+ Xi of the seeds."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from glassmodes.cli.main import main
from glassmodes.elastic.lammps_fd import _Session
from glassmodes.fc3 import read_fc3
from glassmodes.lammps_session import open_lammps
from glassmodes.modes.core import translation_basis
from glassmodes.nonlinear.nlfile import read_nonlinear_table
from glassmodes.nonlinear.seeds import SeedError, shear_seeds, shear_strains
from systems import ka_glass

N = 100
DELTA = 1e-6


def _relaxed_response(s: _Session, steps, delta: float) -> np.ndarray:
    """(u_na(+delta) - u_na(-delta)) / (2 delta), shape=(N, d): non-affine displacement per unit strain.

    ``steps``: list of (c, e, factor): x_c += factor*delta x_e (``_Session.strain``), applied in turn."""
    out = []
    for sign in (1.0, -1.0):
        for c, e, f in steps:
            s.strain(c, e, sign * f * delta)
        affine = s.gather_positions()
        s.minimize(1e-13, 100000)
        u = s.gather_positions() - affine
        boxlo, boxhi, *_ = s.lmp.extract_box()
        L = (np.asarray(boxhi) - np.asarray(boxlo))[: s.dim]
        u -= L * np.round(u / L)
        out.append(u)
        s.restore()
    return (out[0] - out[1]) / (2 * delta)


@pytest.fixture(scope="module")
def glass2d(tmp_path_factory):
    """A 2D KA glass with masses 1 and 3: pair table (order 4), mode file, and LAMMPS' relaxed
    non-affine responses to pure shear (x -> (1+e) x, y -> (1-e) y) and simple shear (x -> x + g y)."""
    folder = tmp_path_factory.mktemp("shearglass")
    lmp = open_lammps()
    try:
        for line in ka_glass(N, seed=4242, masses=(1.0, 3.0), dimension=2):
            lmp.command(line)
        lmp.command(f"write_fc3 all {folder / 'A'} method analytic order 4")
        lmp.command(f"write_hessian all {folder / 'H'}")
        lmp.command("group left id 1:50")
        lmp.command(f"write_fc3 left {folder / 'G'} method analytic order 4")
        s = _Session(lmp)
        fd = {"xx-yy": _relaxed_response(s, [(0, 0, 1.0), (1, 1, -1.0)], DELTA),
              "xy": _relaxed_response(s, [(0, 1, 1.0)], DELTA)}
    finally:
        lmp.close()
    assert main(["modes", str(folder / "H"), "--backend", "dense", "-o", str(folder / "modes.h5")]) == 0
    return folder, fd


def test_shear_strains_labels():
    assert [k for k, _ in shear_strains(2)] == ["xy", "xx-yy"]
    assert [k for k, _ in shear_strains(3, "simple")] == ["xy", "xz", "yz"]
    assert [k for k, _ in shear_strains(3, "pure")] == ["xx-yy", "xx-zz", "yy-zz"]
    with pytest.raises(SeedError, match="expected one of"):
        shear_strains(2, "bulk")


def test_shear_seeds_match_relaxed_lammps_response(glass2d):
    """-H^+ Xi (mass-weighted) equals LAMMPS' relaxed non-affine response per unit strain to 1e-5
    (central differences, delta = 1e-6, minimized to a largest force of 1e-13)."""
    folder, fd = glass2d
    fc = read_fc3(folder / "A")
    seeds = dict(shear_seeds(fc, "all"))
    assert sorted(seeds) == ["shear:xx-yy", "shear:xy"]
    m = np.repeat(np.asarray(fc.atoms["mass"], float), 2)
    T = translation_basis(m, 2)
    for label, u in fd.items():
        w = np.sqrt(m) * u.ravel()
        w -= T @ (T.T @ w)
        got = seeds[f"shear:{label}"]
        assert np.linalg.norm(T.T @ got) < 1e-12 * np.linalg.norm(got)
        err = np.linalg.norm(got - w) / np.linalg.norm(w)
        assert err < 1e-5, (label, err)
    # the two fields are different responses (not the same field twice)
    a, b = seeds["shear:xy"], seeds["shear:xx-yy"]
    assert abs(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b)) < 0.9


def test_cli_shear_seeds(glass2d, tmp_path, capsys):
    folder, _ = glass2d
    out = tmp_path / "nl.h5"
    rc = main(["nonlinear", str(folder / "modes.h5"), str(folder / "A"), "--kind", "cubic", "--seeds", "lowest:1",
               "--shear", "all", "--dedupe", "0.999", "-o", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "3 seed(s)" in text
    for label in ("shear:xy", "shear:xx-yy"):       # one progress line per seed
        assert f"cubic    seed {label}" in text
    tab = read_nonlinear_table(out)["cubic"]
    assert all(tab["converged"]) and 1 <= len(tab["kappa"]) <= 3
    assert all(s.startswith(("psi", "shear:")) for s in tab["seed"])


def test_shear_seeds_bad_input(glass2d, tmp_path, capsys):
    folder, _ = glass2d
    with pytest.raises(SystemExit) as exc:
        main(["nonlinear", str(folder / "modes.h5"), str(folder / "A"), "--kind", "cubic", "--seeds", "none",
              "--shear", "bulk", "-o", str(tmp_path / "x.h5")])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()
    with pytest.raises(SeedError, match="whole system"):
        shear_seeds(read_fc3(folder / "G"))


def test_shear_seeds_ranks(glass2d, tmp_path):
    """1, 2 and 4 MPI ranks (pair table split over the ranks, Xi summed) give the same cubic mode from
    the pure-shear seed: kappa to 1e-10 (modes converged to --tol 1e-11)."""
    folder, _ = glass2d
    kappas = []
    for np_ in (1, 2, 4):
        out = tmp_path / f"nl{np_}.h5"
        env = dict(os.environ, OMP_NUM_THREADS="1")
        env.pop("GLASSMODES_UNDER_MPIRUN", None)
        cmd = [sys.executable, "-m", "glassmodes.cli.main", "nonlinear", str(folder / "modes.h5"), str(folder / "A"),
               "--kind", "cubic", "--seeds", "none", "--shear", "pure", "--np", str(np_), "--tol", "1e-11",
               "-o", str(out), "--quiet"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        tab = read_nonlinear_table(out)["cubic"]
        assert list(tab["seed"]) == ["shear:xx-yy"]
        kappas.append(tab["kappa"])
    for k in kappas[1:]:
        np.testing.assert_allclose(k, kappas[0], rtol=1e-10, atol=0)
