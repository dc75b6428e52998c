"""Vibrational density of states, its low-frequency power law, and the first phonon band.

Normalization. ``g(omega)`` counts modes per unit angular frequency divided by the number of
non-zero modes of the system, ``n_total = d N - (zero modes)``, so that it integrates to 1 over
the full spectrum; computed from a partial spectrum (the lowest modes) it keeps that
normalization and is valid up to the highest frequency computed. Reduced vDOS: ``g / omega^2``
(flat for Debye phonons in 3D). Cumulative: ``C(omega) = int_0^omega g = (number of modes below
omega) / n_total``; ``C / omega^5`` has a plateau where ``g ~ omega^4`` (thesis 001, Fig. 2.4).

Power-law tail ``g = A omega^beta`` on ``[omega_lo, omega_hi]`` (``beta = 4`` for QLMs in 3D,
thesis 001 Ch. 2 and papers 000, 003). Fit by maximum likelihood: the frequencies in the window
are treated as independent draws of the truncated density
``p(w) = gamma w^(gamma-1) / (hi^gamma - lo^gamma)``, ``gamma = beta + 1``, whose sufficient
statistics are the count ``n`` and ``S = sum log w``; for ``lo = 0``,
``gamma_hat = n / (n log hi - S)``. The confidence interval is the profile-likelihood one,
``2 (l(gamma_hat) - l(gamma)) <= chi2_1(conf)`` (for ``lo = 0`` the exact interval follows from
``n log hi - S ~ Gamma(n, 1/gamma)``, checked in the tests). Why not least squares on a log-log
plot: the histogram depends on the binning and its sparse low bins dominate the error, and the
cumulative count's residuals are strongly correlated, so the least-squares error bars are too
small; the maximum-likelihood estimate uses every mode once, needs no bins, is asymptotically
efficient and its interval has the nominal coverage. Modes of one sample are not independent
draws when phonons or QLM interactions correlate them; :class:`glassmodes.analysis.ensemble.ModeStatistics`
therefore also gives a bootstrap over samples.

First phonon band. The lowest transverse plane waves of a periodic box of side ``L`` have
``omega_ph = 2 pi c_T / L`` with ``c_T = sqrt(G / rho)`` the transverse sound speed (thesis 001,
Fig. 2.4 caption: "2 pi sqrt(G/rho)/L with G the athermal shear modulus"); for a non-cubic box
``L`` is the longest periodic box length (smallest wavevector). Without ``G``,
:func:`estimate_phonon_band` projects the computed modes on the transverse plane waves of the
smallest wavevectors and returns the weight-averaged ``omega^2`` over the computed modes below
twice the frequency of the heaviest-weighted mode (exact for a crystal, an estimate of the band
center for a glass; the captured fraction of the plane-wave weight says how reliable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats


@dataclass(frozen=True, eq=False)
class VDOS:
    """A binned vDOS.

    Attributes
    ----------
    edges : ndarray, shape=(nbins+1,)
        Bin edges, angular frequency units.
    counts : ndarray, shape=(nbins,)
        Number of modes per bin.
    g : ndarray, shape=(nbins,)
        ``counts / (n_total * width)``, units 1/omega.
    n_total : float
        Normalization (non-zero modes of the system(s)).
    """

    edges: np.ndarray
    counts: np.ndarray
    g: np.ndarray
    n_total: float

    @property
    def centers(self) -> np.ndarray:
        """Bin centers (geometric for log bins, arithmetic otherwise)."""
        e = self.edges
        if e[0] > 0 and np.allclose(np.diff(np.log(e)), np.log(e[1] / e[0])):
            return np.sqrt(e[:-1] * e[1:])
        return 0.5 * (e[:-1] + e[1:])

    @property
    def reduced(self) -> np.ndarray:
        """``g(omega) / omega^2`` at the bin centers, units 1/omega^3."""
        return self.g / self.centers ** 2


def vdos(omega: np.ndarray, bins, n_total: float, range: tuple | None = None) -> VDOS:
    """Histogram vDOS of the given frequencies (see module docs for the normalization).

    Parameters
    ----------
    omega : ndarray, shape=(k,)
        Angular frequencies (non-positive ones are ignored).
    bins : int or ndarray
        Number of linear bins over ``range`` or the edges.
    n_total : float
        Number of non-zero modes of the system (``d N - d`` for a periodic system), summed over
        samples for an ensemble.
    """
    w = np.asarray(omega, dtype=float)
    w = w[w > 0]
    counts, edges = np.histogram(w, bins=bins, range=range)
    g = counts / (n_total * np.diff(edges))
    return VDOS(edges=edges, counts=counts, g=g, n_total=float(n_total))


def cumulative(omega: np.ndarray, n_total: float) -> tuple[np.ndarray, np.ndarray]:
    """``(omega_sorted, C)`` with ``C_k = (k+1) / n_total`` the fraction of modes at or below omega_k."""
    w = np.sort(np.asarray(omega, dtype=float))
    w = w[w > 0]
    return w, np.arange(1, w.size + 1) / float(n_total)


@dataclass(frozen=True)
class PowerLawFit:
    """``g(omega) = amplitude * omega^beta`` on ``[omega_lo, omega_hi]``.

    ``beta_ci``: the confidence interval (``confidence``) of beta; ``n``: modes in the window;
    ``amplitude`` in 1/omega^(beta+1) such that the fitted g integrates to ``n / n_total`` there.
    """

    beta: float
    beta_ci: tuple
    confidence: float
    n: int
    omega_lo: float
    omega_hi: float
    amplitude: float
    method: str = "maximum likelihood, profile-likelihood interval"


def _loglik(gamma, n, S, lo, hi):
    if lo > 0:
        norm = np.log(hi ** gamma - lo ** gamma)
    else:
        norm = gamma * np.log(hi)
    return n * np.log(gamma) + (gamma - 1.0) * S - n * norm


def fit_power_law_stats(n: int, sum_log: float, omega_lo: float, omega_hi: float,
                        n_total: float = 1.0, confidence: float = 0.95) -> PowerLawFit:
    """Maximum-likelihood power law from the sufficient statistics ``n`` and ``sum log omega``."""
    if n < 2:
        raise ValueError(f"power-law fit needs at least 2 modes in [{omega_lo}, {omega_hi}], got {n}")
    lo, hi = float(omega_lo), float(omega_hi)
    if not 0 <= lo < hi:
        raise ValueError(f"need 0 <= omega_lo < omega_hi, got [{lo}, {hi}]")

    def negl(g):
        return -_loglik(g, n, sum_log, lo, hi)

    spread = n * np.log(hi) - sum_log  # sum of log(hi / omega) > 0 unless every omega equals hi
    if not spread > 1e-12 * n:
        raise ValueError(f"power-law fit: the {n} modes in the window all sit at its top {hi}")
    if lo == 0:
        g_hat = n / spread
    else:
        res = optimize.minimize_scalar(negl, bounds=(1e-6, 200.0), method="bounded",
                                       options={"xatol": 1e-12})
        g_hat = float(res.x)
    lmax = -negl(g_hat)
    crit = 0.5 * stats.chi2.ppf(confidence, 1)

    def f(g):
        return lmax + negl(g) - crit

    a = g_hat
    while f(a) < 0 and a > 1e-9:
        a *= 0.5
    b = g_hat
    while f(b) < 0 and b < 1e4:
        b *= 2.0
    lo_g = optimize.brentq(f, a, g_hat) if f(a) > 0 else 0.0
    hi_g = optimize.brentq(f, g_hat, b)
    amp = (n / n_total) * g_hat / (hi ** g_hat - lo ** g_hat)
    return PowerLawFit(beta=g_hat - 1.0, beta_ci=(lo_g - 1.0, hi_g - 1.0), confidence=confidence, n=int(n),
                       omega_lo=lo, omega_hi=hi, amplitude=float(amp))


def fit_power_law(omega: np.ndarray, omega_hi: float, omega_lo: float = 0.0, n_total: float = 1.0,
                  confidence: float = 0.95) -> PowerLawFit:
    """Maximum-likelihood fit of ``g ~ omega^beta`` to the frequencies in ``(omega_lo, omega_hi]``.

    >>> rng = np.random.default_rng(1)
    >>> w = rng.uniform(size=20000) ** (1 / 5)        # density ~ w^4 on [0, 1]
    >>> fit = fit_power_law(w, 1.0)
    >>> bool(fit.beta_ci[0] < 4 < fit.beta_ci[1] and abs(fit.beta - 4) < 0.1)
    True
    """
    w = np.asarray(omega, dtype=float)
    sel = (w > omega_lo) & (w <= omega_hi)
    return fit_power_law_stats(int(sel.sum()), float(np.log(w[sel]).sum()), omega_lo, omega_hi,
                               n_total, confidence)


def phonon_band_frequency(c_t: float, box_length: float) -> float:
    """``omega_ph = 2 pi c_T / L``: lowest transverse plane wave of a periodic box (angular)."""
    return 2.0 * np.pi * float(c_t) / float(box_length)


def debye_level(number_density: float, c_t: float, c_l: float) -> float:
    """Debye level of the reduced vDOS in 3D, ``g_D(omega) / omega^2 = 3 / omega_D^3``.

    With ``g`` normalized per non-zero mode (module docs: it integrates to 1), a Debye solid of
    number density ``n = N / V`` has ``g_D = V omega^2 (1/c_L^3 + 2/c_T^3) / (2 pi^2 3N)`` below the
    Debye frequency, so ``g_D / omega^2 = (1/c_L^3 + 2/c_T^3) / (6 pi^2 n)`` and
    ``omega_D^3 = 18 pi^2 n / (1/c_L^3 + 2/c_T^3)`` (Kittel, Introduction to Solid State Physics,
    ch. 5). Units: ``1/omega^3``.

    >>> lvl = debye_level(1.0, 1.0, 1.0)                # one branch speed: omega_D^3 = 6 pi^2 n
    >>> bool(np.isclose(3 / lvl, 6 * np.pi ** 2))
    True
    """
    n, ct, cl = float(number_density), float(c_t), float(c_l)
    if not (n > 0 and ct > 0 and cl > 0):
        raise ValueError(f"Debye level needs positive density and sound speeds, got n={n}, c_T={ct}, c_L={cl}")
    return (1.0 / cl ** 3 + 2.0 / ct ** 3) / (6.0 * np.pi ** 2 * n)


def shear_wave_speed(shear_modulus: float, density: float) -> float:
    """``c_T = sqrt(G / rho)`` (mass density: total mass / volume, unit style's units)."""
    return float(np.sqrt(shear_modulus / density))


def box_matrix(box: dict, dimension: int) -> np.ndarray:
    """Edge vectors of a LAMMPS box (sidecar ``box`` dict) as rows, shape=(d, d)."""
    lo, hi = np.asarray(box["boxlo"], float), np.asarray(box["boxhi"], float)
    lx, ly, lz = hi - lo
    h = np.array([[lx, 0, 0], [box.get("xy", 0.0), ly, 0], [box.get("xz", 0.0), box.get("yz", 0.0), lz]])
    return h[:dimension, :dimension]


def lowest_wavevectors(box: dict, dimension: int) -> np.ndarray:
    """Smallest nonzero reciprocal vectors of the periodic directions, shape=(m, d)."""
    h = box_matrix(box, dimension)
    recip = 2 * np.pi * np.linalg.inv(h).T  # rows b_k with a_i . b_k = 2 pi delta_ik
    per = box.get("periodicity", [1] * 3)[:dimension]
    qs = np.array([recip[k] for k in range(dimension) if per[k]])
    if qs.size == 0:
        raise ValueError("no periodic direction: no phonon band")
    norms = np.linalg.norm(qs, axis=1)
    return qs[norms <= norms.min() * (1 + 1e-9)]


def longest_box_length(box: dict, dimension: int) -> float:
    """``2 pi / |q_min|``: the box length that sets the lowest plane wave."""
    q = lowest_wavevectors(box, dimension)
    return float(2 * np.pi / np.linalg.norm(q[0]))


@dataclass(frozen=True)
class PhononBandEstimate:
    """Estimated first transverse phonon band from computed modes.

    ``omega_ph`` angular frequency; ``c_t = omega_ph L / 2 pi``; ``captured``: fraction of the
    plane waves' weight held by the computed modes (near 1: the band is fully computed).
    """

    omega_ph: float
    c_t: float
    box_length: float
    captured: float
    n_plane_waves: int


def transverse_plane_waves(positions: np.ndarray, masses: np.ndarray, box: dict, dimension: int,
                           polarization: str = "transverse") -> np.ndarray:
    """Mass-weighted, normalized plane waves of the smallest wavevectors, shape=(dN, m).

    For each lowest ``q`` and each of the ``d-1`` unit polarizations ``p`` normal to it
    (``polarization="transverse"``; ``"longitudinal"``: ``p`` along ``q``),
    ``sqrt(m_i) p cos(q . x_i)`` and ``sqrt(m_i) p sin(q . x_i)``.
    """
    if polarization not in ("transverse", "longitudinal"):
        raise ValueError(f"polarization must be transverse or longitudinal, got {polarization!r}")
    x = np.asarray(positions, dtype=float)[:, :dimension]
    sm = np.sqrt(np.asarray(masses, dtype=float))
    waves = []
    for q in lowest_wavevectors(box, dimension):
        qh = q / np.linalg.norm(q)
        if polarization == "transverse":
            basis = np.linalg.svd(np.eye(dimension) - np.outer(qh, qh))[0][:, : dimension - 1]
        else:
            basis = qh[:, None]
        phase = x @ q
        for f in (np.cos(phase), np.sin(phase)):
            for p in basis.T:
                v = (sm * f)[:, None] * p[None, :]
                waves.append(v.ravel())
    W = np.column_stack(waves)
    return W / np.linalg.norm(W, axis=0)


def estimate_phonon_band(omega: np.ndarray, vectors: np.ndarray, positions: np.ndarray, masses: np.ndarray,
                         box: dict, dimension: int, polarization: str = "transverse") -> PhononBandEstimate:
    """First transverse (or longitudinal) phonon band from computed modes (method in the module docs).

    Parameters
    ----------
    omega : ndarray, shape=(k,)
        Angular frequencies of the computed modes.
    vectors : ndarray, shape=(d*N, k)
        Their mass-weighted eigenvectors.
    positions : ndarray, shape=(N, >=d)
    masses : ndarray, shape=(N,)
    box : dict
        The Hessian sidecar's box.
    polarization : "transverse" or "longitudinal"
        Which plane waves; the result's ``c_t`` is then the speed of that branch.
    """
    W = transverse_plane_waves(positions, masses, box, dimension, polarization)
    weight = np.sum((W.T @ vectors) ** 2, axis=0)  # (k,)
    omega = np.asarray(omega, dtype=float)
    peak = omega[np.argmax(weight)]
    sel = (omega > 0) & (omega <= 2 * peak)
    w2 = np.sum(weight[sel] * omega[sel] ** 2) / np.sum(weight[sel])
    L = longest_box_length(box, dimension)
    om = float(np.sqrt(w2))
    return PhononBandEstimate(omega_ph=om, c_t=om * L / (2 * np.pi), box_length=L,
                              captured=float(weight.sum() / W.shape[1]), n_plane_waves=W.shape[1])
