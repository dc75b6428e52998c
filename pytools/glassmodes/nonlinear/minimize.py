"""Riemannian L-BFGS on the unit sphere of the translation-free subspace, and the fixed-point maps.

**L-BFGS** (Huang, Gallivan and Absil, SIAM J. Optim. 25, 1660 (2015), with the simplest
retraction and transport): iterates z on the unit sphere, zero modes projected out; retraction
R(z, v) = (z + v)/|z + v|; vector transport by projection onto the tangent space
(I - z z^T) P; the two-loop recursion on the stored (s, y) pairs, optionally preconditioned
(initial inverse Hessian gamma P, e.g. the block-Jacobi inverse of M); Armijo backtracking. The
costs are homogeneous of degree 0 in z, so their Euclidean gradient at a unit z is already
tangent (Euler), only the projection of the zero modes is applied.

**Fixed-point maps** (nonlinear inverse iterations, one linear solve of M per step):

* cubic  pi <- M^-1 (U3:pi pi), normalized (Khomenko et al. (2020),
  Sec. III; Kapteijns thesis Eq. 4.1). The map is even (F(-pi) = F(pi)): the sign of
  each new iterate is chosen so that pi_new . pi > 0;
* phm    pi <- M^-1 zeta(pi), normalized (Kapteijns thesis Eq. 4.4);
* quartic pi <- M^-1 (U4:.pi pi pi), normalized (the same construction for E4; not in the papers).

Their fixed points are exactly the stationary points M pi = (kappa/c) g(pi) of the costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassmodes.nonlinear.costs import Evaluation, evaluate


@dataclass
class Trace:
    """What one run of a minimizer or map did."""

    iterations: int = 0
    evaluations: int = 0
    linear_iterations: int = 0
    stop: str = ""
    map_step: float = np.nan      # 1 - |F(pi) . pi| at the last map step


def _normalize(op, z):
    z = op.project(z)
    n = np.linalg.norm(z)
    if n == 0 or not np.isfinite(n):
        raise ValueError("the field is zero after the translations are removed (a pure translation?)")
    return z / n


def _tangent(op, z, v):
    v = op.project(v)
    return v - (z @ v) * z


def _start(op, kind, z0, trace):
    tr = trace if trace is not None else Trace()
    z = _normalize(op, z0)
    tr.evaluations += 1
    return tr, z, evaluate(op, kind, z)


def lbfgs_sphere(op, kind: str, z0: np.ndarray, *, tol: float = 1e-8, max_iter: int = 2000,
                 memory: int = 10, trace: Trace | None = None,
                 precondition=None) -> tuple[np.ndarray, Evaluation]:
    """Minimize the ``kind`` cost on the unit sphere from ``z0`` (Riemannian L-BFGS).

    Parameters
    ----------
    op : NonlinearOperator
    kind : "quartic", "cubic" or "phm"
    z0 : ndarray, shape=(n,)
        Seed, any norm.
    tol : float
        Stop when the residual (see :mod:`glassmodes.nonlinear.costs`) is below ``tol``.
    max_iter : int
    memory : int
        Stored (s, y) pairs.
    trace : Trace, optional
        Filled with iteration counts and the reason of the stop (``tol``, ``line-search``
        when no decrease is representable any more, ``max_iter``).
    precondition : callable, optional
        v -> P v with P symmetric positive definite, shape=(n,) -> (n,): the initial inverse
        Hessian of the two-loop recursion is gamma P (projected on the tangent space), gamma =
        s.y / y.P y (Nocedal and Wright, Numerical Optimization, 2nd ed., Sec. 7.2). The
        block-Jacobi inverse of M (:class:`glassmodes.nonlinear.solvers.BlockJacobi`) takes
        about 2/3 of the iterations of the scaled identity (default None).

    Returns
    -------
    z : ndarray, shape=(n,), unit norm
    ev : Evaluation at z
    """
    tr, z, ev = _start(op, kind, z0, trace)
    g = _tangent(op, z, ev.gradient)
    S, Y = [], []
    for it in range(max_iter):
        if ev.residual < tol:
            tr.stop = "tol"
            break
        # two-loop recursion
        q = g.copy()
        alphas = []
        for s, y in reversed(list(zip(S, Y))):
            rho = 1.0 / (y @ s)
            a = rho * (s @ q)
            alphas.append((a, rho, s, y))
            q -= a * y
        pq = q if precondition is None else _tangent(op, z, precondition(q))
        if S:
            py = Y[-1] if precondition is None else precondition(Y[-1])
            gamma = (S[-1] @ Y[-1]) / (Y[-1] @ py)
        else:
            gamma = 0.05 / max(np.linalg.norm(pq), 1e-300)    # first step: 0.05 rad
        r = gamma * pq
        for a, rho, s, y in reversed(alphas):
            b = rho * (y @ r)
            r += (a - b) * s
        p = _tangent(op, z, -r)
        slope = float(g @ p)
        if slope >= 0:                      # not a descent direction: restart
            S.clear()
            Y.clear()
            p = -0.05 / max(np.linalg.norm(g), 1e-300) * g
            slope = float(g @ p)
        # keep a step below ~0.5 rad on the sphere
        pn = np.linalg.norm(p)
        step = min(1.0, 0.5 / pn) if pn > 0 else 1.0
        accepted = False
        for _ in range(40):
            zn = _normalize(op, z + step * p)
            evn = evaluate(op, kind, zn)
            tr.evaluations += 1
            if evn.cost <= ev.cost + 1e-4 * step * slope:
                accepted = True
                break
            # below the cost's rounding (residual ~1e-8 changes E by ~1e-16 relative), decide by
            # the residual (an approximate-Wolfe acceptance, Hager and Zhang, SIAM J. Optim. 16, 170 (2005))
            if evn.cost <= ev.cost * (1 + 1e-12) and evn.residual < ev.residual:
                accepted = True
                break
            step *= 0.5
        if not accepted:
            tr.stop = "line-search"
            break
        gn = _tangent(op, zn, evn.gradient)
        s = _tangent(op, zn, step * p)
        y = gn - _tangent(op, zn, g)
        sy = float(s @ y)
        if sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            S.append(s)
            Y.append(y)
            if len(S) > memory:
                S.pop(0)
                Y.pop(0)
        else:
            S = [_tangent(op, zn, v) for v in S]
            Y = [_tangent(op, zn, v) for v in Y]
        z, ev, g = zn, evn, gn
        tr.iterations += 1
    else:
        tr.stop = "max_iter"
    if not tr.stop:
        tr.stop = "max_iter"
    return z, ev


def fixed_point_map(op, kind: str, z0: np.ndarray, solver, *, tol: float = 1e-8, max_iter: int = 500,
                    step_tol: float = 1e-13, trace: Trace | None = None) -> tuple[np.ndarray, Evaluation]:
    """Iterate the ``kind`` map pi <- M^-1 g(pi) / |.| from ``z0`` (see the module docs).

    Stops when the residual is below ``tol`` and the step 1 - |F(pi) . pi| below ``step_tol``
    (or the residual stops improving once below ``tol``), or after ``max_iter`` steps
    (``trace.stop`` = ``max_iter``: not converged).

    Parameters
    ----------
    solver : object with ``solve(b, x0)`` and ``iterations`` (e.g. :class:`ScipyCG`)

    Returns
    -------
    pi : ndarray, shape=(n,), unit norm
    ev : Evaluation at pi
    """
    tr, pi, ev = _start(op, kind, z0, trace)
    x = None
    it0 = solver.iterations
    best = (ev.residual, pi, ev)
    for _ in range(max_iter):
        if ev.residual < tol and tr.map_step < step_tol:
            tr.stop = "tol"
            break
        x = solver.solve(ev.g, x)
        new = _normalize(op, x)
        dot = float(new @ pi)
        if dot < 0:
            new = -new
            if kind != "cubic":      # odd maps: g(-pi) = -g(pi), keep the warm start consistent
                x = -x
        step = 1.0 - abs(dot)
        evn = evaluate(op, kind, new)
        tr.evaluations += 1
        tr.iterations += 1
        tr.map_step = step
        stalled = ev.residual < tol and evn.residual >= ev.residual
        pi, ev = new, evn
        if ev.residual < best[0]:
            best = (ev.residual, pi, ev)
        # warm start of the next solve: x itself (g(pi) changes little near the fixed point)
        if stalled:
            tr.stop = "tol"
            break
        if ev.residual > 100 * max(best[0], tol):
            # the fixed point is repulsive here (the map leaves this stationary point): go back
            tr.stop = "diverged"
            break
    else:
        tr.stop = "max_iter"
    if ev.residual > best[0]:
        _, pi, ev = best
    tr.linear_iterations += solver.iterations - it0
    return pi, ev
