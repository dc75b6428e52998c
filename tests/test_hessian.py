"""write_hessian / fix hessian/write against LAMMPS's dynamical_matrix, finite differences,
exact sum rules, and across MPI rank counts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from glassmodes.io import read_hessian
from glassmodes.io.hessian import HessianFileError
from glassmodes.lammps_session import open_lammps
from systems import KA_PAIR, ka_glass, run, sw_silicon

MPI_SCRIPT = Path(__file__).parent / "mpi_scripts" / "write_hessian_from_data.py"


def rel_frobenius(a, b) -> float:
    a = a.toarray() if hasattr(a, "toarray") else a
    b = b.toarray() if hasattr(b, "toarray") else b
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def lammps_dynamical_matrix(lmp, path: Path, delta: float) -> np.ndarray:
    """LAMMPS's own finite-difference dynamical matrix (mass-weighted, text, 3 values a line)."""
    lmp.command(f"dynamical_matrix all regular {delta} file {path} binary no")
    values = np.loadtxt(path).ravel()
    n = int(round(np.sqrt(values.size)))
    return values.reshape(n, n)


@pytest.fixture(scope="module")
def ka_data(tmp_path_factory):
    """A minimized 3D KA glass (about 250 atoms, masses 1 and 2) as a data file."""
    folder = tmp_path_factory.mktemp("ka")
    lmp = open_lammps()
    run(lmp, ka_glass(250, masses=(1.0, 2.0)))
    lmp.command(f"write_data {folder / 'ka.data'} nocoeff")
    lmp.close()
    return folder / "ka.data"


def ka_from_data(data: Path):
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", f"read_data {data}", *KA_PAIR,
              "neighbor 0.3 bin"])
    return lmp


def test_ka_analytic_matches_lammps_dynamical_matrix(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    lmp.command(f"write_hessian all {tmp_path / 'H'} method analytic")
    ref = lammps_dynamical_matrix(lmp, tmp_path / "dm.txt", 1e-5)
    lmp.close()
    hess = read_hessian(tmp_path / "H")
    assert hess.meta["method"] == "analytic" and hess.mass_weighted
    # LAMMPS's central differences with delta = 1e-5 carry an error of order delta^2 * phi''''
    # plus round-off ~ eps * F / delta, about 1e-9 relative here
    assert rel_frobenius(hess.matrix, ref) < 1e-6


def test_ka_fd_matches_analytic(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    lmp.command(f"write_hessian all {tmp_path / 'Ha'} method analytic")
    lmp.command(f"write_hessian all {tmp_path / 'Hf'} method fd delta 1e-5")
    lmp.close()
    ha, hf = read_hessian(tmp_path / "Ha"), read_hessian(tmp_path / "Hf")
    assert hf.meta["method"] == "fd" and hf.meta["force_evaluations"] > 0
    assert rel_frobenius(hf.matrix, ha.matrix) < 1e-6
    # the fd file is symmetrized exactly
    assert abs(hf.matrix - hf.matrix.T).max() == 0.0


def test_ka_analytic_symmetry_sum_rule_zero_modes(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    lmp.command(f"write_hessian all {tmp_path / 'H'} mass no")
    lmp.close()
    hess = read_hessian(tmp_path / "H")
    assert hess.meta["method"] == "analytic" and not hess.mass_weighted
    h = hess.matrix.toarray()
    n, d = hess.natoms, hess.dimension
    scale = np.abs(h).max()
    assert np.abs(h - h.T).max() / scale < 1e-12
    # acoustic sum rule: each block row sums to zero (translation invariance)
    assert np.abs(h.reshape(n, d, n, d).sum(axis=2)).max() / scale < 1e-10
    w2 = scipy.linalg.eigvalsh(hess.dynamical_matrix().toarray())
    zero = np.abs(w2) < 1e-9 * w2.max()
    assert zero.sum() == d, f"{zero.sum()} zero eigenvalues, expected {d}"
    assert w2[~zero].min() > 1e-6 * w2.max()


def test_mass_weighting_is_consistent(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    lmp.command(f"write_hessian all {tmp_path / 'D'} mass yes")
    lmp.command(f"write_hessian all {tmp_path / 'H'} mass no")
    lmp.close()
    d, h = read_hessian(tmp_path / "D"), read_hessian(tmp_path / "H")
    assert set(np.unique(h.atoms["mass"])) == {1.0, 2.0}
    assert rel_frobenius(h.dynamical_matrix(), d.matrix) < 1e-14


def test_group_writes_the_submatrix(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    lmp.command(f"write_hessian all {tmp_path / 'H'}")
    lmp.command("group half id 1:250:2")
    lmp.command(f"write_hessian half {tmp_path / 'S'}")
    lmp.command(f"write_hessian half {tmp_path / 'Sf'} method fd")
    lmp.close()
    full, sub, subfd = (read_hessian(tmp_path / x) for x in ("H", "S", "Sf"))
    assert np.all(sub.atoms["id"] % 2 == 1)
    pick = np.flatnonzero(np.isin(full.atoms["id"], sub.atoms["id"]))
    dofs = (3 * pick[:, None] + np.arange(3)).ravel()
    expected = full.matrix.toarray()[np.ix_(dofs, dofs)]
    assert np.abs(sub.matrix.toarray() - expected).max() == 0.0
    assert rel_frobenius(subfd.matrix, expected) < 1e-6


def test_sw_many_body_fd_matches_lammps(tmp_path):
    lmp = open_lammps()
    run(lmp, sw_silicon(cells=2))
    with pytest.raises(Exception, match="pair style sw"):
        lmp.command(f"write_hessian all {tmp_path / 'bad'} method analytic")
    assert not list(tmp_path.glob("bad*"))
    lmp.command(f"write_hessian all {tmp_path / 'H'}")    # auto -> fd for a many-body style
    ref = lammps_dynamical_matrix(lmp, tmp_path / "dm.txt", 1e-5)
    lmp.close()
    hess = read_hessian(tmp_path / "H")
    assert hess.meta["method"] == "fd" and hess.meta["manybody"]
    assert hess.meta["units"] == "metal"
    # both in LAMMPS's native metal units, eV / (A^2 g/mol): no conversion factor in this version
    assert rel_frobenius(hess.matrix, ref) < 1e-6


def test_2d_triclinic_fd_matches_analytic(tmp_path):
    lmp = open_lammps()
    run(lmp, ka_glass(200, dimension=2, tilt=0.2))
    lmp.command(f"write_hessian all {tmp_path / 'Ha'} method analytic")
    lmp.command(f"write_hessian all {tmp_path / 'Hf'} method fd")
    lmp.close()
    ha, hf = read_hessian(tmp_path / "Ha"), read_hessian(tmp_path / "Hf")
    assert ha.dimension == 2 and ha.matrix.shape == (2 * ha.natoms, 2 * ha.natoms)
    assert ha.meta["box"]["triclinic"]
    assert rel_frobenius(hf.matrix, ha.matrix) < 1e-6
    w2 = scipy.linalg.eigvalsh(ha.matrix.toarray())
    assert (np.abs(w2) < 1e-9 * w2.max()).sum() == 2


@pytest.mark.mpi
@pytest.mark.parametrize("method", ["analytic", "fd"])
def test_identical_for_1_2_4_ranks(ka_data, tmp_path, mpirun, method):
    matrices = {}
    for n in (1, 2, 4):
        out = tmp_path / f"H{n}"
        mpirun(n, MPI_SCRIPT, ka_data, "ka", out, "method", method)
        hess = read_hessian(out)
        assert hess.meta["nprocs"] == n
        matrices[n] = hess.matrix
    for n in (2, 4):
        if method == "analytic":
            # every sum runs in atom-ID order: bitwise identical
            assert (matrices[n] != matrices[1]).nnz == 0
        else:
            # same colors and displacements; only the order of force summation differs
            assert rel_frobenius(matrices[n], matrices[1]) < 1e-10


@pytest.mark.mpi
def test_sw_identical_for_1_2_4_ranks(tmp_path, mpirun):
    lmp = open_lammps()
    run(lmp, sw_silicon(cells=2))
    lmp.command(f"write_data {tmp_path / 'si.data'} nocoeff")
    lmp.close()
    ref = None
    for n in (1, 2, 4):
        mpirun(n, MPI_SCRIPT, tmp_path / "si.data", "sw", tmp_path / f"H{n}")
        m = read_hessian(tmp_path / f"H{n}").matrix
        ref = m if ref is None else ref
        assert rel_frobenius(m, ref) < 1e-10


def test_fd_force_evaluations_do_not_grow_with_n(tmp_path):
    """Colored fd: the number of force evaluations is set by density and range, not by N."""
    calls = {}
    for cells in (8, 16):    # 2048 and 16384 atoms of a jittered fcc crystal, short-range pairs
        lmp = open_lammps()
        run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", "lattice fcc 1.2",
                  f"region box block 0 {cells} 0 {cells} 0 {cells}", "create_box 1 box",
                  "create_atoms 1 box", "mass 1 1.0", "displace_atoms all random 0.1 0.1 0.1 3",
                  "pair_style lj/cut 1.2", "pair_coeff 1 1 1.0 1.0", "neighbor 0.3 bin"])
        lmp.command(f"write_hessian all {tmp_path / f'H{cells}'} method fd fcheck no")
        lmp.close()
        n = 4 * cells**3
        calls[n] = json.loads((tmp_path / f"H{cells}.json").read_text())["force_evaluations"]
    assert calls[16384] < 0.1 * 6 * 16384    # LAMMPS's dynamical_matrix needs 6N
    # constant up to the slow (extreme-value) growth of the fullest cell's occupancy
    assert calls[16384] < 1.5 * calls[2048], calls


def test_fix_hessian_write_every_n_steps_leaves_run_unchanged(ka_data, tmp_path):
    def md(with_fix: bool):
        lmp = ka_from_data(ka_data)
        run(lmp, ["velocity all create 0.05 99", "fix nve all nve", "timestep 0.002"])
        if with_fix:
            lmp.command(f"fix hw all hessian/write 5 {tmp_path / 'H.*'} method fd fcheck no")
        lmp.command("run 10")
        x = np.array(lmp.gather_atoms("x", 1, 3)).copy()
        lmp.close()
        return x

    x_plain, x_fix = md(False), md(True)
    assert np.array_equal(x_plain, x_fix)    # the fd probes leave the trajectory untouched
    for step in (0, 5, 10):
        hess = read_hessian(tmp_path / f"H.{step}")
        assert hess.meta["timestep"] == step
    assert not read_hessian(tmp_path / "H.0").matrix.nnz == 0


def test_unminimized_structure_is_refused(tmp_path):
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style atomic", "region box block 0 6 0 6 0 6", "create_box 2 box",
              "create_atoms 1 random 200 5 NULL", "mass * 1.0", *KA_PAIR])
    with pytest.raises(Exception, match="not minimized"):
        lmp.command(f"write_hessian all {tmp_path / 'H'}")
    assert not list(tmp_path.iterdir())
    lmp.command(f"write_hessian all {tmp_path / 'H'} fcheck no")    # the override
    lmp.close()
    assert read_hessian(tmp_path / "H").meta["max_residual_force"] > 1.0


def test_bad_keywords_and_paths(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    with pytest.raises(Exception, match="unknown keyword colour"):
        lmp.command(f"write_hessian all {tmp_path / 'H'} colour red")
    with pytest.raises(Exception, match="method must be"):
        lmp.command(f"write_hessian all {tmp_path / 'H'} method exact")
    with pytest.raises(Exception, match="cannot write"):
        lmp.command(f"write_hessian all {tmp_path / 'missing' / 'H'}")
    with pytest.raises(Exception, match="smaller than half the neighbor skin"):
        lmp.command(f"write_hessian all {tmp_path / 'H'} method fd delta 0.2")
    lmp.close()
    assert not list(tmp_path.iterdir())


def test_reader_refuses_truncated_and_mismatched_files(ka_data, tmp_path):
    lmp = ka_from_data(ka_data)
    lmp.command(f"write_hessian all {tmp_path / 'H'}")
    lmp.close()
    raw = (tmp_path / "H").read_bytes()
    (tmp_path / "H").write_bytes(raw[:-100])
    with pytest.raises(HessianFileError, match="truncated"):
        read_hessian(tmp_path / "H")
    (tmp_path / "H").write_bytes(raw)
    meta = json.loads((tmp_path / "H.json").read_text())
    meta["natoms"] += 1
    (tmp_path / "H.json").write_text(json.dumps(meta))
    with pytest.raises(HessianFileError, match="ndof"):
        read_hessian(tmp_path / "H")
    os.remove(tmp_path / "H.json")
    with pytest.raises(HessianFileError, match="sidecar"):
        read_hessian(tmp_path / "H")


@pytest.mark.parametrize("gap", [3e-6, -3e-6])
def test_fd_flags_pairs_at_a_force_jump(tmp_path, gap):
    """lj/cut's force jumps from F(rc) to 0 at the cutoff: a pair within delta of it corrupts the
    central difference by F(rc)/(2 delta); fd counts such pairs (sidecar) and warns."""
    rc, r0 = 2.5, 2.5 - gap
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", "region box block 0 20 0 20 0 20",
              "create_box 1 box", "create_atoms 1 single 5 5 5", f"create_atoms 1 single {5 + r0} 5 5",
              "mass * 1.0", f"pair_style lj/cut {rc}", "pair_coeff 1 1 1.0 1.0", "neighbor 0.3 bin"])
    for delta in (1e-5, 1e-6):
        lmp.command(f"write_hessian all {tmp_path / f'fd{delta}'} method fd delta {delta} fcheck no")
    lmp.command(f"write_hessian all {tmp_path / 'an'} method analytic fcheck no")
    lmp.close()
    an = read_hessian(tmp_path / "an").matrix.toarray()
    coarse, fine = read_hessian(tmp_path / "fd1e-05"), read_hessian(tmp_path / "fd1e-06")
    assert coarse.meta["fd_pairs_at_force_jump"] == 1 and fine.meta["fd_pairs_at_force_jump"] == 0
    f_rc = abs(24 * (2 / rc**13 - 1 / rc**7))    # |dU/dr| just inside the cutoff
    # the bond (xx) entry of atom 0: the displacement that crosses the cutoff sees the jump once;
    # symmetrization halves it between the two xx entries of the pair's rows (same magnitude)
    err = abs(coarse.matrix.toarray()[0, 0] - an[0, 0])
    assert err == pytest.approx(f_rc / (2 * 1e-5), rel=1e-2)
    # delta below the gap: fd is right again (outside the cutoff the pair does not interact: H = 0)
    assert np.abs(fine.matrix.toarray() - an).max() < 1e-6 * max(1.0, np.abs(an).max())


def test_smooth_cutoff_pairs_are_not_flagged(tmp_path):
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", "region box block 0 20 0 20 0 20",
              "create_box 1 box", "create_atoms 1 single 5 5 5", "create_atoms 1 single 7.499997 5 5",
              "mass * 1.0", "pair_style lj/smooth/linear 2.5", "pair_coeff 1 1 1.0 1.0", "neighbor 0.3 bin"])
    lmp.command(f"write_hessian all {tmp_path / 'fd'} method fd delta 1e-5 fcheck no")
    lmp.close()
    assert read_hessian(tmp_path / "fd").meta["fd_pairs_at_force_jump"] == 0


def test_full_disk_leaves_nothing_behind(ka_data, tmp_path):
    """A file system that fills up mid-write: a clear error and no file, temporary or final."""
    import subprocess

    small = tmp_path / "small"
    small.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and tmpfs mounts to build a tiny file system")
    try:
        lmp = ka_from_data(ka_data)
        with pytest.raises(Exception, match="disk full|No space"):
            lmp.command(f"write_hessian all {small / 'H'} method analytic")
        lmp.close()
        assert not list(small.iterdir())
    finally:
        subprocess.run(["umount", str(small)], check=False)
