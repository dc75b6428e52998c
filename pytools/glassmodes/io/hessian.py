"""The Hessian files written by the plugin's ``write_hessian`` / ``fix hessian/write``.

Three files share a stem ``H`` (the name the caller gave):

``H``
    The matrix in PETSc's binary AIJ format (what ``petsc4py.PETSc.Mat().load`` reads in
    parallel): big-endian; int32 header ``[1211216, M, N, nnz]``, int32 row lengths (M),
    int32 column indices (nnz, sorted within each row), float64 values (nnz).
    Row/column ``d*k + alpha`` is Cartesian component ``alpha`` of the atom with the k-th
    smallest atom ID of the group (``d`` the dimension, 2 or 3).
``H.json``
    The sidecar: units, mass weighting, method, box, versions, ... (see ``SIDECAR_KEYS``).
``H.atoms.npy``
    One record per atom in the matrix's order: ``id`` (int64), ``type`` (int32),
    ``mass`` (float64), ``x`` (float64, 3; z = 0 in 2D), ``image`` (int32, 3).

Conventions: ``mass_weighted`` true means the file holds the dynamical matrix
``D = M^-1/2 H M^-1/2`` (units energy / (distance^2 mass), eigenvalues omega^2 in the LAMMPS
unit style's (energy/mass)/distance^2); false means the plain Hessian
``H_ij = d^2 U / dx_i dx_j`` (energy / distance^2).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from glassmodes.io.atomic import (
    COMPANIONS_KEY, atomic_file_set, atomic_output, check_companions, companion_record, report_stale_temporaries,
)

PETSC_MAT_CLASSID = 1211216
FORMAT_NAME = "glassmodes-hessian"
FORMAT_VERSION = 1
ATOMS_DTYPE = np.dtype(
    [("id", "<i8"), ("type", "<i4"), ("mass", "<f8"), ("x", "<f8", (3,)), ("image", "<i4", (3,))]
)
SIDECAR_KEYS = (
    "format", "format_version", "natoms", "dimension", "ndof", "nnz", "units", "mass_weighted",
    "method", "box", "lammps_version", "glassmodes_version",
)


class HessianFileError(ValueError):
    """A Hessian file is missing, truncated, corrupt, or disagrees with its sidecar."""


@dataclass(frozen=True)
class Hessian:
    """A Hessian (or dynamical matrix) with the metadata needed to interpret it.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape=(d*N, d*N), float64
        Units given by ``meta['units']`` and ``meta['mass_weighted']`` (see module docs).
    meta : dict
        The sidecar.
    atoms : numpy structured array, shape=(N,), dtype ``ATOMS_DTYPE``
        Atom records in the matrix's order (ascending atom ID).
    """

    matrix: sp.csr_matrix
    meta: dict
    atoms: np.ndarray

    @property
    def dimension(self) -> int:
        return int(self.meta["dimension"])

    @property
    def natoms(self) -> int:
        return int(self.meta["natoms"])

    @property
    def mass_weighted(self) -> bool:
        return bool(self.meta["mass_weighted"])

    def dynamical_matrix(self) -> sp.csr_matrix:
        """D = M^-1/2 H M^-1/2 whatever the file holds."""
        if self.mass_weighted:
            return self.matrix
        s = 1.0 / np.sqrt(np.repeat(self.atoms["mass"], self.dimension))
        return sp.csr_matrix(sp.diags(s) @ self.matrix @ sp.diags(s))

    def positions(self) -> np.ndarray:
        """Positions, shape=(N, d), distance units."""
        return self.atoms["x"][:, : self.dimension].copy()


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(path)}.json")


def atoms_path(path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(path)}.atoms.npy")


def _check_header(path, header: np.ndarray, size: int):
    """Check a PETSc binary AIJ header against the file size: (nrows, ncols, nnz)."""
    classid, nrows, ncols, nnz = (int(v) for v in header)
    if classid != PETSC_MAT_CLASSID:
        raise HessianFileError(
            f"{path}: not a PETSc binary matrix (class id {classid}, expected {PETSC_MAT_CLASSID})"
        )
    if nrows < 0 or ncols < 0 or nnz < 0:
        raise HessianFileError(f"{path}: negative sizes in the header ({nrows}, {ncols}, {nnz})")
    expected = 16 + 4 * nrows + 4 * nnz + 8 * nnz
    if size != expected:
        raise HessianFileError(
            f"{path}: {size} bytes, expected {expected} for a {nrows}x{ncols} matrix with "
            f"{nnz} nonzeros (truncated or written with other index/scalar sizes)"
        )
    return nrows, ncols, nnz


def _petsc_header(path: Path):
    """Check a PETSc binary AIJ file's header and size: (nrows, ncols, nnz)."""
    if not path.is_file():
        raise HessianFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size < 16:
        raise HessianFileError(f"{path}: {size} bytes, too short for a PETSc matrix header")
    return _check_header(path, np.fromfile(path, dtype=">i4", count=4), size)


def _check_rowlen(path, rowlen: np.ndarray, nnz: int) -> None:
    if (rowlen < 0).any() or rowlen.sum() != nnz:
        raise HessianFileError(f"{path}: row lengths add up to {rowlen.sum()}, header says {nnz}")


def _check_entries(path, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, ncols: int) -> None:
    """Column range and finiteness of a slice of entries (``rows``: their row indices)."""
    if cols.size == 0:
        return
    bad = (cols < 0) | (cols >= ncols)
    if bad.any():
        k = int(np.argmax(bad))
        raise HessianFileError(f"{path}: column index {int(cols[k])} in row {int(rows[k])} out of range "
                               f"[0, {ncols}) (corrupt file)")
    fin = np.isfinite(vals)
    if not fin.all():
        k = int(np.argmin(fin))
        raise HessianFileError(f"{path}: entry ({int(rows[k])}, {int(cols[k])}) is {vals[k]} (NaN or "
                               "infinite values: a mass of zero on ghost atoms, or a corrupt file)")


def read_petsc_aij(path: str | os.PathLike) -> sp.csr_matrix:
    """Read a PETSc binary AIJ matrix (big-endian, int32 indices, float64 values) into CSR.

    Raises HessianFileError when the file is not such a matrix, is truncated, or holds a column
    index out of range or a non-finite value.
    """
    path = Path(path)
    if not path.is_file():
        raise HessianFileError(f"{path}: no such file")
    return parse_petsc_aij(path, path.read_bytes())


def parse_petsc_aij(path, raw: bytes) -> sp.csr_matrix:
    """:func:`read_petsc_aij` on the file's content ``raw`` (``path`` for messages)."""
    size = len(raw)
    if size < 16:
        raise HessianFileError(f"{path}: {size} bytes, too short for a PETSc matrix header")
    nrows, ncols, nnz = _check_header(path, np.frombuffer(raw, dtype=">i4", count=4), size)
    rowlen = np.frombuffer(raw, dtype=">i4", count=nrows, offset=16).astype(np.int64)
    cols = np.frombuffer(raw, dtype=">i4", count=nnz, offset=16 + 4 * nrows).astype(np.int32)
    vals = np.frombuffer(raw, dtype=">f8", count=nnz, offset=16 + 4 * nrows + 4 * nnz).astype(np.float64)
    _check_rowlen(path, rowlen, nnz)
    _check_entries(path, np.repeat(np.arange(nrows), rowlen), cols, vals, ncols)
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(rowlen, out=indptr[1:])
    return sp.csr_matrix((vals, cols, indptr), shape=(nrows, ncols))


@dataclass(frozen=True)
class MatrixSummary:
    """What :func:`scan_petsc_aij` learns from a matrix file without holding it.

    Attributes
    ----------
    shape : (int, int)
    nnz : int
    diagonal : ndarray, shape=(nrows,), float64
        ``D_ii`` of the dynamical matrix (the file's values divided by the masses when the file
        holds the plain Hessian and ``dof_masses`` is given), matrix units.
    row_abs_sum : ndarray, shape=(nrows,), float64
        ``sum_j |D_ij|`` (its maximum is the Gershgorin bound ``scale``).
    """

    shape: tuple
    nnz: int
    diagonal: np.ndarray
    row_abs_sum: np.ndarray


def scan_petsc_aij(path: str | os.PathLike, dof_masses: np.ndarray | None = None,
                   chunk: int = 1 << 22) -> MatrixSummary:
    """Check a PETSc binary AIJ file entry by entry in chunks, with O(rows) memory.

    The same checks as :func:`read_petsc_aij` (header, size, row lengths, column range, finite
    values), for readers that do not hold the matrix (the slepc backend checks the file on one
    rank before PETSc loads it in parallel). With ``dof_masses`` (shape=(nrows,), the mass of
    each degree of freedom) the diagonal and row sums are those of ``M^-1/2 H M^-1/2``.
    """
    path = Path(path)
    nrows, ncols, nnz = _petsc_header(path)
    rowlen = np.fromfile(path, dtype=">i4", count=nrows, offset=16).astype(np.int64)
    _check_rowlen(path, rowlen, nnz)
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(rowlen, out=indptr[1:])
    s = None if dof_masses is None else 1.0 / np.sqrt(np.asarray(dof_masses, dtype=float))
    diag = np.zeros(nrows)
    rowsum = np.zeros(nrows)
    col_off = 16 + 4 * nrows
    val_off = col_off + 4 * nnz
    for lo in range(0, nnz, chunk):
        hi = min(nnz, lo + chunk)
        cols = np.fromfile(path, dtype=">i4", count=hi - lo, offset=col_off + 4 * lo).astype(np.int64)
        vals = np.fromfile(path, dtype=">f8", count=hi - lo, offset=val_off + 8 * lo).astype(np.float64)
        rows = np.searchsorted(indptr, np.arange(lo, hi), side="right") - 1
        _check_entries(path, rows, cols, vals, ncols)
        if s is not None:
            vals = vals * s[rows] * s[cols]
        np.add.at(rowsum, rows, np.abs(vals))
        on = rows == cols
        diag[rows[on]] += vals[on]
    return MatrixSummary(shape=(nrows, ncols), nnz=nnz, diagonal=diag, row_abs_sum=rowsum)


def read_sidecar(path: str | os.PathLike) -> dict:
    """The sidecar of the Hessian ``path``, checked: JSON, fields, format, sizes (natoms > 0)."""
    path = Path(path)
    side = sidecar_path(path)
    if not side.is_file():
        raise HessianFileError(f"{path}: sidecar {side} is missing")
    try:
        meta = json.loads(side.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HessianFileError(f"{side}: corrupt JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise HessianFileError(f"{side}: not a JSON object")
    missing = [k for k in SIDECAR_KEYS if k not in meta]
    if missing:
        raise HessianFileError(f"{side}: missing fields {missing}")
    try:
        version = int(meta["format_version"])
        d, n, ndof = int(meta["dimension"]), int(meta["natoms"]), int(meta["ndof"])
    except (TypeError, ValueError) as exc:
        raise HessianFileError(f"{side}: a size field is not an integer ({exc})") from None
    if meta["format"] != FORMAT_NAME or version > FORMAT_VERSION or version < 1:
        raise HessianFileError(
            f"{side}: format {meta['format']!r} v{meta['format_version']}, "
            f"this reader knows {FORMAT_NAME!r} up to v{FORMAT_VERSION}"
        )
    if d not in (2, 3):
        raise HessianFileError(f"{side}: dimension {d}, expected 2 or 3")
    if ndof != d * n:
        raise HessianFileError(f"{side}: ndof {ndof} != dimension * natoms")
    if n <= 0:
        raise HessianFileError(f"{side}: the Hessian has {n} atoms (an empty group?)")
    return meta


def check_atoms(atoms: np.ndarray, meta: dict, where) -> None:
    """Atom records against the sidecar: count, ascending IDs, masses finite and > 0, and equal
    to the sidecar's ``type_masses`` unless masses are per atom. Raises HessianFileError."""
    n = int(meta["natoms"])
    if atoms is None or atoms.shape != (n,):
        raise HessianFileError(f"{where}: {None if atoms is None else atoms.shape} atom records, "
                               f"sidecar says {n} atoms")
    if atoms.size > 1 and not np.all(np.diff(atoms["id"]) > 0):
        k = int(np.argmin(np.diff(atoms["id"]) > 0))
        raise HessianFileError(f"{where}: atom IDs are not strictly ascending (record {k + 1}: ID "
                               f"{int(atoms['id'][k + 1])} after {int(atoms['id'][k])})")
    masses = np.asarray(atoms["mass"], dtype=float)
    if not np.all(np.isfinite(masses)) or np.any(masses <= 0):
        bad = int(np.argmin(np.where(np.isfinite(masses), masses, -np.inf)))
        raise HessianFileError(f"{where}: atom {int(atoms['id'][bad])} has mass {masses[bad]}: masses must "
                               "be finite and > 0 (per-atom masses not set, or not known on ghost atoms?)")
    tm = meta.get("type_masses")
    if tm and not meta.get("per_atom_mass", False):
        tm = np.asarray(tm, dtype=float)
        types = np.asarray(atoms["type"], dtype=int)
        if types.min() < 1 or types.max() > tm.size:
            raise HessianFileError(f"{where}: atom types {types.min()}..{types.max()} outside the sidecar's "
                                   f"{tm.size} types")
        expect = tm[types - 1]
        if not np.allclose(expect, masses, rtol=1e-12, atol=0):
            k = int(np.argmax(np.abs(expect - masses)))
            raise HessianFileError(
                f"{where}: atom {int(atoms['id'][k])} (type {types[k]}) has mass {masses[k]} in the atoms "
                f"file but the sidecar's type_masses say {expect[k]}"
            )


def read_atoms(path: str | os.PathLike, meta: dict, raw: bytes | None = None) -> np.ndarray:
    """The checked atoms file of the Hessian ``path`` (see :func:`check_atoms`); ``raw``: its
    content if the caller has read it already."""
    import io

    apath = atoms_path(path)
    if raw is None:
        if not apath.is_file():
            raise HessianFileError(f"{path}: atoms file {apath} is missing")
        raw = apath.read_bytes()
    try:
        atoms = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise HessianFileError(f"{apath}: corrupt or truncated ({exc})") from None
    if atoms.dtype != ATOMS_DTYPE or atoms.shape != (int(meta["natoms"]),):
        raise HessianFileError(
            f"{apath}: {atoms.shape} records of {atoms.dtype}, expected ({meta['natoms']},) of {ATOMS_DTYPE}"
        )
    check_atoms(atoms, meta, apath)
    return atoms


def check_file_set(path: str | os.PathLike, meta: dict, matrix_raw: bytes | None = None,
                   atoms_raw: bytes | None = None) -> None:
    """The matrix and atoms files against the sizes and CRC-32 their sidecar records (if any);
    with ``matrix_raw`` / ``atoms_raw`` (the contents as read) the check is on those bytes."""
    path = Path(path)
    for p in (path, atoms_path(path)):
        if not p.is_file():
            raise HessianFileError(f"{path}: {'atoms file ' if p != path else ''}{p} is missing")
    files = {"matrix": path if matrix_raw is None else (path, matrix_raw),
             "atoms": atoms_path(path) if atoms_raw is None else (atoms_path(path), atoms_raw)}
    check_companions(sidecar_path(path), meta, files, error=HessianFileError)
    report_stale_temporaries(path)


def read_hessian(path: str | os.PathLike) -> Hessian:
    """Read a Hessian written by the plugin (or by :func:`write_hessian`) and check it.

    Checks (raising HessianFileError that names the file and the problem): the sidecar (JSON,
    fields, format, sizes), the matrix (header, size, row lengths, column range, finite values,
    shape and nonzeros against the sidecar), the atoms (see :func:`check_atoms`), then the
    companions' sizes and CRC-32 recorded in the sidecar (a set mixed from two writes, a flipped
    bit). Each file is read once: the checksums are those of the bytes parsed.
    """
    path = Path(path)
    meta = read_sidecar(path)
    for p in (path, atoms_path(path)):
        if not p.is_file():
            raise HessianFileError(f"{path}: {'atoms file ' if p != path else ''}{p} is missing")
    matrix_raw, atoms_raw = path.read_bytes(), atoms_path(path).read_bytes()
    matrix = parse_petsc_aij(path, matrix_raw)
    ndof = int(meta["ndof"])
    if matrix.shape != (ndof, ndof):
        raise HessianFileError(f"{path}: matrix is {matrix.shape}, sidecar says ndof = {ndof}")
    if matrix.nnz != int(meta["nnz"]):
        raise HessianFileError(f"{path}: {matrix.nnz} nonzeros, sidecar says {meta['nnz']}")
    atoms = read_atoms(path, meta, atoms_raw)
    check_file_set(path, meta, matrix_raw, atoms_raw)  # after the structural checks (their messages say more)
    return Hessian(matrix=matrix, meta=meta, atoms=atoms)


def validate_hessian_files(path: str | os.PathLike, chunk: int = 1 << 22):
    """The checks of :func:`read_hessian` without holding the matrix: ``(meta, atoms, summary)``.

    ``summary`` (:class:`MatrixSummary`) has the dynamical matrix's diagonal and row sums
    for the spectrum sanity checks. Used by the slepc backend on one rank before PETSc loads
    the file in parallel.
    """
    path = Path(path)
    meta = read_sidecar(path)
    atoms = read_atoms(path, meta)
    masses = None if meta["mass_weighted"] else np.repeat(atoms["mass"].astype(float), int(meta["dimension"]))
    summary = scan_petsc_aij(path, masses, chunk=chunk)
    ndof = int(meta["ndof"])
    if summary.shape != (ndof, ndof):
        raise HessianFileError(f"{path}: matrix is {summary.shape}, sidecar says ndof = {ndof}")
    if summary.nnz != int(meta["nnz"]):
        raise HessianFileError(f"{path}: {summary.nnz} nonzeros, sidecar says {meta['nnz']}")
    check_file_set(path, meta)
    return meta, atoms, summary


def write_petsc_aij(path: str | os.PathLike, matrix: sp.spmatrix) -> None:
    """Write a matrix in PETSc's binary AIJ format (atomically)."""
    with atomic_output(path) as tmp:
        _write_petsc_aij_to(tmp, matrix)


def _write_petsc_aij_to(path, matrix) -> None:
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    nrows, ncols = m.shape
    with open(path, "wb") as f:
        np.array([PETSC_MAT_CLASSID, nrows, ncols, m.nnz], dtype=">i4").tofile(f)
        np.diff(m.indptr).astype(">i4").tofile(f)
        m.indices.astype(">i4").tofile(f)
        m.data.astype(">f8").tofile(f)


def write_hessian(path: str | os.PathLike, matrix: sp.spmatrix, meta: dict, atoms: np.ndarray) -> None:
    """Write the three files of a Hessian from Python (same format as the plugin).

    ``meta`` must hold at least ``natoms``, ``dimension``, ``units``, ``mass_weighted``,
    ``method`` and ``box``; the format fields, ``ndof``, ``nnz`` and versions are filled in.
    """
    from glassmodes import __version__

    m = sp.csr_matrix(matrix)
    full = dict(meta)
    full.update(
        format=FORMAT_NAME, format_version=FORMAT_VERSION, ndof=m.shape[0], nnz=int(m.nnz),
        glassmodes_version=__version__,
    )
    full.setdefault("lammps_version", None)
    missing = [k for k in SIDECAR_KEYS if k not in full]
    if missing:
        raise ValueError(f"write_hessian: meta lacks {missing}")
    atoms = np.asarray(atoms, dtype=ATOMS_DTYPE)
    names = {"matrix": path, "atoms": atoms_path(path), "sidecar": sidecar_path(path)}
    with atomic_file_set(names) as tmp:
        _write_petsc_aij_to(tmp["matrix"], m)
        with open(tmp["atoms"], "wb") as f:
            np.save(f, atoms)
        full[COMPANIONS_KEY] = {role: companion_record(tmp[role], Path(names[role]).name)
                                for role in ("matrix", "atoms")}
        tmp["sidecar"].write_text(json.dumps(full, indent=1))


def load_petsc_mat(path: str | os.PathLike, comm=None):
    """Load the matrix as a distributed ``petsc4py.PETSc.Mat`` (MPIAIJ over ``comm``).

    Each rank reads its own block of rows; the sidecar is checked on every rank.
    ``comm=None`` loads the whole matrix on this process alone (PETSc.COMM_SELF).
    """
    from petsc4py import PETSc

    comm = comm if comm is not None else PETSc.COMM_SELF
    meta = json.loads(sidecar_path(path).read_text())
    viewer = PETSc.Viewer().createBinary(os.fspath(path), mode="r", comm=comm)
    mat = PETSc.Mat().create(comm=comm)
    mat.setType(PETSc.Mat.Type.AIJ)
    mat.load(viewer)
    viewer.destroy()
    if mat.getSize() != (int(meta["ndof"]), int(meta["ndof"])):
        raise HessianFileError(f"{path}: PETSc matrix size {mat.getSize()} disagrees with sidecar ndof")
    return mat, meta
