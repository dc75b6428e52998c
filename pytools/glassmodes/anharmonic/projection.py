"""The mode-projection file read by the plugin's ``compute mode/energy``, and the projection itself.

The file carries what ``compute mode/energy`` needs to project a running simulation onto a set of
eigenmodes: the inherent-structure (IS) positions, masses, the selected mass-weighted eigenvectors
and their frequencies, by atom ID. It is a plain little-endian binary file that C++ reads with
``fread`` (HDF5 is not available to the plugin):

======================  ==========================================================================
header (176 bytes)      ``char magic[8] = "GMMODEP1"``, ``int32 endian = 0x01020304``,
                        ``int32 version = 1``, ``int32 dimension``, ``int32 triclinic``,
                        ``int64 natoms``, ``int64 nmodes``, ``char units[16]`` (LAMMPS unit style,
                        NUL padded), ``float64 boxlo[3], boxhi[3], tilt[3]`` (xy, xz, yz),
                        ``int32 periodicity[3]``, ``int32 reserved``, ``float64 reserved[4]``
omega                   ``float64[nmodes]``: angular frequencies (rad per time unit)
mode_index              ``int64[nmodes]``: the modes' indices in the mode file
atoms                   ``natoms`` records in ascending ID, each ``int64 id, int32 type, int32 pad,
                        float64 mass, float64 x[3]`` (IS position, distance units), then
                        ``float64 e[nmodes][3]`` (the atom's components of each eigenvector,
                        mass-weighted, unit-norm vectors)
trailer                 ``char end[8] = "GMMODEND"``
======================  ==========================================================================

Projection (Mizuno et al. (2020), Eq. (8)): ``A_k = sum_i sqrt(m_i) e_k,i . (r_i - r_IS,i)`` with the
displacement taken as the minimum image (vibrations are far smaller than half the box),
``dA_k/dt = sum_i sqrt(m_i) e_k,i . v_i``, ``E_k = mvv2e (w_k^2 A_k^2 + (dA_k/dt)^2) / 2``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from glassmodes.io.atomic import atomic_output

MAGIC = b"GMMODEP1"
END = b"GMMODEND"
VERSION = 1
HEADER_DTYPE = np.dtype([
    ("magic", "S8"), ("endian", "<i4"), ("version", "<i4"), ("dimension", "<i4"), ("triclinic", "<i4"),
    ("natoms", "<i8"), ("nmodes", "<i8"), ("units", "S16"), ("boxlo", "<f8", (3,)), ("boxhi", "<f8", (3,)),
    ("tilt", "<f8", (3,)), ("periodicity", "<i4", (3,)), ("reserved_i", "<i4"), ("reserved", "<f8", (4,)),
])


# LAMMPS' force->mvv2e per unit style (kinetic energy = mvv2e * m v^2 / 2)
MVV2E = {"lj": 1.0, "real": 48.88821291 * 48.88821291, "metal": 1.0364269e-4, "si": 1.0, "cgs": 1.0,
         "electron": 1.06657236, "micro": 1.0, "nano": 1.0}


class ProjectionFileError(ValueError):
    """Not a mode-projection file, truncated, or inconsistent."""


def atom_dtype(nmodes: int) -> np.dtype:
    return np.dtype([("id", "<i8"), ("type", "<i4"), ("pad", "<i4"), ("mass", "<f8"), ("x", "<f8", (3,)),
                     ("e", "<f8", (nmodes, 3))])


@dataclass(frozen=True, eq=False)
class ModeProjection:
    """Contents of a mode-projection file.

    Attributes
    ----------
    omega : ndarray, shape=(K,)
        rad per time unit.
    mode_index : ndarray of int, shape=(K,)
    ids, types : ndarray, shape=(N,)
    masses : ndarray, shape=(N,)
    x_is : ndarray, shape=(N, 3)
        Inherent-structure positions (distance units).
    vectors : ndarray, shape=(N, K, 3)
        Mass-weighted eigenvector components per atom.
    units : str
    dimension : int
    box : dict
        ``boxlo``, ``boxhi``, ``xy``, ``xz``, ``yz``, ``triclinic``, ``periodicity``.
    """

    omega: np.ndarray
    mode_index: np.ndarray
    ids: np.ndarray
    types: np.ndarray
    masses: np.ndarray
    x_is: np.ndarray
    vectors: np.ndarray
    units: str
    dimension: int
    box: dict

    @property
    def nmodes(self) -> int:
        return int(self.omega.size)


def write_mode_projection(modes, path: str | os.PathLike, indices=None) -> None:
    """Write the projection file of ``modes`` (a :class:`glassmodes.modes.Modes` or mode-file path).

    Parameters
    ----------
    indices : array of int, optional
        Modes to include (indices into the mode set); default all with a stored eigenvector.
    """
    from glassmodes.modes import ModeFile, Modes

    if isinstance(modes, Modes):
        if modes.vectors is None:
            raise ProjectionFileError("these modes carry no eigenvectors")
        idx = np.arange(modes.nmodes) if indices is None else np.asarray(indices, dtype=np.int64)
        if idx.size == 0 or idx.min() < 0 or idx.max() >= modes.nmodes:
            raise ProjectionFileError(f"mode indices must be non-empty and lie in [0, {modes.nmodes})")
        vec = modes.vectors[:, idx]
        omega, atoms, meta, units, d = modes.omega[idx], modes.atoms, modes.meta, modes.units, modes.dimension
        box = meta.get("box") or {}
    else:
        with ModeFile(modes) as mf:
            idx = mf.vector_index if indices is None else np.asarray(indices, dtype=np.int64)
            if idx.size == 0:
                raise ProjectionFileError(f"{modes}: no eigenvector selected")
            vec = mf.vectors(idx)
            omega, atoms, units, d, box = mf.frequencies[idx], mf.atoms, mf.units, mf.dimension, mf.box
    if atoms is None:
        raise ProjectionFileError("the modes carry no atom records (IDs, masses, positions)")
    n = atoms.size
    K = idx.size
    if np.any(omega <= 0):
        raise ProjectionFileError(f"modes {idx[omega <= 0][:5].tolist()} have omega <= 0: no vibrational energy")
    order = np.argsort(atoms["id"], kind="stable")
    if not np.array_equal(order, np.arange(n)):
        raise ProjectionFileError("the atom records are not in ascending ID order (as mode files keep them)")
    h = np.zeros(1, dtype=HEADER_DTYPE)
    h["magic"] = MAGIC
    h["endian"] = 0x01020304
    h["version"] = VERSION
    h["dimension"] = d
    h["triclinic"] = int(bool(box.get("triclinic", False)))
    h["natoms"] = n
    h["nmodes"] = K
    h["units"] = units.encode()
    h["boxlo"] = box.get("boxlo", [0, 0, 0])
    h["boxhi"] = box.get("boxhi", [0, 0, 0])
    h["tilt"] = [box.get("xy", 0.0), box.get("xz", 0.0), box.get("yz", 0.0)]
    h["periodicity"] = box.get("periodicity", [1, 1, 1])
    rec = np.zeros(n, dtype=atom_dtype(K))
    rec["id"] = atoms["id"]
    rec["type"] = atoms["type"]
    rec["mass"] = atoms["mass"]
    rec["x"] = atoms["x"]
    e = np.zeros((n, K, 3))
    e[:, :, :d] = vec.reshape(n, d, K).transpose(0, 2, 1)
    rec["e"] = e
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(h.tobytes())
            f.write(np.asarray(omega, dtype="<f8").tobytes())
            f.write(np.asarray(idx, dtype="<i8").tobytes())
            f.write(rec.tobytes())
            f.write(END)


def read_mode_projection(path: str | os.PathLike) -> ModeProjection:
    """Read a projection file (checks magic, version, size and trailer)."""
    raw = open(path, "rb").read()
    if len(raw) < HEADER_DTYPE.itemsize or raw[:8] != MAGIC:
        raise ProjectionFileError(f"{path}: not a glassmodes mode-projection file")
    h = np.frombuffer(raw[:HEADER_DTYPE.itemsize], dtype=HEADER_DTYPE)[0]
    if int(h["endian"]) != 0x01020304 or int(h["version"]) != VERSION:
        raise ProjectionFileError(f"{path}: version {int(h['version'])} / byte order not readable here")
    n, K = int(h["natoms"]), int(h["nmodes"])
    ad = atom_dtype(K)
    expected = HEADER_DTYPE.itemsize + 16 * K + n * ad.itemsize + len(END)
    if len(raw) != expected or raw[-8:] != END:
        raise ProjectionFileError(f"{path}: {len(raw)} bytes, expected {expected} (truncated or corrupt)")
    off = HEADER_DTYPE.itemsize
    omega = np.frombuffer(raw, "<f8", K, off).copy()
    idx = np.frombuffer(raw, "<i8", K, off + 8 * K).copy()
    rec = np.frombuffer(raw, ad, n, off + 16 * K)
    tilt = h["tilt"]
    box = {"boxlo": h["boxlo"].tolist(), "boxhi": h["boxhi"].tolist(), "xy": float(tilt[0]), "xz": float(tilt[1]),
           "yz": float(tilt[2]), "triclinic": bool(h["triclinic"]), "periodicity": h["periodicity"].tolist()}
    return ModeProjection(omega=omega, mode_index=idx, ids=rec["id"].copy(), types=rec["type"].copy(),
                          masses=rec["mass"].copy(), x_is=rec["x"].copy(), vectors=rec["e"].copy(),
                          units=h["units"].decode().rstrip("\0"), dimension=int(h["dimension"]), box=box)


def _minimum_image(dx: np.ndarray, box: dict) -> np.ndarray:
    """Minimum image of displacements (N, 3) in a (possibly triclinic) periodic box."""
    lo, hi = np.asarray(box["boxlo"], float), np.asarray(box["boxhi"], float)
    L = hi - lo
    h = np.array([[L[0], box.get("xy", 0.0), box.get("xz", 0.0)], [0, L[1], box.get("yz", 0.0)], [0, 0, L[2]]])
    per = np.asarray(box.get("periodicity", [1, 1, 1]), dtype=bool)
    s = np.linalg.solve(h, dx.T).T
    s[:, per] -= np.round(s[:, per])
    return s @ h.T


def mode_amplitudes(proj: ModeProjection, ids, x, v):
    """``(A_k, dA_k/dt)`` of one configuration, each shape=(K,).

    ``ids`` (N,), ``x`` (N, 3) positions (wrapped or not), ``v`` (N, 3) velocities, any order.
    """
    ids = np.asarray(ids)
    order = np.argsort(ids)
    if not np.array_equal(ids[order], proj.ids):
        raise ProjectionFileError("the configuration's atom IDs differ from the projection file's")
    x = np.asarray(x, float)[order]
    v = np.asarray(v, float)[order]
    dx = _minimum_image(x - proj.x_is, proj.box)
    sm = np.sqrt(proj.masses)[:, None]
    A = np.einsum("nkd,nd->k", proj.vectors, sm * dx)
    Ad = np.einsum("nkd,nd->k", proj.vectors, sm * v)
    return A, Ad


def mode_energies(proj: ModeProjection, ids, x, v) -> np.ndarray:
    """``E_k = mvv2e (w_k^2 A_k^2 + (dA_k/dt)^2) / 2`` (energy units), shape=(K,) (Mizuno et al. (2020), Eq. (8))."""
    A, Ad = mode_amplitudes(proj, ids, x, v)
    return 0.5 * MVV2E.get(proj.units, 1.0) * (proj.omega**2 * A**2 + Ad**2)
