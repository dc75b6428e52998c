"""Normal modes of a Hessian: one interface, three eigen-solver backends, and the mode file.

>>> import numpy as np
>>> from glassmodes.modes import solve_modes
>>> from glassmodes.modes.models import spring_network
>>> h = spring_network(216, seed=1)
>>> m = solve_modes(h, backend="sparse", k=10)
>>> D = h.dynamical_matrix()
>>> bool(np.allclose(D @ m.vectors, m.vectors * m.eigenvalues, atol=1e-10))
True
>>> m.info.zero_modes.count       # the 3 rigid translations, detected and excluded
3

Backends (details in each module and in docs/modes.md):

``dense`` (:mod:`glassmodes.modes.dense`)
    LAPACK ``eigh``: all modes, the lowest ``k``, or a frequency window. Small systems, reference.
``sparse`` (:mod:`glassmodes.modes.sparse`), the default
    ARPACK shift-and-invert on a SuperLU factorization; lowest ``k`` and/or all below
    ``w_max`` by sliding windows certified by Sylvester inertia.
``slepc`` (:mod:`glassmodes.modes.slepc_backend`)
    SLEPc Krylov-Schur (shift-and-invert with CG + GAMG / ICC inner solves) or LOBPCG, under
    MPI, the matrix loaded in parallel from the Hessian file.

Conventions shared by all (units, zero modes, signs): :mod:`glassmodes.modes.core`.
"""

from __future__ import annotations

import os
from pathlib import Path

from glassmodes.io.hessian import Hessian, read_hessian
from glassmodes.modes.core import (
    DEFAULT_SYMMETRY_TOL, DEFAULT_ZERO_TOL, UNIT_TIME, AsymmetricMatrixError, ModeError, Modes, SolverInfo,
    UnstableStructureError, ZeroModes, degenerate_groups, omega_from_eigenvalues, prepare, translation_basis,
)
from glassmodes.modes.modefile import ModeFile, ModeFileError, read_modes, write_modes

BACKENDS = ("dense", "sparse", "slepc")

__all__ = [
    "solve_modes", "Modes", "SolverInfo", "ZeroModes", "ModeError", "UnstableStructureError",
    "AsymmetricMatrixError", "ModeFile", "ModeFileError", "read_modes", "write_modes", "BACKENDS",
    "UNIT_TIME", "degenerate_groups", "omega_from_eigenvalues", "translation_basis",
]


def solve_modes(hessian: Hessian | str | os.PathLike, backend: str = "sparse", k: int | None = None,
                w_max: float | None = None, w_min: float | None = None, zero_tol: float = DEFAULT_ZERO_TOL,
                symmetry_tol: float = DEFAULT_SYMMETRY_TOL, comm=None, progress=None, **options) -> Modes | None:
    """Normal modes of a Hessian with the chosen backend.

    Parameters
    ----------
    hessian : Hessian or path
        In memory (:class:`glassmodes.io.hessian.Hessian`) or a Hessian file.
    backend : "dense", "sparse" or "slepc"
    k : int, optional
        Number of lowest non-translational modes.
    w_max : float, optional
        All modes with angular frequency <= w_max (rad per time unit of the unit style).
    w_min : float, optional
        Dense backend only: lower end of a frequency window.
    zero_tol : float
        Eigenvalues within ``zero_tol * scale`` of zero are zero modes; below ``-zero_tol * scale``
        the structure is unstable (``scale``: Gershgorin bound of the largest eigenvalue).
    symmetry_tol : float
        Largest accepted ``|A - A^T|_F / |A|_F``.
    comm : MPI communicator, optional
        slepc backend only (``None``: serial).
    progress : callable(str), optional
        Receives progress messages (e.g. print to stderr).
    **options
        Backend options: dense ``driver``; sparse ``chunk``, ``tol``, ``ncv``, ``seed``;
        slepc ``method``, ``inner``, ``tol``, ``ksp_rtol``, ``shift``, ``chunk``, ``ncv``,
        ``mpd``, ``max_it``, ``block_size``, ``start``, ``max_degree``, ``conv``, ``near_null``,
        ``options`` (PETSc/SLEPc options).
        Unknown names raise TypeError.

    Returns
    -------
    Modes (None on MPI ranks other than 0 with the slepc backend).
    """
    if backend not in BACKENDS:
        raise ModeError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    if w_min is not None and backend != "dense":
        raise ModeError("w_min (a frequency window) is only available with the dense backend")
    if backend == "slepc":
        from glassmodes.modes.slepc_backend import solve_slepc

        return solve_slepc(hessian, comm=comm, k=k, w_max=w_max, zero_tol=zero_tol,
                           symmetry_tol=symmetry_tol, progress=progress, **options)
    if comm is not None and getattr(comm, "Get_size", lambda: 1)() > 1:
        raise ModeError(f"the {backend} backend is serial; run it on one rank (or use --backend slepc)")
    if not isinstance(hessian, Hessian):
        hessian = read_hessian(Path(hessian))
    problem = prepare(hessian, zero_tol=zero_tol, symmetry_tol=symmetry_tol)
    if backend == "dense":
        from glassmodes.modes.dense import solve_dense

        return solve_dense(problem, k=k, w_max=w_max, w_min=w_min, progress=progress, **options)
    from glassmodes.modes.sparse import solve_sparse

    return solve_sparse(problem, k=k, w_max=w_max, progress=progress, **options)

