"""Render a normal mode to a PNG or an animation, headless (OVITO + Tachyon): particles colored by weight, arrows.

Examples:
  glassmodes render modes.h5 --mode 0 -o mode0.png
  glassmodes render modes.h5 --mode 0 --data glass.data -o mode0.png
  glassmodes render modes.h5 --mode 0 --animate -o mode0.gif

The top participants (--select, the fraction of particles of largest weight |e_i|^2) are drawn
full size, colored by weight, with arrows along u_i = e_i / sqrt(m_i) (the longest --arrow-scale
long); the other particles as small grey dots. Positions from --data (any structure file OVITO
reads, with atom IDs) or from the mode file. --view core frames the core (the cell shifted so the
core is in one piece), box the whole cell, auto the core when it is small. Per-particle radii of the
structure (a polydisperse glass's data file) are kept relative. A label (mode, omega, PR, length
scale) and a colour bar of the weight are drawn unless --no-label / --no-color-bar. --animate
writes one period of the oscillation (GIF, or MP4/AVI by OVITO's encoder). See docs/ovito.md.
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("modes", help="mode file (glassmodes modes -o ...)")
    parser.add_argument("--mode", type=int, required=True, metavar="K", help="mode index (its eigenvector stored)")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write (.gif, .mp4 or .avi with --animate)")
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
                        help="radius of the top participants, distance units (default 0.25 mean spacings; "
                             "with per-particle radii in --data, their mean)")
    parser.add_argument("--no-label", action="store_true", help="no text label (mode, omega, PR, length scale)")
    parser.add_argument("--no-color-bar", action="store_true", help="no colour bar of the weight |e_i|^2")
    parser.add_argument("--animate", action="store_true", help="an animation of one period of the mode")
    parser.add_argument("--frames", type=int, default=16, help="frames per period with --animate (default 16)")
    parser.add_argument("--amplitude", type=float, default=None,
                        help="largest displacement in the animation, distance units (default 0.3 mean spacings)")
    parser.add_argument("--fps", type=int, default=10, help="frames per second with --animate (default 10)")


def run(args) -> int:
    from glassmodes.ovito import load_mode_frame
    from glassmodes.ovito.render import render_mode

    result = render_mode(args.modes, args.mode, args.output, data=args.data, size=tuple(args.size),
                         select=args.select, view=args.view, camera_dir=args.camera_dir,
                         arrow_scale=args.arrow_scale, arrow_color=tuple(args.arrow_color), radius=args.radius,
                         label=not args.no_label, color_bar=not args.no_color_bar, animate=args.animate,
                         frames=args.frames, amplitude=args.amplitude, fps=args.fps)
    frame = load_mode_frame(args.modes, args.mode)
    print(f"mode {frame.index}: omega = {frame.omega:.6g} {frame.omega_unit}, participation ratio "
          f"{frame.participation_ratio:.4g}; {result.view} view, {result.selected} top participants"
          f"{f', {result.frames} frames' if args.animate else ''} -> {result.path}")
    return 0
