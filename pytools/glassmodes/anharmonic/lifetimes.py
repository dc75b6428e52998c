"""Three-phonon (cubic) decay rates of the vibrational modes, quantum and classical.

Mizuno, Tong, Ikeda and Mossa (2020), Eqs. (10)-(14); the derivation and every convention are in
``docs/lifetimes.md``. In mass-weighted normal coordinates ``q_k`` the potential energy is

    U = sum_k w_k^2 q_k^2 / 2 + (1/6) sum_{klm} V_klm q_k q_l q_m + ...,
    V_klm = sum_{abc} Phi3_{abc} e_{k,a} e_{l,b} e_{m,c} / sqrt(m_a m_b m_c),

(``e_k`` the unit mass-weighted eigenvectors, ``Phi3_abc = d^3 U / dx_a dx_b dx_c``; for a pair
potential this is Mizuno et al. (2020), Eq. (11)-(12), written out in ``docs/lifetimes.md``), and Fermi's
golden rule for the occupation ``n_k`` of mode k gives the relaxation rate

    Gamma_k = (pi / 4) sum_{l,m} |V_klm|^2 / (w_k w_l w_m)
              [ 1/2 F_s(l, m) delta(w_k - w_l - w_m)  +  F_c(l, m) delta(w_k + w_l - w_m) ],
    quantum:   F_s = hbar (1 + n_l + n_m),      F_c = hbar (n_l - n_m),   n = 1/(exp(hbar w/kT) - 1)
    classical: F_s = kT (1/w_l + 1/w_m),        F_c = kT (1/w_l - 1/w_m)  (the hbar -> 0 limit)

(the first term: k splits into l + m; the second: k and l combine into m). On the energy shell
the classical ``F_s``, ``F_c`` both equal ``kT w_k / (w_l w_m)``, which is Mizuno et al. (2020), Eq. (13).

**Convention.** ``Gamma_k`` is the decay rate of the mode's *energy* (its occupation number):
``<dE_k(t) dE_k(0)> ~ exp(-Gamma_k t)``, what the MD route measures
(:mod:`glassmodes.anharmonic.md`), and ``tau_k = 1 / Gamma_k``. The amplitude
``<q_k(t) q_k(0)>`` decays at ``Gamma_k / 2`` (the half width at half maximum of the mode's
spectral line is ``Gamma_k / 2``, the full width ``Gamma_k``).

Algorithm
---------
Per pivot mode ``y`` the third-order tensor is contracted with ``e_y`` into the sparse matrix
``A_y = Phi3~ . e_y`` (the Hessian's sparsity), then ``B_y = A_y E`` for the columns needed, and
``V_y[z, x] = e_z^T B_y[:, x]`` only for (z, x) inside the energy windows ``|w_x - w_y - w_z| <=
c sigma``: with the modes sorted by frequency these are bands, computed as dense blocks
``E[:, z-band]^T B_y[:, x-chunk]``. Neither V nor the tensor is ever stored; memory is the
eigenvector matrix (``8 (dN)^2`` bytes) plus ``block * dN * chunk`` for B.

* ``method="triples"`` (all modes at once): every resonant triple is evaluated once, pivoting on
  its smallest-frequency child ``y`` (``w_y <= w_z``, parent ``w_x ~ w_y + w_z``), and adds to
  the split rate of the parent and the combine rates of both children. Only pivots with
  ``2 w_y <= w_max + window`` and columns ``w_x >= 2 w_y - window`` are needed.
* ``method="direct"`` (any subset of modes): per target k, both channels from ``A_k E``.

Several pivots share one sparse-times-dense product: their contracted values are stacked and each
atom's rows are multiplied as one small dense GEMM (``(q d) x K`` times ``K x chunk``), which runs
at BLAS speed where ``scipy.sparse`` is memory bound. MPI: pivots are distributed cyclically over
``comm``'s ranks; one ``Allreduce`` at the end.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

# LAMMPS unit style -> (boltz, hplanck) as LAMMPS' Update::set_units defines them.
UNIT_CONSTANTS = {
    "lj": (1.0, None),    # hbar has no value in reduced units: pass hbar= for the quantum limit
    "real": (0.0019872067, 95.306976368),
    "metal": (8.617343e-5, 4.135667403e-3),
    "si": (1.3806504e-23, 6.62606896e-34),
    "cgs": (1.3806504e-16, 6.62606896e-27),
}


class LifetimeError(ValueError):
    """Inputs that cannot give decay rates (mismatched files, T <= 0, empty windows, ...)."""


# ---- smearing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Smearing:
    """How the energy-conserving delta functions are broadened.

    Attributes
    ----------
    kind : "gaussian" or "lorentzian"
        Gaussian ``exp(-x^2/2s^2) / (s sqrt(2 pi))`` or Lorentzian ``(s/pi) / (x^2 + s^2)``.
    width : float or None
        Fixed width ``s`` (rad per time unit). Exactly one of ``width`` and ``adaptive``.
    adaptive : float or None
        Width per triple ``s = adaptive * max(D_k, D_l, D_m)`` with ``D_i`` the local mean level
        spacing of the spectrum at ``w_i`` (over ``2 * spacing_window`` neighbouring modes).
    cutoff : float or None
        Window half-width in units of ``s``: the kernel is zero beyond (default 5 Gaussian, a
        truncated weight of 6e-7; 50 Lorentzian, a truncated weight of 1.3 %).
    min_width : float
        Lower bound of adaptive widths.
    spacing_window : int
    """

    kind: str = "gaussian"
    width: float | None = None
    adaptive: float | None = None
    cutoff: float | None = None
    min_width: float = 0.0
    spacing_window: int = 8

    def __post_init__(self):
        if self.kind not in ("gaussian", "lorentzian"):
            raise LifetimeError(f"smearing kind must be 'gaussian' or 'lorentzian', got {self.kind!r}")
        if (self.width is None) == (self.adaptive is None):
            raise LifetimeError("give exactly one of smearing width= and adaptive=")
        if self.width is not None and not (self.width > 0 and math.isfinite(self.width)):
            raise LifetimeError(f"smearing width must be > 0, got {self.width}")
        if self.adaptive is not None and not self.adaptive > 0:
            raise LifetimeError(f"adaptive smearing factor must be > 0, got {self.adaptive}")
        if self.cutoff is not None and not self.cutoff > 0:
            raise LifetimeError(f"smearing cutoff must be > 0, got {self.cutoff}")

    @property
    def window(self) -> float:
        """Half-width of the window in units of the width."""
        if self.cutoff is not None:
            return float(self.cutoff)
        return 5.0 if self.kind == "gaussian" else 50.0

    def widths(self, omega: np.ndarray) -> np.ndarray:
        """Per-mode widths ``s_i`` (the triple's width is the largest of its three)."""
        n = omega.size
        if self.width is not None:
            return np.full(n, float(self.width))
        K = max(1, int(self.spacing_window))
        idx = np.arange(n)
        lo = np.clip(idx - K, 0, n - 1)
        hi = np.clip(idx + K, 0, n - 1)
        span = np.maximum(hi - lo, 1)
        spacing = (omega[hi] - omega[lo]) / span
        return np.maximum(self.adaptive * spacing, self.min_width)

    def kernel(self, x: np.ndarray, s) -> np.ndarray:
        """Broadened delta at ``x`` (1/frequency), zero for ``|x| > window * s``."""
        c = self.window
        if self.kind == "gaussian":
            out = np.exp(-0.5 * (x / s) ** 2) / (s * math.sqrt(2 * math.pi))
        else:
            out = (s / math.pi) / (x * x + s * s)
        return np.where(np.abs(x) <= c * s, out, 0.0)

    def describe(self) -> str:
        w = f"width {self.width}" if self.width is not None else f"adaptive {self.adaptive} x level spacing"
        return f"{self.kind}, {w}, cut at {self.window} widths"


# ---- results ------------------------------------------------------------------------------------
class RateTotals:
    """``gamma`` and ``tau`` of a result holding ``gamma_split`` and ``gamma_combine``."""

    @property
    def gamma(self) -> np.ndarray:
        """Total energy decay rate ``Gamma_k``, ``rate_unit``."""
        return self.gamma_split + self.gamma_combine

    @property
    def tau(self) -> np.ndarray:
        """Lifetime ``1 / Gamma_k`` (time units; inf where no partner is inside the windows)."""
        with np.errstate(divide="ignore"):
            return 1.0 / self.gamma


@dataclass(frozen=True, eq=False)
class Lifetimes(RateTotals):
    """Decay rates of a set of modes (Mizuno et al. 2020, Eqs. (10), (13), (14)).

    Attributes
    ----------
    modes : ndarray of int, shape=(k,)
        Indices into the mode set (the mode file's ``/frequencies``).
    omega : ndarray, shape=(k,)
        Angular frequencies, ``omega_unit``.
    gamma_split, gamma_combine : ndarray, shape=(k,)
        Energy decay rates of the two channels (k -> l + m; k + l -> m), ``rate_unit``.
    jdos_split, jdos_combine : ndarray, shape=(k,)
        Joint two-mode density of states at ``omega`` with the same smearing, Eq. (14):
        ``1/n^2 sum_{l,m} [delta(w_k - w_l - w_m)/2]`` and ``1/n^2 sum_{l,m} delta(w_k + w_l - w_m)``,
        ``n`` the number of non-zero modes; units 1/omega_unit.
    pairs_split, pairs_combine : ndarray of int, shape=(k,)
        Ordered (l, m) pairs inside the windows (0: the smearing leaves that mode without partners).
    temperature : float
        LAMMPS temperature units.
    limit : "classical" or "quantum"
    kT, hbar : float
        Energy units (``hbar`` NaN in the classical limit when not given).
    smearing : Smearing
    units, omega_unit, rate_unit : str
    method : str
        "triples" or "direct".
    nmodes_total : int
        Non-zero modes summed over (``n``).
    seconds : float
    stats : dict
        Work done: pivots, GEMM flops, sparse flops, peak bytes of the work arrays.
    """

    modes: np.ndarray
    omega: np.ndarray
    gamma_split: np.ndarray
    gamma_combine: np.ndarray
    jdos_split: np.ndarray
    jdos_combine: np.ndarray
    pairs_split: np.ndarray
    pairs_combine: np.ndarray
    temperature: float
    limit: str
    kT: float
    hbar: float
    smearing: Smearing
    units: str = "lj"
    omega_unit: str = "rad/tau"
    rate_unit: str = "1/tau"
    method: str = "direct"
    nmodes_total: int = 0
    seconds: float = 0.0
    stats: dict = field(default_factory=dict)
    partners: "PartnerWeights | None" = None

    @property
    def amplitude_rate(self) -> np.ndarray:
        """Decay rate of the amplitude correlation ``<q_k(t) q_k(0)>``: ``Gamma_k / 2``."""
        return 0.5 * self.gamma

    @property
    def jdos(self) -> np.ndarray:
        return self.jdos_split + self.jdos_combine

    def to_dict(self) -> dict:
        return {
            "mode": self.modes, "omega": self.omega, "gamma": self.gamma, "gamma_split": self.gamma_split,
            "gamma_combine": self.gamma_combine, "tau": self.tau, "jdos_split": self.jdos_split,
            "jdos_combine": self.jdos_combine, "pairs_split": self.pairs_split, "pairs_combine": self.pairs_combine,
        }


@dataclass(frozen=True, eq=False)
class PartnerWeights:
    """Temperature-independent partner weights: the rates at any T from one run (``partner_weights=True``).

    Both occupation factors are linear in the per-mode levels ``x_j`` (quantum ``n_j``; classical
    ``kT / omega_j``): ``F_s = s0 + s1 (x_l + x_m)``, ``F_c = s1 (x_l - x_m)`` with ``(s0, s1) =
    (hbar, hbar)`` (quantum) or ``(0, 1)`` (classical). So, exactly (no binning),

        Gamma_split_k(T)   = (pi/4) [s0 base_k + s1 sum_j split_kj x_j(T)],
        Gamma_combine_k(T) = (pi/4) s1 sum_j combine_kj x_j(T),

    ``j`` over the valid modes (``omega``). Memory: two (targets x modes) float64 arrays.

    Attributes
    ----------
    base : ndarray, shape=(k,)
    split, combine : ndarray, shape=(k, n)
    omega : ndarray, shape=(n,)
        Frequencies of the partner modes (the valid modes of the run).
    """

    base: np.ndarray
    split: np.ndarray
    combine: np.ndarray
    omega: np.ndarray


def reweight(lifetimes: "Lifetimes", temperature: float, kB: float | None = None) -> "Lifetimes":
    """The same rates at another temperature from the stored partner weights (same limit, hbar, smearing).

    Exact up to round-off (the rates are linear in the occupations); validated against direct runs.
    """
    pw = lifetimes.partners
    if pw is None:
        raise LifetimeError("these lifetimes carry no partner weights: compute them with partner_weights=True")
    if kB is None:
        kB = lifetimes.kT / lifetimes.temperature
    hbar = lifetimes.hbar if lifetimes.limit == "quantum" else None
    kT, hb = thermal_constants(lifetimes.units, temperature, lifetimes.limit, hbar, kB)
    occ = _Occupation(lifetimes.limit, kT, hb if lifetimes.limit == "quantum" else None, pw.omega)
    s0, s1 = (hb, hb) if lifetimes.limit == "quantum" else (0.0, 1.0)
    pref = 0.25 * math.pi
    gs = pref * (s0 * pw.base + s1 * (pw.split @ occ.x))
    gc = pref * s1 * (pw.combine @ occ.x)
    import dataclasses

    return dataclasses.replace(lifetimes, gamma_split=gs, gamma_combine=gc, temperature=float(temperature), kT=kT,
                               seconds=0.0, stats=dict(lifetimes.stats, reweighted_from=lifetimes.temperature))


@dataclass(frozen=True)
class JointDOS:
    """Joint two-mode density of states on a frequency grid (Mizuno et al. 2020, Eq. (14)).

    ``split(w) = 1/n^2 sum_{l,m} delta(w - w_l - w_m) / 2``,
    ``combine(w) = 1/n^2 sum_{l,m} delta(w + w_l - w_m)``; units 1/omega_unit.
    """

    omega: np.ndarray
    split: np.ndarray
    combine: np.ndarray
    width: float
    kind: str

    @property
    def total(self) -> np.ndarray:
        return self.split + self.combine


def joint_dos(omega, grid, width: float, kind: str = "gaussian", omega_min: float = 0.0) -> JointDOS:
    """Joint two-mode DOS of a spectrum on ``grid`` with a fixed smearing ``width``.

    Exact sums over mode pairs (no binning), in blocks: O(n * window) per grid point.
    """
    w = np.sort(np.asarray(omega, dtype=float))
    w = w[w > omega_min]
    n = w.size
    if n == 0:
        raise LifetimeError("joint_dos: no mode with a positive frequency")
    sm = Smearing(kind=kind, width=width)
    W = sm.window * width
    grid = np.asarray(grid, dtype=float)
    split = np.zeros(grid.size)
    comb = np.zeros(grid.size)
    for g, wk in enumerate(grid):
        # split: pairs with w_l + w_m near wk
        lhi = np.searchsorted(w, wk + W, "right")
        for l0 in range(0, lhi, 512):
            wl = w[l0:min(lhi, l0 + 512)]
            m0 = np.searchsorted(w, wk - wl[-1] - W, "left")
            m1 = np.searchsorted(w, wk - wl[0] + W, "right")
            if m1 > m0:
                split[g] += 0.5 * sm.kernel(wk - wl[:, None] - w[None, m0:m1], width).sum()
            # combine: w_m - w_l near wk
        for l0 in range(0, n, 512):
            wl = w[l0:l0 + 512]
            m0 = np.searchsorted(w, wk + wl[0] - W, "left")
            m1 = np.searchsorted(w, wk + wl[-1] + W, "right")
            if m1 > m0:
                comb[g] += sm.kernel(w[None, m0:m1] - wk - wl[:, None], width).sum()
    return JointDOS(omega=grid, split=split / n**2, combine=comb / n**2, width=width, kind=kind)


# ---- occupation factors -------------------------------------------------------------------------
class _Occupation:
    """F_s and F_c of the module docstring (energy units x time), per limit."""

    def __init__(self, limit: str, kT: float, hbar: float | None, omega: np.ndarray):
        self.limit = limit
        self.kT = kT
        self.hbar = hbar
        self.x = self.level(omega)

    def level(self, w):
        """Per mode: the occupation n (quantum) or its classical limit times hbar, kT / w."""
        if self.limit != "quantum":
            return self.kT / w
        with np.errstate(over="ignore"):    # n -> 0 where hbar w / kT overflows: the right limit
            return 1.0 / np.expm1(self.hbar * w / self.kT)

    def split_of(self, xl, xm):
        """F_s from the levels of l and m (broadcastable)."""
        return self.hbar * (1.0 + xl + xm) if self.limit == "quantum" else xl + xm

    def combine_of(self, xl, xm):
        return self.hbar * (xl - xm) if self.limit == "quantum" else xl - xm

    def split(self, l, m):
        """Index arrays (broadcastable) -> F_s."""
        return self.split_of(self.x[l], self.x[m])

    def combine(self, l, m):
        return self.combine_of(self.x[l], self.x[m])


# ---- the contraction interface ------------------------------------------------------------------
class _Contractor:
    """Stacked block values ``A_y`` for a set of pivots, on one fixed block pattern.

    Uses ``fc3.pattern`` + ``fc3.contract_blocks(u)`` when the tensor provides them (fast path),
    else ``fc3.contract(u)`` (any scipy sparse matrix) converted to ``d x d`` blocks and mapped onto
    the pattern of the first contraction with a random vector.
    """

    def __init__(self, fc3, ndof: int, dimension: int, scale: float, dtype):
        self.fc3 = fc3
        self.d = dimension
        self.ndof = ndof
        self.natoms = ndof // dimension
        self.scale = scale
        self.dtype = dtype
        if hasattr(fc3, "pattern") and hasattr(fc3, "contract_blocks"):
            indptr, indices = fc3.pattern
            self.fast = True
        else:
            if not hasattr(fc3, "contract"):
                raise LifetimeError("the third-order tensor must provide contract(u) -> sparse matrix")
            rng = np.random.default_rng(12345)
            A = self._bsr(rng.standard_normal(ndof))
            indptr, indices = A.indptr, A.indices
            self.fast = False
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        if self.indptr.size != self.natoms + 1:
            raise LifetimeError(f"the third-order tensor has {self.indptr.size - 1} atoms, the modes {self.natoms}")
        self.nblocks = int(self.indices.size)
        self._key = None
        d = dimension
        # per atom: its blocks [b0, b1) and the dof rows of its column atoms
        self.rows = []
        for a in range(self.natoms):
            cols = self.indices[self.indptr[a]:self.indptr[a + 1]]
            self.rows.append((cols[:, None] * d + np.arange(d)[None, :]).ravel())

    def _bsr(self, u):
        A = self.fc3.contract(u)
        if not sp.issparse(A):
            raise LifetimeError("fc3.contract(u) must return a scipy sparse matrix")
        if A.shape != (self.ndof, self.ndof):
            raise LifetimeError(f"fc3.contract(u) has shape {A.shape}, the modes need ({self.ndof}, {self.ndof})")
        A = sp.bsr_matrix(A, blocksize=(self.d, self.d))
        A.sort_indices()
        return A

    def blocks(self, u: np.ndarray) -> np.ndarray:
        """Blocks of ``A(u)`` on the pattern, shape=(nblocks, d, d), scaled by ``scale``."""
        if self.fast:
            out = np.asarray(self.fc3.contract_blocks(u))
        else:
            A = self._bsr(u)
            if np.array_equal(A.indptr, self.indptr) and np.array_equal(A.indices, self.indices):
                out = A.data
            else:
                if self._key is None:
                    rows = np.repeat(np.arange(self.natoms), np.diff(self.indptr))
                    self._key = rows * self.natoms + self.indices
                rows = np.repeat(np.arange(self.natoms), np.diff(A.indptr))
                key = rows * self.natoms + A.indices
                pos = np.searchsorted(self._key, key)
                pos = np.minimum(pos, self._key.size - 1)
                if not np.array_equal(self._key[pos], key):
                    raise LifetimeError("fc3.contract(u) returned entries outside the tensor's sparsity pattern")
                out = np.zeros((self.nblocks, self.d, self.d))
                out[pos] = A.data
        return (out * self.scale).astype(self.dtype, copy=False)

    def stack(self, E: np.ndarray, pivots) -> np.ndarray:
        """Block values of ``A(e_p)`` for the pivots' columns of E, shape=(q, nblocks, d, d)."""
        out = np.empty((len(pivots), self.nblocks, self.d, self.d), dtype=self.dtype)
        for i, p in enumerate(pivots):
            out[i] = self.blocks(np.asarray(E[:, p], dtype=float))
        return out

    def slabs(self, vals: np.ndarray):
        """Per atom the stacked rows ``(q d, K_a)`` of q pivots' block values ``vals`` (q, nb, d, d)."""
        q, d = vals.shape[0], self.d
        out = []
        for a in range(self.natoms):
            b0, b1 = self.indptr[a], self.indptr[a + 1]
            out.append(np.ascontiguousarray(vals[:, b0:b1].transpose(0, 2, 1, 3)).reshape(q * d, (b1 - b0) * d))
        return out

    def spmm(self, slabs, Ec: np.ndarray, out: np.ndarray) -> None:
        """``out[p] = A_p @ Ec`` for every stacked pivot p; ``out`` shape=(q, ndof, c)."""
        d = self.d
        q = out.shape[0]
        c = Ec.shape[1]
        for a in range(self.natoms):
            G = Ec[self.rows[a]]
            out[:, d * a:d * a + d, :] = (slabs[a] @ G).reshape(q, d, c)


# ---- the engine ---------------------------------------------------------------------------------
class _Accumulators:
    def __init__(self, n, partner_rows=None):
        self.gs = np.zeros(n)
        self.gc = np.zeros(n)
        self.js = np.zeros(n)
        self.jc = np.zeros(n)
        self.ps = np.zeros(n)
        self.pc = np.zeros(n)
        # partner weights (PartnerWeights): row of each target mode, -1 elsewhere
        self.prow = partner_rows
        if partner_rows is not None:
            k = int((partner_rows >= 0).sum())
            self.B0 = np.zeros(k)
            self.Ps = np.zeros((k, n))
            self.Pc = np.zeros((k, n))

    def arrays(self):
        return [self.gs, self.gc, self.js, self.jc, self.ps, self.pc]


class _TimeLeft:
    """Progress lines with the share of the work done, the elapsed time and the time left.

    ``work``: the estimated cost of each item; a line at most every ``every`` seconds (and at
    the last item).
    """

    def __init__(self, work, progress, what: str, every: float = 5.0):
        self.cum = np.cumsum(np.asarray(work, dtype=float))
        self.progress, self.what, self.every = progress, what, every
        self.t0 = self.last = time.perf_counter()

    def done(self, i: int) -> None:
        if not self.progress or self.cum.size == 0:
            return
        now = time.perf_counter()
        last = i == self.cum.size - 1
        if not last and now - self.last < self.every:
            return
        self.last = now
        frac = self.cum[i] / self.cum[-1]
        elapsed = now - self.t0
        left = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        self.progress(f"lifetimes: {self.what} {i + 1}/{self.cum.size}, {100 * frac:.0f}% of the work, "
                      f"{elapsed:.0f} s elapsed" + ("" if last else f", about {left:.0f} s left"))


class _Engine:
    def __init__(self, w, E, contractor, occ, smearing, sig, block, chunk, progress, partner_rows=None):
        self.w = w
        self.E = E
        self.con = contractor
        self.occ = occ
        self.sm = smearing
        self.sig = sig
        self.win = smearing.window
        self.fixed = smearing.width is not None
        self.block = block
        self.chunk = chunk
        self.progress = progress
        self.acc = _Accumulators(w.size, partner_rows)
        self.flops_gemm = 0.0
        self.flops_spmm = 0.0
        self.peak_bytes = 0
        # suffix/prefix maxima of widths for adaptive band bounds
        self.sig_max = float(sig.max())
        self.min_sub = 16

    def _range(self, lo: float, hi: float, smax: float) -> tuple[int, int]:
        """Modes with frequency in [lo - c s, hi + c s], s grown to cover the widths inside."""
        w, c = self.w, self.win
        s = smax
        for _ in range(8):
            i0 = int(np.searchsorted(w, lo - c * s, "left"))
            i1 = int(np.searchsorted(w, hi + c * s, "right"))
            if self.fixed or i1 <= i0:
                return i0, i1
            s_in = float(self.sig[i0:i1].max())
            if s_in <= s:
                return i0, i1
            s = s_in
        return i0, i1

    def _triple_sigma(self, a, b, c):
        if self.fixed:
            return self.sig[0]
        return np.maximum(np.maximum(self.sig[a], self.sig[b]), self.sig[c])

    # -- all modes: each resonant triple once, pivot = smallest child --------------------------
    def run_triples(self, pivots: np.ndarray) -> None:
        w, E, con, q = self.w, self.E, self.con, self.block
        n = w.size
        c = self.win
        blocks = [pivots[i:i + q] for i in range(0, pivots.size, q)]
        # work of a block ~ its columns (parents above 2 w_y): for the time-left estimate
        work = np.array([max(1, n - int(np.searchsorted(w, 2 * w[Y[0]] - c * self.sig_max, "left"))) * Y.size
                         for Y in blocks], dtype=float)
        eta = _TimeLeft(work, self.progress, "pivot block")
        for ib, Y in enumerate(blocks):
            vals = con.stack(E, Y)
            slabs = con.slabs(vals)
            del vals
            smax_y = float(self.sig[Y].max())
            # parents x: w_x >= 2 w_y - window
            x_start = int(np.searchsorted(w, 2 * w[Y[0]] - c * max(smax_y, self.sig_max), "left"))
            if x_start >= n:
                continue
            B = np.empty((Y.size, E.shape[0], min(self.chunk, n - x_start)), dtype=E.dtype)
            self.peak_bytes = max(self.peak_bytes, B.nbytes + sum(s.nbytes for s in slabs))
            for c0 in range(x_start, n, self.chunk):
                c1 = min(n, c0 + self.chunk)
                Bc = B[:, :, :c1 - c0]
                con.spmm(slabs, E[:, c0:c1], Bc)
                self.flops_spmm += 2.0 * Y.size * con.nblocks * con.d**2 * (c1 - c0)
                for iy, y in enumerate(Y):
                    self._triple_band(int(y), Bc[iy], c0, c1)
            eta.done(ib)

    def _subchunks(self, c0: int, c1: int, smax: float):
        """Split columns [c0, c1) so that each piece spans at most one window in frequency (the
        band of partners of a piece is then at most twice the window: little wasted GEMM work)."""
        w = self.w
        span = max(self.win * smax, 1e-300)
        s0 = c0
        while s0 < c1:
            s1 = int(np.searchsorted(w, w[s0] + span, "right"))
            s1 = min(c1, max(s1, s0 + self.min_sub))
            yield s0, s1
            s0 = s1

    def _triple_band(self, y: int, B: np.ndarray, c0: int, c1: int) -> None:
        w = self.w
        wy = w[y]
        smax = max(float(self.sig[y]), float(self.sig[c0:c1].max()))
        for s0, s1 in self._subchunks(c0, c1, smax):
            sm = max(float(self.sig[y]), float(self.sig[s0:s1].max()))
            z0, z1 = self._range(w[s0] - wy, w[s1 - 1] - wy, sm)
            z0 = max(z0, y)
            if z1 > z0:
                self._triple_block(y, B[:, s0 - c0:s1 - c0], s0, s1, z0, z1)

    def _triple_block(self, y: int, B: np.ndarray, c0: int, c1: int, z0: int, z1: int) -> None:
        w, E, acc, occ = self.w, self.E, self.acc, self.occ
        wy = w[y]
        z = np.arange(z0, z1)[:, None]
        x = np.arange(c0, c1)[None, :]
        arg = w[x] - wy - w[z]
        s = self._triple_sigma(y, z, x)
        delta = self.sm.kernel(arg, s)
        inside = delta > 0
        if not inside.any():
            return
        V = E[:, z0:z1].T @ B
        self.flops_gemm += 2.0 * E.shape[0] * (z1 - z0) * (c1 - c0)
        V = V.astype(float, copy=False)
        weight = (V * V) * delta / (w[x] * wy * w[z])
        notself = (z != y)
        mult = np.where(notself, 2.0, 1.0)
        # parent x splits into y + z
        acc.gs[c0:c1] += (0.5 * weight * occ.split(y, z) * mult).sum(axis=0)
        acc.js[c0:c1] += (0.5 * delta * mult).sum(axis=0)
        acc.ps[c0:c1] += (inside * mult).sum(axis=0)
        # child y combines with z into x
        acc.gc[y] += (weight * occ.combine(z, x)).sum()
        acc.jc[y] += delta.sum()
        acc.pc[y] += inside.sum()
        # child z combines with y into x (z != y)
        acc.gc[z0:z1] += (weight * occ.combine(y, x) * notself).sum(axis=1)
        acc.jc[z0:z1] += (delta * notself).sum(axis=1)
        acc.pc[z0:z1] += (inside & notself).sum(axis=1)
        if acc.prow is not None:        # the same sums with the levels left symbolic (PartnerWeights)
            ws = 0.5 * weight * mult
            wsx = ws.sum(axis=0)
            rx = acc.prow[c0:c1]
            acc.B0[rx] += wsx
            acc.Ps[rx, y] += wsx
            acc.Ps[rx, z0:z1] += ws.T
            ry = acc.prow[y]
            acc.Pc[ry, z0:z1] += weight.sum(axis=1)
            acc.Pc[ry, c0:c1] -= weight.sum(axis=0)
            wn = weight * notself
            rz = acc.prow[z0:z1]
            acc.Pc[rz, y] += wn.sum(axis=1)
            acc.Pc[rz, c0:c1] -= wn

    # -- a subset: both channels of each target ------------------------------------------------
    def run_direct(self, targets: np.ndarray) -> None:
        w, E, con, q = self.w, self.E, self.con, self.block
        n = w.size
        blocks = [targets[i:i + q] for i in range(0, targets.size, q)]
        eta = _TimeLeft([K.size for K in blocks], self.progress, "target block")
        for ib, K in enumerate(blocks):
            vals = con.stack(E, K)
            slabs = con.slabs(vals)
            del vals
            B = np.empty((K.size, E.shape[0], min(self.chunk, n)), dtype=E.dtype)
            self.peak_bytes = max(self.peak_bytes, B.nbytes + sum(s.nbytes for s in slabs))
            for c0 in range(0, n, self.chunk):
                c1 = min(n, c0 + self.chunk)
                Bc = B[:, :, :c1 - c0]
                con.spmm(slabs, E[:, c0:c1], Bc)
                self.flops_spmm += 2.0 * K.size * con.nblocks * con.d**2 * (c1 - c0)
                for ik, k in enumerate(K):
                    self._direct_band(int(k), Bc[ik], c0, c1)
            eta.done(ib)

    def _direct_band(self, k: int, B: np.ndarray, c0: int, c1: int) -> None:
        """Columns m in [c0, c1): split rows l with w_l ~ w_k - w_m, combine rows l with w_l ~ w_m - w_k."""
        w = self.w
        wk = w[k]
        smax = max(float(self.sig[k]), float(self.sig[c0:c1].max()))
        for s0, s1 in self._subchunks(c0, c1, smax):
            sm = max(float(self.sig[k]), float(self.sig[s0:s1].max()))
            for channel in ("split", "combine"):
                if channel == "split":
                    l0, l1 = self._range(wk - w[s1 - 1], wk - w[s0], sm)
                else:
                    l0, l1 = self._range(w[s0] - wk, w[s1 - 1] - wk, sm)
                if l1 > l0:
                    self._direct_block(k, B[:, s0 - c0:s1 - c0], s0, s1, l0, l1, channel)

    def _direct_block(self, k, B, c0, c1, l0, l1, channel) -> None:
        w, E, acc, occ = self.w, self.E, self.acc, self.occ
        wk = w[k]
        m = np.arange(c0, c1)[None, :]
        l = np.arange(l0, l1)[:, None]
        arg = (wk - w[l] - w[m]) if channel == "split" else (w[m] - wk - w[l])
        s = self._triple_sigma(k, l, m)
        delta = self.sm.kernel(arg, s)
        inside = delta > 0
        if not inside.any():
            return
        V = (E[:, l0:l1].T @ B).astype(float, copy=False)
        self.flops_gemm += 2.0 * E.shape[0] * (l1 - l0) * (c1 - c0)
        weight = (V * V) * delta / (wk * w[l] * w[m])
        if channel == "split":
            acc.gs[k] += (0.5 * weight * occ.split(l, m)).sum()
            acc.js[k] += 0.5 * delta.sum()
            acc.ps[k] += inside.sum()
        else:
            acc.gc[k] += (weight * occ.combine(l, m)).sum()
            acc.jc[k] += delta.sum()
            acc.pc[k] += inside.sum()
        if acc.prow is not None:        # the same sums with the levels left symbolic (PartnerWeights)
            r = acc.prow[k]
            if channel == "split":
                ws = 0.5 * weight
                acc.B0[r] += ws.sum()
                acc.Ps[r, l0:l1] += ws.sum(axis=1)
                acc.Ps[r, c0:c1] += ws.sum(axis=0)
            else:
                acc.Pc[r, l0:l1] += weight.sum(axis=1)
                acc.Pc[r, c0:c1] -= weight.sum(axis=0)


# ---- window pre-check (frequencies only) --------------------------------------------------------
def window_pairs(w: np.ndarray, targets: np.ndarray, sig: np.ndarray, window: float) -> np.ndarray:
    """Upper bound of the ordered (l, m) pairs inside each target's windows, both channels."""
    W = window * float(sig.max())
    out = np.zeros(targets.size, dtype=np.int64)
    for t, k in enumerate(targets):
        wk = w[k]
        lo = np.searchsorted(w, wk - w - W, "left")
        hi = np.searchsorted(w, wk - w + W, "right")
        out[t] += np.maximum(hi - lo, 0).sum()
        lo = np.searchsorted(w, wk + w - W, "left")
        hi = np.searchsorted(w, wk + w + W, "right")
        out[t] += np.maximum(hi - lo, 0).sum()
    return out


# ---- public entry points ------------------------------------------------------------------------
def thermal_constants(units: str, temperature: float, limit: str, hbar: float | None = None,
                      kB: float | None = None) -> tuple[float, float]:
    """``(kT, hbar)`` in the energy units of a LAMMPS unit style (``hbar`` NaN when not needed)."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise LifetimeError(f"temperature must be > 0, got {temperature}")
    if limit not in ("classical", "quantum"):
        raise LifetimeError(f"limit must be 'classical' or 'quantum', got {limit!r}")
    boltz, hplanck = UNIT_CONSTANTS.get(units, (None, None))
    if kB is None:
        if boltz is None:
            raise LifetimeError(f"units {units!r}: pass kB (Boltzmann constant in energy/temperature units)")
        kB = boltz
    if hbar is None:
        hbar = hplanck / (2 * math.pi) if hplanck is not None else None
    if limit == "quantum" and hbar is None:
        raise LifetimeError(f"units {units!r} define no hbar: pass hbar= (energy x time units) for the quantum limit")
    if hbar is not None and not hbar > 0:
        raise LifetimeError(f"hbar must be > 0, got {hbar}")
    return kB * temperature, (float("nan") if hbar is None else float(hbar))


def decay_rates(omega, vectors, fc3, temperature: float, *, limit: str = "classical",
                smearing: Smearing | None = None, targets=None, units: str = "lj", hbar: float | None = None,
                kB: float | None = None, method: str = "auto", omega_min: float | None = None,
                block: int = 16, chunk: int = 256, dtype=np.float64, comm=None, progress=None,
                partner_weights: bool = False) -> Lifetimes:
    """Three-phonon energy decay rates ``Gamma_k`` (Mizuno et al. 2020, Eqs. (10) and (13)).

    Parameters
    ----------
    omega : ndarray, shape=(n,)
        Angular frequencies, ascending, every mode of the structure (translations may be absent).
    vectors : ndarray, shape=(d*N, n)
        Mass-weighted unit eigenvectors (columns), every one: the sums over l, m need the complete
        basis.
    fc3 : object
        The third-order force constants: ``contract(u) -> scipy sparse (d*N, d*N)`` giving the
        mass-weighted ``sum_a Phi3_{a,b,c} u_a / sqrt(m_a m_b m_c)``, or faster ``pattern`` +
        ``contract_blocks(u)`` (:class:`glassmodes.anharmonic.pair_fc3.PairCubicTensor`).
    temperature : float
        LAMMPS temperature units (> 0).
    limit : "classical" or "quantum"
    smearing : Smearing
        Required (no silent default width).
    targets : None, array of int, or boolean mask
        Modes whose rates are wanted (indices into ``omega``); None: every non-zero mode.
    units : str
        LAMMPS unit style: ``kB``, ``hbar`` and ``ftm2v`` (V^2 is multiplied by ftm2v^3 so that
        the rates come out in 1/time).
    hbar, kB : float, optional
        Override the unit style's constants (``hbar`` is required for ``lj`` in the quantum limit).
    method : "auto", "triples" or "direct"
        auto: triples when every non-zero mode is a target, else direct.
    omega_min : float, optional
        Modes with ``omega <= omega_min`` are left out of the sums (default ``1e-6 * max(omega)``:
        translations, rattlers).
    block, chunk : int
        Pivots per stacked product; eigenvector columns per dense block.
    dtype : numpy float type
        float64 (default) or float32 for the eigenvectors and the products (half memory, about
        twice as fast; relative accuracy of V about 1e-6).
    comm : mpi4py communicator, optional
        Pivots are distributed over its ranks; every rank returns the same result.
    progress : callable(str), optional
    partner_weights : bool
        Also keep the temperature-independent :class:`PartnerWeights` (``Lifetimes.partners``), from
        which :func:`reweight` gives the rates at any other temperature (two targets x modes float64
        arrays of memory).
    """
    from glassmodes.modes.core import UNIT_TIME

    t_start = time.perf_counter()
    if smearing is None:
        raise LifetimeError("pass a smearing (e.g. Smearing('gaussian', width=0.05))")
    kT, hb = thermal_constants(units, temperature, limit, hbar, kB)
    omega = np.asarray(omega, dtype=float)
    if omega.ndim != 1 or omega.size == 0:
        raise LifetimeError("omega must be a non-empty 1-d array")
    if np.any(np.diff(omega) < 0):
        raise LifetimeError("omega must be ascending (as in mode files)")
    if vectors is None or vectors.shape[1] != omega.size:
        raise LifetimeError("every eigenvector is needed (vectors shape (d*N, n) with n = len(omega))")
    ndof = vectors.shape[0]
    dimension = getattr(fc3, "dimension", None) or 3
    if ndof % dimension:
        raise LifetimeError(f"{ndof} degrees of freedom is not a multiple of the dimension {dimension}")
    if omega_min is None:
        omega_min = 1e-6 * float(omega.max())
    valid = omega > omega_min
    nv = int(valid.sum())
    if nv == 0:
        raise LifetimeError("no mode with omega > omega_min")
    expected = ndof - dimension
    if omega.size < expected:
        raise LifetimeError(f"the sums over l, m need every mode: {omega.size} given, the structure has "
                            f"{ndof} degrees of freedom ({expected} without the translations)")
    vidx = np.flatnonzero(valid)
    # targets -> indices among the valid modes
    if targets is None:
        targets_full = vidx
    else:
        m = np.asarray(targets)
        targets_full = np.flatnonzero(m) if m.dtype == bool else np.unique(m.astype(np.int64))
        if targets_full.size == 0:
            raise LifetimeError("no target mode selected")
        if targets_full.min() < 0 or targets_full.max() >= omega.size:
            raise LifetimeError(f"target mode indices must lie in [0, {omega.size})")
        bad = targets_full[~valid[targets_full]]
        if bad.size:
            raise LifetimeError(f"target modes {bad[:5].tolist()} have omega <= omega_min = {omega_min:g} "
                                "(translations or rattlers have no lifetime here)")
    pos = np.full(omega.size, -1, dtype=np.int64)
    pos[vidx] = np.arange(nv)
    targets = pos[targets_full]    # among the valid modes
    w = omega[vidx]
    if method == "auto":
        method = "triples" if targets.size == nv else "direct"
    if method not in ("triples", "direct"):
        raise LifetimeError(f"method must be 'auto', 'triples' or 'direct', got {method!r}")
    if method == "triples" and targets.size != nv:
        raise LifetimeError("method='triples' computes every mode: select no subset, or use method='direct'")
    sig = smearing.widths(w)
    counts = window_pairs(w, targets, sig, smearing.window)
    if counts.sum() == 0:
        raise LifetimeError(f"the smearing ({smearing.describe()}) leaves no mode pair inside any energy window "
                            f"of the {targets.size} target modes: widen it")
    ftm2v = UNIT_TIME[units][1] if units in UNIT_TIME else 1.0
    E = np.ascontiguousarray(vectors[:, vidx], dtype=dtype)
    con = _Contractor(fc3, ndof, dimension, scale=ftm2v**1.5, dtype=dtype)
    occ = _Occupation(limit, kT, hb if limit == "quantum" else None, w)
    prow = None
    if partner_weights:
        prow = np.full(nv, -1, dtype=np.int64)
        prow[targets] = np.arange(targets.size)
    eng = _Engine(w, E, con, occ, smearing, sig, block=block, chunk=chunk, progress=progress, partner_rows=prow)
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    if method == "triples":
        # pivots y need a partner z >= y with w_y + w_z inside the spectrum
        ymax = int(np.searchsorted(w, 0.5 * (w[-1] + smearing.window * float(sig.max())), "right"))
        pivots = np.arange(ymax)
        nblk = -(-pivots.size // block)
        mine = np.concatenate([pivots[b * block:(b + 1) * block] for b in range(rank, nblk, size)] or [np.zeros(0, int)])
        eng.run_triples(mine.astype(np.int64))
    else:
        mine = targets[rank::size]
        eng.run_direct(mine)
    arrays = eng.acc.arrays()
    work = np.array([eng.flops_gemm, eng.flops_spmm, float(eng.peak_bytes)])
    if comm is not None and size > 1:
        from mpi4py import MPI

        stacked = np.stack(arrays)
        comm.Allreduce(MPI.IN_PLACE, stacked, op=MPI.SUM)
        arrays = list(stacked)
        comm.Allreduce(MPI.IN_PLACE, work[:2], op=MPI.SUM)
        work[2] = comm.allreduce(work[2], op=MPI.MAX)
        if prow is not None:
            for arr in (eng.acc.B0, eng.acc.Ps, eng.acc.Pc):
                comm.Allreduce(MPI.IN_PLACE, arr, op=MPI.SUM)
    partners = None
    if prow is not None:
        partners = PartnerWeights(base=eng.acc.B0, split=eng.acc.Ps, combine=eng.acc.Pc, omega=w.copy())
    gs, gc, js, jc, ps, pc = (a[targets] for a in arrays)
    pref = 0.25 * math.pi
    tu = UNIT_TIME.get(units, ("time", 1.0))[0]
    return Lifetimes(
        modes=targets_full, omega=w[targets], gamma_split=pref * gs, gamma_combine=pref * gc,
        jdos_split=js / nv**2, jdos_combine=jc / nv**2, pairs_split=ps.astype(np.int64),
        pairs_combine=pc.astype(np.int64), temperature=float(temperature), limit=limit, kT=kT,
        hbar=hb, smearing=smearing, units=units, omega_unit=f"rad/{tu}", rate_unit=f"1/{tu}",
        method=method, nmodes_total=nv, seconds=time.perf_counter() - t_start,
        stats={"ranks": size, "gemm_flops": work[0], "spmm_flops": work[1], "work_bytes_max": work[2],
               "eigenvector_bytes": E.nbytes, "dtype": np.dtype(dtype).name, "block": block, "chunk": chunk,
               "pivots": int(mine.size), "fast_contraction": con.fast},
        partners=partners,
    )


# ---- inputs from files --------------------------------------------------------------------------
class _Fc3Blocks:
    """``write_fc3`` block storage (finite differences) seen through ``contract(u)``."""

    def __init__(self, fc):
        self.fc = fc.with_mass_weighting(True)
        self.dimension = fc.dimension
        self.atoms = fc.atoms
        self.units = fc.meta.get("units", "lj")
        self.box = fc.meta.get("box")

    def contract(self, u):
        return self.fc.phi3(u)


def cubic_tensor(fc3):
    """The third-order tensor as the lifetime code uses it.

    Accepts a path of a ``write_fc3`` file, a :class:`glassmodes.fc3.ForceConstants` (pair tables
    become a :class:`~glassmodes.anharmonic.pair_fc3.PairCubicTensor`, blocks are contracted by
    ``phi3``), a ``PairCubicTensor``, or any object with ``contract(u)``.
    """
    import os

    from glassmodes.anharmonic.pair_fc3 import PairCubicTensor

    if isinstance(fc3, (str, os.PathLike)):
        from glassmodes.fc3 import read_fc3

        fc3 = read_fc3(fc3)
    if hasattr(fc3, "storage") and hasattr(fc3, "phi3"):
        if fc3.storage == "pair-derivatives":
            return PairCubicTensor.from_fc3(fc3)
        return _Fc3Blocks(fc3)
    if not hasattr(fc3, "contract"):
        raise LifetimeError(f"{type(fc3).__name__} is not a third-order tensor (needs contract(u))")
    return fc3


def check_same_structure(modes, fc3, pos_tol: float = 1e-6, mass_tol: float = 1e-10) -> None:
    """Raise :class:`LifetimeError` unless the modes and the force constants describe one structure.

    Compares the number of atoms, the dimension, the unit style, the atom IDs (in index order),
    the masses (relative ``mass_tol``) and the positions (minimum image, ``pos_tol`` times the
    smallest box length) when the tensor carries them (``fc3.atoms``, ``fc3.units``).
    """
    atoms = getattr(fc3, "atoms", None)
    units = getattr(fc3, "units", None)
    if units is not None and units != modes.units:
        raise LifetimeError(f"the modes are in units {modes.units!r}, the force constants in {units!r}")
    dim = getattr(fc3, "dimension", None)
    if dim is not None and dim != modes.dimension:
        raise LifetimeError(f"the modes are {modes.dimension}-dimensional, the force constants {dim}-dimensional")
    if atoms is None or modes.atoms is None:
        return
    ma, fa = modes.atoms, np.asarray(atoms)
    if ma.size != fa.size:
        raise LifetimeError(f"the modes have {ma.size} atoms, the force constants {fa.size}: different structures")
    if not np.array_equal(ma["id"], fa["id"]):
        bad = int(np.flatnonzero(ma["id"] != fa["id"])[0])
        raise LifetimeError(f"atom IDs differ (index {bad}: {ma['id'][bad]} in the modes, {fa['id'][bad]} in the "
                            "force constants): different structures or groups")
    rel = np.abs(ma["mass"] - fa["mass"]) / np.abs(ma["mass"])
    if rel.max() > mass_tol:
        k = int(rel.argmax())
        raise LifetimeError(f"the mass of atom ID {ma['id'][k]} differs: {ma['mass'][k]} in the modes, "
                            f"{fa['mass'][k]} in the force constants")
    box = modes.meta.get("box") or {}
    if box:
        from glassmodes.anharmonic.projection import _minimum_image

        dx = _minimum_image(np.asarray(fa["x"], float) - np.asarray(ma["x"], float), box)
        L = (np.asarray(box["boxhi"]) - np.asarray(box["boxlo"]))[:modes.dimension]
        worst = np.sqrt((dx**2).sum(axis=1))
        if worst.max() > pos_tol * L.min():
            k = int(worst.argmax())
            raise LifetimeError(f"atom ID {ma['id'][k]} is {worst[k]:.3g} away from its position in the modes' "
                                f"structure (tolerance {pos_tol * L.min():.3g}): the modes and the force constants "
                                "come from different structures")


def compute_lifetimes(modes, fc3, temperature: float, **kwargs) -> Lifetimes:
    """:func:`decay_rates` from a mode file (or :class:`glassmodes.modes.Modes`) and force constants.

    ``fc3``: see :func:`cubic_tensor`. Checks that both describe the same structure
    (:func:`check_same_structure`) and takes the unit style from the modes.
    """
    from glassmodes.modes import Modes, read_modes

    if not isinstance(modes, Modes):
        modes = read_modes(modes, vectors=True)
    if modes.vectors is None:
        raise LifetimeError("the mode file must hold every eigenvector (glassmodes modes ... --backend dense)")
    tensor = cubic_tensor(fc3)
    check_same_structure(modes, tensor)
    kwargs.setdefault("units", modes.units)
    return decay_rates(modes.omega, modes.vectors, tensor, temperature, **kwargs)
