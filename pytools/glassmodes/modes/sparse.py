"""Sparse backend: ARPACK (``scipy.sparse.linalg.eigsh``) in shift-and-invert mode on a SuperLU
factorization, with spectrum slicing certified by Sylvester inertia.

Method
------
For a shift ``s`` the matrix ``D - s I`` is factorized once by SuperLU in symmetric mode with
diagonal pivoting (``diag_pivot_thresh=0``, ``SymmetricMode``): then ``P (D - s I) P^T = L U``
with ``U = diag(u) L^T`` and, by Sylvester's law of inertia, the number of eigenvalues of ``D``
below ``s`` is ``nu(s) = #{u_i < 0}``. ARPACK's Lanczos iteration on the deflated operator
``OP = Q (D - s I)^-1 Q``, ``Q = I - T T^T`` (``T`` the mass-weighted rigid translations),
returns the eigenvalues nearest ``s`` (``lambda = s + 1/theta``, then refined by the Rayleigh
quotient ``v^T D v``).

* First window: ``s_0 = -zero_tol * scale``; ``nu(s_0)`` is exactly the number of eigenvalues
  below ``-zero_tol * scale`` (negative beyond round-off), so an unstable structure is detected
  with the exact count even when the negative eigenvalues are far from the window.
* ``k`` lowest / all below ``w_max``: windows of ``chunk`` eigenvalues slide upwards. Each
  window's accepted eigenvalues end at a bound ``b`` placed in a spectral gap (the window's top
  cluster, possibly an incomplete degenerate group, is left to the next window). The next shift
  ``s > b`` is factorized and ``nu(s)`` must equal ``d + (modes accepted so far) + (eigenvalues
  of the new window in [b, s))``; otherwise the window missed eigenvalues and is redone with a
  shift closer to ``b``. A last factorization at the final bound certifies that no eigenvalue
  below it was missed (``SolverInfo.complete_below``).

If SuperLU pivots off the diagonal anyway (``perm_r != perm_c``; never seen for these
matrices) the inertia is unavailable; the solve goes on and says so in ``SolverInfo.notes``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from glassmodes.modes.core import (
    ModeError, Modes, Problem, eigenvalue_from_omega, finish, omega_from_eigenvalues, raise_unstable,
)

DEFAULT_CHUNK = 100


class _Factor:
    """SuperLU of ``D - s I`` with the inertia ``nu(s)`` (None if unavailable)."""

    def __init__(self, D: sp.csr_matrix, shift: float):
        n = D.shape[0]
        A = sp.csc_matrix(D - shift * sp.identity(n, format="csr"))
        try:
            self.lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                                options={"SymmetricMode": True})
        except RuntimeError as exc:  # exactly singular: nudge the shift
            raise ZeroDivisionError(str(exc)) from None
        self.shift = shift
        if np.array_equal(self.lu.perm_r, self.lu.perm_c):
            self.inertia = int(np.sum(self.lu.U.diagonal() < 0))
        else:
            self.inertia = None


def _factor(D, shift, scale):
    for attempt in range(5):
        try:
            return _Factor(D, shift)
        except ZeroDivisionError:
            shift += 1e-10 * scale * (attempt + 1)
    raise ModeError(f"sparse: D - s I is singular for every shift tried near {shift:.6e}")


def _window(problem: Problem, fac: _Factor, m: int, tol: float, ncv: int | None, rng,
            Y: np.ndarray | None = None):
    """The ``m`` eigenpairs nearest ``fac.shift``, ``Y`` (orthonormal columns: the translations and
    eigenvectors already found) deflated; Rayleigh-refined, sorted."""
    n = problem.D.shape[0]

    def op(x):
        x = np.asarray(x, dtype=float).ravel()
        if Y is not None:
            x = x - Y @ (Y.T @ x)
        y = fac.lu.solve(x)
        if Y is not None:
            y = y - Y @ (Y.T @ y)
        return y

    nfree = n - (Y.shape[1] if Y is not None else 0)
    m = min(m, nfree - 1)
    if m < 1:
        raise ModeError(f"sparse: {nfree} free degrees of freedom, too few for ARPACK (use dense)")
    ncv = min(nfree, ncv or max(2 * m + 1, m + 32))
    v0 = rng.standard_normal(n)
    if Y is not None:
        v0 -= Y @ (Y.T @ v0)
    A = spla.LinearOperator((n, n), matvec=op, dtype=float)
    try:
        theta, V = spla.eigsh(A, k=m, which="LM", v0=v0, ncv=ncv, tol=tol, maxiter=max(1000, 20 * n // ncv))
    except spla.ArpackNoConvergence as exc:
        raise ModeError(
            f"sparse: ARPACK did not converge ({len(exc.eigenvalues)} of {m} eigenpairs near shift "
            f"{fac.shift:.4e}); try a larger ncv or a looser tol"
        ) from None
    if Y is not None:
        V = V - Y @ (Y.T @ V)
    V, _ = np.linalg.qr(V)  # re-orthonormalize (degenerate Ritz vectors)
    B = V.T @ (problem.D @ V)  # Rayleigh-Ritz in the window's subspace
    lam, W = np.linalg.eigh(0.5 * (B + B.T))
    return lam, V @ W


def _gap_bound(vals: np.ndarray, scale: float):
    """Split sorted values below their top cluster: (number kept, bound in the gap) or None."""
    if vals.size < 2:
        return None
    top = vals[-1]
    delta = 1e-8 * max(abs(top), 1e-6 * scale)
    q = vals.size - 1
    while q > 0 and vals[q] - vals[q - 1] <= delta:
        q -= 1
    if q == 0:
        return None
    return q, 0.5 * (vals[q - 1] + vals[q])


def _stack(*blocks):
    blocks = [b for b in blocks if b is not None and b.size]
    return np.column_stack(blocks) if blocks else None


MAX_RETRIES = 6


def solve_sparse(problem: Problem, k: int | None = None, w_max: float | None = None,
                 chunk: int | None = None, tol: float = 1e-10, ncv: int | None = None,
                 seed: int = 12345, progress=None) -> Modes:
    """The ``k`` lowest modes and/or all modes with omega <= ``w_max`` (rad per time unit).

    Parameters
    ----------
    problem : Problem
        From :func:`glassmodes.modes.core.prepare`.
    k : int, optional
        Number of lowest non-translational modes (with ``w_max``: at most ``k`` of them).
    w_max : float, optional
        Upper angular frequency, rad per time unit of the unit style.
    chunk : int, optional
        Eigenpairs per shift-invert window (default ``k + 8``, at most 400, or 100 with ``w_max``).
    tol : float
        ARPACK relative tolerance on the Ritz values of ``(D - s I)^-1``.
    ncv : int, optional
        Lanczos basis size (default ``max(2 chunk + 1, chunk + 32)``).
    seed : int
        Seed of the ARPACK start vectors (results are deterministic).
    progress : callable(str), optional
        Receives one message per window.
    """
    if k is None and w_max is None:
        raise ModeError("sparse: give k (lowest modes) and/or w_max (all modes below); "
                        "for the whole spectrum use the dense backend")
    if k is not None and k <= 0:
        raise ModeError(f"k must be positive, got {k}")
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    rng = np.random.default_rng(seed)
    D, scale = problem.D, problem.scale
    n = D.shape[0]
    nT = problem.zero_modes.count
    T = problem.T if nT else None
    thr = problem.zero_tol * scale
    lam_max = eigenvalue_from_omega(w_max, problem.units) if w_max is not None else np.inf
    m = chunk or (min(k + 8, 4 * DEFAULT_CHUNK) if (k is not None and w_max is None) else DEFAULT_CHUNK)
    notes: list[str] = []
    certified = True
    nfactor = 1

    fac = _factor(D, -thr, scale)
    if fac.inertia is None:
        certified = False
    elif fac.inertia > 0:
        # the most negative eigenvalues: nearest to a shift below the Gershgorin bound -scale
        low_fac = _factor(D, -1.01 * scale, scale)
        low, _ = _window(problem, low_fac, min(fac.inertia, 20), tol, ncv, rng, T)
        raise_unstable(low[low < -thr], scale, problem.zero_tol, problem.zero_modes, count=fac.inertia)

    found_l: list[np.ndarray] = []
    found_v: list[np.ndarray] = []
    nfound = 0
    bound = -thr  # every eigenvalue below `bound` (translations aside) is in found
    windows = solves = 0
    prev_v = None  # eigenvectors of the previous window, deflated near its top
    while not ((k is not None and nfound >= k) or bound > lam_max or nfound >= n - nT):
        windows += 1
        solves += 1
        lam, V = _window(problem, fac, m, tol, ncv, rng, _stack(T, prev_v))
        radius = float(np.max(np.abs(lam - fac.shift)))
        if windows > 1 and fac.shift - radius > bound:
            say(f"sparse: window at shift {fac.shift:.4e} does not reach down to the previous bound; "
                "moving the shift down")
            fac = _factor(D, 0.5 * (bound + fac.shift), scale)
            nfactor += 1
            windows -= 1
            continue
        sel = lam >= bound
        new_l, new_v = lam[sel], V[:, sel]
        last = new_l.size >= n - nT - nfound
        split = (new_l.size, np.inf) if last else _gap_bound(new_l, scale)
        if split is None:
            if m >= n - nT - 1 - (0 if prev_v is None else prev_v.shape[1]):
                raise ModeError(
                    f"sparse: no spectral gap among the {new_l.size} eigenvalues nearest shift "
                    f"{fac.shift:.4e} even with the largest window ({m}): a degenerate level as large as "
                    "the free spectrum, or an implausible matrix; use the dense backend")
            m = min(2 * m, n - nT - 1)
            say(f"sparse: window too small at shift {fac.shift:.4e}, chunk -> {m}")
            windows -= 1
            continue
        q, new_bound = split
        acc_l, acc_v = new_l[:q], new_v[:, :q]
        if np.isfinite(new_bound):
            check = _factor(D, new_bound, scale)
            nfactor += 1
            if check.inertia is None:
                certified = False
            else:
                missing = check.inertia - nT - nfound - q
                tries = 0
                while missing > 0 and tries < MAX_RETRIES:
                    # Lanczos missed copies of degenerate eigenvalues: deflate all vectors of this
                    # window and ask for the next nearest ones at the same shift
                    tries += 1
                    solves += 1
                    say(f"sparse: {missing} eigenvalue(s) below {new_bound:.6e} missed (degenerate?); "
                        "searching again with the window's vectors deflated")
                    more_l, more_v = _window(problem, fac, missing + 8, tol, ncv, rng, _stack(T, prev_v, V))
                    V = np.column_stack([V, more_v])
                    inside = (more_l >= bound) & (more_l < new_bound)
                    acc_l = np.concatenate([acc_l, more_l[inside]])
                    acc_v = np.column_stack([acc_v, more_v[:, inside]])
                    missing = check.inertia - nT - nfound - acc_l.size
                if missing != 0:
                    raise ModeError(
                        f"sparse: inertia counts {check.inertia - nT} non-translational eigenvalues below "
                        f"{new_bound:.6e}, the windows found {nfound + acc_l.size}"
                    )
                order = np.argsort(acc_l)
                acc_l, acc_v = acc_l[order], acc_v[:, order]
        found_l.append(acc_l)
        found_v.append(acc_v)
        nfound += acc_l.size
        say(f"sparse: window {windows}: {acc_l.size} modes up to omega = "
            f"{float(omega_from_eigenvalues(acc_l[-1], problem.units)):.6g} "
            f"(lambda {acc_l[-1]:.6e}), {nfound} so far, {time.perf_counter() - t0:.1f} s")
        # next shift: half the expected window radius above the new bound, the radius estimated
        # from the level spacing of the upper half of this window (the density grows with lambda)
        h = acc_l.size // 2
        spacing = (acc_l[-1] - acc_l[h]) / max(acc_l.size - 1 - h, 1) if acc_l.size > 2 else radius / m
        bound = new_bound
        prev_v = acc_v[:, acc_l >= acc_l[-1] - 2 * spacing * 8]
        if (k is not None and nfound >= k) or bound > lam_max or nfound >= n - nT:
            break
        fac = _factor(D, bound + 0.25 * m * max(spacing, 1e-12 * scale), scale)
        nfactor += 1
        if fac.inertia is None:
            certified = False

    lam = np.concatenate(found_l) if found_l else np.zeros(0)
    vec = np.column_stack(found_v) if found_v else np.zeros((n, 0))
    complete = bound
    if not certified:
        complete = float("nan")
        notes.append("SuperLU pivoted off the diagonal: completeness not certified by inertia")
    if w_max is not None:
        keep = lam <= lam_max
        lam, vec = lam[keep], vec[:, keep]
        complete = min(complete, lam_max) if np.isfinite(complete) else complete
    if k is not None and lam.size > k:
        lam, vec = lam[:k], vec[:, :k]
        notes.append("the k-th mode may be part of a degenerate group cut by k")
    return finish(problem, lam, vec, backend="sparse", method="arpack-shift-invert-superlu", tol=tol,
                  iterations=solves, options={"chunk": m, "ncv": ncv, "seed": seed, "first_shift": -thr,
                                              "windows": windows, "factorizations": nfactor},
                  notes=notes, seconds=time.perf_counter() - t0, complete_below=complete)
