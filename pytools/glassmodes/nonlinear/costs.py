"""The three costs whose minima on the unit sphere are the nonlinear modes, with exact gradients.

For a field z (mass-weighted, translations removed), A = z.Mz, and

========  ====================================  ======================================================
kind      cost                                  gradient in R^n (homogeneous of degree 0 costs)
========  ====================================  ======================================================
quartic   E4 = A^2 / Q,  Q = U4::zzzz           (4A/Q) [Mz - (A/Q) U4:.zzz]
cubic     E3 = A^3 / T^2, T = U3:.zzz           (6A^2/T^2) [Mz - (A/T) U3:zz]
phm       C  = A^2 / D,  D = sum_<ij> z_ij^4    (4A/D) [Mz - (A/D) zeta]
========  ====================================  ======================================================

(Kapteijns thesis, University of Amsterdam: E4 Eq. 3.12, E3 Eq. 3.31, PHM Eq. 4.2 and
zeta Eq. 4.5; Gartner and Lerner, SciPost Phys. 1, 016 (2016) for the quartic modes; the
gradients follow from dQ/dz = 4 U4:.zzz, dT/dz = 3 U3:zz, dD/dz = 4 zeta.) Each cost is
invariant under z -> a z; on the unit sphere kappa = A, tau = T, chi = Q, and a stationary point
satisfies M pi = (kappa / c) g(pi) with (c, g) = (chi, U4:.pipipi), (tau, U3:pipi),
(D, zeta). The **residual** reported everywhere is

    r = || M pi - (kappa / c) g(pi) || / || M pi ||   (= ||grad|| kappa / (p E ||M pi||), p = 4, 6, 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("quartic", "cubic", "phm")
# cost = A^power / c^cpower
_POWERS = {"quartic": (2, 1, 4.0), "cubic": (3, 2, 6.0), "phm": (2, 1, 4.0)}


@dataclass(frozen=True)
class Evaluation:
    """Everything one evaluation at a field z gives (z taken as is; unit norm expected).

    Attributes
    ----------
    cost : float
        E4, E3 or C (energy units: kappa^2/chi etc.).
    gradient : ndarray, shape=(n,)
        Euclidean gradient of the cost at z (tangent to the sphere at unit z).
    kappa : float
        z.Mz / z.z (eigenvalue units).
    c : float
        chi = U4::zzzz, tau = U3:.zzz or D, each divided by the matching power of z.z.
    Mz : ndarray, shape=(n,)
    g : ndarray, shape=(n,)
        U4:.zzz, U3:zz or zeta.
    residual : float
        ||Mz - (kappa/c) g|| / ||Mz|| for unit z.
    """

    cost: float
    gradient: np.ndarray
    kappa: float
    c: float
    Mz: np.ndarray
    g: np.ndarray
    residual: float


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown nonlinear-mode kind {kind!r}; known: {', '.join(KINDS)}")
    return kind


def nonlinear_force(op, kind: str, z: np.ndarray) -> tuple[float, np.ndarray]:
    """(c_raw, g): the raw full contraction (U4::zzzz, U3:.zzz or D) and the vector g(z)."""
    if kind == "quartic":
        g = op.quartic(z)
        return float(z @ g), g
    if kind == "cubic":
        g = op.cubic(z)
        return float(z @ g), g
    big_d, zeta = op.pairs(z)
    return big_d, zeta


def evaluate(op, kind: str, z: np.ndarray) -> Evaluation:
    """Cost, exact gradient and residual of ``kind`` at the field ``z`` (see the module docs).

    Parameters
    ----------
    op : glassmodes.nonlinear.operators.NonlinearOperator
    kind : "quartic", "cubic" or "phm"
    z : ndarray, shape=(n,)
        Any norm; the zero modes should already be projected out.
    """
    check_kind(kind)
    z = np.asarray(z, dtype=float)
    nz2 = float(z @ z)
    mz, craw, g = op.evaluate_products(kind, z)
    a = float(z @ mz)
    pa, pc, _ = _POWERS[kind]
    if craw == 0.0 or not np.isfinite(craw):
        raise FloatingPointError(f"{kind} cost undefined: the {'tau' if kind == 'cubic' else 'chi/D'} "
                                 "contraction of this field is zero")
    cost = a ** pa / craw ** pc
    if kind == "quartic":
        grad = (4.0 * a / craw) * (mz - (a / craw) * g)
    elif kind == "cubic":
        grad = (6.0 * a * a / (craw * craw)) * (mz - (a / craw) * g)
    else:
        grad = (4.0 * a / craw) * (mz - (a / craw) * g)
    # degree of the raw contraction in z: 4 (quartic, D) or 3 (cubic)
    deg = 3 if kind == "cubic" else 4
    kappa = a / nz2
    c = craw / nz2 ** (deg / 2)
    # residual of the unit-normalized field: M pi - (kappa/c) g(pi), g of degree deg-1
    s = 1.0 / np.sqrt(nz2)
    mpi = mz * s
    gpi = g * s ** (deg - 1)
    nm = float(np.linalg.norm(mpi))
    res = float(np.linalg.norm(mpi - (kappa / c) * gpi) / nm) if nm > 0 else np.inf
    return Evaluation(cost=float(cost), gradient=grad, kappa=kappa, c=c, Mz=mz, g=g, residual=res)


def cost(op, kind: str, z: np.ndarray) -> float:
    """The cost alone (see :func:`evaluate`)."""
    return evaluate(op, kind, z).cost
