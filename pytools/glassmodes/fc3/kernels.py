"""Contractions of third- and fourth-order force constants, as plain functions on arrays, O(records).

Pair storage (pair potentials, docs/fc3.md): for a pair with r = x_j - x_i, n = r/|r|,
C = phi''/r - phi'/r^2, D = phi''' - 3C, E = phi'''' - 6 phi'''/r + 15 C/r, the radial-function
derivatives with respect to r are

    H_ab   = phi'' n_a n_b + (phi'/r) (delta_ab - n_a n_b)
    T_abc  = D n_a n_b n_c + C (delta_ab n_c + delta_ac n_b + delta_bc n_a)
    Q_abcd = E n_a n_b n_c n_d + (D/r) (delta_ab n_c n_d + 5 more) + (C/r) (delta_ab delta_cd + 2 more)

and Phi_m(p, q, ...) = (-1)^(number of i among p, q, ...) times them (derivatives with respect to
x_i are -d/dr). Contracting the pair's indices with atom vectors u therefore only needs the
difference du = u_j - u_i (u = 0 for an atom outside the group, index -1).

Block storage: v[a,b,c] = Phi3(i_a, j_b, k_c) for every ordered triple, summed directly.

Every function takes per-atom arrays of shape (N, d) (plain, not mass weighted: the caller
scales) and returns plain results: matrices as scipy CSR of shape (dN, dN), vectors of shape
(N, d), scalars as float. Reference for the pair expansions: e.g. Lerner, J. Non-Cryst. Solids
(2018) Appendix, or any derivation of d^k phi(|r|)/dr^k.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _padded(u: np.ndarray) -> np.ndarray:
    """(N+1, d) copy of u with a zero last row: index -1 (an atom outside the group) reads 0."""
    return np.vstack([u, np.zeros((1, u.shape[1]))])


class PairGeometry:
    """Per-pair unit vectors and radial coefficients of a pair-derivative table.

    Parameters
    ----------
    i, j : ndarray, shape=(P,), int64
        Atom indices (j = -1 for an atom outside the group).
    r : ndarray, shape=(P, >= d), float64
        x_j - x_i, distance units.
    dphi : ndarray, shape=(P, order), float64
        phi', phi'', phi''' [, phi''''], energy/distance^k.
    dimension : int
    """

    def __init__(self, i, j, r, dphi, dimension: int):
        d = dimension
        self.i = np.asarray(i, dtype=np.int64)
        self.j = np.asarray(j, dtype=np.int64)
        rv = np.asarray(r, dtype=np.float64)[:, :d]
        self.rlen = np.sqrt(np.einsum("pa,pa->p", rv, rv))
        self.n = rv / self.rlen[:, None]
        dphi = np.asarray(dphi, dtype=np.float64)
        self.order = dphi.shape[1]
        self.d1, self.d2, self.d3 = dphi[:, 0], dphi[:, 1], dphi[:, 2]
        self.d4 = dphi[:, 3] if self.order >= 4 else None
        self.dimension = d
        rl = self.rlen
        self.C = self.d2 / rl - self.d1 / rl**2          # phi''/r - phi'/r^2
        self.D = self.d3 - 3.0 * self.C                  # phi''' - 3C
        if self.d4 is not None:
            self.E = self.d4 - 6.0 * self.d3 / rl + 15.0 * self.C / rl
        self.inside = self.j >= 0                         # both atoms in the group

    def differences(self, u: np.ndarray) -> np.ndarray:
        """du = u_j - u_i per pair, shape=(P, d); u_j = 0 for j = -1."""
        up = _padded(u)
        return up[self.j] - up[self.i]

    # -- assembly helpers --------------------------------------------------------------------

    def scatter_vector(self, t: np.ndarray, natoms: int) -> np.ndarray:
        """w_j += t_p (j >= 0), w_i -= t_p: shape=(N, d)."""
        jj = np.where(self.j < 0, natoms, self.j)
        w = np.zeros((natoms, self.dimension))
        for a in range(self.dimension):
            w[:, a] = (np.bincount(jj, weights=t[:, a], minlength=natoms + 1)[:natoms]
                       - np.bincount(self.i, weights=t[:, a], minlength=natoms))
        return w

    def scatter_matrix(self, K: np.ndarray, natoms: int) -> sp.csr_matrix:
        """Blocks (i,i) += K, (j,j) += K, (i,j) -= K, (j,i) -= K^T (the last three for j >= 0):
        the pattern of every pair-potential derivative matrix. K shape=(P, d, d)."""
        d = self.dimension
        jj = np.where(self.j < 0, natoms, self.j)
        flat = K.reshape(len(K), d * d)
        diag = np.empty((natoms, d * d))
        for q in range(d * d):
            diag[:, q] = (np.bincount(self.i, weights=flat[:, q], minlength=natoms + 1)
                          + np.bincount(jj, weights=flat[:, q], minlength=natoms + 1))[:natoms]
        ins = self.inside
        rows = np.concatenate([self.i[ins], self.j[ins], np.arange(natoms)])
        cols = np.concatenate([self.j[ins], self.i[ins], np.arange(natoms)])
        data = np.concatenate([-K[ins], -np.transpose(K[ins], (0, 2, 1)), diag.reshape(natoms, d, d)])
        return blocks_to_csr(rows, cols, data, natoms)


def blocks_to_csr(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, natoms: int) -> sp.csr_matrix:
    """CSR matrix, shape=(dN, dN), from d x d blocks at block positions (rows, cols); blocks at one
    position are summed. O(B log B) for B blocks, no per-entry index arrays."""
    d = data.shape[1]
    key = rows.astype(np.int64) * natoms + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
    data = np.add.reduceat(data[order], starts, axis=0) if key.size else data[:0]
    key = key[starts]
    indptr = np.zeros(natoms + 1, dtype=np.int64)
    np.cumsum(np.bincount(key // natoms, minlength=natoms), out=indptr[1:])
    m = sp.bsr_matrix((data, key % natoms, indptr), shape=(natoms * d, natoms * d))
    return m.tocsr()


# ---- pair storage: second order (the Hessian) ---------------------------------------------------

def pair_hessian(g: PairGeometry, natoms: int) -> sp.csr_matrix:
    """H = d^2U/dx dx from the pair table: K = phi'' n n + (phi'/r)(I - n n), shape=(dN, dN)."""
    d = g.dimension
    nn = g.n[:, :, None] * g.n[:, None, :]
    eye = np.eye(d)[None]
    K = g.d2[:, None, None] * nn + (g.d1 / g.rlen)[:, None, None] * (eye - nn)
    return g.scatter_matrix(K, natoms)


# ---- pair storage: Phi3 ---------------------------------------------------------------------------

def pair_phi3_matrix(g: PairGeometry, u: np.ndarray) -> sp.csr_matrix:
    """(Phi3 . u)_{qs} = sum_p Phi3(p,q,s) u_p = dH/ds along u: per pair
    K = T . du = D (n.du) n n + C [(n.du) I + n du^T + du n^T]."""
    d = g.dimension
    a = g.differences(u)
    na = np.einsum("pa,pa->p", g.n, a)
    nn = g.n[:, :, None] * g.n[:, None, :]
    sym = g.n[:, :, None] * a[:, None, :] + a[:, :, None] * g.n[:, None, :]
    K = (g.D * na)[:, None, None] * nn + g.C[:, None, None] * (na[:, None, None] * np.eye(d)[None] + sym)
    return g.scatter_matrix(K, u.shape[0])


def pair_phi3_vector(g: PairGeometry, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(Phi3 : u v)_s = sum_pq Phi3(p,q,s) u_p v_q: per pair
    t = D (n.a)(n.b) n + C [(a.b) n + (n.a) b + (n.b) a], a = du, b = dv; w_j += t, w_i -= t."""
    a, b = g.differences(u), g.differences(v)
    na, nb = np.einsum("pa,pa->p", g.n, a), np.einsum("pa,pa->p", g.n, b)
    ab = np.einsum("pa,pa->p", a, b)
    t = (g.D * na * nb + g.C * ab)[:, None] * g.n + g.C[:, None] * (na[:, None] * b + nb[:, None] * a)
    return g.scatter_vector(t, u.shape[0])


def pair_phi3_scalar(g: PairGeometry, u, v, w) -> float:
    """Phi3 :. u v w = sum_pairs D (n.a)(n.b)(n.c) + C [(a.b)(n.c) + (a.c)(n.b) + (b.c)(n.a)]."""
    a, b, c = g.differences(u), g.differences(v), g.differences(w)
    dot = lambda x, y: np.einsum("pa,pa->p", x, y)  # noqa: E731
    na, nb, nc = dot(g.n, a), dot(g.n, b), dot(g.n, c)
    return float(np.sum(g.D * na * nb * nc + g.C * (dot(a, b) * nc + dot(a, c) * nb + dot(b, c) * na)))


# ---- pair storage: Phi4 ---------------------------------------------------------------------------

def _need4(g: PairGeometry):
    if g.d4 is None:
        raise ValueError("fourth-order contractions need phi'''' per pair: write the file with `order 4`")


def pair_phi4_matrix(g: PairGeometry, u, v) -> sp.csr_matrix:
    """(Phi4 : u v)_{st} = sum_pq Phi4(p,q,s,t) u_p v_q = d^2 H / ds dt along u, v: per pair
    K = E (n.a)(n.b) nn + (D/r)[(a.b) nn + (n.b)(a n + n a) + (n.a)(b n + n b) + (n.a)(n.b) I]
        + (C/r)[(a.b) I + a b + b a]."""
    _need4(g)
    d = g.dimension
    a, b = g.differences(u), g.differences(v)
    dot = lambda x, y: np.einsum("pa,pa->p", x, y)  # noqa: E731
    na, nb, ab = dot(g.n, a), dot(g.n, b), dot(a, b)
    outer = lambda x, y: x[:, :, None] * y[:, None, :]  # noqa: E731
    nn = outer(g.n, g.n)
    eye = np.eye(d)[None]
    Dr, Cr = g.D / g.rlen, g.C / g.rlen
    K = ((g.E * na * nb + Dr * ab)[:, None, None] * nn
         + (Dr * nb)[:, None, None] * (outer(a, g.n) + outer(g.n, a))
         + (Dr * na)[:, None, None] * (outer(b, g.n) + outer(g.n, b))
         + (Dr * na * nb + Cr * ab)[:, None, None] * eye
         + Cr[:, None, None] * (outer(a, b) + outer(b, a)))
    return g.scatter_matrix(K, u.shape[0])


def pair_phi4_vector(g: PairGeometry, u, v, w) -> np.ndarray:
    """(Phi4 :. u v w)_t: per pair
    t = E (n.a)(n.b)(n.c) n + (D/r)[((a.b)(n.c) + (a.c)(n.b) + (b.c)(n.a)) n
        + (n.a)(n.b) c + (n.a)(n.c) b + (n.b)(n.c) a] + (C/r)[(a.b) c + (a.c) b + (b.c) a]."""
    _need4(g)
    a, b, c = g.differences(u), g.differences(v), g.differences(w)
    dot = lambda x, y: np.einsum("pa,pa->p", x, y)  # noqa: E731
    na, nb, nc = dot(g.n, a), dot(g.n, b), dot(g.n, c)
    ab, ac, bc = dot(a, b), dot(a, c), dot(b, c)
    Dr, Cr = g.D / g.rlen, g.C / g.rlen
    t = ((g.E * na * nb * nc + Dr * (ab * nc + ac * nb + bc * na))[:, None] * g.n
         + (Dr * na * nb + Cr * ab)[:, None] * c
         + (Dr * na * nc + Cr * ac)[:, None] * b
         + (Dr * nb * nc + Cr * bc)[:, None] * a)
    return g.scatter_vector(t, u.shape[0])


def pair_phi4_scalar(g: PairGeometry, u, v, w, x) -> float:
    """Phi4 :: u v w x = sum_pairs E (n.a)(n.b)(n.c)(n.e) + (D/r)[six (a.b)(n.c)(n.e) terms]
    + (C/r)[(a.b)(c.e) + (a.c)(b.e) + (a.e)(b.c)]."""
    _need4(g)
    a, b, c, e = (g.differences(q) for q in (u, v, w, x))
    dot = lambda p, q: np.einsum("pa,pa->p", p, q)  # noqa: E731
    na, nb, nc, ne = dot(g.n, a), dot(g.n, b), dot(g.n, c), dot(g.n, e)
    ab, ac, ae, bc, be, ce = dot(a, b), dot(a, c), dot(a, e), dot(b, c), dot(b, e), dot(c, e)
    Dr, Cr = g.D / g.rlen, g.C / g.rlen
    s = (g.E * na * nb * nc * ne
         + Dr * (ab * nc * ne + ac * nb * ne + ae * nb * nc + bc * na * ne + be * na * nc + ce * na * nb)
         + Cr * (ab * ce + ac * be + ae * bc))
    return float(np.sum(s))


def pair_phi3_blocks(g: PairGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Expand the table into (unmerged) Phi3 blocks: indices shape=(B, 3), values shape=(B, d, d, d)."""
    n = g.n
    nnn = np.einsum("pa,pb,pc->pabc", n, n, n)
    eye = np.eye(g.dimension)
    s3 = (np.einsum("ab,pc->pabc", eye, n) + np.einsum("ac,pb->pabc", eye, n)
          + np.einsum("bc,pa->pabc", eye, n))
    T = g.D[:, None, None, None] * nnn + g.C[:, None, None, None] * s3
    idx, vals = [], []
    ins = g.inside
    I, J = g.i[:, None], g.j[:, None]
    # sign (-1)^(number of i): every combination of {i, j}^3 for inside pairs, (i,i,i) for the rest
    for combo in range(8):
        picks = [(combo >> m) & 1 for m in range(3)]    # 1 = j
        nj = sum(picks)
        sign = -1.0 if (3 - nj) % 2 else 1.0
        sel = ins if nj else np.ones_like(ins)
        cols = [np.where(p, J, I)[sel] for p in picks]
        idx.append(np.hstack(cols))
        vals.append(sign * T[sel])
    return np.vstack(idx), np.concatenate(vals)


# ---- block storage --------------------------------------------------------------------------------

def block_phi3_matrix(i, j, k, v, u, natoms: int) -> sp.csr_matrix:
    """(Phi3 . u)_{jk} = sum_i Phi3(i,j,k) u_i from blocks: M[j_b, k_c] += sum_a v[a,b,c] u[i,a]."""
    return blocks_to_csr(j, k, np.einsum("pabc,pa->pbc", v, u[i]), natoms)


def block_phi3_vector(i, j, k, v, u, w, natoms: int) -> np.ndarray:
    """(Phi3 : u w)_k = sum_ij Phi3(i,j,k) u_i w_j, shape=(N, d)."""
    d = v.shape[1]
    t = np.einsum("pabc,pa,pb->pc", v, u[i], w[j])
    out = np.zeros((natoms, d))
    for c in range(d):
        out[:, c] = np.bincount(k, weights=t[:, c], minlength=natoms)
    return out


def block_phi3_scalar(i, j, k, v, u, w, x) -> float:
    """Phi3 :. u w x = sum over blocks of v[a,b,c] u[i,a] w[j,b] x[k,c]."""
    return float(np.einsum("pabc,pa,pb,pc->", v, u[i], w[j], x[k]))
