"""Seeds of the nonlinear-mode search: harmonic modes of a mode file and displacement fields.

A seed is a mass-weighted field ``w = sqrt(m_i) u_i`` of shape (d*N,), the convention of the mode
files' eigenvectors. Fields are read from

* a ``.npy`` file with shape (N, d) or (d*N,): a displacement u (distance units), in the atom
  order of the mode file (ascending atom ID);
* a LAMMPS data file (``write_data``) or an (extended) XYZ file of a second structure B of the
  same atoms: u = x_B - x_A with the minimum image in the mode file's box (r_AB of Khomenko
  et al. (2020), Sec. III).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class SeedError(ValueError):
    """A seed cannot be read or does not fit the structure."""


def parse_lowest(spec: str) -> list[int] | int:
    """``lowest:K`` -> K; ``modes:3,5,9`` -> [3, 5, 9] (mode indices of the mode file)."""
    kind, _, rest = spec.partition(":")
    try:
        if kind == "lowest":
            k = int(rest)
            if k < 1:
                raise ValueError
            return k
        if kind == "modes":
            return [int(x) for x in rest.split(",") if x.strip()]
    except ValueError:
        pass
    raise SeedError(f"--seeds {spec!r}: expected lowest:K (K >= 1) or modes:I,J,...")


def harmonic_seeds(mode_file, spec, translation_fraction: float = 0.5) -> list[tuple[str, np.ndarray, int]]:
    """(label, vector, mode index) of the seeds ``spec`` (an int K: the lowest K stored
    eigenvectors that are not rigid translations; or a list of mode indices).

    A mode whose vector is mostly a translation (|P t| < ``translation_fraction``) is skipped for
    ``lowest:K`` and refused when named.
    """
    from glassmodes.modes.core import translation_basis

    d = mode_file.dimension
    T = translation_basis(np.repeat(np.asarray(mode_file.atoms["mass"], float), d), d)
    stored = [int(j) for j in mode_file.vector_index]
    out = []
    if isinstance(spec, int):
        for j in stored:
            v = mode_file.mode(j)
            if np.linalg.norm(T.T @ v) > translation_fraction * np.linalg.norm(v):
                continue
            out.append((f"psi{j}", v, j))
            if len(out) == spec:
                break
        if not out:
            raise SeedError(f"{mode_file.path}: no stored eigenvector besides the translations")
        return out
    for j in spec:
        if not mode_file.has_vector(j):
            raise SeedError(f"{mode_file.path}: eigenvector of mode {j} is not stored")
        v = mode_file.mode(j)
        if np.linalg.norm(T.T @ v) > translation_fraction * np.linalg.norm(v):
            raise SeedError(f"seed mode {j} is a rigid translation")
        out.append((f"psi{j}", v, j))
    return out


def _read_xyz_positions(path: Path, natoms: int) -> tuple[np.ndarray, np.ndarray | None]:
    lines = path.read_text().splitlines()
    try:
        n = int(lines[0].split()[0])
    except (IndexError, ValueError):
        raise SeedError(f"{path}: not an XYZ file (first line is not an atom count)") from None
    if n != natoms:
        raise SeedError(f"{path}: {n} atoms, the mode file has {natoms}")
    header = lines[1]
    rows = [ln.split() for ln in lines[2:2 + n]]
    ids = None
    if "Properties=" in header:
        props = header.split("Properties=")[1].split()[0].split(":")
        col, pos_col, id_col = 0, None, None
        for name, _typ, cnt in zip(props[0::3], props[1::3], props[2::3]):
            if name == "pos":
                pos_col = col
            if name == "id":
                id_col = col
            col += int(cnt)
        if pos_col is None:
            raise SeedError(f"{path}: no pos property")
        x = np.array([[float(r[pos_col + a]) for a in range(3)] for r in rows])
        if id_col is not None:
            ids = np.array([int(r[id_col]) for r in rows])
    else:
        x = np.array([[float(v) for v in r[1:4]] for r in rows])
    return x, ids


def _read_data_positions(path: Path, natoms: int) -> tuple[np.ndarray, np.ndarray]:
    lines = path.read_text().splitlines()
    start = None
    for k, ln in enumerate(lines):
        if ln.strip().split("#")[0].strip() == "Atoms":
            start = k + 1
            style = ln.split("#")[1].strip() if "#" in ln else "atomic"
            break
    if start is None:
        raise SeedError(f"{path}: no Atoms section (not a LAMMPS data file?)")
    while start < len(lines) and not lines[start].strip():
        start += 1
    rows = [ln.split() for ln in lines[start:start + natoms]]
    if len(rows) < natoms or any(not r for r in rows):
        raise SeedError(f"{path}: fewer than {natoms} atoms in the Atoms section")
    # x y z are the 3 columns before the optional 3 image flags; id first
    first = {"atomic": 2, "charge": 3, "full": 4, "molecular": 3, "sphere": 4}.get(style)
    if first is None:
        raise SeedError(f"{path}: atom style {style!r} not supported here (atomic, charge, full, molecular, sphere)")
    ids = np.array([int(r[0]) for r in rows])
    x = np.array([[float(r[first + a]) for a in range(3)] for r in rows])
    return x, ids


def field_seed(path: str | os.PathLike, mode_file) -> np.ndarray:
    """The mass-weighted seed field (d*N,) read from ``path`` (see the module docs)."""
    path = Path(path)
    if not path.is_file():
        raise SeedError(f"{path}: no such file")
    atoms = mode_file.atoms
    d, n = mode_file.dimension, mode_file.natoms
    m = np.asarray(atoms["mass"], float)
    if path.suffix == ".npy":
        try:
            u = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise SeedError(f"{path}: not a readable .npy file ({exc})") from None
        u = np.asarray(u, dtype=float)
        if u.shape == (n * d,):
            u = u.reshape(n, d)
        if u.shape != (n, d):
            raise SeedError(f"{path}: field of shape {u.shape}, expected ({n}, {d}) or ({n * d},)")
    else:
        if path.suffix in (".xyz", ".extxyz"):
            x, ids = _read_xyz_positions(path, n)
        else:
            x, ids = _read_data_positions(path, n)
        if ids is not None:
            order = np.argsort(ids)
            if not np.array_equal(ids[order], np.asarray(atoms["id"])):
                raise SeedError(f"{path}: atom IDs differ from the mode file's")
            x = x[order]
        box = mode_file.box
        lengths = np.asarray(box["boxhi"], float) - np.asarray(box["boxlo"], float)
        du = x[:, :d] - np.asarray(atoms["x"], float)[:, :d]
        per = box.get("periodicity", [True, True, True])
        for a in range(d):
            if per[a]:
                du[:, a] -= lengths[a] * np.round(du[:, a] / lengths[a])
        if box.get("triclinic"):
            raise SeedError(f"{path}: structure files in triclinic boxes are not supported; give r_AB as .npy")
        u = du
    if not np.all(np.isfinite(u)):
        raise SeedError(f"{path}: non-finite field")
    return (u * np.sqrt(m)[:, None]).ravel()
