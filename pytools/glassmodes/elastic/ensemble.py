"""Sample-to-sample statistics of a modulus: the disorder parameter gamma and the left tail.

* ``gamma(N) = N (Delta mu / <mu>)^2`` (Kapteijns, PhD thesis, Eq. 5.7), Delta mu the standard
  deviation of the modulus mu over independent samples of N particles; 95 % interval from a
  bootstrap over samples (the distribution has a fat left tail, thesis Eq. 5.5, so the variance
  converges slowly: design note B7.7).
* The left tail ``P(mu) ~ (<mu> - mu)^-7/2`` below ``<mu> - Delta mu`` (thesis Eq. 5.5) and the
  sample skewness (negative: left-skewed).
"""

from __future__ import annotations

import numpy as np

from glassmodes.elastic.terms import ElasticError


def skewness(x: np.ndarray) -> float:
    """Sample skewness ``m3 / m2^(3/2)`` (biased moments)."""
    x = np.asarray(x, dtype=float)
    c = x - x.mean()
    m2 = np.mean(c ** 2)
    return float(np.mean(c ** 3) / m2 ** 1.5) if m2 > 0 else 0.0


def disorder_parameter(mu: np.ndarray, natoms: int, n_bootstrap: int = 2000, confidence: float = 0.95,
                       seed: int = 0) -> dict:
    """gamma = N var(mu)/<mu>^2 with a percentile bootstrap interval over the samples.

    Parameters
    ----------
    mu : ndarray, shape=(S,)
        One modulus per sample (e.g. ``G_thesis``), S >= 3.
    natoms : int
        N of every sample.

    Returns
    -------
    dict
        ``gamma``, ``gamma_ci`` (lo, hi), ``mean``, ``std`` (ddof 1), ``std_sqrtN``, ``skewness``,
        ``skewness_ci``, ``n_samples``, ``natoms``, ``confidence``, ``n_bootstrap``, and ``gamma_core``
        = ``N (IQR/1.349 / median)^2``, the same number for the Gaussian core alone (insensitive to
        the fat left tail; supplementary, not the thesis' gamma).

    >>> r = disorder_parameter(np.random.default_rng(1).normal(10.0, 0.5, 4000), natoms=100)
    >>> bool(abs(r["gamma"] - 100 * 0.05 ** 2) < 0.02)
    True
    """
    x = np.asarray(mu, dtype=float)
    if x.ndim != 1 or x.size < 3:
        raise ElasticError(f"need at least 3 samples for gamma, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ElasticError("a modulus is NaN or infinite")

    def gam(v):
        return natoms * np.var(v, ddof=1) / np.mean(v) ** 2

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_bootstrap, x.size))
    boot = np.array([gam(x[i]) for i in idx])
    bskew = np.array([skewness(x[i]) for i in idx])
    a = (1 - confidence) / 2
    return {"gamma": float(gam(x)), "gamma_ci": [float(np.quantile(boot, a)), float(np.quantile(boot, 1 - a))],
            "mean": float(x.mean()), "std": float(x.std(ddof=1)), "std_sqrtN": float(x.std(ddof=1) * np.sqrt(natoms)),
            "gamma_core": float(natoms * (np.subtract(*np.quantile(x, [0.75, 0.25])) / 1.349 / np.median(x)) ** 2),
            "skewness": skewness(x), "skewness_ci": [float(np.quantile(bskew, a)), float(np.quantile(bskew, 1 - a))],
            "n_samples": int(x.size), "natoms": int(natoms), "confidence": confidence, "n_bootstrap": n_bootstrap}


def left_tail(mu: np.ndarray, bins: int = 12) -> dict:
    """Histogram of ``<mu> - mu`` over the samples below ``<mu> - Delta mu`` (log-spaced bins).

    Returns
    -------
    dict
        ``x`` (bin centres of <mu> - mu), ``density`` (per unit mu, normalized by all samples),
        ``count``, ``slope`` (maximum-likelihood exponent of a power-law density above the smallest
        tail deviation x_min: ``-(1 + n / sum ln(x/x_min))``, Clauset, Shalizi and Newman, SIAM
        Rev. 2009; thesis: -7/2), ``slope_error`` (its standard error ``(|slope| - 1)/sqrt(n)``),
        ``n_tail``.
    """
    x = np.asarray(mu, dtype=float)
    m, s = x.mean(), x.std(ddof=1)
    dev = m - x[x < m - s]
    if dev.size < 5:
        return {"x": [], "density": [], "count": [], "slope": None, "slope_error": None, "n_tail": int(dev.size)}
    edges = np.geomspace(dev.min(), dev.max() * (1 + 1e-12), bins + 1)
    cnt, _ = np.histogram(dev, edges)
    dens = cnt / (x.size * np.diff(edges))
    c = np.sqrt(edges[:-1] * edges[1:])
    logs = np.log(dev / dev.min())
    alpha = 1 + dev.size / logs.sum() if logs.sum() > 0 else np.inf
    return {"x": c.tolist(), "density": dens.tolist(), "count": cnt.tolist(), "slope": float(-alpha),
            "slope_error": float((alpha - 1) / np.sqrt(dev.size)), "n_tail": int(dev.size)}
