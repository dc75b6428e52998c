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

The rigid translations (mass-weighted, normalized) are given to ``EPSSetDeflationSpace`` when
they are null vectors of D (see :mod:`glassmodes.modes.core`): the eigensolver works in their
orthogonal complement.

"All modes below ``w_max``": Krylov-Schur's spectrum slicing (``EPSSetInterval``) needs the
inertia of ``D - s I`` from a direct LDL^T factorization (MUMPS), which is not available. Instead
the number of wanted eigenvalues ``nev`` grows: solve for the ``nev`` lowest, and while the
largest of them is below ``w_max^2``, raise ``nev`` (by the Debye estimate ``N(w) ~ w^d`` from
what was found, times 1.25) and solve again, starting from the eigenvectors already found
(``EPSSetInitialSpace``). Completeness rests on Krylov-Schur returning the ``nev`` eigenvalues
nearest the shift, which it does reliably but without a certificate; the sparse backend
certifies completeness by inertia (SuperLU) for systems that fit on one node.

Unstable structures: a computed eigenvalue below ``-zero_tol * scale``, or CG meeting negative
curvature in ``D - sigma I`` (KSP_DIVERGED_INDEFINITE_MAT: an eigenvalue lies below ``sigma``)
raises :class:`glassmodes.modes.core.UnstableStructureError`.

PETSc/SLEPc options: ``options={"eps_tol": 1e-12, "st_ksp_type": "minres"}`` or strings
``["-eps_view", "-st_pc_type", "jacobi"]`` are put in the options database before
``EPSSetFromOptions`` (so they override the defaults above) and removed afterwards.

The result (eigenvectors gathered) is returned on rank 0 of ``comm``; other ranks get ``None``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from glassmodes.io.hessian import ATOMS_DTYPE, HessianFileError, atoms_path, sidecar_path
from glassmodes.modes.core import (
    DEFAULT_SYMMETRY_TOL, DEFAULT_ZERO_TOL, AsymmetricMatrixError, ModeError, Modes, SolverInfo, ZeroModes,
    eigenvalue_from_omega, normalize_signs, omega_from_eigenvalues, raise_unstable, unit_factor,
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


def _check_meta(meta: dict, atoms: np.ndarray, where: str) -> None:
    for key in ("natoms", "dimension", "ndof", "units", "mass_weighted"):
        if key not in meta:
            raise HessianFileError(f"{where}: sidecar lacks {key!r}")
    d, n = int(meta["dimension"]), int(meta["natoms"])
    if int(meta["ndof"]) != d * n:
        raise HessianFileError(f"{where}: sidecar ndof {meta['ndof']} != dimension {d} * natoms {n}")
    if atoms.shape != (n,):
        raise HessianFileError(f"{where}: {atoms.shape[0]} atom records, sidecar says {n}")
    m = np.asarray(atoms["mass"], dtype=float)
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise HessianFileError(f"{where}: non-positive or non-finite masses in the atoms file")
    unit_factor(str(meta["units"]))


def _load(PETSc, source, comm) -> _Dist:
    """Load a Hessian file in parallel, or distribute an in-memory Hessian."""
    from glassmodes.io.hessian import Hessian, load_petsc_mat

    if isinstance(source, Hessian):
        meta, atoms = dict(source.meta), source.atoms
        meta.setdefault("ndof", source.matrix.shape[0])
        _check_meta(meta, atoms, "Hessian")
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
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such Hessian file")
    if not sidecar_path(path).is_file():
        raise HessianFileError(f"{path}: sidecar {sidecar_path(path)} is missing")
    meta = json.loads(sidecar_path(path).read_text())
    if not atoms_path(path).is_file():
        raise HessianFileError(f"{path}: atoms file {atoms_path(path)} is missing")
    atoms = np.load(atoms_path(path), allow_pickle=False)
    if atoms.dtype != ATOMS_DTYPE:
        raise HessianFileError(f"{atoms_path(path)}: dtype {atoms.dtype}, expected {ATOMS_DTYPE}")
    _check_meta(meta, atoms, str(path))
    opts = PETSc.Options()
    opts.setValue("matload_block_size", int(meta["dimension"]))
    try:
        mat, _ = load_petsc_mat(path, comm=comm)
    finally:
        opts.delValue("matload_block_size")
    info = mat.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)
    if "nnz" in meta and int(round(info["nz_used"])) != int(meta["nnz"]):
        raise HessianFileError(f"{path}: {int(info['nz_used'])} nonzeros, sidecar says {meta['nnz']}")
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
                progress=None) -> Modes | None:
    """Lowest ``k`` modes and/or all modes below ``w_max`` with SLEPc (see module docs).

    Parameters
    ----------
    source : path or Hessian
        A Hessian file (loaded in parallel) or an in-memory :class:`glassmodes.io.hessian.Hessian`.
    comm : mpi4py or petsc4py communicator, optional
        ``None``: serial (``COMM_SELF``); under mpirun pass ``MPI.COMM_WORLD``.
    k, w_max : int, float
        Number of lowest modes / upper angular frequency (rad per time unit).
    method : "krylovschur" or "lobpcg"
    inner : "gamg" or "icc"
        Preconditioner of the inner CG solves (or of LOBPCG).
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

    Returns
    -------
    Modes on rank 0, None on the other ranks.
    """
    PETSc, SLEPc = _petsc()
    if k is None and w_max is None:
        raise ModeError("slepc: give k (lowest modes) and/or w_max (all modes below)")
    if k is not None and k <= 0:
        raise ModeError(f"k must be positive, got {k}")
    if method not in ("krylovschur", "lobpcg"):
        raise ModeError(f"slepc: unknown method {method!r} (krylovschur, lobpcg)")
    if block_size is not None and block_size < 1:
        raise ModeError(f"block_size must be positive, got {block_size}")
    if inner not in ("gamg", "icc"):
        raise ModeError(f"slepc: unknown inner preconditioner {inner!r} (gamg, icc)")
    pcomm = PETSc.COMM_SELF if comm is None else (comm if isinstance(comm, PETSc.Comm) else PETSc.Comm(comm))
    rank = pcomm.getRank()
    say = (progress or (lambda msg: None)) if rank == 0 else (lambda msg: None)
    t0 = time.perf_counter()

    dist = _load(PETSc, source, pcomm)
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
    nT = zm.count
    say(f"slepc: {dist.n} dof on {pcomm.getSize()} rank(s), scale {scale:.4e}, "
        f"translations {'deflated' if nT else 'not zero modes'} (residual {zm.translation_residual:.1e})")
    if nT and inner == "gamg":
        A.setNearNullSpace(PETSc.NullSpace().create(constant=False, vectors=T, comm=pcomm))
    sigma = -thr if shift is None else float(shift)
    lam_max = eigenvalue_from_omega(w_max, units) if w_max is not None else np.inf
    ksp_rtol = 1e-3 * tol if ksp_rtol is None else ksp_rtol
    user_opts = _parse_options(options)

    eps = SLEPc.EPS().create(comm=pcomm)
    eps.setOperators(A)
    eps.setProblemType(SLEPc.EPS.ProblemType.HEP)
    st = eps.getST()
    ksp = st.getKSP()
    pc = ksp.getPC()
    if method == "krylovschur":
        eps.setType(SLEPc.EPS.Type.KRYLOVSCHUR)
        eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_MAGNITUDE)
        eps.setTarget(sigma)
        st.setType(SLEPc.ST.Type.SINVERT)
        st.setShift(sigma)
        ksp.setType(PETSc.KSP.Type.CG)
        ksp.setTolerances(rtol=ksp_rtol, atol=1e-300, max_it=10000)
    else:
        eps.setType(SLEPc.EPS.Type.LOBPCG)
        eps.setWhichEigenpairs(SLEPc.EPS.Which.SMALLEST_REAL)
        st.setType(SLEPc.ST.Type.PRECOND)
        ksp.setType(PETSc.KSP.Type.PREONLY)
    if inner == "gamg":
        pc.setType(PETSc.PC.Type.GAMG)
    else:
        pc.setType(PETSc.PC.Type.BJACOBI)
    if nT:
        eps.setDeflationSpace(T)
    eps.setTolerances(tol=tol, max_it=max_it or (PETSc.DECIDE if method == "krylovschur" else 10000))

    nfree = dist.n - nT
    nev = min(k if (k is not None and w_max is None) else max(chunk, k or 0), nfree - 1)
    opts = PETSc.Options()
    if inner == "icc" and "st_sub_pc_type" not in user_opts:
        user_opts = {"st_sub_pc_type": "icc", **user_opts}
    for key, val in user_opts.items():
        opts.setValue(key, "" if val is None else val)

    state = {"last": 0.0}

    def monitor(e, its, nconv, eig, err):
        now = time.perf_counter()
        if now - state["last"] > 5.0:
            state["last"] = now
            say(f"slepc: iteration {its}, {nconv} converged, {now - t0:.1f} s")

    eps.setMonitor(monitor)
    iterations = 0
    initial = None
    windows = 0
    try:
        while True:
            windows += 1
            eps.setDimensions(nev=nev, ncv=ncv or PETSc.DECIDE, mpd=mpd or PETSc.DECIDE)
            if method == "lobpcg":
                eps.setLOBPCGBlockSize(block_size or int(np.ceil(1.25 * nev)))
            if initial:
                eps.setInitialSpace(initial)
            eps.setFromOptions()
            say(f"slepc: solving for {nev} eigenpairs ({method}, inner {inner})")
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
                raise ModeError(f"slepc: solve for {nev} eigenpairs failed (KSP reason {reason}): "
                                f"{detail}") from None
            iterations += eps.getIterationNumber()
            nconv = eps.getConverged()
            if nconv < nev:
                raise ModeError(f"slepc: {nconv} of {nev} eigenpairs converged in "
                                f"{eps.getIterationNumber()} iterations (reason {eps.getConvergedReason()}); "
                                "raise max_it or ncv")
            lams = np.array([eps.getEigenvalue(i).real for i in range(nconv)])
            top = float(np.sort(lams)[:nev].max())
            if w_max is None or top > lam_max or nev >= nfree - 1 or (k is not None and np.sum(lams <= lam_max) >= k):
                break
            found = int(np.sum(lams <= lam_max))
            ratio = (lam_max / max(top, 1e-300)) ** (dist.d / 2.0)
            new = int(min(nfree - 1, max(nev + chunk, np.ceil(1.25 * nev * ratio))))
            say(f"slepc: {found} modes below w_max so far (top omega "
                f"{float(omega_from_eigenvalues(top, units)):.6g}); nev {nev} -> {new}")
            initial = []
            for i in range(nconv):
                v = dist.vec()
                eps.getEigenvector(i, v)
                initial.append(v)
            nev = new
    finally:
        for key in user_opts:
            opts.delValue(key)

    # eigenpairs: Rayleigh quotients and residuals computed here, the same way as the other backends
    v = dist.vec()
    y = dist.vec()
    lam_list, res_list, vec_list = [], [], []
    for i in range(eps.getConverged()):
        eps.getEigenvector(i, v)
        if nT:
            for t in T:
                v.axpy(-t.dot(v), t)
        v.scale(1.0 / v.norm())
        A.mult(v, y)
        lam = y.dot(v)
        y.axpy(-lam, v)
        lam_list.append(lam)
        res_list.append(y.norm() / scale)
        vec_list.append(_gather(dist, v))
    lam = np.array(lam_list)
    order = np.argsort(lam, kind="stable")
    lam = lam[order]
    res = np.array(res_list)[order]
    keep = np.ones(lam.size, dtype=bool)
    if w_max is not None:
        keep &= lam <= lam_max
    if k is not None:
        keep &= np.arange(lam.size) < k
    neg = lam[lam < -thr]
    if neg.size:
        raise_unstable(neg, scale, zero_tol, zm, lower_bound=True)
    seconds = time.perf_counter() - t0
    ksp_its = ksp.getIterationNumber() if method == "krylovschur" else 0
    eps_block = eps.getLOBPCGBlockSize() if method == "lobpcg" else None
    eps.destroy()
    if rank != 0:
        return None
    V = np.column_stack([vec_list[j] for j in order[keep]]) if keep.any() else np.zeros((dist.n, 0))
    lam, res = lam[keep], res[keep]
    V = normalize_signs(V)
    notes = ["completeness not certified (no inertia without a direct solver)"]
    if asym > 0:
        notes.append(f"symmetrized (relative asymmetry {asym:.1e})")
    if nT == 0:
        notes.append("rigid translations are not zero modes; nothing deflated")
    extra = int(np.sum(np.abs(lam) <= thr))
    info = SolverInfo(
        backend="slepc", method=f"{method}+{'sinvert-cg' if method == 'krylovschur' else 'precond'}-{inner}",
        tol=tol, zero_tol=zero_tol, scale=float(scale), iterations=int(iterations), residual_norms=res,
        zero_modes=ZeroModes(zm.count, zm.max_abs_eigenvalue, zm.translation_residual, extra),
        options={"shift": sigma, "ksp_rtol": ksp_rtol, "nev": nev, "solves": windows,
                 **({"block_size": eps_block} if method == "lobpcg" else {}),
                 "last_ksp_iterations": ksp_its, "nprocs": pcomm.getSize(), **user_opts},
        notes=tuple(notes), seconds=seconds, complete_below=float("nan"),
    )
    return Modes(omega=omega_from_eigenvalues(lam, units), eigenvalues=lam, vectors=V, dimension=dist.d,
                 units=units, info=info, meta=dist.meta, atoms=dist.atoms)


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

