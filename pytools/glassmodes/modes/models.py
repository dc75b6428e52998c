"""Model Hessians built in NumPy: a disordered spring network and an FCC Lennard-Jones crystal.

For tests, benchmarks and examples: no LAMMPS needed. Pair potentials ``phi(r)`` give the
off-diagonal 3x3 (2x2) blocks of the Hessian

    H_ij = -[phi''(r) n n^T + phi'(r)/r (I - n n^T)],    n = (x_j - x_i)/r,   i != j,
    H_ii = -sum_{j != i} H_ij

(thesis 001, "Pair block"; the minus sign makes ``u^T H u = sum_pairs phi'' (n.u_ij)^2 +
phi'/r (|u_ij|^2 - (n.u_ij)^2)`` with ``u_ij = u_j - u_i``). Periodic orthogonal boxes, minimum
image, cutoff below half the shortest box side.

The FCC crystal comes with its analytic dynamical matrix ``D(q)`` on the 4-atom cubic basis,
built from the same force constants by lattice sums (an independent assembly route).
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from glassmodes.io.hessian import ATOMS_DTYPE, Hessian


def _box_meta(lengths: np.ndarray, dimension: int) -> dict:
    hi = np.zeros(3)
    hi[:dimension] = lengths
    if dimension == 2:
        hi[2] = 0.5
    lo = np.zeros(3)
    if dimension == 2:
        lo[2] = -0.5
    return {"boxlo": lo.tolist(), "boxhi": hi.tolist(), "xy": 0.0, "xz": 0.0, "yz": 0.0,
            "triclinic": False, "periodicity": [1, 1, 1 if dimension == 3 else 0]}


def make_hessian(matrix: sp.spmatrix, positions: np.ndarray, box_lengths, masses=None, types=None,
                 units: str = "lj", method: str = "model") -> Hessian:
    """Wrap a plain Hessian and its atoms as a :class:`glassmodes.io.hessian.Hessian`."""
    x = np.asarray(positions, dtype=float)
    n, d = x.shape
    masses = np.ones(n) if masses is None else np.asarray(masses, dtype=float)
    types = np.ones(n, dtype=int) if types is None else np.asarray(types, dtype=int)
    atoms = np.zeros(n, dtype=ATOMS_DTYPE)
    atoms["id"] = np.arange(1, n + 1)
    atoms["type"] = types
    atoms["mass"] = masses
    atoms["x"][:, :d] = x
    tm = [float(masses[types == t][0]) for t in range(1, types.max() + 1)]
    per_atom = any(not np.allclose(masses[types == t], m) for t, m in zip(range(1, types.max() + 1), tm))
    m = sp.csr_matrix(matrix)
    meta = {"natoms": n, "dimension": d, "ndof": d * n, "nnz": int(m.nnz), "units": units,
            "mass_weighted": False, "method": method, "box": _box_meta(np.asarray(box_lengths, float), d),
            "type_masses": tm, "per_atom_mass": bool(per_atom), "lammps_version": None,
            "format": "glassmodes-hessian", "format_version": 1, "glassmodes_version": None}
    return Hessian(matrix=m, meta=meta, atoms=atoms)


def pair_hessian(positions: np.ndarray, box_lengths, i: np.ndarray, j: np.ndarray, rij: np.ndarray,
                 dphi: np.ndarray, d2phi: np.ndarray) -> sp.csr_matrix:
    """Hessian of a pair energy, shape=(d*N, d*N).

    Parameters
    ----------
    positions : ndarray, shape=(N, d)
    i, j : ndarray of int, shape=(P,)
        Pairs (each once).
    rij : ndarray, shape=(P, d)
        Minimum-image ``x_j - x_i``.
    dphi, d2phi : ndarray, shape=(P,)
        ``phi'(r)`` and ``phi''(r)`` of each pair.
    """
    n, d = positions.shape
    r = np.linalg.norm(rij, axis=1)
    nn = rij / r[:, None]
    outer = nn[:, :, None] * nn[:, None, :]
    eye = np.eye(d)[None]
    K = -(d2phi[:, None, None] * outer + (dphi / r)[:, None, None] * (eye - outer))  # H_ij blocks
    a, b = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    rows = [(d * i)[:, None, None] + a, (d * j)[:, None, None] + a, (d * i)[:, None, None] + a,
            (d * j)[:, None, None] + a]
    cols = [(d * j)[:, None, None] + b, (d * i)[:, None, None] + b, (d * i)[:, None, None] + b,
            (d * j)[:, None, None] + b]
    vals = [K, np.transpose(K, (0, 2, 1)), -K, -K]
    H = sp.coo_matrix(
        (np.concatenate([v.ravel() for v in vals]),
         (np.concatenate([q.ravel() for q in rows]), np.concatenate([q.ravel() for q in cols]))),
        shape=(d * n, d * n),
    ).tocsr()
    H.sum_duplicates()
    return H


def neighbor_pairs(positions: np.ndarray, box_lengths, cutoff: float):
    """Pairs closer than ``cutoff`` in a periodic orthogonal box (minimum image).

    Returns ``i, j, rij`` with ``rij = x_j - x_i`` (minimum image), each pair once.
    """
    L = np.asarray(box_lengths, dtype=float)
    if cutoff >= 0.5 * L.min():
        raise ValueError(f"cutoff {cutoff} must be below half the shortest box side {L.min()}")
    x = np.mod(positions, L)
    tree = cKDTree(x, boxsize=L)
    pairs = tree.query_pairs(cutoff, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    rij = x[j] - x[i]
    rij -= L * np.round(rij / L)
    return i, j, rij


def spring_network(natoms: int = 1000, dimension: int = 3, seed: int = 0, jitter: float = 0.35,
                   cutoff: float = 1.6, tension: float = 0.1, mass_ratio: float = 1.0,
                   sides: tuple | None = None) -> Hessian:
    """A disordered, pre-stressed harmonic spring network in a periodic box (glass-like spectrum).

    Sites of a simple cubic (square) lattice of unit spacing are displaced by uniform random
    amounts in ``[-jitter, jitter]``; every pair closer than ``cutoff`` is a spring of random
    stiffness ``phi'' in [0.5, 1.5]`` under a random tension ``phi'/r in [0, tension]`` (both
    non-negative, so the Hessian is positive semi-definite with exactly ``d`` zero modes, the
    translations). Half the atoms (type 2) have mass ``mass_ratio``, the others 1. Units ``lj``.
    ``natoms`` is rounded to the nearest ``n^d``, unless the lattice ``sides`` are given (e.g.
    ``(10, 10, 20)`` for 2000 atoms in a 10 x 10 x 20 box).
    """
    rng = np.random.default_rng(seed)
    if sides is None:
        side = max(4, int(round(natoms ** (1.0 / dimension))))
        sides = (side,) * dimension
    if len(sides) != dimension:
        raise ValueError(f"sides {sides} do not match dimension {dimension}")
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sides], indexing="ij"), -1).reshape(-1, dimension)
    x = grid + 0.5 + rng.uniform(-jitter, jitter, size=grid.shape)
    L = np.asarray(sides, dtype=float)
    i, j, rij = neighbor_pairs(x, L, cutoff)
    r = np.linalg.norm(rij, axis=1)
    d2 = rng.uniform(0.5, 1.5, size=r.size)
    d1 = rng.uniform(0.0, tension, size=r.size) * r
    H = pair_hessian(x, L, i, j, rij, d1, d2)
    n = x.shape[0]
    types = np.ones(n, dtype=int)
    types[rng.permutation(n)[: n // 2]] = 2
    masses = np.where(types == 2, mass_ratio, 1.0)
    return make_hessian(H, np.mod(x, L), L, masses=masses, types=types)


def lj_derivatives(r: np.ndarray, epsilon: float = 1.0, sigma: float = 1.0):
    """``phi'(r)`` and ``phi''(r)`` of ``phi = 4 eps ((s/r)^12 - (s/r)^6)``."""
    sr6 = (sigma / r) ** 6
    d1 = 4 * epsilon * (-12 * sr6 ** 2 + 6 * sr6) / r
    d2 = 4 * epsilon * (156 * sr6 ** 2 - 42 * sr6) / r ** 2
    return d1, d2


FCC_BASIS = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
FCC_LJ_A0 = 2 ** (1 / 6) * np.sqrt(2)  # nearest neighbours at the LJ minimum 2^(1/6) sigma


def fcc_lj(ncells: int = 4, a: float = FCC_LJ_A0, cutoff: float | None = None, mass: float = 1.0) -> Hessian:
    """Perfect FCC crystal of ``4 ncells^3`` LJ atoms (eps = sigma = 1), lattice constant ``a``.

    ``cutoff=None``: nearest neighbours only (cutoff midway between the first and second shells).
    Forces vanish on every atom by symmetry, so the Hessian is that of a mechanical equilibrium.
    """
    cutoff = 0.5 * (a / np.sqrt(2) + a) if cutoff is None else cutoff
    cells = np.stack(np.meshgrid(*[np.arange(ncells)] * 3, indexing="ij"), -1).reshape(-1, 3)
    x = (cells[:, None, :] + FCC_BASIS[None]).reshape(-1, 3) * a
    L = np.full(3, ncells * a)
    i, j, rij = neighbor_pairs(x, L, cutoff)
    d1, d2 = lj_derivatives(np.linalg.norm(rij, axis=1))
    H = pair_hessian(x, L, i, j, rij, d1, d2)
    return make_hessian(H, x, L, masses=np.full(x.shape[0], mass))


def fcc_dynamical_matrix(q: np.ndarray, a: float = FCC_LJ_A0, cutoff: float | None = None,
                         mass: float = 1.0) -> np.ndarray:
    """Analytic ``D(q)`` of :func:`fcc_lj`, shape=(12, 12), complex (4-atom cubic basis).

    ``D_{s a, s' b}(q) = (1/m) [delta_{ss'} sum_{r in N(s)} A_ab(r) - sum_{r in N(s, s')} A_ab(r) e^{i q.r}]``
    with ``A(r) = phi'' n n + phi'/r (I - n n)`` and ``N(s, s')`` the vectors from atom ``s`` to the
    images of ``s'`` within the cutoff. Its eigenvalues at the ``ncells^3`` wavevectors
    ``q = 2 pi (h, k, l) / (ncells a)`` are the ``12 ncells^3`` eigenvalues of the box.
    """
    cutoff = 0.5 * (a / np.sqrt(2) + a) if cutoff is None else cutoff
    nr = int(np.ceil(cutoff / a)) + 1
    shifts = np.array(list(itertools.product(range(-nr, nr + 1), repeat=3)), dtype=float)
    Dq = np.zeros((12, 12), dtype=complex)
    for s in range(4):
        for t in range(4):
            r = (shifts + FCC_BASIS[t] - FCC_BASIS[s]) * a
            dist = np.linalg.norm(r, axis=1)
            ok = (dist > 1e-12) & (dist < cutoff)
            r, dist = r[ok], dist[ok]
            d1, d2 = lj_derivatives(dist)
            nn = r / dist[:, None]
            outer = nn[:, :, None] * nn[:, None, :]
            A = d2[:, None, None] * outer + (d1 / dist)[:, None, None] * (np.eye(3)[None] - outer)
            phase = np.exp(1j * r @ np.asarray(q, dtype=float))
            Dq[3 * s:3 * s + 3, 3 * t:3 * t + 3] -= np.einsum("p,pab->ab", phase, A)
            Dq[3 * s:3 * s + 3, 3 * s:3 * s + 3] += A.sum(axis=0)
    return Dq / mass


def fcc_box_spectrum(ncells: int, a: float = FCC_LJ_A0, cutoff: float | None = None,
                     mass: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Analytic eigenvalues of the periodic FCC box from ``D(q)``: (sorted eigenvalues, q of each)."""
    lam, qs = [], []
    for h, k, l in itertools.product(range(ncells), repeat=3):
        q = 2 * np.pi * np.array([h, k, l]) / (ncells * a)
        w = np.linalg.eigvalsh(fcc_dynamical_matrix(q, a, cutoff, mass))
        lam.append(w)
        qs.append(np.repeat(q[None], 12, axis=0))
    lam = np.concatenate(lam)
    qs = np.concatenate(qs)
    order = np.argsort(lam, kind="stable")
    return lam[order], qs[order]
