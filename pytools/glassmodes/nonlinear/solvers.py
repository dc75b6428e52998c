"""Linear solves M x = b on the translation-free subspace (the fixed-point maps need one per step).

M (the dynamical matrix of a glass) is singular along the rigid translations; CG converges for
b orthogonal to them and keeps x there if the iterates and the preconditioner do (Kapteijns
thesis, appendix on the nonlinear maps). :class:`ScipyCG` re-projects b, the start vector and
every preconditioned residual, with a d x d block-Jacobi preconditioner, warm-started from the
previous solution.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla


class LinearSolveError(RuntimeError):
    """A linear solve did not reach its tolerance."""


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
        blocks = op.block_diagonal()
        # invert each d x d block (regularized for an isolated atom with a zero block)
        scale = np.max(np.abs(blocks)) if blocks.size else 1.0
        eye = np.eye(blocks.shape[1]) * (1e-14 * scale)
        self._inv = np.linalg.inv(blocks + eye)
        n = op.ndof
        self._A = spla.LinearOperator((n, n), matvec=op.matvec, dtype=float)
        self._M = spla.LinearOperator((n, n), matvec=self._precondition, dtype=float)

    def _precondition(self, r):
        d = self.op.dimension
        r = np.asarray(r, dtype=float).reshape(-1, d)
        return self.op.project(np.einsum("kab,kb->ka", self._inv, r).ravel())

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
