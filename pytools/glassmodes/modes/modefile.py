"""The mode file: frequencies, eigenvectors and participation ratios in HDF5.

Layout (format ``glassmodes-modes``, version 1); the caller picks the file name (``.h5``):

``/`` attributes
    ``format`` = "glassmodes-modes", ``format_version`` = 1, ``glassmodes_version``,
    ``units`` (LAMMPS unit style), ``omega_unit`` (e.g. "rad/tau", "rad/ps"),
    ``eigenvalue_unit`` (e.g. "energy/(distance^2*mass) [metal]"), ``ftm2v``
    (omega^2 = eigenvalue * ftm2v), ``dimension``, ``natoms``, ``ndof``, ``nmodes``,
    ``vectors`` ("mass-weighted, unit norm"), ``pr_definition``, ``hessian_sidecar``
    (the Hessian's JSON sidecar, verbatim), ``source`` (Hessian path if known).
``/frequencies``  float64 (nmodes,)
    Angular frequencies omega, ascending, attribute ``units``; ``sign(l) sqrt(|l| ftm2v)``.
``/eigenvalues``  float64 (nmodes,)
    omega^2 / ftm2v in the matrix's units, attribute ``units``.
``/participation_ratio``  float64 (nmodes,)
    ``e = (sum_i |e_i|^2)^2 / (N sum_i |e_i|^4)`` on the mass-weighted eigenvectors
    (:mod:`glassmodes.analysis.participation`), for a mode of a degenerate level the level's
    basis-independent value (:mod:`glassmodes.analysis.degenerate`); NaN where the vector was
    not available.
``/eigenvectors``  float64 (nvec, ndof), chunks (1, ndof)
    One row per stored mode (one HDF5 chunk per mode: a mode is read alone), mass-weighted,
    unit 2-norm, component ``d*k + alpha`` for atom ``k`` (ascending atom ID); absent when no
    vector is stored.
``/eigenvector_index``  int64 (nvec,)
    Which modes (indices into ``/frequencies``) the rows of ``/eigenvectors`` are.
``/atoms/{id, type, mass, x, image}``  (N,), (N,), (N,), (N, 3), (N, 3)
    From the Hessian's atoms file; ``x`` the positions (distance units), ``mass`` mass units.
``/box``  attributes ``boxlo``, ``boxhi``, ``xy``, ``xz``, ``yz``, ``triclinic``, ``periodicity``
``/solver``  attributes ``backend``, ``method``, ``tol``, ``zero_tol``, ``scale``,
    ``iterations``, ``seconds``, ``complete_below`` (eigenvalue units), ``options`` (JSON),
    ``notes`` (JSON list), ``zero_mode_count``, ``zero_mode_max_abs_eigenvalue``,
    ``translation_residual``, ``extra_zero_modes``; dataset ``residual_norms`` (nmodes,) with
    ``|D v - lambda v| / scale``.

The file is written under a temporary name and renamed at the end (no partial file on failure).
Every non-empty dataset carries HDF5's Fletcher-32 checksum filter (per chunk; files written
before it are read as they are): a flipped bit in stored data raises :class:`ModeFileError`
naming the dataset instead of returning a wrong number.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from glassmodes.io.atomic import atomic_output, checksummed
from glassmodes.io.hessian import ATOMS_DTYPE
from glassmodes.modes.core import Modes, SolverInfo, ZeroModes, unit_factor

FORMAT_NAME = "glassmodes-modes"
FORMAT_VERSION = 1
PR_DEFINITION = ("e = (sum_i w_i)^2 / (N sum_i w_i^2), w_i = mean over the mode's degenerate level (relative "
                 "eigenvalue gaps <= 1e-8) of |e_i|^2, e_i the d components of atom i of the mass-weighted unit "
                 "eigenvector (for a non-degenerate mode: (sum_i |e_i|^2)^2 / (N sum_i |e_i|^4))")


class ModeFileError(ValueError):
    """Not a glassmodes mode file, an unknown version, or a mode not stored."""


def _selection(vectors, nmodes: int) -> np.ndarray:
    if vectors is None or (isinstance(vectors, str) and vectors == "none"):
        return np.zeros(0, dtype=np.int64)
    if isinstance(vectors, str):
        if vectors == "all":
            return np.arange(nmodes, dtype=np.int64)
        raise ValueError(f"vectors must be 'all', 'none', an int or indices, got {vectors!r}")
    if isinstance(vectors, (int, np.integer)):
        return np.arange(min(int(vectors), nmodes), dtype=np.int64)
    idx = np.unique(np.asarray(vectors, dtype=np.int64))
    if idx.size and (idx[0] < 0 or idx[-1] >= nmodes):
        raise ValueError(f"vector indices must lie in [0, {nmodes})")
    return idx


def write_modes(path: str | os.PathLike, modes: Modes, vectors="all", participation=None,
                source: str | None = None) -> None:
    """Write a mode file (layout in the module docs), atomically.

    Parameters
    ----------
    modes : Modes
        From :func:`glassmodes.modes.solve_modes`; ``modes.atoms`` and ``modes.meta`` give the
        atoms, box and units.
    vectors : "all", "none", int or array of int
        Which eigenvectors to store: all, none, the lowest n, or these mode indices.
    participation : ndarray, shape=(nmodes,), optional
        Participation ratios; computed from ``modes.vectors`` when omitted.
    """
    import h5py

    from glassmodes import __version__
    from glassmodes.analysis.degenerate import level_participation_ratio

    nmodes = modes.nmodes
    if participation is None:
        if modes.vectors is not None:
            participation = level_participation_ratio(modes.eigenvalues, modes.vectors, modes.dimension)
        else:
            participation = np.full(nmodes, np.nan)
    participation = np.asarray(participation, dtype=float)
    if participation.shape != (nmodes,):
        raise ValueError(f"participation has shape {participation.shape}, expected ({nmodes},)")
    sel = _selection(vectors, nmodes)
    if sel.size and modes.vectors is None:
        raise ValueError("these modes carry no eigenvectors: write with vectors='none'")
    atoms = modes.atoms
    if atoms is None:
        raise ValueError("modes.atoms is missing: the mode file carries the atoms")
    ndof = modes.dimension * atoms.size
    info = modes.info
    with atomic_output(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            a = f.attrs
            a["format"] = FORMAT_NAME
            a["format_version"] = FORMAT_VERSION
            a["glassmodes_version"] = __version__
            a["units"] = modes.units
            a["omega_unit"] = modes.omega_unit
            a["eigenvalue_unit"] = f"energy/(distance^2*mass) [{modes.units}]"
            a["ftm2v"] = unit_factor(modes.units)
            a["dimension"] = modes.dimension
            a["natoms"] = atoms.size
            a["ndof"] = ndof
            a["nmodes"] = nmodes
            a["vectors"] = "mass-weighted, unit norm"
            a["pr_definition"] = PR_DEFINITION
            a["hessian_sidecar"] = json.dumps(modes.meta, default=str)
            a["source"] = "" if source is None else str(source)
            d = f.create_dataset("frequencies", data=modes.omega, **checksummed(modes.omega))
            d.attrs["units"] = modes.omega_unit
            d.attrs["description"] = "angular frequency, sign(l) sqrt(|l| ftm2v)"
            d = f.create_dataset("eigenvalues", data=modes.eigenvalues, **checksummed(modes.eigenvalues))
            d.attrs["units"] = a["eigenvalue_unit"]
            d = f.create_dataset("participation_ratio", data=participation, **checksummed(participation))
            d.attrs["definition"] = PR_DEFINITION
            f.create_dataset("eigenvector_index", data=sel, **checksummed(sel))
            if sel.size:
                ds = f.create_dataset("eigenvectors", shape=(sel.size, ndof), dtype="f8", chunks=(1, ndof),
                                      fletcher32=True)
                for row, j in enumerate(sel):
                    ds[row, :] = modes.vectors[:, j]
                ds.attrs["layout"] = "one row per mode (index in /eigenvector_index), component d*k+alpha"
            g = f.create_group("atoms")
            for name in ATOMS_DTYPE.names:
                g.create_dataset(name, data=atoms[name], **checksummed(atoms[name]))
            g["x"].attrs["units"] = "distance"
            g["mass"].attrs["units"] = "mass"
            b = f.create_group("box")
            for key, val in (modes.meta.get("box") or {}).items():
                b.attrs[key] = val
            s = f.create_group("solver")
            sa = s.attrs
            for key in ("backend", "method", "tol", "zero_tol", "scale", "iterations", "seconds",
                        "complete_below"):
                sa[key] = getattr(info, key)
            sa["options"] = json.dumps(info.options, default=str)
            sa["notes"] = json.dumps(list(info.notes))
            sa["zero_mode_count"] = info.zero_modes.count
            sa["zero_mode_max_abs_eigenvalue"] = info.zero_modes.max_abs_eigenvalue
            sa["translation_residual"] = info.zero_modes.translation_residual
            sa["extra_zero_modes"] = info.zero_modes.extra
            res = np.asarray(info.residual_norms, dtype=float)
            s.create_dataset("residual_norms", data=res, **checksummed(res))


class ModeFile:
    """Read access to a mode file; one eigenvector at a time without loading the others.

    Use as a context manager (``with ModeFile(path) as mf: v = mf.mode(0)``) or call ``close``.
    """

    def __init__(self, path: str | os.PathLike):
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such mode file")
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as exc:
            raise ModeFileError(f"{self.path}: not an HDF5 file ({exc})") from None
        a = self._f.attrs
        fmt = a.get("format")
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        if fmt != FORMAT_NAME:
            self._f.close()
            raise ModeFileError(f"{self.path}: format {fmt!r}, expected {FORMAT_NAME!r}")
        ver = int(a.get("format_version", -1))
        if ver < 1 or ver > FORMAT_VERSION:
            self._f.close()
            raise ModeFileError(f"{self.path}: format version {ver}, this reader knows 1..{FORMAT_VERSION}")
        idx = self._read("eigenvector_index")
        self._row = {int(j): r for r, j in enumerate(idx)}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._f.close()

    def _read(self, name: str, sel=()):
        """Read dataset ``name`` (or a selection); a failed Fletcher-32 check or other read error
        raises ModeFileError naming the dataset."""
        try:
            return self._f[name][sel]
        except (OSError, RuntimeError) as exc:
            raise ModeFileError(f"{self.path}: dataset /{name} cannot be read: corrupt (checksum "
                                f"mismatch or damaged file: {exc})") from None

    def _attr(self, key):
        v = self._f.attrs[key]
        return v.decode() if isinstance(v, bytes) else v

    @property
    def units(self) -> str:
        return str(self._attr("units"))

    @property
    def omega_unit(self) -> str:
        return str(self._attr("omega_unit"))

    @property
    def dimension(self) -> int:
        return int(self._attr("dimension"))

    @property
    def natoms(self) -> int:
        return int(self._attr("natoms"))

    @property
    def nmodes(self) -> int:
        return int(self._attr("nmodes"))

    @property
    def frequencies(self) -> np.ndarray:
        """Angular frequencies, shape=(nmodes,), ``omega_unit``."""
        return self._read("frequencies")

    @property
    def eigenvalues(self) -> np.ndarray:
        return self._read("eigenvalues")

    @property
    def participation_ratio(self) -> np.ndarray:
        return self._read("participation_ratio")

    @property
    def vector_index(self) -> np.ndarray:
        """Mode indices whose eigenvectors are stored."""
        return self._read("eigenvector_index")

    @property
    def meta(self) -> dict:
        """The Hessian sidecar."""
        return json.loads(self._attr("hessian_sidecar"))

    @property
    def atoms(self) -> np.ndarray:
        """Atom records, shape=(N,), dtype ``glassmodes.io.hessian.ATOMS_DTYPE``."""
        out = np.zeros(self.natoms, dtype=ATOMS_DTYPE)
        for name in ATOMS_DTYPE.names:
            out[name] = self._read(f"atoms/{name}")
        return out

    @property
    def box(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else (bool(v) if isinstance(v, np.bool_) else v))
                for k, v in self._f["box"].attrs.items()}

    @property
    def solver(self) -> SolverInfo:
        s = self._f["solver"]
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in s.attrs.items()}
        zm = ZeroModes(count=int(a["zero_mode_count"]), max_abs_eigenvalue=float(a["zero_mode_max_abs_eigenvalue"]),
                       translation_residual=float(a["translation_residual"]), extra=int(a["extra_zero_modes"]))
        return SolverInfo(backend=str(a["backend"]), method=str(a["method"]), tol=float(a["tol"]),
                          zero_tol=float(a["zero_tol"]), scale=float(a["scale"]), iterations=int(a["iterations"]),
                          residual_norms=self._read("solver/residual_norms"), zero_modes=zm, options=json.loads(a["options"]),
                          notes=tuple(json.loads(a["notes"])), seconds=float(a["seconds"]),
                          complete_below=float(a["complete_below"]))

    def has_vector(self, j: int) -> bool:
        return int(j) in self._row

    def mode(self, j: int) -> np.ndarray:
        """Eigenvector of mode ``j`` (index into ``frequencies``), shape=(d*N,); reads one chunk."""
        j = int(j)
        if j < 0:
            j += self.nmodes
        if j not in self._row:
            raise ModeFileError(f"{self.path}: eigenvector of mode {j} is not stored "
                                f"({len(self._row)} of {self.nmodes} stored)")
        return self._read("eigenvectors", (self._row[j], slice(None)))

    def vectors(self, indices=None) -> np.ndarray:
        """Eigenvectors as columns, shape=(d*N, k): the given mode indices, default all stored."""
        idx = self.vector_index if indices is None else np.asarray(indices, dtype=np.int64)
        out = np.empty((self.dimension * self.natoms, idx.size))
        for c, j in enumerate(idx):
            out[:, c] = self.mode(int(j))
        return out

    def to_modes(self, vectors: bool = True) -> Modes:
        """The whole file as :class:`Modes` (eigenvectors only if all are stored and asked for)."""
        vec = None
        if vectors and len(self._row) == self.nmodes:
            vec = self.vectors(np.arange(self.nmodes))
        return Modes(omega=self.frequencies, eigenvalues=self.eigenvalues, vectors=vec,
                     dimension=self.dimension, units=self.units, info=self.solver, meta=self.meta,
                     atoms=self.atoms)


def read_modes(path: str | os.PathLike, vectors: bool = True) -> Modes:
    """Read a mode file into :class:`Modes` (see :class:`ModeFile` for partial reads)."""
    with ModeFile(path) as mf:
        return mf.to_modes(vectors=vectors)

