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

from glassmodes.io.atomic import atomic_output

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


def read_petsc_aij(path: str | os.PathLike) -> sp.csr_matrix:
    """Read a PETSc binary AIJ matrix (big-endian, int32 indices, float64 values) into CSR.

    Raises HessianFileError when the file is not such a matrix or is truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise HessianFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size < 16:
        raise HessianFileError(f"{path}: {size} bytes, too short for a PETSc matrix header")
    with open(path, "rb") as f:
        header = np.fromfile(f, dtype=">i4", count=4)
        classid, nrows, ncols, nnz = (int(v) for v in header)
        if classid != PETSC_MAT_CLASSID:
            raise HessianFileError(
                f"{path}: not a PETSc binary matrix (class id {classid}, expected {PETSC_MAT_CLASSID})"
            )
        expected = 16 + 4 * nrows + 4 * nnz + 8 * nnz
        if size != expected:
            raise HessianFileError(
                f"{path}: {size} bytes, expected {expected} for a {nrows}x{ncols} matrix with "
                f"{nnz} nonzeros (truncated or written with other index/scalar sizes)"
            )
        rowlen = np.fromfile(f, dtype=">i4", count=nrows).astype(np.int64)
        cols = np.fromfile(f, dtype=">i4", count=nnz).astype(np.int32)
        vals = np.fromfile(f, dtype=">f8", count=nnz).astype(np.float64)
    if rowlen.sum() != nnz or (rowlen < 0).any():
        raise HessianFileError(f"{path}: row lengths add up to {rowlen.sum()}, header says {nnz}")
    if nnz and (cols.min() < 0 or cols.max() >= ncols):
        raise HessianFileError(f"{path}: column index out of range [0, {ncols})")
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(rowlen, out=indptr[1:])
    return sp.csr_matrix((vals, cols, indptr), shape=(nrows, ncols))


def read_hessian(path: str | os.PathLike) -> Hessian:
    """Read a Hessian written by the plugin (or by :func:`write_hessian`) and check it.

    The sidecar must exist and agree with the matrix (shape, nonzeros) and the atoms file.
    """
    path = Path(path)
    side = sidecar_path(path)
    if not side.is_file():
        raise HessianFileError(f"{path}: sidecar {side} is missing")
    try:
        meta = json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise HessianFileError(f"{side}: corrupt JSON ({exc})") from None
    missing = [k for k in SIDECAR_KEYS if k not in meta]
    if missing:
        raise HessianFileError(f"{side}: missing fields {missing}")
    if meta["format"] != FORMAT_NAME or int(meta["format_version"]) > FORMAT_VERSION:
        raise HessianFileError(
            f"{side}: format {meta['format']!r} v{meta['format_version']}, "
            f"this reader knows {FORMAT_NAME!r} up to v{FORMAT_VERSION}"
        )
    matrix = read_petsc_aij(path)
    ndof = int(meta["ndof"])
    if matrix.shape != (ndof, ndof):
        raise HessianFileError(f"{path}: matrix is {matrix.shape}, sidecar says ndof = {ndof}")
    if matrix.nnz != int(meta["nnz"]):
        raise HessianFileError(f"{path}: {matrix.nnz} nonzeros, sidecar says {meta['nnz']}")
    if ndof != int(meta["dimension"]) * int(meta["natoms"]):
        raise HessianFileError(f"{side}: ndof {ndof} != dimension * natoms")
    apath = atoms_path(path)
    if not apath.is_file():
        raise HessianFileError(f"{path}: atoms file {apath} is missing")
    try:
        atoms = np.load(apath, mmap_mode=None, allow_pickle=False)
    except ValueError as exc:
        raise HessianFileError(f"{apath}: corrupt ({exc})") from None
    if atoms.dtype != ATOMS_DTYPE or atoms.shape != (int(meta["natoms"]),):
        raise HessianFileError(
            f"{apath}: {atoms.shape} records of {atoms.dtype}, expected ({meta['natoms']},) of {ATOMS_DTYPE}"
        )
    if atoms.size > 1 and not np.all(np.diff(atoms["id"]) > 0):
        raise HessianFileError(f"{apath}: atom IDs are not strictly ascending")
    return Hessian(matrix=matrix, meta=meta, atoms=atoms)


def write_petsc_aij(path: str | os.PathLike, matrix: sp.spmatrix) -> None:
    """Write a matrix in PETSc's binary AIJ format (atomically)."""
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    nrows, ncols = m.shape
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
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
    write_petsc_aij(path, m)
    with atomic_output(atoms_path(path)) as tmp, open(tmp, "wb") as f:
        np.save(f, atoms)
    with atomic_output(sidecar_path(path)) as tmp:
        tmp.write_text(json.dumps(full, indent=1))


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
