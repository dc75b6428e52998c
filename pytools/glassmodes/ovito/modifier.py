"""The OVITO modifier that attaches a normal mode to the particles of a pipeline.

Usable from the ``ovito`` Python module (``pipeline.modifiers.append(ModeModifier(...))``) and
from OVITO Pro's GUI as a Python script modifier (see docs/ovito.md and ``gui_modifier.py``).

Output, per particle, matched to the mode file by atom ID (Particle Identifier), never by order:

``Mode Displacement`` (3 components, float64)
    ``u_i = e_i / sqrt(m_i)``: the mode's Cartesian displacement pattern (``e`` the mass-weighted
    unit eigenvector, ``m`` the mode file's masses), drawn as arrows by :attr:`ModeModifier.vector_vis`.
``Mode Weight`` (float64)
    ``|e_i|^2`` (sums to 1 over the particles), for coloring (Color coding modifier) or selecting.
``Selection``
    The top ``select_fraction`` participants (largest weight), when ``select`` is on.
``Vector Transparency``
    1 on particles whose arrow is hidden (``arrows = "selected"``: all but the top participants).
``Radius``
    ``particle_scale`` (top participants) or ``context_scale`` (the others) times each
    particle's own radius (its ``Radius`` property, e.g. the
    diameters of a polydisperse glass's data file, else its type's radius, else the particles'
    default radius, ParticlesVis.radius): relative sizes are kept, and the arrows, which start at the particle
    centres, stick out of spheres drawn at half size and are not hidden behind the other
    particles, drawn at a quarter (the defaults; 1 and 1 leave the radii alone).
``Transparency``
    ``context_transparency`` on the particles other than the top participants (when > 0), so
    arrows behind them show through.

Global attributes ``Mode.index``, ``Mode.omega``, ``Mode.omega_unit``,
``Mode.participation_ratio``, ``Mode.selected_count``. With ``animate`` on, the modifier
produces ``frames`` frames ``x0 + A sin(2 pi f / frames) u / max|u|`` (the most displaced particle
moves by ``+-A``); with ``center_core`` on, the cell is shifted so that the mode's core (the fewest
particles carrying half the weight, :func:`glassmodes.ovito.frame.core_mask`) is in its middle
and the particles are wrapped into it (periodic directions only).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import ovito.traits
from ovito.data import DataCollection
from ovito.pipeline import ModifierInterface, Pipeline, StaticSource
from ovito.vis import VectorVis
from traits.api import Bool, Enum, Float, Int, Range, observe

from glassmodes.ovito.frame import (ModeFrame, centered_positions, core_center, load_mode_frame, match_ids,
                                    top_participants)

ARROW_PROPERTY = "Mode Displacement"
WEIGHT_PROPERTY = "Mode Weight"


class ModeModifier(ModifierInterface):
    """Attach mode ``mode`` of the mode file ``mode_file`` to the particles (module docs).

    Parameters (traits; keyword arguments of the constructor)
    ----------
    mode_file : str
        Path of a glassmodes mode file (HDF5, ``glassmodes modes -o``).
    mode : int
        Mode index ``k`` (into the file's frequencies, ascending; negative counts from the end).
        Its eigenvector must be stored.
    select : bool
        Write the ``Selection`` of the top participants.
    select_fraction : float in (0, 1]
        Fraction of the particles selected: the ``ceil(fraction N)`` of largest weight.
    arrows : "selected" or "all"
        Arrows on the top participants only (the others get ``Vector Transparency`` 1), or on all.
    arrow_scale : float
        Length of the longest arrow, distance units (sets ``vector_vis.scaling`` to
        ``arrow_scale / max|u|``); 0 leaves ``vector_vis.scaling`` as the user set it.
    particle_scale : float
        Top participants drawn at this fraction of their own radius (module docs), so the arrows
        are visible at OVITO's default radius.
    context_scale : float
        The other particles drawn at this fraction of their own radius (1 and 1: radii untouched).
    context_transparency : float in [0, 1)
        Transparency of the other particles (0: opaque, no property written).
    arrow_coloring : "weight" or "uniform"
        Color the arrows by ``Mode Weight`` (``vector_vis`` color mapping, interval 0 .. max weight)
        or with ``vector_vis.color``.
    center_core : bool
        Shift the cell so the mode's core (weighted center of the fewest particles carrying half
        the weight) is in its middle, and wrap the particles into it.
    animate : bool
        Replace the trajectory by ``frames`` frames of the oscillation along the mode.
    amplitude : float
        Largest displacement in the animation, distance units.
    frames : int
        Frames per period of the animation.
    vector_vis : ovito.vis.VectorVis
        The arrows' visual element (width, color, shading, ... adjustable).
    """

    mode_file = ovito.traits.FilePath(label="Mode file", ovito_group="Mode")
    mode = Int(0, label="Mode index k", ovito_group="Mode")
    select = Bool(True, label="Select top participants", ovito_group="Selection")
    select_fraction = Range(low=0.0, high=1.0, value=0.1, exclude_low=True, label="Fraction selected",
                            ovito_group="Selection")
    arrows = Enum("selected", "all", label="Arrows on", ovito_group="Arrows")
    arrow_scale = Range(low=0.0, value=1.5, label="Longest arrow (distance)", ovito_group="Arrows")
    particle_scale = Range(low=0.0, high=10.0, value=0.3, exclude_low=True,
                           label="Top participants' size (x own radius)", ovito_group="Selection")
    context_scale = Range(low=0.0, high=10.0, value=0.2, exclude_low=True,
                          label="Other particles' size (x own radius)", ovito_group="Selection")
    context_transparency = Range(low=0.0, high=1.0, value=0.6, exclude_high=True,
                                 label="Other particles' transparency", ovito_group="Selection")
    arrow_coloring = Enum("weight", "uniform", label="Arrow color", ovito_group="Arrows")
    center_core = Bool(False, label="Center cell on the core", ovito_group="View")
    animate = Bool(False, label="Animate the mode", ovito_group="Animation")
    amplitude = Float(0.3, label="Amplitude (distance)", ovito_group="Animation")
    frames = Range(low=2, value=24, label="Frames per period", ovito_group="Animation")
    vector_vis = ovito.traits.OvitoObject(VectorVis, title="Mode arrows", alignment=VectorVis.Alignment.Base,
                                          width=0.15, color=(0.85, 0.1, 0.1), reverse=False)

    # -- OVITO hooks ------------------------------------------------------------------------
    def compute_trajectory_length(self, *, input_slots, **kwargs) -> int:
        if self.animate:
            return int(self.frames)
        return input_slots["upstream"].num_frames

    @observe("animate, frames")
    def _trajectory_length_changed(self, event) -> None:
        self.notify_trajectory_length_changed()

    def get_pipeline_short_info(self, *args, **kwargs) -> str:
        return f"mode {self.mode}" if self.mode_file else "no mode file"

    def modify(self, data: DataCollection, *, frame: int = 0, **kwargs) -> None:
        mode = self.mode_frame()
        particles = data.particles_
        if particles is None or particles.count == 0:
            raise ValueError("the pipeline has no particles to attach the mode to")
        row = match_ids(mode.ids, particles.identifiers)
        u = mode.displacement[row]
        w = mode.weight[row]
        top = top_participants(w, self.select_fraction)

        if self.center_core:
            if data.cell is None:
                raise ValueError("center_core needs a simulation cell")
            cell = np.asarray(data.cell[...], dtype=float)
            pbc = tuple(bool(p) for p in data.cell.pbc)
            center = core_center(particles.positions, w, cell, pbc)
            new_pos, new_cell = centered_positions(particles.positions, center, cell, pbc)
            data.cell_[...] = new_cell
            particles.positions_[...] = new_pos
        if self.animate:
            umax = float(np.max(np.linalg.norm(u, axis=1)))
            if umax > 0:
                phase = np.sin(2.0 * np.pi * (int(frame) % int(self.frames)) / int(self.frames))
                particles.positions_[...] = particles.positions + (self.amplitude * phase / umax) * u

        if self.particle_scale != 1.0 or self.context_scale != 1.0:
            scale = np.where(top, float(self.particle_scale), float(self.context_scale))
            particles.create_property("Radius", data=scale * particle_radii(particles))
        if self.context_transparency > 0:
            particles.create_property("Transparency", data=np.where(top, 0.0, float(self.context_transparency)))
        prop = particles.create_property(ARROW_PROPERTY, data=u)
        prop.vis = self.vector_vis
        particles.create_property(WEIGHT_PROPERTY, data=w)
        if self.select:
            particles.create_property("Selection", data=top.astype(np.int32))
        if self.arrows == "selected":
            particles.create_property("Vector Transparency", data=np.where(top, 0.0, 1.0))
        self._update_vis(u, w)

        data.attributes["Mode.index"] = mode.index
        data.attributes["Mode.omega"] = mode.omega
        data.attributes["Mode.omega_unit"] = mode.omega_unit
        data.attributes["Mode.participation_ratio"] = mode.participation_ratio
        data.attributes["Mode.selected_count"] = int(top.sum())

    # -- helpers ----------------------------------------------------------------------------
    def mode_frame(self) -> ModeFrame:
        """The mode as a :class:`ModeFrame`, read once per (file, modification time, k)."""
        if not self.mode_file:
            raise ValueError("no mode file set (parameter mode_file)")
        path = Path(self.mode_file).expanduser().resolve()
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no such mode file") from None
        key = (str(path), st.st_mtime_ns, st.st_size, int(self.mode))
        if key != getattr(self, "_cache_key", None):  # plain attributes, not traits: not copied with the modifier
            self._cache_frame = load_mode_frame(path, int(self.mode))
            self._cache_key = key
        return self._cache_frame

    def _update_vis(self, u: np.ndarray, w: np.ndarray) -> None:
        """Arrow scaling and color mapping from the data; only what changed is assigned."""
        vis = self.vector_vis
        if vis is None:
            return
        umax = float(np.max(np.linalg.norm(u, axis=1)))
        if self.arrow_scale > 0 and umax > 0:
            scaling = float(self.arrow_scale) / umax
            if not np.isclose(vis.scaling, scaling, rtol=1e-9, atol=0.0):
                vis.scaling = scaling
        wanted = WEIGHT_PROPERTY if self.arrow_coloring == "weight" else ""
        if vis.color_mapping_property != wanted:
            vis.color_mapping_property = wanted
        if wanted:
            interval = (0.0, float(np.max(w)) if np.max(w) > 0 else 1.0)
            if not np.allclose(vis.color_mapping_interval, interval, rtol=1e-9, atol=0.0):
                vis.color_mapping_interval = interval


def particle_radii(particles) -> np.ndarray:
    """Each particle's display radius, shape=(n,): its ``Radius`` property where positive, else its
    type's radius where set, else the particles' visual element's default radius (ParticlesVis.radius)."""
    default = float(particles.vis.radius) if particles.vis is not None else 0.5  # OVITO 3.17 headless: 1.2
    r = np.full(particles.count, default)
    types = particles.particle_types
    if types is not None:
        tid = np.asarray(types)
        for t in types.types:
            if t.radius > 0:
                r[tid == t.id] = t.radius
    if "Radius" in particles:
        own = np.asarray(particles["Radius"], dtype=float)
        r = np.where(own > 0, own, r)
    return r


def mode_file_data(modes, k: int = 0) -> DataCollection:
    """A DataCollection of the mode file's atoms: cell, Position, Particle Identifier, Particle
    Type, Mass (positions and box from ``/atoms`` and ``/box``; 2D files give a 2D cell)."""
    frame = modes if isinstance(modes, ModeFrame) else load_mode_frame(modes, k)
    data = DataCollection()
    cell = data.create_cell(frame.cell, pbc=frame.pbc)
    if frame.dimension == 2:
        cell.is2D = True
    particles = data.create_particles(count=frame.natoms)
    particles.create_property("Position", data=frame.positions)
    particles.create_property("Particle Identifier", data=frame.ids)
    types = particles.create_property("Particle Type", data=frame.types)
    for t in np.unique(frame.types):
        types.add_type_id(int(t), particles)
    particles.create_property("Mass", data=frame.masses)
    return data


def mode_pipeline(modes: str | os.PathLike, k: int, data: str | os.PathLike | None = None, **params) -> Pipeline:
    """A pipeline with mode ``k`` attached: the structure from ``data`` (any file OVITO reads, with
    atom IDs) or, when omitted, from the mode file itself; then a :class:`ModeModifier` with
    ``params``. Not added to the scene."""
    if data is not None:
        from ovito.io import import_file

        pipeline = import_file(str(data))
    else:
        pipeline = Pipeline(source=StaticSource(data=mode_file_data(modes, k)))
    pipeline.modifiers.append(ModeModifier(mode_file=str(modes), mode=int(k), **params))
    return pipeline
