"""The third-order force-constant files written by the plugin's ``write_fc3`` / ``fix fc3/write``.

Three files share a stem ``F`` (the name the caller gave), like the Hessian's:

``F``
    A NumPy ``.npy`` file (whatever its name) holding a 1-d structured array, read with
    ``numpy.load(F, mmap_mode='r')`` without copying. Two storages (sidecar ``storage``):

    ``pair-derivatives`` (method analytic, pair potentials): one record per interacting pair,
    dtype ``[('i','<i8'), ('j','<i8'), ('r','<f8',(3,)), ('dphi','<f8',(order,))]``:
    ``i`` the atom index of the pair's atom inside the group (the smaller index when both are),
    ``j`` the other atom's index or -1 when it is outside the group (held fixed),
    ``r = x_j - x_i`` (distance; z = 0 in 2D), ``dphi = [phi', phi'', phi'''(, phi'''')]``
    (energy/distance^k). Sorted by (i, j, r).

    ``blocks`` (method fd, any force field): one record per ordered atom triple,
    dtype ``[('i','<i8'), ('j','<i8'), ('k','<i8'), ('v','<f8',(d,d,d))]`` with
    ``v[a,b,c] = Phi3(i_a, j_b, k_c)``; every permutation of a triple is stored. Sorted by (i,j,k).
``F.json``
    The sidecar (see ``SIDECAR_KEYS``; docs/fc3.md lists every field).
``F.atoms.npy``
    The atoms file of the Hessian (``glassmodes.io.hessian.ATOMS_DTYPE``), in index order.

Atom index k is the atom with the k-th smallest ID of the group, the Hessian's convention.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from glassmodes.io.atomic import check_companions, report_stale_temporaries
from glassmodes.io.hessian import ATOMS_DTYPE

FORMAT_NAME = "glassmodes-fc3"
FORMAT_VERSION = 1
STORAGES = ("pair-derivatives", "blocks")
SIDECAR_KEYS = (
    "format", "format_version", "storage", "data_file", "atoms_file", "natoms", "dimension",
    "ndof", "nrecords", "nnz", "order", "units", "mass_weighted", "values_mass_weighted", "method",
    "box", "lammps_version", "glassmodes_version",
)


class Fc3FileError(ValueError):
    """A force-constant file is missing, truncated, corrupt, or disagrees with its sidecar."""


def pair_dtype(order: int) -> np.dtype:
    """Record dtype of the ``pair-derivatives`` storage for ``order`` 3 or 4."""
    return np.dtype([("i", "<i8"), ("j", "<i8"), ("r", "<f8", (3,)), ("dphi", "<f8", (order,))])


def block_dtype(dimension: int) -> np.dtype:
    """Record dtype of the ``blocks`` storage in ``dimension`` 2 or 3."""
    d = dimension
    return np.dtype([("i", "<i8"), ("j", "<i8"), ("k", "<i8"), ("v", "<f8", (d, d, d))])


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(path)}.json")


def atoms_path(path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(path)}.atoms.npy")


def read_sidecar(path: str | os.PathLike) -> dict:
    """The checked sidecar of ``path``; raises Fc3FileError naming the problem."""
    side = sidecar_path(path)
    if not side.is_file():
        raise Fc3FileError(f"{path}: sidecar {side} is missing")
    try:
        meta = json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise Fc3FileError(f"{side}: corrupt JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise Fc3FileError(f"{side}: not a JSON object")
    if meta.get("format") != FORMAT_NAME:
        raise Fc3FileError(f"{side}: format {meta.get('format')!r}, expected {FORMAT_NAME!r}")
    missing = [k for k in SIDECAR_KEYS if k not in meta]
    if missing:
        raise Fc3FileError(f"{side}: missing fields {missing}")
    if int(meta["format_version"]) > FORMAT_VERSION:
        raise Fc3FileError(
            f"{side}: format version {meta['format_version']}, this reader knows up to {FORMAT_VERSION}"
        )
    if meta["storage"] not in STORAGES:
        raise Fc3FileError(f"{side}: storage {meta['storage']!r}, expected one of {STORAGES}")
    d, n = int(meta["dimension"]), int(meta["natoms"])
    if d not in (2, 3):
        raise Fc3FileError(f"{side}: dimension {d}")
    if int(meta["ndof"]) != d * n:
        raise Fc3FileError(f"{side}: ndof {meta['ndof']} != dimension * natoms = {d * n}")
    if int(meta["order"]) not in (3, 4) or (meta["storage"] == "blocks" and int(meta["order"]) != 3):
        raise Fc3FileError(f"{side}: order {meta['order']} impossible for storage {meta['storage']}")
    return meta


def open_records(path: str | os.PathLike, meta: dict) -> np.ndarray:
    """Memory-map the records of ``path`` and check them against the sidecar (no copy)."""
    path = Path(path)
    if not path.is_file():
        raise Fc3FileError(f"{path}: no such file")
    try:
        records = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise Fc3FileError(f"{path}: not a readable .npy file, truncated or corrupt ({exc})") from None
    if meta["storage"] == "pair-derivatives":
        expected = pair_dtype(int(meta["order"]))
    else:
        expected = block_dtype(int(meta["dimension"]))
    if records.dtype != expected or records.ndim != 1:
        raise Fc3FileError(
            f"{path}: records of {records.dtype} shape {records.shape}, the sidecar's "
            f"{meta['storage']} storage needs 1-d {expected}"
        )
    if records.shape[0] != int(meta["nrecords"]):
        raise Fc3FileError(f"{path}: {records.shape[0]} records, sidecar says {meta['nrecords']}")
    header = path.stat().st_size - records.shape[0] * expected.itemsize
    if header < 0 or header > 65536 + 10:
        raise Fc3FileError(f"{path}: file size does not match {records.shape[0]} records (truncated?)")
    return records


def check_indices(path, records: np.ndarray, meta: dict) -> None:
    """Index ranges of (a slice of) the records: every atom index in [0, natoms), j = -1 allowed
    for outside atoms in the pair storage. O(records)."""
    n = int(meta["natoms"])
    if records.size == 0:
        return
    if meta["storage"] == "pair-derivatives":
        i, j = records["i"], records["j"]
        if i.min() < 0 or i.max() >= n or j.min() < -1 or j.max() >= n:
            raise Fc3FileError(f"{path}: atom index out of range [0, {n}) (corrupt or mismatched sidecar)")
        if np.any((j >= 0) & (j <= i)):
            raise Fc3FileError(f"{path}: a pair record with j <= i (corrupt)")
        if not np.all(np.isfinite(records["r"])) or not np.all(np.isfinite(records["dphi"])):
            raise Fc3FileError(f"{path}: non-finite values")
    else:
        for key in ("i", "j", "k"):
            a = records[key]
            if a.min() < 0 or a.max() >= n:
                raise Fc3FileError(f"{path}: atom index {key} out of range [0, {n})")
        if not np.all(np.isfinite(records["v"])):
            raise Fc3FileError(f"{path}: non-finite values")


def read_atoms(path: str | os.PathLike, meta: dict) -> np.ndarray:
    apath = atoms_path(path)
    if not apath.is_file():
        raise Fc3FileError(f"{path}: atoms file {apath} is missing")
    try:
        atoms = np.load(apath, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise Fc3FileError(f"{apath}: corrupt ({exc})") from None
    if atoms.dtype != ATOMS_DTYPE or atoms.shape != (int(meta["natoms"]),):
        raise Fc3FileError(
            f"{apath}: {atoms.shape} records of {atoms.dtype}, expected ({meta['natoms']},) of {ATOMS_DTYPE}"
        )
    if atoms.size > 1 and not np.all(np.diff(atoms["id"]) > 0):
        raise Fc3FileError(f"{apath}: atom IDs are not strictly ascending")
    if np.any(atoms["mass"] <= 0):
        raise Fc3FileError(f"{apath}: non-positive masses")
    return atoms


def check_file_set(path: str | os.PathLike, meta: dict) -> None:
    """The data and atoms files against the sizes and CRC-32 their sidecar records (written by
    the plugin since companions were added; older sidecars have none and pass)."""
    path = Path(path)
    for p in (path, atoms_path(path)):
        if not p.is_file():
            raise Fc3FileError(f"{path}: {'atoms file ' if p != path else ''}{p} is missing")
    check_companions(sidecar_path(path), meta, {"data": path, "atoms": atoms_path(path)}, error=Fc3FileError)
    report_stale_temporaries(path)
