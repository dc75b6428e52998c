"""Generalized (two-mode) heat capacity of the quasi-harmonic Green-Kubo theory.

With ``x = hbar omega / kT`` and ``n(x) = 1 / (e^x - 1)`` (Isaeva, Barbalinardo, Donadio and Baroni,
Nat. Commun. 10, 3853 (2019); Xiang, Patinet, Volz and Zhou, the two-mode form of their heat capacity):

    C_munu = kB x_mu x_nu (n(x_nu) - n(x_mu)) / (x_mu - x_nu),      C_mumu = c(x) = kB x^2 n (n + 1),

symmetric, ``0 <= C <= kB``, and ``C -> kB`` as ``hbar -> 0`` (classical: ``C_munu = kB`` exactly).

**Stable evaluation at any x.** Writing ``a = max(x_mu, x_nu)``, ``b = min``, ``delta = a - b``,
``n(b) - n(a) = n(b) (1 + n(a)) (1 - e^-delta)``, so

    C_munu = kB a b n(b) (1 + n(a)) (-expm1(-delta)) / delta,

every factor bounded (``b n(b) <= 1``, ``-expm1(-delta)/delta`` in (0, 1]): no overflow for
``x`` up to the float range (where ``n`` underflows to 0 the result is 0, the right limit), no
cancellation for nearly degenerate pairs. ``delta = 0`` gives ``c(x)`` exactly; pairs with
``delta <= degenerate_tol * max(1, a)`` use ``c`` at the mean ``x`` (default 1e-9, where the formula
and ``c`` agree to round-off anyway).
"""

from __future__ import annotations

import math

import numpy as np

ZETA6 = math.pi**6 / 945.0
T5_COEFFICIENT = math.factorial(6) * ZETA6     # 732.48...


def occupation(x: np.ndarray) -> np.ndarray:
    """Bose-Einstein ``1 / (e^x - 1)``, 0 where it underflows (x > ~709)."""
    with np.errstate(over="ignore"):
        return 1.0 / np.expm1(np.asarray(x, dtype=float))


def mode_heat_capacity(x: np.ndarray) -> np.ndarray:
    """``c(x) = x^2 n (n + 1)`` in units of kB (never ``x^2 e^x/(e^x-1)^2``, which overflows)."""
    n = occupation(x)
    return np.asarray(x, float) ** 2 * n * (n + 1.0)


def generalized_heat_capacity(x_row: np.ndarray, x_col: np.ndarray, degenerate_tol: float = 1e-9) -> np.ndarray:
    """``C_munu / kB`` for ``x_row[:, None]`` and ``x_col[None, :]``, shape=(len(x_row), len(x_col)).

    Parameters
    ----------
    x_row, x_col : ndarray
        ``hbar omega / kT`` (> 0) of the two modes.
    degenerate_tol : float
        Pairs with ``|x_mu - x_nu| <= degenerate_tol * max(1, x)`` take ``c`` at the mean x.
    """
    xr = np.asarray(x_row, dtype=float)[:, None]
    xc = np.asarray(x_col, dtype=float)[None, :]
    a = np.maximum(xr, xc)
    b = np.minimum(xr, xc)
    delta = a - b
    nb = occupation(b)
    na = occupation(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(delta > 0, -np.expm1(-delta) / np.where(delta > 0, delta, 1.0), 1.0)
    out = a * (b * nb) * (1.0 + na) * ratio
    degen = delta <= degenerate_tol * np.maximum(1.0, a)
    if degen.any():
        mean = 0.5 * (a + b)
        out = np.where(degen, mode_heat_capacity(mean), out)
    return out


def sample_heat_capacity(omega: np.ndarray, temperature: float, hbar: float | None, kB: float = 1.0) -> float:
    """``C(T) = kB sum_mu c(hbar omega_mu / kT)`` (classical ``hbar=None``: ``kB`` per mode), energy/temperature."""
    omega = np.asarray(omega, float)
    if hbar is None:
        return kB * omega.size
    return kB * float(mode_heat_capacity(hbar * omega / (kB * temperature)).sum())


def omega4_heat_capacity(A4: float, temperature, hbar: float, kB: float = 1.0):
    """Heat capacity of a vDOS ``A4 omega^4`` (modes per unit omega): ``6! zeta(6) A4 (kT/hbar)^5 kB``.

    From ``int A4 w^4 c(hbar w/kT) dw = A4 (kT/hbar)^5 int x^6 e^x/(e^x-1)^2 dx`` and
    ``int_0^inf x^6 e^x/(e^x-1)^2 dx = 6 int x^5 n dx = 6 Gamma(6) zeta(6)``. The integrand peaks at
    ``hbar omega ~ 6 kT``: the formula holds where the fitted omega^4 range covers that window.
    """
    return T5_COEFFICIENT * A4 * (kB * np.asarray(temperature, float) / hbar) ** 5 * kB
