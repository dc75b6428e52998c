"""Render a normal mode to a PNG, headless (OVITO + Tachyon): particles colored by weight, arrows.

The top participants (--select, the fraction of particles of largest weight |e_i|^2) are drawn
full size, colored by weight, with arrows along u_i = e_i / sqrt(m_i) (the longest --arrow-scale
long); the other particles as small grey dots. Positions from --data (any structure file OVITO
reads, with atom IDs) or from the mode file. --view core frames the core (the cell shifted so the
core is in one piece), box the whole cell, auto the core when it is small. See docs/ovito.md.
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("modes", help="mode file (glassmodes modes -o ...)")
    parser.add_argument("--mode", type=int, required=True, metavar="K", help="mode index (its eigenvector stored)")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.add_argument("--data", default=None, help="structure file with atom IDs (default: the mode file's atoms)")
    parser.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), default=(800, 600),
                        help="image size in pixels (default 800 600)")
    parser.add_argument("--select", type=float, default=0.1,
                        help="fraction of particles drawn as top participants (default 0.1)")
    parser.add_argument("--view", choices=("auto", "core", "box"), default="auto", help="framing (default auto)")
    parser.add_argument("--camera-dir", type=float, nargs=3, metavar=("X", "Y", "Z"), default=None,
                        help="viewing direction (default: the core's least-displacement axis; -z in 2D)")
    parser.add_argument("--arrow-scale", type=float, default=None,
                        help="length of the longest arrow, distance units (default 1.8 mean spacings)")
    parser.add_argument("--arrow-color", type=float, nargs=3, metavar=("R", "G", "B"), default=(0.85, 0.05, 0.05),
                        help="arrow color, RGB in [0, 1] (default red)")
    parser.add_argument("--radius", type=float, default=None,
                        help="radius of the top participants, distance units (default 0.25 mean spacings)")


def run(args) -> int:
    from glassmodes.ovito import load_mode_frame
    from glassmodes.ovito.render import render_mode

    result = render_mode(args.modes, args.mode, args.output, data=args.data, size=tuple(args.size),
                         select=args.select, view=args.view, camera_dir=args.camera_dir,
                         arrow_scale=args.arrow_scale, arrow_color=tuple(args.arrow_color), radius=args.radius)
    frame = load_mode_frame(args.modes, args.mode)
    print(f"mode {frame.index}: omega = {frame.omega:.6g} {frame.omega_unit}, participation ratio "
          f"{frame.participation_ratio:.4g}; {result.view} view, {result.selected} top participants -> {result.path}")
    return 0
