"""Linear solves M x = b on the translation-free subspace (the fixed-point maps need one per step).

M (the dynamical matrix of a glass) is singular along the rigid translations; CG converges for
b orthogonal to them and keeps x there if the iterates and the preconditioner do (Kapteijns
thesis, appendix on the nonlinear maps). :class:`ScipyCG` re-projects b, the start vector and
every preconditioned residual, with a d x d block-Jacobi preconditioner, warm-started from the
previous solution.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


class LinearSolveError(RuntimeError):
    """A linear solve did not reach its tolerance."""


class BlockJacobi:
    """v -> P v with P = blockdiag(M)^-1, the d x d diagonal blocks of M inverted (shape of v: (n,)).

    Used by the CG solves (:class:`ScipyCG`) and, as the initial inverse Hessian, by the
    Riemannian L-BFGS (:func:`glassmodes.nonlinear.minimize.lbfgs_sphere`). Each block is
    inverted through its eigendecomposition with the eigenvalues replaced by their magnitudes
    (floored at 1e-14 of the largest): P is symmetric positive definite for any M, and equal to
    the plain block inverse for positive definite blocks (every atom held by its neighbours).
    ``block_jacobi(op)`` builds it once per operator.
    """

    def __init__(self, op):
        self.op = op
        blocks = op.block_diagonal()
        lam, vec = np.linalg.eigh(blocks)
        floor = 1e-14 * (np.max(np.abs(lam)) if lam.size else 1.0)
        inv_lam = 1.0 / np.maximum(np.abs(lam), floor)
        self.inverse = np.einsum("kab,kb,kcb->kac", vec, inv_lam, vec)     # shape=(N, d, d)

    def __call__(self, v: np.ndarray) -> np.ndarray:
        d = self.op.dimension
        v = np.asarray(v, dtype=float).reshape(-1, d)
        return np.einsum("kab,kb->ka", self.inverse, v).ravel()


def block_jacobi(op) -> BlockJacobi:
    """The operator's :class:`BlockJacobi` (built on the first call, then kept on the operator)."""
    bj = getattr(op, "_block_jacobi", None)
    if bj is None:
        bj = BlockJacobi(op)
        op._block_jacobi = bj
    return bj


class ScipyCG:
    """Preconditioned CG for M x = b, x and b orthogonal to the operator's zero modes.

    Parameters
    ----------
    op : glassmodes.nonlinear.operators.NonlinearOperator
    rtol : float
        Relative residual ||M x - b|| / ||b|| to reach.
    maxiter : int
        CG iterations per solve; more raises :class:`LinearSolveError`.

    Attributes
    ----------
    iterations : int
        CG iterations of all solves so far.
    """

    name = "scipy-cg+block-jacobi"

    def __init__(self, op, rtol: float = 1e-12, maxiter: int = 20000):
        self.op = op
        self.rtol = rtol
        self.maxiter = maxiter
        self.iterations = 0
        self._bj = block_jacobi(op)
        n = op.ndof
        self._A = spla.LinearOperator((n, n), matvec=op.matvec, dtype=float)
        self._M = spla.LinearOperator((n, n), matvec=self._precondition, dtype=float)

    def _precondition(self, r):
        return self.op.project(self._bj(r))

    def solve(self, b: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """x with M x = P b, x orthogonal to the zero modes, shape=(n,)."""
        b = self.op.project(b)
        nb = np.linalg.norm(b)
        if nb == 0:
            return np.zeros_like(b)
        x0 = None if x0 is None else self.op.project(x0)
        count = [0]

        def callback(_):
            count[0] += 1

        x, info = spla.cg(self._A, b, x0=x0, rtol=self.rtol, atol=0.0, maxiter=self.maxiter,
                          M=self._M, callback=callback)
        self.iterations += count[0]
        x = self.op.project(x)
        rel = np.linalg.norm(self.op.matvec(x) - b) / nb
        if info != 0 and rel > 10 * self.rtol:
            raise LinearSolveError(f"CG did not converge: ||Mx-b||/||b|| = {rel:.2e} after {count[0]} "
                                   f"iterations (tolerance {self.rtol:g})")
        return x


class PetscCG:
    """PETSc KSP CG + GAMG for M x = b on the translation-free subspace, serial or over MPI.

    M is distributed by rows (block size d) over the operator's communicator (``op.comm``, or
    PETSC_COMM_SELF); the translations are set as the matrix's null space (KSP removes them from
    b and the iterates) and as GAMG's near null space, as the project's SLEPc backend does.
    Vectors in and out are whole (every rank the same), as everywhere in
    :mod:`glassmodes.nonlinear`. Warm start from ``x0`` (``setInitialGuessNonzero``).

    The matrix and the KSP are set up on the first ``solve`` (collectively, on every rank: the ranks
    run the same steps), so a search whose minimizer needs no map step never builds M.

    Parameters
    ----------
    op : NonlinearOperator with ``matrix()``
    rtol : float
        Relative residual of each solve.
    maxiter : int
    """

    name = "petsc-cg+gamg"

    def __init__(self, op, rtol: float = 1e-12, maxiter: int = 20000):
        from petsc4py import PETSc

        self.PETSc = PETSc
        self.op = op
        self.rtol = rtol
        self.maxiter = maxiter
        self.iterations = 0
        self._ksp = None        # set up on the first solve: no sparse M when no map step runs

    def _setup(self):
        PETSc, op, rtol, maxiter = self.PETSc, self.op, self.rtol, self.maxiter
        comm = getattr(op, "comm", None)
        self._mpi = comm
        pcomm = PETSc.COMM_SELF if comm is None else PETSc.Comm(comm)
        d, n = op.dimension, op.ndof
        csr = sp.csr_matrix(op.matrix())
        csr.sort_indices()
        nloc, _ = PETSc.Sys.splitOwnership(n, bsize=d, comm=pcomm)
        rstart = (comm.exscan(nloc) or 0) if comm is not None else 0
        self._lo, self._hi = rstart, rstart + nloc
        sub = csr[rstart:rstart + nloc]
        A = PETSc.Mat().createAIJ(size=((nloc, n), (nloc, n)), bsize=d,
                                  csr=(sub.indptr.astype(PETSc.IntType), sub.indices.astype(PETSc.IntType),
                                       sub.data), comm=pcomm)
        A.assemble()
        if op.null_basis is not None:
            vecs = []
            for k in range(op.null_basis.shape[1]):
                v = A.createVecLeft()
                v.setArray(op.null_basis[rstart:rstart + nloc, k])
                vecs.append(v)
            ns = PETSc.NullSpace().create(constant=False, vectors=vecs, comm=pcomm)
            A.setNullSpace(ns)
            A.setNearNullSpace(ns)
        ksp = PETSc.KSP().create(comm=pcomm)
        ksp.setOperators(A)
        ksp.setType("cg")
        ksp.getPC().setType("gamg")
        ksp.setTolerances(rtol=rtol, atol=0.0, max_it=maxiter)
        ksp.setInitialGuessNonzero(True)
        ksp.setFromOptions()
        ksp.setUp()
        self._A, self._ksp = A, ksp
        self._b, self._x = A.createVecRight(), A.createVecRight()

    def _whole(self, local):
        if self._mpi is None:
            return np.array(local)
        parts = self._mpi.allgather(np.array(local))
        return np.concatenate(parts)

    def solve(self, b: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """x with M x = P b, x orthogonal to the zero modes, shape=(n,)."""
        b = self.op.project(b)
        nb = np.linalg.norm(b)
        if nb == 0:
            return np.zeros_like(b)
        if self._ksp is None:
            self._setup()
        lo, hi = self._lo, self._hi
        self._b.setArray(b[lo:hi])
        self._x.setArray(np.zeros(hi - lo) if x0 is None else self.op.project(x0)[lo:hi])
        self._ksp.solve(self._b, self._x)
        its = self._ksp.getIterationNumber()
        self.iterations += its
        x = self.op.project(self._whole(self._x.getArray()))
        rel = np.linalg.norm(self.op.matvec(x) - b) / nb
        if self._ksp.getConvergedReason() < 0 and rel > 10 * self.rtol:
            raise LinearSolveError(f"PETSc CG+GAMG did not converge (reason {self._ksp.getConvergedReason()}): "
                                   f"||Mx-b||/||b|| = {rel:.2e} after {its} iterations")
        return x
