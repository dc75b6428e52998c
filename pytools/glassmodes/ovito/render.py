"""Headless pictures of a mode: OVITO pipeline + Tachyon ray tracer, orthographic camera.

The picture (the thesis's way of drawing a mode): the top participants (the ``select`` fraction
of particles of largest weight ``|e_i|^2``) full size, colored by weight (viridis, 0 .. max
weight), with arrows along ``u_i = e_i / sqrt(m_i)`` (one uniform color, the longest
``arrow_scale`` long); every other particle a small grey dot. Camera: orthographic, looking along
the direction in which the core's displacements are smallest (arrows seen side-on) unless given.
Framing: ``core`` shows the core (the fewest particles carrying half the weight,
:func:`glassmodes.ovito.frame.core_mask`; 90% of them and their arrows in the picture), the cell
shifted so the core is in one piece in its middle, and only a slab of particles around it along
the viewing direction (nothing in front hides it); ``box`` shows the whole cell; ``auto`` the core
when its picture is less than 70% of the cell's (a quasi-localized mode), else the cell.
Particle sizes: when the structure carries per-particle radii (``--data`` with a ``Radius``
property, e.g. a LAMMPS data file of ``atom_style sphere`` for a polydisperse glass) the spheres
keep their relative sizes (scaled so the mean radius is ``radius``); a LAMMPS data file without
them but with ``Pair Coeffs``/``PairIJ Coeffs`` (e.g. a binary glass from ``glassmodes prepare``)
gives per-type sizes sigma_ii / 2, kept relative in the same way; else all are ``radius``.
Overlays: a text label (mode index, omega, PR; the longest arrow and the picture width as the
length scale) in the top left corner, and a colour bar of the weight ``|e_i|^2`` (the colour map
of the top participants) on the right.
Animation (``animate=True``): one period of the oscillation ``x0 + A sin(2 pi f / F) u / max|u|``
(:class:`glassmodes.ovito.modifier.ModeModifier`), rendered frame by frame and written as an
animated GIF (Pillow) or, for ``.mp4``/``.avi``, by OVITO's video encoder.

:class:`Camera` maps world points to pixels (OVITO's orthographic convention, ``fov`` = half the
visible height): annotate or check pictures with :meth:`Camera.project`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassmodes.ovito.frame import core_center, core_mask, load_mode_frame, top_participants

VIEWS = ("auto", "core", "box")
AUTO_CORE = 0.7  # view="auto" frames the core when its picture is less than this fraction of the cell's


@dataclass(frozen=True)
class Camera:
    """An orthographic camera.

    Attributes
    ----------
    position : ndarray, shape=(3,)
        Camera position, distance units (on the line through the target along ``direction``).
    direction : ndarray, shape=(3,)
        Viewing direction, unit vector.
    up : ndarray, shape=(3,)
        Screen-up direction, unit vector perpendicular to ``direction``.
    fov : float
        Half the visible height, distance units.
    """

    position: np.ndarray
    direction: np.ndarray
    up: np.ndarray
    fov: float

    @property
    def right(self) -> np.ndarray:
        r = np.cross(self.direction, self.up)
        return r / np.linalg.norm(r)

    def project(self, points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Pixel coordinates ``(column, row)`` of world points, shape=(n, 2), for an image of
        ``size = (width, height)``; row 0 at the top."""
        w, h = size
        s = 0.5 * h / self.fov
        d = np.atleast_2d(np.asarray(points, dtype=float)) - self.position
        return np.column_stack([0.5 * w + s * (d @ self.right), 0.5 * h - s * (d @ self.up)])


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_mode` drew.

    Attributes
    ----------
    path : Path
        The PNG written.
    camera : Camera
    view : str
        ``core`` or ``box``, as rendered.
    core_center : ndarray, shape=(3,)
        Center of the core in the rendered coordinates (the cell is shifted in ``core`` view).
    selected : int
        Number of top participants (opaque, with arrows).
    size : tuple of int
        (width, height) in pixels.
    label : str
        Text of the label overlay ("" when off).
    frames : int
        Number of frames written (1 for a still picture).
    """

    path: Path
    camera: Camera
    view: str
    core_center: np.ndarray
    selected: int
    size: tuple
    label: str = ""
    frames: int = 1


ANIMATION_SUFFIXES = (".gif", ".mp4", ".avi")

def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n == 0:
        raise ValueError(f"camera direction {tuple(v)} has no length")
    return v / n


def _up_for(direction: np.ndarray) -> np.ndarray:
    """World z (or y when looking nearly along z), made perpendicular to ``direction``."""
    ref = np.array([0.0, 0.0, 1.0]) if abs(direction[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    up = ref - (ref @ direction) * direction
    return up / np.linalg.norm(up)


def displacement_axis(u: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Unit vector along which ``sum_i w_i u_i u_i^T`` is smallest (least displacement), shape=(3,)."""
    c = (np.asarray(u).T * np.asarray(weight)) @ np.asarray(u)
    vals, vecs = np.linalg.eigh(c)
    d = vecs[:, 0]
    return -d if d[np.argmax(np.abs(d))] > 0 else d  # sign: a convention only


def _fov_for(points: np.ndarray, target: np.ndarray, direction: np.ndarray, up: np.ndarray, aspect: float,
             margin: float, quantile: float = 1.0) -> float:
    """Half-height (orthographic fov) that shows ``quantile`` of the points in each screen direction."""
    right = np.cross(direction, up)
    d = np.atleast_2d(points) - target
    half = max(np.quantile(np.abs(d @ up), quantile), np.quantile(np.abs(d @ right), quantile) / aspect)
    return 1.05 * (half + margin)


def lammps_type_radii(path) -> dict | None:
    """Per-type radii sigma_ii / 2 from a LAMMPS data file's ``Pair Coeffs`` or ``PairIJ Coeffs``.

    The coefficient lines are ``i eps sigma ...`` (``Pair Coeffs``) or ``i j eps sigma ...``
    (``PairIJ Coeffs``, the like pairs ``i i`` used): the styles whose second coefficient is a
    length (lj/cut, ipl/smooth, ...). None when the file is not a data file or has no such section.
    """
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except (OSError, ValueError):
        return None
    radii, section = {}, None
    for line in lines:
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0][0].isalpha():
            section = " ".join(words)
            continue
        try:
            if section == "Pair Coeffs" and len(words) >= 3:
                radii[int(words[0])] = 0.5 * float(words[2])
            elif section == "PairIJ Coeffs" and len(words) >= 4 and words[0] == words[1]:
                radii[int(words[0])] = 0.5 * float(words[3])
        except ValueError:
            return None
    return radii if radii and all(r > 0 for r in radii.values()) else None


def render_mode(modes: str | os.PathLike, k: int, output: str | os.PathLike, *, data: str | os.PathLike | None = None,
                size: tuple[int, int] = (800, 600), select: float = 0.1, view: str = "auto",
                camera_dir=None, radius: float | None = None, arrow_scale: float | None = None,
                arrow_width: float | None = None, arrow_color=(0.85, 0.05, 0.05), context_color=(0.75, 0.75, 0.75),
                context_radius: float = 0.4, slab: float | None = None, background=(1.0, 1.0, 1.0),
                antialiasing: bool = True, label: bool = True, color_bar: bool = True, animate: bool = False,
                frames: int = 16, amplitude: float | None = None, fps: int = 10) -> RenderResult:
    """Render mode ``k`` of a mode file to a PNG (module docs for the picture).

    Parameters
    ----------
    modes : path
        Mode file.
    k : int
        Mode index.
    output : path
        PNG to write; with ``animate``, a ``.gif`` (or ``.mp4``/``.avi``).
    data : path, optional
        Structure file with atom IDs (LAMMPS data, dump, ...); default the mode file's atoms.
    size : (int, int)
        Width, height in pixels.
    select : float in (0, 1]
        Fraction of particles drawn as top participants (full size, colored, arrows).
    view : "auto", "core" or "box"
    camera_dir : 3 floats, optional
        Viewing direction; default the core's least-displacement axis (3D), ``-z`` (2D).
    radius : float, optional
        Radius of the top participants, distance units; default 0.25 mean interparticle distances
        ``(V/N)^(1/d)``. With per-particle radii in the structure: their mean (sizes kept relative).
    arrow_scale : float, optional
        Length of the longest arrow, distance units; default 1.8 mean interparticle distances.
    arrow_width : float, optional
        Default 0.1 mean interparticle distances.
    arrow_color, context_color, background : RGB in [0, 1]
    context_radius : float
        Radius of the other particles, relative to ``radius``.
    slab : float, optional
        Core view only: particles farther than this from the core along the viewing direction are
        left out, except the core itself (default: half the picture's half-height).
    label, color_bar : bool
        Draw the text label (mode, omega, PR, length scale) and the colour bar of the weight.
    animate : bool
        Write an animation of one period of the mode instead of a still picture.
    frames : int
        Frames of the animation (one period).
    amplitude : float, optional
        Largest displacement in the animation, distance units (default 0.3 mean distances).
    fps : int
        Frames per second of the animation.
    """
    from ovito.modifiers import ColorCodingModifier
    from ovito.qt_compat import QtCore
    from ovito.vis import ColorLegendOverlay, TachyonRenderer, TextLabelOverlay, Viewport

    from glassmodes.ovito.modifier import WEIGHT_PROPERTY, mode_pipeline

    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    width, height = (int(s) for s in size)
    if width < 8 or height < 8:
        raise ValueError(f"image size {size} is too small")
    output = Path(output)
    if animate:
        if output.suffix.lower() not in ANIMATION_SUFFIXES:
            raise ValueError(f"an animation is written as {', '.join(ANIMATION_SUFFIXES)}, not {output.name!r}")
        if int(frames) < 2:
            raise ValueError(f"an animation needs at least 2 frames, got {frames}")
    elif output.suffix.lower() in ANIMATION_SUFFIXES:
        raise ValueError(f"{output.name}: a still picture is a PNG; give animate=True (--animate) for an animation")
    frame = load_mode_frame(modes, k)
    type_radii = lammps_type_radii(data) if data is not None else None
    d = frame.dimension
    h = frame.cell[:, :3]
    volume = abs(np.linalg.det(h)) if d == 3 else abs(np.linalg.det(h[:2, :2]))
    spacing = (volume / frame.natoms) ** (1.0 / d)
    radius = 0.25 * spacing if radius is None else float(radius)
    arrow_scale = 1.8 * spacing if arrow_scale is None else float(arrow_scale)
    arrow_width = 0.1 * spacing if arrow_width is None else float(arrow_width)

    pipeline = mode_pipeline(modes, k, data=data, select=True, select_fraction=select, arrows="selected",
                             arrow_scale=arrow_scale, arrow_coloring="uniform", center_core=True,
                             particle_scale=1.0, context_scale=1.0,   # radii set below, from the structure's own
                             context_transparency=0.0)
    mod = pipeline.modifiers[-1].delegate   # the ModeModifier inside OVITO's PythonModifier wrapper
    mod.vector_vis.width = arrow_width
    mod.vector_vis.color = tuple(float(c) for c in arrow_color)

    def geometry():
        out = pipeline.compute()
        p = out.particles
        w = np.asarray(p[WEIGHT_PROPERTY])
        cell = np.asarray(out.cell[...])
        pbc = tuple(bool(b) for b in out.cell.pbc)
        return np.asarray(p.positions), np.asarray(p["Mode Displacement"]), w, cell, pbc

    # camera from the centered structure (the core in one piece)
    pos, u, w, cell, pbc = geometry()
    scaling = mod.vector_vis.scaling
    core = core_mask(w)
    if camera_dir is not None:
        direction = _unit(camera_dir)
    elif d == 2:
        direction = np.array([0.0, 0.0, -1.0])
    else:
        direction = displacement_axis(u[core], w[core])
    up = _up_for(direction)
    aspect = width / height
    center = core_center(pos, w, cell, pbc)
    core_pts = np.vstack([pos[core], pos[core] + scaling * u[core]])
    fov_core = _fov_for(core_pts, center, direction, up, aspect, 1.5 * radius, quantile=0.9)

    def box_view(pos, cell):
        unit_cube = np.array([[i, j, l] for i in (0, 1) for j in (0, 1) for l in (0, 1)], dtype=float)
        corners = cell[:, 3] + unit_cube @ cell[:, :3].T
        box_center = cell[:, 3] + 0.5 * cell[:, :3].sum(axis=1)
        return box_center, _fov_for(np.vstack([corners, pos]), box_center, direction, up, aspect, 1.5 * radius)

    chosen = view if view != "auto" else ("core" if fov_core < AUTO_CORE * box_view(pos, cell)[1] else "box")
    if chosen == "box":
        mod.center_core = False
        pos, u, w, cell, pbc = geometry()
        center = core_center(pos, w, cell, pbc)
        target, fov = box_view(pos, cell)
        depth = np.inf
    else:
        target, fov = center, fov_core
        depth = 0.5 * fov if slab is None else float(slab)
    wmax = float(w.max()) if w.max() > 0 else 1.0
    coloring = ColorCodingModifier(property=WEIGHT_PROPERTY, gradient=ColorCodingModifier.Viridis(),
                                   start_value=0.0, end_value=wmax, only_selected=True, auto_adjust_range=False)
    pipeline.modifiers.append(coloring)

    def style(frame_index, data):
        p = data.particles_
        sel = np.asarray(p["Selection"]) != 0
        p.create_property("Color", data=np.where(sel[:, None], np.asarray(p["Color"]), np.asarray(context_color)))
        r = np.full(p.count, radius)
        if "Radius" in p and np.all(np.asarray(p["Radius"]) > 0):   # per-particle sizes: keep them relative
            own = np.asarray(p["Radius"], dtype=float)
            r = radius * own / own.mean()
        elif type_radii and "Particle Type" in p:                   # per-type sizes: sigma_ii / 2
            types = np.asarray(p["Particle Type"], dtype=int)
            if all(int(t) in type_radii for t in np.unique(types)):
                own = np.array([type_radii[int(t)] for t in types])
                r = radius * own / own.mean()
        p.create_property("Radius", data=np.where(sel, r, float(context_radius) * r))
        if np.isfinite(depth):  # core view: a slab around the core, so nothing in front hides it
            outside = np.abs((np.asarray(p.positions) - target) @ direction) > depth
            p.delete_elements(outside & ~core_mask(w))
        del p["Selection"]   # OVITO would draw selected particles red

    pipeline.modifiers.append(style)
    source_cell = pipeline.source.data.cell   # FileSource and StaticSource: the visual element is shared
    if source_cell is not None and source_cell.vis is not None:
        source_cell.vis.enabled = chosen == "box"
        source_cell.vis.rendering_color = (0.4, 0.4, 0.4)
        source_cell.vis.line_width = 0.03 * spacing

    distance = 2.0 * float(np.linalg.norm(cell[:, :3].sum(axis=1))) + 10.0 * spacing
    camera = Camera(position=target - distance * direction, direction=direction, up=up, fov=float(fov))
    vp = Viewport(type=Viewport.Type.Ortho, camera_pos=tuple(camera.position), camera_dir=tuple(direction),
                  camera_up=tuple(up), fov=camera.fov)
    text = ""
    if label:
        mf = load_mode_frame(modes, k)
        what = (f"\u03c9 = {mf.omega:.4g} {mf.omega_unit}" if np.isfinite(mf.omega)
                else "a displacement field, not an eigenmode")     # events, double wells (omega NaN)
        text = (f"mode {mf.index}: {what}, PR = {mf.participation_ratio:.3g}\n"
                f"longest arrow {arrow_scale:.2g}, picture width {2 * fov * aspect:.3g} (distance units)")
        vp.overlays.append(TextLabelOverlay(
            text=text, alignment=QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop,
            font_size=0.032, font_family="DejaVu Sans", text_color=(0.0, 0.0, 0.0), offset_x=0.01, offset_y=-0.01,
            outline_enabled=True, outline_color=(1.0, 1.0, 1.0)))
    if color_bar:
        vp.overlays.append(ColorLegendOverlay(
            modifier=coloring, title="|e_i|\u00b2", alignment=QtCore.Qt.AlignmentFlag.AlignRight
            | QtCore.Qt.AlignmentFlag.AlignVCenter, orientation=QtCore.Qt.Orientation.Vertical,
            legend_size=0.4, font_size=0.1, label_size=0.8, font_family="DejaVu Sans", text_color=(0.0, 0.0, 0.0),
            format_string="%.2g", offset_x=-0.04, background_enabled=True, background_color=(1.0, 1.0, 1.0)))
    renderer = TachyonRenderer(antialiasing=antialiasing, ambient_occlusion=False, shadows=False)
    n_frames = 1
    if animate:
        mod.animate = True
        mod.frames = int(frames)
        mod.amplitude = 0.3 * spacing if amplitude is None else float(amplitude)
        n_frames = int(frames)
    pipeline.add_to_scene()
    try:
        if not animate:
            vp.render_image(size=(width, height), filename=str(output), background=tuple(background),
                            renderer=renderer)
        else:
            _render_animation(vp, output, (width, height), tuple(background), renderer, n_frames, int(fps))
    finally:
        pipeline.remove_from_scene()
    return RenderResult(path=output, camera=camera, view=chosen, core_center=center,
                        selected=int(top_participants(w, select).sum()), size=(width, height), label=text,
                        frames=n_frames)


def _render_animation(vp, output: Path, size, background, renderer, frames: int, fps: int) -> None:
    """Frames 0..frames-1 of the scene: a GIF assembled with Pillow, other formats by OVITO's encoder.

    Written atomically (:func:`glassmodes.io.atomic.atomic_output`).
    """
    from glassmodes.io.atomic import atomic_output

    with atomic_output(output, suffix=output.suffix) as tmp:
        if output.suffix.lower() == ".gif":
            from PIL import Image

            images = []
            for f in range(frames):
                img = vp.render_image(size=size, frame=f, background=background, renderer=renderer)
                images.append(Image.fromarray(_qimage_rgb(img)))
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=int(round(1000 / fps)), loop=0)
        else:   # OVITO picks the encoder from the suffix: render under the name without ".part"
            video = tmp.with_suffix("")
            try:
                vp.render_anim(filename=str(video), size=size, fps=fps, background=background, renderer=renderer,
                               range=(0, frames - 1))
                os.replace(video, tmp)
            finally:
                if video.exists():
                    video.unlink()


def _qimage_rgb(img) -> np.ndarray:
    """RGB array, shape=(height, width, 3), uint8, of a QImage."""
    q = img.convertToFormat(img.Format.Format_RGB888)
    ptr = q.constBits()
    if hasattr(ptr, "setsize"):
        ptr.setsize(q.sizeInBytes())
    arr = np.frombuffer(bytes(ptr), dtype=np.uint8).reshape(q.height(), q.bytesPerLine())
    return arr[:, : 3 * q.width()].reshape(q.height(), q.width(), 3).copy()
