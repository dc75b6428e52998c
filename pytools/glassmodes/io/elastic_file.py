"""The elastic-terms files written by the plugin's ``write_elastic`` / ``fix elastic/write``.

Three files share a stem ``E`` (the name the caller gave):

``E``
    The mixed strain-position derivatives ``Xi`` as a NumPy ``.npy`` array, ``<f8``, C order,
    shape ``(d*N, nv)``: row ``d*k + mu`` is Cartesian component ``mu`` of the atom with the
    k-th smallest atom ID (the Hessian's row order), column ``I`` the Voigt strain component
    ``I`` (3D: xx, yy, zz, yz, xz, xy; 2D: xx, yy, xy). Units energy / distance.
``E.json``
    The sidecar: the stress tensor ``stress`` (d x d) and the Born tensor ``born`` (nv x nv),
    the volume, the cell, units, method, conventions, box, versions, and the size and CRC-32 of
    the two other files (``companions``).
``E.atoms.npy``
    One record per atom in the rows' order, the dtype of the Hessian's atoms file
    (:data:`glassmodes.io.hessian.ATOMS_DTYPE`): ``id``, ``type``, ``mass``, ``x``, ``image``.

Conventions (all stored in the sidecar's ``conventions``):

* Voigt strain ``e_I``: ``e_I = eta_aa`` for the normal components and ``e_I = 2 eta_ab``
  (engineering shear) for the shear ones, ``eta = (F^T F - I)/2`` the Lagrangian strain of the
  affine map ``x -> F x``. With it ``U(e)`` has ``dU/de_I = V sigma_ab`` and
  ``C^B_IJ = (1/V) d^2U/de_I de_J`` (= the tensor component ``C_abcd``), ``Xi_{k mu, I} =
  d^2U / du_{k mu} de_I`` (``u`` the positions in the reference frame).
* Stress, energy-derivative convention: ``sigma_ab = (1/V) dU/deta_ab = (1/V) sum_pairs phi'(r)
  r_a r_b / r``, no kinetic term; negative under compression. ``sigma = -P_virial`` where
  ``P_virial`` is LAMMPS's ``compute pressure NULL virial`` divided by its ``nktv2p``
  conversion (the same number in ``lj`` units). Units energy / distance^d.
* Born tensor (Lagrangian strain): ``C^B_abcd = (1/V) sum_pairs (phi'' - phi'/r) r_a r_b r_c
  r_d / r^2`` (units energy / distance^d). ``V`` is the volume (the area in 2D).

References: D. R. Squire, A. C. Holt and W. G. Hoover, Physica 42, 388 (1969) (Born term and
stress fluctuation formula); A. Lemaitre and C. Maloney, J. Stat. Phys. 123, 415 (2006) (the
non-affine term Xi . H^-1 . Xi).
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassmodes.io.atomic import atomic_file_set, check_companions, companion_record, report_stale_temporaries
from glassmodes.io.hessian import ATOMS_DTYPE

FORMAT_NAME = "glassmodes-elastic"
FORMAT_VERSION = 1
VOIGT_3D = ("xx", "yy", "zz", "yz", "xz", "xy")
VOIGT_2D = ("xx", "yy", "xy")
SIDECAR_KEYS = (
    "format", "format_version", "natoms", "dimension", "ndof", "voigt", "units", "method", "volume",
    "cell", "stress", "born", "xi_file", "atoms_file",
)
# tolerance of the consistency checks between the sidecar's numbers (volume vs cell determinant)
VOLUME_RTOL = 1e-10

CONVENTIONS = {
    "voigt_strain": "e_I = eta_aa (normal), e_I = 2 eta_ab (shear, engineering); eta = (F^T F - I)/2",
    "stress": "sigma_ab = (1/V) dU/deta_ab = (1/V) sum_pairs phi' r_a r_b / r; energy-derivative "
              "convention, no kinetic term, negative under compression; sigma = -(virial pressure)",
    "born": "C^B_IJ = (1/V) d2U/de_I de_J at fixed reduced positions = (1/V) sum_pairs "
            "(phi'' - phi'/r) r_a r_b r_c r_d / r^2 (Lagrangian strain)",
    "xi": "Xi[d*k+mu, I] = d2U/du_{k,mu} de_I, u the positions in the reference frame; a pair "
          "(i,j), r = x_j - x_i, gives +g to atom j and -g to atom i, g_mu = (phi'' - phi'/r) "
          "r_mu r_a r_b / r^2 + (phi'/r)(delta_a,mu r_b + delta_b,mu r_a); at zero forces "
          "Xi = -dF/de_I (F the forces in the lab frame)",
    "volume": "V = the cell volume (area in 2D)",
    "rows": "row d*k+mu: component mu of the atom with the k-th smallest ID (the Hessian's order)",
}


class ElasticFileError(ValueError):
    """An elastic-terms file set is missing, truncated, corrupt, or inconsistent."""


@dataclass(frozen=True)
class ElasticFile:
    """The elastic terms of one configuration (stress, Born tensor, mixed derivatives).

    Attributes
    ----------
    stress : ndarray, shape=(d, d), float64
        ``sigma_ab`` (energy-derivative convention, no kinetic term), energy / distance^d.
    born : ndarray, shape=(nv, nv), float64
        Born tensor ``C^B_IJ`` in Voigt notation (``voigt``), energy / distance^d.
    xi : ndarray, shape=(d*N, nv), float64
        ``Xi[d*k+mu, I] = d^2U/du_{k mu} de_I``, energy / distance, rows by ascending atom ID.
    volume : float
        Cell volume (area in 2D), distance^d.
    dim : int
        Dimension d (2 or 3).
    atom_ids : ndarray, shape=(N,), int64
        Atom IDs in row order (ascending).
    box : ndarray, shape=(d, d), float64
        Cell vectors as rows (LAMMPS: a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz)).
    units : str
        LAMMPS unit style.
    method : str
        ``"analytic"`` (pair sums with phi', phi'') or ``"fd"`` (finite differences) or what a
        Python writer states.
    meta : dict
        The sidecar.
    voigt : tuple of str
        Voigt component names: ``VOIGT_3D`` or ``VOIGT_2D`` (default: those of ``dim``).
    """

    stress: np.ndarray
    born: np.ndarray
    xi: np.ndarray
    volume: float
    dim: int
    atom_ids: np.ndarray
    box: np.ndarray
    units: str
    method: str
    meta: dict = field(default_factory=dict)
    voigt: tuple | None = None

    def __post_init__(self):
        # the names follow the dimension unless given (a mismatch is refused by the writer)
        if self.voigt is None:
            object.__setattr__(self, "voigt", voigt_names(int(self.dim)))

    @property
    def natoms(self) -> int:
        return int(self.atom_ids.shape[0])


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(path)}.json")


def atoms_path(path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(path)}.atoms.npy")


def voigt_names(dim: int) -> tuple:
    """Voigt component names of dimension ``dim`` (2 or 3)."""
    if dim == 3:
        return VOIGT_3D
    if dim == 2:
        return VOIGT_2D
    raise ElasticFileError(f"dimension {dim}, expected 2 or 3")


def _array(meta, key, shape, where) -> np.ndarray:
    try:
        a = np.asarray(meta[key], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ElasticFileError(f"{where}: field {key!r} is not a numeric array ({exc})") from None
    if a.shape != shape:
        raise ElasticFileError(f"{where}: field {key!r} has shape {a.shape}, expected {shape}")
    if not np.all(np.isfinite(a)):
        raise ElasticFileError(f"{where}: field {key!r} holds NaN or infinite values")
    return a


def read_elastic_sidecar(path: str | os.PathLike) -> dict:
    """The sidecar of the elastic file ``path``, checked (JSON, fields, format, sizes)."""
    side = sidecar_path(path)
    if not side.is_file():
        raise ElasticFileError(f"{path}: sidecar {side} is missing")
    try:
        meta = json.loads(side.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ElasticFileError(f"{side}: corrupt JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ElasticFileError(f"{side}: not a JSON object")
    missing = [k for k in SIDECAR_KEYS if k not in meta]
    if missing:
        raise ElasticFileError(f"{side}: missing fields {missing} (not an elastic-terms sidecar?)")
    if meta["format"] != FORMAT_NAME:
        raise ElasticFileError(f"{side}: format {meta['format']!r}, expected {FORMAT_NAME!r}")
    try:
        version, d, n, ndof = (int(meta[k]) for k in ("format_version", "dimension", "natoms", "ndof"))
    except (TypeError, ValueError) as exc:
        raise ElasticFileError(f"{side}: a size field is not an integer ({exc})") from None
    if version < 1 or version > FORMAT_VERSION:
        raise ElasticFileError(f"{side}: format version {version}, this reader knows up to {FORMAT_VERSION}")
    if d not in (2, 3):
        raise ElasticFileError(f"{side}: dimension {d}, expected 2 or 3")
    if n <= 0:
        raise ElasticFileError(f"{side}: {n} atoms")
    if ndof != d * n:
        raise ElasticFileError(f"{side}: ndof {ndof} != dimension * natoms = {d * n}")
    if tuple(meta["voigt"]) != voigt_names(d):
        raise ElasticFileError(f"{side}: Voigt order {meta['voigt']}, expected {list(voigt_names(d))}")
    return meta


def _load_npy(path: Path, raw: bytes, what: str) -> np.ndarray:
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ElasticFileError(f"{path}: {what} file corrupt or truncated ({exc})") from None


def read_elastic(path: str | os.PathLike) -> ElasticFile:
    """Read and check an elastic-terms file set written by the plugin or :func:`write_elastic_file`.

    Parameters
    ----------
    path : path-like
        The Xi file ``E`` (its sidecar ``E.json`` and atoms file ``E.atoms.npy`` beside it).

    Returns
    -------
    ElasticFile

    Raises
    ------
    ElasticFileError
        Naming the file and the problem: a missing file, a sidecar without the fields or of
        another format, arrays of the wrong shape or with non-finite values, atom IDs not
        strictly ascending or disagreeing between files, a volume that is not the cell's, or
        sizes/CRC-32 differing from those the sidecar records (a set mixed from two writes).
    """
    path = Path(path)
    meta = read_elastic_sidecar(path)
    side = sidecar_path(path)
    d, n = int(meta["dimension"]), int(meta["natoms"])
    nv = len(voigt_names(d))
    for p, what in ((path, "Xi"), (atoms_path(path), "atoms")):
        if not p.is_file():
            raise ElasticFileError(f"{path}: {what} file {p} is missing")
    xi_raw, atoms_raw = path.read_bytes(), atoms_path(path).read_bytes()
    xi = _load_npy(path, xi_raw, "Xi")
    if xi.dtype != np.dtype("<f8") or xi.shape != (d * n, nv):
        raise ElasticFileError(f"{path}: Xi is {xi.shape} of {xi.dtype}, expected ({d * n}, {nv}) of float64")
    if not np.all(np.isfinite(xi)):
        k = int(np.argmin(np.isfinite(xi).all(axis=1)))
        raise ElasticFileError(f"{path}: Xi row {k} holds NaN or infinite values")
    atoms = _load_npy(atoms_path(path), atoms_raw, "atoms")
    if atoms.dtype != ATOMS_DTYPE or atoms.shape != (n,):
        raise ElasticFileError(f"{atoms_path(path)}: {atoms.shape} records of {atoms.dtype}, "
                               f"expected ({n},) of {ATOMS_DTYPE}")
    ids = np.asarray(atoms["id"], dtype=np.int64)
    if n > 1 and not np.all(np.diff(ids) > 0):
        k = int(np.argmin(np.diff(ids) > 0))
        raise ElasticFileError(f"{atoms_path(path)}: atom IDs not strictly ascending (record {k + 1}: "
                               f"ID {ids[k + 1]} after {ids[k]})")
    stress = _array(meta, "stress", (d, d), side)
    born = _array(meta, "born", (nv, nv), side)
    cell = _array(meta, "cell", (d, d), side)
    try:
        volume = float(meta["volume"])
    except (TypeError, ValueError):
        raise ElasticFileError(f"{side}: volume {meta['volume']!r} is not a number") from None
    if not (np.isfinite(volume) and volume > 0):
        raise ElasticFileError(f"{side}: volume {volume} must be finite and > 0")
    det = abs(float(np.linalg.det(cell)))
    if abs(det - volume) > VOLUME_RTOL * volume:
        raise ElasticFileError(f"{side}: volume {volume!r} is not the cell's |det| {det!r}")
    check_companions(side, meta, {"xi": (path, xi_raw), "atoms": (atoms_path(path), atoms_raw)},
                     error=ElasticFileError)
    report_stale_temporaries(path)
    return ElasticFile(stress=stress, born=born, xi=np.ascontiguousarray(xi, dtype=np.float64),
                       volume=volume, dim=d, atom_ids=ids, box=cell, units=str(meta["units"]),
                       method=str(meta["method"]), meta=meta, voigt=voigt_names(d))


def write_elastic_file(path: str | os.PathLike, ef: ElasticFile, atoms: np.ndarray | None = None) -> None:
    """Write ``ef`` as an elastic-terms file set (``path``, ``path.json``, ``path.atoms.npy``),
    atomically (temporaries renamed at the end, the sidecar last, with the companions' CRC-32).

    Parameters
    ----------
    path : path-like
        The Xi file's name.
    ef : ElasticFile
        What to write; ``ef.meta`` is copied into the sidecar (its format fields, arrays and
        companions are replaced by those of ``ef``).
    atoms : structured ndarray, shape=(N,), dtype ``ATOMS_DTYPE``, optional
        Full atom records (type, mass, position, image) with ``atoms['id'] == ef.atom_ids``;
        without it the records carry only the IDs (type 0, mass 0, x 0) and the sidecar says
        ``"atoms_records": "ids-only"``.

    Raises
    ------
    ElasticFileError
        When the arrays of ``ef`` have inconsistent shapes or non-finite values; nothing is written.
    """
    d = int(ef.dim)
    names = voigt_names(d)
    nv = len(names)
    ids = np.asarray(ef.atom_ids, dtype=np.int64)
    n = ids.shape[0]
    stress, born, cell = (np.asarray(a, dtype=np.float64) for a in (ef.stress, ef.born, ef.box))
    xi = np.ascontiguousarray(ef.xi, dtype="<f8")
    for name, a, shape in (("stress", stress, (d, d)), ("born", born, (nv, nv)), ("box", cell, (d, d)),
                           ("xi", xi, (d * n, nv)), ("atom_ids", ids, (n,))):
        if a.shape != shape:
            raise ElasticFileError(f"{path}: {name} has shape {a.shape}, expected {shape}")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise ElasticFileError(f"{path}: {name} holds NaN or infinite values")
    if n == 0 or (n > 1 and not np.all(np.diff(ids) > 0)):
        raise ElasticFileError(f"{path}: atom IDs must be non-empty and strictly ascending")
    if not abs(abs(np.linalg.det(cell)) - ef.volume) <= VOLUME_RTOL * ef.volume:
        raise ElasticFileError(f"{path}: volume {ef.volume} is not the cell's |det| {abs(np.linalg.det(cell))}")
    if tuple(ef.voigt) != names:
        raise ElasticFileError(f"{path}: Voigt order {ef.voigt}, expected {names}")
    meta = {k: v for k, v in dict(ef.meta).items() if k != "companions"}
    if atoms is None:
        recs = np.zeros(n, dtype=ATOMS_DTYPE)
        recs["id"] = ids
        meta["atoms_records"] = "ids-only"
    else:
        recs = np.asarray(atoms)
        if recs.dtype != ATOMS_DTYPE or recs.shape != (n,) or not np.array_equal(recs["id"], ids):
            raise ElasticFileError(f"{path}: atoms must be ({n},) records of {ATOMS_DTYPE} with the IDs of ef")
        meta["atoms_records"] = "full"
    path = Path(path)
    meta.update({
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "natoms": int(n), "dimension": d,
        "ndof": int(d * n), "nvoigt": nv, "voigt": list(names), "units": str(ef.units),
        "method": str(ef.method), "volume": float(ef.volume), "cell": cell.tolist(),
        "stress": stress.tolist(), "born": born.tolist(), "xi_file": path.name,
        "atoms_file": atoms_path(path).name, "xi_format": "npy <f8, C order, shape (ndof, nvoigt)",
        "conventions": dict(meta.get("conventions", CONVENTIONS)),
        "stress_units": "energy/distance^d", "born_units": "energy/distance^d", "xi_units": "energy/distance",
    })
    paths = {"xi": path, "atoms": atoms_path(path), "sidecar": sidecar_path(path)}
    with atomic_file_set(paths) as tmp:
        with open(tmp["xi"], "wb") as f:
            np.save(f, xi, allow_pickle=False)
        with open(tmp["atoms"], "wb") as f:
            np.save(f, recs, allow_pickle=False)
        meta["companions"] = {role: companion_record(tmp[role], paths[role].name) for role in ("xi", "atoms")}
        Path(tmp["sidecar"]).write_text(json.dumps(meta, indent=1))
