"""Three-phonon lifetimes (glassmodes.anharmonic) and the plugin's compute mode/energy."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from glassmodes.anharmonic import LifetimeError, Smearing, decay_rates, joint_dos
from glassmodes.anharmonic.lifetimes import check_same_structure, compute_lifetimes, cubic_tensor
from glassmodes.anharmonic.md import EnergyAutocorrelation, md_lifetimes, read_mode_energy_series
from glassmodes.anharmonic.pair_fc3 import SEED004, PairCubicTensor
from glassmodes.anharmonic.projection import (
    ProjectionFileError, mode_energies, read_mode_projection, write_mode_projection,
)

TESTS = Path(__file__).resolve().parent
SEED004_PAIR = ["pair_style ipl/smooth 12 1 2.5 powers all", "pair_coeff 1 1 1.0 0.8110916595113637",
                "pair_coeff 1 2 1.0 0.9848970151209417", "pair_coeff 2 2 1.0 1.1587023707305197"]


# ---- a dense toy tensor: brute force --------------------------------------------------------------
class DenseTensor:
    """Phi3 as a dense (n, n, n) array (mass-weighted already), for brute-force checks."""

    def __init__(self, T, dimension=3):
        self.T = T
        self.dimension = dimension

    def contract(self, u):
        return sp.csr_matrix(np.einsum("a,abc->bc", u, self.T))


def brute_force(T, Q, w, sm, kT, hbar=None):
    V = np.einsum("abc,ak,bl,cm->klm", T, Q, Q, Q, optimize=True)
    sig = sm.widths(w)
    n = w.size
    if hbar is None:
        Fs = lambda l, m: kT / w[l] + kT / w[m]      # noqa: E731
        Fc = lambda l, m: kT / w[l] - kT / w[m]      # noqa: E731
    else:
        occ = 1 / np.expm1(hbar * w / kT)
        Fs = lambda l, m: hbar * (1 + occ[l] + occ[m])    # noqa: E731
        Fc = lambda l, m: hbar * (occ[l] - occ[m])        # noqa: E731
    L, M = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    gs, gc = np.zeros(n), np.zeros(n)
    for k in range(n):
        s = np.maximum(np.maximum(sig[k], sig[L]), sig[M])
        pref = math.pi / 4 * V[k] ** 2 / (w[k] * w[L] * w[M])
        gs[k] = np.sum(pref * 0.5 * Fs(L, M) * sm.kernel(w[k] - w[L] - w[M], s))
        gc[k] = np.sum(pref * Fc(L, M) * sm.kernel(w[k] + w[L] - w[M], s))
    return gs, gc


@pytest.fixture(scope="module")
def random_system():
    rng = np.random.default_rng(1)
    n = 36
    T = rng.standard_normal((n, n, n))
    T = sum(T.transpose(p) for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]) / 6
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    w = np.sort(rng.uniform(0.5, 3.0, n))
    return T, Q, w


@pytest.mark.parametrize("smearing", [Smearing("gaussian", width=0.3), Smearing("lorentzian", width=0.2, cutoff=10),
                                      Smearing("gaussian", adaptive=3.0)], ids=["gauss", "lorentz", "adaptive"])
@pytest.mark.parametrize("limit", ["classical", "quantum"])
def test_both_algorithms_equal_brute_force(random_system, smearing, limit):
    T, Q, w = random_system
    hbar = 0.7 if limit == "quantum" else None
    gs, gc = brute_force(T, Q, w, smearing, 0.8, hbar)
    for method, kw in (("direct", {}), ("triples", {"block": 4, "chunk": 7})):
        r = decay_rates(w, Q, DenseTensor(T), 0.8, limit=limit, smearing=smearing, hbar=hbar, method=method, **kw)
        np.testing.assert_allclose(r.gamma_split, gs, rtol=1e-11, atol=1e-13 * gs.max())
        np.testing.assert_allclose(r.gamma_combine, gc, rtol=1e-11, atol=1e-13 * np.abs(gc).max())
    # a subset (direct) equals the same modes of the all-mode (triples) result
    sub = decay_rates(w, Q, DenseTensor(T), 0.8, limit=limit, smearing=smearing, hbar=hbar, targets=[3, 17, 30])
    np.testing.assert_allclose(sub.gamma, (gs + gc)[[3, 17, 30]], rtol=1e-11)
    assert sub.method == "direct" and np.all(sub.pairs_split + sub.pairs_combine > 0)


def test_mpi_split_of_pivots_in_process(random_system):
    """Cyclic distribution over ranks: emulate two ranks with a fake communicator."""
    T, Q, w = random_system
    sm = Smearing("gaussian", width=0.3)
    ref = decay_rates(w, Q, DenseTensor(T), 0.8, smearing=sm, block=4)

    class FakeComm:
        def __init__(self, rank):
            self.rank = rank

        def Get_rank(self):
            return self.rank

        def Get_size(self):
            return 2

    parts = []
    for rank in (0, 1):
        comm = FakeComm(rank)
        comm.Allreduce = lambda *args, **kwargs: None      # each rank keeps its own share
        comm.allreduce = lambda x, op=None: x
        parts.append(decay_rates(w, Q, DenseTensor(T), 0.8, smearing=sm, block=4, comm=comm))
    total = parts[0].gamma + parts[1].gamma
    np.testing.assert_allclose(total, ref.gamma, rtol=1e-12)
    assert 0 < parts[0].stats["pivots"] < ref.stats["pivots"]


@pytest.mark.mpi
def test_rates_identical_on_1_2_and_4_ranks(mpirun, tmp_path):
    out = {}
    for n in (1, 2, 4):
        mpirun(n, TESTS / "mpi_scripts" / "lifetimes_ranks.py", tmp_path / f"g{n}.npy")
        out[n] = np.load(tmp_path / f"g{n}.npy")
    for n in (2, 4):
        np.testing.assert_allclose(out[n], out[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out[1][1][::2], out[1][0][::2], rtol=1e-11)


# ---- a toy with a known vertex: the continuum rate -----------------------------------------------
class ToyVertex:
    """Mode 0 (w0 = 1, the last coordinate) coupled to a band of M modes (coordinates 0..M-1):
    V_0lm = g for all l, m in the band (and its permutations); the eigenvectors are the unit
    vectors. A(u) = g u_0 J + g s (e_0 1^T + 1 e_0^T), s = sum of u over the band."""

    dimension = 1

    def __init__(self, M, g):
        self.M, self.g = M, g

    def contract(self, u):
        M = self.M
        A = np.zeros((M + 1, M + 1))
        A[:M, :M] = self.g * u[M]
        s = self.g * u[:M].sum()
        A[M, :M] = s
        A[:M, M] = s
        return sp.csr_matrix(A)


def toy_spectrum(M, a=0.3, b=0.7):
    band = a + (np.arange(M) + 0.5) * (b - a) / M
    return np.concatenate([band, [1.0]]), (b - a)


def test_toy_vertex_reproduces_continuum_rate():
    M, g, kT, a = 400, 0.02, 1e-3, 0.3
    w, width = toy_spectrum(M, a, 1 - a)
    rho = M / width
    E = np.eye(M + 1)                                # ascending: the band, then the w = 1 mode
    k0 = M                                           # the w = 1 mode
    mid = int(np.argmin(np.abs(w - 0.5)))
    res = decay_rates(w, E, ToyVertex(M, g), kT, smearing=Smearing("gaussian", width=0.004), omega_min=0.0,
                      targets=[mid, k0])
    k0, imid = 1, 0                                  # rows of the result
    # split 1 -> l + m: (pi kT g^2 / 8) rho^2 int_a^{1-a} dw / (w^2 (1-w)^2)
    integral = 2 * (1 / a - 1 / (1 - a)) + 4 * math.log((1 - a) / a)
    analytic = math.pi * kT * g**2 / 8 * rho**2 * integral
    assert res.gamma_split[k0] == pytest.approx(analytic, rel=0.02)
    assert res.gamma_combine[k0] == 0.0
    # combine of a band mode l + m -> 0 at w_l = 1/2: pi kT g^2 rho (1/(w_l w_m w_0))(1/w_m - 1)/4
    wl = w[mid]
    wm = 1 - wl
    expect = math.pi / 4 * kT * g**2 * rho / (wl * wm) * (1 / wm - 1)
    assert res.gamma_combine[imid] == pytest.approx(expect, rel=0.02)
    # energy convention: the amplitude decays at half the rate
    assert res.amplitude_rate[k0] == pytest.approx(0.5 * res.gamma[k0])


def test_quantum_tends_to_classical():
    M, g, kT = 200, 0.02, 1.0
    w, _ = toy_spectrum(M)
    E = np.eye(M + 1)
    sm = Smearing("gaussian", width=0.008)
    some = [0, 50, 100, 150, M]
    cl = decay_rates(w, E, ToyVertex(M, g), kT, smearing=sm, limit="classical", omega_min=0.0, targets=some)
    dev = []
    for x in (1.0, 0.1, 0.01, 0.001):           # hbar w_max / kT
        qu = decay_rates(w, E, ToyVertex(M, g), kT, smearing=sm, limit="quantum", hbar=x * kT / w.max(),
                         omega_min=0.0, targets=some)
        ok = cl.gamma > 1e-6 * cl.gamma.max()
        dev.append(np.max(np.abs(qu.gamma[ok] / cl.gamma[ok] - 1)))
    assert dev[0] > 1e-2                 # visibly quantum at hbar w ~ kT
    assert dev[-1] < 1e-3                # classical limit
    assert all(d2 < d1 for d1, d2 in zip(dev, dev[1:]))


def test_joint_dos_matches_pair_counts():
    w = np.sort(np.random.default_rng(3).uniform(0.2, 2.0, 300))
    sm = Smearing("gaussian", width=0.05)
    j = joint_dos(w, [0.5, 1.0, 2.0], width=0.05)
    # direct sums
    for g, wk in enumerate([0.5, 1.0, 2.0]):
        spl = 0.5 * sm.kernel(wk - w[:, None] - w[None, :], 0.05).sum() / w.size**2
        com = sm.kernel(wk + w[:, None] - w[None, :], 0.05).sum() / w.size**2
        assert j.split[g] == pytest.approx(spl, rel=1e-12)
        assert j.combine[g] == pytest.approx(com, rel=1e-12)
    # normalization: integral of 2 j_split over omega = 1 (every ordered pair once)
    grid = np.linspace(0, 4.5, 400)
    jj = joint_dos(w, grid, width=0.05)
    assert np.trapezoid(2 * jj.split, grid) == pytest.approx(1.0, rel=1e-3)


# ---- bad input ------------------------------------------------------------------------------------
def test_bad_inputs(random_system):
    T, Q, w = random_system
    sm = Smearing("gaussian", width=0.3)
    with pytest.raises(LifetimeError, match="temperature must be > 0"):
        decay_rates(w, Q, DenseTensor(T), 0.0, smearing=sm)
    with pytest.raises(LifetimeError, match="temperature must be > 0"):
        decay_rates(w, Q, DenseTensor(T), -1.0, smearing=sm)
    with pytest.raises(LifetimeError, match="no mode pair inside any energy window"):
        decay_rates(w, Q, DenseTensor(T), 1.0, smearing=Smearing("gaussian", width=1e-9))
    with pytest.raises(LifetimeError, match="pass hbar"):
        decay_rates(w, Q, DenseTensor(T), 1.0, smearing=sm, limit="quantum")
    with pytest.raises(LifetimeError, match="every mode"):
        decay_rates(w[:20], Q[:, :20], DenseTensor(T), 1.0, smearing=sm)
    with pytest.raises(LifetimeError, match="exactly one"):
        Smearing("gaussian")
    with pytest.raises(LifetimeError, match="width must be > 0"):
        Smearing("gaussian", width=-1.0)
    with pytest.raises(LifetimeError, match="lorentzian"):
        Smearing("box", width=1.0)
    with pytest.raises(LifetimeError, match="smearing"):
        decay_rates(w, Q, DenseTensor(T), 1.0)


# ---- a seed-004 glass through LAMMPS ------------------------------------------------------------
@pytest.fixture(scope="module")
def glass(tmp_path_factory):
    """N = 256 seed-004 glass: IS data file, Hessian, fc3, all modes, a displaced state with velocities."""
    from glassmodes.lammps_session import open_lammps
    from glassmodes.modes import solve_modes, write_modes

    d = tmp_path_factory.mktemp("glass004")
    n = 256                                          # L = 6.3 > twice the largest cutoff 2.9
    L = (n / 1.015) ** (1 / 3)
    lmp = open_lammps()
    for line in ["units lj", "atom_style atomic", "atom_modify map yes",
                 f"region box block 0 {L} 0 {L} 0 {L}", "create_box 2 box",
                 f"create_atoms 1 random {n // 2} 11 NULL overlap 0.6 maxtry 500",
                 f"create_atoms 2 random {n - n // 2} 12 NULL overlap 0.6 maxtry 500", "mass * 1.0",
                 *SEED004_PAIR, "neighbor 0.3 bin", "min_modify dmax 0.05", "minimize 0 1e-4 2000 20000",
                 "min_style fire", "minimize 0 1e-8 20000 200000", "min_style cg", "minimize 0 1e-11 20000 200000",
                 f"write_data {d / 'is.data'} pair ij", f"write_hessian all {d / 'H'} method analytic",
                 f"write_fc3 all {d / 'is.fc3'} method analytic",
                 "velocity all create 0.002 4242 dist gaussian mom yes", "timestep 0.005", "fix nve all nve",
                 "run 37", f"write_data {d / 'state.data'} pair ij"]:
        lmp.command(line)
    lmp.close()
    modes = solve_modes(d / "H", backend="dense")
    write_modes(d / "modes.h5", modes)
    write_mode_projection(modes, d / "modes.proj", indices=np.arange(0, modes.nmodes, 3))
    return {"dir": d, "modes": modes}


def test_pair_tensor_agrees_with_write_fc3_and_finite_differences(glass):
    from glassmodes.fc3 import read_fc3
    from glassmodes.modes.models import neighbor_pairs, pair_hessian

    modes = glass["modes"]
    ours = PairCubicTensor.from_modes(modes, SEED004)
    fc = read_fc3(glass["dir"] / "is.fc3", mass_weighted=True)
    theirs = cubic_tensor(fc)
    u = modes.vectors[:, 10] + 0.3 * modes.vectors[:, 200]
    A = ours.contract(u)
    assert abs(A - fc.phi3(u)).max() < 1e-11 * abs(A).max()
    assert abs(theirs.contract(u) - A).max() < 1e-11 * abs(A).max()
    # A(u) = dD/ds along the displacement M^-1/2 u: central differences of the pair Hessian
    at, box = modes.atoms, modes.meta["box"]
    Lb = np.asarray(box["boxhi"]) - np.asarray(box["boxlo"])
    x = at["x"] - np.asarray(box["boxlo"])
    disp = (u / np.sqrt(np.repeat(at["mass"], 3))).reshape(-1, 3)

    def dyn(xx):
        i, j, rij = neighbor_pairs(xx, Lb, 3.0)
        _, d1, d2, _ = SEED004.derivatives(np.linalg.norm(rij, axis=1), at["type"][i], at["type"][j])
        s = sp.diags(1 / np.sqrt(np.repeat(at["mass"], 3)))
        return s @ pair_hessian(xx, Lb, i, j, rij, d1, d2) @ s

    h = 1e-4
    fd = (dyn(x + h * disp) - dyn(x - h * disp)) / (2 * h)
    assert abs(fd - A).max() < 1e-6 * abs(A).max()


def test_glass_lifetimes_against_explicit_vertices(glass):
    """Seed-004 glass: the banded algorithm equals the explicit sums over V_klm = e_l^T A_k e_m."""
    modes = glass["modes"]
    E, w = modes.vectors, modes.omega
    sm = Smearing("gaussian", width=0.1)
    tensor = PairCubicTensor.from_modes(modes, SEED004)
    targets = [2, 300, 700]
    res = compute_lifetimes(modes, glass["dir"] / "is.fc3", 1e-3, smearing=sm, targets=targets)
    for row, k in enumerate(targets):
        V = E.T @ (tensor.contract(E[:, k]) @ E)
        W = w[:, None] + 0 * w[None, :]
        pref = math.pi / 4 * V**2 / (w[k] * W * W.T)
        Fs = 1e-3 * (1 / W + 1 / W.T)
        Fc = 1e-3 * (1 / W - 1 / W.T)
        gs = np.sum(pref * 0.5 * Fs * sm.kernel(w[k] - W - W.T, 0.1))
        gc = np.sum(pref * Fc * sm.kernel(w[k] + W - W.T, 0.1))
        assert res.gamma_split[row] == pytest.approx(gs, rel=1e-9, abs=1e-12 * gc)
        assert res.gamma_combine[row] == pytest.approx(gc, rel=1e-9)
    # classical: Gamma proportional to T; float32 products agree to about 1e-4
    hot = compute_lifetimes(modes, tensor, 1e-2, smearing=sm, targets=targets)
    np.testing.assert_allclose(hot.gamma, 10 * res.gamma, rtol=1e-12)
    f32 = compute_lifetimes(modes, tensor, 1e-3, smearing=sm, targets=targets, dtype=np.float32)
    np.testing.assert_allclose(f32.gamma, res.gamma, rtol=1e-3)


def test_mismatched_structures_are_refused(glass):
    import dataclasses

    modes = glass["modes"]
    tensor = PairCubicTensor.from_modes(modes, SEED004)
    moved = modes.atoms.copy()
    moved["x"][7] += 0.05
    with pytest.raises(LifetimeError, match="different structures"):
        check_same_structure(dataclasses.replace(modes, atoms=moved), tensor)
    other_ids = modes.atoms.copy()
    other_ids["id"][3] += 1000
    with pytest.raises(LifetimeError, match="atom IDs differ"):
        check_same_structure(dataclasses.replace(modes, atoms=other_ids), tensor)
    with pytest.raises(LifetimeError, match="units"):
        check_same_structure(dataclasses.replace(modes, units="metal"), tensor)
    heavy = modes.atoms.copy()
    heavy["mass"][0] = 2.0
    with pytest.raises(LifetimeError, match="mass"):
        check_same_structure(dataclasses.replace(modes, atoms=heavy), tensor)


# ---- compute mode/energy ------------------------------------------------------------------------
def _open(data, proj, extra=()):
    from glassmodes.lammps_session import open_lammps

    lmp = open_lammps()
    for line in ["units lj", "atom_style atomic", "atom_modify map yes", SEED004_PAIR[0], f"read_data {data}",
                 "neighbor 0.3 bin", f"compute me all mode/energy {proj}", *extra]:
        lmp.command(line)
    return lmp


def _state(lmp):
    n = lmp.get_natoms()
    return (np.array(lmp.numpy.extract_atom("id")[:n]), np.array(lmp.numpy.extract_atom("x")[:n]),
            np.array(lmp.numpy.extract_atom("v")[:n]))


def test_compute_matches_python_projection(glass):
    d = glass["dir"]
    proj = read_mode_projection(d / "modes.proj")
    lmp = _open(d / "state.data", d / "modes.proj", ["timestep 0.005", "fix nve all nve", "run 25"])
    E = np.array(lmp.numpy.extract_compute("me", 0, 1))
    arr = np.array(lmp.numpy.extract_compute("me", 0, 2))
    ref = mode_energies(proj, *_state(lmp))
    lmp.close()
    assert E.shape == (proj.nmodes,) and arr.shape == (proj.nmodes, 3)
    assert np.max(np.abs(E - ref)) <= 1e-10 * np.max(ref)
    np.testing.assert_array_equal(arr[:, 0], E)
    assert np.all(E > 0)
    # A_k and dA_k/dt columns give E_k
    np.testing.assert_allclose(0.5 * (proj.omega**2 * arr[:, 1] ** 2 + arr[:, 2] ** 2), E, rtol=1e-13)


@pytest.mark.mpi
def test_compute_identical_on_1_2_and_4_ranks(glass, mpirun, tmp_path):
    d = glass["dir"]
    out = {}
    for n in (1, 2, 4):
        path = tmp_path / f"E{n}.npy"
        mpirun(n, TESTS / "mpi_scripts" / "mode_energy_ranks.py", d / "state.data", d / "modes.proj", path)
        out[n] = np.load(path)
    scale = out[1].max()
    for n in (2, 4):
        assert np.max(np.abs(out[1][:2] - out[n][:2])) <= 1e-12 * scale     # same configuration, atoms migrated
        assert np.max(np.abs(out[n][0] - out[n][1])) <= 1e-13 * scale
        assert np.max(np.abs(out[1][2] - out[n][2])) <= 1e-9 * scale       # 20 NVE steps
    proj = read_mode_projection(d / "modes.proj")
    from glassmodes.lammps_session import open_lammps

    lmp = open_lammps()
    for line in ["units lj", "atom_style atomic", "atom_modify map yes", SEED004_PAIR[0], f"read_data {d / 'state.data'}"]:
        lmp.command(line)
    ref = mode_energies(proj, *_state(lmp))
    lmp.close()
    assert np.max(np.abs(out[2][0] - ref)) <= 1e-10 * scale


def test_harmonic_run_conserves_mode_energies(glass):
    """One mode excited with a tiny amplitude: E_k stays constant, the others stay empty."""
    d = glass["dir"]
    modes = glass["modes"]
    proj = read_mode_projection(d / "modes.proj")
    k = 4                                          # row in the projection file
    e = modes.vectors[:, proj.mode_index[k]].reshape(-1, 3)
    eps = 1e-6
    lmp = _open(d / "is.data", d / "modes.proj", ["timestep 0.002", "fix nve all nve"])
    v = lmp.numpy.extract_atom("v")
    ids = lmp.numpy.extract_atom("id")[:len(e)]
    v[:len(e)] = eps * e[ids - 1] / np.sqrt(modes.atoms["mass"][ids - 1])[:, None]
    lmp.command("fix rec all ave/time 10 1 10 c_me[*] file " + str(d / "harm.txt"))
    lmp.command("run 1000")
    lmp.close()
    steps, E = read_mode_energy_series(d / "harm.txt")
    assert steps.size == 101
    target = 0.5 * eps**2
    wk = proj.omega[k]
    bound = max(1e-6, (wk * 0.002) ** 2)
    assert np.max(np.abs(E[:, k] / target - 1)) < bound
    others = np.delete(E, k, axis=1)
    assert others.max() < 1e-8 * target


def test_compute_refuses_other_structures(glass, tmp_path):
    from glassmodes.lammps_session import open_lammps

    d = glass["dir"]
    trunc = tmp_path / "trunc.proj"
    trunc.write_bytes((d / "modes.proj").read_bytes()[:-100])
    with pytest.raises(Exception, match="truncated or corrupt"):
        _open(d / "is.data", trunc)
    with pytest.raises(ProjectionFileError, match="truncated or corrupt"):
        read_mode_projection(trunc)
    # another box (same atoms)
    lmp = open_lammps()
    for line in ["units lj", "atom_style atomic", "atom_modify map yes", SEED004_PAIR[0], f"read_data {d / 'is.data'}",
                 "change_box all x scale 1.01 remap", f"compute me all mode/energy {d / 'modes.proj'}"]:
        lmp.command(line)
    with pytest.raises(Exception, match="box differs"):
        lmp.command("run 0")
    lmp.close()
    # fewer atoms than the file
    lmp = open_lammps()
    for line in ["units lj", "atom_style atomic", "atom_modify map yes", SEED004_PAIR[0], f"read_data {d / 'is.data'}",
                 "group few id 1:100", f"compute me few mode/energy {d / 'modes.proj'}"]:
        lmp.command(line)
    with pytest.raises(Exception, match="has 100 atoms"):
        lmp.command("run 0")
    lmp.close()
    with pytest.raises(Exception, match="unknown keyword"):
        _open(d / "is.data", d / "modes.proj", ["compute bad all mode/energy " + str(d / "modes.proj") + " bogus 1"])


# ---- MD analysis -----------------------------------------------------------------------------------
def test_md_module_doctests():
    import glassmodes.anharmonic.md as md

    assert doctest.testmod(md).failed == 0


def test_energy_autocorrelation_ou_process(tmp_path):
    from scipy.signal import lfilter

    rng = np.random.default_rng(5)
    dt, gamma = 0.1, np.array([0.2, 0.5])            # energy decay rates
    a = np.exp(-0.5 * gamma * dt)
    E = np.zeros((100000, 2))
    for c in range(2):
        x = lfilter([np.sqrt(1 - a[c] ** 2)], [1, -a[c]], rng.normal(size=(100000, 2)), axis=0)
        E[:, c] = (x**2).sum(axis=1)
    path = tmp_path / "E.txt"
    steps = 10 * np.arange(E.shape[0])
    np.savetxt(path, np.column_stack([steps, E]), header="Time-averaged data\nTimeStep c_me[1] c_me[2]")
    res = md_lifetimes([path], dt=0.01, max_lag=20.0, blocks=5)
    np.testing.assert_allclose(res.tau_1e, 1 / gamma, rtol=0.08)
    np.testing.assert_allclose(res.tau_fit, 1 / gamma, rtol=0.08)
    assert np.all(res.tau_1e_err > 0) and np.all(res.tau_1e_err < 0.1 / gamma)
    assert np.abs(res.tau_1e - 1 / gamma).max() < 4 * res.tau_1e_err.max() + 0.05 / gamma.min()
    # the known mean <E> = 2 (two unit-variance components): no mean-subtraction bias, even with
    # short blocks where each block's own mean pulls tau low
    short = md_lifetimes([path], dt=0.01, max_lag=10.0, blocks=400)       # blocks of 25 time units
    known = md_lifetimes([path], dt=0.01, max_lag=10.0, blocks=400, mean=2.0)
    assert short.tau_1e[0] < 0.8 / gamma[0]                                # biased: 2.7 for 5
    np.testing.assert_allclose(known.tau_1e, 1 / gamma, rtol=0.15)          # 5.6 for 5 (noise)
    with pytest.raises(Exception, match="fewer than twice"):
        EnergyAutocorrelation(dt=0.1, max_lag=1000.0, blocks=4).compute(E[:1000])


# ---- CLI ----------------------------------------------------------------------------------------------
def test_cli_lifetimes_and_projection(glass, tmp_path):
    from glassmodes.anharmonic.report import read_table
    from glassmodes.cli.main import main

    d = glass["dir"]
    out = tmp_path / "pt.csv"
    rc = main(["lifetimes", str(d / "modes.h5"), str(d / "is.fc3"), "--T", "1e-3", "--classical", "--width", "0.1",
               "--wmax", "1.6", "-o", str(out), "--plot", str(tmp_path / "pt.png"), "--quiet"])
    assert rc == 0 and (tmp_path / "pt.png").stat().st_size > 1000
    # --qlm: soft and localized only (PR < cut and omega below omega_QVM), as analyze counts them
    from glassmodes.analysis import qlm_mask
    from glassmodes.modes import ModeFile

    with ModeFile(d / "modes.h5") as mf:
        w, pr = mf.frequencies, mf.participation_ratio
    cut = max(0.3, 1.01 * pr[0])                     # the softest mode is then a QLM
    expect = np.flatnonzero(qlm_mask(w, pr, cut))
    assert expect.size >= 1 and np.all(w[expect] < w[pr >= cut].min())
    assert main(["lifetimes", str(d / "modes.h5"), str(d / "is.fc3"), "--T", "1e-3", "--classical", "--width",
                 "0.1", "--qlm", str(cut), "-o", str(tmp_path / "q.csv"), "--quiet"]) == 0
    assert np.array_equal(read_table(tmp_path / "q.csv")[1]["mode"].astype(int), expect)
    meta, cols = read_table(out)
    assert meta["limit"] == "classical" and meta["rate_unit"] == "1/tau"
    assert np.all(cols["omega"] <= 1.6) and np.all(np.isfinite(cols["tau"]))
    assert main(["lifetimes", str(d / "modes.h5"), str(d / "is.fc3"), "--T", "0", "--classical", "--width", "0.3",
                 "-o", str(out)]) == 2
    assert main(["md-lifetimes", "--write-projection", str(d / "modes.h5"), "--every", "50",
                 "-o", str(tmp_path / "p.proj")]) == 0
    assert read_mode_projection(tmp_path / "p.proj").nmodes == len(range(0, glass["modes"].nmodes, 50))
