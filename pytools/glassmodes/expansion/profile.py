"""Closed forms of the quartic energy profile along one direction (Kumar, Procaccia, Singh 2021).

Along a unit direction ``Psi`` (mass-weighted) through a minimum, the energy to fourth order is

    U(s) = b2 s^2 / 2 + b3 s^3 / 6 + b4 s^4 / 24                                  (1)

with ``b_n`` the n-th directional derivatives (no factorials inside the ``b_n``; Kumar et al.,
Eq. 4 and 12). Flipping ``Psi -> -Psi`` flips ``b3``; the convention here is ``b3 >= 0``, so
every other stationary point lies at ``s < 0``.

Stationary points. ``U'(s) = s (b2 + b3 s / 2 + b4 s^2 / 6)``: besides ``s = 0`` the roots of the
bracket,

    s_pm = (3 / (2 b4)) (-b3 +- sqrt(b3^2 - (8/3) b2 b4)),                          (2)

real iff ``beta^2 >= 8/9`` with ``beta = b3 / sqrt(3 b2 b4)`` (scale invariant: ``b_n -> c^n b_n``
under ``s -> s / c`` leaves it unchanged). For ``b4 > 0`` and ``b3 > 0`` both are negative; the one
nearer to 0 is a maximum (the barrier top), the other a second minimum. Their product is
``6 b2 / b4``, so the barrier top is evaluated without cancellation as

    s_max = -4 b2 / (b3 + sqrt(b3^2 - (8/3) b2 b4)),   s_min2 = 6 b2 / (b4 s_max).   (3)

Second well lower than the first iff ``U(s)/s^2 = b2/2 + b3 s/6 + b4 s^2/24`` has a real root,
i.e. ``b3^2 >= 3 b2 b4`` (``beta^2 >= 1``): Kumar et al., Eq. 8. Group A: ``beta^2 <= 1``
(single well, or a higher second well for ``8/9 < beta^2 <= 1``); group B: ``beta^2 > 1``.
At ``beta = 1`` the two wells are equally deep (``U(s_min2) = 0``).

Derived energies (all measured from ``U(0) = 0``):

- barrier ``V_B = U(s_max)`` (from the first minimum),
- asymmetry ``Delta = U(s_min2)`` (negative: the second well is lower; group B),
- second-well depth ``V_B - Delta`` (the barrier seen from the second minimum),
- cubic-only limit ``b4 -> 0``: ``s_max -> -2 b2 / b3`` and ``V_B -> (2/3) b2^3 / b3^2``.

``b4 <= 0`` makes (1) unbounded below: no second minimum, no group (flagged); ``b2 <= 0`` means
the expansion point is no minimum (an error). Units: with ``s`` in sqrt(mass) * distance (mass-
weighted displacement), ``b_n`` is in energy / (mass^(n/2) distance^n) and every energy here in
energy units.

References
----------
A. Kumar, I. Procaccia, M. Singh, "Density of quasi-localized modes in glasses: where are the
two-level systems?", arXiv:2102.12368 (2021), Eq. 4, 8, 12 and the definition of beta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: beta^2 at and above which the quartic has two more stationary points
BETA2_STATIONARY = 8.0 / 9.0
#: beta^2 above which the second well is lower (group B)
BETA2_GROUP_B = 1.0


def quartic_energy(s, b2, b3, b4):
    """``U(s) = b2 s^2/2 + b3 s^3/6 + b4 s^4/24`` (broadcasting)."""
    s = np.asarray(s, dtype=float)
    return s * s * (0.5 * b2 + s * (b3 / 6.0 + s * b4 / 24.0))


def beta(b2, b3, b4):
    """``beta = b3 / sqrt(3 b2 b4)`` (Kumar et al.); NaN where ``b2 b4 <= 0``."""
    b2, b3, b4 = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (b2, b3, b4)))
    prod = 3.0 * b2 * b4
    out = np.full(b2.shape, np.nan)
    ok = prod > 0
    out[ok] = b3[ok] / np.sqrt(prod[ok])
    return out if out.ndim else float(out)


@dataclass(frozen=True)
class QuarticProfile:
    """Stationary points and energies of ``U(s)`` (module docs), arrays of one shape.

    Attributes
    ----------
    b2, b3, b4 : ndarray
        Coefficients with the sign convention applied (``b3 >= 0``).
    flipped : ndarray of bool
        Where the input ``b3`` was negative (the direction must be flipped to match).
    beta : ndarray
        ``b3 / sqrt(3 b2 b4)`` (>= 0); NaN where ``b4 <= 0``.
    group : ndarray of str
        "A" (``beta^2 <= 1``), "B" (``beta^2 > 1``) or "-" (``b4 <= 0``: unbounded, no group).
    has_second_well : ndarray of bool
        ``beta^2 >= 8/9`` and ``b4 > 0``: a barrier and a second minimum exist.
    s_max, s_min2 : ndarray
        Barrier top and second minimum along ``s`` (sqrt(mass) distance); NaN where absent.
        For ``b4 <= 0``, ``s_max`` is the maximum on the ``s < 0`` side (NaN if also ``b3 = b4 = 0``).
    barrier : ndarray
        ``U(s_max)`` (energy); NaN where there is no barrier top.
    asymmetry : ndarray
        ``U(s_min2)`` (energy, negative when the second well is lower); NaN where absent.
    second_depth : ndarray
        ``barrier - asymmetry``, the barrier from the second minimum.
    barrier_cubic : ndarray
        ``(2/3) b2^3 / b3^2``, the ``b4 -> 0`` limit of the barrier (inf where ``b3 = 0``).
    """

    b2: np.ndarray
    b3: np.ndarray
    b4: np.ndarray
    flipped: np.ndarray
    beta: np.ndarray
    group: np.ndarray
    has_second_well: np.ndarray
    s_max: np.ndarray
    s_min2: np.ndarray
    barrier: np.ndarray
    asymmetry: np.ndarray
    second_depth: np.ndarray
    barrier_cubic: np.ndarray


def quartic_profile(b2, b3, b4) -> QuarticProfile:
    """Closed-form stationary points, barrier, asymmetry and group of ``U(s)`` (module docs).

    Parameters
    ----------
    b2, b3, b4 : array_like, broadcastable
        Directional derivatives of the energy (no factorials), any sign of ``b3``.

    Returns
    -------
    QuarticProfile
        With ``b3`` made non-negative (``flipped`` says where).

    Raises
    ------
    ValueError
        A non-finite coefficient, or ``b2 <= 0`` (the expansion point is not a minimum).

    Examples
    --------
    >>> p = quartic_profile(1.0, 3.0, 3.0)          # beta = 1: two equally deep wells
    >>> float(p.beta), float(p.s_min2), abs(float(p.asymmetry)) < 1e-15
    (1.0, -2.0, True)
    >>> p = quartic_profile(1.0, -0.5, 1e-12)       # cubic-only limit (2/3) b2^3 / b3^2
    >>> bool(abs(p.barrier - 8.0 / 3.0) < 1e-9), bool(p.flipped)
    (True, True)
    """
    b2, b3, b4 = np.broadcast_arrays(*(np.array(x, dtype=float) for x in (b2, b3, b4)))
    b2, b3, b4 = (np.array(x, dtype=float) for x in (b2, b3, b4))
    for name, x in (("b2", b2), ("b3", b3), ("b4", b4)):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"quartic profile: non-finite {name}")
    if np.any(b2 <= 0):
        raise ValueError("quartic profile: b2 <= 0, the expansion point is not a minimum along the direction "
                         f"(smallest b2 = {b2.min():.3e})")
    flipped = b3 < 0
    b3 = np.abs(b3)
    bet = np.asarray(beta(b2, b3, b4), dtype=float).reshape(b2.shape)
    bounded = b4 > 0
    disc = b3 * b3 - (8.0 / 3.0) * b2 * b4          # >= 0 iff beta^2 >= 8/9 (or b4 <= 0)
    has2 = bounded & (disc >= 0)
    root = np.sqrt(np.where(disc >= 0, disc, 0.0))
    denom = b3 + root
    with np.errstate(divide="ignore", invalid="ignore"):
        s_max = np.where(denom > 0, -4.0 * b2 / np.where(denom > 0, denom, 1.0), np.nan)
        s_max = np.where(has2 | ~bounded, s_max, np.nan)
        s_min2 = np.where(has2, 6.0 * b2 / (np.where(bounded, b4, 1.0) * s_max), np.nan)
        barrier = quartic_energy(s_max, b2, b3, b4)
        asym = quartic_energy(s_min2, b2, b3, b4)
        cubic = np.where(b3 > 0, (2.0 / 3.0) * b2 ** 3 / np.where(b3 > 0, b3, 1.0) ** 2, np.inf)
    group = np.where(~bounded, "-", np.where(bet * bet > BETA2_GROUP_B, "B", "A"))
    return QuarticProfile(b2=b2, b3=b3, b4=b4, flipped=flipped, beta=bet, group=group, has_second_well=has2,
                          s_max=s_max, s_min2=s_min2, barrier=barrier, asymmetry=asym,
                          second_depth=barrier - asym, barrier_cubic=cubic)


def stationary_points_numeric(b2: float, b3: float, b4: float) -> np.ndarray:
    """Real stationary points of ``U(s)`` from the companion-matrix roots of ``U'(s)`` (sorted).

    An independent route for the closed forms (``numpy.roots`` of ``b4 s^3/6 + b3 s^2/2 + b2 s``),
    polished by two Newton steps; roots with ``|Im| > 1e-9 |Re|`` (or 1e-12) are dropped.
    """
    r = np.roots([b4 / 6.0, b3 / 2.0, b2, 0.0]) if b4 != 0 else np.roots([b3 / 2.0, b2, 0.0])
    real = np.sort(r[np.abs(r.imag) <= 1e-9 * np.maximum(np.abs(r.real), 1e-3)].real)
    for _ in range(2):
        d1 = b2 * real + b3 * real ** 2 / 2 + b4 * real ** 3 / 6
        d2 = b2 + b3 * real + b4 * real ** 2 / 2
        real = real - np.where(d2 != 0, d1 / np.where(d2 != 0, d2, 1.0), 0.0)
    return real


__all__ = ["BETA2_STATIONARY", "BETA2_GROUP_B", "QuarticProfile", "quartic_profile", "quartic_energy", "beta",
           "stationary_points_numeric"]
