"""Three-phonon rates of a Bravais crystal in q-space (glassmodes.anharmonic.crystal)."""

from __future__ import annotations

import numpy as np
import pytest

from glassmodes.anharmonic import LifetimeError, Smearing, decay_rates
from glassmodes.anharmonic.crystal import BravaisPairCrystal, MeshLinewidths, crystal_decay_rates, fcc_primitive
from glassmodes.anharmonic.pair_fc3 import IPLSmooth, PairCubicTensor
from glassmodes.modes import degenerate_groups, solve_modes
from glassmodes.modes.models import make_hessian, neighbor_pairs, pair_hessian

# seed 004's monodisperse crystal: ipl/smooth 12 1 2.5 powers all, FCC at number density 1.015
POT = IPLSmooth(n=12, q=1, xc=2.5, powers="all", pair_coeffs={(1, 1): (1.0, 1.0)})
DENSITY = 1.015


@pytest.fixture(scope="module")
def crystal():
    return BravaisPairCrystal(fcc_primitive(DENSITY), 1.0, POT)


def fcc_supercell(nc: int):
    a = (4 / DENSITY) ** (1 / 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.stack(np.meshgrid(*[np.arange(nc)] * 3, indexing="ij"), -1).reshape(-1, 3)
    return ((cells[:, None, :] + basis[None]) * a).reshape(-1, 3), np.full(3, nc * a)


def shell_sums(omega, gamma, rtol=1e-7):
    """(frequency, summed rate, size) per group of degenerate modes: basis independent."""
    o = np.argsort(omega)
    omega, gamma = omega[o], gamma[o]
    return [(omega[g[0]], gamma[g].sum(), g.size) for g in degenerate_groups(omega, rtol)]


@pytest.mark.parametrize("limit", ["classical", "quantum"])
def test_on_the_mesh_equals_the_supercell(crystal, limit):
    """Targets on the mesh of a 4x4x4-cell box: the supercell code's rates, summed per degenerate
    shell (the only basis-independent quantity), to round-off; the spectra agree too."""
    nc, T, wmax = 4, 1e-2, 5.0
    x, L = fcc_supercell(nc)
    n = x.shape[0]
    types = np.ones(n, dtype=int)
    i, j, rij = neighbor_pairs(x, L, 2.5)
    _, d1, d2, _ = POT.derivatives(np.linalg.norm(rij, axis=1), types[i], types[j])
    modes = solve_modes(make_hessian(pair_hessian(x, L, i, j, rij, d1, d2), x, L), backend="dense")
    mesh = crystal.mesh(nc)
    assert mesh.shape == (n, 3)
    w, _ = crystal.phonons(mesh)
    np.testing.assert_allclose(np.sort(w.ravel())[3:], modes.omega, rtol=1e-12, atol=1e-12)
    smearing = Smearing("gaussian", width=0.4)
    kw = {"limit": limit, "hbar": 0.05 if limit == "quantum" else None}
    sc = decay_rates(modes.omega, modes.vectors, PairCubicTensor.from_positions(x, types, np.ones(n), L, POT), T,
                     smearing=smearing, targets=np.flatnonzero(modes.omega < wmax), **kw)
    targets = [(q, s) for q, wq in zip(mesh, w) for s in range(3) if 1e-6 < wq[s] < wmax]
    qs = crystal_decay_rates(crystal, targets, mesh, T, smearing=smearing, **kw)
    a, b = shell_sums(sc.omega, sc.gamma), shell_sums(qs.omega, qs.gamma)
    assert [s[2] for s in a] == [s[2] for s in b] and len(a) == 3      # 12, 12, 16 modes
    np.testing.assert_allclose([s[1] for s in b], [s[1] for s in a], rtol=1e-10)


def test_mesh_and_symmetry(crystal):
    """The mesh holds |det S| distinct wavevectors; q and q + G are the same mode; the acoustic
    branches are linear at small q; the cubic classes hold equal frequencies; the rate does not
    change under a lattice symmetry (q -> -q and a cubic rotation of q)."""
    m = crystal.mesh(np.diag([2, 3, 4]))
    assert m.shape == (24, 3)
    f = np.mod(m @ crystal.primitive.T / (2 * np.pi), 1.0)
    assert np.unique(np.round(f, 9), axis=0).shape[0] == 24
    q = np.array([0.3, 0.1, -0.2])
    G = crystal.reciprocal[0] - 2 * crystal.reciprocal[2]
    np.testing.assert_allclose(crystal.phonons(q + G)[0], crystal.phonons(q)[0], rtol=1e-12)
    w1, w2 = crystal.phonons(1e-4 * np.array([1.0, 0, 0]))[0][0], crystal.phonons(2e-4 * np.array([1.0, 0, 0]))[0][0]
    np.testing.assert_allclose(w2 / w1, 2.0, rtol=1e-6)
    mesh = crystal.mesh(4)
    first, inverse = crystal.cubic_irreducible(mesh)
    assert 256 // 48 <= first.size < 256 // 8      # at most 48 members a class
    np.testing.assert_allclose(crystal.phonons(mesh)[0], crystal.phonons(mesh[first][inverse])[0], rtol=1e-12)
    mesh = crystal.mesh(3)
    sm = Smearing("gaussian", width=0.3)
    q = np.array([0.7, 0.2, 0.1])
    g = [crystal_decay_rates(crystal, [(p, s) for s in range(3)], mesh, 1e-2, smearing=sm).gamma
         for p in (q, -q, q[[1, 2, 0]], q * [1, -1, 1])]
    for other in g[1:]:
        np.testing.assert_allclose(other, g[0], rtol=1e-9)


def test_broadened_partners_give_the_hydrodynamic_limit(crystal):
    """Far below the partners' linewidth a sound wave's rate goes as omega^2 (the Akhiezer regime):
    local exponent 2 within 0.005 for omega / half width <= 0.05."""
    mesh = crystal.mesh(4)
    qhat = np.array([1.0, 0.0, 0.0])
    broad = lambda q, w: np.full(w.shape, 0.2)              # half width 0.2 per triple
    steps = [0.00025, 0.0005, 0.001]
    res = crystal_decay_rates(crystal, [(f * qhat, s) for f in steps for s in (0, 2)], mesh, 1e-2,
                              partner_gamma=broad)
    for s in (0, 2):
        m = res.branch == s
        slope = np.diff(np.log(res.gamma[m])) / np.diff(np.log(res.omega[m]))
        assert res.omega[m].max() / 0.2 <= 0.05
        np.testing.assert_allclose(slope, 2.0, atol=0.005)


def test_narrow_partner_lines_tend_to_the_lorentzian_smearing(crystal):
    """Partner lines of half width s give the rate with a fixed Lorentzian smearing of width s as
    s -> 0 (they differ only off the energy shell): 3 % apart at s = 0.1, under 1 % at 0.01."""
    mesh = crystal.mesh(4)
    targets = [(mesh[i], s) for i in (3, 17, 40) for s in range(3)]
    diff = []
    for s in (0.1, 0.01):
        a = crystal_decay_rates(crystal, targets, mesh, 1e-2, smearing=Smearing("lorentzian", width=s, cutoff=1e9))
        b = crystal_decay_rates(crystal, targets, mesh, 1e-2, partner_gamma=lambda q, w: np.full(w.shape, s))
        diff.append(np.abs(b.gamma / a.gamma - 1).max())
    assert diff[1] < 0.01 and diff[1] < diff[0] / 4


def test_mesh_linewidths_lookup(crystal):
    """Rates known on a mesh are found again at the mesh points, their images q + G and points
    nearer to them than to any other mesh point."""
    mesh = crystal.mesh(3)
    gamma = np.arange(mesh.size, dtype=float).reshape(-1, 3)
    look = MeshLinewidths(crystal, mesh, gamma)
    G = crystal.reciprocal[1] + crystal.reciprocal[2]
    np.testing.assert_array_equal(look(mesh), gamma)
    np.testing.assert_array_equal(look(mesh - G), gamma)
    np.testing.assert_array_equal(look(mesh + 0.01 * crystal.reciprocal[0]), gamma)


def test_bad_inputs(crystal):
    mesh = crystal.mesh(2)
    sm = Smearing("gaussian", width=0.3)
    q = np.array([0.5, 0.0, 0.0])
    with pytest.raises(LifetimeError, match="exactly one"):
        crystal_decay_rates(crystal, [(q, 0)], mesh, 1e-2)
    with pytest.raises(LifetimeError, match="exactly one"):
        crystal_decay_rates(crystal, [(q, 0)], mesh, 1e-2, smearing=sm, partner_gamma=lambda q, w: w)
    with pytest.raises(LifetimeError, match="classical limit only"):
        crystal_decay_rates(crystal, [(q, 0)], mesh, 1e-2, partner_gamma=lambda q, w: w, limit="quantum", hbar=1)
    with pytest.raises(LifetimeError, match="rate <= 0 or NaN"):
        crystal_decay_rates(crystal, [(q, 0)], mesh, 1e-2, partner_gamma=lambda q, w: np.full(w.shape, np.nan))
    with pytest.raises(LifetimeError, match="omega_min"):
        crystal_decay_rates(crystal, [(np.zeros(3), 0)], mesh, 1e-2, smearing=sm)
    with pytest.raises(LifetimeError, match="fixed smearing width"):
        crystal_decay_rates(crystal, [(q, 0)], mesh, 1e-2, smearing=Smearing("gaussian", adaptive=1.0))
    with pytest.raises(LifetimeError, match="singular"):
        crystal.mesh(np.diag([1, 0, 2]))
    with pytest.raises(LifetimeError, match="primitive"):
        BravaisPairCrystal(np.ones((3, 3)), 1.0, POT)
