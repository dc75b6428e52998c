"""An event's displacement field for OVITO: a one-"mode" mode file and an extended XYZ file.

Two routes, both reading in OVITO without extra code:

``write_event_mode_file``
    The event as a *mode-like* vector in a glassmodes mode file: one mode whose mass-weighted unit
    vector is ``sqrt(m_i) Delta r_i / |M^1/2 Delta r|``, frequency NaN, participation ratio
    ``N_rearr / N`` (equal masses), atoms at the IS before the event. The OVITO mode machinery of
    :mod:`glassmodes.ovito` then applies unchanged: ``ModeModifier(mode_file=..., mode=0)`` draws
    the arrows and selects the top movers, ``render_mode`` makes a PNG, ``write_mode_xyz`` /
    ``write_mode_dump`` export it.
``write_event_xyz``
    Extended XYZ with the *actual* displacements (distance units, not normalized): columns
    ``species pos id dr:R:3 dr_norm:R:1 top:I:1``, ``top`` = 1 for the ``ceil(N_rearr)`` most
    displaced particles ("top movers"), positions of the IS before the event, comment keys
    ``Lattice``, ``Origin``, ``pbc``, ``event``, ``frame``, ``time``, ``dr_IS``, ``dPhi_IS``,
    ``N_rearr``, ``a``.
"""

from __future__ import annotations

import math
import os

import numpy as np

from glassmodes.io.atomic import atomic_output


def _masses(types: np.ndarray, type_masses: dict | None) -> np.ndarray:
    if not type_masses:
        return np.ones(len(types))
    return np.array([float(type_masses[int(t)]) for t in types])


def write_field_mode_file(path: str | os.PathLike, positions: np.ndarray, field: np.ndarray, ids: np.ndarray,
                          types: np.ndarray, masses: np.ndarray, boxlo, boxhi, periodicity, *, units: str = "lj",
                          backend: str, method: str, note: str, source: str, meta: dict | None = None) -> None:
    """A displacement ``field`` (N, 3) at ``positions`` as a one-"mode" mode file: the mass-weighted unit
    vector ``sqrt(m_i) field_i / |M^1/2 field|``, frequency NaN, atoms wrapped into the box with image
    flags. ``backend``/``method``/``note`` describe the field in the solver record; ``meta`` is stored."""
    from glassmodes.io.hessian import ATOMS_DTYPE
    from glassmodes.modes import Modes, SolverInfo, ZeroModes, write_modes

    n = len(ids)
    m = np.asarray(masses, dtype=float)
    w = (np.asarray(field, dtype=float) * np.sqrt(m)[:, None]).ravel()
    norm = float(np.linalg.norm(w))
    if norm == 0:
        raise ValueError(f"{source}: zero displacement field")
    boxlo = np.asarray(boxlo, dtype=float)
    boxhi = np.asarray(boxhi, dtype=float)
    lengths = boxhi - boxlo
    image = np.floor((positions - boxlo) / lengths).astype(np.int64)
    atoms = np.zeros(n, dtype=ATOMS_DTYPE)
    atoms["id"] = ids
    atoms["type"] = types
    atoms["mass"] = m
    atoms["x"] = positions - image * lengths
    atoms["image"] = image
    box = {"boxlo": boxlo.tolist(), "boxhi": boxhi.tolist(), "xy": 0.0, "xz": 0.0, "yz": 0.0, "triclinic": False,
           "periodicity": [int(bool(p)) for p in periodicity]}
    meta = {"box": box, "units": units, "natoms": n, "dimension": 3, "source": source, **(meta or {}),
            "field_norm_mass_weighted": norm}
    info = SolverInfo(backend=backend, method=method, tol=0.0, zero_tol=0.0, scale=float("nan"),
                      iterations=0, residual_norms=np.array([np.nan]),
                      zero_modes=ZeroModes(count=0, max_abs_eigenvalue=float("nan"), translation_residual=float("nan")),
                      notes=(note,))
    modes = Modes(omega=np.array([np.nan]), eigenvalues=np.array([np.nan]), vectors=(w / norm)[:, None], dimension=3,
                  units=units, info=info, meta=meta, atoms=atoms)
    write_modes(path, modes)


def write_event_mode_file(path: str | os.PathLike, event, before: np.ndarray, field: np.ndarray, ids: np.ndarray,
                          types: np.ndarray, boxlo, boxhi, periodicity, units: str = "lj",
                          type_masses: dict | None = None) -> None:
    """Write the event as a one-mode glassmodes mode file (module docs)."""
    if not np.any(field):
        raise ValueError(f"event {event.number}: zero displacement field")
    write_field_mode_file(
        path, before, field, ids, types, _masses(types, type_masses), boxlo, boxhi, periodicity, units=units,
        backend="event", method="IS displacement",
        note="not an eigenvector: the normalized, mass-weighted displacement of an IS transition",
        source="glassmodes events: IS displacement field as a mode-like vector",
        meta={"event": {"number": event.number, "frame": event.frame, "time": event.time, "dr_IS": event.dr,
                        "dPhi_IS": event.dphi, "N_rearr": event.n_rearr, "a": event.fit.a}})


def write_event_xyz(path: str | os.PathLike, event, before: np.ndarray, field: np.ndarray, ids: np.ndarray,
                    types: np.ndarray, boxlo, boxhi, periodicity) -> None:
    """Write the event as extended XYZ with actual displacements and the top movers flagged."""
    boxlo = np.asarray(boxlo, dtype=float)
    lengths = np.asarray(boxhi, dtype=float) - boxlo
    x = boxlo + np.mod(before - boxlo, lengths)
    mag = np.sqrt(np.einsum("ij,ij->i", field, field))
    ntop = max(1, math.ceil(event.n_rearr - 1e-9)) if np.isfinite(event.n_rearr) else 1
    top = np.zeros(len(ids), dtype=int)
    top[np.argsort(-mag, kind="stable")[:ntop]] = 1
    lattice = " ".join(repr(float(v)) for v in np.diag(lengths).ravel())
    origin = " ".join(repr(float(v)) for v in boxlo)
    pbc = " ".join("T" if p else "F" for p in periodicity)
    comment = (f'Lattice="{lattice}" Origin="{origin}" pbc="{pbc}" '
               "Properties=species:S:1:pos:R:3:id:I:1:dr:R:3:dr_norm:R:1:top:I:1 "
               f"event={event.number} frame={event.frame} time={event.time!r} dr_IS={event.dr!r} "
               f"dPhi_IS={event.dphi!r} N_rearr={event.n_rearr!r} a={event.fit.a!r} top_count={ntop}")
    rows = "\n".join(f"{t} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g} {i} {d[0]:.17g} {d[1]:.17g} {d[2]:.17g} {mm:.17g} {tp}"
                     for t, p, i, d, mm, tp in zip(types, x, ids, field, mag, top))
    with atomic_output(path, suffix=".xyz") as tmp:
        with open(tmp, "w") as fh:
            fh.write(f"{len(ids)}\n{comment}\n{rows}\n")
