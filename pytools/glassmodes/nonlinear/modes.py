"""Find quartic, cubic and pseudo-harmonic modes from seeds: :func:`find_mode`, :func:`find_modes`.

``find_mode(op, kind="cubic", seed=field)`` is the stable entry point (also used by the double-well
tools): the Riemannian L-BFGS of :mod:`glassmodes.nonlinear.minimize` from the seed, then the
fixed-point map of the same kind as a polish until the residual
``||M pi - (kappa/c) g(pi)|| / ||M pi||`` is below ``tol`` (1e-8). The minimizer aims at
``POLISH * tol`` (1e-10); when it gets there the map is skipped (``stop`` then ends in
``map:skipped``): the polish is done by the cheaper of the two. ``method="map"`` runs the map
alone (the procedure of Khomenko et al. (2020) for cubic modes), ``method="lbfgs"`` the minimizer alone.
A mode that misses ``tol`` comes back with ``converged=False``, never as converged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from glassmodes.analysis.participation import participation_ratio
from glassmodes.nonlinear.costs import check_kind, evaluate
from glassmodes.nonlinear.minimize import Trace, fixed_point_map, lbfgs_sphere
from glassmodes.nonlinear.solvers import ScipyCG, block_jacobi

METHODS = ("lbfgs+map", "map", "lbfgs")
POLISH = 1e-2       # lbfgs+map: the minimizer's residual target, relative to tol
SINGLE_PARTICLE_NE = 2.0


class NonlinearModeError(ValueError):
    """Bad input to the nonlinear-mode search (a seed that is a pure translation, an unknown kind...)."""


@dataclass(frozen=True)
class NonlinearMode:
    """One nonlinear mode.

    Attributes
    ----------
    kind : str
        "quartic", "cubic" or "phm".
    pi : ndarray, shape=(n,)
        Mass-weighted unit field, translations removed, component ``d*k + alpha``; for cubic
        modes the sign with tau >= 0.
    kappa : float
        pi.M pi (eigenvalue units, energy/(distance^2 mass)).
    omega : float
        sqrt(kappa * ftm2v) (angular frequency, the mode file's omega unit).
    tau : float
        U3:.pi pi pi (energy/(distance^3 mass^3/2)); >= 0 for cubic modes.
    chi : float
        U4::pi pi pi pi, NaN without a fourth-order table.
    cost : float
        The minimized cost (E4, E3 or the PHM cost).
    pr : float
        Participation ratio e (:func:`glassmodes.analysis.participation.participation_ratio`).
    participation_number : float
        N e; below 2: ``single_particle``.
    residual : float
        ||M pi - (kappa/c) g(pi)|| / ||M pi||.
    map_step : float
        1 - |F(pi) . pi| of the last map step (NaN without the map).
    converged : bool
        residual < tol.
    method, seed_label : str
    iterations : dict
        ``lbfgs``, ``map`` (outer steps), ``cg`` (linear-solve iterations), ``evaluations``.
    seconds : float
    stop : str
        Why the last stage stopped.
    """

    kind: str
    pi: np.ndarray
    kappa: float
    omega: float
    tau: float
    chi: float
    cost: float
    pr: float
    participation_number: float
    residual: float
    map_step: float
    converged: bool
    method: str
    seed_label: str
    iterations: dict = field(default_factory=dict)
    seconds: float = 0.0
    stop: str = ""

    @property
    def single_particle(self) -> bool:
        """N e < 2: a solution on (about) one particle (rattler-like)."""
        return self.participation_number < SINGLE_PARTICLE_NE

    def overlap(self, other) -> float:
        """|pi . v| / |v| with another mode or field, shape=(n,)."""
        v = other.pi if isinstance(other, NonlinearMode) else np.asarray(other, dtype=float).ravel()
        return float(abs(self.pi @ v) / np.linalg.norm(v))


def as_operator(op):
    """A NonlinearOperator, or a ForceConstants wrapped into one."""
    from glassmodes.nonlinear.operators import ForceConstantOperator, NonlinearOperator

    if isinstance(op, NonlinearOperator):
        return op
    if hasattr(op, "phi3") and hasattr(op, "storage"):
        return ForceConstantOperator(op)
    raise TypeError(f"expected a NonlinearOperator or glassmodes.fc3.ForceConstants, got {type(op).__name__}")


def check_seed(op, seed, label: str = "seed") -> np.ndarray:
    """The seed as a flat float array with the zero modes removed; raises on a wrong shape or a
    (numerically) pure translation."""
    z = np.asarray(seed, dtype=float).ravel()
    if z.size != op.ndof:
        raise NonlinearModeError(f"{label}: {z.size} components, the system has {op.ndof} "
                                 f"({op.natoms} atoms x {op.dimension})")
    if not np.all(np.isfinite(z)):
        raise NonlinearModeError(f"{label}: non-finite components")
    nz = np.linalg.norm(z)
    if nz == 0:
        raise NonlinearModeError(f"{label}: the field is zero")
    p = op.project(z)
    if np.linalg.norm(p) < 1e-8 * nz:
        raise NonlinearModeError(f"{label}: the field is a rigid translation (nothing left after "
                                 "removing the translations)")
    return p


def find_mode(operator=None, *, kind: str, seed, method: str = "lbfgs+map", tol: float = 1e-8,
              max_iter: int = 2000, map_iter: int = 500, solver=None, seed_label: str = "field",
              op=None, precondition: bool = True) -> NonlinearMode:
    """One nonlinear mode of ``kind`` from a seed field.

    Parameters
    ----------
    operator : NonlinearOperator or glassmodes.fc3.ForceConstants
        The system (``op=`` is accepted as an alias).
    kind : "quartic", "cubic" or "phm"
    seed : ndarray, shape=(n,) or (N, d)
        Mass-weighted start field (a harmonic mode, r_AB * sqrt(m), a previous nonlinear mode).
    method : "lbfgs+map" (default), "map" or "lbfgs"
    tol : float
        Residual to reach (default 1e-8).
    max_iter, map_iter : int
        Limits of the minimizer and of the map.
    solver : object with ``solve(b, x0)``, optional
        Linear solver of M (default :class:`glassmodes.nonlinear.solvers.ScipyCG`); pass one to
        reuse its preconditioner across modes.
    seed_label : str
        Stored with the mode.
    precondition : bool
        L-BFGS with the block-Jacobi inverse of M as its initial inverse Hessian
        (:class:`glassmodes.nonlinear.solvers.BlockJacobi`; default), else the scaled identity.
        Both reach the same mode; the preconditioned one in about 2/3 of the iterations.

    Returns
    -------
    NonlinearMode
    """
    t0 = time.perf_counter()
    op = as_operator(operator if operator is not None else op)
    check_kind(kind)
    if method not in METHODS:
        raise NonlinearModeError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if kind == "quartic" and not op.has_quartic:
        raise NonlinearModeError("quartic modes need the fourth-order pair table: write it with "
                                 "`write_fc3 GROUP FILE method analytic order 4`")
    z = check_seed(op, seed, seed_label)
    its = {"lbfgs": 0, "map": 0, "cg": 0, "evaluations": 0}
    stop = ""
    map_step = np.nan
    if method in ("lbfgs+map", "lbfgs"):
        tr = Trace()
        # followed by the map: the minimizer itself aims at POLISH * tol, where the map's one step
        # (one linear solve of M, hundreds of CG iterations) would have left the residual
        z, ev = lbfgs_sphere(op, kind, z, tol=tol * (POLISH if method == "lbfgs+map" else 1.0),
                             max_iter=max_iter, trace=tr,
                             precondition=block_jacobi(op) if precondition else None)
        its["lbfgs"] = tr.iterations
        its["evaluations"] += tr.evaluations
        stop = f"lbfgs:{tr.stop}"
    if method == "lbfgs+map" and ev.residual < tol * POLISH:
        # the minimizer already did the polish: kappa is then accurate to ~1e-10 relative, as
        # after a map step, at the cost of ~50 more L-BFGS evaluations instead of a linear solve
        stop += " map:skipped"
    elif method in ("lbfgs+map", "map"):
        if solver is None:
            solver = ScipyCG(op)
        tr = Trace()
        z, ev = fixed_point_map(op, kind, z, solver, tol=tol, max_iter=map_iter, trace=tr)
        its["map"] = tr.iterations
        its["cg"] = tr.linear_iterations
        its["evaluations"] += tr.evaluations
        map_step = tr.map_step
        stop = (stop + " " if stop else "") + f"map:{tr.stop}"
    return _finish(op, kind, z, tol, method, seed_label, its, time.perf_counter() - t0, stop, map_step)


def _finish(op, kind, z, tol, method, seed_label, its, seconds, stop, map_step) -> NonlinearMode:
    pi = op.project(z)
    pi /= np.linalg.norm(pi)
    tau = float(pi @ op.cubic(pi))
    if kind == "cubic" and tau < 0:
        pi, tau = -pi, -tau
    ev = evaluate(op, kind, pi)
    chi = float(pi @ op.quartic(pi)) if op.has_quartic else np.nan
    kappa = ev.kappa
    omega = float(np.sign(kappa) * np.sqrt(abs(kappa) * op.ftm2v))
    pr = float(participation_ratio(pi, op.dimension))
    return NonlinearMode(kind=kind, pi=pi, kappa=kappa, omega=omega, tau=tau, chi=chi, cost=ev.cost, pr=pr,
                         participation_number=pr * op.natoms, residual=ev.residual, map_step=float(map_step),
                         converged=bool(ev.residual < tol), method=method, seed_label=seed_label,
                         iterations=dict(its), seconds=float(seconds), stop=stop)


def deduplicate(modes, threshold: float = 0.99):
    """Drop modes of the same kind whose |overlap| with an already kept one exceeds ``threshold``.

    Keeps the first occurrence (order of the input); converged modes are preferred over
    unconverged duplicates. Returns (kept, duplicate_of) with ``duplicate_of[i]`` the index in
    ``modes`` of the mode that mode ``i`` duplicates (or -1).
    """
    order = sorted(range(len(modes)), key=lambda i: (not modes[i].converged, i))
    kept: list[int] = []
    dup = [-1] * len(modes)
    for i in order:
        for k in kept:
            if modes[k].kind == modes[i].kind and abs(float(modes[k].pi @ modes[i].pi)) > threshold:
                dup[i] = k
                break
        else:
            kept.append(i)
    kept.sort()
    return [modes[i] for i in kept], dup
