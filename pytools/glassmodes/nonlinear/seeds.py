"""Seeds of the nonlinear-mode search: harmonic modes of a mode file, displacement fields and the
non-affine responses to shear (:func:`shear_seeds`).

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
import scipy.sparse as sp


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


# ---- non-affine shear responses -----------------------------------------------------------------

SHEAR_KINDS = ("simple", "pure", "all")


def shear_strains(dim: int, which: str = "all") -> list[tuple[str, dict]]:
    """The shear strains whose non-affine responses seed the search (Kapteijns thesis, appendix 3.B).

    Simple shear in the plane ab, x_a -> x_a + gamma x_b (eta_ab = eta_ba = gamma/2; label ``ab``), and
    pure shear, x_a -> (1 + e) x_a, x_b -> (1 - e) x_b (eta_aa = e, eta_bb = -e; label ``aa-bb``), per
    unit gamma or e. Planes xy (2D); xy, xz, yz (3D): d(d-1)/2 of each. The coefficients returned
    multiply the columns of Xi = d^2U/dx d eta_I (tensor derivatives, the Voigt order of
    :mod:`glassmodes.elastic.terms`), so that Xi . coefficients = d^2U/dx d(gamma or e).

    Parameters
    ----------
    dim : int
        2 or 3.
    which : "simple", "pure" or "all"

    Returns
    -------
    list of (label, {Voigt label: coefficient})
    """
    if which not in SHEAR_KINDS:
        raise SeedError(f"shear seeds {which!r}: expected one of {', '.join(SHEAR_KINDS)}")
    axes = "xyz"[:dim]
    planes = [(a, b) for k, a in enumerate(axes) for b in axes[k + 1:]]
    out = []
    if which in ("simple", "all"):
        out += [(f"{a}{b}", {f"{a}{b}": 1.0}) for a, b in planes]
    if which in ("pure", "all"):
        out += [(f"{a}{a}-{b}{b}", {f"{a}{a}": 1.0, f"{b}{b}": -1.0}) for a, b in planes]
    return out


def shear_seeds(fc, which: str = "all", hessian=None, rtol: float = 1e-10) -> list[tuple[str, np.ndarray]]:
    """Mass-weighted non-affine displacement fields of the shear strains of :func:`shear_strains`.

    The non-affine response of a minimized glass to a strain eta is u = -H^+ Xi : eta (per unit
    strain; Lutsko, J. Appl. Phys. 65, 2991 (1989); Kapteijns thesis, Eq. 5.6 and appendix 3.B, where
    these fields seed the cubic-mode search; checked against LAMMPS' relaxed response to an imposed
    strain in tests/test_nonlinear_seeds.py). Xi = d^2U/dx d eta comes from the pair table with
    :func:`glassmodes.elastic.terms.terms_from_pairs`, and H^+ b from the block-Jacobi CG of
    :class:`glassmodes.elastic.CGSolver` on the translation-free subspace.

    Parameters
    ----------
    fc : glassmodes.fc3.ForceConstants
        Pair-derivative table of the whole system (``write_fc3 all ...``; plain values). Under MPI
        (``fc.comm``) each rank's slice of pairs contributes to Xi, which is summed over the ranks.
    which : "simple", "pure" or "all"
    hessian : scipy.sparse matrix, shape=(d*N, d*N), optional
        The mass-weighted dynamical matrix M of the same structure (default: rebuilt from ``fc``).
    rtol : float
        Relative residual of the linear solves.

    Returns
    -------
    list of (label, ndarray shape=(d*N,))
        ``shear:<label>``, the field sqrt(m_i) u_i (distance sqrt(mass) per unit strain), translations
        removed.

    Raises
    ------
    SeedError
        A table of a group with atoms outside it, mass-weighted stored values, or a rattler (an
        atom without interactions: H^+ is undefined).
    """
    from glassmodes.elastic import CGSolver, ElasticError
    from glassmodes.elastic.terms import PairTable, box_volume, terms_from_pairs, voigt_labels
    from glassmodes.modes.core import translation_basis

    if fc.storage != "pair-derivatives":
        raise SeedError("shear seeds need the analytic pair table (write_fc3 all FILE method analytic order 4)")
    if bool(fc.meta.get("values_mass_weighted")):
        raise SeedError("shear seeds need a pair table with plain (not mass-weighted) pair derivatives")
    d, n = fc.dimension, fc.natoms
    strains = shear_strains(d, which)
    rec = fc.records
    j = np.asarray(rec["j"], dtype=np.int64)
    outside = int(np.count_nonzero(j < 0))
    if fc.comm is not None:
        outside = fc.comm.allreduce(outside)
    if outside:
        raise SeedError(f"shear seeds need the table of the whole system (write_fc3 all ...); {outside} pair(s) "
                        "reach atoms outside the group")
    pairs = PairTable(np.asarray(rec["i"], dtype=np.int64), j, np.asarray(rec["r"], float)[:, :d],
                      np.asarray(rec["dphi"], float)[:, 0], np.asarray(rec["dphi"], float)[:, 1])
    _stress, _born, xi = terms_from_pairs(pairs, n, box_volume(fc.meta["box"], d))
    if fc.comm is not None:
        xi = fc.comm.allreduce(xi)
    labels = list(voigt_labels(d))
    rhs = np.zeros((d * n, len(strains)))
    for k, (_label, coeffs) in enumerate(strains):
        for name, c in coeffs.items():
            rhs[:, k] -= c * xi[:, labels.index(name)]
    m = np.repeat(np.asarray(fc.atoms["mass"], dtype=float), d)
    M = sp.csr_matrix(hessian) if hessian is not None else fc.hessian()
    H = sp.diags(np.sqrt(m)) @ M @ sp.diags(np.sqrt(m))          # plain Hessian
    try:
        u, _info = CGSolver(H, d, rtol=rtol, atom_ids=np.asarray(fc.atoms["id"])).solve(rhs)
    except ElasticError as exc:
        raise SeedError(f"shear seeds: {exc}") from None
    T = translation_basis(m, d)
    out = []
    for k, (label, _coeffs) in enumerate(strains):
        w = np.sqrt(m) * u[:, k]
        w -= T @ (T.T @ w)
        if not np.linalg.norm(w) > 0:
            raise SeedError(f"shear seed {label}: the non-affine response is zero (an affine structure, e.g. a "
                            "perfect Bravais crystal)")
        out.append((f"shear:{label}", w))
    return out
