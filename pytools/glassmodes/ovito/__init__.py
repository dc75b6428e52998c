"""Normal modes in OVITO: a pipeline modifier, headless rendering, XYZ / LAMMPS dump export.

``import ovito`` inside this package is the OVITO module (absolute imports): this subpackage does
not shadow it. The modifier and the renderer need the ``ovito`` package; the exporters and
:class:`ModeFrame` need only NumPy and h5py.

>>> from glassmodes.ovito import load_mode_frame, write_mode_dump    # doctest: +SKIP
>>> frame = load_mode_frame("modes.h5", 3)                          # doctest: +SKIP
>>> write_mode_dump("mode3.dump", frame)                            # doctest: +SKIP

``ModeModifier`` (:mod:`glassmodes.ovito.modifier`)
    ``pipeline.modifiers.append(ModeModifier(mode_file="modes.h5", mode=3))``: properties
    ``Mode Displacement`` (arrows), ``Mode Weight``, ``Selection``; animation along the mode.
``render_mode`` (:mod:`glassmodes.ovito.render`)
    A PNG of a mode with the Tachyon renderer (no display needed).
``write_mode_xyz``, ``write_mode_dump`` (:mod:`glassmodes.ovito.export`)
    Extended XYZ and LAMMPS dump files of one or several modes.

Conventions (:mod:`glassmodes.ovito.frame`): displacement ``u_i = e_i / sqrt(m_i)``, weight
``|e_i|^2``, particles matched to the mode file by atom ID. User guide: docs/ovito.md.
"""

from __future__ import annotations

from glassmodes.ovito.export import DUMP_COLUMNS, write_mode_dump, write_mode_xyz
from glassmodes.ovito.frame import (ModeFrame, ModeMatchError, core_center, core_mask, load_mode_frame, match_ids,
                                    top_participants)

# need the ovito package: imported on first use
_LAZY = {
    "ModeModifier": "glassmodes.ovito.modifier",
    "mode_pipeline": "glassmodes.ovito.modifier",
    "mode_file_data": "glassmodes.ovito.modifier",
    "render_mode": "glassmodes.ovito.render",
    "RenderResult": "glassmodes.ovito.render",
}

__all__ = ["ModeFrame", "ModeMatchError", "load_mode_frame", "match_ids", "top_participants", "core_mask",
           "core_center", "write_mode_xyz", "write_mode_dump", "DUMP_COLUMNS", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
