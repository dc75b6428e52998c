"""Quasi-harmonic Green-Kubo (QHGK) thermal conductivity, its Allen-Feldman limit, and diffusivities.

References: Isaeva, Barbalinardo, Donadio and Baroni, Nat. Commun. 10, 3853 (2019) (QHGK);
Allen and Feldman, Phys. Rev. B 48, 12581 (1993) (harmonic limit); Xiang, Patinet, Volz and Zhou
(Xiang et al. 2022: modal kappa, diagonal/off-diagonal split, QVM share). Derivations: ``docs/transport.md``.

With the flux products of :mod:`glassmodes.transport.flux` (``W = sum_a (S^a)^2``), the linewidths
``Gamma_mu`` (energy-decay rates, FWHM of the spectral line, :class:`glassmodes.anharmonic.Lifetimes`
``gamma``; ``tau_mu = 1/Gamma_mu``) and the generalized heat capacity ``C_munu``
(:mod:`glassmodes.transport.heat_capacity`):

    g_munu   = (Gamma_mu + Gamma_nu) / 2,      tau_munu = g / ((omega_mu - omega_nu)^2 + g^2)   (tau_mumu = 1/Gamma)
    D_munu   = ftm2v^2 W_munu tau_munu / (4 d omega_mu omega_nu)      scalar diffusivity, distance^2/time
    kappa    = (1/V) sum_{mu != nu} C_munu D_munu                      ((1/d) trace of kappa^ab)
    kappa(mu) = (1/V) sum_nu C_munu D_munu,    D(mu) = sum_nu D_munu,   kappa_c(omega) = sum_{omega_mu <= omega} kappa(mu)

The product of two amplitude correlations ``cos(omega t) exp(-Gamma t / 2)`` decays at ``g`` and
beats at ``omega_mu - omega_nu``; its time integral is ``tau_munu``. The Allen-Feldman limit takes
``Gamma_mu = eta`` for every mode: ``tau_munu = pi L_eta(omega_mu - omega_nu)``, ``L_eta`` the
normalized Lorentzian of half width ``eta``. kALDo's ``diffusivity_bandwidth`` ``b`` is a quarter of
the FWHM of its kernel: ``b = eta / 2`` reproduces ``Gamma_mu = eta`` here, and its default (the
anharmonic bandwidth / 2) is this module's QHGK kernel.

The "diagonal" (single-mode) part takes the pairs with ``|omega_mu - omega_nu| <= omega_s``; the
paper's ``f_s = 0.042 t0^-1`` (cyclic) is ``omega_s = 0.264 rad/t0``. The split depends on ``omega_s``
relative to the linewidths, so it is reported for several ``omega_s``.

Units: ``C`` in kB, kappa in kB/(distance^(d-2) time) of the unit style, i.e. kB/(sigma t0) in ``lj``
(3D); ``kappa_si`` = kappa x kB [energy/temperature] x :data:`KAPPA_TO_SI` in W/m/K for ``metal``,
``real`` and ``si`` (3D).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from glassmodes.transport.heat_capacity import generalized_heat_capacity, mode_heat_capacity

# energy/(temperature distance time) of the unit style -> W/(m K) (3D); kappa is first multiplied by kB.
KAPPA_TO_SI = {
    "metal": 1.602176634e-19 / (1e-10 * 1e-12),            # eV/(K A ps)
    "real": 4184.0 / 6.02214076e23 / (1e-10 * 1e-15),       # kcal/mol/(K A fs)
    "si": 1.0,
}
PAPER_BAND = 2 * math.pi * 0.042     # rad/t0: Xiang et al.'s f_s = 0.042 t0^-1 (cyclic)


class TransportError(ValueError):
    """Inputs that cannot give a conductivity (T <= 0, bad linewidths, missing hbar, ...)."""


# ---- linewidths per temperature ---------------------------------------------------------------
@dataclass(frozen=True)
class Linewidths:
    """Energy-decay rates ``Gamma_mu(T)`` of the flux modes, per temperature.

    Build with :meth:`constant` (Allen-Feldman), :meth:`classical` (one run, ``Gamma ~ T``) or
    :meth:`per_temperature` (one array per temperature, e.g. quantum runs).

    Attributes
    ----------
    kind : "constant", "classical" or "per-temperature"
    values : dict
        Temperature (or None) -> ndarray shape=(m,), rate units (1/time).
    reference_temperature : float or None
    limit : str
        Of the lifetimes run ("classical", "quantum", or "harmonic" for a constant width).
    source : str
    """

    kind: str
    values: dict
    reference_temperature: float | None = None
    limit: str = "classical"
    source: str = ""
    lifetimes: object = None      # kind "reweighted": Lifetimes with partner weights
    rows: np.ndarray | None = None  # their rows of the flux modes

    @staticmethod
    def _check(g, m: int, what: str) -> np.ndarray:
        g = np.asarray(g, dtype=float)
        if g.shape != (m,):
            raise TransportError(f"{what}: {g.shape} linewidths, expected ({m},), one per flux mode")
        if not np.all(np.isfinite(g)):
            raise TransportError(f"{what}: {int((~np.isfinite(g)).sum())} linewidths are NaN or infinite")
        if (g < 0).any():
            raise TransportError(f"{what}: {int((g < 0).sum())} negative linewidths (min {g.min():g})")
        return g

    @classmethod
    def constant(cls, eta: float, m: int) -> "Linewidths":
        if not (eta > 0 and math.isfinite(eta)):
            raise TransportError(f"the Allen-Feldman width eta must be > 0, got {eta}")
        return cls("constant", {None: np.full(m, float(eta))}, None, "harmonic", f"constant eta = {eta:g}")

    @classmethod
    def classical(cls, gamma, temperature: float, source: str = "") -> "Linewidths":
        g = np.asarray(gamma, dtype=float)
        if not temperature > 0:
            raise TransportError(f"the lifetimes' temperature must be > 0, got {temperature}")
        return cls("classical", {float(temperature): cls._check(g, g.size, source or "linewidths")},
                   float(temperature), "classical", source)

    @classmethod
    def per_temperature(cls, table: dict, limit: str = "quantum", source: str = "") -> "Linewidths":
        if not table:
            raise TransportError("no linewidths given")
        m = next(iter(table.values())).size
        return cls("per-temperature", {float(T): cls._check(g, m, f"{source} T = {T}") for T, g in table.items()},
                   None, limit, source)

    @classmethod
    def from_lifetimes(cls, lifetimes, flux) -> "Linewidths":
        """From a :class:`glassmodes.anharmonic.Lifetimes` of every flux mode: quantum ones must carry
        partner weights (``partner_weights=True``) and are re-weighted at each temperature
        (:func:`glassmodes.anharmonic.reweight`, exact); classical ones scale with T."""
        pos = {int(k): i for i, k in enumerate(lifetimes.modes)}
        missing = [int(k) for k in flux.mode_index if int(k) not in pos]
        if missing:
            raise TransportError(f"linewidths missing for {len(missing)} of the {flux.nmodes} flux modes "
                                 f"(first: {missing[:5]})")
        rows = np.array([pos[int(k)] for k in flux.mode_index])
        if lifetimes.limit == "classical":
            return cls.classical(lifetimes.gamma[rows], lifetimes.temperature, source="lifetimes (classical)")
        if lifetimes.partners is None:
            return cls.per_temperature({lifetimes.temperature: lifetimes.gamma[rows]}, "quantum", "lifetimes")
        cls._check(lifetimes.gamma[rows], flux.nmodes, "lifetimes")
        return cls("reweighted", {}, lifetimes.temperature, "quantum",
                   f"quantum lifetimes at T = {lifetimes.temperature:g}, re-weighted per temperature",
                   lifetimes=lifetimes, rows=rows)

    def at(self, temperature: float) -> np.ndarray:
        """``Gamma(T)``: constant; ``Gamma_ref T / T_ref`` (classical); the stored array (exact T);
        re-weighted partner weights (quantum, any T)."""
        if self.kind == "constant":
            return self.values[None]
        if self.kind == "reweighted":
            from glassmodes.anharmonic.lifetimes import reweight

            g = reweight(self.lifetimes, temperature).gamma[self.rows]
            g = np.where((g < 0) & (g >= -1e-12 * np.abs(g).max()), 0.0, g)     # round-off of the sums
            return self._check(g, self.rows.size, f"re-weighted linewidths at T = {temperature:g}")
        if self.kind == "classical":
            return self.values[self.reference_temperature] * (temperature / self.reference_temperature)
        for T, g in self.values.items():
            if abs(T - temperature) <= 1e-9 * max(abs(T), abs(temperature)):
                return g
        raise TransportError(f"no {self.limit} linewidths at T = {temperature:g} (have T = "
                             f"{sorted(self.values)}): quantum linewidths are needed at every temperature")


def read_linewidths(path, flux, omega_rtol: float = 1e-6) -> tuple[np.ndarray, dict]:
    """Linewidths of the flux modes from a ``glassmodes lifetimes`` CSV: ``(gamma (m,), meta)``.

    Every flux mode must be in the table (same mode indices, frequencies equal to ``omega_rtol``
    times the largest), else :class:`TransportError`.
    """
    from glassmodes.anharmonic.report import read_table

    try:
        meta, cols = read_table(path)
    except (OSError, ValueError) as exc:
        raise TransportError(f"{path}: cannot read a lifetimes table ({exc})") from None
    for key in ("mode", "omega", "gamma"):
        if key not in cols:
            raise TransportError(f"{path}: no column {key!r} (a glassmodes lifetimes table has mode, omega, gamma)")
    if "temperature" not in meta or "limit" not in meta:
        raise TransportError(f"{path}: the header gives no temperature/limit")
    mode = cols["mode"].astype(np.int64)
    pos = {int(k): i for i, k in enumerate(mode)}
    missing = [int(k) for k in flux.mode_index if int(k) not in pos]
    if missing:
        raise TransportError(f"{path}: linewidths missing for {len(missing)} of the {flux.nmodes} modes (first: "
                             f"{missing[:5]}); the conductivity needs every mode (glassmodes lifetimes without a "
                             "mode selection)")
    rows = np.array([pos[int(k)] for k in flux.mode_index])
    dw = np.abs(cols["omega"][rows] - flux.omega)
    if dw.max() > omega_rtol * float(flux.omega.max()):
        k = int(dw.argmax())
        raise TransportError(f"{path}: mode {int(flux.mode_index[k])} has omega {cols['omega'][rows][k]:.8g} in the "
                             f"table and {flux.omega[k]:.8g} in the flux file: different structures")
    if meta.get("units") not in (None, flux.units):
        raise TransportError(f"{path}: units {meta.get('units')!r}, the flux file {flux.units!r}")
    return cols["gamma"][rows], meta


def load_linewidths(paths, flux) -> Linewidths:
    """:class:`Linewidths` from one classical table, or one quantum table per temperature."""
    paths = [paths] if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__") else list(paths)
    tables = [(p, *read_linewidths(p, flux)) for p in paths]
    limits = {t[2]["limit"] for t in tables}
    if len(limits) > 1:
        raise TransportError(f"lifetimes tables of different limits {sorted(limits)}")
    limit = limits.pop()
    if limit == "classical":
        if len(tables) > 1:
            raise TransportError("classical linewidths scale with T: give one classical lifetimes table")
        p, g, meta = tables[0]
        return Linewidths.classical(g, float(meta["temperature"]), source=str(p))
    hbars = {t[2].get("hbar") for t in tables}
    if len(hbars) > 1:
        raise TransportError(f"quantum lifetimes tables with different hbar {sorted(map(str, hbars))}")
    return Linewidths.per_temperature({float(m["temperature"]): g for _, g, m in tables}, "quantum",
                                      source=",".join(str(t[0]) for t in tables))


# ---- results -----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConductivitySweep:
    """Conductivity over temperatures (index t) for the ``m`` flux modes (index mu).

    Attributes
    ----------
    temperature : ndarray, shape=(nT,)
    kappa : ndarray, shape=(nT,)
        Scalar conductivity ``(1/d) tr kappa^ab``, ``kappa_unit``.
    kappa_tensor : ndarray, shape=(nT, d, d), or None
        When the flux file holds ``S``.
    kappa_modal : ndarray, shape=(nT, m)
        ``kappa(mu)``; sums to ``kappa``.
    diffusivity : ndarray, shape=(nT, m)
        ``D(mu) = sum_nu D_munu``, distance^2/time (for a constant C this is Allen-Feldman's D_mu).
    mode_heat_capacity : ndarray, shape=(nT, m)
        ``c(x_mu)`` in kB (1 classically).
    heat_capacity : ndarray, shape=(nT,)
        ``C(T) = sum_mu c`` in kB (the sample; divide by ``natoms`` per atom).
    bands : ndarray, shape=(nb,)
        ``omega_s`` of the diagonal/off-diagonal splits, ``omega_unit``.
    kappa_diagonal : ndarray, shape=(nT, nb)
        Part from pairs with ``|omega_mu - omega_nu| <= omega_s`` (the rest is off-diagonal).
    kappa_modal_diagonal : ndarray, shape=(nT, nb, m)
    gamma : ndarray, shape=(nT, m)
        Linewidths used (after the floor), rate units.
    floored : ndarray of int, shape=(nT,)
        Modes whose linewidth was raised to ``eta_min``.
    omega, participation : ndarray, shape=(m,)
    eta_min : float
    limit : "classical" or "quantum"
    kernel : "qhgk" or "allen-feldman"
    hbar, kB : float
        ``hbar`` NaN classically.
    units, omega_unit, kappa_unit, diffusivity_unit : str
    kappa_si : ndarray, shape=(nT,), or None
        W/m/K where the unit style has a conversion (metal, real, si; 3D).
    natoms, dimension : int
    volume : float
    seconds : float
    """

    temperature: np.ndarray
    kappa: np.ndarray
    kappa_tensor: np.ndarray | None
    kappa_modal: np.ndarray
    diffusivity: np.ndarray
    mode_heat_capacity: np.ndarray
    heat_capacity: np.ndarray
    bands: np.ndarray
    kappa_diagonal: np.ndarray
    kappa_modal_diagonal: np.ndarray
    gamma: np.ndarray
    floored: np.ndarray
    omega: np.ndarray
    participation: np.ndarray
    eta_min: float
    limit: str
    kernel: str
    hbar: float
    kB: float
    units: str
    omega_unit: str
    kappa_unit: str
    diffusivity_unit: str
    kappa_si: np.ndarray | None
    natoms: int
    dimension: int
    volume: float
    seconds: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def kappa_offdiagonal(self) -> np.ndarray:
        """shape=(nT, nb)."""
        return self.kappa[:, None] - self.kappa_diagonal

    def cumulative(self, t: int = 0) -> np.ndarray:
        """``kappa_c(omega_mu) = sum_{nu <= mu} kappa(nu)`` at temperature index t, shape=(m,)."""
        return np.cumsum(self.kappa_modal[t])

    def class_shares(self, labels: np.ndarray, names) -> dict:
        """Per class (labels from :mod:`glassmodes.analysis.classify`): kappa, shape=(nT,), per name."""
        labels = np.asarray(labels)
        return {name: self.kappa_modal[:, labels == c].sum(axis=1) for c, name in enumerate(names)}


# ---- the computation --------------------------------------------------------------------------
def _units(units: str, dimension: int):
    from glassmodes.modes.core import UNIT_TIME

    tu = UNIT_TIME.get(units, ("time", 1.0))[0]
    if units == "lj":
        ku = "kB/(sigma t0)" if dimension == 3 else "kB/t0 (2D)"
        du = "sigma^2/t0"
    else:
        ku = f"kB/(distance {tu}) [{units}]" if dimension == 3 else f"kB/{tu} [{units}] (2D)"
        du = f"distance^2/{tu} [{units}]"
    return ku, du, (KAPPA_TO_SI.get(units) if dimension == 3 else None)


def conductivity(flux, temperatures, linewidths: Linewidths, *, limit: str = "classical", hbar: float | None = None,
                 kB: float | None = None, eta_min: float | None = None, bands=None, tensor: bool = True,
                 degenerate_tol: float = 1e-9, block: int = 256, progress=None) -> ConductivitySweep:
    """QHGK (or Allen-Feldman) conductivity of one sample over a list of temperatures.

    Parameters
    ----------
    flux : :class:`glassmodes.transport.flux.FluxProducts`
    temperatures : sequence of float
        LAMMPS temperature units, each > 0.
    linewidths : :class:`Linewidths`
        ``Linewidths.constant(eta, m)`` gives the Allen-Feldman limit (HWHM of the pair Lorentzian eta).
    limit : "classical" or "quantum"
        Heat capacity: ``C = kB`` or the Bose-Einstein ``C_munu`` (needs ``hbar``).
    hbar, kB : float, optional
        Energy x time and energy/temperature; default the unit style's (``lj``: ``kB = 1``, ``hbar``
        required for the quantum limit, e.g. 0.0296 for the argon mapping).
    eta_min : float, optional
        Floor of the linewidths (modes with no partner have ``Gamma = 0``); default the mean level
        spacing ``(omega_max - omega_min) / (m - 1)``. Must be > 0.
    bands : sequence of float, optional
        ``omega_s`` of the diagonal/off-diagonal splits (default 0.5, 1, 2 x 0.264 in lj units;
        else 0.5, 1, 2 x 0.02 omega_max).
    tensor : bool
        Compute ``kappa^ab`` when ``flux.S`` is present.
    degenerate_tol : float
        See :func:`glassmodes.transport.heat_capacity.generalized_heat_capacity`.
    block : int
        Rows per block (memory ~ a few ``block x m`` arrays).
    """
    from glassmodes.anharmonic.lifetimes import LifetimeError, thermal_constants

    t_start = time.perf_counter()
    T = np.atleast_1d(np.asarray(temperatures, dtype=float))
    if T.size == 0:
        raise TransportError("no temperature given")
    if not np.all(np.isfinite(T)) or (T <= 0).any():
        raise TransportError(f"temperatures must be > 0, got {T[(T <= 0) | ~np.isfinite(T)].tolist()}")
    if limit not in ("classical", "quantum"):
        raise TransportError(f"limit must be 'classical' or 'quantum', got {limit!r}")
    try:
        kT1, hb = thermal_constants(flux.units, 1.0, limit, hbar, kB)
    except LifetimeError as exc:
        raise TransportError(str(exc)) from None
    kB_ = kT1
    w = np.asarray(flux.omega, float)
    m = w.size
    d = flux.dimension
    if (w <= 0).any():
        raise TransportError("the flux modes must have omega > 0")
    if eta_min is None:
        eta_min = (w[-1] - w[0]) / max(m - 1, 1)
    if not (eta_min > 0 and math.isfinite(eta_min)):
        raise TransportError(f"eta_min must be > 0, got {eta_min}")
    if bands is None:
        base = PAPER_BAND if flux.units == "lj" else 0.02 * float(w.max())
        bands = [0.5 * base, base, 2 * base]
    bands = np.asarray(bands, dtype=float)
    if (bands < 0).any():
        raise TransportError("bands must be >= 0")
    S = flux.S if (tensor and flux.S is not None) else None
    nT, nb = T.size, bands.size
    gam = np.empty((nT, m))
    floored = np.zeros(nT, dtype=np.int64)
    for t, temp in enumerate(T):
        g = np.asarray(linewidths.at(float(temp)), dtype=float)
        if g.shape != (m,):
            raise TransportError(f"{g.shape} linewidths for {m} flux modes")
        floored[t] = int((g < eta_min).sum())
        gam[t] = np.maximum(g, eta_min)
    x = None if limit == "classical" else (hb * w[None, :] / (kB_ * T[:, None]))
    kmodal = np.zeros((nT, m))
    diff = np.zeros((nT, m))
    kdiag = np.zeros((nT, nb, m))
    ktens = np.zeros((nT, d, d)) if S is not None else None
    pref_all = flux.ftm2v**2 / (4.0 * d)
    t0 = time.perf_counter()
    nblocks = -(-m // block)
    for ib, r0 in enumerate(range(0, m, block)):
        r1 = min(m, r0 + block)
        rows = np.arange(r0, r1)
        wr = w[r0:r1]
        dw = wr[:, None] - w[None, :]
        dw2 = dw * dw
        base = flux.W[r0:r1] * (pref_all / (wr[:, None] * w[None, :]))
        base[np.arange(r1 - r0), rows] = 0.0            # mu = nu: S_mumu = 0 (round-off only)
        lo = np.searchsorted(w, wr[:, None] - bands[None, :], "left")       # (b, nb)
        hi = np.searchsorted(w, wr[:, None] + bands[None, :], "right")
        Sab = None
        if S is not None:
            Sab = S[:, r0:r1, :].astype(float)
            Sab = Sab[:, None] * Sab[None, :] * (flux.ftm2v**2 / (4.0 * wr[:, None] * w[None, :]))
        for t in range(nT):
            g = 0.5 * (gam[t, r0:r1, None] + gam[t, None, :])
            tau = g / (dw2 + g * g)
            Dm = base * tau
            diff[t, r0:r1] = Dm.sum(axis=1)
            if x is not None:
                C = generalized_heat_capacity(x[t, r0:r1], x[t], degenerate_tol)
                K = C * Dm
            else:
                C = None
                K = Dm
            kmodal[t, r0:r1] = K.sum(axis=1) / flux.volume
            cs = np.concatenate([np.zeros((r1 - r0, 1)), np.cumsum(K, axis=1)], axis=1)
            kdiag[t, :, r0:r1] = ((np.take_along_axis(cs, hi, axis=1) - np.take_along_axis(cs, lo, axis=1)).T
                                  / flux.volume)
            if Sab is not None:
                fac = tau if C is None else tau * C
                fac = fac.copy()
                fac[np.arange(r1 - r0), rows] = 0.0
                ktens[t] += np.einsum("abij,ij->ab", Sab, fac) / flux.volume
        if progress and (ib % 10 == 0 or ib == nblocks - 1):
            progress(f"conductivity: rows {r1}/{m}, {nT} temperatures ({time.perf_counter() - t0:.1f} s)")
    if limit == "classical":
        cmode = np.ones((nT, m))
    else:
        cmode = mode_heat_capacity(x)
    kappa = kmodal.sum(axis=1)
    ku, du, si = _units(flux.units, d)
    from glassmodes.modes.core import UNIT_TIME

    tu = UNIT_TIME.get(flux.units, ("time", 1.0))[0]
    return ConductivitySweep(
        temperature=T, kappa=kappa, kappa_tensor=ktens, kappa_modal=kmodal, diffusivity=diff,
        mode_heat_capacity=cmode, heat_capacity=cmode.sum(axis=1), bands=bands, kappa_diagonal=kdiag.sum(axis=2),
        kappa_modal_diagonal=kdiag, gamma=gam, floored=floored, omega=w, participation=np.asarray(flux.participation),
        eta_min=float(eta_min), limit=limit, kernel="allen-feldman" if linewidths.kind == "constant" else "qhgk",
        hbar=hb, kB=kB_, units=flux.units, omega_unit=flux.omega_unit, kappa_unit=ku, diffusivity_unit=du,
        kappa_si=None if si is None else kappa * kB_ * si, natoms=flux.natoms, dimension=d, volume=flux.volume,
        seconds=time.perf_counter() - t_start,
        meta={"linewidths": linewidths.kind, "linewidth_limit": linewidths.limit, "linewidth_source": linewidths.source,
              "reference_temperature": linewidths.reference_temperature, "time_unit": tu},
    )


def pair_maps(flux, modes, temperature: float, linewidths: Linewidths, *, limit: str = "classical",
              hbar: float | None = None, kB: float | None = None, eta_min: float | None = None):
    """``C(mu, nu)`` (kB) and ``D(mu, nu)`` (distance^2/time) for chosen rows ``modes`` (flux indices).

    Returns ``(C, D)``, each shape=(len(modes), m) (Xiang et al. 2022, Figs. 3-4: maps against omega_nu).
    """
    from glassmodes.anharmonic.lifetimes import LifetimeError, thermal_constants

    if not temperature > 0:
        raise TransportError(f"temperature must be > 0, got {temperature}")
    try:
        kT, hb = thermal_constants(flux.units, temperature, limit, hbar, kB)
    except LifetimeError as exc:
        raise TransportError(str(exc)) from None
    w = np.asarray(flux.omega, float)
    rows = np.asarray(modes, dtype=np.int64)
    if eta_min is None:
        eta_min = (w[-1] - w[0]) / max(w.size - 1, 1)
    g = np.maximum(linewidths.at(temperature), eta_min)
    gg = 0.5 * (g[rows, None] + g[None, :])
    dw = w[rows, None] - w[None, :]
    tau = gg / (dw * dw + gg * gg)
    D = flux.W[rows] * flux.ftm2v**2 / (4.0 * flux.dimension * w[rows, None] * w[None, :]) * tau
    D[np.arange(rows.size), rows] = 0.0
    if limit == "classical":
        C = np.ones_like(D)
    else:
        C = generalized_heat_capacity(hb * w[rows] / kT, hb * w / kT)
    return C, D
