"""Participation ratio of vibrational modes (degree of localization).

    e = (sum_i z_i . z_i)^2 / (N sum_i (z_i . z_i)^2)

with ``z_i`` the d-dimensional components of the field on particle ``i`` (Kapteijns, thesis,
Eqs. (2.3) and (3.14); Kumar et al. (2021), Eq. (11); Khomenko et al. (2020), Eq. (2), both for unit-normalized
fields). ``e = 1`` for a field spread evenly over all particles, ``e = 1/N`` on a single
particle, ``e = 2/3`` for a plane wave ``cos(q . x_i)`` (since <cos^2> = 1/2, <cos^4> = 3/8).
``N e`` is the participation number, the number of particles taking part.

Which field? All four papers use models with equal masses, where the mass-weighted eigenvector
``e_i = sqrt(m_i) u_i`` and the displacement ``u_i`` are proportional and ``e`` is the same.
With unequal masses they differ; glassmodes computes ``e`` on the mass-weighted, normalized
eigenvectors by default (the eigenvectors of D, what the mode file stores) and on the
displacements ``u_i = e_i / sqrt(m_i)`` when ``masses`` is given.
"""

from __future__ import annotations

import numpy as np


def _per_particle_weights(vectors: np.ndarray, dimension: int, masses: np.ndarray | None) -> np.ndarray:
    v = np.asarray(vectors, dtype=float)
    one = v.ndim == 1
    if one:
        v = v[:, None]
    ndof, k = v.shape
    if ndof % dimension:
        raise ValueError(f"vector length {ndof} is not a multiple of the dimension {dimension}")
    n = ndof // dimension
    z = v.reshape(n, dimension, k)
    if masses is not None:
        m = np.asarray(masses, dtype=float)
        if m.shape != (n,):
            raise ValueError(f"masses has shape {m.shape}, expected ({n},) (one per particle)")
        z = z / np.sqrt(m)[:, None, None]
    return np.einsum("iak,iak->ik", z, z)  # (N, k): z_i . z_i


def participation_ratio(vectors: np.ndarray, dimension: int, masses: np.ndarray | None = None) -> np.ndarray:
    """Participation ratio ``e`` of each column (see module docs for the formula and reference).

    Parameters
    ----------
    vectors : ndarray, shape=(d*N,) or (d*N, k), float64
        Fields, row ``d*i + alpha``; any normalization.
    dimension : int
        d (2 or 3).
    masses : ndarray, shape=(N,), optional
        If given, ``vectors`` are mass-weighted and ``e`` is computed on ``vectors / sqrt(m_i)``.

    Returns
    -------
    ndarray, shape=(k,) (or a float for a 1-D input), dimensionless, in [1/N, 1].

    >>> n = 100
    >>> single = np.zeros(3 * n); single[3 * 7 + 1] = 1.0
    >>> bool(np.isclose(participation_ratio(single, 3), 1 / n))
    True
    >>> bool(np.isclose(participation_ratio(np.ones(3 * n), 3), 1.0))
    True
    """
    w = _per_particle_weights(vectors, dimension, masses)
    n = w.shape[0]
    num = w.sum(axis=0) ** 2
    den = n * np.einsum("ik,ik->k", w, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.where(den > 0, num / den, np.nan)
    return float(e[0]) if np.ndim(vectors) == 1 else e


def participation_number(vectors: np.ndarray, dimension: int, masses: np.ndarray | None = None) -> np.ndarray:
    """``N e``: the number of particles taking part in each mode (same arguments as above)."""
    w = _per_particle_weights(vectors, dimension, masses)
    return participation_ratio(vectors, dimension, masses) * w.shape[0]
