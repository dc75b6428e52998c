"""Write modes as extended XYZ or LAMMPS dump files, for viewers other than the OVITO modifier.

NumPy only. Several modes go into one file as successive frames (the dump's TIMESTEP is the mode
index), so a viewer steps through modes as through a trajectory. Atoms in ascending ID order,
positions from the mode file (wrapped into the box), numbers written with 17 significant digits
(exact round trip of float64).

Extended XYZ columns (``Properties=``)
    ``species:S:1`` (the atom type, as text), ``pos:R:3``, ``id:I:1``, ``mass:R:1``,
    ``mode_displacement:R:3`` (``u_i = e_i / sqrt(m_i)``), ``mode_weight:R:1`` (``|e_i|^2``);
    comment keys ``Lattice``, ``Origin``, ``pbc``, ``mode``, ``omega``, ``omega_unit``,
    ``participation_ratio``, ``units``, ``displacement``.
LAMMPS dump columns
    ``id type x y z Displacement.X Displacement.Y Displacement.Z weight`` (the three components of
    ``u_i``, ``weight`` = ``|e_i|^2``); the box as LAMMPS writes it (``BOX BOUNDS xy xz yz`` with
    bounding-box extents when triclinic). OVITO's dump reader maps columns named
    ``<standard property>.X/Y/Z`` onto that property, so the displacement comes in as OVITO's vector
    property ``Displacement`` (shape (N, 3), arrows through its Vectors visual element) with no
    column mapping; other columns keep their names (``weight``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from glassmodes.io.atomic import atomic_output
from glassmodes.ovito.frame import ModeFrame

DUMP_COLUMNS = ("id", "type", "x", "y", "z", "Displacement.X", "Displacement.Y", "Displacement.Z", "weight")
XYZ_PROPERTIES = "species:S:1:pos:R:3:id:I:1:mass:R:1:mode_displacement:R:3:mode_weight:R:1"


def _frames(frames) -> list[ModeFrame]:
    out = [frames] if isinstance(frames, ModeFrame) else list(frames)
    if not out:
        raise ValueError("no mode to write")
    return out


def _g(x) -> str:
    return repr(float(x))  # shortest text that reads back to the same float64


def _table(cols: list[np.ndarray], fmts: list[str]) -> str:
    fmt = " ".join(fmts)
    return "\n".join(fmt % row for row in zip(*cols)) + "\n"


def xyz_text(frame: ModeFrame) -> str:
    """One extended-XYZ frame (header line, comment line, one line per atom)."""
    c = frame.cell
    lattice = " ".join(_g(v) for v in c[:, :3].T.ravel())  # a, b, c one after the other
    origin = " ".join(_g(v) for v in c[:, 3])
    pbc = " ".join("T" if p else "F" for p in frame.pbc)
    comment = (f'Lattice="{lattice}" Origin="{origin}" pbc="{pbc}" Properties={XYZ_PROPERTIES} '
               f"mode={frame.index} omega={_g(frame.omega)} omega_unit={frame.omega_unit} "
               f"participation_ratio={_g(frame.participation_ratio)} units={frame.units} "
               f'displacement="e_i/sqrt(m_i)"')
    u, w, x = frame.displacement, frame.weight, frame.positions
    cols = [frame.types, x[:, 0], x[:, 1], x[:, 2], frame.ids, frame.masses, u[:, 0], u[:, 1], u[:, 2], w]
    return f"{frame.natoms}\n{comment}\n" + _table(cols, ["%d"] + ["%.17g"] * 3 + ["%d"] + ["%.17g"] * 5)


def dump_text(frame: ModeFrame) -> str:
    """One LAMMPS dump frame, TIMESTEP = mode index, columns :data:`DUMP_COLUMNS`."""
    c = frame.cell
    lo = c[:, 3]
    lx, ly, lz = c[0, 0], c[1, 1], c[2, 2]
    xy, xz, yz = c[0, 1], c[0, 2], c[1, 2]
    flags = " ".join("pp" if p else "ff" for p in frame.pbc)
    if xy or xz or yz:
        xlo_b = lo[0] + min(0.0, xy, xz, xy + xz)
        xhi_b = lo[0] + lx + max(0.0, xy, xz, xy + xz)
        ylo_b = lo[1] + min(0.0, yz)
        yhi_b = lo[1] + ly + max(0.0, yz)
        box = (f"ITEM: BOX BOUNDS xy xz yz {flags}\n{xlo_b:.17g} {xhi_b:.17g} {xy:.17g}\n"
               f"{ylo_b:.17g} {yhi_b:.17g} {xz:.17g}\n{lo[2]:.17g} {lo[2] + lz:.17g} {yz:.17g}\n")
    else:
        box = (f"ITEM: BOX BOUNDS {flags}\n{lo[0]:.17g} {lo[0] + lx:.17g}\n{lo[1]:.17g} {lo[1] + ly:.17g}\n"
               f"{lo[2]:.17g} {lo[2] + lz:.17g}\n")
    u, w, x = frame.displacement, frame.weight, frame.positions
    cols = [frame.ids, frame.types, x[:, 0], x[:, 1], x[:, 2], u[:, 0], u[:, 1], u[:, 2], w]
    return (f"ITEM: TIMESTEP\n{frame.index}\nITEM: NUMBER OF ATOMS\n{frame.natoms}\n{box}"
            f"ITEM: ATOMS {' '.join(DUMP_COLUMNS)}\n" + _table(cols, ["%d", "%d"] + ["%.17g"] * 7))


def write_mode_xyz(path: str | os.PathLike, frames: ModeFrame | Iterable[ModeFrame]) -> None:
    """Write one or several modes (:class:`ModeFrame`) as extended XYZ frames, atomically."""
    text = "".join(xyz_text(f) for f in _frames(frames))
    with atomic_output(path, suffix=".xyz") as tmp:
        with open(tmp, "w") as fh:
            fh.write(text)


def write_mode_dump(path: str | os.PathLike, frames: ModeFrame | Iterable[ModeFrame]) -> None:
    """Write one or several modes (:class:`ModeFrame`) as LAMMPS dump frames, atomically."""
    text = "".join(dump_text(f) for f in _frames(frames))
    with atomic_output(path, suffix=".dump") as tmp:
        with open(tmp, "w") as fh:
            fh.write(text)
