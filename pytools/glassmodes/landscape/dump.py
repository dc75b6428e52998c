"""LAMMPS text dump files: a frame index, one frame at a time, and checks that frames agree.

The MD trajectory of an inherent-structure analysis is a LAMMPS ``dump custom`` text file
(``inputs/is_trajectory.lmp`` writes one). Frames are found once by scanning the file for
``ITEM:`` headers (memory-mapped, no full read), then read one at a time, so a rank of a parallel
quench reads only its own frames.

Columns understood in ``ITEM: ATOMS``: ``id`` and ``type`` (required); positions as ``x y z``
(wrapped, with ``ix iy iz`` image flags if present), ``xu yu zu`` (unwrapped) or ``xs ys zs``
(scaled, with image flags if present); velocities ``vx vy vz`` (optional). Other columns are
ignored. Orthogonal boxes only (a triclinic dump raises :class:`DumpError`). ``ITEM: TIME``
(``dump_modify time yes``) gives the simulation time; without it only the step is known.

Write positions with full precision (``dump_modify format float %.17g``): LAMMPS's default
``%g`` keeps 6 digits, which changes the starting point of every quench by ~1e-6 sigma.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class DumpError(ValueError):
    """A dump file that cannot be read, or frames that do not belong to one trajectory."""


@dataclass(frozen=True, eq=False)
class DumpFrame:
    """One frame of a dump, atoms in ascending ID order.

    Attributes
    ----------
    index : int
        Frame number in the file (0-based).
    step : int
        MD time step (``ITEM: TIMESTEP``).
    time : float
        Simulation time (``ITEM: TIME``), time units; NaN when the dump has none.
    boxlo, boxhi : ndarray, shape=(3,), float64
        Orthogonal box bounds, distance units.
    periodicity : tuple of 3 bool
        From the ``BOX BOUNDS`` flags (``pp`` is periodic).
    ids : ndarray, shape=(N,), int64
        Atom IDs, ascending.
    types : ndarray, shape=(N,), int32
    x : ndarray, shape=(N, 3), float64
        Positions wrapped into the box, distance units.
    image : ndarray, shape=(N, 3), int64
        Image flags (zeros when the dump has none and positions are wrapped).
    velocities : ndarray, shape=(N, 3), float64, or None
        Velocities (distance/time), None when the dump has none.
    has_images : bool
        True when the unwrapped positions are known (image flags or ``xu`` columns).
    """

    index: int
    step: int
    time: float
    boxlo: np.ndarray
    boxhi: np.ndarray
    periodicity: tuple
    ids: np.ndarray
    types: np.ndarray
    x: np.ndarray
    image: np.ndarray
    velocities: np.ndarray | None
    has_images: bool

    @property
    def natoms(self) -> int:
        return int(self.ids.size)

    @property
    def lengths(self) -> np.ndarray:
        """Box edge lengths, shape=(3,)."""
        return self.boxhi - self.boxlo

    @property
    def unwrapped(self) -> np.ndarray:
        """``x + image * L``, shape=(N, 3): continuous along the trajectory when images are known."""
        return self.x + self.image * self.lengths


class DumpFile:
    """Random access to the frames of a LAMMPS text dump.

    >>> d = DumpFile("traj.dump")          # doctest: +SKIP
    >>> len(d), d.frame(0).natoms          # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such dump file")
        if self.path.stat().st_size == 0:
            raise DumpError(f"{self.path}: empty file")
        self._offsets = self._index()
        if not self._offsets:
            raise DumpError(f"{self.path}: no frame found (not a LAMMPS text dump?)")

    @classmethod
    def from_index(cls, path: str | os.PathLike, offsets: list[tuple[int, int]]) -> "DumpFile":
        """A DumpFile from an index built elsewhere (another MPI rank), without rescanning the file."""
        self = cls.__new__(cls)
        self.path = Path(path)
        self._offsets = list(offsets)
        return self

    @property
    def offsets(self) -> list[tuple[int, int]]:
        """(start, end) byte range of each frame."""
        return list(self._offsets)

    def _index(self) -> list[tuple[int, int]]:
        """(start, end) byte ranges of the frames: a frame starts at its first ITEM after an ATOMS block.

        ``mmap.find`` of ``"ITEM: "`` at line starts (C speed, the atoms blocks are skipped by the
        search itself): a few seconds per GB.
        """
        with open(self.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            starts = []
            after_atoms = True
            size = len(mm)
            pos = 0 if mm[:6] == b"ITEM: " else mm.find(b"\nITEM: ") + 1
            while 0 < pos or (pos == 0 and mm[:6] == b"ITEM: "):
                if after_atoms:
                    starts.append(pos)
                    after_atoms = False
                if mm[pos + 6:pos + 11] == b"ATOMS":
                    after_atoms = True
                nxt = mm.find(b"\nITEM: ", pos + 6)
                if nxt < 0:
                    break
                pos = nxt + 1
        return [(s, e) for s, e in zip(starts, starts[1:] + [size])]

    def __len__(self) -> int:
        return len(self._offsets)

    def header(self, k: int) -> "DumpHeader":
        """The header of frame ``k`` (step, time, atom count, box, columns) without its atoms: cheap."""
        k = int(k)
        if not 0 <= k < len(self):
            raise IndexError(f"{self.path}: frame {k} out of range ({len(self)} frames)")
        start, end = self._offsets[k]
        with open(self.path, "rb") as fh:
            fh.seek(start)
            text = fh.read(min(end - start, 4096))
        try:
            h = _parse_header(text, k)
        except DumpError as exc:
            raise DumpError(f"{self.path}, frame {k}: {exc}") from None
        return h

    def frame(self, k: int) -> DumpFrame:
        """Frame ``k`` (0-based), parsed and sorted by atom ID."""
        k = int(k)
        if not 0 <= k < len(self):
            raise IndexError(f"{self.path}: frame {k} out of range ({len(self)} frames)")
        start, end = self._offsets[k]
        with open(self.path, "rb") as fh:
            fh.seek(start)
            text = fh.read(end - start)
        try:
            return _parse_frame(text, k)
        except DumpError as exc:
            raise DumpError(f"{self.path}, frame {k}: {exc}") from None


@dataclass(frozen=True)
class DumpHeader:
    """Header of a frame: ``step``, ``time`` (NaN if absent), ``natoms``, ``boxlo``, ``boxhi``,
    ``periodicity``, ``columns`` and the byte offset ``body`` where the atoms block starts."""

    index: int
    step: int
    time: float
    natoms: int
    boxlo: tuple
    boxhi: tuple
    periodicity: tuple
    columns: tuple
    body: int


def _parse_header(text: bytes, index: int) -> DumpHeader:
    pos = 0
    step = None
    time = float("nan")
    natoms = None
    bounds = None
    flags = None

    def line() -> bytes:
        nonlocal pos
        end = text.find(b"\n", pos)
        if end < 0:
            raise DumpError("incomplete frame header")
        out = text[pos:end]
        pos = end + 1
        return out.strip()

    while True:
        item = line()
        if not item:
            continue
        if not item.startswith(b"ITEM:"):
            raise DumpError(f"unexpected line {item[:60]!r}")
        item = item[5:].strip()
        if item == b"TIMESTEP":
            step = int(line())
        elif item == b"TIME":
            time = float(line())
        elif item == b"UNITS":
            line()
        elif item == b"NUMBER OF ATOMS":
            natoms = int(line())
        elif item.startswith(b"BOX BOUNDS"):
            words = item.split()[2:]
            if b"xy" in words:
                raise DumpError("triclinic box: only orthogonal boxes are supported")
            flags = [w.decode() for w in words]
            bounds = [[float(v) for v in line().split()[:2]] for _ in range(3)]
        elif item.startswith(b"ATOMS"):
            columns = tuple(c.decode() for c in item.split()[1:])
            break
        else:
            raise DumpError(f"unknown item {item.decode()!r}")
    if step is None or natoms is None or bounds is None:
        raise DumpError("incomplete frame header (TIMESTEP, NUMBER OF ATOMS, BOX BOUNDS, ATOMS needed)")
    for need in ("id", "type"):
        if need not in columns:
            raise DumpError(f"no {need!r} column (columns: {' '.join(columns)})")
    periodic = tuple(f == "pp" for f in (flags or ["pp"] * 3))
    return DumpHeader(index=index, step=step, time=time, natoms=natoms, boxlo=tuple(b[0] for b in bounds),
                      boxhi=tuple(b[1] for b in bounds), periodicity=periodic, columns=columns, body=pos)


def _parse_frame(text: bytes, index: int) -> DumpFrame:
    h = _parse_header(text, index)
    step, time, natoms, columns = h.step, h.time, h.natoms, list(h.columns)
    bounds = np.array([h.boxlo, h.boxhi]).T
    body = text[h.body:]
    try:
        table = np.array(body.split(), dtype=float)
    except ValueError:
        raise DumpError("non-numeric value in the ATOMS block") from None
    if table.size != natoms * len(columns):
        raise DumpError(f"ATOMS block has {table.size} values, expected {natoms} atoms x {len(columns)} columns "
                        "(truncated file?)")
    table = table.reshape(natoms, len(columns))
    col = {c: j for j, c in enumerate(columns)}
    order = np.argsort(table[:, col["id"]], kind="stable")
    table = table[order]
    ids = table[:, col["id"]].astype(np.int64)
    if np.any(np.diff(ids) == 0):
        raise DumpError("repeated atom IDs")
    lo, hi = bounds[:, 0], bounds[:, 1]
    length = hi - lo
    has_images = False
    if all(c in col for c in ("x", "y", "z")):
        x = table[:, [col["x"], col["y"], col["z"]]]
    elif all(c in col for c in ("xs", "ys", "zs")):
        x = lo + table[:, [col["xs"], col["ys"], col["zs"]]] * length
    elif all(c in col for c in ("xu", "yu", "zu")):
        xu = table[:, [col["xu"], col["yu"], col["zu"]]]
        image = np.floor((xu - lo) / length).astype(np.int64)
        x = xu - image * length
        has_images = True
    else:
        raise DumpError(f"no positions (x y z, xs ys zs or xu yu zu) among the columns {' '.join(columns)}")
    if not has_images:
        if all(c in col for c in ("ix", "iy", "iz")):
            image = table[:, [col["ix"], col["iy"], col["iz"]]].astype(np.int64)
            has_images = True
        else:
            image = np.zeros((natoms, 3), dtype=np.int64)
    v = None
    if all(c in col for c in ("vx", "vy", "vz")):
        v = table[:, [col["vx"], col["vy"], col["vz"]]]
    periodic = h.periodicity
    return DumpFrame(index=index, step=step, time=time, boxlo=lo, boxhi=hi, periodicity=periodic, ids=ids,
                     types=table[:, col["type"]].astype(np.int32), x=np.ascontiguousarray(x), image=image,
                     velocities=v, has_images=has_images)


def check_same_header(ref: DumpFrame, h: DumpHeader, box_rtol: float = 1e-12) -> None:
    """Raise :class:`DumpError` unless header ``h`` has the atom count, box and columns of ``ref``'s frame."""
    where = f"frame {h.index} (step {h.step})"
    if h.natoms != ref.natoms:
        raise DumpError(f"{where} has {h.natoms} atoms, frame {ref.index} has {ref.natoms}: "
                        "the atoms must not change along the trajectory")
    scale = float(np.max(np.abs(ref.lengths)))
    lo, hi = np.asarray(h.boxlo), np.asarray(h.boxhi)
    if (np.max(np.abs(lo - ref.boxlo)) > box_rtol * scale or np.max(np.abs(hi - ref.boxhi)) > box_rtol * scale
            or h.periodicity != ref.periodicity):
        raise DumpError(f"{where}: box {lo.tolist()}-{hi.tolist()} differs from frame {ref.index}'s "
                        f"{ref.boxlo.tolist()}-{ref.boxhi.tolist()}: the box must be fixed (NVE)")


def check_same_system(ref: DumpFrame, frame: DumpFrame, box_rtol: float = 1e-12) -> None:
    """Raise :class:`DumpError` unless ``frame`` has the atoms (IDs, types) and box of ``ref``.

    An inherent-structure trajectory compares frames atom by atom at constant volume (the NVE run of
    Mizuno et al. (2020)): a frame whose atom set or box differs would give meaningless displacements.
    """
    where = f"frame {frame.index} (step {frame.step})"
    if frame.natoms != ref.natoms:
        raise DumpError(f"{where} has {frame.natoms} atoms, frame {ref.index} has {ref.natoms}: "
                        "the atoms must not change along the trajectory")
    if not np.array_equal(frame.ids, ref.ids):
        bad = np.flatnonzero(frame.ids != ref.ids)
        raise DumpError(f"{where}: atom IDs differ from frame {ref.index} ({bad.size} differ, first ID "
                        f"{frame.ids[bad[0]]} vs {ref.ids[bad[0]]}): the atoms must not change")
    if not np.array_equal(frame.types, ref.types):
        j = int(np.flatnonzero(frame.types != ref.types)[0])
        raise DumpError(f"{where}: atom ID {frame.ids[j]} has type {frame.types[j]}, type {ref.types[j]} in "
                        f"frame {ref.index}")
    scale = float(np.max(np.abs(ref.lengths)))
    if (np.max(np.abs(frame.boxlo - ref.boxlo)) > box_rtol * scale
            or np.max(np.abs(frame.boxhi - ref.boxhi)) > box_rtol * scale or frame.periodicity != ref.periodicity):
        raise DumpError(f"{where}: box {frame.boxlo.tolist()}-{frame.boxhi.tolist()} differs from frame "
                        f"{ref.index}'s {ref.boxlo.tolist()}-{ref.boxhi.tolist()}: the box must be fixed (NVE)")
    if frame.has_images != ref.has_images:
        raise DumpError(f"{where}: image flags present in one frame and not in the other")
    if (frame.velocities is None) != (ref.velocities is None):
        raise DumpError(f"{where}: velocities present in one frame and not in the other")
