"""Faster lowest modes of large glasses: a plane-wave starting subspace and a Chebyshev-filtered
subspace iteration, on distributed dense blocks (used by :mod:`glassmodes.modes.slepc_backend`).

Both work on the mass-weighted dynamical matrix ``D`` (a PETSc AIJ matrix, rows distributed by
atoms) and on *blocks*: numpy arrays of shape ``(n_local, m)`` holding this rank's rows of ``m``
vectors. Products ``D X`` are one PETSc ``MatMatMult`` (AIJ times dense), so the matrix is read
once per block, not once per vector. Inner products of blocks are local ``X^T Y`` summed over the
ranks (``MPI_Allreduce``); everything else is local. Random numbers are drawn per fixed chunk of
global rows (:func:`random_block`), so a start does not depend on the number of ranks.

Plane-wave start (:func:`plane_wave_start`)
-------------------------------------------
The low end of a glass's spectrum is plane-wave phonons plus a few quasi-localized modes. The
candidates are the mass-weighted plane waves ``sqrt(m_i) p cos(q . x_i)`` and ``... sin(q . x_i)``
of the box's smallest reciprocal vectors ``q = n . B`` (integer ``n``, shells of growing ``|q|``
until there are at least ``2 m`` candidates, each ``q`` with ``d`` polarizations ``p``), the
translations projected out. One Rayleigh-Ritz step of ``D`` on their span (one block product)
gives ``m`` starting vectors ordered by Rayleigh quotient; transverse and longitudinal waves sort
themselves, no sound speed is needed. (The lowest-``q`` helpers of
:mod:`glassmodes.analysis.vdos` give the first shell only; here all shells up to ``|n|`` = 4.)

Chebyshev-filtered subspace iteration (:func:`chebyshev_subspace`)
-------------------------------------------------------------------
Y. Zhou, Y. Saad, M. L. Tiago, J. R. Chelikowsky, Phys. Rev. E 74, 066704 (2006) and
J. Comput. Phys. 219, 172 (2006): a block ``X`` of ``m > nev`` vectors is multiplied by the
Chebyshev polynomial ``C_k`` of degree ``k`` of ``(D - c) / e`` mapping the unwanted interval
``[a, b]`` (``a``: the largest Ritz value of the block, ``b``: an upper bound of the spectrum) on
``[-1, 1]``, where ``|C_k| <= 1``; below ``a`` it grows like ``cosh(k acosh(...))``, so the block
turns towards the lowest eigenvectors. Then orthonormalization (SVQB, twice), Rayleigh-Ritz,
residuals ``|D x - theta x|``, and locking of the converged prefix (a locked vector is never
filtered again; the others are kept orthogonal to it). Converged: ``|D x - theta x| <= tol *
max(|theta|, zero_thr)`` (SLEPc's relative criterion, the one the LOBPCG path uses).

Only sparse block products: no preconditioner, no inner solves. The degree per outer step is
chosen so that the spread ``cosh(k g)`` of the filtered block (``g = acosh((c - theta_min) / e)``)
stays below ``MAX_SPREAD`` (1e6; larger would lose the high columns in rounding), at most
``max_degree``. Cost: about ``ln(1/tol) / (2 sqrt((a - lambda) / (b - a)))`` products per column
for the slowest wanted ``lambda``: it grows like ``sqrt(b / gap)``, that is like ``N^(1/3)`` at
fixed ``nev`` in 3D (the gap at the bottom of the spectrum shrinks like ``N^(-2/3)``), against
LOBPCG's nearly constant iteration count with GAMG (see ``docs/modes.md``).

The upper bound ``b``: ``LANCZOS_STEPS`` Lanczos steps from a random vector, the largest Ritz
value plus the last residual bound ``|beta_k s_k|`` (Zhou and Li, Linear Algebra Appl. 435, 480
(2011)), not above the Gershgorin bound ``|D|_inf``; it is an upper bound only if the Lanczos
Ritz value is close to ``lambda_max``, so the filter also checks it: a Ritz value above ``b``
raises ``b`` to it and the step is repeated.
"""

from __future__ import annotations

import math
import time

import numpy as np

from glassmodes.modes.core import ModeError

RANDOM_CHUNK = 4096       # rows per random-number chunk (a start independent of the rank count)
MAX_SPREAD = 1e6          # largest growth ratio inside one filtered block
LANCZOS_STEPS = 24
MAX_SHELL = 4             # plane waves: integer wavevectors with |n_k| <= MAX_SHELL


class BlockOp:
    """``Y = D X`` for local blocks (``(n_local, m)`` arrays) by one PETSc ``MatMatMult``.

    The dense PETSc matrices wrap numpy buffers (no copy); they are rebuilt when ``m`` changes.
    ``products`` counts column products (one block of ``m`` columns counts ``m``).
    """

    def __init__(self, PETSc, A):
        self.PETSc, self.A = PETSc, A
        self.nloc = A.getLocalSize()[0]
        self.n = A.getSize()[0]
        self.m = -1
        self.products = 0
        self.seconds = 0.0

    def _build(self, m: int) -> None:
        for attr in ("X", "Y"):
            if getattr(self, attr, None) is not None:
                getattr(self, attr).destroy()
        self.xbuf = np.zeros((self.nloc, m), order="F")
        self.X = self.PETSc.Mat().createDense(((self.nloc, self.n), (None, m)), array=self.xbuf,
                                              comm=self.A.getComm())
        self.X.assemble()
        self.Y = self.A.matMult(self.X)
        self.m = m

    def __call__(self, X: np.ndarray) -> np.ndarray:
        m = X.shape[1]
        if m == 0:
            return np.zeros_like(X)
        t = time.perf_counter()
        if m != self.m:
            self._build(m)
        self.xbuf[...] = X
        self.A.matMult(self.X, self.Y)
        out = np.array(self.Y.getDenseArray(), order="F", copy=True)
        self.products += m
        self.seconds += time.perf_counter() - t
        return out

    def destroy(self) -> None:
        for attr in ("X", "Y"):
            if getattr(self, attr, None) is not None:
                getattr(self, attr).destroy()
                setattr(self, attr, None)


def gram(mpi, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``X^T Y`` over all ranks, shape=(mx, my)."""
    local = X.T @ Y
    return mpi.allreduce(local) if mpi.Get_size() > 1 else local


def random_block(n: int, rstart: int, rend: int, m: int, seed: int) -> np.ndarray:
    """Rows ``rstart:rend`` of an ``(n, m)`` standard normal block drawn per chunk of
    ``RANDOM_CHUNK`` global rows, the same numbers whatever the rank count."""
    out = np.empty((rend - rstart, m), order="F")
    for c in range(rstart // RANDOM_CHUNK, (rend - 1) // RANDOM_CHUNK + 1 if rend > rstart else 0):
        lo, hi = c * RANDOM_CHUNK, min(n, (c + 1) * RANDOM_CHUNK)
        block = np.random.default_rng([seed, c]).standard_normal((hi - lo, m))
        a, b = max(lo, rstart), min(hi, rend)
        out[a - rstart:b - rstart] = block[a - lo:b - lo]
    return out


def project_out(mpi, X: np.ndarray, Q: np.ndarray | None) -> np.ndarray:
    """``X - Q (Q^T X)`` twice (``Q`` orthonormal columns, local rows)."""
    if Q is None or Q.shape[1] == 0:
        return X
    for _ in range(2):
        X = X - Q @ gram(mpi, Q, X)
    return X


def orthonormalize(mpi, X: np.ndarray, Q: np.ndarray | None, refill_seed: int, n: int, rstart: int) -> np.ndarray:
    """Orthonormal columns spanning ``X`` orthogonal to ``Q``: SVQB (Stathopoulos and Wu, SIAM J.
    Sci. Comput. 23, 2165 (2002)) twice. Directions lost to rounding (Gram eigenvalue below
    ``1e-13`` of the largest) are replaced by random vectors, orthogonalized the same way."""
    X = project_out(mpi, X, Q)
    for attempt in range(4):
        for _ in range(2):
            G = gram(mpi, X, X)
            w, U = np.linalg.eigh(0.5 * (G + G.T))
            good = w > 1e-13 * max(w.max(), 1e-300)
            if good.all():
                X = X @ (U / np.sqrt(w))
                continue
            break
        else:
            return X
        # replace the lost directions by random ones and start again
        keep = X @ (U[:, good] / np.sqrt(w[good]))
        fresh = random_block(n, rstart, rstart + X.shape[0], int((~good).sum()), refill_seed + 1000 * attempt)
        X = project_out(mpi, np.column_stack([keep, project_out(mpi, fresh, keep)]), Q)
    raise ModeError("chebyshev: the block lost its rank (orthonormalization failed 4 times)")


def rayleigh_ritz(mpi, op: BlockOp, X: np.ndarray):
    """Ritz values (ascending), Ritz vectors and their products ``D X`` for orthonormal ``X``."""
    AX = op(X)
    H = gram(mpi, X, AX)
    theta, V = np.linalg.eigh(0.5 * (H + H.T))
    return theta, X @ V, AX @ V


def column_norms(mpi, R: np.ndarray) -> np.ndarray:
    local = np.einsum("ij,ij->j", R, R)
    return np.sqrt(mpi.allreduce(local) if mpi.Get_size() > 1 else local)


# -- plane-wave start ----------------------------------------------------------------------------

def reciprocal_shells(box: dict, dimension: int, count: int) -> np.ndarray:
    """Wavevectors ``q = n . B`` (one of each ``+-q`` pair, ``n != 0``, ``|n_k| <= MAX_SHELL``),
    sorted by ``|q|``, whole shells (equal ``|q|``) until at least ``count`` of them, shape=(m, d)."""
    from glassmodes.analysis.vdos import box_matrix

    h = box_matrix(box, dimension)
    recip = 2 * np.pi * np.linalg.inv(h).T
    per = list(box.get("periodicity", [1] * 3))[:dimension]
    rng = [range(-MAX_SHELL, MAX_SHELL + 1) if per[k] else range(0, 1) for k in range(dimension)]
    ns = np.array(np.meshgrid(*rng, indexing="ij")).reshape(dimension, -1).T
    # one of each +-n pair: the first nonzero component positive
    first = np.array([row[np.flatnonzero(row)[0]] if row.any() else 0 for row in ns])
    ns = ns[first > 0]
    if ns.size == 0:
        raise ModeError("plane-wave start: no periodic direction")
    qs = ns @ recip
    norm = np.linalg.norm(qs, axis=1)
    order = np.argsort(norm, kind="stable")
    qs, norm = qs[order], norm[order]
    if count >= len(qs):
        return qs
    edge = norm[count - 1] * (1 + 1e-9)
    return qs[norm <= edge]


def plane_waves(positions: np.ndarray, masses: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Mass-weighted plane waves of this rank's atoms: for each ``q``, ``cos`` and ``sin`` times the
    ``d`` Cartesian polarizations, shape=(n_atoms_local * d, 2 d len(qs)) (not normalized)."""
    x = np.asarray(positions, dtype=float)
    d = x.shape[1]
    sm = np.sqrt(np.asarray(masses, dtype=float))
    phase = x @ qs.T                               # (natoms, nq)
    cols = []
    for j in range(qs.shape[0]):
        for f in (np.cos(phase[:, j]), np.sin(phase[:, j])):
            for a in range(d):
                v = np.zeros((x.shape[0], d))
                v[:, a] = sm * f
                cols.append(v.ravel())
    return np.column_stack(cols)


def plane_wave_start(mpi, op: BlockOp, positions: np.ndarray, masses: np.ndarray, box: dict, m: int,
                     T: np.ndarray | None, rstart: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` starting vectors: the lowest Ritz vectors of ``D`` on the span of the box's lowest
    plane waves (at least ``2 m`` candidates, translations projected out; module docs).

    Parameters
    ----------
    positions, masses : arrays, shape=(n_atoms_local, d) and (n_atoms_local,)
        This rank's atoms (the rows ``rstart:rstart + d n_atoms_local``).
    T : array, shape=(n_local, d) or None
        Orthonormal translations (local rows) to project out.

    Returns
    -------
    (X, theta): local rows of the ``m`` vectors, shape=(n_local, m), and their Rayleigh quotients.
    """
    d = positions.shape[1]
    qs = reciprocal_shells(box, d, max(1, math.ceil(2 * m / (2 * d))))
    W = plane_waves(positions, masses, qs)
    W = orthonormalize(mpi, W, T, 7, op.n, rstart)
    theta, X, _ = rayleigh_ritz(mpi, op, W)
    return np.asfortranarray(X[:, :m]), theta[:m]


# -- Chebyshev-filtered subspace iteration -------------------------------------------------------

def lanczos_upper_bound(mpi, op: BlockOp, n: int, rstart: int, T: np.ndarray | None, gershgorin: float,
                        steps: int = LANCZOS_STEPS) -> float:
    """Upper bound of the spectrum of ``D``: largest Lanczos Ritz value + ``|beta_k s_k|`` (module
    docs), at most the Gershgorin bound."""
    v = project_out(mpi, random_block(n, rstart, rstart + op.nloc, 1, 11), T)
    v /= column_norms(mpi, v)[0]
    v_old = np.zeros_like(v)
    alphas, betas = [], []
    beta = 0.0
    for _ in range(min(steps, n)):
        w = op(v)
        alpha = float(gram(mpi, v, w)[0, 0])
        w = w - alpha * v - beta * v_old
        beta = float(column_norms(mpi, w)[0])
        alphas.append(alpha)
        betas.append(beta)
        if beta <= 1e-14 * abs(alpha):
            break
        v_old, v = v, w / beta
    k = len(alphas)
    Tm = np.diag(alphas) + np.diag(betas[:k - 1], 1) + np.diag(betas[:k - 1], -1)
    w, S = np.linalg.eigh(Tm)
    bound = float(w[-1] + abs(betas[-1] * S[-1, -1]))
    return min(bound, float(gershgorin))


def chebyshev_filter(op: BlockOp, X: np.ndarray, degree: int, a: float, b: float, a0: float) -> np.ndarray:
    """``p(D) X`` with ``p`` the degree-``degree`` Chebyshev polynomial of ``(D - c)/e`` on
    ``[a, b]``, scaled so that ``p(a0) = 1`` (Zhou and Saad's three-term recurrence; no overflow)."""
    e, c = 0.5 * (b - a), 0.5 * (b + a)
    sigma = e / (a0 - c)
    sigma1 = sigma
    Y = (op(X) - c * X) * (sigma1 / e)
    for _ in range(2, degree + 1):
        sigma2 = 1.0 / (2.0 / sigma1 - sigma)
        Ynew = (op(Y) - c * Y) * (2.0 * sigma2 / e) - (sigma * sigma2) * X
        X, Y, sigma = Y, Ynew, sigma2
    return Y


def choose_degree(a: float, b: float, a0: float, max_degree: int) -> int:
    """Largest degree whose growth ratio between ``a0`` and the interval ``[a, b]`` stays below
    ``MAX_SPREAD`` (at least 2, at most ``max_degree``)."""
    e, c = 0.5 * (b - a), 0.5 * (b + a)
    t = (c - a0) / e
    if t <= 1.0:
        return max_degree
    g = math.acosh(t)
    return int(min(max_degree, max(2, math.floor(math.acosh(MAX_SPREAD) / g))))


def chebyshev_subspace(PETSc, A, mpi, nev: int, block: int, tol: float, zero_thr: float, scale: float,
                       T: np.ndarray | None = None, deflate: np.ndarray | None = None,
                       X0: np.ndarray | None = None, max_degree: int = 300, max_outer: int = 1000,
                       monitor=None) -> dict:
    """Lowest ``nev`` eigenpairs of ``D`` orthogonal to ``T`` and ``deflate``, by
    Chebyshev-filtered subspace iteration with locking (module docs).

    Parameters
    ----------
    A : petsc4py.PETSc.Mat
        Symmetric ``D`` (mass-weighted; eigenvalue units).
    mpi : mpi4py communicator of ``A``.
    nev, block : int
        Eigenpairs wanted and block size (``block > nev``; the gap between the ``nev``-th and the
        ``block``-th eigenvalue sets the convergence rate).
    tol, zero_thr : float
        Converged when ``|D x - theta x| <= tol * max(|theta|, zero_thr)``.
    scale : float
        ``|D|_inf`` (Gershgorin bound of the spectrum).
    T, deflate : arrays, shape=(n_local, p), optional
        Orthonormal columns (translations; vectors found before) the result is kept orthogonal to.
    X0 : array, shape=(n_local, <= block), optional
        Starting vectors (e.g. :func:`plane_wave_start`); the rest random.
    max_degree, max_outer : int
        Limits of the filter degree per step and of the number of outer steps.

    Returns
    -------
    dict with ``vectors`` (n_local, nev), ``values`` (nev,), ``residuals`` (nev,, absolute),
    ``outer`` (outer steps), ``products`` (column products ``D x``), ``upper`` (the bound b),
    ``seconds_products`` (time in block products).
    """
    n = A.getSize()[0]
    rstart = A.getOwnershipRange()[0]
    op = BlockOp(PETSc, A)
    Q = _stack(T, deflate)
    if Q is not None:
        Q = orthonormalize(mpi, Q, None, 9, n, rstart)
    nfree = n - (0 if Q is None else Q.shape[1])
    block = min(block, nfree)
    if not 0 < nev <= block:
        raise ModeError(f"chebyshev: need 0 < nev <= block, got nev {nev}, block {block} ({nfree} free dof)")
    start = np.zeros((op.nloc, 0)) if X0 is None else np.asarray(X0)[:, :block]
    X = np.column_stack([start, random_block(n, rstart, rstart + op.nloc, block - start.shape[1], 3)])
    X = orthonormalize(mpi, X, Q, 5, n, rstart)
    b = lanczos_upper_bound(mpi, op, n, rstart, Q, scale)
    theta, X, AX = rayleigh_ritz(mpi, op, X)
    locked_X = np.zeros((op.nloc, 0))
    locked_theta, locked_res = [], []
    outer = 0
    try:
        while True:
            R = AX - X * theta
            res = column_norms(mpi, R)
            if theta[-1] > b:  # the bound was not one: raise it
                b = float(theta[-1]) * 1.01
            # lock the converged prefix of the wanted part
            want = nev - locked_X.shape[1]
            ok = res <= tol * np.maximum(np.abs(theta), zero_thr)
            nlock = 0
            while nlock < want and ok[nlock]:
                nlock += 1
            if nlock:
                locked_X = np.column_stack([locked_X, X[:, :nlock]])
                locked_theta += list(theta[:nlock])
                locked_res += list(res[:nlock])
                X, AX, theta = X[:, nlock:], AX[:, nlock:], theta[nlock:]
            if locked_X.shape[1] >= nev:
                break
            if outer >= max_outer:
                raise ModeError(f"chebyshev: {locked_X.shape[1]} of {nev} eigenpairs converged in {outer} "
                                "outer steps; raise max_it")
            outer += 1
            a = float(theta[-1])
            a0 = float(min(theta[0], locked_theta[0] if locked_theta else theta[0]))
            degree = choose_degree(a, b, a0, max_degree)
            if monitor is not None:
                monitor(outer, locked_X.shape[1], degree, float(res[0]))
            Y = chebyshev_filter(op, X, degree, a, b, a0)
            Y = orthonormalize(mpi, Y, _stack(Q, locked_X), 100 + outer, n, rstart)
            theta, X, AX = rayleigh_ritz(mpi, op, Y)
        order = np.argsort(locked_theta, kind="stable")[:nev]
        return {"vectors": locked_X[:, order], "values": np.asarray(locked_theta)[order],
                "residuals": np.asarray(locked_res)[order], "outer": outer, "products": op.products,
                "upper": b, "seconds_products": op.seconds}
    finally:
        op.destroy()


def _stack(*blocks):
    parts = [p for p in blocks if p is not None and p.shape[1] > 0]
    return np.column_stack(parts) if parts else None
