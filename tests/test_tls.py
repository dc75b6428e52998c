"""Double wells and tunnel splittings (Khomenko, Reichman, Zamponi (2021); Khomenko et al. (2020)).

1D Schroedinger solver: harmonic oscillator, symmetric and tilted double wells (finite differences vs
sinc-DVR, WKB, two-level formula), path potential from images. NEB and pair tools further below.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassmodes.landscape.schrodinger import (PathPotential, levels_dvr, levels_fd, tunnel_splitting,
                                              wkb_splitting_symmetric)


def quartic_well(V0):
    """V0 (x^2 - 1)^2: minima at +-1, barrier V0, curvature 8 V0 at the minima."""
    return lambda x: V0 * (x ** 2 - 1) ** 2


def fd_richardson(f, lo, hi, n, hbar=1.0):
    x, x2 = np.linspace(lo, hi, n), np.linspace(lo, hi, 2 * n - 1)
    return (4 * levels_fd(x2, f(x2), hbar) - levels_fd(x, f(x), hbar)) / 3


# -------------------------------------------------------------------------------------------------
# 1D solver
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hbar, omega", [(1.0, 1.0), (0.01, 25.0)])
def test_harmonic_oscillator(hbar, omega):
    """e_n = hbar omega (n + 1/2): FD with Richardson and DVR to 1e-6 relative."""
    width = np.sqrt(hbar / omega)
    f = lambda x: 0.5 * omega ** 2 * x ** 2
    exact = hbar * omega * np.array([0.5, 1.5])
    fd = fd_richardson(f, -12 * width, 12 * width, 2001, hbar)
    xd = np.linspace(-12 * width, 12 * width, 301)
    dvr = levels_dvr(xd, f(xd), hbar)
    assert np.max(np.abs(fd / exact - 1)) < 1e-6
    assert np.max(np.abs(dvr / exact - 1)) < 1e-6


def test_symmetric_double_well_fd_dvr_wkb():
    """V0 (x^2-1)^2, hbar = 1: FD (converged in h) = DVR to 1e-6; WKB/exact -> 1 as V0/hbar omega grows
    (Landau-Lifshitz; measured 1.27, 1.11, 1.053, 1.015, design note C.5)."""
    ratios = []
    for r in (1.0, 1.58, 2.24, 3.16):            # V0 / (hbar omega), omega = sqrt(8 V0)
        V0 = 8 * r * r
        f = quartic_well(V0)
        fd = fd_richardson(f, -2.5, 2.5, 2001)
        xd = np.linspace(-2.5, 2.5, 801)
        dvr = levels_dvr(xd, f(xd), 1.0)
        E = fd[1] - fd[0]
        assert (dvr[1] - dvr[0]) / E == pytest.approx(1.0, abs=2e-6)
        x = np.linspace(-2.5, 2.5, 8001)
        ratios.append(wkb_splitting_symmetric(x, f(x), 1.0) / E)
    assert np.all(np.diff(ratios) < 0) and ratios[0] > 1.2
    assert ratios[-1] == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("A_over_D0, tol", [(0.5, 0.012), (2.0, 0.045)])
def test_tilted_double_well_two_level(A_over_D0, tol):
    """V0 (x^2-1)^2 + eps x (asymmetry A = 2 eps between the minima): E = sqrt(Delta0^2 + A^2) of the
    two-level model, to the level of the model's own error (it ignores the tilt's change of the
    barrier and of the zero-point energies; measured 0.9 % and 3.7 %). A control: the formula without
    the asymmetry is off by much more."""
    V0 = 8 * 2.24 ** 2
    f = quartic_well(V0)
    x = np.linspace(-2.5, 2.5, 8001)
    D0 = np.diff(levels_fd(x, f(x), 1.0))[0]
    eps = A_over_D0 * D0 / 2
    E = np.diff(levels_fd(x, f(x) + eps * x, 1.0))[0]
    assert E / np.hypot(D0, 2 * eps) == pytest.approx(1.0, abs=tol)
    assert abs(E / D0 - 1) > 5 * tol


def test_path_potential_from_images():
    """41 images of a double well that continues harmonically beyond its minima: the Hermite path
    potential gives the splitting of the exact potential to 1e-4 (interpolation error h^4); the
    grid margins do not matter (doubling them changes E by < 1e-9 relative); FD and DVR agree."""
    V0 = 8 * 2.24 ** 2
    k = 8 * V0

    def exact(x):
        return np.where(np.abs(x) <= 1, V0 * (x ** 2 - 1) ** 2, 0.5 * k * (np.abs(x) - 1) ** 2)

    s = np.linspace(-1, 1, 41)
    pp = PathPotential(s + 1, V0 * (s ** 2 - 1) ** 2, 4 * V0 * s * (s ** 2 - 1), k_ends=(k, k))
    assert pp.length == pytest.approx(2.0)
    sp = tunnel_splitting(pp, 1.0)
    ref = fd_richardson(exact, -4, 4, 4001)
    assert sp.E / (ref[1] - ref[0]) == pytest.approx(1.0, abs=1e-4)
    assert sp.E_dvr / sp.E == pytest.approx(1.0, abs=1e-6)
    x = pp.grid(1.0, factor=2.0)
    wide = fd_richardson(pp, x[0], x[-1], x.size)
    assert (wide[1] - wide[0]) / sp.E == pytest.approx(1.0, abs=1e-6)
    # default end curvature from the Hermite end segments: close to k (41 images)
    auto = PathPotential(s + 1, V0 * (s ** 2 - 1) ** 2, 4 * V0 * s * (s ** 2 - 1))
    assert auto.k_ends[0] == pytest.approx(k, rel=0.01)
    assert sp.is_tls(1.01 * sp.E) and not sp.is_tls(0.99 * sp.E)


def test_path_potential_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        PathPotential(np.array([0.0, 0.0, 1.0]), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="curvatures"):
        PathPotential(np.array([0.0, 0.5, 1.0]), np.array([0, 1.0, 0]), np.zeros(3), k_ends=(1.0, -1.0))
    with pytest.raises(ValueError, match="hbar"):
        levels_fd(np.linspace(0, 1, 11), np.zeros(11), 0.0)
    with pytest.raises(ValueError, match="uniform"):
        levels_fd(np.array([0, 1, 3, 4, 5.0]), np.zeros(5), 1.0)
