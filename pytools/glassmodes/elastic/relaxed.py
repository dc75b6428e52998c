"""Solves with the pseudo-inverse of the plain Hessian, and the relaxed (athermal) elastic tensor.

``C_IJ = C^B_IJ - (1/V) Xi_I . H^+ . Xi_J`` (Lutsko, J. Appl. Phys. 1989; Kapteijns, PhD thesis,
Eq. 5.6; design note B2), H the plain Hessian (energy/distance^2) on the translation-free
subspace. Two routes to ``z = H^+ b`` for right-hand sides b orthogonal to the translations:

:class:`ModeSolver`
    From all non-zero modes of the mass-weighted dynamical matrix D = M^-1/2 H M^-1/2:
    ``H^+ = sum_l M^-1/2 e_l e_l^T M^-1/2 / lambda_l`` (lambda_l the eigenvalues of D, the d
    translations excluded).
:class:`CGSolver`
    Preconditioned conjugate gradients on H, all right-hand sides at once (one sparse product
    per iteration for the batch), block-Jacobi preconditioner (the inverted d x d diagonal
    blocks), translations projected out of the preconditioned residual; stops per column at
    ``|H z - b| <= rtol |b|``. Negative curvature (an unstable configuration) is an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from glassmodes.elastic.tensors import moduli, stress_strain_B
from glassmodes.elastic.terms import ElasticError, check_terms, voigt_labels


@dataclass(frozen=True)
class SolveInfo:
    """How a batch of solves went.

    Attributes
    ----------
    method : str
        ``modes`` or ``cg``.
    iterations : ndarray, shape=(k,)
        CG iterations per right-hand side (0 for the modes route).
    residuals : ndarray, shape=(k,)
        ``|H z - b| / |b|`` per right-hand side, measured after the solve with H when available.
    seconds : float
    notes : dict
    """

    method: str
    iterations: np.ndarray
    residuals: np.ndarray
    seconds: float
    notes: dict = field(default_factory=dict)

    def summary(self) -> dict:
        res = np.asarray(self.residuals, dtype=float)
        finite = res[np.isfinite(res)]
        return {"method": self.method, "iterations_max": int(np.max(self.iterations, initial=0)),
                "residual_max": float(finite.max()) if finite.size else None, "seconds": self.seconds,
                **self.notes}


def plain_translations(ndof: int, dim: int) -> np.ndarray:
    """Orthonormal rigid translations of the plain (not mass-weighted) coordinates, (ndof, d)."""
    T = np.zeros((ndof, dim))
    for a in range(dim):
        T[a::dim, a] = 1.0
    return T / np.sqrt(ndof // dim)


def _check_rhs(rhs: np.ndarray, dim: int, what: str = "right-hand side") -> np.ndarray:
    b = np.asarray(rhs, dtype=float)
    if b.ndim == 1:
        b = b[:, None]
    T = plain_translations(b.shape[0], dim)
    along = np.linalg.norm(T.T @ b, axis=0)
    scale = np.maximum(np.linalg.norm(b, axis=0), np.finfo(float).tiny)
    if np.any(along > 1e-8 * scale):
        k = int(np.argmax(along / scale))
        raise ElasticError(f"{what} {k} has a net force component ({along[k] / scale[k]:.2e} of its norm): "
                           "H^+ is defined only for vectors orthogonal to the translations")
    return b


class ModeSolver:
    """``H^+ b`` from a complete set of non-zero modes (design note B3).

    Parameters
    ----------
    eigenvalues : ndarray, shape=(n,)
        Eigenvalues of the mass-weighted D (energy/(distance^2 mass)), the zero modes excluded.
    vectors : ndarray, shape=(d*N, n)
        Mass-weighted unit eigenvectors.
    masses : ndarray, shape=(N,)
    dim : int
    atom_ids : ndarray, shape=(N,), optional
        For the error messages and the file checks.

    Raises
    ------
    ElasticError
        When the set is not complete (n != d*N - d) or an eigenvalue is <= 0 (names the mode).
    """

    method = "modes"

    def __init__(self, eigenvalues, vectors, masses, dim: int, atom_ids=None, source: str = ""):
        lam = np.asarray(eigenvalues, dtype=float)
        E = np.asarray(vectors, dtype=float)
        m = np.asarray(masses, dtype=float)
        ndof = dim * m.size
        if E.shape != (ndof, lam.size):
            raise ElasticError(f"{source or 'modes'}: eigenvectors have shape {E.shape}, expected ({ndof}, {lam.size})")
        if lam.size != ndof - dim:
            raise ElasticError(f"{source or 'modes'}: {lam.size} modes stored, the relaxation needs all "
                               f"{ndof - dim} non-translational modes (write them all, e.g. "
                               "`glassmodes modes H --backend dense --all`), or use the CG route")
        bad = np.flatnonzero(lam <= 0)
        if bad.size:
            k = int(bad[0])
            raise ElasticError(f"{source or 'modes'}: mode {k} has eigenvalue {lam[k]:.6e} <= 0 (an unstable or "
                               "non-minimized configuration, or an extra zero mode such as a rattler): the relaxed "
                               "moduli are undefined; re-minimize the sample or drop it")
        self.lam, self.E, self.dim = lam, E, dim
        self.sinv = 1.0 / np.sqrt(np.repeat(m, dim))
        self.atom_ids = atom_ids
        self.ndof = ndof

    @classmethod
    def from_modes(cls, modes, source: str = "") -> "ModeSolver":
        """From a :class:`glassmodes.modes.Modes` (e.g. ``read_modes(path)``)."""
        if modes.vectors is None:
            raise ElasticError(f"{source or 'modes'}: no eigenvectors (all must be stored)")
        extra = getattr(getattr(modes.info, "zero_modes", None), "extra", 0)
        if extra:
            raise ElasticError(f"{source or 'modes'}: {extra} extra zero modes besides the translations "
                               "(rattlers or a broken system): H^+ is undefined on them")
        return cls(modes.eigenvalues, modes.vectors, modes.atoms["mass"], modes.dimension,
                   atom_ids=modes.atoms["id"], source=source)

    def solve(self, rhs: np.ndarray) -> tuple:
        """z = H^+ b, shape=(d*N, k), and a :class:`SolveInfo`."""
        t0 = time.perf_counter()
        b = _check_rhs(rhs, self.dim)
        p = self.E.T @ (self.sinv[:, None] * b)
        z = self.sinv[:, None] * (self.E @ (p / self.lam[:, None]))
        k = b.shape[1]
        info = SolveInfo("modes", np.zeros(k, dtype=int), np.full(k, np.nan), time.perf_counter() - t0,
                         {"nmodes": int(self.lam.size), "lambda_min": float(self.lam.min())})
        return z, info


class CGSolver:
    """Batched preconditioned CG for ``H z = b`` on the translation-free subspace.

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape=(d*N, d*N)
        The plain Hessian H (not mass-weighted), symmetric positive semi-definite with the d
        translations as its null space.
    dim : int
    rtol : float
        Stop a column when ``|H z - b| <= rtol |b|`` (the recurrence residual; the true residual is
        recomputed at the end and reported).
    maxiter : int, optional
        Default ``max(1000, 2 d N)``.
    atom_ids : ndarray, optional
        To name an atom without interactions in the error.
    """

    method = "cg"

    def __init__(self, matrix, dim: int, rtol: float = 1e-10, maxiter: int | None = None, atom_ids=None):
        H = sp.csr_matrix(matrix, dtype=float)
        n = H.shape[0]
        if H.shape[0] != H.shape[1] or n % dim:
            raise ElasticError(f"Hessian of shape {H.shape} for dimension {dim}")
        self.H, self.dim, self.rtol, self.ndof = H, dim, float(rtol), n
        self.maxiter = int(maxiter) if maxiter else max(1000, 2 * n)
        natoms = n // dim
        blocks = np.zeros((natoms, dim, dim))
        rows = np.arange(n)
        for a in range(dim):
            for b in range(dim):
                blocks[:, a, b] = np.asarray(H[rows[a::dim], rows[b::dim]].diagonal()).ravel()
        det = np.linalg.det(blocks)
        scale = np.max(np.abs(det)) if natoms else 1.0
        bad = np.flatnonzero(np.abs(det) <= 1e-14 * scale)
        if bad.size:
            k = int(bad[0])
            who = f"atom ID {int(atom_ids[k])}" if atom_ids is not None else f"atom index {k}"
            raise ElasticError(f"{who} has a singular diagonal Hessian block (no interactions: a rattler?); "
                               "H^+ is undefined, remove the atom or use a sample without rattlers")
        self.block_inv = np.linalg.inv(blocks)
        self.T = plain_translations(n, dim)
        self.atom_ids = atom_ids

    def _precondition(self, r: np.ndarray) -> np.ndarray:
        k = r.shape[1]
        z = np.einsum("nab,nbk->nak", self.block_inv, r.reshape(-1, self.dim, k)).reshape(-1, k)
        return z - self.T @ (self.T.T @ z)

    def solve(self, rhs: np.ndarray) -> tuple:
        """z = H^+ b (translation-free), shape=(d*N, k), and a :class:`SolveInfo`."""
        t0 = time.perf_counter()
        b = _check_rhs(rhs, self.dim)
        b = b - self.T @ (self.T.T @ b)
        k = b.shape[1]
        bnorm = np.linalg.norm(b, axis=0)
        x = np.zeros_like(b)
        r = b.copy()
        z = self._precondition(r)
        p = z.copy()
        rz = np.einsum("ik,ik->k", r, z)
        active = bnorm > 0
        iters = np.zeros(k, dtype=int)
        it = 0
        while np.any(active) and it < self.maxiter:
            cols = np.flatnonzero(active)
            Hp = self.H @ p[:, cols]
            pHp = np.einsum("ik,ik->k", p[:, cols], Hp)
            if np.any(pHp <= 0):
                c = cols[int(np.argmin(pHp))]
                raise ElasticError(f"CG found non-positive curvature p.H.p = {pHp.min():.3e} at iteration {it} "
                                   f"(right-hand side {c}): the Hessian is not positive definite on the "
                                   "translation-free subspace (unstable configuration or extra zero modes); "
                                   "the modes route names the offending mode")
            alpha = rz[cols] / pHp
            x[:, cols] += alpha * p[:, cols]
            r[:, cols] -= alpha * Hp
            it += 1
            iters[cols] = it
            rn = np.linalg.norm(r[:, cols], axis=0)
            done = rn <= self.rtol * bnorm[cols]
            active[cols[done]] = False
            cols = np.flatnonzero(active)
            if cols.size == 0:
                break
            zc = self._precondition(r[:, cols])
            rz_new = np.einsum("ik,ik->k", r[:, cols], zc)
            beta = rz_new / rz[cols]
            rz[cols] = rz_new
            p[:, cols] = zc + beta * p[:, cols]
        if np.any(active):
            raise ElasticError(f"CG did not reach rtol {self.rtol:.1e} in {self.maxiter} iterations for "
                               f"{int(active.sum())} of {k} right-hand sides")
        x -= self.T @ (self.T.T @ x)
        res = np.linalg.norm(self.H @ x - b, axis=0) / np.where(bnorm > 0, bnorm, 1.0)
        info = SolveInfo("cg", iters, res, time.perf_counter() - t0,
                         {"rtol": self.rtol, "preconditioner": "block-Jacobi", "nrhs": int(k)})
        return x, info


@dataclass(frozen=True)
class RelaxedElastic:
    """The relaxed elastic response of one sample.

    Attributes
    ----------
    C : ndarray, shape=(nv, nv)
        Relaxed Lagrangian tensor (Voigt, tensor components), energy/distance^d, symmetrized.
    born : ndarray, shape=(nv, nv)
        C^B.
    nonaffine : ndarray, shape=(nv, nv)
        (1/V) Xi^T H^+ Xi (so C = born - nonaffine).
    B : ndarray, shape=(nv, nv)
        Wallace's stress-strain tensor of C (:func:`glassmodes.elastic.tensors.stress_strain_B`).
    stress : ndarray, shape=(d, d)
    moduli : dict
        :func:`glassmodes.elastic.tensors.moduli` of C; ``born_moduli`` the same of C^B.
    z : ndarray, shape=(d*N, nv)
        H^+ Xi (distance): the non-affine displacement per unit strain is ``-z``.
    solve : SolveInfo
    asymmetry : float
        ``max |N - N^T| / max |N|`` of the non-affine term before symmetrization.
    """

    C: np.ndarray
    born: np.ndarray
    nonaffine: np.ndarray
    B: np.ndarray
    stress: np.ndarray
    moduli: dict
    born_moduli: dict
    z: np.ndarray
    solve: SolveInfo
    asymmetry: float
    volume: float
    dim: int
    units: str
    voigt: tuple
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary (units in the ``units`` fields)."""
        return {
            "format": "glassmodes-elastic-result", "format_version": 1, "units": self.units,
            "modulus_units": "energy/distance^d (LAMMPS unit style `units`)", "dimension": self.dim,
            "volume": self.volume, "voigt": list(self.voigt),
            "convention": ("C: Lagrangian tensor components (C_66 = C_xyxy); B: Wallace stress-strain tensor; "
                           "stress sigma = (1/V) dU/deta (negative under compression); "
                           "G_thesis = C_xyxy + sigma_yy (simple shear x += gamma y)"),
            "C": self.C.tolist(), "born": self.born.tolist(), "nonaffine": self.nonaffine.tolist(),
            "B": self.B.tolist(), "stress": self.stress.tolist(), "moduli": self.moduli,
            "born_moduli": self.born_moduli, "solve": self.solve.summary(), "asymmetry": self.asymmetry,
            "meta": self.meta,
        }


def check_max_force(terms, max_force: float | None) -> None:
    """Refuse an unminimized configuration: ``terms.meta['max_force']`` (or the plugin sidecar's
    ``max_residual_force``) above ``max_force``."""
    if max_force is None:
        return
    meta = terms.meta if isinstance(terms.meta, dict) else {}
    f = meta.get("max_force", meta.get("max_residual_force"))    # ours / the plugin's sidecar
    if f is not None and float(f) > max_force:
        raise ElasticError(f"largest net force {float(f):.3e} > {max_force:.1e}: the configuration is not a "
                           "minimum (minimize to a smaller force tolerance first), the linear response is "
                           "not defined")


def relaxed_elastic(terms, solver, max_force: float | None = 1e-8) -> RelaxedElastic:
    """``C = C^B - Xi^T H^+ Xi / V`` with ``solver`` (:class:`ModeSolver` or :class:`CGSolver`).

    Parameters
    ----------
    terms : ElasticTerms (or the plugin's ElasticFile)
    solver : ModeSolver or CGSolver
        Built on the same configuration (atoms, order) as ``terms``.
    max_force : float or None
        Refuse when the configuration's largest net force (``terms.meta['max_force']``, force
        units) is above this.
    """
    check_terms(terms)
    check_max_force(terms, max_force)
    xi = np.asarray(terms.xi, dtype=float)
    if xi.shape[0] != solver.ndof:
        raise ElasticError(f"elastic terms have {xi.shape[0]} degrees of freedom, the Hessian/modes {solver.ndof}: "
                           "not the same system")
    z, info = solver.solve(xi)
    N = xi.T @ z / terms.volume
    scale = np.max(np.abs(N)) if N.size else 1.0
    asym = float(np.max(np.abs(N - N.T)) / scale) if scale > 0 else 0.0
    N = 0.5 * (N + N.T)
    born = np.asarray(terms.born, dtype=float)
    stress = np.asarray(terms.stress, dtype=float)
    C = born - N
    return RelaxedElastic(C=C, born=born, nonaffine=N, B=stress_strain_B(C, stress), stress=stress,
                          moduli=moduli(C, stress), born_moduli=moduli(born, stress), z=z, solve=info,
                          asymmetry=asym, volume=float(terms.volume), dim=int(terms.dim), units=str(terms.units),
                          voigt=voigt_labels(int(terms.dim)),
                          meta={"terms_method": terms.method, "natoms": int(np.asarray(terms.atom_ids).size),
                                **{k: v for k, v in dict(terms.meta).items() if isinstance(v, (int, float, str))}})


class PetscCGSolver:
    """``H^+ b`` by PETSc CG + GAMG on the Hessian file, distributed over ``comm`` (MPI).

    The matrix is loaded in parallel (:func:`glassmodes.io.hessian.load_petsc_mat`; a mass-weighted
    file is un-weighted), the d translations are attached as its null space and as GAMG's
    near-null space, and each right-hand side is solved to ``|H z - b| <= rtol |b|`` (unpreconditioned
    residual norm). Right-hand sides and solutions are global arrays on every rank (``solve``
    scatters and gathers), so :func:`relaxed_elastic` gives the same C on every rank.

    Parameters
    ----------
    path : path-like
        Hessian file (``write_hessian all H``).
    comm : mpi4py communicator, optional
        Default: serial (PETSc.COMM_SELF).
    rtol : float
    pc : "gamg" or "bjacobi"
    """

    method = "petsc-cg"

    def __init__(self, path, comm=None, rtol: float = 1e-10, pc: str = "gamg", maxiter: int = 100000):
        from petsc4py import PETSc

        from glassmodes.io.hessian import load_petsc_mat, read_atoms

        pcomm = PETSc.COMM_SELF if comm is None else PETSc.Comm(comm)
        A, meta = load_petsc_mat(path, pcomm)
        d, n = int(meta["dimension"]), int(meta["ndof"])
        rs, re = A.getOwnershipRange()
        if meta.get("mass_weighted"):
            atoms = read_atoms(path, meta)
            s = np.sqrt(np.repeat(np.asarray(atoms["mass"], dtype=float), d))[rs:re]
            v = A.createVecLeft()
            v.setArray(s)
            A.diagonalScale(v, v)
        T = []
        for a in range(d):
            t = A.createVecRight()
            loc = np.zeros(re - rs)
            idx = np.arange(rs, re)
            loc[idx % d == a] = 1.0 / np.sqrt(n // d)
            t.setArray(loc)
            T.append(t)
        ns = PETSc.NullSpace().create(constant=False, vectors=T, comm=pcomm)
        A.setNullSpace(ns)
        A.setNearNullSpace(ns)
        ksp = PETSc.KSP().create(comm=pcomm)
        ksp.setOperators(A)
        ksp.setType(PETSc.KSP.Type.CG)
        ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
        ksp.getPC().setType(PETSc.PC.Type.GAMG if pc == "gamg" else PETSc.PC.Type.BJACOBI)
        ksp.setTolerances(rtol=rtol, atol=0.0, max_it=maxiter)
        ksp.setUp()
        self.PETSc, self.A, self.ksp, self.ns, self.dim, self.ndof = PETSc, A, ksp, ns, d, n
        self.rs, self.re, self.rtol, self.pc = rs, re, float(rtol), pc
        self.mpi = pcomm.tompi4py()

    def _gather(self, v) -> np.ndarray:
        parts = self.mpi.allgather(np.asarray(v.getArray(), dtype=float).copy())
        return np.concatenate(parts)

    def solve(self, rhs: np.ndarray) -> tuple:
        """z = H^+ b (translation-free), shape=(d*N, k), and a :class:`SolveInfo`."""
        t0 = time.perf_counter()
        B = _check_rhs(rhs, self.dim)
        k = B.shape[1]
        Z = np.zeros_like(B)
        iters, res = np.zeros(k, dtype=int), np.zeros(k)
        b, x, r = self.A.createVecLeft(), self.A.createVecRight(), self.A.createVecLeft()
        for c in range(k):
            b.setArray(B[self.rs:self.re, c])
            self.ns.remove(b)
            bn = b.norm()
            x.set(0.0)
            if bn > 0:
                self.ksp.solve(b, x)
                reason = self.ksp.getConvergedReason()
                if reason < 0:
                    raise ElasticError(f"PETSc CG did not converge (reason {reason}, {self.ksp.getIterationNumber()} "
                                       f"iterations) for right-hand side {c}: an indefinite Hessian (unstable "
                                       "configuration) or rtol too strict")
                self.ns.remove(x)
                self.A.mult(x, r)
                r.axpy(-1.0, b)
                res[c] = r.norm() / bn
                iters[c] = self.ksp.getIterationNumber()
            Z[:, c] = self._gather(x)
        info = SolveInfo("petsc-cg", iters, res, time.perf_counter() - t0,
                         {"rtol": self.rtol, "preconditioner": self.pc, "ranks": int(self.mpi.Get_size()),
                          "nrhs": int(k)})
        return Z, info
