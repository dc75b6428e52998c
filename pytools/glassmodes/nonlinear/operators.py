"""Operators of the nonlinear-mode problems: Hessian products, cubic/quartic contractions, PHM pair sums.

Every cost of :mod:`glassmodes.nonlinear.costs` needs only these products of a field ``z``
(shape=(n,), n = d*N, mass-weighted, component ``d*k + alpha`` of atom ``k``):

=====================  ===================================================  ==========
method                 meaning                                              shape
=====================  ===================================================  ==========
``matvec(z)``          M z  (the dynamical matrix / Hessian)                (n,)
``cubic(z)``           U3 : z z  = sum_jk Phi3(i,j,k) z_j z_k               (n,)
``quartic(z)``         U4 :. z z z = sum_jkl Phi4(i,j,k,l) z_j z_k z_l      (n,)
``pairs(z)``           (D, zeta): D = sum_<ij> (z_ij . z_ij)^2 over the     (float, (n,))
                       interacting pairs, zeta = dD/dz / 4 (thesis Eq. 4.5)
=====================  ===================================================  ==========

Full contractions follow by Euler's theorem: ``U3:.zzz = z . cubic(z)``,
``U4::zzzz = z . quartic(z)``. ``z_ij = z_j - z_i`` (an atom outside the group, index -1 in a
pair table, counts as z = 0).

Two implementations: :class:`ForceConstantOperator` (a pair table written by the plugin's
``write_fc3 ... method analytic order 4``, read by :func:`glassmodes.fc3.read_fc3`) and
:class:`OscillatorOperator` (independent anharmonic oscillators, whose nonlinear modes are known
exactly; for tests). Reference: L. Gartner and E. Lerner, SciPost Phys. 1, 016 (2016) and
Kapteijns (thesis, University of Amsterdam), chapters 3-4.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from glassmodes.fc3 import kernels
from glassmodes.modes.core import translation_basis, unit_factor


CHUNK = 32768      # pairs per block of the one-pass products (temporaries of 256 kB each)

try:        # SciPy's kernel of CSC @ dense, accumulating into its output (y += A x)
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
except ImportError:         # pragma: no cover - a SciPy without it: the public product (one more temporary)
    _csc_matvecs = None


class NonlinearOperator:
    """The interface the minimizers and maps use (see the module docs for the products).

    Attributes
    ----------
    ndof : int
        n = d*N.
    dimension : int
        d (1 for the synthetic oscillators).
    units : str
        LAMMPS unit style: omega = sqrt(kappa * ftm2v).
    has_quartic : bool
        Whether ``quartic`` is available (pair tables written with ``order 4``).
    null_basis : ndarray, shape=(n, k) or None
        Orthonormal basis of the zero modes to project out (rigid translations), or None.
    """

    ndof: int
    dimension: int
    units: str = "lj"
    has_quartic: bool = True
    null_basis: np.ndarray | None = None

    @property
    def natoms(self) -> int:
        return self.ndof // self.dimension

    @property
    def ftm2v(self) -> float:
        return unit_factor(self.units)

    def project(self, z: np.ndarray) -> np.ndarray:
        """z with the zero modes (translations) removed, shape=(n,)."""
        z = np.asarray(z, dtype=float).ravel()
        if self.null_basis is None:
            return z.copy()
        return z - self.null_basis @ (self.null_basis.T @ z)

    def matvec(self, z):
        raise NotImplementedError

    def evaluate_products(self, kind: str, z: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """(M z, c_raw, g): the products one cost evaluation needs (see
        :func:`glassmodes.nonlinear.costs.evaluate`), c_raw = U4::zzzz, U3:.zzz or D and
        g = U4:.zzz, U3:zz or zeta. This default calls ``matvec`` and the kind's product; an
        operator may compute both in one pass (:class:`ForceConstantOperator` does)."""
        from glassmodes.nonlinear.costs import nonlinear_force

        craw, g = nonlinear_force(self, kind, z)
        return self.matvec(z), craw, g

    def cubic(self, z):
        raise NotImplementedError

    def quartic(self, z):
        raise NotImplementedError

    def pairs(self, z):
        raise NotImplementedError

    def matrix(self) -> sp.csr_matrix:
        """M as a sparse matrix, shape=(n, n)."""
        raise NotImplementedError

    def block_diagonal(self) -> np.ndarray:
        """The d x d diagonal blocks of M, shape=(N, d, d) (block-Jacobi preconditioner)."""
        m = self.matrix().tocsr()
        d, n = self.dimension, self.natoms
        rows = np.arange(n) * d
        out = np.zeros((n, d, d))
        for a in range(d):
            for b in range(d):
                out[:, a, b] = np.asarray(m[rows + a, rows + b]).ravel()
        return out


class ForceConstantOperator(NonlinearOperator):
    """The operators of a glass from its pair-derivative table (``write_fc3 ... order 4``).

    Parameters
    ----------
    fc : glassmodes.fc3.ForceConstants
        A ``pair-derivatives`` table (order 3 suffices for cubic and PHM modes, order 4 is needed
        for quartic modes). It is used mass weighted (Phi_k / sqrt(m ... m)), the convention of
        the mode files' eigenvectors.
    hessian : scipy sparse matrix, shape=(n, n), optional
        The mass-weighted Hessian; default: rebuilt from the table (``fc.hessian()``, the same
        matrix as ``write_hessian``).
    units : str
        LAMMPS unit style (default: the table's sidecar ``units``).

    Notes
    -----
    The PHM pairs are the table's interacting pairs (every pair inside the cutoff), the thesis'
    choice for pair potentials (Kapteijns thesis, Sec. 4.2). ``z_ij`` are differences of the
    mass-weighted field; with equal masses (all the papers' models) that is the displacement
    difference up to a constant factor, which cancels in the PHM cost.
    """

    def __init__(self, fc, hessian=None, units: str | None = None):
        if fc.storage != "pair-derivatives":
            raise ValueError("nonlinear modes need a pair-derivative table (write_fc3 ... method analytic); "
                             f"this file has {fc.storage} storage")
        self.fc = fc.with_mass_weighting(True)
        self.dimension = fc.dimension
        self.ndof = fc.ndof
        self.units = units or str(fc.meta.get("units", "lj"))
        self.has_quartic = fc.order >= 4
        # M as a sparse matrix is built only when asked for (matrix(), matvec(): the linear solves
        # of the maps); a cost evaluation takes M z from the pair table in the same pass as g(z)
        self._m = None
        self.fused = hessian is None
        if hessian is not None:
            self._m = sp.csr_matrix(hessian)
            if self._m.shape != (self.ndof, self.ndof):
                raise ValueError(f"Hessian of shape {self._m.shape}, the table has {self.ndof} degrees of freedom")
        rec = fc.records
        self._i = np.asarray(rec["i"], dtype=np.int64)
        self._j = np.asarray(rec["j"], dtype=np.int64)
        # diagonal contractions (U3:zz, U4:.zzz) in one pass over this rank's pairs; the same
        # formulas as glassmodes.fc3.kernels with u = v = w (checked against them in the tests).
        # Only what the pass needs is kept, one contiguous array per pair quantity and per
        # component (1-D loops: the (P, d) broadcasts cost several times more)
        g = kernels.PairGeometry(self._i, self._j, rec["r"], rec["dphi"], fc.dimension)
        self._nT = np.ascontiguousarray(g.n.T)                  # unit vectors, shape=(d, P)
        self._h1 = g.d1 / g.rlen                       # Hessian block K = d2 n n + (d1/r)(I - n n)
        self._hn = g.d2 - self._h1
        self._C, self._D = g.C, g.D                    # U3 per pair: D n n n + C (n I + perm.)
        self._c2 = 2.0 * g.C
        if self.has_quartic:
            self._E = g.E
            self._dr3 = 3.0 * g.D / g.rlen
            self._cr3 = 3.0 * g.C / g.rlen
        del g
        # incidence matrix B (pairs x atoms): (B u)_p = u_j - u_i (u_j = 0 outside the group); the
        # gathers w_j += t_p, w_i -= t_p are B^T t (sparse products: faster than fancy indexing)
        # (built as CSR directly: row p holds -1 at i and, inside the group, +1 at j)
        npair = self._i.size
        inside = self._j >= 0
        indptr = np.zeros(npair + 1, dtype=np.int64)
        np.cumsum(1 + inside, out=indptr[1:])
        cols = np.empty(indptr[-1], dtype=np.int64)
        vals = np.empty(indptr[-1])
        cols[indptr[:-1]], vals[indptr[:-1]] = self._i, -1.0
        cols[indptr[:-1][inside] + 1], vals[indptr[:-1][inside] + 1] = self._j[inside], 1.0
        # kept as row blocks of CHUNK pairs (B^T of a block: its CSC view, no copy)
        whole = sp.csr_matrix((vals, cols, indptr), shape=(npair, fc.natoms))
        self._chunks = []
        for lo in range(0, npair, CHUNK):
            hi = min(lo + CHUNK, npair)
            b = whole[lo:hi]
            self._chunks.append((lo, hi, b, b.T))
        del whole, cols, vals, indptr
        stored_mw = bool(fc.meta["values_mass_weighted"])
        m = np.asarray(fc.atoms["mass"], dtype=float)
        self._scale = None if stored_mw else 1.0 / np.sqrt(m)
        self.masses = np.asarray(fc.atoms["mass"], dtype=float)
        # rigid translations are zero modes only if no pair reaches outside the group
        self.outside_pairs = int(np.count_nonzero(self._j < 0))
        if self.outside_pairs == 0:
            self.null_basis = translation_basis(np.repeat(self.masses, self.dimension), self.dimension)
        else:
            self.null_basis = None

    @property
    def comm(self):
        return self.fc.comm

    def matvec(self, z):
        return self.matrix() @ np.asarray(z, dtype=float)

    def matrix(self):
        """M (mass weighted, summed over the ranks: every rank holds the whole matrix), built on
        the first call from the pair table (``fc.hessian()``, the matrix of ``write_hessian``)."""
        if self._m is None:
            self._m = self.fc.hessian()
        return self._m

    def block_diagonal(self):
        """The d x d diagonal blocks of M, shape=(N, d, d), summed from the pairs (no matrix built)."""
        d, n = self.dimension, self.natoms
        nn = self._nT.T[:, :, None] * self._nT.T[:, None, :]
        k = (self._hn[:, None, None] * nn + self._h1[:, None, None] * np.eye(d)[None]).reshape(-1, d * d)
        jj = np.where(self._j < 0, n, self._j)
        out = np.empty((n, d * d))
        for q in range(d * d):
            out[:, q] = (np.bincount(self._i, weights=k[:, q], minlength=n + 1)
                         + np.bincount(jj, weights=k[:, q], minlength=n + 1))[:n]
        if self._scale is not None:
            out *= np.repeat(self._scale ** 2, d * d).reshape(n, d * d)
        return self._sum_ranks(out.ravel()).reshape(n, d, d)

    def evaluate_products(self, kind, z):
        """(M z, c_raw, g) in one pass over the pairs: a = z_j - z_i, then per pair the Hessian
        term K a and the kind's term, gathered together (one sparse product, one reduction over
        the ranks). With a Hessian given at construction, M z is that matrix's product instead."""
        if not self.fused:
            return super().evaluate_products(kind, z)
        z = np.asarray(z, dtype=float)
        mz, big_d, gz = self._pass(z, kind, with_m=True, weighted=kind != "phm")
        return mz, (big_d if kind == "phm" else float(z @ gz)), gz

    def _pass(self, z, kind, with_m, weighted=True):
        """One pass over this rank's pairs: (M z or None, D or None, g), summed over the ranks.

        Per pair, with a = z_j - z_i (z times 1/sqrt(m) when the table is stored plain and
        ``weighted``), na = n.a, aa = a.a, the terms are alpha n + beta a:
        M z: alpha = (phi'' - phi'/r) na, beta = phi'/r;  U3:zz: alpha = D na^2 + C aa,
        beta = 2 C na;  U4:.zzz: alpha = (E na^2 + 3 (D/r) aa) na, beta = 3 ((D/r) na^2 + (C/r) aa);
        zeta: alpha = 0, beta = aa. The gather w_j += t_p, w_i -= t_p is B^T t."""
        if kind == "quartic" and not self.has_quartic:
            raise ValueError("quartic modes need the fourth-order pair table: write it with "
                             "`write_fc3 GROUP FILE method analytic order 4`")
        d, scale = self.dimension, self._scale
        z = np.asarray(z, dtype=float).reshape(self.natoms, d)
        u = z if scale is None else z * scale[:, None]
        # the field whose differences enter g: mass weighted, except for the PHM pairs
        ug = z if (kind == "phm" and not weighted) else u
        rows = 2 * d if with_m else d
        w = np.zeros((self.natoms, rows))
        big_d = 0.0
        # blocks of CHUNK pairs: every per-pair temporary stays in the cache (several times
        # faster than whole-table arrays at N ~ 1e4-1e5, where those are tens of MB)
        for lo, hi, b, bt in self._chunks:
            big_d += self._pass_chunk(u if with_m else None, ug, kind, lo, hi, b, bt, w)
        if scale is not None:
            if with_m:                                 # the M z columns
                w[:, :d] *= scale[:, None]
            if ug is u:                                # the g columns (not for the PHM pairs)
                w[:, rows - d:] *= scale[:, None]
        if kind == "phm" and self.comm is not None:    # each rank holds a slice of the pairs
            big_d = self.comm.allreduce(big_d)
        w = self._sum_ranks(w.ravel()).reshape(self.natoms, rows)
        off = d if with_m else 0
        gz = np.ascontiguousarray(w[:, off:]).ravel()
        mz = np.ascontiguousarray(w[:, :d]).ravel() if with_m else None
        return mz, (big_d if kind == "phm" else None), gz

    def _pass_chunk(self, u, ug, kind, lo, hi, b, bt, w):
        """Pairs lo:hi of :meth:`_pass` (u: field of the M z part or None, ug: of g); adds their
        gathered terms to w, returns their part of D."""
        d = self.dimension
        nT = self._nT[:, lo:hi]
        with_m = u is not None
        big_d = 0.0
        if with_m and ug is not u:                     # PHM of a plain-stored table: M z apart
            a = np.ascontiguousarray((b @ u).T)
            na = nT[0] * a[0]
            for k in range(1, d):
                na += nT[k] * a[k]
            am, nam = a, na
        a = np.ascontiguousarray((b @ ug).T)           # shape=(d, pairs)
        na = nT[0] * a[0]
        aa = a[0] * a[0]
        for k in range(1, d):
            na += nT[k] * a[k]
            aa += a[k] * a[k]
        if not with_m or ug is u:
            am, nam = a, na
        if kind == "cubic":
            al = self._D[lo:hi] * na * na
            al += self._C[lo:hi] * aa
            be = self._c2[lo:hi] * na
        elif kind == "quartic":
            na2 = na * na
            al = self._E[lo:hi] * na2
            al += self._dr3[lo:hi] * aa
            al *= na
            be = self._dr3[lo:hi] * na2
            be += self._cr3[lo:hi] * aa
        else:                                          # phm
            al, be = None, aa
            big_d = float(aa @ aa)
        rows = w.shape[1]
        t = np.empty((rows, hi - lo))
        tmp = np.empty_like(na)
        off = 0
        if with_m:
            hm = self._hn[lo:hi] * nam
            h1 = self._h1[lo:hi]
            for k in range(d):
                np.multiply(hm, nT[k], out=t[k])
                np.multiply(h1, am[k], out=tmp)
                t[k] += tmp
            off = d
        for k in range(d):
            np.multiply(be, a[k], out=t[off + k])
            if al is not None:
                np.multiply(al, nT[k], out=tmp)
                t[off + k] += tmp
        tc = np.ascontiguousarray(t.T)
        if _csc_matvecs is not None:                  # w += B^T t in place (no (N, rows) temporary)
            _csc_matvecs(bt.shape[0], bt.shape[1], rows, bt.indptr, bt.indices, bt.data, tc.ravel(), w.ravel())
        else:
            w += bt @ tc
        return big_d

    def _sum_ranks(self, w):
        """Sum of a vector over the ranks holding slices of the pairs (as is in serial)."""
        if self.comm is None:
            return w
        from mpi4py import MPI
        total = np.empty_like(w)
        self.comm.Allreduce(w, total, op=MPI.SUM)
        return total

    def cubic(self, z):
        """U3:zz; per pair t = (D (n.a)^2 + C a.a) n + 2 C (n.a) a, a = z_j - z_i."""
        return self._pass(z, "cubic", with_m=False)[2]

    def quartic(self, z):
        """U4:.zzz; per pair t = (E (n.a)^3 + 3 (D/r) (a.a)(n.a)) n + 3 ((D/r)(n.a)^2 + (C/r) a.a) a."""
        return self._pass(z, "quartic", with_m=False)[2]

    def pairs(self, z):
        """D = sum_p |z_j - z_i|^4 over this table's pairs and zeta = dD/dz / 4 (z as given, mass weighted)."""
        _, big_d, zeta = self._pass(z, "phm", with_m=False, weighted=False)
        return big_d, zeta


class OscillatorOperator(NonlinearOperator):
    """Independent anharmonic oscillators U = sum_i (k_i x_i^2/2 + t_i x_i^3/6 + g_i x_i^4/24).

    Optionally in rotated coordinates y = Q x (Q orthogonal), so the modes are the columns of
    Q^T instead of the axes. The nonlinear modes are known exactly: the axis e_i (or row i of Q)
    is a quartic mode with kappa = k_i, chi = g_i, a cubic mode with tau = t_i, and (the PHM
    pairs being each coordinate tied to a fixed wall, D = sum_i x_i^4) a PHM with kappa = k_i.
    Stationarity: M e_i = k_i e_i = (k_i/g_i) g_i e_i.

    Parameters
    ----------
    k, t, g : array_like, shape=(n,)
        Stiffnesses (> 0), cubic and quartic coefficients (g > 0 for quartic modes).
    rotation : ndarray, shape=(n, n), optional
        Orthogonal Q; default identity.
    """

    def __init__(self, k, t, g, rotation=None, units: str = "lj"):
        self.k = np.asarray(k, dtype=float)
        self.t = np.asarray(t, dtype=float)
        self.g = np.asarray(g, dtype=float)
        self.ndof = self.k.size
        self.dimension = 1
        self.units = units
        self.has_quartic = True
        self.null_basis = None
        self.Q = None if rotation is None else np.asarray(rotation, dtype=float)

    def _to(self, z):
        z = np.asarray(z, dtype=float)
        return z if self.Q is None else self.Q.T @ z        # x = Q^T y

    def _back(self, x):
        return x if self.Q is None else self.Q @ x

    def matvec(self, z):
        return self._back(self.k * self._to(z))

    def cubic(self, z):
        x = self._to(z)
        return self._back(self.t * x * x)

    def quartic(self, z):
        x = self._to(z)
        return self._back(self.g * x ** 3)

    def pairs(self, z):
        x = self._to(z)
        return float(np.sum(x ** 4)), self._back(x ** 3)

    def matrix(self):
        if self.Q is None:
            return sp.diags(self.k).tocsr()
        return sp.csr_matrix(self.Q @ np.diag(self.k) @ self.Q.T)

    def block_diagonal(self):
        return np.asarray(self.matrix().diagonal()).reshape(-1, 1, 1)
