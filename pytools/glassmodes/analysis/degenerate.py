"""Basis-independent localization of degenerate levels, and the modes the statistics may use.

Participation ratio of a degenerate level
-----------------------------------------
Inside a degenerate level (a perfect crystal's plane waves, a symmetric defect) any orthonormal
basis of the level's subspace is an equally valid set of eigenvectors, and the solver picks one
arbitrarily: the per-mode participation ratio (:mod:`glassmodes.analysis.participation`) of a
standing wave ``cos(q . x)`` is 2/3, of a travelling-wave combination 1, and of other
combinations anything in between or below, so a crystal's phonons could be counted as
"quasi-localized". The level as a whole is basis independent: for ``g`` orthonormal vectors
``e^(1..g)`` of the level the per-particle weight

    w_i = (1/g) sum_k |e_i^(k)|^2        (the diagonal of the level's projector, over g)

does not depend on the basis chosen, and the level participation ratio is the formula of
:func:`glassmodes.analysis.participation.participation_ratio` applied to ``w``:

    e_level = (sum_i w_i)^2 / (N sum_i w_i^2).

For a non-degenerate mode it is the usual participation ratio. Every mode of a level gets its
level's value. Levels are groups of sorted eigenvalues with consecutive gaps below
``rtol * max(|lambda_k|, |lambda_k+1|)`` (:func:`glassmodes.modes.core.degenerate_groups`).

Modes the statistics may use
----------------------------
Eigenvalues within the zero tolerance of a mode solve (``|lambda| <= zero_tol * scale``) can be
slightly negative by round-off; their signed angular frequency ``sign(lambda) sqrt(|lambda|)`` is
then negative. They are zero modes (rattlers, floppy modes) and are excluded from every
statistic (vDOS, participation, classification, omega_QVM, fits) by :func:`positive_modes`,
which says how many were excluded.
"""

from __future__ import annotations

import numpy as np

from glassmodes.analysis.participation import _per_particle_weights

DEFAULT_LEVEL_RTOL = 1e-8


def degenerate_levels(eigenvalues: np.ndarray, rtol: float = DEFAULT_LEVEL_RTOL) -> list[np.ndarray]:
    """Index groups of equal eigenvalues (sorted input), see the module docs.

    >>> [g.tolist() for g in degenerate_levels(np.array([1.0, 2.0, 2.0 + 1e-12, 3.0]))]
    [[0], [1, 2], [3]]
    """
    from glassmodes.modes.core import degenerate_groups

    lam = np.asarray(eigenvalues, dtype=float)
    if lam.size and np.any(np.diff(lam) < 0):
        raise ValueError("degenerate_levels needs eigenvalues sorted ascending")
    return degenerate_groups(lam, rtol=rtol)


def level_participation_ratio(eigenvalues: np.ndarray, vectors: np.ndarray, dimension: int,
                              rtol: float = DEFAULT_LEVEL_RTOL, masses: np.ndarray | None = None) -> np.ndarray:
    """Participation ratio of each mode's degenerate level (module docs), basis independent.

    Parameters
    ----------
    eigenvalues : ndarray, shape=(k,)
        Sorted ascending, any units.
    vectors : ndarray, shape=(d*N, k)
        Orthonormal eigenvectors (mass-weighted), one column per eigenvalue.
    dimension : int
    rtol : float
        Relative tolerance of degeneracy.
    masses : ndarray, shape=(N,), optional
        As in :func:`glassmodes.analysis.participation.participation_ratio`.

    Returns
    -------
    ndarray, shape=(k,), dimensionless in [1/N, 1].

    >>> # two plane-wave standing waves cos, sin of one wavevector on a ring of 8 particles:
    >>> x = np.arange(8) / 8.0
    >>> c, s = np.cos(2 * np.pi * x), np.sin(2 * np.pi * x)
    >>> V = np.zeros((8, 2)); V[:, 0] = c / np.linalg.norm(c); V[:, 1] = s / np.linalg.norm(s)
    >>> from glassmodes.analysis.participation import participation_ratio
    >>> [round(float(p), 4) for p in participation_ratio(V, 1)]  # each standing wave alone
    [0.6667, 0.6667]
    >>> [round(float(p), 4) for p in level_participation_ratio(np.array([1.0, 1.0]), V, 1)]
    [1.0, 1.0]
    """
    lam = np.asarray(eigenvalues, dtype=float)
    v = np.asarray(vectors, dtype=float)
    if v.ndim != 2 or v.shape[1] != lam.size:
        raise ValueError(f"vectors has shape {v.shape}, expected (d*N, {lam.size})")
    w = _per_particle_weights(v, dimension, masses)  # (N, k)
    n = w.shape[0]
    out = np.empty(lam.size)
    for g in degenerate_levels(lam, rtol):
        wl = w[:, g].mean(axis=1)
        den = n * float(wl @ wl)
        out[g] = float(wl.sum()) ** 2 / den if den > 0 else np.nan
    return out


def positive_modes(omega: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Mask of the modes statistics may use (omega > 0) and a note on those excluded.

    Returns
    -------
    keep : ndarray of bool, shape=(k,)
    note : str or None
        How many non-positive frequencies (zero modes within the tolerance, negative by
        round-off) were excluded, and the most negative one.
    """
    w = np.asarray(omega, dtype=float)
    keep = w > 0
    bad = int(np.sum(~keep))
    if not bad:
        return keep, None
    return keep, (f"{bad} mode(s) with omega <= 0 (zero modes within the zero tolerance; the most "
                  f"negative {float(w[~keep].min()):.3e} by round-off) excluded from every statistic")
