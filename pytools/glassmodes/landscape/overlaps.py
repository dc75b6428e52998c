"""Overlaps of an event's displacement field with the normal modes of the IS before it.

Khomenko et al. (2020), Eqs. (7) and (8), for a displacement field r and a mode v:

* ``c(v) = |r . v| / (|r| |v|)``, the normalized scalar product of the 3N-dimensional vectors;
* ``a(v) = sum_i |r_i| |v_i| / (|r| |v|)``, the same for the N-dimensional vectors of per-particle
  magnitudes (polarization ignored: which particles move, not how).

Both lie in [0, 1]; ``a >= c``. Glassmodes' mode files store mass-weighted eigenvectors
``e = M^1/2 u``; the field is mass-weighted the same way, ``w_i = sqrt(m_i) Delta r_i``, before the
products (for the equal masses of Khomenko et al. (2020) and Mizuno et al. (2020) this is exactly
Eqs. 7-8). Then the ``c_k`` of a complete orthonormal set satisfy ``sum_k c_k^2 = 1`` (the
translations removed from the field):
``captured = sum_k c_k^2`` over the modes available says how much of the field they span.

The modes must belong to the IS the event starts from: :func:`match_mode_file` checks that a mode
file's atoms sit at that IS's positions; :func:`compute_is_modes` computes them (Hessian with the
plugin's ``write_hessian``, sparse eigensolver) when none is given.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassmodes.landscape.events import minimum_image


def overlap_c(field: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Khomenko et al. (2020), Eq. (7) for each column of ``vectors``.

    Parameters
    ----------
    field : ndarray, shape=(N, d) or (d*N,)
        Displacement field (mass-weighted if the vectors are).
    vectors : ndarray, shape=(d*N, k)
        Modes as columns, component ``d*i + alpha``.

    Returns
    -------
    ndarray, shape=(k,)

    >>> v = np.eye(6)[:, :2]; r = np.array([3.0, 4.0, 0, 0, 0, 0])
    >>> overlap_c(r, v).tolist()
    [0.6, 0.8]
    """
    r = np.asarray(field, dtype=float).ravel()
    v = np.asarray(vectors, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.shape[0] != r.size:
        raise ValueError(f"field has {r.size} components, the modes {v.shape[0]}")
    return np.abs(r @ v) / (np.linalg.norm(r) * np.linalg.norm(v, axis=0))


def overlap_a(field: np.ndarray, vectors: np.ndarray, dimension: int = 3) -> np.ndarray:
    """Khomenko et al. (2020), Eq. (8): overlap of the per-particle magnitudes, for each column of ``vectors``.

    >>> v = np.zeros((6, 1)); v[0, 0] = 1.0; r = np.array([0.0, 2.0, 0, 0, 0, 0])
    >>> float(overlap_c(r, v)[0]), float(overlap_a(r, v)[0])
    (0.0, 1.0)
    """
    r = np.asarray(field, dtype=float).ravel()
    v = np.asarray(vectors, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.shape[0] != r.size:
        raise ValueError(f"field has {r.size} components, the modes {v.shape[0]}")
    rm = np.sqrt(np.sum(r.reshape(-1, dimension) ** 2, axis=1))
    vm = np.sqrt(np.sum(v.reshape(-1, dimension, v.shape[1]) ** 2, axis=1))
    return (rm @ vm) / (np.linalg.norm(r) * np.linalg.norm(v, axis=0))


@dataclass(frozen=True)
class ModeOverlaps:
    """Overlaps of one event with the modes of its starting IS.

    Attributes
    ----------
    mode_file : str
        The mode file used.
    omega : ndarray, shape=(k,)
        Angular frequencies of the modes with stored vectors, ``omega_unit``.
    participation : ndarray, shape=(k,)
        Their participation ratios.
    c, a : ndarray, shape=(k,)
        Khomenko et al. (2020), Eqs. (7), (8).
    mode_index : ndarray, shape=(k,)
        Indices of the modes in the mode file.
    """

    mode_file: str
    omega: np.ndarray
    participation: np.ndarray
    c: np.ndarray
    a: np.ndarray
    mode_index: np.ndarray
    omega_unit: str = "rad/tau"

    @property
    def best_c(self) -> int:
        """Position (into the arrays) of the mode of largest c."""
        return int(np.argmax(self.c))

    @property
    def best_a(self) -> int:
        return int(np.argmax(self.a))

    @property
    def captured(self) -> float:
        """``sum_k c_k^2`` over the available modes (1 for a complete set)."""
        return float(np.sum(self.c ** 2))

    def row(self) -> dict:
        bc, ba = self.best_c, self.best_a
        return {"modes": os.path.basename(self.mode_file), "n_modes": int(self.c.size),
                "omega_max": float(np.max(self.omega)), "captured_c2": self.captured,
                "best_c_mode": int(self.mode_index[bc]), "best_c": float(self.c[bc]),
                "best_c_omega": float(self.omega[bc]), "best_c_PR": float(self.participation[bc]),
                "best_a_mode": int(self.mode_index[ba]), "best_a": float(self.a[ba]),
                "best_a_omega": float(self.omega[ba]), "best_a_PR": float(self.participation[ba])}


def event_overlaps(field: np.ndarray, mode_file, ids: np.ndarray | None = None) -> ModeOverlaps:
    """Overlaps of a displacement field (shape=(N, 3), ascending atom ID) with a mode file's stored modes."""
    from glassmodes.modes import ModeFile

    if isinstance(mode_file, (str, os.PathLike)):
        with ModeFile(mode_file) as mf:
            return event_overlaps(field, mf, ids)
    mf = mode_file
    atoms = mf.atoms
    if ids is not None and not np.array_equal(np.asarray(atoms["id"]), np.asarray(ids)):
        raise ValueError(f"{mf.path}: its atoms are not the IS trajectory's atoms (IDs differ)")
    d = mf.dimension
    f = np.asarray(field, dtype=float)[:, :d]
    w = f * np.sqrt(np.asarray(atoms["mass"], dtype=float))[:, None]
    idx = mf.vector_index
    if idx.size == 0:
        raise ValueError(f"{mf.path}: no eigenvectors stored")
    vec = mf.vectors(idx)
    return ModeOverlaps(mode_file=str(mf.path), omega=mf.frequencies[idx], participation=mf.participation_ratio[idx],
                        c=overlap_c(w, vec), a=overlap_a(w, vec, d), mode_index=np.asarray(idx),
                        omega_unit=mf.omega_unit)


def match_mode_file(mode_file, positions: np.ndarray, ids: np.ndarray, lengths: np.ndarray, periodicity,
                    tol: float = 1e-6) -> float:
    """Largest minimum-image distance between a mode file's atoms and ``positions`` (same IDs).

    Raises ``ValueError`` when the IDs differ or the distance exceeds ``tol``: the modes were not
    computed for this inherent structure.
    """
    from glassmodes.modes import ModeFile

    if isinstance(mode_file, (str, os.PathLike)):
        with ModeFile(mode_file) as mf:
            return match_mode_file(mf, positions, ids, lengths, periodicity, tol)
    atoms = mode_file.atoms
    if not np.array_equal(np.asarray(atoms["id"]), np.asarray(ids)):
        raise ValueError(f"{mode_file.path}: atom IDs differ from the IS trajectory's")
    d = minimum_image(np.asarray(atoms["x"], dtype=float) - positions, lengths, periodicity)
    dmax = float(np.sqrt(np.max(np.einsum("ij,ij->i", d, d))))
    if dmax > tol:
        raise ValueError(f"{mode_file.path}: atoms are up to {dmax:.3g} away from this IS (tolerance {tol:g}): "
                         "these modes belong to another structure")
    return dmax


def compute_is_modes(positions: np.ndarray, ids: np.ndarray, types: np.ndarray, boxlo, boxhi, periodicity,
                     forcefield: str, output: str | os.PathLike, k: int = 100, units: str = "lj",
                     ftol: float = 1e-4, progress=None) -> Path:
    """Lowest ``k`` modes of an inherent structure, written to the mode file ``output``.

    The structure is built in a private serial LAMMPS instance, its Hessian written by the plugin's
    ``write_hessian`` (analytic), and the modes solved by the sparse backend
    (:func:`glassmodes.modes.solve_modes`). ``positions`` must be a minimum (an IS of the file):
    ``write_hessian`` checks the residual force against ``ftol``.
    """
    from mpi4py import MPI

    from glassmodes.lammps_session import open_lammps
    from glassmodes.landscape.quench import _encode_images
    from glassmodes.modes import solve_modes, write_modes

    boxlo = np.asarray(boxlo, dtype=float)
    boxhi = np.asarray(boxhi, dtype=float)
    lengths = boxhi - boxlo
    image = np.floor((positions - boxlo) / lengths).astype(np.int64)
    image[:, ~np.asarray(periodicity, dtype=bool)] = 0
    x = positions - image * lengths
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="is-hessian-", dir=output.parent) as tmp:
        lmp = open_lammps(comm=MPI.COMM_SELF)
        try:
            lmp.command(f"units {units}")
            lmp.command("atom_style atomic")
            lmp.command("atom_modify map yes")
            lmp.command("boundary " + " ".join("p" if p else "f" for p in periodicity))
            bounds = " ".join(repr(float(v)) for pair in zip(boxlo, boxhi) for v in pair)
            lmp.command(f"region box block {bounds}")
            lmp.command(f"create_box {int(np.max(types))} box")
            lmp.commands_string(forcefield)
            bits, maxv, mask = (lmp.extract_setting(s) for s in ("IMGBITS", "IMGMAX", "IMGMASK"))
            lmp.create_atoms(len(ids), np.asarray(ids).tolist(), np.asarray(types).tolist(), x.ravel().tolist(), None,
                             _encode_images(image, bits, maxv, mask).tolist())
            hess = Path(tmp) / "H"
            lmp.command(f"write_hessian all {hess} ftol {ftol!r}")
        finally:
            lmp.close()
        if progress:
            progress(f"Hessian of the IS written; solving the lowest {k} modes")
        modes = solve_modes(str(hess), backend="sparse", k=int(k))
        write_modes(output, modes, source=None)
    return output
