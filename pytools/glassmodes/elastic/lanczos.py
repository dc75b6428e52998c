"""Transverse spectral lines without a diagonalization: shift-invert Lanczos quadrature and Sylvester counts.

The spectral line of a unit start vector ``v`` (a mass-weighted transverse plane wave, see
:mod:`glassmodes.elastic.attenuation`) is its local density of states in the spectrum of the
dynamical matrix ``D = M^-1/2 H M^-1/2``: ``mu_v(lambda) = sum_l (e_l . v)^2 delta(lambda - lambda_l)``.

* **Gauss quadrature.** ``m`` Lanczos steps on an operator ``A`` from ``v`` give a tridiagonal
  ``T_m``; its eigenvalues (Ritz values) and the squared first components of its eigenvectors are
  the nodes and weights of the m-point Gauss quadrature of ``mu_v`` (Golub and Meurant, *Matrices,
  Moments and Quadrature with Applications*, Princeton 2010, ch. 6), exact for polynomials of
  degree ``<= 2m - 1`` in the operator's eigenvalues. The staircase of its cumulative weight
  brackets the true cumulative distribution at every node (Chebyshev-Markov-Stieltjes), so the
  cumulative Lorentzian fit of :func:`glassmodes.elastic.attenuation.lorentzian_fit` applies to
  the nodes as it does to the modes.
* **Shift-invert.** With ``A = (D - sigma I)^-1`` (``sigma`` near the line, e.g. ``(c_T k)^2``)
  the quadrature is exact for polynomials in ``1/(lambda - sigma)``, so its nodes crowd around
  ``sigma`` and resolve the line after a few hundred steps, whatever the size; the eigenvalues
  are ``lambda = sigma + 1/theta``. The LU factors (SuperLU, symmetric mode, diagonal pivots)
  cost one sparse factorization per shift; in 2D the fill is ``O(n log n)``.
* **Sylvester counts.** The same symmetric factorization ``P (D - x I) P^T = L U`` with diagonal
  pivots is ``L diag(u) L^T`` up to scaling, so the number of eigenvalues of ``D`` below ``x`` is
  the number of negative pivots ``u_ii`` (Sylvester's law of inertia). It gives the exact number of
  modes inside a line without computing them (the line-resolution test).

Full re-orthogonalization (two classical Gram-Schmidt passes per step) keeps the Ritz values free
of spurious copies. Translations are projected out of the start vector (the mode route drops the
zero modes in the same way).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import eigh_tridiagonal

from glassmodes.elastic.terms import ElasticError


def lanczos_tridiagonal(apply, v0: np.ndarray, steps: int) -> tuple:
    """Lanczos recurrence with full re-orthogonalization.

    Parameters
    ----------
    apply : callable
        ``apply(x) -> A x`` for a symmetric operator A, x of shape (n,).
    v0 : ndarray, shape=(n,)
        Start vector (normalized here).
    steps : int
        Largest number of steps m; stops early when the Krylov space is invariant
        (``beta < 1e-12 |alpha|``), then the quadrature is exact.

    Returns
    -------
    alpha : ndarray, shape=(m,)
        Diagonal of T_m.
    beta : ndarray, shape=(m-1,)
        Off-diagonal of T_m.
    """
    v = np.asarray(v0, dtype=float)
    nrm = np.linalg.norm(v)
    if not nrm > 0:
        raise ElasticError("Lanczos start vector is zero")
    m = int(min(steps, v.size))
    Q = np.empty((m, v.size))
    Q[0] = v / nrm
    alpha, beta = [], []
    for j in range(m):
        w = apply(Q[j])
        a = float(Q[j] @ w)
        alpha.append(a)
        for _ in range(2):
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        b = float(np.linalg.norm(w))
        if j == m - 1 or b <= 1e-12 * max(abs(a), 1e-300):
            break
        beta.append(b)
        Q[j + 1] = w / b
    return np.array(alpha), np.array(beta)


def gauss_quadrature(alpha: np.ndarray, beta: np.ndarray) -> tuple:
    """Nodes and weights (sum 1) of the Gauss quadrature of a tridiagonal T, shapes (m,), (m,).

    >>> a, b = lanczos_tridiagonal(lambda x: np.arange(1.0, 6.0) * x, np.ones(5), 5)
    >>> [round(float(x), 12) for x in gauss_quadrature(a, b)[0]]
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    if len(alpha) == 1:
        return np.array(alpha, dtype=float), np.ones(1)
    theta, s = eigh_tridiagonal(alpha, beta)
    return theta, s[0] ** 2


class SymmetricShift:
    """Symmetric LU of ``D - sigma I`` (SuperLU, diagonal pivots): solves and the inertia.

    Parameters
    ----------
    D : sparse matrix, shape=(n, n)
        Symmetric (the dynamical matrix, 1/time^2).
    sigma : float
        Shift (same units).
    """

    def __init__(self, D, sigma: float):
        A = sp.csc_matrix(D - sigma * sp.identity(D.shape[0], format="csc"))
        try:
            self.lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                                options={"SymmetricMode": True})
        except RuntimeError as exc:  # exactly singular at sigma
            raise ElasticError(f"D - sigma I is singular at sigma = {sigma:.6g}: {exc}") from None
        if not np.array_equal(self.lu.perm_r, self.lu.perm_c):
            raise ElasticError("the LU factorization used off-diagonal pivots; the inertia count is not valid")
        self.sigma = float(sigma)

    def solve(self, x: np.ndarray) -> np.ndarray:
        return self.lu.solve(x)

    def count_below(self) -> int:
        """Number of eigenvalues of D below sigma (negative pivots)."""
        return int(np.count_nonzero(self.lu.U.diagonal() < 0))


def eigen_count(D, x: float) -> int:
    """Number of eigenvalues of the symmetric sparse ``D`` below ``x`` (Sylvester's law of inertia).

    >>> D = sp.diags([2.0, -1.0, 5.0, 3.0])
    >>> eigen_count(D, 2.5), eigen_count(D, 0.0)
    (2, 1)
    """
    return SymmetricShift(D, x).count_below()


def project_translations(v: np.ndarray, masses: np.ndarray, dim: int) -> np.ndarray:
    """Remove the mass-weighted rigid translations ``sqrt(m_i) e_a`` from v and renormalize, shape=(d*N,)."""
    sm = np.sqrt(np.asarray(masses, dtype=float))
    u = v.reshape(-1, dim).copy()
    for a in range(dim):
        u[:, a] -= sm * (sm @ u[:, a]) / (sm @ sm)
    u = u.ravel()
    return u / np.linalg.norm(u)


def line_measure(shift: SymmetricShift, v: np.ndarray, steps: int) -> tuple:
    """Gauss quadrature of the spectral measure of v, in omega, by shift-invert Lanczos.

    Parameters
    ----------
    shift : SymmetricShift
        Factorization of ``D - sigma I``.
    v : ndarray, shape=(d*N,)
        Unit start vector orthogonal to the translations.
    steps : int
        Lanczos steps m.

    Returns
    -------
    omega : ndarray, shape=(k,)
        Nodes ``sqrt(lambda)`` with lambda > 0 (omega units of D: rad/time).
    weights : ndarray, shape=(k,)
        Their weights (sum <= 1).
    dropped : float
        Weight of the nodes at lambda <= 0 (a Gauss node may fall in the gap below the spectrum;
        it carries a tiny weight when the measure has no support there).
    """
    alpha, beta = lanczos_tridiagonal(shift.solve, v, steps)
    theta, w = gauss_quadrature(alpha, beta)
    with np.errstate(divide="ignore"):
        lam = shift.sigma + 1.0 / theta
    ok = np.isfinite(lam) & (lam > 0)
    return np.sqrt(lam[ok]), w[ok], float(w[~ok].sum())
