"""Run a LAMMPS deck or data file through LAMMPS's Python module and write its Hessian.

The job is the library side of ``glassmodes hessian``: it works in one process or in every rank
of an ``mpirun`` (each rank calls :func:`write_hessian_job` with the same arguments).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from glassmodes.lammps_session import open_lammps

_KEYWORDS = ("method", "mass", "delta", "ftol", "fcheck", "range", "symmetrize")


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
    """

    source: Path
    output: Path
    forcefield: Path | None = None
    group: str = "all"
    keywords: dict | None = None
    minimize: str | None = None

    def commands(self) -> list[str]:
        if not self.source.is_file():
            raise FileNotFoundError(f"{self.source}: no such file")
        kw = dict(self.keywords or {})
        unknown = set(kw) - set(_KEYWORDS)
        if unknown:
            raise ValueError(f"unknown write_hessian keywords {sorted(unknown)}; known: {_KEYWORDS}")
        if self.forcefield is None:
            lines = [f"include {shlex.quote(str(self.source))}"]
        else:
            ff = self.forcefield.read_text().splitlines()
            if not any(l.split()[:1] == ["read_data"] for l in ff):
                raise ValueError(f"{self.forcefield}: needs a line `read_data` marking where the data file goes")
            lines = [f"read_data {shlex.quote(str(self.source))}" if l.split()[:1] == ["read_data"] else l
                     for l in ff]
        if self.minimize:
            lines += ["min_style cg", f"minimize {self.minimize}"]
        args = " ".join(f"{k} {v}" for k, v in kw.items())
        lines.append(f"write_hessian {self.group} {shlex.quote(str(self.output))} {args}".rstrip())
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
