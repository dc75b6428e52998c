"""One normal mode attached to its atoms: displacements, weights, top participants, the core.

NumPy only (no OVITO): the OVITO modifier, the renderer and the XYZ / dump exporters share it.

Conventions
-----------
* ``e_i`` is the ``d`` components of atom ``i`` of the mass-weighted, unit-norm eigenvector of the
  mode file (``sum_i |e_i|^2 = 1``); in 2D the third component is 0.
* The displacement is ``u_i = e_i / sqrt(m_i)`` (distance / sqrt(mass) units), ``m_i`` from the
  mode file's ``/atoms/mass``: the Cartesian displacement pattern of the mode, normalized so that
  ``sum_i m_i |u_i|^2 = 1``. For equal masses it is ``e_i`` up to a constant factor.
* The weight is ``w_i = |e_i|^2`` (dimensionless, ``sum_i w_i = 1``): the share of the mode's
  kinetic energy on atom ``i``; the participation ratio is ``1 / (N sum_i w_i^2)``.
* Atoms are matched by atom ID, never by storage order.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np


class ModeMatchError(ValueError):
    """The particles of a structure and the atoms of a mode file are not the same set of IDs."""


@dataclass(frozen=True, eq=False)
class ModeFrame:
    """A mode and its atoms, in ascending atom-ID order (the mode file's order).

    Attributes
    ----------
    index : int
        Mode index ``k`` (into the mode file's ``/frequencies``).
    omega : float
        Angular frequency, ``omega_unit``.
    omega_unit : str
        e.g. ``rad/tau``.
    participation_ratio : float
        From the mode file.
    ids : ndarray, shape=(N,), int64
        Atom IDs, ascending.
    types : ndarray, shape=(N,), int32
        Atom types.
    masses : ndarray, shape=(N,), float64
        Masses, mass units.
    positions : ndarray, shape=(N, 3), float64
        Positions, distance units (the mode file's ``/atoms/x``: wrapped into the box).
    eigenvector : ndarray, shape=(N, 3), float64
        Mass-weighted unit eigenvector ``e_i`` per atom (z = 0 in 2D).
    cell : ndarray, shape=(3, 4), float64
        Cell vectors a, b, c as columns, then the origin (OVITO's layout), distance units.
    pbc : tuple of 3 bool
        Periodicity.
    dimension : int
        2 or 3.
    units : str
        LAMMPS unit style.
    """

    index: int
    omega: float
    omega_unit: str
    participation_ratio: float
    ids: np.ndarray
    types: np.ndarray
    masses: np.ndarray
    positions: np.ndarray
    eigenvector: np.ndarray
    cell: np.ndarray
    pbc: tuple
    dimension: int
    units: str

    @property
    def natoms(self) -> int:
        return int(self.ids.size)

    @property
    def displacement(self) -> np.ndarray:
        """``u_i = e_i / sqrt(m_i)``, shape=(N, 3), distance / sqrt(mass)."""
        return self.eigenvector / np.sqrt(self.masses)[:, None]

    @property
    def weight(self) -> np.ndarray:
        """``w_i = |e_i|^2``, shape=(N,), sums to 1."""
        return np.einsum("ij,ij->i", self.eigenvector, self.eigenvector)

    def top(self, fraction: float) -> np.ndarray:
        """Boolean mask of the top ``fraction`` participating atoms, see :func:`top_participants`."""
        return top_participants(self.weight, fraction)

    def core(self, share: float = 0.5) -> np.ndarray:
        """Boolean mask of the core atoms, see :func:`core_mask`."""
        return core_mask(self.weight, share)

    def core_center(self, share: float = 0.5) -> np.ndarray:
        """Weighted center of the core, see :func:`core_center`."""
        return core_center(self.positions, self.weight, self.cell, self.pbc, share)


def cell_from_box(box: dict, dimension: int = 3) -> tuple[np.ndarray, tuple]:
    """OVITO cell matrix, shape=(3, 4), and periodicity from a mode file's ``/box`` attributes.

    ``a = (lx, 0, 0)``, ``b = (xy, ly, 0)``, ``c = (xz, yz, lz)``, origin ``boxlo`` (LAMMPS's
    restricted triclinic box).
    """
    lo = np.asarray(box["boxlo"], dtype=float)
    hi = np.asarray(box["boxhi"], dtype=float)
    lx, ly, lz = hi - lo
    xy, xz, yz = (float(box.get(k, 0.0)) for k in ("xy", "xz", "yz"))
    cell = np.array([[lx, xy, xz, lo[0]], [0.0, ly, yz, lo[1]], [0.0, 0.0, lz, lo[2]]])
    pbc = tuple(bool(p) for p in box.get("periodicity", (1, 1, 1)))
    if dimension == 2:
        pbc = (pbc[0], pbc[1], False)
    return cell, pbc


def load_mode_frame(modes, k: int) -> ModeFrame:
    """Mode ``k`` of a mode file with its atoms.

    Parameters
    ----------
    modes : path or glassmodes.modes.ModeFile
    k : int
        Mode index into ``/frequencies`` (negative counts from the end); its eigenvector must be
        stored.
    """
    from glassmodes.modes import ModeFile

    if isinstance(modes, (str, os.PathLike)):
        with ModeFile(modes) as mf:
            return load_mode_frame(mf, k)
    mf = modes
    k = int(k)
    if k < 0:
        k += mf.nmodes
    if not 0 <= k < mf.nmodes:
        raise IndexError(f"{mf.path}: mode {k} out of range, the file has {mf.nmodes} modes")
    d = mf.dimension
    vec = np.asarray(mf.mode(k), dtype=float).reshape(-1, d)
    atoms = mf.atoms
    e = np.zeros((atoms.size, 3))
    e[:, :d] = vec
    cell, pbc = cell_from_box(mf.box, d)
    return ModeFrame(index=k, omega=float(mf.frequencies[k]), omega_unit=mf.omega_unit,
                     participation_ratio=float(mf.participation_ratio[k]),
                     ids=np.asarray(atoms["id"], dtype=np.int64), types=np.asarray(atoms["type"], dtype=np.int32),
                     masses=np.asarray(atoms["mass"], dtype=float), positions=np.array(atoms["x"], dtype=float),
                     eigenvector=e, cell=cell, pbc=pbc, dimension=d, units=mf.units)


def match_ids(mode_ids: np.ndarray, particle_ids: np.ndarray | None) -> np.ndarray:
    """Row of the mode file for each particle, shape=(n,), matched by atom ID.

    Parameters
    ----------
    mode_ids : ndarray, shape=(N,)
        The mode file's atom IDs (ascending).
    particle_ids : ndarray, shape=(n,), or None
        The structure's particle identifiers, any order.

    Raises
    ------
    ModeMatchError
        No identifiers, a different count, repeated IDs, or IDs absent from the mode file; the
        message says which.
    """
    mode_ids = np.asarray(mode_ids, dtype=np.int64)
    if particle_ids is None:
        raise ModeMatchError("the particles carry no identifiers (Particle Identifier property); mode "
                             "components are matched by atom ID, so load a file with atom IDs "
                             "(LAMMPS data or dump file)")
    pid = np.asarray(particle_ids, dtype=np.int64)
    if pid.size != mode_ids.size:
        raise ModeMatchError(f"the structure has {pid.size} particles and the mode file {mode_ids.size} atoms: "
                             "they must be the same atoms (same IDs)")
    if np.any(np.diff(mode_ids) <= 0):
        raise ModeMatchError("the mode file's atom IDs are not strictly ascending")
    row = np.searchsorted(mode_ids, pid)
    row_c = np.minimum(row, mode_ids.size - 1)
    missing = mode_ids[row_c] != pid
    if missing.any():
        bad = pid[missing]
        more = f" and {bad.size - 5} more" if bad.size > 5 else ""
        raise ModeMatchError(f"{bad.size} particle ID(s) of the structure are not in the mode file: "
                             f"{', '.join(map(str, bad[:5]))}{more}")
    if np.unique(row).size != row.size:
        raise ModeMatchError("the structure has repeated particle IDs")
    return row


def top_participants(weight: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask of the ``ceil(fraction * N)`` atoms of largest weight (at least one).

    Ties are broken by position in ``weight`` (ascending ID in a :class:`ModeFrame`).

    >>> top_participants(np.array([0.1, 0.5, 0.05, 0.35]), 0.5).tolist()
    [False, True, False, True]
    """
    fraction = float(fraction)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"selection fraction must lie in (0, 1], got {fraction}")
    w = np.asarray(weight, dtype=float)
    n = max(1, math.ceil(fraction * w.size - 1e-9))
    order = np.argsort(-w, kind="stable")
    mask = np.zeros(w.size, dtype=bool)
    mask[order[:n]] = True
    return mask


def minimum_image(delta: np.ndarray, cell: np.ndarray, pbc) -> np.ndarray:
    """Wrap separation vectors, shape=(n, 3), to their nearest periodic image along periodic axes."""
    h = np.asarray(cell, dtype=float)[:, :3]
    frac = np.linalg.solve(h, np.asarray(delta, dtype=float).T).T
    for a in range(3):
        if pbc[a]:
            frac[:, a] -= np.round(frac[:, a])
    return frac @ h.T


def core_mask(weight: np.ndarray, share: float = 0.5) -> np.ndarray:
    """Boolean mask of the mode's core: the fewest atoms whose weights add up to ``share``.

    With the default (half the weight) a quasi-localized mode's core is a few tens of atoms (its
    far field, decaying as r^-2, is left out); a delocalized mode's is a good part of the system.

    >>> core_mask(np.array([0.05, 0.6, 0.1, 0.25]), 0.8).tolist()
    [False, True, False, True]
    """
    share = float(share)
    if not 0.0 < share <= 1.0:
        raise ValueError(f"core weight share must lie in (0, 1], got {share}")
    w = np.asarray(weight, dtype=float)
    order = np.argsort(-w, kind="stable")
    cum = np.cumsum(w[order])
    n = int(np.searchsorted(cum, share * cum[-1] * (1 - 1e-12))) + 1
    mask = np.zeros(w.size, dtype=bool)
    mask[order[:min(n, w.size)]] = True
    return mask


def core_center(positions: np.ndarray, weight: np.ndarray, cell: np.ndarray, pbc, share: float = 0.5) -> np.ndarray:
    """Center of the mode's core, shape=(3,), distance units.

    The weighted mean ``sum_i w_i r_i / sum_i w_i`` over the core (:func:`core_mask`), with each
    ``r_i`` taken as the periodic image nearest to the atom of largest weight (a core split by the
    box boundary is reassembled). Not wrapped back into the box.
    """
    pos = np.asarray(positions, dtype=float)
    w = np.asarray(weight, dtype=float)
    core = core_mask(w, share)
    anchor = pos[int(np.argmax(w))]
    r = anchor + minimum_image(pos[core] - anchor, cell, pbc)
    return (w[core, None] * r).sum(axis=0) / w[core].sum()


def centered_positions(positions: np.ndarray, center: np.ndarray, cell: np.ndarray,
                       pbc) -> tuple[np.ndarray, np.ndarray]:
    """Positions wrapped into a copy of the cell whose center is ``center``.

    Returns ``(positions, cell)``: along periodic axes every atom is moved to its image inside the
    shifted cell (``center + minimum_image(r - center)``), so a core at ``center`` is in one piece
    in the middle; the cell origin becomes ``center - (a + b + c) / 2`` (non-periodic axes keep
    their origin and positions).
    """
    cell = np.array(cell, dtype=float)
    pos = np.asarray(positions, dtype=float)
    center = np.asarray(center, dtype=float)
    new = center + minimum_image(pos - center, cell, pbc)
    h = cell[:, :3]
    # minimum_image moves atoms along periodic cell vectors only; shift the origin the same way
    old_center_frac = np.linalg.solve(h, center - cell[:, 3])
    shift_frac = np.where(np.asarray(pbc, dtype=bool), old_center_frac - 0.5, 0.0)
    cell[:, 3] = cell[:, 3] + h @ shift_frac
    return new, cell
