"""write_fc3 / fix fc3/write and glassmodes.fc3: against LAMMPS's third_order, analytic against
finite differences, exact symmetries, every contraction against finite differences of Hessians,
forces and energies, and across MPI rank counts."""

from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path

import numpy as np
import pytest

from glassmodes.fc3 import Fc3FileError, read_fc3
from glassmodes.io import read_hessian
from glassmodes.lammps_session import open_lammps
from systems import KA_PAIR, ka_glass, run, sw_silicon

MPI_WRITE = Path(__file__).parent / "mpi_scripts" / "write_fc3_from_data.py"
MPI_CONTRACT = Path(__file__).parent / "mpi_scripts" / "fc3_contractions.py"

# the KA mixture smoothed so that phi..phi'''' vanish at the same cutoffs (2.5, 2.0, 2.2): energy,
# forces, Hessian and Phi3 are smooth along any path, as finite differences of them need
# (lj/cut's force jumps at its cutoff)
SMOOTH_KA_PAIR = ["pair_style lj/smooth/glass 4 2.5", "pair_coeff 1 1 1.0 1.0",
                  "pair_coeff 1 2 1.5 0.8", "pair_coeff 2 2 0.5 0.88"]


# ---- helpers ----------------------------------------------------------------------------------

def rel(a, b) -> float:
    a = a.toarray() if hasattr(a, "toarray") else np.asarray(a)
    b = b.toarray() if hasattr(b, "toarray") else np.asarray(b)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def lammps_third_order(lmp, group: str, delta: float, path: Path, natoms: int) -> np.ndarray:
    """LAMMPS's own finite-difference tensor (PHONON package `third_order`), as Phi3.

    Its text output has lines `i a j b k  v_x v_y v_z` (1-based group indices and components)
    holding d^2 F_{k,c} / dx_{i,a} dx_{j,b} = -Phi3(i_a, j_b, k_c), printed with 8 decimals.
    """
    lmp.command(f"third_order {group} regular {delta} file {path} binary no")
    t = np.loadtxt(path)
    d = 3
    out = np.zeros((natoms * d,) * 3)
    i = (t[:, 0].astype(int) - 1) * d + t[:, 1].astype(int) - 1
    j = (t[:, 2].astype(int) - 1) * d + t[:, 3].astype(int) - 1
    k = (t[:, 4].astype(int) - 1) * d
    for c in range(d):
        out[i, j, k + c] = -t[:, 5 + c]
    return out


def aligned(fa, fb) -> tuple[np.ndarray, np.ndarray]:
    """The merged blocks of two tensors on the union of their (i, j, k) triples."""
    (ia, va), (ib, vb) = fa.to_blocks(), fb.to_blocks()
    n = fa.natoms
    ka, kb = [(x[:, 0] * n + x[:, 1]) * n + x[:, 2] for x in (ia, ib)]
    keys = np.union1d(ka, kb)
    a = np.zeros((keys.size,) + va.shape[1:])
    b = np.zeros_like(a)
    a[np.searchsorted(keys, ka)] = va
    b[np.searchsorted(keys, kb)] = vb
    return a, b


def symmetry_error(fc) -> float:
    """max over the six index permutations of |Phi3 - permuted Phi3| / max |Phi3|."""
    idx, vals = fc.to_blocks()
    n = fc.natoms
    key = lambda x: (x[:, 0] * n + x[:, 1]) * n + x[:, 2]  # noqa: E731
    order = np.argsort(key(idx))
    keys = key(idx)[order]
    err = 0.0
    for perm in ([0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]):
        pk = key(idx[:, perm])
        pos = np.searchsorted(keys, pk)
        assert np.all(keys[np.minimum(pos, keys.size - 1)] == pk), "a permuted triple is missing"
        other = vals[order[pos]]
        # block at permuted indices, axes permuted the same way, must equal this block
        err = max(err, np.abs(np.transpose(other, [0] + [1 + p for p in np.argsort(perm)]) - vals).max())
    return err / np.abs(vals).max()


def sum_rule_error(fc) -> float:
    """max |sum_i Phi3(i,j,k)| / max |Phi3| (translation invariance)."""
    idx, vals = fc.to_blocks()
    n = fc.natoms
    key = idx[:, 1] * n + idx[:, 2]
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.zeros((uniq.size,) + vals.shape[2:])
    np.add.at(sums, inv, vals.sum(axis=1))
    return float(np.abs(sums).max() / np.abs(vals).max())


def positions(lmp) -> np.ndarray:
    n = lmp.get_natoms()
    return np.array(lmp.gather_atoms("x", 1, 3)[: 3 * n]).reshape(n, 3)


def place(lmp, x: np.ndarray) -> None:
    flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
    lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * flat.size)(*flat))


def random_directions(n: int, count: int, seed: int = 7, d: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        u = rng.normal(size=(n, d))
        out.append(u / np.abs(u).max())    # largest displacement per unit of s: 1
    return out


def derivative(f: dict, h: float, order: int):
    """Five-point central differences (error O(h^4)) of samples f[k] = f(k h), k = -2..2."""
    if order == 1:
        return (f[-2] - 8 * f[-1] + 8 * f[1] - f[2]) / (12 * h)
    return (-f[2] + 16 * f[1] - 30 * f[0] + 16 * f[-1] - f[-2]) / (12 * h * h)


# ---- systems ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ka_data(tmp_path_factory):
    """A minimized 3D KA glass (250 atoms, masses 1 and 2, lj/cut) as a data file."""
    folder = tmp_path_factory.mktemp("ka")
    lmp = open_lammps()
    run(lmp, ka_glass(250, masses=(1.0, 2.0)))
    lmp.command(f"write_data {folder / 'ka.data'} nocoeff")
    lmp.close()
    return folder / "ka.data"


def ka_from_data(data: Path, pair=KA_PAIR):
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", f"read_data {data}", *pair,
              "neighbor 0.3 bin"])
    return lmp


@pytest.fixture(scope="module")
def ka_files(ka_data, tmp_path_factory):
    """write_fc3 of the KA glass: analytic (order 4) and fd, plain and mass weighted."""
    folder = tmp_path_factory.mktemp("kafc3")
    lmp = ka_from_data(ka_data)
    lmp.command(f"write_fc3 all {folder / 'A'} method analytic order 4 mass no")
    lmp.command(f"write_fc3 all {folder / 'Am'} method analytic")
    lmp.command(f"write_fc3 all {folder / 'F'} method fd mass no")
    lmp.command(f"write_fc3 all {folder / 'Fm'} method fd")
    lmp.command(f"write_hessian all {folder / 'H'} method analytic mass no")
    lmp.close()
    return folder


@pytest.fixture(scope="module")
def smooth_data(ka_data, tmp_path_factory):
    """The KA glass re-minimized with the smoothed KA pair (lj/smooth/glass, q = 4)."""
    folder = tmp_path_factory.mktemp("smooth")
    lmp = ka_from_data(ka_data, SMOOTH_KA_PAIR)
    run(lmp, ["min_style cg", "minimize 0 1e-12 20000 200000"])
    lmp.command(f"write_data {folder / 'smooth.data'} nocoeff")
    lmp.close()
    return folder / "smooth.data"


# ---- against LAMMPS and between methods --------------------------------------------------------

def test_ka_matches_lammps_third_order(ka_data, tmp_path):
    """Group of 40 atoms of the 250-atom glass (third_order costs O(N_group^2) force evaluations).

    LAMMPS's central differences carry an error O(delta^2 Phi5): comparing its output at two
    deltas measures it; ours must agree with both to within that (and 1e-4 in any case).
    Larger deltas than 1e-4 make a pair of this glass cross lj/cut's cutoff, where the force
    jumps, and third_order's output is then wrong (0.95 relative error at delta = 2e-4)."""
    lmp = ka_from_data(ka_data)
    lmp.command("group sub id 1:40")
    lmp.command(f"write_fc3 sub {tmp_path / 'F'} mass no")
    ref_coarse = lammps_third_order(lmp, "sub", 1e-4, tmp_path / "t4.txt", 40)
    ref_fine = lammps_third_order(lmp, "sub", 3e-5, tmp_path / "t5.txt", 40)
    lmp.close()
    fc = read_fc3(tmp_path / "F")
    assert fc.meta["method"] == "analytic" and fc.meta["storage"] == "pair-derivatives"
    ours = fc.to_dense()
    lammps_own = rel(ref_coarse, ref_fine)
    err_fine, err_coarse = rel(ours, ref_fine), rel(ours, ref_coarse)
    print(f"third_order(1e-4) vs third_order(3e-5): {lammps_own:.2e}; ours vs them: "
          f"{err_coarse:.2e}, {err_fine:.2e}")
    assert err_fine < 1e-4 and err_coarse < 1e-4
    assert err_fine < 2 * lammps_own and err_coarse < 2 * lammps_own


def test_ka_fd_matches_analytic(ka_files):
    a, f = read_fc3(ka_files / "A"), read_fc3(ka_files / "F")
    assert f.meta["method"] == "fd" and f.meta["fd_hessians"] == "analytic"
    assert f.meta["hessian_evaluations"] == 2 * 3 * f.meta["fd_colors"]
    va, vf = aligned(a, f)
    assert rel(vf, va) < 1e-6
    am, fm = read_fc3(ka_files / "Am"), read_fc3(ka_files / "Fm")
    assert am.mass_weighted and fm.mass_weighted and fm.meta["values_mass_weighted"]
    va, vf = aligned(am, fm)
    assert rel(vf, va) < 1e-6


@pytest.mark.parametrize("name", ["A", "F"])
def test_symmetry_and_translational_sum_rule(ka_files, name):
    fc = read_fc3(ka_files / name)
    assert symmetry_error(fc) < 1e-12
    if name == "A":
        assert sum_rule_error(fc) < 1e-10
    else:
        assert sum_rule_error(fc) < 1e-7    # finite differences: exact only to their accuracy


def test_mass_weighting_is_consistent(ka_files):
    plain, weighted = read_fc3(ka_files / "A"), read_fc3(ka_files / "Am")
    assert set(np.unique(plain.atoms["mass"])) == {1.0, 2.0}
    u, v = random_directions(plain.natoms, 2)
    s = 1.0 / np.sqrt(plain.atoms["mass"])[:, None]
    # D3(u, v, .) = M^-1/2 Phi3(M^-1/2 u, M^-1/2 v, .)
    assert rel(weighted.phi3(u, v), (plain.phi3(u * s, v * s).reshape(-1, 3) * s).ravel()) < 1e-14
    va, vb = aligned(plain.with_mass_weighting(True), weighted)
    assert rel(va, vb) < 1e-14
    fd_plain, fd_weighted = read_fc3(ka_files / "F"), read_fc3(ka_files / "Fm")
    va, vb = aligned(fd_plain.with_mass_weighting(True), fd_weighted)
    assert rel(va, vb) < 1e-14


def test_pair_table_rebuilds_the_hessian(ka_files, ka_data, tmp_path):
    """The table's phi', phi'' (lj/cut closed forms here) give write_hessian's matrix (born_matrix).
    Replicated, the glass also has pairs whose smaller ID is the type-2 atom (lj/cut stores
    epsilon and sigma for I <= J only)."""
    fc, hess = read_fc3(ka_files / "A"), read_hessian(ka_files / "H")
    assert rel(fc.hessian(), hess.matrix) < 1e-12
    lmp = ka_from_data(ka_data)
    lmp.command("replicate 2 1 1")
    lmp.command(f"write_fc3 all {tmp_path / 'A'} mass no")
    lmp.command(f"write_hessian all {tmp_path / 'H'} mass no")
    lmp.close()
    fc, hess = read_fc3(tmp_path / "A"), read_hessian(tmp_path / "H")
    assert hess.matrix.nnz == 9 * (fc.natoms + 2 * fc.meta["nrecords"])    # every pair once
    assert rel(fc.hessian(), hess.matrix) < 1e-12


# ---- contractions against finite differences --------------------------------------------------

def test_phi3_phi4_contractions_match_hessian_differences(smooth_data, tmp_path):
    lmp = ka_from_data(smooth_data, SMOOTH_KA_PAIR)
    x0 = positions(lmp)
    u, v, w, y = random_directions(len(x0), 4)
    h = 1e-3
    hess, fcs = {}, {}
    for k in (-2, -1, 0, 1, 2):
        place(lmp, x0 + k * h * u)
        lmp.command(f"write_hessian all {tmp_path / f'H{k}'} mass no fcheck no")
        lmp.command(f"write_fc3 all {tmp_path / f'F{k}'} order 4 mass no fcheck no")
        hess[k] = read_hessian(tmp_path / f"H{k}").matrix.toarray()
        fcs[k] = read_fc3(tmp_path / f"F{k}")
    lmp.close()
    fc = fcs[0]
    dH = derivative(hess, h, 1)                   # dH/ds along u
    flat = lambda a: a.ravel()  # noqa: E731
    assert rel(fc.phi3(u), dH) < 1e-6
    assert rel(fc.phi3(u, v), dH @ flat(v)) < 1e-6
    assert rel(fc.phi3(u, v, w), flat(w) @ dH @ flat(v)) < 1e-6
    d2H = derivative(hess, h, 2)                  # d^2H/ds^2 along u
    assert rel(fc.phi4(u, u), d2H) < 1e-6
    assert rel(fc.phi4(u, u, v), d2H @ flat(v)) < 1e-6
    assert rel(fc.phi4(u, u, v, w), flat(w) @ d2H @ flat(v)) < 1e-6
    # Phi4 contracted with u is the derivative of Phi3 along u, in each slot
    assert rel(fc.phi4(u, v), derivative({k: fcs[k].phi3(v).toarray() for k in fcs}, h, 1)) < 1e-6
    assert rel(fc.phi4(u, v, w), derivative({k: fcs[k].phi3(v, w) for k in fcs}, h, 1)) < 1e-6
    assert rel(fc.phi4(u, v, w, y), derivative({k: fcs[k].phi3(v, w, y) for k in fcs}, h, 1)) < 1e-6
    # every contraction is symmetric in its vectors
    assert rel(fc.phi3(v, u), fc.phi3(u, v)) < 1e-13
    assert abs(fc.phi4(u, v, w, y) - fc.phi4(y, w, v, u)) < 1e-12 * abs(fc.phi4(u, v, w, y))


def test_contractions_match_energy_and_force_derivatives(smooth_data, tmp_path):
    """U(x + s u) and F(x + s u) along random directions, 81 samples in |s| <= 0.01, fitted by
    polynomials: their Taylor coefficients are the full contractions."""
    lmp = ka_from_data(smooth_data, SMOOTH_KA_PAIR)
    run(lmp, ["thermo_style custom step pe", "thermo_modify norm no"])
    x0 = positions(lmp)
    lmp.command(f"write_fc3 all {tmp_path / 'F'} order 4 mass no")
    fc = read_fc3(tmp_path / "F")
    s = np.linspace(-0.01, 0.01, 81)
    try:
        for u in random_directions(len(x0), 2, seed=11):
            energy, force = [], []
            for step in s:
                place(lmp, x0 + step * u)
                lmp.command("run 0 post no")
                energy.append(lmp.get_thermo("pe"))
                force.append(np.array(lmp.gather_atoms("f", 1, 3)[: x0.size]))
            t = s / 0.01
            ce = np.polynomial.polynomial.polyfit(t, np.array(energy) - energy[40], 8)
            cf = np.polynomial.polynomial.polyfit(t, np.array(force), 8)
            # U = ... + s^3/6 Phi3:.uuu + s^4/24 Phi4::uuuu;  -F = ... + s^2/2 Phi3:uu + s^3/6 Phi4:.uuu
            assert abs(6 * ce[3] / 0.01**3 - fc.phi3(u, u, u)) < 1e-6 * abs(fc.phi3(u, u, u))
            assert abs(24 * ce[4] / 0.01**4 - fc.phi4(u, u, u, u)) < 1e-6 * abs(fc.phi4(u, u, u, u))
            assert rel(-2 * cf[2] / 0.01**2, fc.phi3(u, u)) < 1e-6
            assert rel(-6 * cf[3] / 0.01**3, fc.phi4(u, u, u)) < 1e-6
    finally:
        lmp.close()


# ---- many-body, 2D, triclinic ------------------------------------------------------------------

def test_sw_many_body_fd_matches_lammps(tmp_path):
    """Stillinger-Weber: no analytic path (named, with the fd alternative); fd from second
    differences of the forces agrees with third_order on a group."""
    lmp = open_lammps()
    run(lmp, sw_silicon(cells=2))
    with pytest.raises(Exception, match="pair style sw.*use method fd"):
        lmp.command(f"write_fc3 all {tmp_path / 'bad'} method analytic")
    with pytest.raises(Exception, match="order 4 needs the analytic path"):
        lmp.command(f"write_fc3 all {tmp_path / 'bad'} order 4")
    assert not list(tmp_path.glob("bad*"))
    lmp.command("group sub id 1:8")
    lmp.command(f"write_fc3 sub {tmp_path / 'F'} mass no")    # auto -> fd
    ref = lammps_third_order(lmp, "sub", 1e-4, tmp_path / "t3.txt", 8)
    lmp.close()
    fc = read_fc3(tmp_path / "F")
    assert fc.meta["method"] == "fd" and fc.meta["fd_hessians"] == "fd" and fc.meta["manybody"]
    assert fc.meta["units"] == "metal" and fc.storage == "blocks"
    assert rel(fc.to_dense(), ref) < 1e-5
    assert symmetry_error(fc) < 1e-12


def test_2d_triclinic_fd_matches_analytic(tmp_path):
    lmp = open_lammps()
    run(lmp, ka_glass(150, dimension=2, tilt=0.2))
    lmp.command(f"write_fc3 all {tmp_path / 'A'} method analytic")
    lmp.command(f"write_fc3 all {tmp_path / 'F'} method fd")
    lmp.command(f"write_fc3 all {tmp_path / 'N'} method fd symmetrize no")
    lmp.close()
    a, f, raw = (read_fc3(tmp_path / x) for x in ("A", "F", "N"))
    assert a.dimension == 2 and a.meta["box"]["triclinic"]
    assert not raw.meta["symmetrized"] and raw.meta["nrecords"] == f.meta["nrecords"]
    assert 0 < symmetry_error(raw) < 1e-6
    va, vr = aligned(a, raw)
    assert rel(vr, va) < 1e-6
    assert f.records["v"].shape[1:] == (2, 2, 2)
    va, vf = aligned(a, f)
    assert rel(vf, va) < 1e-6
    assert sum_rule_error(a.with_mass_weighting(False)) < 1e-10
    u, v = random_directions(a.natoms, 2, d=2)
    assert rel(f.phi3(u, v), a.phi3(u, v)) < 1e-6


def test_polydisperse_plugin_style_analytic_matches_fd(tmp_path):
    """ipl/smooth/poly (RadialDerivatives, per-atom sizes, per-atom masses of atom_style sphere)."""
    rng = np.random.default_rng(5)
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style sphere", "atom_modify map yes", "region box block 0 5 0 5 0 5",
              "create_box 1 box", "create_atoms 1 random 100 5 NULL overlap 0.7 maxtry 200"])
    for i, (dia, mass) in enumerate(zip(rng.uniform(0.8, 1.2, 100), rng.uniform(0.5, 2.0, 100))):
        lmp.command(f"set atom {i + 1} diameter {dia:.6f}")
        lmp.command(f"set atom {i + 1} mass {mass:.6f}")
    run(lmp, ["pair_style ipl/smooth/poly 12 3 1.4 0.2", "pair_coeff * * 1.0", "neighbor 0.3 bin",
              "min_style fire", "minimize 0 1e-6 50000 500000", "min_style cg",
              "minimize 0 1e-11 20000 200000"])
    lmp.command(f"write_fc3 all {tmp_path / 'A'}")
    lmp.command(f"write_fc3 all {tmp_path / 'F'} method fd")
    lmp.close()
    a, f = read_fc3(tmp_path / "A"), read_fc3(tmp_path / "F")
    assert a.meta["radial_derivatives"] == "RadialDerivatives" and a.meta["per_atom_mass"]
    assert np.unique(a.atoms["mass"]).size == 100 and a.mass_weighted
    va, vf = aligned(a, f)
    assert rel(vf, va) < 1e-6


# ---- MPI ----------------------------------------------------------------------------------------

@pytest.mark.mpi
@pytest.mark.parametrize("method", ["analytic", "fd"])
def test_identical_for_1_2_4_ranks(ka_data, tmp_path, mpirun, method):
    """Every sum runs in atom-ID order and every record has its place: the files are the same
    bytes whatever the number of ranks."""
    files = {}
    for n in (1, 2, 4):
        out = tmp_path / f"F{n}"
        mpirun(n, MPI_WRITE, ka_data, "ka", out, "method", method, "mass", "no")
        assert json.loads((tmp_path / f"F{n}.json").read_text())["nprocs"] == n
        files[n] = out.read_bytes()
    assert files[2] == files[1] and files[4] == files[1]


@pytest.mark.mpi
def test_sw_fd_same_for_1_2_4_ranks(tmp_path, mpirun):
    """Second differences of forces: the same colors and displacements for any number of ranks;
    only the order in which LAMMPS sums forces differs. Its round-off (1e-16 of the forces) is
    amplified by 1/delta^2 (1e10): about 1e-7 of the tensor, and a few blocks of pure round-off
    (1e-11 of the largest) are present for one rank count and exactly zero for another."""
    lmp = open_lammps()
    run(lmp, sw_silicon(cells=2))
    lmp.command(f"write_data {tmp_path / 'si.data'} nocoeff")
    lmp.close()
    ref = None
    for n in (1, 2, 4):
        mpirun(n, MPI_WRITE, tmp_path / "si.data", "sw", tmp_path / f"F{n}", "group", "id 1:8")
        fc = read_fc3(tmp_path / f"F{n}")
        assert fc.natoms == 8 and fc.meta["nprocs"] == n
        ref = fc if ref is None else ref
        va, vr = aligned(fc, ref)
        assert rel(va, vr) < 1e-6


@pytest.mark.mpi
def test_distributed_contractions_match_serial(ka_files, tmp_path, mpirun):
    fc = read_fc3(ka_files / "A")
    u, v, w, x = random_directions(fc.natoms, 4, seed=3)
    np.savez(tmp_path / "vec.npz", u=u, v=v, w=w, x=x)
    for n in (2, 4):
        mpirun(n, MPI_CONTRACT, ka_files / "A", tmp_path / "vec.npz", tmp_path / f"r{n}.npz")
        r = np.load(tmp_path / f"r{n}.npz")
        assert int(r["nprocs"]) == n and int(r["nrecords"]) == fc.meta["nrecords"]
        assert rel(r["m3"], fc.phi3(u)) < 1e-13
        assert rel(r["v3"], fc.phi3(u, v)) < 1e-13
        assert abs(r["s3"] - fc.phi3(u, v, w)) < 1e-12 * abs(fc.phi3(u, v, w))
        assert rel(r["m4"], fc.phi4(u, v)) < 1e-13
        assert rel(r["v4"], fc.phi4(u, v, w)) < 1e-13
        assert abs(r["s4"] - fc.phi4(u, v, w, x)) < 1e-12 * abs(fc.phi4(u, v, w, x))


# ---- cost, fix, errors, reader ------------------------------------------------------------------

def test_fd_evaluations_do_not_grow_with_n(tmp_path):
    """Colored fd: the number of Hessian evaluations is set by density and range, not by N."""
    evals = {}
    for cells in (4, 8):    # 256 and 2048 atoms of a jittered fcc crystal, short-range pairs
        lmp = open_lammps()
        run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", "lattice fcc 1.2",
                  f"region box block 0 {cells} 0 {cells} 0 {cells}", "create_box 1 box",
                  "create_atoms 1 box", "mass 1 1.0", "displace_atoms all random 0.1 0.1 0.1 3",
                  "pair_style lj/cut 1.2", "pair_coeff 1 1 1.0 1.0", "neighbor 0.3 bin"])
        lmp.command(f"write_fc3 all {tmp_path / f'F{cells}'} method fd fcheck no")
        lmp.close()
        evals[4 * cells**3] = json.loads((tmp_path / f"F{cells}.json").read_text())["hessian_evaluations"]
    assert evals[2048] < 0.1 * 6 * 2048
    assert evals[2048] < 1.5 * evals[256], evals


def test_fix_fc3_write_every_n_steps_leaves_run_unchanged(ka_data, tmp_path):
    def md(with_fix: bool):
        lmp = ka_from_data(ka_data)
        run(lmp, ["velocity all create 0.05 99", "fix nve all nve", "timestep 0.002"])
        if with_fix:
            lmp.command("group sub id 1:80")
            lmp.command(f"fix fw sub fc3/write 5 {tmp_path / 'F.*'} method fd fcheck no")
        lmp.command("run 10")
        x = np.array(lmp.gather_atoms("x", 1, 3)).copy()
        lmp.close()
        return x

    assert np.array_equal(md(False), md(True))    # the fd probes leave the trajectory untouched
    for step in (0, 5, 10):
        fc = read_fc3(tmp_path / f"F.{step}")
        assert fc.meta["timestep"] == step and fc.meta["nrecords"] > 0


def test_bad_input_is_refused_without_output(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    with pytest.raises(Exception, match="unknown keyword colour"):
        lmp.command(f"write_fc3 all {tmp_path / 'F'} colour red")
    with pytest.raises(Exception, match="order must be 3 or 4"):
        lmp.command(f"write_fc3 all {tmp_path / 'F'} order 5")
    with pytest.raises(Exception, match="order 4 needs the analytic path"):
        lmp.command(f"write_fc3 all {tmp_path / 'F'} method fd order 4")
    with pytest.raises(Exception, match="cannot write"):
        lmp.command(f"write_fc3 all {tmp_path / 'missing' / 'F'}")
    with pytest.raises(Exception, match="unknown keyword order"):
        lmp.command(f"write_hessian all {tmp_path / 'H'} order 4")    # fc3-only keyword
    lmp.command("pair_style soft 1.0")
    lmp.command("pair_coeff * * 1.0")
    with pytest.raises(Exception, match="pair style soft provides no third radial.*use method fd"):
        lmp.command(f"write_fc3 all {tmp_path / 'F'} method analytic fcheck no")
    lmp.close()
    assert not list(tmp_path.iterdir())


def test_unminimized_structure_is_refused(tmp_path):
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style atomic", "region box block 0 6 0 6 0 6", "create_box 2 box",
              "create_atoms 1 random 200 5 NULL", "mass * 1.0", *KA_PAIR])
    with pytest.raises(Exception, match="not minimized"):
        lmp.command(f"write_fc3 all {tmp_path / 'F'}")
    assert not list(tmp_path.iterdir())
    lmp.command(f"write_fc3 all {tmp_path / 'F'} fcheck no")    # the override
    lmp.close()
    assert read_fc3(tmp_path / "F").meta["max_residual_force"] > 1.0


def test_reader_refuses_corrupt_and_mismatched_files(ka_files, tmp_path):
    for name in ("A", "A.json", "A.atoms.npy", "F", "F.json", "F.atoms.npy"):
        (tmp_path / name).write_bytes((ka_files / name).read_bytes())
    raw = (tmp_path / "A").read_bytes()
    (tmp_path / "A").write_bytes(raw[:-100])
    with pytest.raises(Fc3FileError, match="truncated"):
        read_fc3(tmp_path / "A")
    (tmp_path / "A").write_bytes(raw)
    meta = json.loads((tmp_path / "A.json").read_text())
    for key, value, message in (("natoms", meta["natoms"] + 1, "ndof"),
                                ("nrecords", meta["nrecords"] - 1, "records, sidecar says"),
                                ("order", 3, "storage needs"),
                                ("format", "glassmodes-hessian", "format")):
        bad = dict(meta, **{key: value})
        if key == "natoms":
            bad["ndof"] = meta["ndof"]
        (tmp_path / "A.json").write_text(json.dumps(bad))
        with pytest.raises(Fc3FileError, match=message):
            read_fc3(tmp_path / "A")
    (tmp_path / "A.json").write_text(json.dumps(meta))
    # the fd blocks file under the analytic sidecar: wrong record type
    (tmp_path / "A").write_bytes((tmp_path / "F").read_bytes())
    with pytest.raises(Fc3FileError, match="storage needs"):
        read_fc3(tmp_path / "A")
    (tmp_path / "A").write_bytes(raw)
    records = np.load(tmp_path / "A")
    records["j"][5] = meta["natoms"] + 7
    np.save(tmp_path / "A.npy", records)
    os.replace(tmp_path / "A.npy", tmp_path / "A")
    with pytest.raises(Fc3FileError, match="out of range"):
        read_fc3(tmp_path / "A")
    os.remove(tmp_path / "A.atoms.npy")
    with pytest.raises(Fc3FileError, match="atoms file"):
        read_fc3(tmp_path / "A")
    os.remove(tmp_path / "F.json")
    with pytest.raises(Fc3FileError, match="sidecar"):
        read_fc3(tmp_path / "F")
    fc = read_fc3(ka_files / "F")
    with pytest.raises(ValueError, match="order 4"):
        fc.phi4(np.zeros(fc.ndof), np.zeros(fc.ndof))
    with pytest.raises(ValueError, match="shape"):
        fc.phi3(np.zeros(5))
