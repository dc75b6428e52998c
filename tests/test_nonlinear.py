"""glassmodes.nonlinear: exact gradients (finite differences), synthetic oscillators with known modes,
minimizer vs fixed-point map, bad input, the CLI and its file, 1/2/4 MPI ranks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glassmodes.cli.main import main
from glassmodes.fc3 import read_fc3
from glassmodes.lammps_session import open_lammps
from glassmodes.modes import ModeFile
from glassmodes.nonlinear import (
    KINDS, ForceConstantOperator, NonlinearModeError, OscillatorOperator, evaluate, find_mode,
)
from glassmodes.nonlinear.nlfile import read_nonlinear_table
from glassmodes.nonlinear.seeds import field_seed
from systems import ka_glass

N = 120


def _write_glass(folder: Path, seed: int, order3_too: bool = False, displaced: bool = False) -> None:
    lmp = open_lammps()
    try:
        for line in ka_glass(N, seed=seed):
            lmp.command(line)
        lmp.command(f"write_fc3 all {folder / 'A'} method analytic order 4")
        if order3_too:
            lmp.command(f"write_fc3 all {folder / 'A3'} method analytic")
        lmp.command(f"write_hessian all {folder / 'H'}")
        if displaced:
            lmp.command("write_data " + str(folder / "A.data"))
            lmp.command("displace_atoms all random 0.01 0.01 0.01 7 units box")
            lmp.command("write_data " + str(folder / "B.data"))
    finally:
        lmp.close()
    assert main(["modes", str(folder / "H"), "--backend", "dense", "-o", str(folder / "modes.h5")]) == 0


@pytest.fixture(scope="module")
def glass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nlglass")
    _write_glass(folder, 12345, order3_too=True, displaced=True)
    return folder


@pytest.fixture(scope="module")
def op(glass):
    return ForceConstantOperator(read_fc3(glass / "A"))


@pytest.fixture(scope="module")
def psi(glass):
    with ModeFile(glass / "modes.h5") as mf:
        return mf.mode(0)


def oscillators(n=6, seed=0, rotate=True):
    rng = np.random.default_rng(seed)
    k, t, g = rng.uniform(1, 3, n), rng.uniform(0.5, 2, n), rng.uniform(1, 3, n)
    q = np.linalg.qr(rng.normal(size=(n, n)))[0] if rotate else None
    return OscillatorOperator(k, t, g, rotation=q), q


def fd_check(op, kind, z, rng):
    ev = evaluate(op, kind, z)
    for _ in range(3):
        v = op.project(rng.normal(size=z.size))
        h = 1e-6
        fd = (evaluate(op, kind, z + h * v).cost - evaluate(op, kind, z - h * v).cost) / (2 * h)
        assert abs(fd - ev.gradient @ v) <= 1e-6 * abs(fd), (kind, fd, ev.gradient @ v)


# ---- gradients ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_gradient_fd_oscillators(kind):
    op, _ = oscillators()
    rng = np.random.default_rng(1)
    fd_check(op, kind, rng.normal(size=op.ndof), rng)


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_fd_glass(op, psi, kind):
    rng = np.random.default_rng(2)
    z = op.project(psi + 0.2 * rng.normal(size=psi.size))
    fd_check(op, kind, z / np.linalg.norm(z), rng)


def test_residual_is_zero_for_harmonic_mode_of_oscillators():
    """The axes solve M pi = (kappa/c) g(pi) exactly: residual at rounding level."""
    op, q = oscillators()
    for kind in KINDS:
        assert evaluate(op, kind, q[:, 2]).residual < 1e-14


def test_diagonal_contractions_match_fc3(tmp_path):
    """The operator's one-pass U3:zz and U4:.zzz equal glassmodes.fc3's general contractions, mass
    weighted, with unequal masses (and the file written plain, so the weighting is applied here)."""
    lmp = open_lammps()
    try:
        for line in ka_glass(60, seed=77, masses=(1.0, 3.0)):
            lmp.command(line)
        lmp.command(f"write_fc3 all {tmp_path / 'A'} method analytic order 4 mass no")
    finally:
        lmp.close()
    fc = read_fc3(tmp_path / "A")
    op = ForceConstantOperator(fc)
    fcm = fc.with_mass_weighting(True)
    z = np.random.default_rng(4).normal(size=op.ndof)
    for got, ref in ((op.cubic(z), fcm.phi3(z, z)), (op.quartic(z), fcm.phi4(z, z, z)),
                     (op.matvec(z), fcm.hessian() @ z)):
        assert np.linalg.norm(got - ref) <= 1e-13 * np.linalg.norm(ref)
    # translations are mass weighted: sqrt(m) per atom
    assert np.linalg.norm(op.matvec(op.null_basis[:, 0])) < 1e-10 * np.linalg.norm(op.matvec(z))
    _check_fused(op, z)


def _pairs_reference(op, z):
    """D = sum_p |z_j - z_i|^4 and zeta = dD/dz / 4 straight from the table's pair list (z as given)."""
    rec = op.fc.records
    i, j = np.asarray(rec["i"]), np.asarray(rec["j"])
    u = np.vstack([z.reshape(op.natoms, op.dimension), np.zeros((1, op.dimension))])
    dz = u[j] - u[i]                                   # j = -1: the zero row
    s = np.sum(dz * dz, axis=1)
    zeta = np.zeros((op.natoms + 1, op.dimension))
    np.add.at(zeta, j, s[:, None] * dz)
    np.add.at(zeta, i, -s[:, None] * dz)
    return float(s @ s), zeta[:op.natoms].ravel()


def _check_fused(op, z):
    """The one-pass products of a cost evaluation (M z from the pairs, gathered with g) equal the
    separate ones (M z from the sparse Hessian), and the block-Jacobi blocks summed from the pairs
    equal those of the matrix."""
    from glassmodes.nonlinear.operators import NonlinearOperator

    assert op.fused
    for kind in KINDS:
        mz, c, g = op.evaluate_products(kind, z)
        mz0 = op.matrix() @ z                          # the sparse Hessian
        c0, g0 = (_pairs_reference(op, z) if kind == "phm" else
                  (float(z @ (gg := getattr(op, kind)(z))), gg))
        assert np.linalg.norm(mz - mz0) <= 1e-13 * np.linalg.norm(mz0)
        assert np.linalg.norm(g - g0) <= 1e-13 * np.linalg.norm(g0)
        assert abs(c - c0) <= 1e-13 * abs(c0)
    blocks = NonlinearOperator.block_diagonal(op)
    assert np.max(np.abs(op.block_diagonal() - blocks)) <= 1e-13 * np.max(np.abs(blocks))


def test_fused_products_mass_weighted_file(op):
    """The same check on a table stored mass weighted (the default of write_fc3)."""
    _check_fused(op, op.project(np.random.default_rng(5).normal(size=op.ndof)))


# ---- synthetic oscillators: modes known exactly -----------------------------------------------

@pytest.mark.parametrize("method", ["lbfgs+map", "map", "lbfgs"])
@pytest.mark.parametrize("kind", KINDS)
def test_oscillator_modes_exact(kind, method):
    op, q = oscillators()
    rng = np.random.default_rng(3)
    for axis in (0, 3):
        seed = q[:, axis] + 0.2 * rng.normal(size=op.ndof)
        m = find_mode(op, kind=kind, seed=seed, method=method)
        got = int(np.argmax(np.abs(q.T @ m.pi)))
        assert m.converged and m.residual < 1e-8
        # a minimum of the cost is an axis; its kappa, tau, chi are that oscillator's
        assert abs(q[:, got] @ m.pi) > 1 - 1e-12
        assert m.kappa == pytest.approx(op.k[got], rel=1e-12)
        assert m.chi == pytest.approx(op.g[got], rel=1e-12)
        assert abs(m.tau) == pytest.approx(op.t[got], rel=1e-12)
        if kind == "cubic":
            assert m.tau > 0


def test_localized_beats_spread_equal_oscillators():
    """Equal k, g: E4 is k^2/g on an axis and 2 k^2/g on the diagonal, so a seed near the diagonal
    ends on an axis (the localization preference of quartic modes)."""
    n = 2
    op = OscillatorOperator(np.ones(n), np.ones(n), np.ones(n))
    m = find_mode(op, kind="quartic", seed=np.array([1.0, 0.97]))
    assert m.converged and np.max(np.abs(m.pi)) > 1 - 1e-12
    assert m.cost == pytest.approx(1.0, rel=1e-12)
    assert evaluate(op, "quartic", np.array([1.0, 1.0]) / np.sqrt(2)).cost == pytest.approx(2.0, rel=1e-12)


# ---- a glass ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_minimizer_and_map_same_mode(op, psi, kind):
    """From the same seed (psi for quartic and PHM, the quartic mode for cubic: the thesis' chain)
    the L-BFGS route and the fixed-point map alone reach the same mode."""
    seed = psi if kind != "cubic" else find_mode(op, kind="quartic", seed=psi).pi
    a = find_mode(op, kind=kind, seed=seed, method="lbfgs+map")
    b = find_mode(op, kind=kind, seed=seed, method="map")
    assert a.converged and b.converged
    assert a.overlap(b) > 1 - 1e-8
    assert a.kappa == pytest.approx(b.kappa, rel=1e-8)
    # translations removed, unit norm, the stationarity equation holds
    assert np.linalg.norm(op.null_basis.T @ a.pi) < 1e-12
    assert np.linalg.norm(a.pi) == pytest.approx(1.0, abs=1e-14)
    assert a.omega == pytest.approx(np.sqrt(a.kappa))


def test_petsc_solver_matches_scipy(op, psi):
    """PETSc CG + GAMG (translations as null space) and SciPy CG + block Jacobi solve M x = b alike,
    the warm start from the solution costs no iteration, and the map reaches the same mode with either."""
    from glassmodes.nonlinear import PetscCG, ScipyCG

    b = op.cubic(psi + 0.1)
    s1, s2 = ScipyCG(op), PetscCG(op)
    x1, x2 = s1.solve(b), s2.solve(b)
    assert np.linalg.norm(x1 - x2) <= 1e-9 * np.linalg.norm(x1)
    assert np.linalg.norm(op.null_basis.T @ x2) < 1e-12 * np.linalg.norm(x2)
    its = s2.iterations
    s2.solve(b, x2)
    assert s2.iterations - its <= 1
    a = find_mode(op, kind="phm", seed=psi, method="map", solver=s2)
    c = find_mode(op, kind="phm", seed=psi, method="map", solver=s1)
    assert a.converged and a.overlap(c) > 1 - 1e-8


def test_cubic_sign_and_even_map(op, psi):
    q = find_mode(op, kind="quartic", seed=psi)
    a = find_mode(op, kind="cubic", seed=q.pi)
    b = find_mode(op, kind="cubic", seed=-q.pi)
    assert a.tau > 0 and b.tau > 0
    assert float(a.pi @ b.pi) > 1 - 1e-8


def test_nonlinear_stiffer_than_harmonic(op, psi, glass):
    """kappa of the softest harmonic mode is the minimum of pi.M.pi: no nonlinear mode lies below."""
    with ModeFile(glass / "modes.h5") as mf:
        lam0 = float(mf.eigenvalues[0])
    for kind in KINDS:
        assert find_mode(op, kind=kind, seed=psi).kappa >= lam0 * (1 - 1e-12)


def test_unconverged_is_reported(op, psi):
    m = find_mode(op, kind="quartic", seed=psi, method="lbfgs", max_iter=3)
    assert not m.converged and m.residual > 1e-8 and "max_iter" in m.stop


def test_bad_seeds(op):
    t = op.null_basis[:, 0]
    with pytest.raises(NonlinearModeError, match="rigid translation"):
        find_mode(op, kind="cubic", seed=t * 3.0)
    with pytest.raises(NonlinearModeError, match="components"):
        find_mode(op, kind="cubic", seed=np.ones(5))
    with pytest.raises(ValueError, match="unknown nonlinear-mode kind"):
        find_mode(op, kind="sextic", seed=np.ones(op.ndof))


def test_quartic_needs_order4(glass):
    op3 = ForceConstantOperator(read_fc3(glass / "A3"))
    with pytest.raises(NonlinearModeError, match="order 4"):
        find_mode(op3, kind="quartic", seed=np.arange(op3.ndof, dtype=float))


def test_field_seed_from_data_file(glass):
    with ModeFile(glass / "modes.h5") as mf:
        zero = field_seed(glass / "A.data", mf)
        w = field_seed(glass / "B.data", mf)
    assert np.max(np.abs(zero)) < 1e-9               # same structure: no displacement
    assert 0 < np.max(np.abs(w)) <= 0.01 * np.sqrt(3) + 1e-9


# ---- CLI ----------------------------------------------------------------------------------------

def test_cli_file_and_export(glass, tmp_path, capsys):
    out = tmp_path / "nl.h5"
    rc = main(["nonlinear", str(glass / "modes.h5"), str(glass / "A"), "--kind", "quartic,cubic,phm",
               "--seeds", "lowest:2", "--field", str(glass / "B.data"), "-o", str(out),
               "--plot", str(tmp_path / "nl.png")])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "quartic  seed psi0" in text and "cubic    seed psi0->quartic" in text
    tab = read_nonlinear_table(out)
    assert set(tab) == set(KINDS)
    with ModeFile(out) as mf:
        om = mf.frequencies
        assert np.all(np.diff(om) >= 0)
        for kind, t in tab.items():
            assert np.all(t["converged"]) and np.all(t["residual"] < 1e-8)
            for row, w in zip(t["rows"], t["omega"]):
                assert om[row] == w
                v = mf.mode(int(row))
                assert float(v @ v) == pytest.approx(1.0)
    assert main(["export-mode", str(out), "--mode", "0", "-o", str(tmp_path / "m.xyz")]) == 0
    assert (tmp_path / "nl.png").stat().st_size > 0


def test_cli_bad_input(glass, tmp_path, capsys, tmp_path_factory):
    out = tmp_path / "nl.h5"
    rc = main(["nonlinear", str(glass / "modes.h5"), str(glass / "A3"), "--kind", "quartic", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "order 4" in err and "write_fc3" in err
    other = tmp_path_factory.mktemp("other")
    _write_glass(other, 999)
    rc = main(["nonlinear", str(glass / "modes.h5"), str(other / "A"), "--kind", "cubic", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "different structures" in err
    rc = main(["nonlinear", str(glass / "modes.h5"), str(glass / "A"), "--kind", "cubic", "--seeds", "none",
               "--field", str(glass / "A.data"), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "zero" in err
    rc = main(["nonlinear", str(glass / "modes.h5"), str(glass / "A"), "--kind", "cubic", "--seeds", "lowest:1",
               "--max-iter", "2", "--method", "lbfgs", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 3 and "did not reach" in err
    assert read_nonlinear_table(out)["cubic"]["converged"].tolist() == [False]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".nl.h5")]


def test_ranks_same_kappa(glass, tmp_path):
    """1, 2 and 4 MPI ranks (each holding a slice of the pair table) give the same kappa to 1e-10.

    Sums in another order change the path of the minimizer: kappa of a mode with residual r is
    off by ~r (first order), so the modes are converged to --tol 1e-11 here."""
    kappas = []
    for np_ in (1, 2, 4):
        out = tmp_path / f"nl{np_}.h5"
        env = dict(os.environ, OMP_NUM_THREADS="1")
        env.pop("GLASSMODES_UNDER_MPIRUN", None)
        cmd = [sys.executable, "-m", "glassmodes.cli.main", "nonlinear", str(glass / "modes.h5"), str(glass / "A"),
               "--kind", "quartic,cubic,phm", "--seeds", "lowest:1", "--np", str(np_), "--tol", "1e-11", "-o", str(out), "--quiet"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        tab = read_nonlinear_table(out)
        kappas.append(np.concatenate([tab[k]["kappa"] for k in KINDS]))
    for k in kappas[1:]:
        np.testing.assert_allclose(k, kappas[0], rtol=1e-10, atol=0)
