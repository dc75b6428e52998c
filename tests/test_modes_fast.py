"""Issue 19: the plane-wave starting subspace, the Chebyshev-filtered subspace iteration
(glassmodes.modes.fast) and the block-applied GAMG (``inner="gamg-block"``) of the slepc backend,
each checked by an independent route: the dense LAPACK
spectrum of the same matrix, the analytic FCC dispersion, numpy's Chebyshev polynomials, and the
1-rank result under 2 ranks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("slepc4py")

from glassmodes.io.hessian import atoms_path, write_hessian  # noqa: E402
from glassmodes.modes import ModeError, ModeFile, degenerate_groups, solve_modes  # noqa: E402
from glassmodes.modes import fast  # noqa: E402
from glassmodes.modes.models import fcc_box_spectrum, fcc_lj, spring_network  # noqa: E402

TESTS = Path(__file__).resolve().parent
MPI_SCRIPTS = TESTS / "mpi_scripts"
EIG_RTOL = 1e-10   # the acceptance: the same eigenvalues to 1e-10 relative
RES_TOL = 1e-10    # residuals |D x - lambda x| / |D|_inf
VEC_TOL = 1e-8     # 1 - smallest principal cosine per degenerate group


def save_hessian(path: Path, h) -> Path:
    write_hessian(path, h.matrix, h.meta, h.atoms)
    with open(atoms_path(path), "wb") as f:   # see tests/test_modes.py: save_hessian
        np.save(f, h.atoms)
    for stray in path.parent.glob(f".{path.name}.atoms.npy.*"):
        stray.unlink()
    return path


@pytest.fixture(scope="module")
def glass():
    return spring_network(512, seed=7, mass_ratio=2.0)


@pytest.fixture(scope="module")
def reference(glass):
    return solve_modes(glass, backend="dense", k=60)


def assert_same_modes(a, b, n: int, label: str) -> None:
    rel = np.max(np.abs(b.eigenvalues[:n] / a.eigenvalues[:n] - 1))
    assert rel < EIG_RTOL, f"{label}: eigenvalues differ by {rel:.2e} relative"
    for g in degenerate_groups(a.eigenvalues[: n + 10], rtol=1e-6):
        if g[-1] >= n:
            break
        s = np.linalg.svd(a.vectors[:, g].T @ b.vectors[:, g], compute_uv=False)
        assert 1 - s.min() < VEC_TOL, f"{label}: eigenvectors of group {g} differ ({1 - s.min():.1e})"


# -- the building blocks -------------------------------------------------------------------------

def _petsc_diag(values):
    from petsc4py import PETSc

    n = len(values)
    A = PETSc.Mat().createAIJ(size=(n, n), nnz=1, comm=PETSc.COMM_SELF)
    for i, v in enumerate(values):
        A.setValue(i, i, v)
    A.assemble()
    return PETSc, A


def test_filter_is_the_scaled_chebyshev_polynomial():
    """On a diagonal matrix the filter multiplies each component by T_k((l - c)/e) / T_k((a0 - c)/e),
    evaluated independently with numpy.polynomial.chebyshev."""
    lam = np.linspace(0.05, 10.0, 40)
    PETSc, A = _petsc_diag(lam)
    op = fast.BlockOp(PETSc, A)
    X = np.asfortranarray(np.random.default_rng(1).standard_normal((40, 3)))
    a, b, a0, k = 2.0, 10.5, 0.05, 17
    Y = fast.chebyshev_filter(op, X, k, a, b, a0)
    e, c = (b - a) / 2, (b + a) / 2
    coef = np.zeros(k + 1)
    coef[-1] = 1
    p = np.polynomial.chebyshev.chebval((lam - c) / e, coef) / np.polynomial.chebyshev.chebval((a0 - c) / e, coef)
    np.testing.assert_allclose(Y, p[:, None] * X, rtol=1e-10, atol=1e-12)
    assert op.products == 3 * k
    assert np.all(np.abs(p[lam >= a]) <= 1 / np.cosh(k * np.arccosh((c - a0) / e)) * (1 + 1e-9))
    op.destroy()
    A.destroy()


def test_random_block_does_not_depend_on_the_row_split():
    n = 3 * fast.RANDOM_CHUNK + 17
    full = fast.random_block(n, 0, n, 4, seed=3)
    for cut in (1, fast.RANDOM_CHUNK - 1, fast.RANDOM_CHUNK, 2 * fast.RANDOM_CHUNK + 5):
        parts = np.vstack([fast.random_block(n, 0, cut, 4, seed=3), fast.random_block(n, cut, n, 4, seed=3)])
        np.testing.assert_array_equal(parts, full)


def test_reciprocal_shells_whole_shells_no_pairs():
    box = {"boxlo": [0, 0, 0], "boxhi": [5.0, 5.0, 5.0], "xy": 0.0, "xz": 0.0, "yz": 0.0}
    q1 = fast.reciprocal_shells(box, 3, 3)
    assert q1.shape == (3, 3)
    assert np.allclose(np.linalg.norm(q1, axis=1), 2 * np.pi / 5)
    q2 = fast.reciprocal_shells(box, 3, 4)   # the second shell is taken whole: 3 + 6
    assert q2.shape == (9, 3)
    for i in range(len(q2)):                 # never both q and -q
        assert not np.any(np.all(np.isclose(q2, -q2[i]), axis=1))


def _serial_operator(glass):
    """The dynamical matrix (scipy), as a one-rank PETSc matrix, and its block product."""
    from petsc4py import PETSc

    D = glass.dynamical_matrix().tocsr()
    D.sort_indices()
    A = PETSc.Mat().createAIJ(size=D.shape, csr=(D.indptr.astype(PETSc.IntType), D.indices.astype(PETSc.IntType),
                                                  D.data), comm=PETSc.COMM_SELF)
    A.assemble()
    return D, A, fast.BlockOp(PETSc, A)


def test_lanczos_bound_lies_above_the_spectrum(glass):
    from mpi4py import MPI

    D, A, op = _serial_operator(glass)
    gersh = float(abs(D).sum(axis=1).max())
    top = float(np.linalg.eigvalsh(D.toarray())[-1])
    b = fast.lanczos_upper_bound(MPI.COMM_SELF, op, D.shape[0], 0, None, gersh)
    assert top <= b <= gersh * (1 + 1e-12)
    op.destroy()
    A.destroy()


# -- whole solves against the dense spectrum --------------------------------------------------------

def test_chebyshev_agrees_with_dense(glass, reference):
    m = solve_modes(glass, backend="slepc", k=50, method="chebyshev")
    assert m.info.method == "chebyshev-filtered-subspace+planewave-start"
    assert m.info.residual_norms.max() < RES_TOL
    assert m.info.options["block_products"] > 0 and m.info.options["block_size"] == 75
    assert_same_modes(reference, m, 50, "chebyshev vs dense")
    rnd = solve_modes(glass, backend="slepc", k=50, method="chebyshev", start="random", max_degree=40)
    assert rnd.info.options["start"] == "random"
    assert_same_modes(reference, rnd, 50, "chebyshev (random start, degree <= 40) vs dense")


def test_lobpcg_plane_wave_start_agrees_with_dense(glass, reference):
    m = solve_modes(glass, backend="slepc", k=50, method="lobpcg", start="planewaves")
    assert m.info.method.endswith("+planewave-start") and m.info.options["start"] == "planewaves"
    assert m.info.residual_norms.max() < RES_TOL
    assert_same_modes(reference, m, 50, "lobpcg from plane waves vs dense")


def test_lobpcg_block_gamg_agrees_with_dense(glass, reference):
    """GAMG with Richardson-Jacobi smoothers, applied to LOBPCG's whole block (PCMatApply)."""
    m = solve_modes(glass, backend="slepc", k=50, method="lobpcg", inner="gamg-block")
    assert m.info.method == "lobpcg+precond-gamg-block"
    assert m.info.residual_norms.max() < RES_TOL
    assert_same_modes(reference, m, 50, "lobpcg + block GAMG vs dense")


def _assert_norm_criterion(m, tol: float = 1e-10) -> None:
    """``conv="norm"``: every residual within SLEPc's EPS_CONV_NORM bound ``tol (|D|_inf + |lambda|)``
    (the reported residuals are divided by ``|D|_inf``)."""
    bound = tol * (1 + np.abs(m.eigenvalues) / m.info.scale)
    assert np.all(m.info.residual_norms <= bound), (m.info.residual_norms / bound).max()


@pytest.mark.parametrize("inner", ["gamg", "gamg-block"])
def test_lobpcg_norm_test_and_rigid_near_null_agree_with_dense(glass, reference, inner):
    """Issue 19's fast LOBPCG: the convergence test relative to |D| (EPS_CONV_NORM) and GAMG with
    the rotations in its near null space give the dense eigenpairs to 1e-10."""
    m = solve_modes(glass, backend="slepc", k=50, method="lobpcg", inner=inner, conv="norm", near_null="rigid")
    assert m.info.options["conv"] == "norm" and m.info.options["near_null"] == "rigid"
    _assert_norm_criterion(m)
    assert_same_modes(reference, m, 50, f"lobpcg ({inner}, conv norm, rigid near null) vs dense")
    rel = solve_modes(glass, backend="slepc", k=50, method="lobpcg", inner=inner, near_null="rigid")
    assert rel.info.residual_norms.max() < RES_TOL
    assert_same_modes(reference, rel, 50, f"lobpcg ({inner}, rigid near null) vs dense")


def test_chebyshev_norm_test_agrees_with_dense(glass, reference):
    m = solve_modes(glass, backend="slepc", k=50, method="chebyshev", conv="norm")
    assert m.info.residual_norms.max() <= 1e-10   # chebyshev's norm test: |r| <= tol |D|_inf
    assert_same_modes(reference, m, 50, "chebyshev (conv norm) vs dense")


def test_rigid_near_null_space_is_orthonormal_and_holds_the_rotations(glass):
    """The rotations' span: sqrt(m) (e_a x x_i) lies in the span of the 6 vectors."""
    from petsc4py import PETSc

    from glassmodes.modes import slepc_backend as sb

    dist = sb._load(PETSc, glass, PETSc.COMM_SELF, 1e-8)
    T = sb._translations(dist)
    V = np.column_stack([v.getArray() for v in sb._rigid_body_modes(dist, T)])
    assert V.shape == (glass.matrix.shape[0], 6)
    assert np.allclose(V.T @ V, np.eye(6), atol=1e-12)
    x, sm = glass.atoms["x"], np.sqrt(glass.atoms["mass"])
    for a in range(3):
        rot = (sm[:, None] * np.cross(np.eye(3)[a], x - x.mean(axis=0))).ravel()
        assert np.linalg.norm(rot - V @ (V.T @ rot)) < 1e-10 * np.linalg.norm(rot)
    dist.A.destroy()
    # 2D: two translations and one rotation, and the 2D solve agrees with dense
    flat = spring_network(144, dimension=2, seed=3)
    dist = sb._load(PETSc, flat, PETSc.COMM_SELF, 1e-8)
    V = np.column_stack([v.getArray() for v in sb._rigid_body_modes(dist, sb._translations(dist))])
    assert V.shape == (flat.matrix.shape[0], 3) and np.allclose(V.T @ V, np.eye(3), atol=1e-12)
    x2 = flat.atoms["x"][:, :2] - flat.atoms["x"][:, :2].mean(axis=0)
    rot = (np.sqrt(flat.atoms["mass"])[:, None] * np.column_stack([-x2[:, 1], x2[:, 0]])).ravel()
    assert np.linalg.norm(rot - V @ (V.T @ rot)) < 1e-10 * np.linalg.norm(rot)
    dist.A.destroy()
    m = solve_modes(flat, backend="slepc", k=20, method="lobpcg", near_null="rigid", conv="norm")
    assert_same_modes(solve_modes(flat, backend="dense", k=30), m, 20, "2D lobpcg (rigid, norm) vs dense")


def test_plane_wave_start_is_close_to_the_lowest_band(glass, reference):
    """The start's Ritz values bound the true eigenvalues from above (Courant-Fischer), and its
    lowest Ritz value lies within a factor 2 of the lowest eigenvalue: the plane waves carry the
    low end of the spectrum."""
    from mpi4py import MPI

    D, A, op = _serial_operator(glass)
    T = np.column_stack([np.tile(np.eye(3)[a], glass.atoms.size) * np.repeat(np.sqrt(glass.atoms["mass"]), 3)
                         for a in range(3)])
    T /= np.linalg.norm(T, axis=0)
    X, theta = fast.plane_wave_start(MPI.COMM_SELF, op, glass.atoms["x"], glass.atoms["mass"], glass.meta["box"],
                                     20, T, 0)
    lam = reference.eigenvalues
    assert np.all(theta >= lam[:20] * (1 - 1e-12))
    assert theta[0] < 2 * lam[0]
    assert np.abs(T.T @ X).max() < 1e-12 and np.allclose(X.T @ X, np.eye(20), atol=1e-12)
    op.destroy()
    A.destroy()


def test_chebyshev_finds_every_copy_of_fcc_degenerate_levels():
    """A perfect FCC crystal (256 atoms): the lowest 30 modes are whole degenerate levels of the
    analytic D(q); a block method must return every copy (Krylov methods can miss some)."""
    cutoff = 2.5
    h = fcc_lj(4, cutoff=cutoff)
    lam, _ = fcc_box_spectrum(4, cutoff=cutoff)
    m = solve_modes(h, backend="slepc", k=30, method="chebyshev")
    assert np.max(np.abs(m.eigenvalues - lam[3:33])) < 1e-10 * m.info.scale
    assert m.info.residual_norms.max() < RES_TOL


def test_lobpcg_norm_test_finds_every_copy_of_fcc_degenerate_levels():
    """The fast LOBPCG (its completeness re-search stops at an absolute residual, 1e-4 of the top
    eigenvalue) on the FCC crystal: every copy of the degenerate levels of the analytic D(q)."""
    cutoff = 2.5
    h = fcc_lj(4, cutoff=cutoff)
    lam, _ = fcc_box_spectrum(4, cutoff=cutoff)
    m = solve_modes(h, backend="slepc", k=30, method="lobpcg", inner="gamg-block", conv="norm",
                    near_null="rigid")
    assert np.max(np.abs(m.eigenvalues - lam[3:33])) < 1e-10 * m.info.scale
    _assert_norm_criterion(m)


def test_bad_options_give_clear_errors(glass):
    with pytest.raises(ModeError, match="unknown start 'sine'"):
        solve_modes(glass, backend="slepc", k=5, method="lobpcg", start="sine")
    with pytest.raises(ModeError, match="planewaves' is for the lobpcg and chebyshev"):
        solve_modes(glass, backend="slepc", k=5, method="krylovschur", start="planewaves")
    with pytest.raises(ModeError, match="max_degree must be at least 2"):
        solve_modes(glass, backend="slepc", k=5, method="chebyshev", max_degree=1)
    with pytest.raises(ModeError, match=r"unknown inner preconditioner 'amg' \(gamg, icc, gamg-block\)"):
        solve_modes(glass, backend="slepc", k=5, method="lobpcg", inner="amg")
    with pytest.raises(ModeError, match=r"unknown convergence test 'abs' \(relative, norm\)"):
        solve_modes(glass, backend="slepc", k=5, method="lobpcg", conv="abs")
    with pytest.raises(ModeError, match=r"conv='norm' is for the lobpcg and chebyshev methods"):
        solve_modes(glass, backend="slepc", k=5, method="krylovschur", conv="norm")
    with pytest.raises(ModeError, match=r"unknown near null space 'rbm' \(translations, rigid\)"):
        solve_modes(glass, backend="slepc", k=5, method="lobpcg", near_null="rbm")
    with pytest.raises(ModeError, match="unknown method 'cheb'"):
        solve_modes(glass, backend="slepc", k=5, method="cheb")
    with pytest.raises(ModeError, match=r"chebyshev: 0 of 40 eigenpairs converged in 1 outer steps"):
        solve_modes(glass, backend="slepc", k=40, method="chebyshev", max_it=1)


def test_plane_wave_start_needs_the_box(glass):
    from glassmodes.io.hessian import Hessian

    meta = {k: v for k, v in glass.meta.items() if k != "box"}
    h = Hessian(glass.matrix, meta, glass.atoms)
    with pytest.raises(ModeError, match="needs the box in the Hessian's sidecar"):
        solve_modes(h, backend="slepc", k=5, method="chebyshev")


# -- ranks and the command line --------------------------------------------------------------------

@pytest.mark.mpi
def test_chebyshev_two_ranks_cli_equal_one_rank(tmp_path, glass, reference, mpirun):
    """`glassmodes modes --backend slepc --method chebyshev` on 2 ranks: the same eigenpairs as
    one rank in-process (1e-10) and as the dense backend."""
    path = save_hessian(tmp_path / "H", glass)
    out = tmp_path / "m.h5"
    mpirun(2, MPI_SCRIPTS / "cli_subcommand.py", "modes", path, "--backend", "slepc", "--k", "50", "-o", out,
           "--method", "chebyshev", "--quiet", timeout=300)
    one = solve_modes(path, backend="slepc", k=50, method="chebyshev")
    with ModeFile(out) as mf:
        assert mf.solver.options["nprocs"] == 2 and mf.solver.method.startswith("chebyshev")
        assert np.max(np.abs(mf.eigenvalues / one.eigenvalues - 1)) < EIG_RTOL
        two_vectors = mf.vectors()
    assert two_vectors.shape == one.vectors.shape
    assert_same_modes(reference, one, 50, "chebyshev 1 rank vs dense")
    for g in degenerate_groups(one.eigenvalues, rtol=1e-6):
        s = np.linalg.svd(one.vectors[:, g].T @ two_vectors[:, g], compute_uv=False)
        assert 1 - s.min() < VEC_TOL, f"1 vs 2 ranks: group {g} differs ({1 - s.min():.1e})"


@pytest.mark.mpi
def test_fast_lobpcg_two_ranks_cli_equal_one_rank(tmp_path, glass, reference, mpirun):
    """`--method lobpcg --inner gamg-block --conv norm --near-null rigid` on 2 ranks: the same
    eigenvalues as one rank in-process (1e-10) and as the dense backend."""
    path = save_hessian(tmp_path / "H", glass)
    out = tmp_path / "m.h5"
    fast_opts = ["--method", "lobpcg", "--inner", "gamg-block", "--conv", "norm", "--near-null", "rigid"]
    mpirun(2, MPI_SCRIPTS / "cli_subcommand.py", "modes", path, "--backend", "slepc", "--k", "50", "-o", out,
           *fast_opts, "--quiet", timeout=300)
    one = solve_modes(path, backend="slepc", k=50, method="lobpcg", inner="gamg-block", conv="norm",
                      near_null="rigid")
    with ModeFile(out) as mf:
        assert mf.solver.options["nprocs"] == 2 and mf.solver.options["conv"] == "norm"
        assert mf.solver.options["near_null"] == "rigid"
        assert np.max(np.abs(mf.eigenvalues / one.eigenvalues - 1)) < EIG_RTOL
        assert np.max(np.abs(mf.eigenvalues / reference.eigenvalues[:50] - 1)) < EIG_RTOL
