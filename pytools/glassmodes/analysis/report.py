"""Writers of analysis results: JSON summary and per-bin CSV table (atomic)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from glassmodes.io.atomic import atomic_output


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    return obj


def write_summary(path: str | os.PathLike, summary: dict) -> Path:
    """JSON with non-finite numbers as null; returns the path."""
    from glassmodes import __version__

    data = dict(_clean(summary))
    data.setdefault("glassmodes_version", __version__)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1))
    return Path(path)


def write_table(path: str | os.PathLike, columns: dict, units: str = "") -> Path:
    """CSV of equal-length columns, a header line with the names, a comment line with units."""
    names = list(columns)
    arr = np.column_stack([np.asarray(columns[n], dtype=float) for n in names])
    with atomic_output(path) as tmp:
        with open(tmp, "w") as f:
            f.write(f"# omega in {units}; vdos in 1/({units}); reduced_vdos in 1/({units})^3; "
                    f"cumulative_over_omega5 in 1/({units})^5; counts per bin over all samples\n")
            f.write(",".join(names) + "\n")
            np.savetxt(f, arr, delimiter=",", fmt="%.10g")
    return Path(path)
