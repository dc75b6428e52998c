"""Rearrangement events of an inherent-structure trajectory (Mizuno et al. (2020), Sec. II.C and III.B-C).

Definitions (Mizuno et al. (2020); r_IS(t) the inherent structure of the MD frame at time t, Delta t the lag
between frames, 0.1 in the paper):

* Eq. (5): ``|Delta r_IS(t)| = |r_IS(t) - r_IS(t - Delta t)| = (sum_i |r_IS,i(t) - r_IS,i(t - Delta t)|^2)^(1/2)``
* Eq. (6): ``|Delta Phi_IS(t)| = |Phi_IS(t) - Phi_IS(t - Delta t)|`` (total energies)
* Eq. (7): ``N_rearr = (sum_i Delta r_i . Delta r_i)^2 / sum_i (Delta r_i . Delta r_i)^2``, the number
  of particles taking part (``N_rearr / N`` is the participation ratio of the field)
* Fig. 7(b): ``|Delta r_IS,i| / |Delta r_IS,1|`` against ``r = |r_i - r_1|``, particle 1 the most
  displaced one; the far field decays as ``r^-a`` with a = 2.5 to 3 in Mizuno et al. (2020) (a = 2 for an
  elastic response to a local force dipole)
* Fig. 8 and 9: ``|r_IS(t) - r_IS(0)|`` and ``Phi_IS(t) - Phi_IS(0)``, the size of the basin explored.

Conventions
-----------
* Displacements between inherent structures are minimum-image differences of the stored
  (unwrapped) positions, valid for displacements below half the box: always the case for
  Delta t-separated inherent structures of a solid. ``|r_IS(t) - r_IS(0)|`` and the MD MSD use the
  unwrapped positions when the dump had image flags, else minimum image as well.
* The rigid translation (mean displacement) is removed from every displacement field
  (``remove_drift``): a translation is a zero mode, not a rearrangement; in an NVE run with zero
  total momentum it is zero up to round-off anyway.
* Distances from particle 1 are minimum-image distances in the IS *before* the event.

Event detection
---------------
An event at frame k (time t_k) is ``|Delta r_IS(t_k)| > threshold`` with both quenches converged.
``threshold = max(dr_min, noise_factor * noise_floor)``: ``noise_floor`` is the median distance
between re-quenches of one frame from slightly perturbed copies (measured by
``glassmodes is-trajectory``, :mod:`glassmodes.landscape.driver`), the scatter of r_IS that the
force tolerance allows inside one basin; ``dr_min`` (default 1e-3 sigma) is an absolute floor well
below the smallest IS transitions seen by Mizuno et al. (2020) (|Delta r_IS| ~ 0.1 sigma) and orders of
magnitude above the quench noise (~1e-10 sigma at ftol = 1e-10). A candidate next to a frame whose
quench did not converge (or failed) is *flagged*: listed, never counted as an event.

Far-field exponent
------------------
``|Delta r_IS,i| / |Delta r_IS,1|`` of the particles with ``r_min <= r <= r_max`` (default 2 sigma
to half the shortest box edge, beyond which the spherical shell leaves the box) is averaged as
``<log10 ratio>`` in ``nbins`` logarithmic bins (bins with fewer than 5 particles dropped), and
``log10 ratio = c - a log10 r`` is fitted by weighted least squares (weights ``n_b / var_b``). The
uncertainty is the standard error of the slope, scaled up by ``sqrt(chi^2 / dof)`` when above 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from glassmodes.landscape.isfile import ISTrajectory
from glassmodes.landscape.quench import CONVERGED


# ----------------------------------------------------------------------------------------------
# kernels
# ----------------------------------------------------------------------------------------------

def minimum_image(d: np.ndarray, lengths: np.ndarray, periodicity=(True, True, True)) -> np.ndarray:
    """Separation vectors ``d``, shape=(..., 3), wrapped to the nearest image along periodic axes."""
    d = np.array(d, dtype=float, copy=True)
    lengths = np.asarray(lengths, dtype=float)
    per = np.asarray(periodicity, dtype=bool)
    d[..., per] -= np.round(d[..., per] / lengths[per]) * lengths[per]
    return d


def displacement_field(before: np.ndarray, after: np.ndarray, lengths: np.ndarray, periodicity=(True, True, True),
                       remove_drift: bool = True) -> np.ndarray:
    """``Delta r_i = r_i(after) - r_i(before)``, shape=(N, 3), minimum image, drift removed.

    >>> b = np.zeros((4, 3)); a = b.copy(); a[0] = [0.3, 0.0, 0.0]; a[1, 0] = 9.9
    >>> displacement_field(b, a, np.full(3, 10.0), remove_drift=False)[:2, 0].round(12).tolist()
    [0.3, -0.1]
    """
    d = minimum_image(np.asarray(after, dtype=float) - np.asarray(before, dtype=float), lengths, periodicity)
    if remove_drift:
        d -= d.mean(axis=0)
    return d


def n_rearr(dr: np.ndarray) -> float:
    """Number of rearranging particles, Mizuno et al. (2020), Eq. (7), of a field ``dr``, shape=(N, 3).

    ``(sum_i |dr_i|^2)^2 / sum_i |dr_i|^4``: 1 for one moving particle, N for a uniform field.

    >>> dr = np.zeros((10, 3)); dr[:4, 0] = 1.0
    >>> n_rearr(dr)
    4.0
    """
    s = np.einsum("ij,ij->i", dr, dr)
    den = float(np.sum(s * s))
    return float(np.sum(s) ** 2 / den) if den > 0 else float("nan")


def decay_profile(dr: np.ndarray, positions: np.ndarray, lengths: np.ndarray,
                  periodicity=(True, True, True)) -> tuple[np.ndarray, np.ndarray, int]:
    """Distances from the most displaced particle and normalized displacements (Mizuno et al. (2020), Fig. 7b).

    Returns
    -------
    r : ndarray, shape=(N,)
        ``|r_i - r_1|`` (minimum image), distance units; 0 for particle 1 itself.
    ratio : ndarray, shape=(N,)
        ``|dr_i| / |dr_1|``.
    i1 : int
        Row of particle 1.
    """
    mag = np.sqrt(np.einsum("ij,ij->i", dr, dr))
    i1 = int(np.argmax(mag))
    sep = minimum_image(positions - positions[i1], lengths, periodicity)
    r = np.sqrt(np.einsum("ij,ij->i", sep, sep))
    return r, mag / mag[i1], i1


@dataclass(frozen=True)
class FarFieldFit:
    """Power-law fit ``|dr_i| / |dr_1| ~ r^-a`` of the far field.

    Attributes
    ----------
    a : float
        Decay exponent (NaN when fewer than 3 usable bins).
    a_err : float
        Its standard error (see module docs).
    r_min, r_max : float
        Fitted distance range, distance units.
    r_bins : ndarray, shape=(B,)
        Geometric-mean distance of each usable bin.
    log_ratio : ndarray, shape=(B,)
        Mean ``log10(|dr_i| / |dr_1|)`` of each bin.
    log_ratio_err : ndarray, shape=(B,)
        Standard error of that mean.
    counts : ndarray, shape=(B,)
        Particles per bin.
    intercept : float
        ``c`` of ``log10 ratio = c - a log10 r``.
    """

    a: float
    a_err: float
    r_min: float
    r_max: float
    r_bins: np.ndarray
    log_ratio: np.ndarray
    log_ratio_err: np.ndarray
    counts: np.ndarray
    intercept: float

    @property
    def nbins(self) -> int:
        return int(self.r_bins.size)


def fit_far_field(r: np.ndarray, ratio: np.ndarray, r_min: float, r_max: float, nbins: int = 10,
                  min_count: int = 5) -> FarFieldFit:
    """Fit the far-field decay exponent (module docs, "Far-field exponent").

    >>> rng = np.random.default_rng(0)
    >>> r = rng.uniform(1, 8, 20000); ratio = r ** -2.7 * np.exp(rng.normal(0, 0.3, r.size))
    >>> fit = fit_far_field(r, ratio, 2.0, 8.0)
    >>> bool(abs(fit.a - 2.7) < 3 * fit.a_err + 0.02)
    True
    """
    if not 0 < r_min < r_max:
        raise ValueError(f"need 0 < r_min < r_max, got r_min={r_min}, r_max={r_max}")
    r = np.asarray(r, dtype=float)
    ratio = np.asarray(ratio, dtype=float)
    sel = (r >= r_min) & (r <= r_max) & (ratio > 0) & np.isfinite(ratio)
    lr, ly = np.log10(r[sel]), np.log10(ratio[sel])
    edges = np.linspace(np.log10(r_min), np.log10(r_max), int(nbins) + 1)
    which = np.clip(np.searchsorted(edges, lr, side="right") - 1, 0, int(nbins) - 1)
    xs, ys, es, ns = [], [], [], []
    for b in range(int(nbins)):
        m = which == b
        n = int(m.sum())
        if n < min_count:
            continue
        y = ly[m]
        xs.append(lr[m].mean())
        ys.append(y.mean())
        es.append(max(y.std(ddof=1), 1e-12) / np.sqrt(n))
        ns.append(n)
    xs, ys, es, ns = map(np.asarray, (xs, ys, es, ns))
    nan = float("nan")
    if xs.size < 3:
        return FarFieldFit(nan, nan, float(r_min), float(r_max), 10 ** xs, ys, es, ns, nan)
    w = 1.0 / es ** 2
    A = np.stack([np.ones_like(xs), xs], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * ys))
    resid = ys - A @ coef
    chi2 = float(np.sum(w * resid ** 2))
    dof = xs.size - 2
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    return FarFieldFit(a=float(-coef[1]), a_err=float(np.sqrt(cov[1, 1] * scale)), r_min=float(r_min),
                       r_max=float(r_max), r_bins=10 ** xs, log_ratio=ys, log_ratio_err=es, counts=ns,
                       intercept=float(coef[0]))


# ----------------------------------------------------------------------------------------------
# events
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """One inherent-structure transition between frames ``frame_before`` and ``frame``.

    Attributes
    ----------
    number : int
        Running number among the analysis's events (flagged ones included), from 0.
    frame : int
        Frame of the IS after the transition.
    time : float
        ``t`` of Eq. (5), time units (the end of the lag).
    lag : float
        ``Delta t``, time units.
    dr : float
        ``|Delta r_IS(t)|``, Eq. (5), distance units.
    dphi : float
        ``Phi_IS(t) - Phi_IS(t - Delta t)``, energy units (Eq. 6 is its absolute value).
    n_rearr : float
        Eq. (7).
    top_id : int
        Atom ID of the most displaced particle ("particle 1").
    top_dr : float
        ``|Delta r_IS,1|``, distance units.
    fit : FarFieldFit
        Far-field decay.
    flagged : bool
        True when a quench on either side did not converge: not counted as an event.
    reason : str
        Why it is flagged.
    frame_before : int
        Frame of the IS before (``frame - 1`` unless frames between were not quenched).
    """

    number: int
    frame: int
    time: float
    lag: float
    dr: float
    dphi: float
    n_rearr: float
    top_id: int
    top_dr: float
    fit: FarFieldFit
    flagged: bool = False
    reason: str = ""
    frame_before: int = -1

    @property
    def abs_dphi(self) -> float:
        return abs(self.dphi)

    def row(self) -> dict:
        """Flat record for a table (units in the column names' documentation, docs/landscape.md)."""
        return {"event": self.number, "frame": self.frame, "frame_before": self.frame_before, "time": self.time,
                "lag": self.lag, "dr_IS": self.dr, "dPhi_IS": self.dphi, "abs_dPhi_IS": self.abs_dphi,
                "N_rearr": self.n_rearr, "top_id": self.top_id, "top_dr": self.top_dr, "a": self.fit.a,
                "a_err": self.fit.a_err, "fit_r_min": self.fit.r_min, "fit_r_max": self.fit.r_max,
                "fit_bins": self.fit.nbins, "flagged": int(self.flagged), "reason": self.reason}


def _nanmedian(values) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


class NotComputedError(RuntimeError):
    """A result was read before ``compute`` was called."""


class EventAnalysis:
    """Detect and characterize IS transitions of an :class:`~glassmodes.landscape.isfile.ISTrajectory`.

    Parameters
    ----------
    dr_min : float
        Absolute floor of the event threshold on |Delta r_IS|, distance units (default 1e-3).
    noise_factor : float
        Threshold = max(dr_min, noise_factor * noise floor) (default 100).
    noise_floor : float, optional
        Override the noise floor (distance units); default: the median of the trajectory's
        re-quench distances, or 0 when none were measured.
    r_min, r_max : float
        Far-field fit range, distance units (default 2.0 and half the shortest box edge); when
        ``r_max <= r_min`` (a small box) no exponent is fitted (NaN).
    nbins : int
        Logarithmic bins of the fit (default 10).
    remove_drift : bool
        Remove the mean displacement of every field (default True).

    >>> ea = EventAnalysis()                                       # doctest: +SKIP
    >>> ea.compute(read_is_trajectory("IS.h5")).events            # doctest: +SKIP
    """

    def __init__(self, dr_min: float = 1e-3, noise_factor: float = 100.0, noise_floor: float | None = None,
                 r_min: float = 2.0, r_max: float | None = None, nbins: int = 10, remove_drift: bool = True):
        if not dr_min > 0:
            raise ValueError(f"dr_min must be positive, got {dr_min}")
        if noise_factor < 0:
            raise ValueError(f"noise_factor must be >= 0, got {noise_factor}")
        if nbins < 3:
            raise ValueError(f"nbins must be >= 3, got {nbins}")
        self.dr_min = float(dr_min)
        self.noise_factor = float(noise_factor)
        self.noise_floor_override = noise_floor
        self.r_min = float(r_min)
        self.r_max = r_max
        self.nbins = int(nbins)
        self.remove_drift = bool(remove_drift)
        self._res = None

    # -- results -----------------------------------------------------------------------------
    def _get(self, key):
        if self._res is None:
            raise NotComputedError("call compute(trajectory) first")
        return self._res[key]

    @property
    def trajectory(self) -> ISTrajectory:
        return self._get("traj")

    @property
    def times(self) -> np.ndarray:
        """Frame times, shape=(F,), time units."""
        return self._get("times")

    @property
    def dr(self) -> np.ndarray:
        """|Delta r_IS(t)| (Eq. 5), shape=(F,), NaN at frame 0 and next to failed quenches."""
        return self._get("dr")

    @property
    def dphi(self) -> np.ndarray:
        """Phi_IS(t) - Phi_IS(t - Delta t), shape=(F,), energy units (Eq. 6 is its absolute value)."""
        return self._get("dphi")

    @property
    def basin_dr(self) -> np.ndarray:
        """|r_IS(t) - r_IS(0)|, shape=(F,), distance units (Mizuno et al. (2020), Fig. 8)."""
        return self._get("basin_dr")

    @property
    def basin_dphi(self) -> np.ndarray:
        """Phi_IS(t) - Phi_IS(0), shape=(F,), energy units (Mizuno et al. (2020), Fig. 9)."""
        return self._get("basin_dphi")

    @property
    def reliable(self) -> np.ndarray:
        """Bool, shape=(F,): this frame and the previous quenched one both converged."""
        return self._get("reliable")

    @property
    def noise_floor(self) -> float:
        return self._get("noise_floor")

    @property
    def noise_max(self) -> float:
        """Largest measured re-quench distance (NaN when none was measured)."""
        return self._get("noise_max")

    @property
    def threshold(self) -> float:
        return self._get("threshold")

    @property
    def all_events(self) -> list[Event]:
        """Every candidate above the threshold, flagged ones included."""
        return self._get("events")

    @property
    def events(self) -> list[Event]:
        """The counted events (not flagged)."""
        return [e for e in self.all_events if not e.flagged]

    @property
    def flagged_events(self) -> list[Event]:
        return [e for e in self.all_events if e.flagged]

    def _resolved(self) -> np.ndarray:
        lag = self._get("lag")
        return self.reliable & np.isfinite(lag) & (lag <= 1.5 * self._get("base_lag"))

    @property
    def duration(self) -> float:
        """Time observed at full resolution: the sum of the reliable lags of one Delta t, time units.

        Lags longer than Delta t (frames not quenched, ``--stride``) are left out: a transition and
        its reversal inside one of them would go unseen, so they would bias the rate low.
        """
        return float(np.sum(self._get("lag")[self._resolved()]))

    @property
    def rate(self) -> float:
        """Events per time unit over the fully resolved lags (NaN when there are none)."""
        d = self.duration
        return len([e for e in self.events if e.lag <= 1.5 * self._get("base_lag")]) / d if d > 0 else float("nan")

    def coarse(self) -> dict:
        """The lags longer than Delta t (strided frames): how many, their total time, how many changed."""
        lag = self._get("lag")
        long_ = self.reliable & np.isfinite(lag) & (lag > 1.5 * self._get("base_lag"))
        changed = long_ & (self.dr > self.threshold)
        return {"coarse_lags": int(np.count_nonzero(long_)), "coarse_duration": float(np.sum(lag[long_])),
                "coarse_changed": int(np.count_nonzero(changed))}

    def summary(self) -> dict:
        ev = self.events
        traj = self.trajectory
        return {
            "frames": traj.nframes, "natoms": traj.natoms, "duration": self.duration,
            "total_time": float(self.times[-1] - self.times[0]),
            "lag": float(np.median(np.diff(self.times))) if traj.nframes > 1 else float("nan"),
            "unreliable_lags": int(np.count_nonzero(np.isfinite(self._get("lag")) & ~self.reliable)),
            "frames_quenched": int(np.count_nonzero(np.isfinite(self._get("lag")))) + 1,
            "frames_pending": int(np.count_nonzero(traj.status == 0)),
            "frames_not_converged": int(np.count_nonzero(traj.status == 2)),
            "frames_failed": int(np.count_nonzero(traj.status == 3)),
            "noise_floor": self.noise_floor, "noise_max": self.noise_max, "threshold": self.threshold,
            "dr_min": self.dr_min, "noise_factor": self.noise_factor,
            "events": len(ev), "flagged_events": len(self.flagged_events), "rate": self.rate,
            "N_rearr_median": float(np.median([e.n_rearr for e in ev])) if ev else float("nan"),
            "a_median": _nanmedian([e.fit.a for e in ev]),
            "max_dr_below_threshold": float(np.nanmax(np.where(self.dr <= self.threshold, self.dr, np.nan)))
            if np.any(self.dr <= self.threshold) else float("nan"),
            "fit_r_min": self.r_min, "fit_r_max": self._get("r_max"), "fit_bins": self.nbins,
            **self.coarse(),
        }

    # -- computation ---------------------------------------------------------------------------
    def compute(self, traj: ISTrajectory, progress: Callable[[str], None] | None = None) -> "EventAnalysis":
        """Scan the trajectory frame by frame (two frames in memory at a time)."""
        nf = traj.nframes
        if nf < 2:
            raise ValueError(f"an IS trajectory needs at least 2 frames, this one has {nf}")
        if np.any(np.diff(traj.times) <= 0):
            raise ValueError("frame times are not strictly increasing")
        lengths, per = traj.lengths, traj.periodicity
        r_max = float(self.r_max) if self.r_max is not None else float(np.min(lengths[np.asarray(per)]) / 2
                                                                         if any(per) else np.max(lengths))
        status = np.asarray(traj.status)
        ok = status == CONVERGED
        quenched = (status == CONVERGED) | (status == 2)
        nd = np.asarray(traj.noise_distance if traj.noise_distance is not None else [], dtype=float).ravel()
        nd = nd[np.isfinite(nd)]
        if self.noise_floor_override is not None:
            floor = float(self.noise_floor_override)
        else:
            floor = float(np.median(nd)) if nd.size else 0.0
        noise_max = float(nd.max()) if nd.size else float("nan")
        threshold = max(self.dr_min, self.noise_factor * floor)

        times = np.asarray(traj.times, dtype=float)
        energy = np.asarray(traj.energy, dtype=float)
        base_lag = float(np.min(np.diff(times)))
        dr = np.full(nf, np.nan)
        dphi = np.full(nf, np.nan)
        basin = np.full(nf, np.nan)
        lag = np.full(nf, np.nan)
        reliable = np.zeros(nf, dtype=bool)
        events: list[Event] = []
        have = np.flatnonzero(quenched)
        first = int(have[0]) if have.size else None
        x0 = traj.frame(first) if first is not None else None
        if first is not None:
            basin[first] = 0.0
        prev_k, prev = None, None
        for k in have:
            cur = traj.frame(k)
            if traj.has_images:
                d0 = cur - x0
                if self.remove_drift:
                    d0 = d0 - d0.mean(axis=0)
            else:
                d0 = displacement_field(x0, cur, lengths, per, self.remove_drift)
            basin[k] = float(np.sqrt(np.sum(d0 * d0)))
            if prev is not None:
                field = displacement_field(prev, cur, lengths, per, self.remove_drift)
                dr[k] = float(np.sqrt(np.sum(field * field)))
                dphi[k] = energy[k] - energy[prev_k]
                lag[k] = times[k] - times[prev_k]
                reliable[k] = bool(ok[k] and ok[prev_k])
                if dr[k] > threshold:
                    reasons = [f"frame {j}: {'not converged' if status[j] == 2 else 'failed'}"
                               for j in (prev_k, k) if status[j] != CONVERGED]
                    if lag[k] > 1.5 * base_lag:
                        reasons.append(f"lag {lag[k]:.6g} > Delta t = {base_lag:.6g}: transition not resolved "
                                       f"(frames {prev_k + 1}..{k - 1} not quenched)")
                    ev = self._event(len(events), int(k), int(prev_k), times, field, prev, traj, dr[k], dphi[k],
                                     r_max, "; ".join(reasons))
                    events.append(ev)
                    if progress is not None:
                        progress(f"event {ev.number} at frame {k} (t = {ev.time:.6g}): |dr_IS| = {ev.dr:.4g}, "
                                 f"dPhi_IS = {ev.dphi:.4g}, N_rearr = {ev.n_rearr:.1f}, a = {ev.fit.a:.2f} "
                                 f"+- {ev.fit.a_err:.2f}{' FLAGGED: ' + ev.reason if ev.flagged else ''}")
            prev_k, prev = int(k), cur
        basin_dphi = energy - (energy[first] if first is not None else np.nan)
        self._res = {"traj": traj, "times": times, "dr": dr, "dphi": dphi, "basin_dr": basin,
                     "basin_dphi": basin_dphi, "reliable": reliable, "lag": lag, "base_lag": base_lag,
                     "noise_floor": floor, "noise_max": noise_max, "threshold": threshold, "events": events,
                     "r_max": r_max}
        return self

    def _event(self, number, k, k0, times, field, before, traj, dr, dphi, r_max, reason) -> Event:
        r, ratio, i1 = decay_profile(field, before, traj.lengths, traj.periodicity)
        if self.r_min < r_max:
            fit = fit_far_field(r, ratio, self.r_min, r_max, self.nbins)
        else:  # box too small for a far field: no fit
            e = np.zeros(0)
            fit = FarFieldFit(float("nan"), float("nan"), self.r_min, r_max, e, e, e, e.astype(int), float("nan"))
        return Event(number=number, frame=int(k), time=float(times[k]), lag=float(times[k] - times[k0]),
                     dr=float(dr), dphi=float(dphi), n_rearr=n_rearr(field), top_id=int(traj.ids[i1]),
                     top_dr=float(np.sqrt(np.sum(field[i1] ** 2))), fit=fit, flagged=bool(reason), reason=reason,
                     frame_before=int(k0))

    def event_field(self, event: Event) -> tuple[np.ndarray, np.ndarray]:
        """``(positions_before, displacement)`` of an event, each shape=(N, 3), ascending atom ID."""
        traj = self.trajectory
        before = traj.frame(event.frame_before)
        after = traj.frame(event.frame)
        return before, displacement_field(before, after, traj.lengths, traj.periodicity, self.remove_drift)

    def decay(self, event: Event) -> tuple[np.ndarray, np.ndarray]:
        """``(r, |dr_i|/|dr_1|)`` of an event (Mizuno et al. (2020), Fig. 7b)."""
        before, field = self.event_field(event)
        r, ratio, _ = decay_profile(field, before, self.trajectory.lengths, self.trajectory.periodicity)
        return r, ratio
