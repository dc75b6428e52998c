"""Dense backend: LAPACK through ``scipy.linalg.eigh`` on the full dynamical matrix.

Memory 8 (dN)^2 bytes and time O((dN)^3): for systems up to a few thousand atoms, or as the
reference the iterative backends are checked against.

* all modes: driver ``evd`` (divide and conquer, the fastest for the whole spectrum);
* the lowest ``k`` modes or a frequency window ``[w_min, w_max]``: driver ``evr`` (MRRR) with
  ``subset_by_index`` / ``subset_by_value``, which skips the unwanted eigenvectors.

The rigid translations (see :mod:`glassmodes.modes.core`) are removed from the computed null
space: the near-zero eigenvectors are projected orthogonally to the translations and the
``z - d`` remaining directions (rattlers, ...) are rediagonalized and kept.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla

from glassmodes.modes.core import (
    ModeError, Modes, Problem, eigenvalue_from_omega, finish, raise_unstable,
)


def _remove_translations(problem: Problem, lam: np.ndarray, vec: np.ndarray):
    """Drop the translation subspace from the near-zero cluster of a (lowest-end) solve."""
    T, nT = problem.T, problem.zero_modes.count
    thr = problem.zero_tol * problem.scale
    zero = np.abs(lam) <= thr
    z = int(zero.sum())
    if nT == 0 or z == 0:
        return lam, vec
    if z < nT:
        raise ModeError(
            f"dense: the translations are null vectors of D but only {z} computed eigenvalue(s) "
            f"have |lambda| <= {thr:.3e} (expected at least {nT}): inconsistent matrix"
        )
    Z = vec[:, zero]
    PZ = Z - T @ (T.T @ Z)
    keep_lam, keep_vec = lam[~zero], vec[:, ~zero]
    if z > nT:
        U, s, _ = np.linalg.svd(PZ, full_matrices=False)
        E = U[:, : z - nT]
        B = E.T @ (problem.D @ E)
        mu, W = np.linalg.eigh(0.5 * (B + B.T))
        keep_lam = np.concatenate([mu, keep_lam])
        keep_vec = np.column_stack([E @ W, keep_vec])
    return keep_lam, keep_vec


def _negative_inertia(A: np.ndarray, shift: float) -> int:
    """Number of eigenvalues of A below ``shift``, from a Bunch-Kaufman LDL^T factorization."""
    _, Dblk, _ = sla.ldl(A - shift * np.eye(A.shape[0]), lower=True, hermitian=True)
    n, i, neg = Dblk.shape[0], 0, 0
    while i < n:
        if i + 1 < n and Dblk[i + 1, i] != 0.0:
            neg += int(np.sum(np.linalg.eigvalsh(Dblk[i:i + 2, i:i + 2]) < 0))
            i += 2
        else:
            neg += int(Dblk[i, i] < 0)
            i += 1
    return neg


def solve_dense(problem: Problem, k: int | None = None, w_max: float | None = None,
                w_min: float | None = None, driver: str | None = None, progress=None) -> Modes:
    """All modes, the lowest ``k``, or those with ``w_min <= omega <= w_max`` (omega in rad/time).

    Parameters
    ----------
    problem : Problem
        From :func:`glassmodes.modes.core.prepare`.
    k : int, optional
        Number of lowest non-translational modes.
    w_max, w_min : float, optional
        Angular-frequency window, rad per time unit of the unit style.
    driver : str, optional
        LAPACK driver for ``scipy.linalg.eigh``; default ``evd`` (all) or ``evr`` (subsets).
    progress : callable(str), optional
        Receives progress messages.
    """
    t0 = time.perf_counter()
    n = problem.D.shape[0]
    nT = problem.zero_modes.count
    thr = problem.zero_tol * problem.scale
    A = problem.D.toarray()
    notes: list[str] = []
    lam_hi = eigenvalue_from_omega(w_max, problem.units) if w_max is not None else None
    lam_lo = eigenvalue_from_omega(w_min, problem.units) if w_min else None
    say = progress or (lambda msg: None)

    if k is None and lam_hi is None and lam_lo is None:
        drv = driver or "evd"
        say(f"dense: all {n} eigenpairs of a {n}x{n} matrix (driver {drv})")
        lam, vec = sla.eigh(A, driver=drv, overwrite_a=True, check_finite=False)
        complete = float("inf")
    elif lam_hi is None and lam_lo is None:
        if k <= 0:
            raise ModeError(f"k must be positive, got {k}")
        top = min(n, k + nT) - 1
        drv = driver or "evr"
        say(f"dense: lowest {top + 1} eigenpairs of a {n}x{n} matrix (driver {drv})")
        lam, vec = sla.eigh(A, driver=drv, subset_by_index=[0, top], overwrite_a=True,
                            check_finite=False)
        complete = float(lam[-1]) if top < n - 1 else float("inf")
    else:
        lo = -np.inf if lam_lo is None else lam_lo
        hi = np.inf if lam_hi is None else lam_hi
        drv = driver or "evr"
        if lam_lo is not None:
            neg = _negative_inertia(A, -thr)
            if neg:
                low = sla.eigh(A, eigvals_only=True, subset_by_index=[0, neg - 1], check_finite=False)
                raise_unstable(low, problem.scale, problem.zero_tol, problem.zero_modes, count=neg)
        say(f"dense: eigenpairs with {lo:.4g} < lambda <= {hi:.4g} of a {n}x{n} matrix (driver {drv})")
        lam, vec = sla.eigh(A, driver=drv, subset_by_value=(lo, hi), overwrite_a=True,
                            check_finite=False)
        complete = hi if lam_lo is None else float("nan")
        if lam_lo is not None:
            notes.append(f"window {w_min} <= omega <= {w_max}: modes below w_min not computed")

    del A
    if lam_lo is None:
        lam, vec = _remove_translations(problem, lam, vec)
    if k is not None and lam.size > k:
        lam, vec = lam[:k], vec[:, :k]
        complete = float(lam[-1])
    if k is not None and lam.size < k:
        notes.append(f"asked for {k} modes, {lam.size} exist in the window")
    return finish(problem, lam, vec, backend="dense", method=drv, tol=0.0, iterations=0,
                  options={"driver": drv}, notes=notes, seconds=time.perf_counter() - t0,
                  complete_below=complete)
