"""Harmonic (T = 0) attenuation of transverse plane waves from a complete set of modes.

Method (design note B5; not given in Kapteijns' thesis, which cites its refs. for it):

* Transverse plane waves ``|k, p>`` with ``k = 2 pi h^-T n`` (n integer, h the box matrix) and
  p perpendicular to k, mass-weighted (``sqrt(m_i) p cos(k.x_i)`` and the sin partner), unit norm.
* The spectral line of a shell |n|^2 = s: ``F_s(omega) = sum_l w_l delta(omega - omega_l)`` with
  ``w_l`` the mean over the shell's waves of ``<e_l|k, p>^2``, normalized to sum 1.
* A Lorentzian in omega with centre Omega and full width at half maximum Gamma is fitted to the
  cumulative weight (quartiles at Omega -+ Gamma/2). Gamma is the *energy* decay rate: the wave's
  displacement autocorrelation is ``cos(Omega t) exp(-Gamma t / 2)``, the convention of
  docs/lifetimes.md.
* Line-resolution test: the line must hold ``n_line = Gamma g(Omega) >= min_modes`` modes
  (g = modes per unit omega around Omega); below it F_s is a few spikes and Gamma is meaningless
  (the thesis' finite-size exclusion).
* Rayleigh analysis: log-slope of Gamma(Omega) over resolved shells (expected d + 1 = 3 in 2D,
  thesis Eq. 5.1), amplitude Gamma/Omega^(d+1), Ioffe-Regel crossing pi Gamma = Omega.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from glassmodes.elastic.terms import ElasticError, box_matrix


def shell_vectors(box: dict, dim: int, shell: int) -> np.ndarray:
    """Wavevectors of the shell ``|n|^2 = shell`` (one of each +-k pair), shape=(m, d), 1/distance."""
    r = int(np.floor(np.sqrt(shell)))
    h = box_matrix(box, dim)
    recip = 2 * np.pi * np.linalg.inv(h).T
    out = []
    for n in itertools.product(range(-r, r + 1), repeat=dim):
        n = np.array(n)
        if n @ n != shell:
            continue
        first = n[np.flatnonzero(n)[0]]
        if first < 0:          # k and -k give the same pair of cos/sin waves
            continue
        out.append(recip @ n)
    return np.array(out).reshape(-1, dim)


def transverse_waves(positions: np.ndarray, masses: np.ndarray, kvecs: np.ndarray) -> np.ndarray:
    """Mass-weighted unit transverse plane waves, cos and sin for each k and polarization, (d*N, 2 m (d-1))."""
    x = np.asarray(positions, dtype=float)
    dim = x.shape[1]
    sm = np.sqrt(np.asarray(masses, dtype=float))
    cols = []
    for k in kvecs:
        kh = k / np.linalg.norm(k)
        pol = np.linalg.svd(np.eye(dim) - np.outer(kh, kh))[0][:, : dim - 1]
        phase = x @ k
        for f in (np.cos(phase), np.sin(phase)):
            for p in pol.T:
                cols.append(((sm * f)[:, None] * p[None, :]).ravel())
    W = np.column_stack(cols)
    return W / np.linalg.norm(W, axis=0)


def lorentzian_fit(omega: np.ndarray, weights: np.ndarray, grid: int = 0) -> tuple:
    """Centre and FWHM of a Lorentzian fitted to the cumulative weight of a discrete line.

    Least squares of ``W(omega_l) = c + A [1/2 + arctan((omega_l - Omega)/(Gamma/2))/pi]`` against
    the mid-step cumulative weights (c and A absorb the tails cut off by the finite spectrum);
    starts at the weighted median and the interquartile range.

    >>> rng = np.random.default_rng(0)
    >>> w = np.linspace(0.01, 10, 20000); wt = 1 / ((w - 3) ** 2 + 0.25 ** 2)
    >>> [round(v, 3) for v in lorentzian_fit(w, wt / wt.sum())]
    [3.0, 0.5]
    """
    from scipy.optimize import least_squares

    o = np.asarray(omega, dtype=float)
    w = np.asarray(weights, dtype=float)
    o, inv = np.unique(o, return_inverse=True)     # sorted; equal nodes (pooled copies) merged
    w = np.bincount(inv.ravel(), weights=w, minlength=o.size)
    w = w / w.sum()
    cum = np.cumsum(w) - 0.5 * w
    q = np.interp([0.25, 0.5, 0.75], cum, o)
    x0 = [q[1], max(q[2] - q[0], 1e-12)]
    if grid:
        # the cumulative weight on a fixed grid between its 2 % and 98 % points: the fit then does not
        # depend on where the nodes lie (modes vs quadrature nodes)
        lo, hi = np.interp([0.02, 0.98], cum, o)
        xs = np.linspace(lo, hi, int(grid))
        ys = np.interp(xs, o, cum)
    else:
        sel = w > 1e-12 * w.max()
        xs, ys = o[sel], cum[sel]

    def resid(p):
        return p[2] + p[3] * (0.5 + np.arctan((xs - p[0]) / (0.5 * abs(p[1]))) / np.pi) - ys

    fit = least_squares(resid, x0 + [0.0, 1.0], x_scale=[x0[1], x0[1], 0.01, 0.01])
    return float(fit.x[0]), float(abs(fit.x[1]))


@dataclass(frozen=True)
class SpectralLine:
    """The transverse line of one shell.

    Attributes
    ----------
    shell : int
        |n|^2.
    k : float
        |k| (1/distance; the shell's mean for a triclinic cell).
    omega_center, gamma : float
        Lorentzian centre and FWHM (energy decay rate), the mode file's omega unit.
    n_line : float
        Gamma g(Omega): modes within the line.
    resolved : bool
        ``n_line >= min_modes``.
    nwaves : int
        Plane waves averaged.
    captured : float
        Sum of the raw weights over the stored modes (1 when the set is complete).
    omega_static : float
        ``(sum_l w_l / omega_l^2)^-1/2``: the frequency of the wave's relaxed static stiffness
        ``<k,p|D^+|k,p>^-1``, which tends to ``c_T k`` (relaxed moduli) as k -> 0 whether or not
        the line is resolved.
    samples : int
        Samples pooled in the line (``n_line / samples`` modes per sample).
    """

    shell: int
    k: float
    omega_center: float
    gamma: float
    n_line: float
    resolved: bool
    nwaves: int
    captured: float
    omega_static: float
    samples: int = 1


@dataclass
class ShellMeasure:
    """The spectral measure of one shell in one sample, averaged over its plane waves.

    Attributes
    ----------
    shell : int
        |n|^2.
    k : float
        Mean |k| of the shell (1/distance).
    omega : ndarray, shape=(n,)
        Nodes (the modes' frequencies, or Gauss-quadrature nodes), rad/time.
    weights : ndarray, shape=(n,)
        Mean squared overlaps (modes) or mean quadrature weights (Lanczos).
    nwaves : int
        Plane waves averaged.
    captured : float
        ``weights.sum()`` (1 for a complete measure).
    count : callable
        ``count(lo, hi)`` -> number of eigenmodes of the sample with lo <= omega <= hi.
    """

    shell: int
    k: float
    omega: np.ndarray
    weights: np.ndarray
    nwaves: int
    captured: float
    count: object


def _pooled_lorentzian(measures: list, grid: int) -> tuple:
    """(Omega, Gamma, nodes, weights) of the Lorentzian fitted to the measures pooled with weight 1/S each."""
    if not measures:
        raise ElasticError("no measures to fit")
    om = np.concatenate([m.omega for m in measures])
    w = np.concatenate([m.weights / m.weights.sum() / len(measures) for m in measures])
    if np.any(om <= 0):
        raise ElasticError("spectral lines need positive frequencies (zero/unstable modes removed)")
    centre, gamma = lorentzian_fit(om, w, grid)
    return centre, gamma, om, w


def bootstrap_lines(groups: list, n_boot: int, seed: int = 0, grid: int = 400) -> np.ndarray:
    """Bootstrap over samples of pooled lines: the samples are resampled with replacement, the same for
    every line of a group, and each line's Lorentzian is refitted.

    Parameters
    ----------
    groups : list of (scale, lines)
        One entry per ensemble (e.g. per N): ``scale(pick)`` a callable that returns the divisor of the
        refitted Omega and Gamma for the resampled sample indices ``pick`` (e.g. omega0 from the
        resample's mean G; ``None``: no division), ``lines`` a list of per-sample measure lists
        (``lines[l][i]``: sample i, line l; all of the same sample count).
    n_boot : int
        Resamples.

    Returns
    -------
    ndarray, shape=(n_boot, total lines, 2)
        (Omega, Gamma) per resample and line, the lines of the groups in order. The mode counts
        (resolution) are not recomputed: the caller keeps the full ensemble's selection.
    """
    rng = np.random.default_rng(seed)
    nlines = sum(len(lines) for _, lines in groups)
    out = np.empty((int(n_boot), nlines, 2))
    for b in range(int(n_boot)):
        col = 0
        for scale, lines in groups:
            if not lines:
                continue
            ns = len(lines[0])
            pick = rng.integers(0, ns, ns)
            div = 1.0 if scale is None else float(scale(pick))
            for per_sample in lines:
                c, g, _, _ = _pooled_lorentzian([per_sample[i] for i in pick], grid)
                out[b, col] = (c / div, g / div)
                col += 1
    return out


def fit_line(measures: list, min_modes: float = 10.0, grid: int = 400) -> SpectralLine:
    """Fit one Lorentzian to the ensemble-averaged measure of a shell over samples.

    Every sample's measure is normalized to 1 and weighted 1/S; the fit is
    :func:`lorentzian_fit` on the pooled nodes. ``n_line = Gamma g(Omega)`` counts the modes of
    all samples in ``[Omega - Gamma, Omega + Gamma]`` (halved: g is per unit omega), so the
    resolution test applies to the ensemble line; ``omega_static`` is that of the pooled measure.
    With one sample this is the single-sample line of :func:`spectral_lines`.

    Parameters
    ----------
    measures : list of ShellMeasure
        One per sample, all of the same shell.
    """
    centre, gamma, om, w = _pooled_lorentzian(measures, grid)
    n_in = sum(m.count(centre - gamma, centre + gamma) for m in measures) if gamma > 0 else 0
    n_line = 0.5 * n_in
    return SpectralLine(shell=measures[0].shell, k=float(np.mean([m.k for m in measures])), omega_center=centre,
                        gamma=gamma, n_line=float(n_line), resolved=bool(n_line >= min_modes),
                        nwaves=int(sum(m.nwaves for m in measures)),
                        captured=float(np.mean([m.captured for m in measures])),
                        omega_static=float(np.sum(w / om ** 2) ** -0.5), samples=len(measures))


def mode_measures(omega: np.ndarray, vectors: np.ndarray, positions: np.ndarray, masses: np.ndarray, box: dict,
                  shells=(1, 2, 3, 4, 5)) -> list:
    """Shell measures of one sample from its modes (omega > 0, mass-weighted unit vectors), list of ShellMeasure."""
    x = np.asarray(positions, dtype=float)
    dim = x.shape[1]
    om = np.asarray(omega, dtype=float)
    if np.any(om <= 0):
        raise ElasticError("spectral lines need positive frequencies (zero/unstable modes removed)")
    srt = np.sort(om)

    def count(lo, hi):
        return int(np.searchsorted(srt, hi, side="right") - np.searchsorted(srt, lo, side="left"))

    out = []
    for s in shells:
        ks = shell_vectors(box, dim, int(s))
        if ks.size == 0:
            continue
        W = transverse_waves(x, masses, ks)
        raw = np.mean((vectors.T @ W) ** 2, axis=1)
        out.append(ShellMeasure(shell=int(s), k=float(np.mean(np.linalg.norm(ks, axis=1))), omega=om, weights=raw,
                                nwaves=int(W.shape[1]), captured=float(raw.sum()), count=count))
    return out


def spectral_lines(omega: np.ndarray, vectors: np.ndarray, positions: np.ndarray, masses: np.ndarray, box: dict,
                   shells=(1, 2, 3, 4, 5), min_modes: float = 10.0) -> list:
    """Transverse spectral lines of the given shells from all modes (omega > 0) and their eigenvectors.

    Parameters
    ----------
    omega : ndarray, shape=(n,)
        Angular frequencies (zero modes excluded).
    vectors : ndarray, shape=(d*N, n)
        Mass-weighted unit eigenvectors.
    positions : ndarray, shape=(N, d)
    masses : ndarray, shape=(N,)
    box : dict
        Cell (Hessian sidecar layout).
    """
    return [fit_line([m], min_modes) for m in mode_measures(omega, vectors, positions, masses, box, shells)]


def lanczos_measures(D, positions: np.ndarray, masses: np.ndarray, box: dict, shells, c_t: float,
                     steps: int = 200, sigma_scale: float = 1.0) -> list:
    """Shell measures of one sample by shift-invert Lanczos, without modes (:mod:`glassmodes.elastic.lanczos`).

    Parameters
    ----------
    D : sparse matrix, shape=(d*N, d*N)
        Dynamical matrix ``M^-1/2 H M^-1/2`` (1/time^2), e.g. ``Hessian.dynamical_matrix()``.
    positions, masses, box
        As in :func:`spectral_lines`.
    shells : iterable of int
        |n|^2 of the shells.
    c_t : float
        Transverse sound speed (distance/time) that places the shift ``sigma = (sigma_scale c_t k)^2``
        near each line, e.g. ``sqrt(G_thesis/rho)``; the result does not depend on it once
        ``steps`` resolves the line (checked in tests/test_attenuation_lanczos.py).
    steps : int
        Lanczos steps per plane wave.

    Returns
    -------
    list of ShellMeasure
        ``count`` is the exact Sylvester count of modes in a window (two factorizations per call).
    """
    from glassmodes.elastic.lanczos import SymmetricShift, eigen_count, line_measure, project_translations

    x = np.asarray(positions, dtype=float)
    dim = x.shape[1]
    if D.shape[0] != x.size:
        raise ElasticError(f"D has {D.shape[0]} rows, positions give {x.size} degrees of freedom")
    if not c_t > 0:
        raise ElasticError(f"the sound speed c_t must be positive, got {c_t}")

    def count(lo, hi):
        return eigen_count(D, hi ** 2) - eigen_count(D, max(lo, 0.0) ** 2) if hi > max(lo, 0.0) else 0

    out = []
    for s in shells:
        ks = shell_vectors(box, dim, int(s))
        if ks.size == 0:
            continue
        kk = float(np.mean(np.linalg.norm(ks, axis=1)))
        shift = SymmetricShift(D, (sigma_scale * c_t * kk) ** 2)
        W = transverse_waves(x, masses, ks)
        nodes, wts = [], []
        for v in W.T:
            o, w, _ = line_measure(shift, project_translations(v, masses, dim), steps)
            nodes.append(o)
            wts.append(w / W.shape[1])
        wt = np.concatenate(wts)
        out.append(ShellMeasure(shell=int(s), k=kk, omega=np.concatenate(nodes), weights=wt, nwaves=int(W.shape[1]),
                                captured=float(wt.sum()), count=count))
    return out


def rayleigh_analysis(lines: list, dim: int, omega0: float | None = None) -> dict:
    """Log-slope and amplitude of Gamma(Omega) over the resolved lines, and the Ioffe-Regel crossing.

    Parameters
    ----------
    omega0 : float, optional
        Reduced-frequency scale c_s/a0 (thesis Eq. 5.1); the amplitude is then
        ``(Gamma/omega0) / (Omega/omega0)^(d+1)``.

    Returns
    -------
    dict
        ``slope`` (None with fewer than 2 resolved lines), ``amplitude`` (median of
        Gamma/Omega^(d+1), reduced with omega0 if given), ``omega_ir`` (first Omega with
        pi Gamma >= Omega, log-interpolated; None if none), ``n_resolved``, ``range``.
    """
    ok = [l for l in lines if l.resolved]
    om = np.array([l.omega_center for l in ok])
    ga = np.array([l.gamma for l in ok])
    out = {"n_resolved": len(ok), "n_lines": len(lines), "slope": None, "amplitude": None, "omega_ir": None,
           "range": [float(om.min()), float(om.max())] if ok else None, "expected_slope": dim + 1}
    if len(ok) >= 2:
        out["slope"] = float(np.polyfit(np.log(om), np.log(ga), 1)[0])
    if ok:
        s = omega0 if omega0 else 1.0
        out["amplitude"] = float(np.median((ga / s) / (om / s) ** (dim + 1)))
        out["amplitude_reduced"] = omega0 is not None
    allo = np.array([l.omega_center for l in lines])
    allg = np.array([l.gamma for l in lines])
    order = np.argsort(allo)
    allo, allg = allo[order], allg[order]
    q = np.pi * allg / allo
    above = np.flatnonzero(q >= 1)
    if above.size and above[0] > 0:
        a = above[0]
        t = (np.log(1) - np.log(q[a - 1])) / (np.log(q[a]) - np.log(q[a - 1]))
        out["omega_ir"] = float(np.exp(np.log(allo[a - 1]) + t * (np.log(allo[a]) - np.log(allo[a - 1]))))
    return out
