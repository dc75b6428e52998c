"""Mode lifetimes from MD: the autocorrelation of the mode-energy fluctuations (Mizuno et al. (2020), Sec. II.D).

``E_k(t)`` comes from the plugin's ``compute mode/energy`` (recorded with ``fix ave/time``, see
``inputs/md_mode_energies.lmp``). With ``dE_k = E_k - <E_k>``,

    C_k(t) = <dE_k(t) dE_k(0)> / <dE_k^2>      (Mizuno et al. (2020), Eq. (9))

decays as ``exp(-Gamma_k t)`` with ``Gamma_k`` the energy decay rate of perturbation theory
(:mod:`glassmodes.anharmonic.lifetimes`; docs/lifetimes.md). Two estimates of ``tau_k = 1/Gamma_k``:

* ``tau_1e``: the first time ``C_k`` falls to ``1/e`` (Mizuno et al. (2020)), linear interpolation of
  ``log C`` between the two samples around the crossing;
* ``tau_fit``: least squares of ``log C_k(t) = -t / tau`` (through the origin) on the samples
  before ``C_k`` first drops below ``fit_min`` (default 0.15).

Error bars: the time series is cut into ``blocks`` equal blocks (and several independent runs
accumulate with ``reset=False``); the estimates of every block give the standard error
``std / sqrt(n_blocks)``. The central values come from the ACF averaged over all blocks.

Bias: subtracting each block's own mean lowers the ACF by about ``2 tau / T_b`` at all lags
(a block of 10 tau pulls the 1/e crossing about 25 % early). Pass the known equilibrium mean
``mean = k_B T`` (equipartition, classical MD) to remove it; C is then normalized by its own
value at lag 0.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np


class MDLifetimeError(ValueError):
    """Time series that cannot give lifetimes (too short, empty, inconsistent)."""


def read_mode_energy_series(path: str | os.PathLike):
    """Read a ``fix ave/time ... c_ID[*] file PATH`` output of ``compute mode/energy``.

    Returns
    -------
    steps : ndarray of int, shape=(T,)
    energies : ndarray, shape=(T, K)
        Energy units of the run.
    """
    data = np.loadtxt(path, comments="#", ndmin=2)
    if data.size == 0 or data.shape[1] < 2:
        raise MDLifetimeError(f"{path}: no mode-energy records")
    steps = data[:, 0].astype(np.int64)
    if np.any(np.diff(steps) <= 0):
        raise MDLifetimeError(f"{path}: steps are not increasing (several runs in one file?)")
    d = np.diff(steps)
    if d.size and np.any(d != d[0]):
        raise MDLifetimeError(f"{path}: records are not evenly spaced in steps")
    return steps, data[:, 1:]


def energy_autocorrelation(energies: np.ndarray, max_lag: int, mean=None) -> tuple[np.ndarray, np.ndarray]:
    """Unnormalized ACF of the fluctuations and their variance, per mode (FFT, zero padded).

    Parameters
    ----------
    energies : ndarray, shape=(T, K)
    max_lag : int
        Lags 0 .. max_lag - 1 (samples).
    mean : None, float or ndarray shape=(K,)
        The equilibrium mean ``<E_k>`` to subtract (``k_B T`` by equipartition); None: the sample
        mean, which biases the ACF low by about ``2 tau / T`` for a series of length ``T``.

    Returns
    -------
    acf : ndarray, shape=(max_lag, K)
        ``sum_t dE(t + lag) dE(t) / (T - lag)``.
    var : ndarray, shape=(K,)
    """
    E = np.asarray(energies, dtype=float)
    T = E.shape[0]
    if max_lag > T:
        raise MDLifetimeError(f"max_lag {max_lag} exceeds the {T} samples")
    dE = E - (E.mean(axis=0) if mean is None else np.asarray(mean, dtype=float))
    nfft = 1 << int(math.ceil(math.log2(2 * T)))
    F = np.fft.rfft(dE, n=nfft, axis=0)
    acf = np.fft.irfft(F * np.conj(F), n=nfft, axis=0)[:max_lag]
    acf /= (T - np.arange(max_lag))[:, None]
    return acf, acf[0].copy()


def tau_from_acf(t: np.ndarray, C: np.ndarray, fit_min: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """``(tau_1e, tau_fit)`` per mode from normalized ACFs ``C`` shape=(L, K) at times ``t`` (L,).

    NaN where ``C`` never reaches ``1/e`` (``tau_1e``) or has fewer than two points above
    ``fit_min`` (``tau_fit``).
    """
    C = np.asarray(C, dtype=float)
    L, K = C.shape
    target = math.exp(-1.0)
    tau_1e = np.full(K, np.nan)
    tau_fit = np.full(K, np.nan)
    below = C < target
    first = np.where(below.any(axis=0), below.argmax(axis=0), -1)
    for k in range(K):
        i = first[k]
        if i > 0:
            c0, c1 = C[i - 1, k], C[i, k]
            if c1 > 0 and c0 > 0:
                f = (math.log(c0) + 1.0) / (math.log(c0) - math.log(c1))
            else:
                f = (c0 - target) / (c0 - c1)
            tau_1e[k] = t[i - 1] + f * (t[i] - t[i - 1])
        low = C[:, k] < fit_min
        n = int(low.argmax()) if low.any() else L
        if n >= 2:
            tt = t[1:n]
            y = np.log(np.clip(C[1:n, k], 1e-300, None))
            tau_fit[k] = -float(tt @ tt) / float(tt @ y)
    return tau_1e, tau_fit


@dataclass(frozen=True, eq=False)
class MDLifetimes:
    """Lifetimes from the energy autocorrelation (Mizuno et al. (2020), Eq. (9)).

    Attributes
    ----------
    omega : ndarray, shape=(K,) or None
        Frequencies of the modes (rad per time unit) when known.
    mode_index : ndarray of int or None
    t : ndarray, shape=(L,)
        Lag times (time units).
    acf : ndarray, shape=(L, K)
        Normalized ``C_k(t)``, averaged over blocks and runs.
    tau_1e, tau_fit : ndarray, shape=(K,)
        Time units.
    tau_1e_err, tau_fit_err : ndarray, shape=(K,)
        Standard errors from the spread over blocks (NaN with one block).
    mean_energy : ndarray, shape=(K,)
        ``<E_k>`` (equipartition: ``k_B T``).
    nblocks : int
        Blocks used (over all runs).
    duration : float
        Total analysed time.
    """

    omega: np.ndarray | None
    mode_index: np.ndarray | None
    t: np.ndarray
    acf: np.ndarray
    tau_1e: np.ndarray
    tau_fit: np.ndarray
    tau_1e_err: np.ndarray
    tau_fit_err: np.ndarray
    mean_energy: np.ndarray
    nblocks: int
    duration: float
    time_unit: str = "tau"

    @property
    def gamma(self) -> np.ndarray:
        """Energy decay rate ``1 / tau_1e``."""
        return 1.0 / self.tau_1e


class EnergyAutocorrelation:
    """Accumulates mode-energy ACFs over blocks and runs (freud style).

    Parameters
    ----------
    dt : float
        Time between records (time step x record interval), time units.
    max_lag : float
        Longest lag (time units): several lifetimes.
    blocks : int
        Blocks per time series for the error bars (>= 1).
    fit_min : float
        Lower end of ``C`` used by the exponential fit.
    mean : None, float or ndarray
        Known equilibrium ``<E_k>`` (``k_B T``, classical equipartition; Mizuno et al. (2020) note that the
        time average of ``E_k`` is T): removes the ``-2 tau/T_b`` bias that subtracting each
        block's own mean leaves in the ACF. None: each block's sample mean.

    >>> import numpy as np
    >>> from scipy.signal import lfilter
    >>> rng = np.random.default_rng(0)
    >>> a = np.exp(-0.05 * 0.1)     # complex Ornstein-Uhlenbeck amplitude, decay rate gamma/2 = 0.05
    >>> x = lfilter([np.sqrt(1 - a * a)], [1, -a], rng.normal(size=(200000, 2)), axis=0)
    >>> E = (x ** 2).sum(axis=1, keepdims=True)     # |a|^2: energy ACF decays at gamma = 0.1
    >>> r = EnergyAutocorrelation(dt=0.1, max_lag=40.0, blocks=4).compute(E).result
    >>> bool(abs(r.tau_1e[0] - 10.0) < 1.0)
    True
    """

    def __init__(self, dt: float, max_lag: float, blocks: int = 4, fit_min: float = 0.15, mean=None):
        if not dt > 0:
            raise MDLifetimeError(f"dt must be > 0, got {dt}")
        if not max_lag > dt:
            raise MDLifetimeError(f"max_lag must exceed dt ({dt}), got {max_lag}")
        if int(blocks) < 1:
            raise MDLifetimeError(f"blocks must be >= 1, got {blocks}")
        self.dt = float(dt)
        self.max_lag = float(max_lag)
        self.blocks = int(blocks)
        self.fit_min = float(fit_min)
        self.mean = mean
        self._reset()

    def _reset(self):
        self._acf_sum = None
        self._var_sum = None
        self._mean_sum = None
        self._block_C = []
        self._nblocks = 0
        self._duration = 0.0
        self._result = None

    def compute(self, energies: np.ndarray, reset: bool = True, omega=None, mode_index=None):
        """Add one run's ``E_k(t)`` (shape=(T, K)); returns ``self``."""
        if reset:
            self._reset()
        E = np.asarray(energies, dtype=float)
        if E.ndim != 2:
            raise MDLifetimeError("energies must have shape (T, K)")
        L = int(round(self.max_lag / self.dt)) + 1
        Tb = E.shape[0] // self.blocks
        if Tb < 2 * L:
            raise MDLifetimeError(f"each of the {self.blocks} blocks has {Tb} samples, fewer than twice the "
                                  f"{L} lags of max_lag = {self.max_lag}: run longer or use fewer blocks")
        if self._acf_sum is not None and self._acf_sum.shape != (L, E.shape[1]):
            raise MDLifetimeError("runs with different numbers of modes cannot be accumulated")
        for b in range(self.blocks):
            seg = E[b * Tb:(b + 1) * Tb]
            acf, var = energy_autocorrelation(seg, L, self.mean)
            if np.any(var <= 0):
                raise MDLifetimeError("a mode energy does not fluctuate (constant E_k): no lifetime")
            self._block_C.append(acf / var)
            if self._acf_sum is None:
                self._acf_sum = np.zeros_like(acf)
                self._var_sum = np.zeros_like(var)
                self._mean_sum = np.zeros(E.shape[1])
            self._acf_sum += acf
            self._var_sum += var
            self._mean_sum += seg.mean(axis=0)
            self._nblocks += 1
        self._duration += E.shape[0] * self.dt
        self._omega = None if omega is None else np.asarray(omega, float)
        self._mode_index = None if mode_index is None else np.asarray(mode_index)
        self._result = None
        return self

    @property
    def result(self) -> MDLifetimes:
        if self._acf_sum is None:
            raise MDLifetimeError("call compute() first")
        if self._result is None:
            L = self._acf_sum.shape[0]
            t = self.dt * np.arange(L)
            C = self._acf_sum / self._var_sum
            tau_1e, tau_fit = tau_from_acf(t, C, self.fit_min)
            if self._nblocks > 1:
                per = [tau_from_acf(t, Cb, self.fit_min) for Cb in self._block_C]
                a = np.array([p[0] for p in per])
                f = np.array([p[1] for p in per])
                with np.errstate(invalid="ignore"):
                    e1 = np.nanstd(a, axis=0, ddof=1) / np.sqrt(np.sum(np.isfinite(a), axis=0))
                    ef = np.nanstd(f, axis=0, ddof=1) / np.sqrt(np.sum(np.isfinite(f), axis=0))
            else:
                e1 = np.full(C.shape[1], np.nan)
                ef = np.full(C.shape[1], np.nan)
            self._result = MDLifetimes(omega=self._omega, mode_index=self._mode_index, t=t, acf=C,
                                       tau_1e=tau_1e, tau_fit=tau_fit, tau_1e_err=e1, tau_fit_err=ef,
                                       mean_energy=self._mean_sum / self._nblocks, nblocks=self._nblocks,
                                       duration=self._duration)
        return self._result


def md_lifetimes(paths, dt: float, max_lag: float, blocks: int = 4, projection=None,
                 fit_min: float = 0.15, mean=None) -> MDLifetimes:
    """Lifetimes from one or more ``fix ave/time`` files of ``compute mode/energy`` (independent runs).

    Parameters
    ----------
    paths : path or list of paths
    dt : float
        Time step (time units); the record interval is read from the files' steps.
    projection : path or ModeProjection, optional
        The mode-projection file the runs used: gives the modes' frequencies and indices.
    mean : None, float or ndarray
        Known ``<E_k>`` (``k_B T``): see :class:`EnergyAutocorrelation`. Recommended.
    """
    from glassmodes.anharmonic.projection import ModeProjection, read_mode_projection

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    omega = mode_index = None
    if projection is not None:
        proj = projection if isinstance(projection, ModeProjection) else read_mode_projection(projection)
        omega, mode_index = proj.omega, proj.mode_index
    acc = None
    for i, p in enumerate(paths):
        steps, E = read_mode_energy_series(p)
        if steps.size < 2:
            raise MDLifetimeError(f"{p}: fewer than two records")
        if omega is not None and E.shape[1] != omega.size:
            raise MDLifetimeError(f"{p}: {E.shape[1]} modes, the projection file has {omega.size}")
        step_dt = dt * float(steps[1] - steps[0])
        if acc is None:
            acc = EnergyAutocorrelation(dt=step_dt, max_lag=max_lag, blocks=blocks, fit_min=fit_min, mean=mean)
        elif not math.isclose(acc.dt, step_dt):
            raise MDLifetimeError(f"{p}: record interval {step_dt} differs from the first file's {acc.dt}")
        acc.compute(E, reset=(i == 0), omega=omega, mode_index=mode_index)
    if acc is None:
        raise MDLifetimeError("no file given")
    return acc.result
