"""Displacement of an isotropic elastic continuum under point forces, in a periodic box and in infinite space.

The reference for the far field of dipole responses (:mod:`glassmodes.elastic.dipoles`): a glass whose
long-wavelength response is that of an isotropic continuum (Lame lambda, shear modulus mu) answers
a force dipole, far from it, like the continuum *in the same periodic box*.

Periodic box (orthogonal, side lengths L_a, volume V; point forces f_a at x_a with sum f_a = 0):

    u(x) = (1/V) sum_{k != 0} F(k) G(k) . fhat(k) exp(i k.x),   fhat(k) = sum_a f_a exp(-i k.x_a),
    G(k) = (I - kk/k^2) / (mu k^2) + (kk/k^2) / ((lambda + 2 mu) k^2),

the solution of ``mu lap u + (lambda + mu) grad div u + f = 0`` with zero mean displacement and no
uniform strain (the k = 0 term is absent: a box of fixed shape, as for ``H^+``, which removes the
translations, acting on forces without a net component). ``k`` runs over ``2 pi m / L``.

Regularisation: ``F(k) = (1 + s) exp(-s)``, ``s = k^2 a^2 / 2`` (``a`` = ``width``, distance units).
In real space this smears each point force over ``(1 - (a^2/2) lap) g_a`` (g_a a Gaussian of standard
deviation a per axis), whose second moment vanishes: the smeared field is
``exp((a^2/2) lap)(1 - (a^2/2) lap) G = G - (a^4/8) lap^2 G - ...`` plus exponentially small terms,
and ``lap^2 G = 0`` away from the sources in 2D and 3D (G is built from 1/r and grad grad r in 3D,
log r and grad grad (r^2 log r) in 2D). So the field differs from the point-force field only by terms
~ exp(-r^2 / (2 a^2)) at distance r from the forces (a plain Gaussian would leave an a^2/r^2 relative
error). The sum is cut where ``F < 1e-12`` (``k a = 8``).

Routes: ``method="direct"`` sums the k-vectors at the given points (cost: points x k-vectors, for
small boxes and few points); ``method="fft"`` evaluates the same sum on a grid by an inverse real FFT
(spacing h with ``pi a / h >= 6``, so the dropped k carry ``F < 3e-7``) and interpolates to the points
with periodic cubic splines (relative error ~ (h/r)^4 at distance r).

Infinite medium: Kelvin's point-force solution (3D), and the plane-strain Kelvin solution (2D) with
``nu = lambda / (2 (lambda + mu))``:

    3D: G_ij(r) = [(3 - 4 nu) delta_ij + r_i r_j / r^2] / (16 pi mu (1 - nu) r),
    2D: G_ij(r) = [-(3 - 4 nu) ln(r) delta_ij + r_i r_j / r^2] / (8 pi mu (1 - nu))

(e.g. Landau and Lifshitz, Theory of Elasticity, Sec. 8; Mura, Micromechanics of Defects in
Solids, 1987, Sec. 5). The 2D solution is defined up to a constant times delta_ij, which cancels for
forces summing to zero.

Units: positions and ``width`` in distance units, forces in force units, moduli in
energy/distance^d: u in distance units. For a dipole of :func:`glassmodes.elastic.dipoles.dipole_vectors`
(``-n/sqrt 2`` on atom i, ``+n/sqrt 2`` on atom j), :func:`dipole_forces` gives the same forces, and
the continuum u is the counterpart of ``z = H^+ d`` (distance per unit force).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy import ndimage

from glassmodes.elastic.tensors import isotropic_shear
from glassmodes.elastic.terms import ElasticError, box_matrix, minimum_image

#: k a at which the regularisation F = (1 + s) exp(-s), s = (k a)^2 / 2, falls below 1e-12 (direct sum).
K_CUT = 8.0
#: k a at the Nyquist frequency of the default FFT grid (F < 3e-7 beyond it).
K_NYQUIST = 6.0


def isotropic_lame(V: np.ndarray, dim: int) -> tuple:
    """Lame constants (lambda, mu) of the isotropic (Voigt) average of a Voigt elastic matrix.

    ``mu`` is :func:`glassmodes.elastic.tensors.isotropic_shear` (the Voigt average of the shear
    modulus), ``lambda = sum_{a,b} V_aabb / d^2 - 2 mu / d`` (the Voigt-average bulk modulus minus
    2 mu / d). For the long-wavelength response of a stressed configuration (what ``H^+`` sees:
    the acoustic tensor is ``k_b k_d (C_abcd + delta_ac sigma_bd)``) pass Wallace's B
    (:attr:`glassmodes.elastic.RelaxedElastic.B`), which gives the same contraction under a
    hydrostatic stress; without stress B = C.

    Parameters
    ----------
    V : ndarray, shape=(nv, nv)
        Voigt matrix with tensor components (C_66 = C_xyxy), energy/distance^d; nv = 6 (3D) or 3 (2D).
    dim : int

    Returns
    -------
    (lam, mu) : tuple of float
        energy/distance^d.

    >>> lam, mu = 2.0, 1.5
    >>> V = np.array([[lam + 2 * mu, lam, 0], [lam, lam + 2 * mu, 0], [0, 0, mu]])
    >>> tuple(round(v, 12) for v in isotropic_lame(V, 2))
    (2.0, 1.5)
    """
    c = np.asarray(V, dtype=float)
    nv = 6 if dim == 3 else 3
    if dim not in (2, 3) or c.shape != (nv, nv):
        raise ElasticError(f"Voigt matrix of shape {c.shape} for dimension {dim} (expected ({nv}, {nv}))")
    mu = isotropic_shear(c, dim)
    lam = float(np.sum(c[:dim, :dim]) / dim ** 2 - 2.0 * mu / dim)
    return lam, mu


def check_lame(lam: float, mu: float, dim: int) -> None:
    """Refuse moduli without a stable isotropic continuum (mu > 0 and bulk lambda + 2 mu / d > 0)."""
    if not (np.isfinite(lam) and np.isfinite(mu)) or mu <= 0 or lam + 2.0 * mu / dim <= 0:
        raise ElasticError(f"Lame constants lambda = {lam:.6g}, mu = {mu:.6g}: an isotropic continuum needs "
                           f"mu > 0 and a positive bulk modulus lambda + 2 mu / {dim} > 0")


def dipole_forces(x_i: np.ndarray, x_j: np.ndarray, box: dict) -> tuple:
    """Positions and forces of the unit dipole of pair (i, j), as in :func:`dipole_vectors`.

    Parameters
    ----------
    x_i, x_j : ndarray, shape=(d,)
        Positions of atoms i and j (any image).
    box : dict
        The package's box dict (``boxlo``, ``boxhi``, tilts).

    Returns
    -------
    sources : ndarray, shape=(2, d)
        ``x_i`` and the nearest image of ``x_j`` to it.
    forces : ndarray, shape=(2, d)
        ``-n / sqrt 2`` on i and ``+n / sqrt 2`` on j, n the unit vector from i to j.
    """
    xi = np.asarray(x_i, dtype=float)
    d = xi.size
    r = minimum_image((np.asarray(x_j, dtype=float) - xi)[None, :], box, d)[0]
    n = r / np.linalg.norm(r)
    return np.array([xi, xi + r]), np.array([-n, n]) / np.sqrt(2.0)


def kelvin_displacement(points: np.ndarray, sources: np.ndarray, forces: np.ndarray, lam: float,
                        mu: float) -> np.ndarray:
    """Displacement of an infinite isotropic medium under point forces (Kelvin; 2D plane strain).

    Parameters
    ----------
    points : ndarray, shape=(M, d)
        Where to evaluate (none may coincide with a source).
    sources, forces : ndarray, shape=(S, d)
        Force positions and forces. In 2D the result is defined up to a uniform displacement unless
        the forces sum to zero.
    lam, mu : float
        Lame constants, energy/distance^d.

    Returns
    -------
    ndarray, shape=(M, d)
    """
    x = np.atleast_2d(np.asarray(points, dtype=float))
    d = x.shape[1]
    check_lame(lam, mu, d)
    nu = lam / (2.0 * (lam + mu))
    u = np.zeros_like(x)
    for xa, fa in zip(np.asarray(sources, dtype=float), np.asarray(forces, dtype=float)):
        r = x - xa[None, :]
        dist = np.linalg.norm(r, axis=1)
        if np.any(dist == 0):
            raise ElasticError("a point coincides with a point force: the Kelvin solution is singular there")
        n = r / dist[:, None]
        nf = n @ fa
        if d == 3:
            u += ((3 - 4 * nu) * fa[None, :] + nf[:, None] * n) / (16 * np.pi * mu * (1 - nu) * dist[:, None])
        else:
            u += (-(3 - 4 * nu) * np.log(dist)[:, None] * fa[None, :] + nf[:, None] * n) / (8 * np.pi * mu * (1 - nu))
    return u


def _orthogonal_box(box: dict, dim: int) -> tuple:
    h = box_matrix(box, dim)
    if np.any(np.abs(h - np.diag(np.diag(h))) > 1e-12 * np.max(np.abs(h))):
        raise ElasticError("the periodic continuum solution is written for orthogonal boxes; this box is "
                           "tilted (xy/xz/yz != 0)")
    return np.asarray(box["boxlo"], dtype=float)[:dim], np.diag(h).copy()


def _response(kv: np.ndarray, fhat: np.ndarray, lam: float, mu: float, width: float) -> np.ndarray:
    """F(k) G(k) . fhat(k) for wave vectors kv (..., d) and complex forces fhat (..., d)."""
    k2 = np.sum(kv * kv, axis=-1)
    s = 0.5 * k2 * width ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        reg = np.where(k2 > 0, (1.0 + s) * np.exp(-s) / k2, 0.0)
        kf = np.where(k2 > 0, np.sum(kv * fhat, axis=-1) / k2, 0.0)
    return reg[..., None] * (fhat / mu + (1.0 / (lam + 2 * mu) - 1.0 / mu) * kf[..., None] * kv)


def periodic_displacement(points: np.ndarray, sources: np.ndarray, forces: np.ndarray, box: dict, lam: float,
                          mu: float, width: float = 0.5, method: str = "fft", grid=None,
                          max_grid_points: int = 2 ** 24) -> np.ndarray:
    """Displacement of a periodic isotropic continuum under point forces summing to zero.

    Parameters
    ----------
    points : ndarray, shape=(M, d)
        Where to evaluate (any periodic image), distance units.
    sources, forces : ndarray, shape=(S, d)
        Force positions and forces (:func:`dipole_forces` for a dipole); ``sum forces = 0``.
    box : dict
        Orthogonal periodic box (the package's box dict: ``boxlo``, ``boxhi``).
    lam, mu : float
        Lame constants, energy/distance^d (:func:`isotropic_lame`).
    width : float
        Regularisation length a (module docs): the field is exact up to ~exp(-r^2/(2 a^2)) at
        distance r from every force.
    method : "fft" or "direct"
    grid : int or sequence of int, optional
        FFT grid per axis (default: the smallest FFT-friendly even size with ``pi a n / L >= 6``).
    max_grid_points : int
        Refuse larger grids (peak memory about 100 bytes per grid point in 3D: 1.4 GB measured at 240^3).

    Returns
    -------
    ndarray, shape=(M, d)
        Distance units.
    """
    x = np.atleast_2d(np.asarray(points, dtype=float))
    d = x.shape[1]
    src = np.atleast_2d(np.asarray(sources, dtype=float))
    f = np.atleast_2d(np.asarray(forces, dtype=float))
    if src.shape != f.shape or src.shape[1] != d or d not in (2, 3):
        raise ElasticError(f"sources {src.shape}, forces {f.shape} and points {x.shape} do not match a "
                           "2D or 3D system")
    check_lame(lam, mu, d)
    if not width > 0:
        raise ElasticError(f"width {width}: the regularisation length must be > 0")
    net = np.linalg.norm(f.sum(axis=0))
    if net > 1e-10 * max(np.abs(f).sum(), np.finfo(float).tiny):
        raise ElasticError(f"the forces sum to {f.sum(axis=0).tolist()}: a periodic medium has no static "
                           "solution under a net force (use a dipole or another set summing to zero)")
    lo, L = _orthogonal_box(box, d)
    V = float(np.prod(L))
    if method == "direct":
        return _direct(x - lo, src - lo, f, L, V, lam, mu, width)
    if method != "fft":
        raise ElasticError(f"method {method!r}: use 'fft' or 'direct'")
    if grid is None:
        n = [scipy.fft.next_fast_len(int(np.ceil(K_NYQUIST * La / (np.pi * width)))) for La in L]
        n = [m + (m % 2) for m in n]
    else:
        n = [int(grid)] * d if np.ndim(grid) == 0 else [int(g) for g in grid]
    if len(n) != d or min(n) < 4:
        raise ElasticError(f"grid {n} for a {d}D box")
    if int(np.prod(n, dtype=np.int64)) > max_grid_points:
        raise ElasticError(f"FFT grid {n} ({int(np.prod(n, dtype=np.int64))} points) above max_grid_points = "
                           f"{max_grid_points}: use a larger width, method='direct' for few points, or raise the limit")
    ugrid = _grid_field(src - lo, f, L, V, n, lam, mu, width)
    coords = ((x - lo) / L * np.asarray(n)).T
    return np.stack([ndimage.map_coordinates(ugrid[c], coords, order=3, mode="grid-wrap") for c in range(d)], axis=1)


def _grid_field(src: np.ndarray, f: np.ndarray, L: np.ndarray, V: float, n: list, lam: float, mu: float,
                width: float) -> np.ndarray:
    """The field on the grid x = L m / n, shape=(d, *n)."""
    d = len(n)
    ks = [2 * np.pi * scipy.fft.fftfreq(n[a], d=L[a] / n[a]) for a in range(d - 1)]
    ks.append(2 * np.pi * scipy.fft.rfftfreq(n[-1], d=L[-1] / n[-1]))
    shape = [k.size for k in ks]
    kv = np.meshgrid(*ks, indexing="ij", sparse=True)                     # d broadcastable axes
    fhat = np.zeros((d, *shape), dtype=complex)
    for xa, fa in zip(src, f):
        phase = np.ones(shape, dtype=complex)
        for a in range(d):
            phase = phase * np.exp(-1j * kv[a] * xa[a])
        for a in range(d):
            fhat[a] += fa[a] * phase
    k2 = sum(k * k for k in kv)
    s = 0.5 * k2 * width ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        reg = np.where(k2 > 0, (1.0 + s) * np.exp(-s) / k2, 0.0)
        kf = np.where(k2 > 0, sum(kv[a] * fhat[a] for a in range(d)) / k2, 0.0)
    del s
    uk = fhat
    for a in range(d):      # in place: F G . fhat = F/k^2 [fhat/mu + (1/(lam+2mu) - 1/mu) (k.fhat/k^2) k]
        uk[a] = reg * (fhat[a] / mu + (1.0 / (lam + 2 * mu) - 1.0 / mu) * kf * kv[a])
    total = float(np.prod(n))
    return np.stack([scipy.fft.irfftn(uk[c], s=n) * (total / V) for c in range(d)])


def half_space_wavevectors(L: np.ndarray, kmax: float) -> np.ndarray:
    """The wave vectors 2 pi m / L (m integer, m != 0) with |k| <= kmax, one of each pair (k, -k).

    Kept: the first non-zero component of m is positive. Returns shape=(K, d), 1/distance.
    """
    L = np.asarray(L, dtype=float)
    d = L.size
    mmax = np.floor(kmax * L / (2 * np.pi)).astype(int)
    rest = np.stack(np.meshgrid(*[np.arange(-m, m + 1) for m in mmax[1:]], indexing="ij"), axis=-1).reshape(-1, d - 1)
    krest = 2 * np.pi * rest / L[1:]
    k2rest = np.sum(krest ** 2, axis=1)
    first = np.zeros(rest.shape[0], dtype=int)
    for a in range(d - 2, -1, -1):
        first = np.where(rest[:, a] != 0, rest[:, a], first)
    out = []
    for m0 in range(0, mmax[0] + 1):
        k0 = 2 * np.pi * m0 / L[0]
        keep = (k0 ** 2 + k2rest <= kmax ** 2) & ((first > 0) if m0 == 0 else True)
        out.append(np.column_stack([np.full(int(keep.sum()), k0), krest[keep]]))
    return np.concatenate(out)


def _direct(x: np.ndarray, src: np.ndarray, f: np.ndarray, L: np.ndarray, V: float, lam: float, mu: float,
            width: float, chunk: int = 2 ** 22) -> np.ndarray:
    """The k-sum at the points: u = (2/V) Re sum over half of the k-vectors (k and -k pair up)."""
    d = x.shape[1]
    kv = half_space_wavevectors(L, K_CUT / width)
    fhat = np.zeros((kv.shape[0], d), dtype=complex)
    for xa, fa in zip(src, f):
        fhat += np.exp(-1j * kv @ xa)[:, None] * fa
    uk = _response(kv, fhat, lam, mu, width)
    u = np.zeros_like(x)
    kb = min(kv.shape[0], chunk)
    step = max(1, chunk // max(1, kb))
    for k0 in range(0, kv.shape[0], kb):
        kk, uu = kv[k0:k0 + kb], uk[k0:k0 + kb]
        for s in range(0, x.shape[0], step):
            u[s:s + step] += 2.0 / V * np.real(np.exp(1j * x[s:s + step] @ kk.T) @ uu)
    return u
