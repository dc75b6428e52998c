"""Quartic expansion along modes (glassmodes.expansion): closed forms, coefficients, LAMMPS checks."""

from __future__ import annotations

import numpy as np
import pytest

from glassmodes.expansion import quartic_energy, quartic_profile, stationary_points_numeric


# ---- closed forms of the quartic profile ---------------------------------------------------------

def _random_coefficients(n, rng):
    b2 = rng.uniform(0.05, 5.0, n)
    b4 = rng.uniform(0.05, 50.0, n)
    beta = rng.uniform(-2.5, 2.5, n)
    # keep clear of beta^2 = 8/9, where the barrier top and the second minimum merge (a double root
    # whose position is only sqrt(eps) accurate by any root finder)
    beta = np.where(np.abs(beta ** 2 - 8 / 9) < 0.02, beta + 0.3, beta)
    return b2, beta * np.sqrt(3 * b2 * b4), b4


def test_closed_forms_match_numeric_roots():
    rng = np.random.default_rng(7)
    b2, b3, b4 = _random_coefficients(400, rng)
    p = quartic_profile(b2, b3, b4)
    assert np.all(p.b3 >= 0) and np.array_equal(p.flipped, b3 < 0)
    n_two = 0
    for k in range(b2.size):
        roots = stationary_points_numeric(b2[k], p.b3[k], b4[k])
        others = roots[np.abs(roots) > 1e-12 * (1 + np.abs(roots).max())]
        if p.has_second_well[k]:
            n_two += 1
            assert others.size == 2
            scale = np.abs(others).max()
            # nearer to 0: the maximum; farther: the second minimum
            assert abs(others[1] - p.s_max[k]) <= 1e-12 * scale
            assert abs(others[0] - p.s_min2[k]) <= 1e-12 * scale
            e_scale = quartic_energy(others[0], b2[k], 0.0, b4[k]) + abs(quartic_energy(others[1], b2[k], 0, 0))
            assert abs(quartic_energy(others[1], b2[k], p.b3[k], b4[k]) - p.barrier[k]) <= 1e-12 * e_scale
            assert abs(quartic_energy(others[0], b2[k], p.b3[k], b4[k]) - p.asymmetry[k]) <= 1e-12 * e_scale
            # curvatures: a maximum and a minimum
            assert b2[k] + p.b3[k] * p.s_max[k] + b4[k] * p.s_max[k] ** 2 / 2 < 0
            assert b2[k] + p.b3[k] * p.s_min2[k] + b4[k] * p.s_min2[k] ** 2 / 2 > 0
        else:
            assert others.size == 0 and np.isnan(p.s_max[k]) and np.isnan(p.barrier[k])
    assert 50 < n_two < 350          # both cases exercised
    beta2 = p.beta ** 2
    assert np.array_equal(p.group == "B", beta2 > 1)
    assert np.array_equal(p.has_second_well, beta2 >= 8 / 9)
    # group B <=> the second well is lower (asymmetry < 0), the Kumar et al. Eq. 8 criterion
    two = p.has_second_well
    assert np.array_equal(p.asymmetry[two] < 0, beta2[two] > 1)
    assert np.allclose(p.second_depth[two], p.barrier[two] - p.asymmetry[two], rtol=0, atol=0)


def test_equal_wells_at_beta_one():
    b2, b4 = np.array([0.3, 2.0, 7.0]), np.array([1.0, 0.2, 40.0])
    for sign in (1, -1):
        p = quartic_profile(b2, sign * np.sqrt(3 * b2 * b4), b4)
        assert np.allclose(p.beta, 1.0, rtol=1e-15, atol=0)
        # U(s_min2) = 0 exactly in exact arithmetic; relative to the barrier, round-off only
        assert np.all(np.abs(p.asymmetry) <= 1e-13 * p.barrier)
        # the second minimum of the symmetric case sits at s = -3 b3 / b4 ... = -sqrt(12 b2 / b4)
        assert np.allclose(p.s_min2, -np.sqrt(12 * b2 / b4), rtol=1e-13, atol=0)
        assert np.all(p.group == "A")          # beta^2 = 1 is the edge of group A (Eq. 8: <=)


def test_cubic_only_limit():
    b2, b3 = 0.7, 0.9
    exact = (2.0 / 3.0) * b2 ** 3 / b3 ** 2
    p0 = quartic_profile(b2, b3, 0.0)
    assert p0.group == "-" and abs(p0.barrier - exact) <= 1e-15 * exact and abs(p0.s_max + 2 * b2 / b3) < 1e-15
    assert abs(p0.barrier_cubic - exact) <= 1e-15 * exact
    # b4 -> 0+: the barrier tends to the cubic value linearly in b4
    errs = [abs(quartic_profile(b2, b3, b4).barrier - exact) for b4 in (1e-2, 1e-3, 1e-4)]
    assert errs[1] < errs[0] / 8 and errs[2] < errs[1] / 8 and errs[2] / exact < 1e-3


def test_single_well_and_bad_input():
    p = quartic_profile([1.0, 1.0], [0.0, 1.0], [1.0, 1.0])
    assert list(p.group) == ["A", "A"] and not p.has_second_well.any() and np.isnan(p.barrier).all()
    assert np.all(np.isinf(p.barrier_cubic[:1]))
    with pytest.raises(ValueError, match="not a minimum"):
        quartic_profile(-1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="non-finite b4"):
        quartic_profile(1.0, 1.0, np.nan)
