"""SLEPc backend: distributed eigensolves with petsc4py/slepc4py, under ``mpirun``.

The Hessian file (PETSc binary AIJ) is loaded in parallel, each rank reading its block of rows
(:func:`glassmodes.io.hessian.load_petsc_mat`, block size ``d``), mass-weighted in place
(``D = M^-1/2 H M^-1/2`` by ``MatDiagonalScale``), checked for symmetry and symmetrized.

Methods (``method=``)
---------------------
``krylovschur`` (default)
    Krylov-Schur with shift-and-invert (``ST sinvert``) at ``sigma = -zero_tol * scale`` (below
    the spectrum, so ``D - sigma I`` is positive definite), target magnitude: the eigenvalues
    nearest ``sigma``, i.e. the lowest. PETSc here has no MUMPS or other parallel direct solver,
    so the inner solves are iterative: KSP CG preconditioned by GAMG (``inner="gamg"``, the
    translations as GAMG's near null space, block size d) or by block Jacobi with incomplete
    Cholesky (``inner="icc"``), to relative tolerance ``ksp_rtol`` (default ``1e-3 * tol``).
``lobpcg``
    LOBPCG for the smallest eigenvalues, the same preconditioners applied to ``D`` itself
    (``ST precond``, no inner solves), block size ``block_size`` (default ``ceil(1.25 nev)``).
    Two to three times faster than Krylov-Schur for the lowest 50 modes of 3D glasses
    (``bench/results/modes.md``): one GAMG application per vector and iteration instead of an
    inner CG solve of ~100 iterations per outer step.
``chebyshev``
    Chebyshev-filtered subspace iteration (:mod:`glassmodes.modes.fast`): sparse block products
    ``D X`` only (no preconditioner, no inner solves), Rayleigh-Ritz and locking; block size
    ``block_size`` (default ``ceil(1.5 nev)``), filter degree per step at most ``max_degree``.
    ``inner`` is not used (only by the completeness re-search, which is LOBPCG).

Convergence test (``conv=``): ``"relative"`` (default, SLEPc's ``EPS_CONV_REL``):
``|D x - lambda x| <= tol |lambda|``; ``"norm"`` (``lobpcg`` and ``chebyshev``; SLEPc's
``EPS_CONV_NORM``, asked for ``NORM_SAFETY * tol``): ``|D x - lambda x| <= tol (|D|_inf +
|lambda|)``, the residual every backend reports (``residual_norms``, divided by ``|D|_inf``). The lowest modes of a large glass have
``lambda / |D|_inf`` of 1e-4 and below, so the relative test solves them to residuals that many
times smaller than reported; the norm test stops at the reported 1e-10. The eigenvalues stay
those of the relative test to ~1e-14 (the Rayleigh quotient's error is quadratic in the residual;
measured in ``bench/results/modes_fast.md``). The completeness re-search under ``"norm"`` stops at
an absolute residual ``LOOSE_WEYL`` times the wanted set's top eigenvalue.

GAMG's near null space (``near_null=``): ``"translations"`` (default) or ``"rigid"``: the
translations and the rotations about the box centre (:func:`_rigid_body_modes`), the near null
space PETSc recommends for elasticity (``MatNullSpaceCreateRigidBody``), mass-weighted.

Starting subspace (``start=``): ``"random"`` (SLEPc's random vectors; the default of
``krylovschur`` and ``lobpcg``) or ``"planewaves"`` (the default of ``chebyshev``): the lowest
Ritz vectors of ``D`` on the box's lowest mass-weighted plane waves
(:func:`glassmodes.modes.fast.plane_wave_start`), the last eighth of the block left random.
Needs the box in the Hessian's sidecar and the atoms' positions.

The rigid translations (mass-weighted, normalized) are given to ``EPSSetDeflationSpace`` when
they are null vectors of D (see :mod:`glassmodes.modes.core`): the eigensolver works in their
orthogonal complement.

"All modes below ``w_max``": Krylov-Schur's spectrum slicing (``EPSSetInterval``) needs the
inertia of ``D - s I`` from a direct LDL^T factorization (MUMPS), which is not available. Instead
the number of wanted eigenvalues ``nev`` grows: solve for the ``nev`` lowest, and while the
largest of them is below ``w_max^2``, raise ``nev`` (by the Debye estimate ``N(w) ~ w^d`` from
what was found, times 1.25) and solve again, starting from the eigenvectors already found
(``EPSSetInitialSpace``).

Completeness: Krylov methods can return one copy of a degenerate level and skip the others (a
perfect FCC crystal of 256 atoms, k = 30, Krylov-Schur on one rank: 11 copies of a 12-fold
level). After the solve, :func:`_verify_complete` searches again for the lowest eigenpairs with
every mode found deflated (first LOBPCG to a loose tolerance, cheap and independent of the main
method; at full accuracy only when that finds something) and adds whatever lies below the top
of the wanted set, until a search finds nothing. Without a direct solver there is no inertia certificate
(``complete_below`` is NaN); the sparse backend certifies completeness by inertia (SuperLU) for
systems that fit on one node.

Input checks: before PETSc sees a file, rank 0 makes the checks of every other backend
(:func:`glassmodes.io.hessian.validate_hessian_files`, the spectrum-scale check) and broadcasts
the result: on bad input every rank raises the same error.

Unstable structures: a computed eigenvalue below ``-zero_tol * scale``, or CG meeting negative
curvature in ``D - sigma I`` (KSP_DIVERGED_INDEFINITE_MAT: an eigenvalue lies below ``sigma``)
raises :class:`glassmodes.modes.core.UnstableStructureError`.

PETSc/SLEPc options: ``options={"eps_tol": 1e-12, "st_ksp_type": "minres"}`` or strings
``["-eps_view", "-st_pc_type", "jacobi"]`` are put in the options database before
``EPSSetFromOptions`` (so they override the defaults above) and removed afterwards.

The result (eigenvectors gathered) is returned on rank 0 of ``comm``; other ranks get ``None``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import scipy.sparse as sp

from glassmodes.io.hessian import HessianFileError
from glassmodes.modes.core import (
    DEFAULT_SYMMETRY_TOL, DEFAULT_ZERO_TOL, AsymmetricMatrixError, ModeError, Modes, SolverInfo, ZeroModes,
    check_hessian, check_scale, check_translations, degenerate_groups, eigenvalue_from_omega, normalize_signs,
    omega_from_eigenvalues, raise_unstable, unit_factor,
)


_BROKEN: list = []  # solvers whose solve failed half-way (PETSc refuses to destroy them cleanly)


def _release_broken() -> None:
    """Free the kept solvers while PETSc is still up: left to the interpreter's final garbage
    collection they would be destroyed after PetscFinalize, and the process would crash on exit."""
    while _BROKEN:
        eps = _BROKEN.pop()
        try:
            eps.destroy()
        except Exception:  # noqa: BLE001 - an interrupted solve may refuse; drop it all the same
            pass


def _petsc():
    try:
        from petsc4py import PETSc
        from slepc4py import SLEPc
        if not getattr(_petsc, "registered", False):
            import atexit

            atexit.register(_release_broken)    # LIFO: runs before petsc4py's PetscFinalize
            _petsc.registered = True
    except ImportError as exc:
        raise ModeError(f"the slepc backend needs petsc4py and slepc4py ({exc}); "
                        "`make setup` builds them") from None
    return PETSc, SLEPc


def _parse_options(options) -> dict:
    out: dict = {}
    if options is None:
        return out
    if isinstance(options, dict):
        items = list(options.items())
    else:
        toks = list(options.split() if isinstance(options, str) else options)
        items, i = [], 0
        while i < len(toks):
            key = toks[i]
            val = None
            if i + 1 < len(toks) and not (toks[i + 1].startswith("-") and not _is_number(toks[i + 1])):
                val = toks[i + 1]
                i += 1
            items.append((key, val))
            i += 1
    for key, val in items:
        out[str(key).lstrip("-")] = None if val is None else str(val)
    return out


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


class _Dist:
    """The distributed dynamical matrix and what goes with it."""

    def __init__(self, PETSc, comm, mat, meta, atoms, source):
        self.PETSc, self.comm, self.A, self.meta, self.atoms, self.source = PETSc, comm, mat, meta, atoms, source
        self.d = int(meta["dimension"])
        self.n = int(meta["ndof"])
        self.rstart, self.rend = mat.getOwnershipRange()
        self.mpi = comm.tompi4py()

    def vec(self):
        return self.A.createVecRight()

    def local_dof_masses(self):
        m = np.repeat(np.asarray(self.atoms["mass"], dtype=float), self.d)
        return m[self.rstart:self.rend]


def _on_rank0(mpi, fn):
    """Run ``fn()`` on rank 0 of ``mpi`` and broadcast its result, or its error, to every rank:
    each raises the same error (no rank is left waiting in a collective call)."""
    payload = None
    if mpi.Get_rank() == 0:
        try:
            payload = ("ok", fn())
        except Exception as exc:  # noqa: BLE001 - any failure must reach every rank
            payload = ("error", type(exc), str(exc))
    if mpi.Get_size() > 1:
        payload = mpi.bcast(payload, root=0)
    if payload[0] == "ok":
        return payload[1]
    cls, msg = payload[1], payload[2]
    if issubclass(cls, (HessianFileError, FileNotFoundError)):
        raise cls(msg)
    raise ModeError(msg)


def _validate_source(source, zero_tol: float):
    """The checks every backend makes, before PETSc sees anything: ``(meta, atoms, scale)``.

    A file: :func:`glassmodes.io.hessian.validate_hessian_files` (sidecar, companions' sizes
    and checksums, matrix header, size, column range, finite values, atoms and masses against
    the sidecar) and :func:`glassmodes.modes.core.check_scale`. An in-memory Hessian:
    :func:`glassmodes.modes.core.check_hessian` and the same scale check.
    """
    from glassmodes.io.hessian import Hessian, validate_hessian_files

    if isinstance(source, Hessian):
        check_hessian(source)
        D = sp.csr_matrix(source.dynamical_matrix())
        scale = check_scale(D.diagonal(), np.asarray(abs(D).sum(axis=1)).ravel(), zero_tol, source.atoms,
                            source.dimension)
        meta = dict(source.meta)
        meta.setdefault("ndof", source.matrix.shape[0])
        return meta, source.atoms, scale
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such Hessian file")
    meta, atoms, summary = validate_hessian_files(path)
    unit_factor(str(meta["units"]))
    scale = check_scale(summary.diagonal, summary.row_abs_sum, zero_tol, atoms, int(meta["dimension"]))
    return meta, atoms, scale


def _load(PETSc, source, comm, zero_tol: float) -> _Dist:
    """Validate (on rank 0, errors on every rank), then load a Hessian file in parallel or
    distribute an in-memory Hessian."""
    from glassmodes.io.hessian import Hessian, load_petsc_mat

    meta, atoms, _ = _on_rank0(comm.tompi4py(), lambda: _validate_source(source, zero_tol))
    if isinstance(source, Hessian):
        d, n = int(meta["dimension"]), source.matrix.shape[0]
        csr = source.matrix.tocsr()
        csr.sort_indices()
        nloc, _ = PETSc.Sys.splitOwnership(n, bsize=d, comm=comm)
        rstart = comm.tompi4py().exscan(nloc) or 0
        sub = csr[rstart:rstart + nloc]
        mat = PETSc.Mat().createAIJ(size=((nloc, n), (nloc, n)), bsize=d,
                                    csr=(sub.indptr.astype(PETSc.IntType), sub.indices.astype(PETSc.IntType),
                                         sub.data), comm=comm)
        mat.assemble()
        return _Dist(PETSc, comm, mat, meta, atoms, None)
    path = Path(source)
    opts = PETSc.Options()
    opts.setValue("matload_block_size", int(meta["dimension"]))
    try:
        mat, _ = load_petsc_mat(path, comm=comm)
    finally:
        opts.delValue("matload_block_size")
    return _Dist(PETSc, comm, mat, meta, atoms, str(path))


def _mass_weight(dist: _Dist) -> None:
    if bool(dist.meta["mass_weighted"]):
        return
    s = dist.vec()
    s.setArray(1.0 / np.sqrt(dist.local_dof_masses()))
    dist.A.diagonalScale(s, s)


def _symmetrize(dist: _Dist, tol: float) -> float:
    PETSc = dist.PETSc
    At = dist.A.transpose()
    diff = At.copy()
    diff.axpy(-1.0, dist.A, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
    nA = dist.A.norm(PETSc.NormType.FROBENIUS)
    rel = diff.norm(PETSc.NormType.FROBENIUS) / nA if nA > 0 else 0.0
    if rel > tol:
        _, _, vals = diff.getValuesCSR()
        local = float(np.max(np.abs(vals))) if vals.size else 0.0
        big = dist.mpi.allreduce(local, op=_mpi_max())
        raise AsymmetricMatrixError(
            f"matrix is not symmetric: |A - A^T|_F / |A|_F = {rel:.3e} > tolerance {tol:.1e}; "
            f"largest |A_ij - A_ji| = {big:.6e}"
        )
    if rel > 0:
        dist.A.axpy(1.0, At, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        dist.A.scale(0.5)
    return float(rel)


def _mpi_max():
    from mpi4py import MPI

    return MPI.MAX


def _translations(dist: _Dist):
    """Mass-weighted normalized translations as PETSc Vecs, and their array form (local rows)."""
    m = dist.local_dof_masses()
    comp = np.arange(dist.rstart, dist.rend) % dist.d
    total = float(np.sum(np.asarray(dist.atoms["mass"], dtype=float)))
    vecs = []
    for a in range(dist.d):
        v = dist.vec()
        v.setArray(np.where(comp == a, np.sqrt(m) / np.sqrt(total), 0.0))
        vecs.append(v)
    return vecs


def _rigid_body_modes(dist: _Dist, T):
    """GAMG's near null space for elasticity: the mass-weighted translations ``T`` and the
    mass-weighted infinitesimal rotations ``sqrt(m_i) (e_a x (x_i - c))`` about the box centre
    (one in 2D, three in 3D), orthonormalized. In a periodic box the rotations are not null
    vectors of D (they jump across the boundary), but aggregation-based multigrid uses the near
    null space per aggregate, where a rotation is a near-null vector of the local elasticity."""
    d = dist.d
    a0, a1 = dist.rstart // d, dist.rend // d
    x = np.asarray(dist.atoms["x"], dtype=float)[:, :d]
    c = 0.5 * (x.min(axis=0) + x.max(axis=0))
    xl = x[a0:a1] - c
    sm = np.sqrt(np.asarray(dist.atoms["mass"], dtype=float)[a0:a1])
    cols = [t.getArray(readonly=True).copy() for t in T]
    axes = [2] if d == 2 else [0, 1, 2]
    for a in axes:
        u = np.zeros((a1 - a0, d))
        if d == 2:
            u[:, 0], u[:, 1] = -xl[:, 1], xl[:, 0]
        else:
            e = np.zeros(3)
            e[a] = 1.0
            u = np.cross(e, xl)
        cols.append((sm[:, None] * u).ravel())
    from glassmodes.modes.fast import orthonormalize

    return _to_vecs(dist, orthonormalize(dist.mpi, np.column_stack(cols), None, 0, dist.n, dist.rstart))


def _to_vecs(dist: _Dist, X: np.ndarray) -> list:
    """PETSc Vecs from the local rows of a block, shape=(n_local, m)."""
    out = []
    for j in range(X.shape[1]):
        v = dist.vec()
        v.setArray(X[:, j])
        out.append(v)
    return out


def _translation_check(dist: _Dist, T, scale, zero_tol) -> ZeroModes:
    y = dist.vec()
    G = np.zeros((len(T), len(T)))
    res = 0.0
    for b, tb in enumerate(T):
        dist.A.mult(tb, y)
        res = max(res, y.norm() / scale)
        for a, ta in enumerate(T):
            G[a, b] = ta.dot(y)
    max_abs = float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (G + G.T)))))
    return ZeroModes(count=len(T) if res <= zero_tol else 0, max_abs_eigenvalue=max_abs, translation_residual=res)


def _gather(dist: _Dist, v):
    PETSc = dist.PETSc
    scatter, out = PETSc.Scatter.toZero(v)
    scatter.scatter(v, out, addv=PETSc.InsertMode.INSERT_VALUES, mode=PETSc.ScatterMode.FORWARD)
    arr = out.getArray().copy() if dist.comm.getRank() == 0 else None
    scatter.destroy()
    out.destroy()
    return arr


def solve_slepc(source, comm=None, k: int | None = None, w_max: float | None = None,
                method: str = "krylovschur", inner: str = "gamg", tol: float = 1e-10,
                ksp_rtol: float | None = None, shift: float | None = None, chunk: int = 100,
                ncv: int | None = None, mpd: int | None = None, max_it: int | None = None,
                block_size: int | None = None, options=None, zero_tol: float = DEFAULT_ZERO_TOL, symmetry_tol: float = DEFAULT_SYMMETRY_TOL,
                progress=None, start: str | None = None, max_degree: int = 300, conv: str = "relative",
                near_null: str = "translations") -> Modes | None:
    """Lowest ``k`` modes and/or all modes below ``w_max`` with SLEPc (see module docs).

    Parameters
    ----------
    source : path or Hessian
        A Hessian file (loaded in parallel) or an in-memory :class:`glassmodes.io.hessian.Hessian`.
    comm : mpi4py or petsc4py communicator, optional
        ``None``: serial (``COMM_SELF``); under mpirun pass ``MPI.COMM_WORLD``.
    k, w_max : int, float
        Number of lowest modes / upper angular frequency (rad per time unit).
    method : "krylovschur", "lobpcg" or "chebyshev"
    inner : "gamg", "icc" or "gamg-block"
        Preconditioner of the inner CG solves (or of LOBPCG); ``gamg-block``: GAMG with
        Richardson + Jacobi smoothers, applied to a whole block at once (``GAMG_BLOCK_OPTIONS``).
    tol : float
        EPS relative tolerance.
    ksp_rtol : float, optional
        Inner CG relative tolerance (default ``1e-3 * tol``).
    shift : float, optional
        Shift of shift-and-invert, eigenvalue units (default ``-zero_tol * scale``).
    chunk : int
        Initial ``nev`` of the ``w_max`` mode.
    block_size : int, optional
        LOBPCG block size (default ``ceil(1.25 nev)``; measured on 3D glasses: 64 for nev = 50
        converged in 111 iterations, 56 in 152, 100 in 67 but more work per iteration).
    options : dict, str or list of str, optional
        PETSc/SLEPc options (override everything above).
    start : "random" or "planewaves", optional
        Starting subspace (module docs; default ``"planewaves"`` for ``chebyshev``, else
        ``"random"``).
    max_degree : int
        ``chebyshev``: largest filter degree per outer step.
    conv : "relative" or "norm"
        Convergence test of the main solve: ``|D x - lambda x| <= tol |lambda|`` (SLEPc's
        ``EPS_CONV_REL``, the default) or ``<= tol (|D|_inf + |lambda|)`` (``EPS_CONV_NORM``;
        chebyshev: ``<= tol |D|_inf``), the residual every backend reports, without solving the
        lowest modes to a residual ``|D|_inf / lambda`` times smaller (module docs).
    near_null : "translations" or "rigid"
        GAMG's near null space: the translations, or the translations and the rotations about
        the box centre (:func:`_rigid_body_modes`).

    Returns
    -------
    Modes on rank 0, None on the other ranks.
    """
    PETSc, SLEPc = _petsc()
    if k is None and w_max is None:
        raise ModeError("slepc: give k (lowest modes) and/or w_max (all modes below)")
    if k is not None and k <= 0:
        raise ModeError(f"k must be positive, got {k}")
    if method not in METHODS:
        raise ModeError(f"slepc: unknown method {method!r} ({', '.join(METHODS)})")
    start = start or ("planewaves" if method == "chebyshev" else "random")
    if start not in STARTS:
        raise ModeError(f"slepc: unknown start {start!r} ({', '.join(STARTS)})")
    if start == "planewaves" and method == "krylovschur":
        raise ModeError("slepc: start='planewaves' is for the lobpcg and chebyshev methods")
    if max_degree < 2:
        raise ModeError(f"max_degree must be at least 2, got {max_degree}")
    if block_size is not None and block_size < 1:
        raise ModeError(f"block_size must be positive, got {block_size}")
    if conv not in CONVS:
        raise ModeError(f"slepc: unknown convergence test {conv!r} ({', '.join(CONVS)})")
    if conv == "norm" and method == "krylovschur":
        raise ModeError("slepc: conv='norm' is for the lobpcg and chebyshev methods (Krylov-Schur with "
                        "shift-and-invert tests the transformed problem)")
    if near_null not in NEAR_NULLS:
        raise ModeError(f"slepc: unknown near null space {near_null!r} ({', '.join(NEAR_NULLS)})")
    if inner not in INNERS:
        raise ModeError(f"slepc: unknown inner preconditioner {inner!r} ({', '.join(INNERS)})")
    pcomm = PETSc.COMM_SELF if comm is None else (comm if isinstance(comm, PETSc.Comm) else PETSc.Comm(comm))
    rank = pcomm.getRank()
    say = (progress or (lambda msg: None)) if rank == 0 else (lambda msg: None)
    t0 = time.perf_counter()

    dist = _load(PETSc, source, pcomm, zero_tol)
    _mass_weight(dist)
    asym = _symmetrize(dist, symmetry_tol)
    A = dist.A
    scale = A.norm(PETSc.NormType.INFINITY)
    if scale == 0:
        raise ModeError("the dynamical matrix is zero: no interactions")
    thr = zero_tol * scale
    units = str(dist.meta["units"])
    T = _translations(dist)
    zm = _translation_check(dist, T, scale, zero_tol)
    check_translations(zm, dist.meta, zero_tol)
    nT = zm.count
    say(f"slepc: {dist.n} dof on {pcomm.getSize()} rank(s), scale {scale:.4e}, "
        f"translations {'deflated' if nT else 'not zero modes'} (residual {zm.translation_residual:.1e})")
    if nT and inner in ("gamg", "gamg-block"):
        nn = _rigid_body_modes(dist, T) if near_null == "rigid" else T
        A.setNearNullSpace(PETSc.NullSpace().create(constant=False, vectors=nn, comm=pcomm))
    sigma = -thr if shift is None else float(shift)
    lam_max = eigenvalue_from_omega(w_max, units) if w_max is not None else np.inf
    ksp_rtol = 1e-3 * tol if ksp_rtol is None else ksp_rtol
    user_opts = _parse_options(options)

    nfree = dist.n - nT
    nev = min(k if (k is not None and w_max is None) else max(chunk, k or 0), nfree - 1)
    opts = PETSc.Options()
    if inner == "icc" and "st_sub_pc_type" not in user_opts:
        user_opts = {"st_sub_pc_type": "icc", **user_opts}
    if inner == "gamg-block":
        user_opts = {**GAMG_BLOCK_OPTIONS, **user_opts}
    state = {"last": 0.0, "iterations": 0, "main_its": 0, "solves": 0, "ksp_its": 0, "block": None, "products": 0,
             "start_s": 0.0}
    mpi = dist.mpi
    T_local = np.column_stack([t.getArray(readonly=True) for t in T]) if nT else None

    def local_block(vs):
        if not vs:
            return np.zeros((dist.rend - dist.rstart, 0))
        return np.column_stack([v.getArray(readonly=True) for v in vs])

    def to_vecs(X):
        return _to_vecs(dist, X)

    def plane_wave_block(m):
        """Local rows of ``m`` plane-wave Ritz vectors (:func:`glassmodes.modes.fast.plane_wave_start`)."""
        from glassmodes.modes import fast

        box = dist.meta.get("box")
        if not box:
            raise ModeError("slepc: start='planewaves' needs the box in the Hessian's sidecar")
        t = time.perf_counter()
        a0, a1 = dist.rstart // dist.d, dist.rend // dist.d
        x = np.asarray(dist.atoms["x"], dtype=float)[a0:a1, :dist.d]
        m_ = np.asarray(dist.atoms["mass"], dtype=float)[a0:a1]
        op = fast.BlockOp(PETSc, A)
        try:
            X, _ = fast.plane_wave_start(mpi, op, x, m_, box, m, T_local, dist.rstart)
        finally:
            op.destroy()
        state["products"] += op.products
        state["start_s"] += time.perf_counter() - t
        return X

    def solve_chebyshev(nev_, deflate, initial, tol_, main):
        from glassmodes.modes import fast

        blk = (block_size if main else None) or int(np.ceil(1.5 * nev_))
        blk = max(blk, nev_ + 1)
        X0 = local_block(initial) if initial else (plane_wave_block(blk - max(1, blk // 8))
                                                   if start == "planewaves" else None)
        extra = [v for v in (deflate or []) if not any(v is t for t in T)] if nT else list(deflate or [])

        def cmon(outer, nlocked, degree, res0):
            now = time.perf_counter()
            if now - state["last"] > 5.0:
                state["last"] = now
                say(f"slepc: chebyshev step {outer}, {nlocked} converged, degree {degree}, {now - t0:.1f} s")

        conv_floor = scale if (conv == "norm" and main) else thr  # |r| <= tol max(|theta|, floor)
        # (chebyshev computes its residuals itself: no safety factor)
        r = fast.chebyshev_subspace(PETSc, A, mpi, nev_, blk, tol_, conv_floor, scale, T=T_local,
                                    deflate=local_block(extra) if extra else None, X0=X0,
                                    max_degree=max_degree, max_outer=max_it or 1000, monitor=cmon)
        state["iterations"] += r["outer"]
        state["main_its"] += r["outer"] if main else 0
        state["solves"] += 1
        state["products"] += r["products"]
        if main:
            state["block"] = blk
            state["upper"] = r["upper"]
        out = to_vecs(r["vectors"])
        for v in out:
            for t in T if nT else ():
                v.axpy(-t.dot(v), t)
            v.scale(1.0 / v.norm())
        return out

    def monitor(e, its, nconv, eig, err):
        now = time.perf_counter()
        if now - state["last"] > 5.0:
            state["last"] = now
            say(f"slepc: iteration {its}, {nconv} converged, {now - t0:.1f} s")

    def solve(nev_, deflate, initial=None, main=True, loose=False, bound=None):
        """One EPS solve for the ``nev_`` lowest eigenpairs orthogonal to ``deflate`` (Vecs):
        returns the converged eigenvectors (translations projected out, unit norm) as Vecs.
        ``main``: a solve for the wanted set (its KSP iterations and block size are reported),
        not a completeness re-search; ``loose``: LOBPCG (an independent method, cheaper than
        shift-and-invert) to tolerance ``max(tol, LOOSE_TOL)``, enough to see whether an
        eigenvalue lies below a bound (the Rayleigh quotients are computed here). With
        ``conv="norm"`` the loose search stops at ``|D x - theta x| <= LOOSE_WEYL * bound``
        (``bound``: the wanted set's top eigenvalue; EPS_CONV_ABS) instead."""
        tol_ = max(tol, LOOSE_TOL) if loose else tol
        how = "lobpcg" if loose else method  # the cheap search: LOBPCG whatever the main method
        if how == "chebyshev":
            return solve_chebyshev(nev_, deflate, initial, tol_, main)
        if how == "lobpcg" and main and not initial and start == "planewaves":
            blk = block_size or int(np.ceil(1.25 * nev_))
            initial = to_vecs(plane_wave_block(blk - max(1, blk // 8)))
        eps = SLEPc.EPS().create(comm=pcomm)
        eps.setOperators(A)
        eps.setProblemType(SLEPc.EPS.ProblemType.HEP)
        st = eps.getST()
        ksp = st.getKSP()
        pc = ksp.getPC()
        if how == "krylovschur":
            eps.setType(SLEPc.EPS.Type.KRYLOVSCHUR)
            eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_MAGNITUDE)
            eps.setTarget(sigma)
            st.setType(SLEPc.ST.Type.SINVERT)
            st.setShift(sigma)
            ksp.setType(PETSc.KSP.Type.CG)
            ksp.setTolerances(rtol=ksp_rtol * tol_ / tol, atol=1e-300, max_it=10000)
        else:
            eps.setType(SLEPc.EPS.Type.LOBPCG)
            eps.setWhichEigenpairs(SLEPc.EPS.Which.SMALLEST_REAL)
            st.setType(SLEPc.ST.Type.PRECOND)
            ksp.setType(PETSc.KSP.Type.PREONLY)
        pc.setType(PETSc.PC.Type.BJACOBI if inner == "icc" else PETSc.PC.Type.GAMG)
        if deflate:
            eps.setDeflationSpace(deflate)
        eps.setTolerances(tol=tol_, max_it=max_it or (PETSc.DECIDE if how == "krylovschur" else 10000))
        if conv == "norm" and not loose:
            eps.setConvergenceTest(SLEPc.EPS.Conv.NORM)
            eps.setTolerances(tol=NORM_SAFETY * tol_, max_it=max_it or 10000)
        elif conv == "norm" and bound is not None:
            eps.setConvergenceTest(SLEPc.EPS.Conv.ABS)
            eps.setTolerances(tol=LOOSE_WEYL * max(bound, thr), max_it=max_it or 10000)
        eps.setMonitor(monitor)
        eps.setDimensions(nev=nev_, ncv=(ncv if main else None) or PETSc.DECIDE,
                          mpd=(mpd if main else None) or PETSc.DECIDE)
        if how == "lobpcg":
            eps.setLOBPCGBlockSize((block_size if main else None) or int(np.ceil(1.25 * nev_)))
        if initial:
            eps.setInitialSpace(initial)
        eps.setFromOptions()
        try:
            eps.solve()
        except (PETSc.Error, SystemError) as exc:  # petsc4py may wrap the PETSc.Error
            _BROKEN.append(eps)  # destroying an EPS interrupted mid-solve raises again: keep it
            reason = ksp.getConvergedReason()
            cause = exc.__cause__ if isinstance(exc, SystemError) and exc.__cause__ else exc
            if (reason == PETSc.KSP.ConvergedReason.DIVERGED_INDEFINITE_MAT
                    or "indefinite matrix" in str(cause)):
                _raise_indefinite(SLEPc, PETSc, dist, T if nT else None, sigma, scale, zero_tol, zm)
            detail = " ".join(line.split("] ", 1)[-1] for line in str(cause).splitlines()[-2:])
            raise ModeError(f"slepc: solve for {nev_} eigenpairs failed (KSP reason {reason}): "
                            f"{detail}") from None
        state["iterations"] += eps.getIterationNumber()
        state["main_its"] += eps.getIterationNumber() if main else 0
        state["solves"] += 1
        nconv = eps.getConverged()
        if nconv < nev_:
            raise ModeError(f"slepc: {nconv} of {nev_} eigenpairs converged in "
                            f"{eps.getIterationNumber()} iterations (reason {eps.getConvergedReason()}); "
                            "raise max_it or ncv")
        out = []
        for i in range(nconv):
            v = dist.vec()
            eps.getEigenvector(i, v)
            for t in T if nT else ():
                v.axpy(-t.dot(v), t)
            v.scale(1.0 / v.norm())
            out.append(v)
        if main:
            state["ksp_its"] = ksp.getIterationNumber() if method == "krylovschur" else 0
            state["block"] = eps.getLOBPCGBlockSize() if method == "lobpcg" else None
        eps.destroy()
        return out

    y = dist.vec()

    def rayleigh(v):
        A.mult(v, y)
        return float(y.dot(v))

    for key, val in user_opts.items():
        opts.setValue(key, "" if val is None else val)
    try:
        vecs: list = []
        while True:
            say(f"slepc: solving for {nev} eigenpairs ({method}, inner {inner})")
            vecs = solve(nev, T if nT else None, initial=vecs or None)
            lams = np.sort([rayleigh(v) for v in vecs])
            top = float(lams[:nev].max())
            if (w_max is None or top > lam_max or nev >= nfree - 1
                    or (k is not None and np.sum(lams <= lam_max) >= k)):
                break
            found = int(np.sum(lams <= lam_max))
            ratio = (lam_max / max(top, 1e-300)) ** (dist.d / 2.0)
            new = int(min(nfree - 1, max(nev + chunk, np.ceil(1.25 * nev * ratio))))
            say(f"slepc: {found} modes below w_max so far (top omega "
                f"{float(omega_from_eigenvalues(top, units)):.6g}); nev {nev} -> {new}")
            nev = new
        t_verify = time.perf_counter()
        vecs, lam, verify_note = _verify_complete(vecs, [rayleigh(v) for v in vecs], solve, rayleigh, T if nT else [],
                                                  k, lam_max, nfree, thr, say)
        state["verify_s"] = time.perf_counter() - t_verify
    finally:
        for key in user_opts:
            opts.delValue(key)

    # eigenpairs: Rayleigh quotients and residuals computed here, the same way as the other backends
    res_list, vec_list = [], []
    for v, lv in zip(vecs, lam):
        A.mult(v, y)
        y.axpy(-lv, v)
        res_list.append(y.norm() / scale)
        vec_list.append(_gather(dist, v))
    res = np.array(res_list)
    neg = lam[lam < -thr]
    if neg.size:
        raise_unstable(neg, scale, zero_tol, zm, lower_bound=True)
    seconds = time.perf_counter() - t0
    if rank != 0:
        return None
    V = np.column_stack(vec_list) if vec_list else np.zeros((dist.n, 0))
    V = normalize_signs(V)
    notes = ["completeness checked by a re-search with the returned modes deflated (no inertia "
             "certificate without a direct solver)", *verify_note]
    if asym > 0:
        notes.append(f"symmetrized (relative asymmetry {asym:.1e})")
    if nT == 0:
        notes.append("rigid translations are not zero modes; nothing deflated")
    extra = int(np.sum(np.abs(lam) <= thr))
    info = SolverInfo(
        backend="slepc", method=_method_label(method, inner, start),
        tol=tol, zero_tol=zero_tol, scale=float(scale), iterations=int(state["iterations"]), residual_norms=res,
        zero_modes=ZeroModes(zm.count, zm.max_abs_eigenvalue, zm.translation_residual, extra),
        options={"shift": sigma, "ksp_rtol": ksp_rtol, "nev": nev, "solves": state["solves"],
                 **({"block_size": state["block"]} if method in ("lobpcg", "chebyshev") else {}),
                 "start": start, **({"block_products": state["products"], "start_seconds": state["start_s"]}
                                    if state["products"] else {}),
                 **({"upper_bound": state["upper"], "max_degree": max_degree} if method == "chebyshev" else {}),
                 "last_ksp_iterations": state["ksp_its"], "verify_seconds": state["verify_s"],
                 "main_iterations": state["main_its"],
                 "nprocs": pcomm.getSize(), "conv": conv, "near_null": near_null, **user_opts},
        notes=tuple(notes), seconds=seconds, complete_below=float("nan"),
    )
    return Modes(omega=omega_from_eigenvalues(lam, units), eigenvalues=lam, vectors=V, dimension=dist.d,
                 units=units, info=info, meta=dist.meta, atoms=dist.atoms)


METHODS = ("krylovschur", "lobpcg", "chebyshev")
INNERS = ("gamg", "icc", "gamg-block")
# GAMG whose level smoothers (Richardson + Jacobi, 3 steps, damping 0.6) have a block solve
# (KSPMatSolve): SLEPc's LOBPCG applies the preconditioner to its whole block (PCMatApply) and
# the matrices of the hierarchy are read once per block, not once per vector as with GAMG's
# default Chebyshev smoothers (which PETSc applies column by column). Damping and steps from a
# screen at N = 1000 (bench/results/modes_fast.md).
GAMG_BLOCK_OPTIONS = {"st_mg_levels_ksp_type": "richardson", "st_mg_levels_pc_type": "jacobi",
                      "st_mg_levels_ksp_richardson_scale": "0.6", "st_mg_levels_ksp_max_it": "3"}
STARTS = ("random", "planewaves")
CONVS = ("relative", "norm")
NEAR_NULLS = ("translations", "rigid")


def _method_label(method: str, inner: str, start: str) -> str:
    """``SolverInfo.method``: eigensolver + what it applies (+ ``-pw`` for a plane-wave start)."""
    base = {"krylovschur": f"krylovschur+sinvert-cg-{inner}", "lobpcg": f"lobpcg+precond-{inner}",
            "chebyshev": "chebyshev-filtered-subspace"}[method]
    return base + ("+planewave-start" if start == "planewaves" else "")


MAX_VERIFY_ROUNDS = 8
VERIFY_NEV = 12
LOOSE_TOL = 1e-6
# conv="norm": SLEPc's LOBPCG tests its own residual estimates, which after locking inside a
# degenerate level can be below the true residual (FCC crystal, 12-fold level: a true residual 1.45
# times the tolerance); the solve asks for this fraction of ``tol`` so the residuals computed here
# stay below ``tol (|D|_inf + |lambda|)``.
NORM_SAFETY = 0.25
# conv="norm": the loose search's absolute residual, relative to the wanted set's top eigenvalue.
# A Ritz pair with |D x - theta x| <= r has an eigenvalue within r of theta (the residual bound for
# a symmetric matrix, e.g. Parlett, The Symmetric Eigenvalue Problem, SIAM 1998): with r <= 1e-4
# limit, a Ritz value above limit * (1 + 1e-3) (the check's margin) stands for an eigenvalue above
# the limit. As with the relative test, the search
# relies on LOBPCG finding the lowest eigenvalues of the deflated problem. The relative test's
# 1e-6 |theta| is 1e-6 |theta| / |D| in these units: far tighter than the check needs.
LOOSE_WEYL = 1e-4
LEVEL_RTOL = 1e-6


def _verify_complete(vecs: list, lams: list, solve, rayleigh, T: list, k, lam_max: float, nfree: int, thr: float,
                     say):
    """Krylov methods may return one copy of a degenerate level and skip the others (a silently
    wrong "lowest k", e.g. 11 of a 12-fold level of a crystal). Search again for the lowest
    eigenpairs orthogonal to the translations and to every vector found (deflation); any
    eigenvalue not above the wanted set's top (``k``-th lowest, or ``lam_max``) within
    ``LEVEL_RTOL`` was missed: add it and search again, until a search finds none.

    Returns the wanted eigenpairs (``vecs`` sorted, their eigenvalues as an array) and notes.
    """
    lam = np.asarray(lams, dtype=float)
    late = np.zeros(lam.size, dtype=bool)  # found by a re-search
    for rounds in range(MAX_VERIFY_ROUNDS + 1):
        order = np.argsort(lam, kind="stable")
        lam, vecs, late = lam[order], [vecs[j] for j in order], late[order]
        if k is not None:
            want = min(k, lam.size, int(np.sum(lam <= lam_max)) if np.isfinite(lam_max) else lam.size)
            top = float(lam[want - 1]) if want else float(lam_max)
        else:
            top = float(lam_max)
        limit = top + LEVEL_RTOL * abs(top) + thr
        room = nfree - len(vecs) - 1
        if room < 1:
            break
        if rounds == MAX_VERIFY_ROUNDS:
            raise ModeError(f"slepc: after {rounds} re-searches eigenvalues below {top:.6e} are still being "
                            "found (missed by the eigensolver); use the sparse or dense backend")
        nchk = min(room, VERIFY_NEV)
        say(f"slepc: checking for missed eigenvalues below {top:.6e} ({nchk} eigenpairs with the "
            f"{len(vecs)} found deflated)")
        # a cheap search first (loose tolerance): usually it finds nothing below the bound
        more = solve(nchk, list(T) + list(vecs), main=False, loose=True, bound=top)
        more_lam = np.array([rayleigh(v) for v in more]) if more else np.zeros(0)
        if not np.any(more_lam <= limit * (1 + 1e-3) + thr):
            break
        more = solve(nchk, list(T) + list(vecs), main=False)  # the vectors to return, at full accuracy
        more_lam = np.array([rayleigh(v) for v in more]) if more else np.zeros(0)
        missed = more_lam <= limit
        if not missed.any():
            break
        say(f"slepc: {int(missed.sum())} eigenvalue(s) below {limit:.6e} were missed (degenerate "
            "levels?); added")
        vecs = vecs + [v for v, m in zip(more, missed) if m]
        lam = np.concatenate([lam, more_lam[missed]])
        late = np.concatenate([late, np.ones(int(missed.sum()), dtype=bool)])
    notes = []
    keep = lam <= lam_max
    if k is not None:
        keep &= np.arange(lam.size) < k
        if keep.sum() == k and lam.size > k and abs(lam[k] - lam[k - 1]) <= LEVEL_RTOL * abs(lam[k - 1]) + thr:
            notes.append("the k-th mode is part of a degenerate level cut by k")
    idx = np.flatnonzero(keep)
    if idx.size:
        # copies inside the top level are interchangeable with the first solve's: count those below
        below_top = lam[idx] < lam[idx[-1]] - LEVEL_RTOL * abs(lam[idx[-1]]) - thr
        missed = int(np.sum(late[idx] & below_top))
        if missed:
            notes.insert(0, f"{missed} eigenpair(s) below the top level (copies of degenerate levels) were "
                            "missed by the first solve and found by the re-search")
    return [vecs[j] for j in idx], lam[idx], notes


def _raise_indefinite(SLEPc, PETSc, dist, T, sigma, scale, zero_tol, zm):
    """D - sigma I is indefinite: find the most negative eigenvalue for the message, then raise."""
    eps = SLEPc.EPS().create(comm=dist.comm)
    eps.setOperators(dist.A)
    eps.setProblemType(SLEPc.EPS.ProblemType.HEP)
    eps.setType(SLEPc.EPS.Type.KRYLOVSCHUR)
    eps.setWhichEigenpairs(SLEPc.EPS.Which.SMALLEST_REAL)
    eps.setDimensions(nev=1)
    eps.setTolerances(tol=1e-6, max_it=2000)
    if T is not None:
        eps.setDeflationSpace(T)
    eps.solve()
    low = np.array([eps.getEigenvalue(i).real for i in range(eps.getConverged())])
    eps.destroy()
    if low.size == 0:
        low = np.array([sigma])
    raise_unstable(low[low < 0] if np.any(low < 0) else low, scale, zero_tol, zm, lower_bound=True)


def stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)

