"""Third-order force constants of a pair potential, contracted on demand (never stored densely).

For ``U = sum_{pairs} phi(|r_ij|)`` with ``r = x_j - x_i``, ``n = r/|r|``, the derivatives of
``phi(|r|)`` with respect to the components of ``r`` are (``dn_a/dr_c = (delta_ac - n_a n_c)/r``)

    H_ab  = phi'' n_a n_b + (phi'/r) (delta_ab - n_a n_b)
    T_abc = dH_ab/dr_c = D n_a n_b n_c + C (delta_ab n_c + delta_ac n_b + delta_bc n_a)
    C = phi''/r - phi'/r^2,   D = phi''' - 3 C

and since ``d/dx_i = -d/dr`` and ``d/dx_j = +d/dr``, the block of the third-order tensor
``Phi3(p,q,s)`` for ``p, q, s`` in ``{i, j}`` is ``(-1)^(number of i among p, q, s) T`` (the same
table the plugin's ``write_fc3`` uses, ``lammps-plugin/fc3_builder.h``). Contracting the first
index with a mass-weighted vector ``u`` (``u~ = u / sqrt(m)``, pair difference
``du = u~_j - u~_i``) gives ``W = T . du`` (``W_bc = sum_a T_abc du_a``)

    W = D (n.du) n n^T + C [(n.du) I + n du^T + du n^T]

placed with signs ``+W`` on the blocks (i,i), (j,j) and ``-W`` on (i,j), (j,i), then divided by
``sqrt(m_b m_c)``: the mass-weighted matrix ``A(u) = sum_a Phi3~_{a,b,c} u_a`` that the
lifetime code contracts further (:mod:`glassmodes.anharmonic.lifetimes`).

This module is the reference implementation the lifetime code is tested with; the plugin's
``write_fc3`` output (``glassmodes.fc3``) provides the same ``contract`` interface for any force
field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from glassmodes.io.hessian import ATOMS_DTYPE


@dataclass(frozen=True)
class IPLSmooth:
    """Radial derivatives of ``pair_style ipl/smooth n q xc [powers all|even]`` (docs/pair_styles.md).

    ``phi(r) = eps [ (s/r)^n + sum_k c_k (r/s)^(k*step) ]`` for ``r < xc s``; ``c_k`` solved so that
    phi and its first q derivatives vanish at ``xc`` (as the plugin does).

    Parameters
    ----------
    n : float
        Inverse-power exponent.
    q : int
        Smoothing order.
    xc : float
        Cutoff in units of ``s``.
    pair_coeffs : dict
        ``{(I, J): (eps, s)}`` with ``I <= J`` LAMMPS atom types.
    powers : "all" or "even"
    """

    n: float
    q: int
    xc: float
    pair_coeffs: dict
    powers: str = "all"

    @property
    def step(self) -> int:
        return 1 if self.powers == "all" else 2

    def coefficients(self) -> np.ndarray:
        """c_0 .. c_q (dimensionless) with f^(m)(xc) = 0 for m = 0..q."""
        q, n, xc, st = self.q, self.n, self.xc, self.step
        M = np.zeros((q + 1, q + 1))
        rhs = np.zeros(q + 1)
        for m in range(q + 1):
            # m-th derivative of x^p at xc: p (p-1) ... (p-m+1) xc^(p-m)
            def dpow(p):
                c = 1.0
                for t in range(m):
                    c *= p - t
                return c * xc ** (p - m)
            rhs[m] = -dpow(-n)
            for k in range(q + 1):
                M[m, k] = dpow(k * st)
        return np.linalg.solve(M, rhs)

    def cutoff(self, ti: int, tj: int) -> float:
        eps, s = self.pair_coeffs[(min(ti, tj), max(ti, tj))]
        return self.xc * s

    def derivatives(self, r: np.ndarray, ti: np.ndarray, tj: np.ndarray):
        """phi, phi', phi'', phi''' at distances r (zero beyond the cutoff), each shape=(P,)."""
        c = self.coefficients()
        r = np.asarray(r, dtype=float)
        out = [np.zeros_like(r) for _ in range(4)]
        lo, hi = np.minimum(ti, tj), np.maximum(ti, tj)
        for (I, J), (eps, s) in self.pair_coeffs.items():
            sel = (lo == I) & (hi == J)
            if not sel.any():
                continue
            x = r[sel] / s
            inside = x < self.xc
            terms = [(1.0, -self.n)] + [(c[k], k * self.step) for k in range(self.q + 1)]
            for order in range(4):
                val = np.zeros_like(x)
                for a, p in terms:
                    coef = a
                    for t in range(order):
                        coef *= p - t
                    if coef != 0.0:
                        val += coef * x ** (p - order)
                out[order][sel] = np.where(inside, eps * val / s ** order, 0.0)
        return tuple(out)


SEED004 = IPLSmooth(n=12, q=1, xc=2.5, powers="all", pair_coeffs={
    (1, 1): (1.0, 0.8110916595113637), (1, 2): (1.0, 0.9848970151209417), (2, 2): (1.0, 1.1587023707305197)})
"""The binary r^-12 model of Mizuno et al. (2020): ``pair_style ipl/smooth 12 1 2.5 powers all`` with its three pair_coeff lines."""


class PairCubicTensor:
    """Mass-weighted third-order force constants of a pair potential, in the pair-table form.

    Parameters
    ----------
    natoms : int
    i, j : ndarray of int, shape=(P,)
        Matrix indices (0..N-1, ascending atom ID) of each interacting pair, each pair once.
    rij : ndarray, shape=(P, d)
        ``x_j - x_i`` of the interacting image (distance units).
    d1, d2, d3 : ndarray, shape=(P,)
        ``phi'``, ``phi''``, ``phi'''`` at ``|rij|`` (energy/distance^k).
    masses : ndarray, shape=(N,)
    atoms : structured array (``ATOMS_DTYPE``), optional
        The atoms (ID, type, mass, position) the tensor belongs to: checked against the mode file.
    units : str
        LAMMPS unit style.

    The sparsity pattern is the Hessian's (3x3 blocks: the diagonal and every pair), fixed:
    :meth:`contract_values` returns values aligned with :attr:`pattern` (block CSR).
    """

    def __init__(self, natoms, i, j, rij, d1, d2, d3, masses, atoms=None, units: str = "lj", box=None):
        self.natoms = int(natoms)
        self.i = np.asarray(i, dtype=np.int64)
        self.j = np.asarray(j, dtype=np.int64)
        self.rij = np.asarray(rij, dtype=float)
        self.dimension = int(self.rij.shape[1])
        r = np.linalg.norm(self.rij, axis=1)
        self.n = self.rij / r[:, None]
        C = np.asarray(d2) / r - np.asarray(d1) / r**2
        self.C = C
        self.D = np.asarray(d3) - 3.0 * C
        self.masses = np.asarray(masses, dtype=float)
        self.inv_sqrt_m = 1.0 / np.sqrt(self.masses)
        self.atoms = atoms
        self.units = units
        self.box = box
        self._build_pattern()

    # ---- construction ----------------------------------------------------------------------------
    @classmethod
    def from_positions(cls, positions, types, masses, box_lengths, potential: IPLSmooth, ids=None,
                       units: str = "lj") -> "PairCubicTensor":
        """Pairs of an orthogonal periodic box within each type pair's cutoff (minimum image)."""
        from glassmodes.modes.models import neighbor_pairs

        x = np.asarray(positions, dtype=float)
        nat, d = x.shape
        types = np.asarray(types, dtype=int)
        rmax = max(potential.cutoff(a, b) for (a, b) in potential.pair_coeffs)
        i, j, rij = neighbor_pairs(x, box_lengths, rmax)
        r = np.linalg.norm(rij, axis=1)
        _, d1, d2, d3 = potential.derivatives(r, types[i], types[j])
        keep = (d1 != 0) | (d2 != 0) | (d3 != 0)
        atoms = np.zeros(nat, dtype=ATOMS_DTYPE)
        atoms["id"] = np.arange(1, nat + 1) if ids is None else ids
        atoms["type"] = types
        atoms["mass"] = masses
        atoms["x"][:, :d] = x
        return cls(nat, i[keep], j[keep], rij[keep], d1[keep], d2[keep], d3[keep], masses, atoms=atoms,
                   units=units)

    @classmethod
    def from_modes(cls, modes, potential: IPLSmooth) -> "PairCubicTensor":
        """The tensor at the structure a :class:`glassmodes.modes.Modes` (or mode file) was computed at.

        Orthogonal periodic boxes only (``neighbor_pairs``); positions, types and masses from
        ``modes.atoms``.
        """
        atoms = modes.atoms
        box = modes.meta.get("box") or {}
        if box.get("triclinic"):
            raise ValueError("PairCubicTensor.from_modes: triclinic boxes are not supported")
        d = modes.dimension
        L = (np.asarray(box["boxhi"]) - np.asarray(box["boxlo"]))[:d]
        x = atoms["x"][:, :d] - np.asarray(box["boxlo"])[:d]
        t = cls.from_positions(x, atoms["type"], atoms["mass"], L, potential, ids=atoms["id"], units=modes.units)
        t.atoms = atoms.copy()
        t.box = dict(box)
        return t

    @classmethod
    def from_fc3(cls, fc) -> "PairCubicTensor":
        """From a ``write_fc3`` pair-derivative table (:func:`glassmodes.fc3.read_fc3`, serial).

        Pairs with ``j = -1`` (an atom outside the group, held fixed) add to ``i``'s own block only.
        """
        if fc.storage != "pair-derivatives":
            raise ValueError(f"PairCubicTensor.from_fc3 needs a pair-derivative table, not {fc.storage!r} storage")
        rec = np.asarray(fc.records)
        d = fc.dimension
        atoms = np.asarray(fc.atoms)
        return cls(fc.natoms, rec["i"], rec["j"], rec["r"][:, :d], rec["dphi"][:, 0], rec["dphi"][:, 1],
                   rec["dphi"][:, 2], atoms["mass"], atoms=atoms, units=fc.meta.get("units", "lj"),
                   box=fc.meta.get("box"))

    def _build_pattern(self) -> None:
        nat = self.natoms
        ins = self.j >= 0
        self._inside = ins
        ii, jj = self.i[ins], self.j[ins]
        rows = np.concatenate([np.arange(nat), ii, jj])
        cols = np.concatenate([np.arange(nat), jj, ii])
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        key = rows * nat + cols
        if np.any(np.diff(key) == 0):
            raise ValueError("PairCubicTensor: a pair appears twice (pairs must be listed once)")
        self.block_indptr = np.searchsorted(rows, np.arange(nat + 1)).astype(np.int64)
        self.block_indices = cols.astype(np.int64)
        # where each pair's blocks go: (i,i) always; (j,j), (i,j), (j,i) when j is in the group
        pos_ii = np.searchsorted(key, self.i * nat + self.i)
        pos_jj = np.searchsorted(key, jj * nat + jj)
        pos_ij = np.searchsorted(key, ii * nat + jj)
        pos_ji = np.searchsorted(key, jj * nat + ii)
        nb = cols.size
        P = self.i.size
        pidx = np.arange(P)
        pin = pidx[ins]
        # scatter of the pair blocks W_p: +W on (i,i), (j,j), -W on (i,j), (j,i)
        self._scatter = sp.csr_matrix(
            (np.concatenate([np.ones(P + pin.size), -np.ones(2 * pin.size)]),
             (np.concatenate([pos_ii, pos_jj, pos_ij, pos_ji]), np.concatenate([pidx, pin, pin, pin]))),
            shape=(nb, P))
        self._block_scale = 1.0 / np.sqrt(self.masses[rows] * self.masses[cols])

    # ---- the interface the lifetime code uses -----------------------------------------------------
    @property
    def pattern(self):
        """Block CSR pattern ``(indptr, indices)`` over atoms (d x d blocks)."""
        return self.block_indptr, self.block_indices

    def contract_blocks(self, u: np.ndarray) -> np.ndarray:
        """Blocks of ``A(u) = sum_a Phi3~_{a,.,.} u_a``, shape=(nblocks, d, d), aligned with :attr:`pattern`.

        ``u`` is a mass-weighted vector, shape=(d*N,); the result is mass-weighted
        (energy / (distance^3 mass^(3/2)) times the units of u).
        """
        d = self.dimension
        ut = np.zeros((self.natoms + 1, d))    # row N: an atom outside the group (u = 0)
        ut[:-1] = np.asarray(u, dtype=float).reshape(self.natoms, d) * self.inv_sqrt_m[:, None]
        du = ut[self.j] - ut[self.i]
        s = np.einsum("pa,pa->p", self.n, du)
        W = (self.D * s)[:, None, None] * (self.n[:, :, None] * self.n[:, None, :])
        W += (self.C * s)[:, None, None] * np.eye(d)[None]
        W += self.C[:, None, None] * (self.n[:, :, None] * du[:, None, :] + du[:, :, None] * self.n[:, None, :])
        out = (self._scatter @ W.reshape(-1, d * d)).reshape(-1, d, d)
        out *= self._block_scale[:, None, None]
        return out

    def contract(self, u: np.ndarray) -> sp.csr_matrix:
        """``A(u)`` as a scipy CSR matrix, shape=(d*N, d*N) (mass-weighted, symmetric)."""
        d = self.dimension
        blocks = self.contract_blocks(u)
        return sp.bsr_matrix((blocks, self.block_indices, self.block_indptr),
                             shape=(d * self.natoms, d * self.natoms)).tocsr()

