"""Heat transport (glassmodes.transport): flux matrices, generalized heat capacity, QHGK/Allen-Feldman kappa.

Independent routes: the completeness of the mode basis; a finite-difference Bloch derivative of D(q)
built from an explicit pair list with image vectors (orthogonal and triclinic boxes); the FCC crystal,
whose diagonal QHGK term must be the relaxation-time Boltzmann sum over its q-mesh computed from the
4-atom D(q); the hbar -> 0 limit; quadrature of the omega^4 heat capacity.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import integrate

from glassmodes.transport import (
    FluxError, Linewidths, TransportError, compute_flux, conductivity, flux_matrices, generalized_heat_capacity,
    minimum_image, mode_heat_capacity, omega4_heat_capacity, read_flux, write_flux,
)
from glassmodes.transport.flux import box_matrix, face_widths

TESTS = Path(__file__).resolve().parent
KA = {(1, 1): (1.0, 1.0, 2.5), (1, 2): (1.5, 0.8, 2.0), (2, 2): (0.5, 0.88, 2.2)}   # eps, sigma, cutoff


# ---- systems ------------------------------------------------------------------------------------
def _ka_sample(d: Path, n: int, seed: int, tilt: float):
    from systems import ka_glass, run

    from glassmodes.lammps_session import open_lammps
    from glassmodes.modes import solve_modes, write_modes

    lmp = open_lammps()
    run(lmp, ka_glass(n, seed=seed, tilt=tilt))
    lmp.command(f"write_hessian all {d / 'H'} method analytic")
    lmp.command(f"write_fc3 all {d / 'fc3'} method analytic")
    lmp.close()
    modes = solve_modes(d / "H", backend="dense")
    write_modes(d / "modes.h5", modes)
    return {"dir": d, "H": d / "H", "modes": d / "modes.h5", "m": modes}


@pytest.fixture(scope="module")
def glass(tmp_path_factory):
    """N = 250 Kob-Andersen glass (L = 5.93 > 2 x 2.5), all modes."""
    return _ka_sample(tmp_path_factory.mktemp("ka250"), 250, 4242, 0.0)


@pytest.fixture(scope="module")
def tilted(tmp_path_factory):
    """The same in a triclinic box (xy = 0.3 L)."""
    return _ka_sample(tmp_path_factory.mktemp("ka250t"), 250, 777, 0.3)


@pytest.fixture(scope="module")
def flux(glass):
    return compute_flux(glass["modes"], glass["H"], keep_tensor=True, block=100)


def explicit_pairs(hessian):
    """Every (i, j, image) pair of the KA potential within its cutoff (no minimum image).

    Returns ``i, j, r, K``: ``r = x_j + img - x_i`` and ``K`` the mass-weighted Hessian block
    ``-(phi'' n n + phi'/r (1 - n n)) / sqrt(m_i m_j)`` of each pair, shape=(P,), (P,), (P, 3), (P, 3, 3).
    """
    x = hessian.positions()
    types = hessian.atoms["type"]
    mass = hessian.atoms["mass"]
    h = box_matrix(hessian.meta["box"], 3)
    ti, tj = np.minimum(types[:, None], types[None, :]), np.maximum(types[:, None], types[None, :])
    eps, sig, rc = (np.vectorize(lambda a, b, k=k: KA[(a, b)][k])(ti, tj) for k in range(3))
    out = []
    for shift in itertools.product(range(-2, 3), repeat=3):
        img = h @ np.asarray(shift, float)
        r = x[None, :, :] + img - x[:, None, :]
        dist = np.linalg.norm(r, axis=2)
        i, j = np.nonzero((dist > 1e-9) & (dist < rc))
        out.append((i, j, r[i, j], dist[i, j], eps[i, j], sig[i, j]))
    i, j, rr, dd, e, s = (np.concatenate(c) for c in zip(*out))
    sr6 = (s / dd) ** 6
    d1 = 4 * e * (-12 * sr6**2 + 6 * sr6) / dd
    d2 = 4 * e * (156 * sr6**2 - 42 * sr6) / dd**2
    u = rr / dd[:, None]
    nn = u[:, :, None] * u[:, None, :]
    K = -(d2[:, None, None] * nn + (d1 / dd)[:, None, None] * (np.eye(3) - nn))
    return i, j, rr, K / np.sqrt(mass[i] * mass[j])[:, None, None]


def bloch_matrix(pairs, n, q):
    """``D(q)_ij = sum_images K_ij exp(i q.r)``, ``D_ii = -sum_j K_ij`` (q-independent), shape=(3n, 3n)."""
    i, j, r, K = pairs
    blocks = np.zeros((n, n, 3, 3), dtype=complex)
    np.add.at(blocks, (i, j), K * np.exp(1j * r @ q)[:, None, None])
    np.add.at(blocks, (i, i), -K)
    return blocks.transpose(0, 2, 1, 3).reshape(3 * n, 3 * n)


# ---- flux matrices ------------------------------------------------------------------------------
def test_flux_antisymmetric_and_complete(glass, flux):
    from glassmodes.io.hessian import read_hessian
    from glassmodes.modes.core import translation_basis
    from glassmodes.transport.flux import pair_vectors

    S = flux.S
    assert S.shape == (3, flux.nmodes, flux.nmodes)
    assert np.abs(S + S.transpose(0, 2, 1)).max() <= 1e-12 * np.abs(S).max()
    np.testing.assert_allclose(flux.W, (S**2).sum(axis=0) * (1 - np.eye(flux.nmodes)), rtol=0, atol=1e-12 * flux.W.max())
    assert flux.completeness_residual < 1e-12 and flux.eigen_residual < 1e-10
    # independent: sum_nu S^2 over the complete basis (translations added) = ||(X^a o D) e_mu||^2
    h = read_hessian(glass["H"])
    D = h.dynamical_matrix()
    E = glass["m"].vectors
    full = np.hstack([translation_basis(np.repeat(h.atoms["mass"], 3), 3), E])
    X, _, _ = pair_vectors(D, h.positions(), h.meta["box"], 3)
    for a in range(3):
        A = sp.csr_matrix((D.data * X[:, a], D.indices, D.indptr), shape=D.shape) @ E
        lhs = ((full.T @ A) ** 2).sum(axis=0)
        rhs = (A * A).sum(axis=0)
        assert np.abs(lhs - rhs).max() <= 1e-12 * rhs.max()
        np.testing.assert_allclose(E.T @ A, S[a], atol=1e-12 * np.abs(S).max())


@pytest.mark.parametrize("sample", ["glass", "tilted"])
def test_flux_is_the_bloch_derivative(sample, request):
    """e_mu^T dD(q)/dq_a e_nu = -i S^a_munu, D(q) from explicit images, central differences |q| = 1e-5 (2pi/L)."""
    from glassmodes.io.hessian import read_hessian

    s = request.getfixturevalue(sample)
    h = read_hessian(s["H"])
    fp = compute_flux(s["modes"], s["H"], keep_tensor=True)
    pairs = explicit_pairs(h)
    n = h.natoms
    D0 = bloch_matrix(pairs, n, np.zeros(3))
    assert np.abs(D0 - h.dynamical_matrix().toarray()).max() <= 1e-10 * np.abs(D0).max()
    E = s["m"].vectors[:, fp.mode_index]
    L = face_widths(box_matrix(h.meta["box"], 3)).min()
    step = 1e-5 * 2 * np.pi / L
    for a in range(3):
        dq = np.zeros(3)
        dq[a] = step
        dD = (bloch_matrix(pairs, n, dq) - bloch_matrix(pairs, n, -dq)) / (2 * step)
        M = E.T @ dD @ E
        err = np.abs(1j * M - fp.S[a]).max() / np.abs(fp.S[a]).max()
        assert err <= 1e-6, f"axis {a}: {err:.2e}"


def test_minimum_image_triclinic_brute_force():
    box = {"boxlo": [0, 0, 0], "boxhi": [5.0, 4.0, 6.0], "xy": 2.4, "xz": -2.9, "yz": 1.9, "triclinic": True,
           "periodicity": [1, 1, 1]}
    h = box_matrix(box, 3)
    rng = np.random.default_rng(3)
    dx = rng.uniform(-20, 20, size=(2000, 3))
    got = minimum_image(dx, box, 3)
    dx0 = dx - np.round(dx @ np.linalg.inv(h).T) @ h.T          # then every image within +-5 cells
    shifts = np.array(list(itertools.product(range(-5, 6), repeat=3)), float) @ h.T
    brute = np.linalg.norm(dx0[:, None, :] + shifts[None], axis=2).min(axis=1)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), brute, rtol=1e-12)
    # the result is an image of dx
    f = (got - dx) @ np.linalg.inv(h).T
    np.testing.assert_allclose(f, np.round(f), atol=1e-9)


def test_box_too_small_and_wrong_inputs_are_refused(glass, tmp_path):
    from glassmodes.modes import read_modes, write_modes

    with pytest.raises(FluxError, match="too small for the minimum image"):
        compute_flux(glass["modes"], glass["H"], interaction_range_override=3.0)
    with pytest.raises(FluxError, match="beyond the interaction range"):
        compute_flux(glass["modes"], glass["H"], interaction_range_override=1.0)
    # a mode file without every eigenvector
    m = read_modes(glass["modes"])
    write_modes(tmp_path / "part.h5", m, vectors=100)
    with pytest.raises(FluxError, match="eigenvectors are stored"):
        compute_flux(tmp_path / "part.h5", glass["H"])


def test_modes_of_another_structure_are_refused(glass, tilted):
    with pytest.raises(FluxError, match="different structures"):
        compute_flux(tilted["modes"], glass["H"])


def test_flux_file_roundtrip_and_float32(glass, flux, tmp_path):
    write_flux(tmp_path / "f.h5", flux)
    back = read_flux(tmp_path / "f.h5")
    np.testing.assert_array_equal(back.W, flux.W)
    np.testing.assert_array_equal(back.S, flux.S)
    assert back.units == "lj" and back.volume == pytest.approx(flux.volume) and back.ftm2v == 1.0
    f32 = compute_flux(glass["modes"], glass["H"], dtype=np.float32)
    assert np.abs(f32.W - flux.W).max() <= 1e-5 * flux.W.max()
    lw = Linewidths.constant(0.5, flux.nmodes)
    k64 = conductivity(flux, [1.0], lw).kappa[0]
    k32 = conductivity(f32, [1.0], lw).kappa[0]
    assert abs(k32 / k64 - 1) < 1e-5


def test_flux_identical_on_1_2_and_4_ranks(glass, mpirun, tmp_path):
    out = {}
    for n in (1, 2, 4):
        mpirun(n, TESTS / "mpi_scripts" / "transport_ranks.py", glass["modes"], glass["H"], tmp_path / f"k{n}.npz")
        out[n] = np.load(tmp_path / f"k{n}.npz")
    for n in (2, 4):
        for key in ("W", "kappa_modal"):
            np.testing.assert_array_equal(out[n][key], out[1][key])


# ---- heat capacity ------------------------------------------------------------------------------
def test_generalized_heat_capacity_limits_and_stability():
    x = np.concatenate([np.geomspace(1e-6, 1e3, 200), [700.0, 710.0, 800.0, 1e5]])
    C = generalized_heat_capacity(x, x)
    assert np.all(np.isfinite(C)) and C.min() >= 0 and C.max() <= 1 + 1e-15
    np.testing.assert_allclose(C, C.T, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(np.diag(C), mode_heat_capacity(x), rtol=1e-13, atol=1e-300)
    # the textbook form where it does not overflow, in extended precision
    xa = np.geomspace(1e-3, 50, 60)
    xl = xa.astype(np.longdouble)
    n = 1 / np.expm1(xl)
    with np.errstate(invalid="ignore"):
        ref = xl[:, None] * xl[None] * (n[None] - n[:, None]) / (xl[:, None] - xl[None])
    off = ~np.eye(xa.size, dtype=bool)
    np.testing.assert_allclose(generalized_heat_capacity(xa, xa)[off], ref[off].astype(float), rtol=1e-10)
    # nearly degenerate pairs: continuous, no 0/0
    for x0 in (1e-3, 1.0, 30.0, 600.0):
        xs = x0 * (1 + np.array([0, 1e-14, 1e-11, 1e-8, 1e-6]))
        c = generalized_heat_capacity(xs[:1], xs)[0]
        mid = mode_heat_capacity(0.5 * (xs[0] + xs))          # the limit, to O((x_mu - x_nu)^2)
        assert np.all(np.isfinite(c)) and np.abs(c / mid - 1).max() < 1e-6
    # classical limit
    small = np.geomspace(1e-9, 1e-5, 20)
    assert np.abs(generalized_heat_capacity(small, small) - 1).max() < 1e-8


def test_omega4_heat_capacity_quadrature():
    A4, hbar, kB = 2.5, 0.03, 1.0
    for T in (1e-3, 3e-3):
        val, _ = integrate.quad(lambda w: A4 * w**4 * mode_heat_capacity(np.array([hbar * w / (kB * T)]))[0],
                                0, 200 * kB * T / hbar, limit=400, epsabs=0, epsrel=1e-11)
        assert omega4_heat_capacity(A4, T, hbar, kB) == pytest.approx(val, rel=1e-8)


# ---- conductivity -------------------------------------------------------------------------------
def fcc_bte(ncells, gamma0, temperature, hbar=None, h=1e-6):
    """(1/V) sum_q sum_groups C tr_G[(eps^+ dD/dq_a eps)^2] / (4 w^2 d Gamma0): RTA Boltzmann, 4-atom D(q)."""
    from glassmodes.modes.models import FCC_LJ_A0, fcc_dynamical_matrix

    a0 = FCC_LJ_A0
    V = (ncells * a0) ** 3
    total = 0.0
    for hkl in itertools.product(range(ncells), repeat=3):
        q = 2 * np.pi * np.array(hkl, float) / (ncells * a0)
        lam, eps = np.linalg.eigh(fcc_dynamical_matrix(q))
        dD = []
        for a in range(3):
            dq = np.zeros(3)
            dq[a] = h
            dD.append((fcc_dynamical_matrix(q + dq) - fcc_dynamical_matrix(q - dq)) / (2 * h))
        from glassmodes.modes import degenerate_groups

        for g in degenerate_groups(lam, 1e-9):
            if lam[g[0]] < 1e-8:
                continue                                      # the translations at q = 0
            w = math.sqrt(lam[g].mean())
            e = eps[:, g]
            v2 = sum(np.trace((e.conj().T @ dD[a] @ e) @ (e.conj().T @ dD[a] @ e)).real for a in range(3))
            c = 1.0 if hbar is None else float(mode_heat_capacity(np.array([hbar * w / temperature]))[0])
            total += c * v2 / (4 * w * w * 3 * gamma0)
    return total / V


@pytest.mark.parametrize("hbar", [None, 0.1])
def test_fcc_diagonal_qhgk_is_the_boltzmann_sum(hbar, tmp_path):
    from glassmodes.modes import solve_modes, write_modes
    from glassmodes.modes.models import fcc_lj

    from test_modes import save_hessian

    H = save_hessian(tmp_path / "H", fcc_lj(3))
    write_modes(tmp_path / "m.h5", solve_modes(H, backend="dense"))
    fp = compute_flux(tmp_path / "m.h5", H, interaction_range_override=1.35)
    gamma0 = 1e-4
    limit = "classical" if hbar is None else "quantum"
    res = conductivity(fp, [0.5], Linewidths.constant(gamma0, fp.nmodes), limit=limit, hbar=hbar, eta_min=1e-12,
                       bands=[1e-7])
    ref = fcc_bte(3, gamma0, 0.5, hbar)
    assert res.kappa_diagonal[0, 0] == pytest.approx(ref, rel=1e-6)
    # the rest (distinct frequencies) is O(Gamma0^2) smaller
    assert res.kappa[0] - res.kappa_diagonal[0, 0] < 1e-3 * ref


def test_allen_feldman_plateau(flux):
    w = flux.omega
    spacing = (w[-1] - w[0]) / (w.size - 1)
    etas = np.geomspace(5 * spacing, 1.0, 6)
    kap = np.array([conductivity(flux, [1.0], Linewidths.constant(e, flux.nmodes)).kappa[0] for e in etas])
    assert kap.max() / kap.min() - 1 < 0.10, dict(zip(etas.round(3), kap.round(4)))


def test_kappa_sums_tensor_and_quantum_limit(flux):
    rng = np.random.default_rng(5)
    gamma = rng.uniform(0.2, 1.0, flux.nmodes)
    lw = Linewidths.classical(gamma, 0.3)
    T = [0.1, 0.3, 0.6]
    cl = conductivity(flux, T, lw)
    # classical Gamma ~ T, modal sums, tensor trace
    np.testing.assert_allclose(cl.gamma[1], gamma)
    np.testing.assert_allclose(cl.gamma[2], 2 * gamma)
    np.testing.assert_allclose(cl.kappa_modal.sum(axis=1), cl.kappa, rtol=1e-12)
    tr = np.trace(cl.kappa_tensor, axis1=1, axis2=2) / 3
    np.testing.assert_allclose(tr, cl.kappa, rtol=1e-10)
    np.testing.assert_allclose(cl.kappa_tensor, cl.kappa_tensor.transpose(0, 2, 1), rtol=1e-10, atol=1e-14)
    assert np.all(cl.kappa_diagonal[:, 0] <= cl.kappa_diagonal[:, 1]) and np.all(cl.kappa_diagonal[:, -1] <= cl.kappa)
    # brute force at one temperature: kappa = (1/3V) sum C S^2 tau / (4 w w)
    w = flux.omega
    g = 0.5 * (gamma[:, None] + gamma[None]) * (0.1 / 0.3)
    tau = g / ((w[:, None] - w[None]) ** 2 + g * g)
    ref = (flux.W * tau / (4 * w[:, None] * w[None])).sum() / (3 * flux.volume)
    assert cl.kappa[0] == pytest.approx(ref, rel=1e-12)
    # hbar -> 0: quantum -> classical
    qu = conductivity(flux, T, lw, limit="quantum", hbar=1e-7)
    np.testing.assert_allclose(qu.kappa, cl.kappa, rtol=1e-8)
    np.testing.assert_allclose(qu.heat_capacity, flux.nmodes, rtol=1e-8)
    qs = conductivity(flux, T, lw, limit="quantum", hbar=0.5)
    assert np.all(qs.kappa < cl.kappa) and np.all(np.diff(qs.kappa / cl.kappa) > 0)


def test_zero_and_bad_linewidths_and_temperatures(flux):
    g = np.full(flux.nmodes, 0.4)
    g[:5] = 0.0
    res = conductivity(flux, [1.0], Linewidths.classical(g, 1.0), eta_min=0.05)
    assert np.all(np.isfinite(res.kappa_modal)) and res.floored[0] == 5 and res.gamma[0, 0] == 0.05
    bad = g.copy()
    bad[3] = -1
    with pytest.raises(TransportError, match="negative linewidths"):
        Linewidths.classical(bad, 1.0)
    bad[3] = np.nan
    with pytest.raises(TransportError, match="NaN"):
        Linewidths.classical(bad, 1.0)
    with pytest.raises(TransportError, match="temperatures must be > 0"):
        conductivity(flux, [1.0, 0.0], Linewidths.classical(g, 1.0))
    with pytest.raises(TransportError, match="hbar"):
        conductivity(flux, [1.0], Linewidths.classical(g, 1.0), limit="quantum")
    with pytest.raises(TransportError, match="no quantum linewidths at T = 2"):
        conductivity(flux, [2.0], Linewidths.per_temperature({1.0: g}), limit="quantum", hbar=0.03)


# ---- command line -------------------------------------------------------------------------------
def _lifetimes_table(path, flux, gamma, temperature, limit="classical", hbar=None, modes=None):
    """A glassmodes lifetimes CSV (the lifetimes writer) with given rates (``path=None``: the Lifetimes only)."""
    from glassmodes.anharmonic import Lifetimes, Smearing
    from glassmodes.anharmonic.report import write_lifetimes_csv

    k = flux.nmodes if modes is None else len(modes)
    idx = flux.mode_index if modes is None else flux.mode_index[modes]
    w = flux.omega if modes is None else flux.omega[modes]
    z = np.zeros(k)
    res = Lifetimes(modes=idx, omega=w, gamma_split=np.asarray(gamma, float), gamma_combine=z, jdos_split=z,
                    jdos_combine=z, pairs_split=z.astype(int), pairs_combine=z.astype(int), temperature=temperature,
                    limit=limit, kT=temperature, hbar=float("nan") if hbar is None else hbar,
                    smearing=Smearing("gaussian", width=0.2))
    if path is None:
        return res
    write_lifetimes_csv(path, res)
    return path


def _cli(*args):
    from glassmodes.cli.main import main

    return main([str(a) for a in args])


def test_cli_conductivity(glass, flux, tmp_path, capsys):
    import h5py

    gamma = np.linspace(0.1, 0.9, flux.nmodes)
    gamma[0] = 0.0                                          # a mode without partners: floored, no NaN
    pt = _lifetimes_table(tmp_path / "pt.csv", flux, gamma, 0.2)
    out, plots = tmp_path / "k.h5", tmp_path / "plots"
    assert _cli("conductivity", glass["modes"], glass["H"], "--lifetimes", pt, "--T", 0.1, 0.2, 0.4,
                "-o", out, "--plot", plots, "--save-flux", tmp_path / "flux.h5", "--eta-min", 0.01) == 0
    err = capsys.readouterr().err
    assert "qhgk classical" in err and "1 linewidths floored at eta_min = 0.01" in err
    ref = conductivity(flux, [0.1, 0.2, 0.4], Linewidths.classical(gamma, 0.2), eta_min=0.01)
    with h5py.File(out) as f:
        assert f.attrs["format"] == "glassmodes-conductivity" and f.attrs["kappa_unit"] == "kB/(sigma t0)"
        np.testing.assert_allclose(f["kappa"][()], ref.kappa, rtol=1e-12)
        assert np.all(np.isfinite(f["kappa_modal"][()]))
        np.testing.assert_allclose(f["class_kappa"][()].sum(axis=1), ref.kappa, rtol=1e-12)
        assert f["maps/C"].shape[1] == flux.nmodes
    for name in ("kappa_T", "heat_capacity_T", "cumulative_kappa", "modal_kappa", "diffusivity", "pair_maps"):
        assert (plots / f"{name}.png").stat().st_size > 0 and (plots / f"{name}.csv").stat().st_size > 0
    # a later sweep from the stored flux products: the same numbers
    assert _cli("conductivity", "--flux", tmp_path / "flux.h5", "--lifetimes", pt, "--T", 0.1, 0.2, 0.4,
                "-o", tmp_path / "k2.h5", "--eta-min", 0.01, "--quiet") == 0
    with h5py.File(tmp_path / "k2.h5") as f:
        np.testing.assert_allclose(f["kappa"][()], ref.kappa, rtol=1e-12)


def test_cli_bad_input_writes_nothing(glass, tilted, flux, tmp_path, capsys):
    good = np.full(flux.nmodes, 0.3)
    neg = good.copy()
    neg[7] = -0.1
    cases = [
        (("--eta", 0.2, "--T", 0.1, -1.0), "temperatures must be > 0"),
        (("--eta", 0.2, "--T", 0.1, "--quantum"), "needs --hbar"),
        (("--lifetimes", _lifetimes_table(tmp_path / "neg.csv", flux, neg, 0.2), "--T", 0.1), "negative linewidths"),
        (("--lifetimes", _lifetimes_table(tmp_path / "part.csv", flux, good[:50], 0.2, modes=np.arange(50)),
          "--T", 0.1), "linewidths missing for"),
        (("--lifetimes", _lifetimes_table(tmp_path / "q.csv", flux, good, 0.2, limit="quantum", hbar=0.03),
          "--T", 0.1, "--quantum", "--hbar", 0.03), "no quantum linewidths at T = 0.1"),
        (("--eta", 0.2, "--T", 0.1, "--rc", 3.5), "too small for the minimum image"),
    ]
    for extra, message in cases:
        out = tmp_path / "never.h5"
        assert _cli("conductivity", glass["modes"], glass["H"], *extra, "-o", out, "--plot", tmp_path / "p") == 2
        err = capsys.readouterr().err
        last = err.strip().splitlines()[-1]
        assert last.startswith("glassmodes conductivity: error:") and message in last, (message, err)
        assert not out.exists() and not (tmp_path / "p").exists()
        assert not list(tmp_path.glob(".never.h5*"))
    assert _cli("conductivity", tilted["modes"], glass["H"], "--eta", 0.2, "--T", 0.1, "-o", tmp_path / "never.h5") == 2
    assert "different structures" in capsys.readouterr().err


# ---- linewidths at every temperature from one run (glassmodes.anharmonic partner weights) ---------
class _DenseTensor:
    def __init__(self, T):
        self.T = T
        self.dimension = 3

    def contract(self, u):
        return sp.csr_matrix(np.einsum("a,abc->bc", u, self.T))


def _random_vertex(n: int, seed: int):
    """A symmetric random third-order tensor, an orthonormal basis and ascending frequencies."""
    rng = np.random.default_rng(seed)
    T3 = rng.standard_normal((n, n, n))
    T3 = sum(T3.transpose(p) for p in itertools.permutations(range(3))) / 6
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return T3, Q, np.sort(rng.uniform(0.5, 3.0, n))


@pytest.mark.parametrize("limit", ["quantum", "classical"])
@pytest.mark.parametrize("method,smearing", [("triples", ("gaussian", 0.3, None)), ("direct", ("gaussian", None, 3.0)),
                                             ("triples", ("lorentzian", 0.2, None))])
def test_reweighted_rates_equal_direct_runs(limit, method, smearing):
    from glassmodes.anharmonic import Smearing, decay_rates
    from glassmodes.anharmonic.lifetimes import reweight

    n = 36
    T3, Q, w = _random_vertex(n, 11)
    sm = Smearing(smearing[0], width=smearing[1], adaptive=smearing[2], cutoff=10 if smearing[0] == "lorentzian" else None)
    targets = None if method == "triples" else [2, 9, 20, 33]
    hbar = 0.7 if limit == "quantum" else None
    kw = dict(limit=limit, smearing=sm, hbar=hbar, targets=targets, method=method, block=4, chunk=7)
    ref = decay_rates(w, Q, _DenseTensor(T3), 0.8, partner_weights=True, **kw)
    plain = decay_rates(w, Q, _DenseTensor(T3), 0.8, **kw)
    np.testing.assert_array_equal(ref.gamma, plain.gamma)                 # the option changes nothing else
    assert plain.partners is None and ref.partners.split.shape == (ref.modes.size, n)
    for T in (0.05, 0.8, 3.0, 40.0):
        direct = decay_rates(w, Q, _DenseTensor(T3), T, **kw)
        again = reweight(ref, T)
        np.testing.assert_allclose(again.gamma_split, direct.gamma_split, rtol=1e-10, atol=1e-14 * direct.gamma.max())
        np.testing.assert_allclose(again.gamma_combine, direct.gamma_combine, rtol=1e-10,
                                   atol=1e-14 * direct.gamma.max())
        assert again.temperature == T and again.kT == pytest.approx(direct.kT)


def test_partner_weights_split_over_ranks_in_process():
    """Pivots split over two fake ranks (no Allreduce): the partial weights add up to the whole."""
    from glassmodes.anharmonic import Smearing, decay_rates
    from glassmodes.anharmonic.lifetimes import reweight

    T3, Q, w = _random_vertex(30, 2)
    kw = dict(limit="quantum", hbar=0.5, smearing=Smearing("gaussian", width=0.3), block=4, partner_weights=True)
    full = decay_rates(w, Q, _DenseTensor(T3), 1.0, **kw)

    class FakeComm:
        def __init__(self, rank):
            self.rank = rank

        def Get_rank(self):
            return self.rank

        def Get_size(self):
            return 2

        def Allreduce(self, *args, **kwargs):
            return None

        def allreduce(self, x, op=None):
            return x

    parts = [decay_rates(w, Q, _DenseTensor(T3), 1.0, comm=FakeComm(r), **kw) for r in (0, 1)]
    for T in (0.3, 2.0):
        total = sum(reweight(p, T).gamma for p in parts)
        np.testing.assert_allclose(total, reweight(full, T).gamma, rtol=1e-12)


def test_cli_quantum_kappa_T_from_one_lifetimes_run(glass, tmp_path, capsys):
    """--fc3 --quantum: one lifetimes run re-weighted to every T equals a direct lifetimes run per T."""
    import h5py

    from glassmodes.anharmonic import Smearing, compute_lifetimes
    from glassmodes.anharmonic.report import read_table

    T = [0.05, 0.2]
    sm = Smearing("gaussian", width=0.4)
    out = tmp_path / "q.h5"
    assert _cli("conductivity", glass["modes"], glass["H"], "--fc3", glass["dir"] / "fc3", "--width", 0.4, "--quantum",
                "--hbar", 0.05, "--T", *T, "-o", out, "--save-lifetimes", tmp_path / "q.csv", "--quiet") == 0
    flux = compute_flux(glass["modes"], glass["H"])
    # the direct run at the second temperature (the first is the reference run itself)
    direct = compute_lifetimes(glass["modes"], glass["dir"] / "fc3", T[1], limit="quantum", hbar=0.05, smearing=sm)
    ref = conductivity(flux, T[1:], Linewidths.per_temperature({T[1]: direct.gamma}), limit="quantum", hbar=0.05)
    with h5py.File(out) as f:
        np.testing.assert_allclose(f["gamma"][1], np.maximum(direct.gamma, ref.eta_min), rtol=1e-10)
        assert f["kappa"][1] == pytest.approx(ref.kappa[0], rel=1e-10)
        assert f["gamma"][0].mean() < f["gamma"][1].mean()
    meta, cols = read_table(tmp_path / "q.csv")
    assert meta["temperature"] == T[0] and meta["limit"] == "quantum" and cols["gamma"].size == flux.nmodes


def test_demo_stage(glass, flux, tmp_path):
    from glassmodes.transport.report import demo_stage

    gamma = np.linspace(0.2, 0.6, flux.nmodes)
    lt = _lifetimes_table(None, flux, gamma, 0.1)
    sweep, figures, line = demo_stage(glass["modes"], glass["H"], lt, tmp_path / "c", [0.05, 0.1])
    ref = conductivity(flux, [0.05, 0.1], Linewidths.classical(gamma, 0.1))
    np.testing.assert_allclose(sweep.kappa, ref.kappa, rtol=1e-12)
    assert line.startswith("qhgk classical, ") and len(figures) == 6 and (tmp_path / "c" / "conductivity.h5").exists()


def test_two_dimensional_network(tmp_path):
    """2D: d = 2 everywhere (x, y only; volume = area); complete basis and the kappa^ab trace."""
    from glassmodes.modes import solve_modes, write_modes
    from glassmodes.modes.models import spring_network

    from test_modes import save_hessian

    h = spring_network(400, dimension=2, seed=4, mass_ratio=2.0)
    H = save_hessian(tmp_path / "H", h)
    write_modes(tmp_path / "m.h5", solve_modes(H, backend="dense"))
    fp = compute_flux(tmp_path / "m.h5", H, interaction_range_override=1.6, keep_tensor=True)
    assert fp.S.shape == (2, 798, 798) and fp.volume == pytest.approx(400.0)
    assert fp.completeness_residual < 1e-12 and np.abs(fp.S + fp.S.transpose(0, 2, 1)).max() < 1e-12 * np.abs(fp.S).max()
    res = conductivity(fp, [1.0], Linewidths.constant(0.3, fp.nmodes))
    assert res.kappa_unit == "kB/t0 (2D)" and res.kappa_tensor.shape == (1, 2, 2)
    assert np.trace(res.kappa_tensor[0]) / 2 == pytest.approx(res.kappa[0], rel=1e-10)


def test_si_conversion(flux):
    """kB/(A ps) (metal) and kB/(A fs) (real) in W/m/K: CODATA kB / (1e-10 m x 1e-12 s or 1e-15 s)."""
    import dataclasses

    lw = Linewidths.constant(0.5, flux.nmodes)
    for units, per_second in (("metal", 1e12), ("real", 1e15)):
        fp = dataclasses.replace(flux, units=units)
        res = conductivity(fp, [300.0], lw)
        assert res.kappa_si[0] == pytest.approx(res.kappa[0] * 1.380649e-23 / 1e-10 * per_second, rel=2e-6)
        assert res.kappa_unit.startswith("kB/(distance ")
    assert conductivity(flux, [1.0], lw).kappa_si is None
