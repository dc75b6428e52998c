"""Export modes as extended XYZ or LAMMPS dump files (one frame per mode), for any viewer.

Columns: dump "id type x y z Displacement.X Displacement.Y Displacement.Z weight" (OVITO reads the
three as its vector property Displacement); extended XYZ species (the type), pos, id, mass,
mode_displacement, mode_weight. Displacement = u_i = e_i / sqrt(m_i), weight = |e_i|^2, positions
from the mode file. The format follows the suffix (.xyz/.extxyz: xyz; .dump/.lammpstrj: dump)
unless --format is given. See docs/ovito.md.
"""

from __future__ import annotations

from pathlib import Path

SUFFIXES = {".xyz": "xyz", ".extxyz": "xyz", ".dump": "dump", ".lammpstrj": "dump"}


def add_arguments(parser) -> None:
    parser.add_argument("modes", help="mode file (glassmodes modes -o ...)")
    parser.add_argument("--mode", type=int, nargs="+", required=True, metavar="K",
                        help="mode index or indices (eigenvectors stored); one frame each")
    parser.add_argument("-o", "--output", required=True, help="file to write")
    parser.add_argument("--format", choices=("xyz", "dump"), default=None,
                        help="extended XYZ or LAMMPS dump (default: from the suffix)")


def run(args) -> int:
    from glassmodes.modes import ModeFile
    from glassmodes.ovito import load_mode_frame, write_mode_dump, write_mode_xyz

    fmt = args.format or SUFFIXES.get(Path(args.output).suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the format from {args.output!r}: give --format xyz or --format dump")
    with ModeFile(args.modes) as mf:
        frames = [load_mode_frame(mf, k) for k in args.mode]
    (write_mode_xyz if fmt == "xyz" else write_mode_dump)(args.output, frames)
    print(f"{len(frames)} mode(s) ({', '.join(str(f.index) for f in frames)}) -> {args.output} ({fmt})")
    return 0
