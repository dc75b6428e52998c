"""One-dimensional Schroedinger equation along a minimum-energy path: tunnel splitting of a double well.

Khomenko, Scalliet et al., Phys. Rev. Lett. 124, 225901 (2020) and Khomenko et al. (2020), Sec. II:
the potential energy V(xi) along the minimum-energy path (MEP) between two inherent structures A and B,
xi the **mass-weighted arc length** ``d xi = (sum_i m_i |d r_i|^2)^(1/2)``, gives the effective equation

    -(hbar~^2 / 2) psi''(xi) + V(xi) psi(xi) = e psi(xi),

with the reduced Planck constant ``hbar~ = hbar / (sigma sqrt(m eps))`` (LJ units: energies in eps,
xi in sigma sqrt(m), times in sigma sqrt(m / eps)). The tunnel splitting is ``E = e_1 - e_0``; a
double well is an active two-level system (TLS) when ``E <= E_th``.

Conventions
-----------
* Mass-weighted coordinates: the kinetic term has unit mass; for the unit masses of the papers' models
  xi is the plain Euclidean arc length in sigma.
* Energies in the unit of V (eps in LJ units), **total** energies of the configuration, not per atom.
* hbar~ and E_th are inputs. Khomenko et al. (2020) give only the thresholds (E <= 0.0015 eps
  "Argon parameters", E <= 0.0002 eps "NiP parameters"); the mapping to hbar~ is in Khomenko et al.,
  PRL 124, 225901 (2020), which is not among the project's papers: :data:`TLS_PRESETS` therefore holds the
  thresholds only and every solver call needs an explicit ``hbar``.

Discretizations (two, to check each other)
------------------------------------------
* :func:`levels_fd`: 3-point finite differences on a uniform grid, ``-(hbar^2/2h^2)(psi_{j+1} - 2 psi_j +
  psi_{j-1})``, symmetric tridiagonal, the lowest levels by ``scipy.linalg.eigh_tridiagonal`` (bisection);
  error O(h^2).
* :func:`levels_dvr`: sinc discrete-variable representation (Colbert and Miller, J. Chem. Phys. 96, 1982
  (1992), Eq. A7): ``T_jj = hbar^2 pi^2 / (6 h^2)``, ``T_jk = hbar^2 (-1)^(j-k) / (h^2 (j-k)^2)``,
  dense; spectrally convergent.

The path potential :class:`PathPotential` interpolates image energies and their derivatives
``dV/dxi = -F . t`` (tangential force, mass-weighted tangent) with piecewise cubic Hermite polynomials
and continues V beyond the end minima harmonically, ``V_end + k_end (xi - xi_end)^2 / 2``, with the
curvature ``k_end = t . H . t`` along the path's end tangent (given, or the Hermite curvature at the end).

>>> import numpy as np
>>> x = np.linspace(-8, 8, 4001)
>>> lv = levels_fd(x, 0.5 * x ** 2, hbar=1.0)       # harmonic oscillator, omega = 1
>>> bool(abs(lv[0] - 0.5) < 1e-5 and abs(lv[1] - 1.5) < 1e-5)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Activity thresholds E_th (eps) of Khomenko et al. (2020), Sec. II, for two unit mappings
#: of their ref. [30] (Khomenko, Scalliet et al., Phys. Rev. Lett. 124, 225901 (2020)). hbar~ of these mappings is not printed
#: in the project's papers: pass it explicitly.
TLS_PRESETS = {
    "argon": {"E_th": 0.0015, "source": "Khomenko et al. (2020), Sec. II (Argon parameters)"},
    "nip": {"E_th": 0.0002, "source": "Khomenko et al. (2020), Sec. II (NiP parameters)"},
}


def _uniform_step(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 5:
        raise ValueError("the grid needs at least 5 points")
    h = np.diff(x)
    if not np.all(h > 0) or np.ptp(h) > 1e-9 * h.mean():
        raise ValueError("the grid must be uniform and increasing")
    return float(h.mean())


def levels_fd(x: np.ndarray, V: np.ndarray, hbar: float, n: int = 2) -> np.ndarray:
    """Lowest ``n`` levels by 3-point finite differences (Dirichlet walls beyond the grid ends).

    Parameters
    ----------
    x : ndarray, shape=(M,)
        Uniform grid of the mass-weighted coordinate (sigma sqrt(m)).
    V : ndarray, shape=(M,)
        Potential on the grid (eps).
    hbar : float
        Reduced Planck constant hbar~ (dimensionless in LJ units), > 0.
    n : int
        Number of levels.

    Returns
    -------
    ndarray, shape=(n,)
        Eigenvalues e_0 <= e_1 <= ... (eps).
    """
    from scipy.linalg import eigh_tridiagonal

    if not hbar > 0:
        raise ValueError(f"hbar must be > 0, got {hbar}")
    h = _uniform_step(x)
    t = hbar * hbar / (2.0 * h * h)
    V = np.asarray(V, dtype=float)
    # shift by min(V) for round-off: the levels of a double well differ by ~1e-8 of the barrier
    v0 = float(V.min())
    d = (V - v0) + 2.0 * t
    e = np.full(V.size - 1, -t)
    # bisection (stebz) to full relative precision of the (shifted, small) eigenvalues: the default
    # absolute tolerance eps * |T|_1 ~ eps * 2 hbar^2 / h^2 would blur splittings of 1e-6 hbar omega.
    # (stemr allocates an M x M array even without vectors.) The Sturm counts still carry round-off
    # ~ eps hbar^2 / h^2: keep grids at tens of points per wavelength (PathPotential.grid), not finer.
    w = eigh_tridiagonal(d, e, eigvals_only=True, select="i", select_range=(0, n - 1), lapack_driver="stebz",
                         tol=np.finfo(float).tiny)
    return w + v0


def levels_dvr(x: np.ndarray, V: np.ndarray, hbar: float, n: int = 2) -> np.ndarray:
    """Lowest ``n`` levels in the sinc-DVR of Colbert and Miller (1992), Eq. (A7), same grid conventions.

    Dense: O(M^3); a few hundred points suffice where the grid resolves the wave functions.
    """
    from scipy.linalg import eigh

    if not hbar > 0:
        raise ValueError(f"hbar must be > 0, got {hbar}")
    h = _uniform_step(x)
    m = np.arange(x.size)
    k = m[:, None] - m[None, :]
    with np.errstate(divide="ignore"):
        T = hbar * hbar / (h * h) * np.where(k == 0, np.pi ** 2 / 6.0, (-1.0) ** np.abs(k) / np.maximum(k * k, 1))
    V = np.asarray(V, dtype=float)
    v0 = float(V.min())
    T[np.diag_indices_from(T)] += V - v0
    return eigh(T, eigvals_only=True, subset_by_index=(0, n - 1)) + v0


@dataclass(frozen=True)
class PathPotential:
    """V(xi) along a path from images: cubic Hermite inside, harmonic continuation outside.

    Parameters
    ----------
    xi : ndarray, shape=(K,)
        Mass-weighted arc length of the images, increasing, ``xi[0] = 0`` at A (sigma sqrt(m)).
    energy : ndarray, shape=(K,)
        Total potential energy of the images (eps).
    slope : ndarray, shape=(K,)
        dV/dxi at the images, ``-F . t`` with the mass-weighted unit tangent t (eps / (sigma sqrt(m))).
        The end values are set to 0 (A and B are minima).
    k_ends : tuple of float, optional
        Curvatures d^2V/dxi^2 at A and B (eps / (sigma^2 m)), e.g. ``t . H . t`` with the end tangents.
        None: the second derivative of the end Hermite segment.
    """

    xi: np.ndarray
    energy: np.ndarray
    slope: np.ndarray
    k_ends: tuple | None = None

    def __post_init__(self):
        xi = np.asarray(self.xi, dtype=float)
        if xi.ndim != 1 or xi.size < 2 or not np.all(np.diff(xi) > 0):
            raise ValueError("image arc lengths must be increasing (at least two images)")
        if np.asarray(self.energy).shape != xi.shape or np.asarray(self.slope).shape != xi.shape:
            raise ValueError("xi, energy and slope must have the same length")
        s = np.array(self.slope, dtype=float)
        s[0] = s[-1] = 0.0
        object.__setattr__(self, "xi", xi)
        object.__setattr__(self, "energy", np.asarray(self.energy, dtype=float))
        object.__setattr__(self, "slope", s)
        if self.k_ends is None:
            object.__setattr__(self, "k_ends", (float(self._spline(xi[0], 2)), float(self._spline(xi[-1], 2))))
        if not (self.k_ends[0] > 0 and self.k_ends[1] > 0):
            raise ValueError(f"the path's end curvatures must be > 0 (ends are minima), got {self.k_ends}")

    def _spline(self, x, nu=0):
        from scipy.interpolate import CubicHermiteSpline

        return CubicHermiteSpline(self.xi, self.energy, self.slope)(x, nu)

    @property
    def length(self) -> float:
        """Mass-weighted path length xi_B - xi_A."""
        return float(self.xi[-1] - self.xi[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """V at ``x`` (any shape); harmonic continuation outside [xi_A, xi_B]."""
        x = np.asarray(x, dtype=float)
        a, b = self.xi[0], self.xi[-1]
        out = self._spline(np.clip(x, a, b))
        lo, hi = x < a, x > b
        out = np.where(lo, self.energy[0] + 0.5 * self.k_ends[0] * (x - a) ** 2, out)
        out = np.where(hi, self.energy[-1] + 0.5 * self.k_ends[1] * (x - b) ** 2, out)
        return out

    def margin(self, hbar: float, factor: float = 1.0) -> tuple[float, float]:
        """Extensions beyond A and B where the harmonic wall reaches W = max(40 hbar omega, 2 * barrier)."""
        span = float(self.energy.max() - min(self.energy[0], self.energy[-1]))
        out = []
        for k in self.k_ends:
            w = max(40.0 * hbar * np.sqrt(k), 2.0 * span)
            out.append(factor * np.sqrt(2.0 * w / k))
        return tuple(out)

    def grid(self, hbar: float, points_per_length: float | None = None, factor: float = 1.0,
             npoints: int | None = None) -> np.ndarray:
        """Uniform grid over [xi_A - margin, xi_B + margin]: ``npoints`` points, or enough for 40 points
        per the shortest local wavelength hbar / sqrt(2 (W - V_min))."""
        ma, mb = self.margin(hbar, factor)
        lo, hi = self.xi[0] - ma, self.xi[-1] + mb
        if npoints is None:
            w = max(40.0 * hbar * np.sqrt(max(self.k_ends)), 2.0 * float(np.ptp(self.energy)))
            lam = 2.0 * np.pi * hbar / np.sqrt(2.0 * w)
            npoints = int(np.ceil((hi - lo) / lam * (points_per_length or 40.0))) + 1
            npoints = max(npoints, 801)
        return np.linspace(lo, hi, int(npoints))


@dataclass(frozen=True)
class Splitting:
    """Two lowest levels of a path potential.

    Attributes
    ----------
    e0, e1 : float
        Levels (eps), same zero as the path energies.
    E : float
        Tunnel splitting e1 - e0 (eps).
    E_dvr : float
        The same by the sinc-DVR (NaN when not computed).
    npoints : int
        Finite-difference grid size.
    hbar : float
        hbar~ used.
    """

    e0: float
    e1: float
    E: float
    E_dvr: float
    npoints: int
    hbar: float

    def is_tls(self, E_th: float) -> bool:
        return bool(self.E <= E_th)


def tunnel_splitting(path: PathPotential, hbar: float, npoints: int | None = None, dvr: bool = True) -> Splitting:
    """Tunnel splitting of a path potential by finite differences, checked by the sinc-DVR.

    The FD grid (default: >= 40 points per shortest wavelength, >= 801) is refined by Richardson
    extrapolation of two grids (h and h/2; FD error O(h^2)); the DVR (``dvr=True``) uses 8 points per
    shortest wavelength (at least 401, at most 4001).
    """
    x = path.grid(hbar, npoints=npoints)
    x2 = np.linspace(x[0], x[-1], 2 * x.size - 1)
    l1 = levels_fd(x, path(x), hbar)
    l2 = levels_fd(x2, path(x2), hbar)
    lev = (4.0 * l2 - l1) / 3.0
    e_dvr = float("nan")
    if dvr:
        xd = np.linspace(x[0], x[-1], int(min(max(x.size // 5, 401), 4001)))
        ld = levels_dvr(xd, path(xd), hbar)
        e_dvr = float(ld[1] - ld[0])
    return Splitting(e0=float(lev[0]), e1=float(lev[1]), E=float(lev[1] - lev[0]), E_dvr=e_dvr,
                     npoints=int(x2.size), hbar=float(hbar))


def wkb_splitting_symmetric(x: np.ndarray, V: np.ndarray, hbar: float) -> float:
    """WKB splitting of a symmetric double well (Landau and Lifshitz, Quantum Mechanics, Sec. 50, Problem 3).

    ``E = (hbar omega / pi) exp(-(1/hbar) int_{-a}^{a} |p| dx)``, ``|p| = sqrt(2 (V - e))``, with
    ``e = V_min + hbar omega / 2`` and omega from the curvature at the (left) minimum; a diagnostic, valid
    for barriers of many hbar omega.

    Parameters
    ----------
    x, V : ndarray, shape=(M,)
        Uniform grid and potential, symmetric about the grid centre.
    """
    x = np.asarray(x, dtype=float)
    V = np.asarray(V, dtype=float)
    h = _uniform_step(x)
    half = x.size // 2
    i = int(np.argmin(V[:half]))
    k = (V[i + 1] - 2 * V[i] + V[i - 1]) / (h * h)
    omega = np.sqrt(k)
    e = V[i] + 0.5 * hbar * omega
    # |p| under the barrier, on a fine grid between the inner turning points
    from scipy.interpolate import CubicSpline

    f = CubicSpline(x, V - e)
    xc = 0.5 * (x[0] + x[-1])
    roots = [r for r in f.roots(extrapolate=False) if abs(r - xc) < abs(x[i] - xc)]
    if len(roots) < 2:
        raise ValueError("no barrier above the zero-point level: WKB does not apply")
    a_lo, a_hi = min(roots), max(roots)
    s = np.linspace(a_lo, a_hi, 20001)
    p = np.sqrt(np.maximum(2.0 * f(s), 0.0))
    return float(hbar * omega / np.pi * np.exp(-np.trapezoid(p, s) / hbar))
