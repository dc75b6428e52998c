"""Ensemble statistics of modes over many samples, streaming (memory independent of their number).

:class:`ModeStatistics` is a compute object in the style of freud: parameters in the
constructor, ``compute(sample, reset=True)`` returns ``self``, results are properties that raise
before the first ``compute``, ``reset=False`` accumulates further samples.

What is kept per bin of angular frequency (fixed bins, chosen up front or from the first
sample): mode counts, sums of PR and of N*PR, QLM counts, counts per category of Xiang et al. (2022).
Besides: the number of non-zero modes of all samples (the vDOS normalization), the lowest
frequency up to which every sample's spectrum is complete, the sufficient statistics of the
power-law fit (count and sum of log omega in the fit window) with a Poisson bootstrap over
samples (``n_bootstrap`` replicate accumulators, each sample entering replicate ``b`` with a
Poisson(1) weight: the online equivalent of resampling samples with replacement, which keeps the
within-sample correlation of modes), and a reservoir sample of at most ``max_scatter``
(omega, PR) points for the scatter plot.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from glassmodes.analysis.classify import (
    CATEGORY_NAMES, QUASI_LOCALIZED, classify_four, criterion, omega_qvm_of, qlm_rule_text,
)
from glassmodes.analysis.degenerate import level_participation_ratio, positive_modes
from glassmodes.analysis.vdos import (
    VDOS, PowerLawFit, debye_level, estimate_phonon_band, fit_power_law_stats, longest_box_length,
    phonon_band_frequency,
)


MIN_FIT_MODES = 10
#: Fewest modes in the window for a power-law fit to be drawn on a figure (fewer: the figure says
#: why no fit is drawn; the summary keeps the numbers with ``"reliable": false``). At n = 50 the
#: 95 % interval of beta is about +-1.4 wide for beta = 4 (relative error of gamma ~ 1/sqrt(n)).
MIN_SHOWN_FIT_MODES = 50


def default_fit_top(omega: np.ndarray, omega_qvm: float) -> float:
    """Top of the default power-law window: ``omega_qvm`` (the QLM-dominated tail, below the first
    mode with PR >= threshold) if at least ``MIN_FIT_MODES`` modes lie below it, else the
    frequency of the ``max(MIN_FIT_MODES, 1 %)``-th lowest mode."""
    w = np.sort(np.asarray(omega, dtype=float))
    if w.size == 0:
        return math.nan
    below = int(np.sum(w < omega_qvm)) if math.isfinite(omega_qvm) else 0
    if below >= MIN_FIT_MODES:
        return float(np.nextafter(omega_qvm, -np.inf))
    j = min(w.size - 1, max(MIN_FIT_MODES, w.size // 100) - 1)
    return float(w[j])


class _Sample:
    """The per-sample quantities the statistics need, from Modes or a mode file."""

    def __init__(self, source, want_vectors: bool):
        from glassmodes.modes import Modes
        from glassmodes.modes.modefile import ModeFile

        self.vectors = None
        if isinstance(source, (str, os.PathLike)):
            with ModeFile(Path(source)) as mf:
                self._from_file(mf, want_vectors)
            self.name = str(source)
        elif isinstance(source, ModeFile):
            self._from_file(source, want_vectors)
            self.name = str(source.path)
        elif isinstance(source, Modes):
            self.omega = np.asarray(source.omega, dtype=float)
            self.dimension, self.units, self.natoms = source.dimension, source.units, source.natoms
            self.omega_unit = source.omega_unit
            if source.vectors is None:
                raise ValueError("Modes without eigenvectors: participation ratios unknown")
            # basis-independent inside degenerate levels (issue 20), as write_modes stores it
            self.pr = level_participation_ratio(source.eigenvalues, source.vectors, source.dimension)
            self.zero = source.info.zero_modes.count
            self.complete_below = source.info.complete_below
            self.meta, self.atoms = source.meta, source.atoms
            if want_vectors:
                self.vectors = source.vectors
            self.name = "<Modes>"
        else:
            raise TypeError(f"cannot compute statistics of {type(source).__name__}")
        self.n_total = self.dimension * self.natoms - self.zero
        # issue 20: modes with omega <= 0 (zero modes within the tolerance) enter no statistic
        keep, self.note = positive_modes(self.omega)
        if self.note:
            self.omega, self.pr = self.omega[keep], self.pr[keep]
            self.n_total -= int(np.sum(~keep))
            if self.vectors is not None:
                self.vectors = self.vectors[:, keep]

    def _from_file(self, mf, want_vectors):
        self.omega = mf.frequencies
        self.pr = mf.participation_ratio
        self.dimension, self.units, self.natoms = mf.dimension, mf.units, mf.natoms
        self.omega_unit = mf.omega_unit
        info = mf.solver
        self.zero = info.zero_modes.count
        self.complete_below = info.complete_below
        self.meta, self.atoms = mf.meta, mf.atoms
        if want_vectors and mf.vector_index.size == mf.nmodes:
            self.vectors = mf.vectors()

    @property
    def omega_complete(self) -> float:
        """Angular frequency up to which this sample's spectrum is complete."""
        if self.omega.size >= self.n_total or math.isinf(self.complete_below):
            return math.inf
        from glassmodes.modes.core import omega_from_eigenvalues

        if math.isfinite(self.complete_below):
            return float(omega_from_eigenvalues(self.complete_below, self.units))
        return float(self.omega.max()) if self.omega.size else 0.0


class ModeStatistics:
    """vDOS, PR and QLM statistics of an ensemble of samples (see module docs).

    Parameters
    ----------
    bins : int or array
        Number of frequency bins (over ``omega_range``, or the first sample's range) or edges.
    omega_range : (float, float), optional
        Range of the bins, angular frequency units of the samples.
    log_bins : bool
        Logarithmic bins (for log-log vDOS plots).
    preset : str or None
        QLM criterion (:data:`glassmodes.analysis.classify.PRESETS`): "xiang", "khomenko", "kumar".
    pr_threshold : float, optional
        Replaces the preset's threshold.
    omega_max_qlm : float, optional
        QLMs are modes with PR below the threshold and omega <= this; default: omega below the
        sample's ``omega_qvm`` (its lowest mode with PR >= the threshold). Either way QLMs are soft
        and localized: the hybridized and high-frequency localized modes are counted apart
        (:mod:`glassmodes.analysis.classify`).
    fit_range : (float, float), optional
        Window of the power-law fit; default from the first sample (:func:`default_fit_top`):
        ``(0, omega_qvm)``, below its first mode with PR >= the threshold (the QLM-dominated
        tail), or its lowest 1 % of modes (at least 10) when fewer modes lie there.
    confidence : float
        Confidence level of the intervals.
    n_bootstrap : int
        Replicates of the Poisson bootstrap over samples (0: none).
    max_scatter : int
        Reservoir size of the (omega, PR) scatter sample.
    phonon : bool
        Estimate the first transverse phonon band of each sample from its eigenvectors.
    c_t : float, optional
        Transverse sound speed ``sqrt(G/rho)`` (distance/time units): the first phonon band is then
        ``2 pi c_t / L`` with ``L`` from the first sample's box; with ``c_l`` also the Debye level.
    c_l : float, optional
        Longitudinal sound speed ``sqrt((K + 4G/3)/rho)`` (3D), for the Debye level of the reduced
        vDOS (:func:`glassmodes.analysis.vdos.debye_level`); default: the eigenvector estimate
        when ``phonon`` is on.
    seed : int
        Random seed (bootstrap weights, reservoir).
    """

    def __init__(self, bins=60, omega_range=None, log_bins: bool = True, preset: str | None = "xiang",
                 pr_threshold: float | None = None, omega_max_qlm: float | None = None, fit_range=None,
                 confidence: float = 0.95, n_bootstrap: int = 200, max_scatter: int = 20000,
                 phonon: bool = False, c_t: float | None = None, c_l: float | None = None, seed: int = 0):
        self.criterion = criterion(preset, pr_threshold)
        self.bins, self.omega_range, self.log_bins = bins, omega_range, log_bins
        self.omega_max_qlm = omega_max_qlm
        self.fit_range = None if fit_range is None else (float(fit_range[0]), float(fit_range[1]))
        self.confidence, self.n_bootstrap, self.max_scatter = confidence, int(n_bootstrap), int(max_scatter)
        self.phonon, self.c_t, self.c_l, self.seed = phonon, c_t, c_l, seed
        self._computed = False
        self.reset()

    def reset(self) -> None:
        """Forget every sample (bins and fit window are kept if they were given)."""
        self._rng = np.random.default_rng(self.seed)
        self._edges = None
        self._n = 0
        self._units = None
        self._fit = self.fit_range
        self._computed = False
        self.notes: list[str] = []  # what the caller should know (modes excluded, ...)

    def _setup(self, s: _Sample) -> None:
        if isinstance(self.bins, (int, np.integer)):
            if self.omega_range is not None:
                lo, hi = self.omega_range
            else:
                pos = s.omega[s.omega > 0]
                if pos.size == 0:
                    raise ValueError(f"{s.name}: no positive frequency")
                lo, hi = 0.8 * pos.min(), pos.max() * 1.1
            if self.log_bins:
                if lo <= 0:
                    raise ValueError("log bins need omega_range[0] > 0")
                edges = np.geomspace(lo, hi, int(self.bins) + 1)
            else:
                edges = np.linspace(lo, hi, int(self.bins) + 1)
        else:
            edges = np.asarray(self.bins, dtype=float)
        nb = edges.size - 1
        self._edges = edges
        self._counts = np.zeros(nb, dtype=np.int64)
        self._under = 0
        self._over = 0
        self._sum_pr = np.zeros(nb)
        self._sum_npr = np.zeros(nb)
        self._qlm = np.zeros(nb, dtype=np.int64)
        self._cat = np.zeros((len(CATEGORY_NAMES), nb), dtype=np.int64)
        self._n_total = 0
        self._n_modes = 0
        self._omega_complete = math.inf
        self._units, self._omega_unit, self._dimension = s.units, s.omega_unit, s.dimension
        self._fit_n = 0
        self._fit_s = 0.0
        self._boot_n = np.zeros(self.n_bootstrap)
        self._boot_s = np.zeros(self.n_bootstrap)
        self._res_w = np.zeros(self.max_scatter)
        self._res_pr = np.zeros(self.max_scatter)
        self._res_cat = np.zeros(self.max_scatter, dtype=np.int8)
        self._seen = 0
        self._qvm_sum = 0.0
        self._qvm_sq = 0.0
        self._qvm_n = 0
        self._ph = np.zeros(3)  # n, sum, sum of squares of omega_ph
        self._ph_c = np.zeros(3)
        self._ph_captured = 0.0
        self._phl = np.zeros(3)  # n, sum, sum of squares of the longitudinal c_L estimate
        self._density = math.nan
        if s.meta.get("box"):
            from glassmodes.analysis.vdos import box_matrix

            self._density = s.natoms / abs(float(np.linalg.det(box_matrix(s.meta["box"], s.dimension))))
        self._natoms = s.natoms
        self._nqlm_samples = np.zeros(2)  # sum and sum of squares of the QLM count per sample
        self._omega_ph_ct = None
        if self.c_t is not None and s.meta.get("box"):
            self._omega_ph_ct = phonon_band_frequency(self.c_t, longest_box_length(s.meta["box"], s.dimension))

    def compute(self, sample, reset: bool = True) -> "ModeStatistics":
        """Add one sample (Modes, ModeFile or mode-file path) or an iterable of them."""
        if reset:
            self.reset()
        if isinstance(sample, (list, tuple)):
            for one in sample:
                self.compute(one, reset=False)
            return self
        s = _Sample(sample, want_vectors=self.phonon)
        if s.note:
            self.notes.append(f"{s.name}: {s.note}")
        if self._edges is None:
            self._setup(s)
        if s.units != self._units or s.dimension != self._dimension:
            raise ValueError(f"{s.name}: units {s.units} / {s.dimension}D, the ensemble has "
                             f"{self._units} / {self._dimension}D")
        w, pr = s.omega, s.pr
        pos = w > 0
        idx = np.searchsorted(self._edges, w, side="right") - 1
        inb = pos & (idx >= 0) & (idx < self._counts.size)
        self._under += int(np.sum(pos & (idx < 0)))
        self._over += int(np.sum(pos & (idx >= self._counts.size)))
        np.add.at(self._counts, idx[inb], 1)
        np.add.at(self._sum_pr, idx[inb], pr[inb])
        np.add.at(self._sum_npr, idx[inb], pr[inb] * s.natoms)
        # QLMs = the quasi-localized category: PR < threshold below omega_max_qlm or omega_qvm
        cls = classify_four(w, pr, self.criterion.pr_threshold, omega_qvm=self.omega_max_qlm,
                            complete_spectrum=w.size >= s.n_total)
        q = pos & (cls.labels == QUASI_LOCALIZED)
        np.add.at(self._qlm, idx[inb & q], 1)
        self._nqlm_samples += (q.sum(), q.sum() ** 2)
        omega_qvm = omega_qvm_of(w, pr, self.criterion.pr_threshold)
        for c in range(len(CATEGORY_NAMES)):
            np.add.at(self._cat[c], idx[inb & (cls.labels == c)], 1)
        if math.isfinite(omega_qvm):
            self._qvm_n += 1
            self._qvm_sum += omega_qvm
            self._qvm_sq += omega_qvm ** 2
        self._n_total += s.n_total
        self._n_modes += int(pos.sum())
        self._omega_complete = min(self._omega_complete, s.omega_complete)
        # power-law sufficient statistics
        if self._fit is None:
            self._fit = (0.0, default_fit_top(w[pos], omega_qvm))
        lo, hi = self._fit
        sel = (w > lo) & (w <= hi)
        n_s, s_s = int(sel.sum()), float(np.log(w[sel]).sum())
        self._fit_n += n_s
        self._fit_s += s_s
        if self.n_bootstrap:
            pw = self._rng.poisson(1.0, size=self.n_bootstrap)
            self._boot_n += pw * n_s
            self._boot_s += pw * s_s
        # reservoir sample of (omega, PR)
        ww, pp, cc = w[pos], pr[pos], cls.labels[pos]
        t = self._seen + np.arange(ww.size)
        direct = t < self.max_scatter
        self._res_w[t[direct]] = ww[direct]
        self._res_pr[t[direct]] = pp[direct]
        self._res_cat[t[direct]] = cc[direct]
        rest = ~direct
        if rest.any():
            j = (self._rng.random(int(rest.sum())) * (t[rest] + 1)).astype(np.int64)
            keep = j < self.max_scatter
            self._res_w[j[keep]] = ww[rest][keep]
            self._res_pr[j[keep]] = pp[rest][keep]
            self._res_cat[j[keep]] = cc[rest][keep]
        self._seen += ww.size
        if self.phonon and s.vectors is not None and s.meta.get("box"):
            est = estimate_phonon_band(w, s.vectors, s.atoms["x"], s.atoms["mass"], s.meta["box"], s.dimension)
            self._ph += (1, est.omega_ph, est.omega_ph ** 2)
            self._ph_c += (1, est.c_t, est.c_t ** 2)
            self._ph_captured += est.captured
            lon = estimate_phonon_band(w, s.vectors, s.atoms["x"], s.atoms["mass"], s.meta["box"], s.dimension,
                                       polarization="longitudinal")
            self._phl += (1, lon.c_t, lon.c_t ** 2)
        self._n += 1
        self._computed = True
        return self

    # -- results -------------------------------------------------------------------------------
    def _need(self):
        if not self._computed:
            raise AttributeError("ModeStatistics: call compute() first")

    @property
    def n_samples(self) -> int:
        self._need()
        return self._n

    @property
    def omega_unit(self) -> str:
        self._need()
        return self._omega_unit

    @property
    def edges(self) -> np.ndarray:
        """Bin edges, shape=(nbins+1,), ``omega_unit``."""
        self._need()
        return self._edges

    @property
    def counts(self) -> np.ndarray:
        self._need()
        return self._counts

    @property
    def n_total(self) -> int:
        """Non-zero modes of all samples together (vDOS normalization)."""
        self._need()
        return self._n_total

    @property
    def omega_complete(self) -> float:
        """Every sample's spectrum is complete below this frequency (inf: full spectra)."""
        self._need()
        return self._omega_complete

    @property
    def vdos(self) -> VDOS:
        """``g(omega)`` per bin, normalized by the number of non-zero modes (units 1/omega)."""
        self._need()
        g = self._counts / (self._n_total * np.diff(self._edges))
        return VDOS(edges=self._edges, counts=self._counts, g=g, n_total=self._n_total)

    @property
    def cumulative(self) -> np.ndarray:
        """``C(omega)`` at the upper bin edges, shape=(nbins,): fraction of modes below."""
        self._need()
        return (self._under + np.cumsum(self._counts)) / self._n_total

    @property
    def mean_pr(self) -> np.ndarray:
        """Mean participation ratio per bin (NaN in empty bins)."""
        self._need()
        with np.errstate(invalid="ignore"):
            return self._sum_pr / self._counts

    @property
    def mean_participation_number(self) -> np.ndarray:
        self._need()
        with np.errstate(invalid="ignore"):
            return self._sum_npr / self._counts

    @property
    def qlm_counts(self) -> np.ndarray:
        self._need()
        return self._qlm

    @property
    def category_counts(self) -> dict:
        """Per-bin counts of the four categories of Xiang et al. (2022), name -> ndarray (nbins,)."""
        self._need()
        return {name: self._cat[c].copy() for c, name in enumerate(CATEGORY_NAMES)}

    @property
    def omega_qvm(self) -> tuple:
        """Mean and standard deviation over samples of the QVM upper limit (first delocalized mode)."""
        self._need()
        if self._qvm_n == 0:
            return (math.nan, math.nan)
        m = self._qvm_sum / self._qvm_n
        v = max(self._qvm_sq / self._qvm_n - m * m, 0.0)
        return (m, math.sqrt(v))

    @property
    def omega_ph(self) -> float | None:
        """First transverse phonon band: from ``c_t`` if given, else the eigenvector estimate."""
        self._need()
        if self._omega_ph_ct is not None:
            return self._omega_ph_ct
        band = self.phonon_band
        return None if band is None else band["omega_ph"]

    @property
    def phonon_band(self) -> dict | None:
        """Mean and std of the estimated first transverse phonon band and c_T (None if not asked)."""
        self._need()
        if self._ph[0] == 0:
            return None
        n = self._ph[0]

        def ms(acc):
            m = acc[1] / n
            return m, math.sqrt(max(acc[2] / n - m * m, 0.0))

        (w, sw), (c, sc), (cl, scl) = ms(self._ph), ms(self._ph_c), ms(self._phl)
        return {"omega_ph": w, "omega_ph_std": sw, "c_t": c, "c_t_std": sc, "c_l": cl, "c_l_std": scl,
                "captured": self._ph_captured / n, "samples": int(n)}

    @property
    def debye(self) -> dict | None:
        """Debye level of the reduced vDOS, 3D only (None without sound speeds, or in 2D).

        ``{"level": A_D, "omega_D": .., "c_t": .., "c_l": .., "source": text}`` with
        ``A_D = g_D(omega) / omega^2 = 3 / omega_D^3`` in the per-mode normalization of
        :attr:`vdos` (:func:`glassmodes.analysis.vdos.debye_level`); the sound speeds given
        (``c_t``, ``c_l``) or else estimated from the eigenvectors (``phonon=True``).
        """
        self._need()
        if self._dimension != 3 or not math.isfinite(self._density):
            return None
        band = self.phonon_band
        c_t, c_l, src = self.c_t, self.c_l, []
        if c_t is None and band is not None:
            c_t = band["c_t"]
            src.append("c_T from the lowest transverse plane waves")
        elif c_t is not None:
            src.append("c_T given")
        if c_l is None and band is not None:
            c_l = band["c_l"]
            src.append("c_L from the lowest longitudinal plane waves")
        elif c_l is not None:
            src.append("c_L given")
        if c_t is None or c_l is None:
            return None
        level = debye_level(self._density, c_t, c_l)
        return {"level": level, "omega_D": (3.0 / level) ** (1.0 / 3.0), "c_t": c_t, "c_l": c_l,
                "number_density": self._density, "source": "; ".join(src),
                "formula": "g_D/omega^2 = 3/omega_D^3 = (1/c_L^3 + 2/c_T^3) / (6 pi^2 n), g per non-zero mode"}

    @property
    def qlm_rule(self) -> str:
        """The QLM rule in words (:func:`glassmodes.analysis.classify.qlm_rule_text`)."""
        return qlm_rule_text(self.criterion.pr_threshold, self.omega_max_qlm)

    @property
    def fit_range(self) -> tuple | None:
        return self._fit

    @fit_range.setter
    def fit_range(self, value) -> None:
        self._fit = value

    @property
    def power_law(self) -> PowerLawFit:
        """Maximum-likelihood ``g ~ omega^beta`` over the pooled modes in the fit window."""
        self._need()
        lo, hi = self._fit
        return fit_power_law_stats(self._fit_n, self._fit_s, lo, hi, self._n_total, self.confidence)

    @property
    def power_law_bootstrap(self) -> tuple:
        """Percentile interval of beta from the Poisson bootstrap over samples (NaN if unavailable)."""
        self._need()
        lo, hi = self._fit
        betas = []
        for n, s in zip(self._boot_n, self._boot_s):
            if n < 2:
                continue
            betas.append(fit_power_law_stats(int(n), float(s), lo, hi).beta)
        if len(betas) < 20:
            return (math.nan, math.nan)
        a = 100 * (1 - self.confidence) / 2
        return (float(np.percentile(betas, a)), float(np.percentile(betas, 100 - a)))

    @property
    def scatter(self) -> tuple:
        """Reservoir sample ``(omega, pr, category)`` of at most ``max_scatter`` modes."""
        self._need()
        k = min(self._seen, self.max_scatter)
        return self._res_w[:k], self._res_pr[:k], self._res_cat[:k]

    def summary(self) -> dict:
        """JSON-ready summary (units in the keys' companions)."""
        self._need()
        out = {
            "samples": self._n, "units": self._units, "omega_unit": self._omega_unit,
            "dimension": self._dimension, "modes_counted": self._n_modes, "nonzero_modes_total": self._n_total,
            "omega_complete": None if math.isinf(self._omega_complete) else self._omega_complete,
            "modes_below_bins": self._under, "modes_above_bins": self._over,
            "qlm_criterion": {"name": self.criterion.name, "pr_threshold": self.criterion.pr_threshold,
                              "omega_max": self.omega_max_qlm, "reference": self.criterion.reference},
            "qlm_count": int(self._qlm.sum()), "qlm_rule": self.qlm_rule,
            "qlm_count_per_sample_mean": self._nqlm_samples[0] / self._n,
            "categories": {k: int(v.sum()) for k, v in self.category_counts.items()},
            "omega_qvm_mean": self.omega_qvm[0], "omega_qvm_std": self.omega_qvm[1],
        }
        try:
            f = self.power_law
            out["power_law"] = {"beta": f.beta, "beta_ci": list(f.beta_ci), "confidence": f.confidence,
                                "n": f.n, "omega_lo": f.omega_lo, "omega_hi": f.omega_hi,
                                "amplitude": f.amplitude, "method": f.method, "samples": self._n,
                                "beta_ci_bootstrap_over_samples": list(self.power_law_bootstrap),
                                "reliable": f.n >= MIN_SHOWN_FIT_MODES,
                                "note": (f"{f.n} modes in the window: a fit is drawn on the figure from "
                                         f"{MIN_SHOWN_FIT_MODES} modes on")}
        except ValueError as exc:
            out["power_law"] = {"error": str(exc)}
        out["phonon_band_estimate"] = self.phonon_band
        out["phonon_band_from_c_t"] = (None if self._omega_ph_ct is None else
                                       {"c_t": self.c_t, "omega_ph": self._omega_ph_ct,
                                        "formula": "2 pi c_t / L, L the longest periodic box length"})
        out["debye"] = self.debye
        return out

    def table(self) -> dict:
        """Per-bin columns (name -> array) for a CSV file."""
        self._need()
        v = self.vdos
        with np.errstate(invalid="ignore", divide="ignore"):
            qf = self._qlm / self._counts
        cols = {
            "omega_lo": self._edges[:-1], "omega_hi": self._edges[1:], "omega_center": v.centers,
            "count": self._counts, "vdos": v.g, "reduced_vdos": v.reduced,
            "cumulative": self.cumulative, "cumulative_over_omega5": self.cumulative / self._edges[1:] ** 5,
            "mean_pr": self.mean_pr, "mean_participation_number": self.mean_participation_number,
            "qlm_count": self._qlm, "qlm_fraction": qf,
        }
        for name, arr in self.category_counts.items():
            cols["count_" + name.replace(" ", "_").replace("-", "_")] = arr
        return cols

    # -- plots -----------------------------------------------------------------------------------
    def _caption(self) -> str:
        """Sample size line for the figures: samples, particles, modes counted."""
        n = f"N = {self._natoms}, " if self._n == 1 else ""
        return f"{n}{self._n} sample{'s' if self._n != 1 else ''}, {self._n_modes} modes"

    def plot_pr(self, ax=None):
        """PR vs omega (reservoir sample, colored by category, log-log) with the threshold; returns the Axes."""
        from glassmodes.analysis.plots import plot_pr_vs_omega

        w, pr, cat = self.scatter
        return plot_pr_vs_omega(w, pr, self._omega_unit, pr_threshold=self.criterion.pr_threshold,
                                categories=cat, omega_qvm=self.omega_qvm[0], omega_max_qlm=self.omega_max_qlm,
                                mean=(self.vdos.centers, self.mean_pr, self._counts), phonon=self.omega_ph,
                                title=self._caption(), ax=ax)

    def plot_vdos(self, ax=None):
        """vDOS on log-log axes with an omega^4 guide and the fitted power law (if from enough
        modes, :data:`MIN_SHOWN_FIT_MODES`); returns the Axes."""
        from glassmodes.analysis.plots import plot_vdos

        try:
            fit = self.power_law
        except ValueError:
            fit = None
        return plot_vdos(self.vdos, self._omega_unit, fit=fit, omega_complete=self._omega_complete,
                         phonon=self.omega_ph, samples=self._n, min_fit_modes=MIN_SHOWN_FIT_MODES,
                         title=self._caption(), ax=ax)

    def plot_reduced_vdos(self, ax=None):
        """Reduced vDOS g/omega^2 with the Debye level when the sound speeds are known."""
        from glassmodes.analysis.plots import plot_reduced_vdos

        return plot_reduced_vdos(self.vdos, self._omega_unit, omega_complete=self._omega_complete,
                                 phonon=self.omega_ph, debye=self.debye, title=self._caption(), ax=ax)

    def plot_cumulative(self, ax=None):
        from glassmodes.analysis.plots import plot_cumulative

        return plot_cumulative(self._edges[1:], self.cumulative, self._omega_unit,
                               omega_complete=self._omega_complete, phonon=self.omega_ph, title=self._caption(),
                               ax=ax)

    def save_plots(self, folder, prefix: str = "") -> list:
        """Write the four standard figures as PNG files in ``folder``; returns their paths."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        folder = Path(folder)
        out = []
        for name, fn in (("pr_vs_omega", self.plot_pr), ("vdos", self.plot_vdos),
                         ("reduced_vdos", self.plot_reduced_vdos), ("cumulative_over_omega5", self.plot_cumulative)):
            ax = fn()
            path = folder / f"{prefix}{name}.png"
            ax.figure.savefig(path, dpi=130)
            plt.close(ax.figure)
            out.append(path)
        return out
