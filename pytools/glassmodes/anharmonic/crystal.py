"""Three-phonon decay rates of a monatomic Bravais crystal with a pair potential, in q-space.

The supercell route (:mod:`glassmodes.anharmonic.lifetimes`) diagonalizes the whole box and sums
over its modes, so its lowest frequency is the box's first acoustic shell. The continuum limit of a
crystal (Mizuno et al. (2020), Fig. 2(b): tau ~ w^-2 at low frequency) lies far below that shell; this module
uses the lattice's translation symmetry instead. The modes of N cells are plane waves
``e_{qs}(i) = eps_s(q) exp(i q.R_i) / sqrt(N)``, ``eps_s(q)`` the unit eigenvectors of

    D(q) = (1/m) sum_R K(R) (1 - cos q.R),      K(R) = phi'' n n^T + (phi'/r) (1 - n n^T)

(sum over every lattice vector R within the cutoff, ``n = R/|R|``), and for a pair potential the
cubic vertex of :mod:`glassmodes.anharmonic.lifetimes` reduces to one sum over R (each pair is
seen from both ends, hence the 1/2; ``T_abc(R)`` the third derivative of ``phi(|r|)``,
:mod:`glassmodes.anharmonic.pair_fc3`):

    V(qs, q's', q''s'') = 1/(2 sqrt(N) m^(3/2)) sum_R T_abc(R) eps_a eps'_b eps''_c
                          (e^{iq.R} - 1)(e^{iq'.R} - 1)(e^{iq''.R} - 1),

non-zero only for ``q + q' + q'' = G``. The sum over mode pairs (l, m) of the rate becomes a sum
over the q' of a mesh with ``q'' = -q - q'`` (diagonalized directly, on or off the mesh):

    Gamma_qs = (pi/4) / w  < sum_{s' s''} |sqrt(N) V|^2 / (w' w'')
                              [ F_s/2 delta(w - w' - w'') + F_c delta(w + w' - w'') ] >_{q'}

with ``< >_{q'}`` the mean over the mesh and ``F_s``, ``F_c`` the occupation factors of
:mod:`glassmodes.anharmonic.lifetimes` (same conventions: energy decay rate, classical or
quantum). For targets on the mesh this is the supercell computation of the box whose allowed
wavevectors the mesh holds, summed over each degenerate shell (tested to round-off); a target off
the mesh (any q, as small as wanted) uses the mesh as a quadrature of the Brillouin-zone integral.

**Partner broadening** (classical limit). A fixed smearing replaces each delta by a kernel of
fixed width. With ``partner_gamma`` instead the partners are damped oscillators: mode k feels the
cubic force ``F_k = -1/2 sum_{lm} V_klm Q_l Q_m``; with ``<Q_l(t) Q_l(0)> = (kT/w_l^2) cos(w_l t)
exp(-Gamma_l |t|/2)`` (``Gamma_l`` the partner's energy decay rate) the classical
fluctuation-dissipation relation ``Gamma_k = S_F(w_k) / (2 kT)`` gives, over ordered pairs,

    Gamma_k = (pi/4) sum_{l,m} |V_klm|^2 kT / (w_l w_m)^2
              [ 1/2 (L(w_k - w_l - w_m) + L(w_k + w_l + w_m)) + L(w_k + w_l - w_m) ],

``L`` the normalized Lorentzian of half width ``(Gamma_l + Gamma_m)/2``. With sharp lines this is
the rate above (``F_s = F_c = kT w_k/(w_l w_m)`` on the energy shell, the anti-resonant term
``L(w_k + w_l + w_m)`` vanishes). A sound wave of frequency far below its partners' linewidths
(w tau_th << 1: the hydrodynamic, Akhiezer regime) sees ``L(w_k + w_l - w_m) ~ L(0)`` for the
pairs ``m ~ l`` while ``|V|^2 ~ w_k^2``: Gamma ~ w^2 (docs/lifetimes.md, "Crystals in q-space";
measured in bench/results/lifetimes.md, section 4).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from glassmodes.anharmonic.lifetimes import LifetimeError, RateTotals, Smearing, _Occupation, thermal_constants


def fcc_primitive(number_density: float) -> np.ndarray:
    """Primitive vectors (rows) of the FCC lattice at a number density (one atom per cell)."""
    a = (4.0 / number_density) ** (1.0 / 3.0)
    return 0.5 * a * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


class BravaisPairCrystal:
    """Harmonic and cubic couplings of a monatomic Bravais lattice with a pair potential.

    Parameters
    ----------
    primitive : array, shape=(3, 3)
        Primitive lattice vectors (rows), distance units.
    mass : float
    potential : object
        ``derivatives(r, ti, tj) -> (phi, phi', phi'', phi''')`` and ``cutoff(ti, tj)``
        (e.g. :class:`glassmodes.anharmonic.pair_fc3.IPLSmooth`); the atoms have type ``atom_type``.
    units : str
        LAMMPS unit style (``ftm2v`` converts force/mass to 1/time^2).
    """

    def __init__(self, primitive, mass: float, potential, atom_type: int = 1, units: str = "lj"):
        from glassmodes.modes.core import UNIT_TIME

        self.primitive = np.asarray(primitive, dtype=float)
        if self.primitive.shape != (3, 3) or abs(np.linalg.det(self.primitive)) < 1e-12:
            raise LifetimeError("primitive must be three independent lattice vectors (rows)")
        if not mass > 0:
            raise LifetimeError(f"mass must be > 0, got {mass}")
        self.mass = float(mass)
        self.units = units
        self.ftm2v = UNIT_TIME[units][1] if units in UNIT_TIME else 1.0
        rc = potential.cutoff(atom_type, atom_type)
        # every lattice vector within the cutoff
        nmax = int(np.ceil(rc / np.min(np.abs(np.linalg.svd(self.primitive, compute_uv=False))))) + 1
        g = np.arange(-nmax, nmax + 1)
        n = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
        R = n @ self.primitive
        r = np.linalg.norm(R, axis=1)
        keep = (r > 0) & (r < rc)
        R, r = R[keep], r[keep]
        t = np.full(r.size, atom_type)
        _, d1, d2, d3 = potential.derivatives(r, t, t)
        nz = (d1 != 0) | (d2 != 0) | (d3 != 0)
        self.R, r, d1, d2, d3 = R[nz], r[nz], d1[nz], d2[nz], d3[nz]
        u = self.R / r[:, None]
        nn = u[:, :, None] * u[:, None, :]
        eye = np.eye(3)
        self.K = d2[:, None, None] * nn + (d1 / r)[:, None, None] * (eye - nn)
        C = d2 / r - d1 / r**2
        D = d3 - 3.0 * C
        # T_abc = D n_a n_b n_c + C (delta_ab n_c + delta_ac n_b + delta_bc n_a)
        self.T = (D[:, None, None, None] * nn[:, :, :, None] * u[:, None, None, :]
                  + C[:, None, None, None] * (eye[None, :, :, None] * u[:, None, None, :]
                                              + eye[None, :, None, :] * u[:, None, :, None]
                                              + eye[None, None, :, :] * u[:, :, None, None]))

    @property
    def reciprocal(self) -> np.ndarray:
        """Primitive reciprocal vectors (rows), ``b_i . a_j = 2 pi delta_ij``."""
        return 2.0 * math.pi * np.linalg.inv(self.primitive).T

    def phonons(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies ``(P, 3)`` ascending and unit eigenvectors ``(P, 3, 3)`` (columns) at wavevectors q."""
        q = np.atleast_2d(np.asarray(q, dtype=float))
        c = 1.0 - np.cos(q @ self.R.T)                               # (P, nR)
        Dq = np.einsum("pr,rab->pab", c, self.K) / self.mass * self.ftm2v
        lam, eps = np.linalg.eigh(Dq)
        return np.sign(lam) * np.sqrt(np.abs(lam)), eps

    def mesh(self, supercell) -> np.ndarray:
        """The wavevectors allowed in a periodic supercell, one per cell, shape=(|det S|, 3).

        ``supercell`` is the integer matrix S with supercell vectors ``S @ primitive`` (rows), or an
        integer n for the cubic box of n^3 conventional cells of an FCC ``primitive`` (as
        :func:`fcc_primitive` builds it: ``S = n [[-1,1,1],[1,-1,1],[1,1,-1]]``).
        """
        if np.isscalar(supercell):
            S = int(supercell) * np.array([[-1, 1, 1], [1, -1, 1], [1, 1, -1]])
        else:
            S = np.asarray(supercell, dtype=int)
        det = int(round(abs(np.linalg.det(S))))
        if det == 0:
            raise LifetimeError("supercell matrix is singular")
        Sinv_T = np.linalg.inv(S).T
        # reduced coordinates f = n S^-T (mod 1) over a range of integer n that covers every class
        span = int(np.abs(S).sum(axis=0).max())
        g = np.arange(span)
        n = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
        f = np.mod(n @ Sinv_T, 1.0)
        key = np.mod(np.rint(f * det).astype(np.int64), det)
        _, first = np.unique(key[:, 0] * det * det + key[:, 1] * det + key[:, 2], return_index=True)
        if first.size != det:
            raise LifetimeError(f"mesh of supercell {S.tolist()}: found {first.size} of {det} wavevectors")
        return np.mod(np.rint(f[np.sort(first)] * det), det) / det @ self.reciprocal

    def brillouin_zone(self, q: np.ndarray) -> np.ndarray:
        """The shortest vector of each class ``q + G`` (the first Brillouin zone), shape=(P, 3)."""
        q = np.atleast_2d(np.asarray(q, dtype=float))
        f = np.mod(q @ self.primitive.T / (2 * math.pi), 1.0)
        g = np.arange(-2, 2)
        shifts = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
        cand = (f[:, None, :] + shifts[None]) @ self.reciprocal            # (P, 64, 3)
        return cand[np.arange(f.shape[0]), np.argmin(np.einsum("pka,pka->pk", cand, cand), axis=1)]

    def cubic_irreducible(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classes of wavevectors related by the cubic point group (a cubic lattice only).

        For a cubic Bravais lattice the 48 operations permute and flip the Cartesian components of
        the Brillouin-zone vector, and every rate is the same within a class. Returns ``(first,
        inverse)``: indices of one member per class and each q's class (``q[first][inverse]`` ~ q).
        """
        key = np.round(np.sort(np.abs(self.brillouin_zone(q)), axis=1), 9)
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        return first, inverse.ravel()

    def vertex_weights(self, q: np.ndarray, branch: int, qp: np.ndarray, eps_p: np.ndarray,
                       qpp: np.ndarray, eps_pp: np.ndarray, eps_q: np.ndarray) -> np.ndarray:
        """``|sqrt(N) V|^2`` for one target (q, branch) against partners, shape=(P, 3, 3) (s', s'')."""
        phase = lambda k: np.expm1(1j * (np.atleast_2d(k) @ self.R.T))   # (P, nR)
        tq = np.einsum("rabc,a->rbc", self.T, eps_q[:, branch]) * phase(q)[0][:, None, None]
        W = (phase(qp) * phase(qpp)) @ tq.reshape(-1, 9)                # (P, 9)
        V = np.einsum("pbc,pbi,pcj->pij", W.reshape(-1, 3, 3), eps_p, eps_pp)
        V *= 0.5 / self.mass**1.5 * self.ftm2v**1.5
        return V.real**2 + V.imag**2


@dataclass(frozen=True, eq=False)
class CrystalLifetimes(RateTotals):
    """Decay rates of plane-wave modes (q, branch) of a Bravais crystal.

    ``q`` (k, 3), ``branch`` (k,), ``omega``, ``gamma_split``, ``gamma_combine`` (k,) in the
    units of :class:`glassmodes.anharmonic.lifetimes.Lifetimes`; ``mesh_size`` the number of q'.
    """

    q: np.ndarray
    branch: np.ndarray
    omega: np.ndarray
    gamma_split: np.ndarray
    gamma_combine: np.ndarray
    temperature: float
    limit: str
    broadening: str
    mesh_size: int
    seconds: float = 0.0
    stats: dict = field(default_factory=dict)


def crystal_decay_rates(crystal: BravaisPairCrystal, targets, mesh: np.ndarray, temperature: float, *,
                        smearing: Smearing | None = None, partner_gamma=None, limit: str = "classical",
                        hbar: float | None = None, kB: float | None = None, omega_min: float | None = None,
                        chunk: int = 4096, progress=None) -> CrystalLifetimes:
    """Energy decay rates ``Gamma_qs`` of plane-wave modes by three-phonon perturbation theory.

    Parameters
    ----------
    crystal : BravaisPairCrystal
    targets : sequence of (q, branch)
        Wavevector (3,) and branch index (0, 1, 2 by ascending frequency at q).
    mesh : ndarray, shape=(P, 3)
        The partner wavevectors q' (e.g. :meth:`BravaisPairCrystal.mesh`).
    temperature : float
    smearing : Smearing
        Fixed-width delta functions (as the supercell code). Exactly one of smearing and
        partner_gamma.
    partner_gamma : callable(q (P, 3), omega (P, 3)) -> (P, 3)
        Energy decay rates of the partner modes (classical limit only): Lorentzians of half width
        (Gamma' + Gamma'')/2 per triple, not cut, with the anti-resonant term (module docstring).
    limit, hbar, kB : as :func:`glassmodes.anharmonic.lifetimes.decay_rates`
    omega_min : float
        Partner modes at or below it (the acoustic modes at q' = 0) are left out (default 1e-6 of the
        largest mesh frequency).
    """
    t0 = time.perf_counter()
    if (smearing is None) == (partner_gamma is None):
        raise LifetimeError("give exactly one of smearing= and partner_gamma=")
    if smearing is not None and smearing.width is None:
        raise LifetimeError("crystal_decay_rates needs a fixed smearing width (or partner_gamma=)")
    if partner_gamma is not None and limit != "classical":
        raise LifetimeError("partner_gamma (broadened partners) is derived for the classical limit only")
    kT, hb = thermal_constants(crystal.units, temperature, limit, hbar, kB)
    occ = _Occupation(limit, kT, hb if limit == "quantum" else None, np.zeros(0))
    mesh = np.atleast_2d(np.asarray(mesh, dtype=float))
    w_mesh, eps_mesh = crystal.phonons(mesh)
    if omega_min is None:
        omega_min = 1e-6 * float(w_mesh.max())
    targets = list(targets)
    if not targets:
        raise LifetimeError("no target mode given")
    out = np.zeros((len(targets), 2))
    omegas = np.zeros(len(targets))
    qs = np.zeros((len(targets), 3))
    branches = np.zeros(len(targets), dtype=int)
    for t, (q, s) in enumerate(targets):
        q = np.asarray(q, dtype=float)
        wq, eq = crystal.phonons(q)
        wk = float(wq[0, s])
        if not wk > omega_min:
            raise LifetimeError(f"target q = {q.tolist()} branch {s}: omega = {wk:g} <= omega_min {omega_min:g}")
        qs[t], branches[t], omegas[t] = q, s, wk
        for c0 in range(0, mesh.shape[0], chunk):
            qp, wp, ep = mesh[c0:c0 + chunk], w_mesh[c0:c0 + chunk], eps_mesh[c0:c0 + chunk]
            qpp = -q[None, :] - qp
            wpp, epp = crystal.phonons(qpp)
            ok = (wp[:, :, None] > omega_min) & (wpp[:, None, :] > omega_min)
            wl = np.where(wp > omega_min, wp, 1.0)[:, :, None]
            wm = np.where(wpp > omega_min, wpp, 1.0)[:, None, :]
            if smearing is not None:
                xl, xm = occ.level(wl), occ.level(wm)
                Fs, Fc = occ.split_of(xl, xm), occ.combine_of(xl, xm)
                ds = smearing.kernel(wk - wl - wm, smearing.width)
                dc = smearing.kernel(wk + wl - wm, smearing.width)
            else:
                Fs = Fc = kT * wk / (wl * wm)
                hw = 0.5 * (partner_gamma(qp, wp)[:, :, None] + partner_gamma(qpp, wpp)[:, None, :])
                if np.any(ok & ~(hw > 0)):
                    raise LifetimeError("partner_gamma returned a rate <= 0 or NaN for a partner mode "
                                        f"with omega > omega_min (target q = {q.tolist()}, branch {s})")
                hw = np.where(ok, hw, 1.0)
                lor = lambda x: (hw / math.pi) / (x * x + hw * hw)
                ds, dc = lor(wk - wl - wm) + lor(wk + wl + wm), lor(wk + wl - wm)
            base = np.where(ok, 1.0 / (wk * wl * wm), 0.0)
            if not (np.any(ds * base) or np.any(dc * base)):
                continue
            V2 = crystal.vertex_weights(q, s, qp, ep, qpp, epp, eq[0])
            out[t, 0] += np.sum(V2 * base * 0.5 * Fs * ds)
            out[t, 1] += np.sum(V2 * base * Fc * dc)
        if progress is not None:
            progress(f"target {t + 1}/{len(targets)}: omega {wk:.4g}, Gamma {0.25 * math.pi * out[t].sum() / mesh.shape[0]:.4g}")
    out *= 0.25 * math.pi / mesh.shape[0]
    return CrystalLifetimes(q=qs, branch=branches, omega=omegas, gamma_split=out[:, 0], gamma_combine=out[:, 1],
                            temperature=float(temperature), limit=limit,
                            broadening=smearing.describe() if smearing is not None else "partner linewidths (Lorentzian)",
                            mesh_size=int(mesh.shape[0]), seconds=time.perf_counter() - t0,
                            stats={"neighbours": int(crystal.R.shape[0])})


class MeshLinewidths:
    """``partner_gamma`` from rates known on a mesh: each q takes its nearest mesh point's value per branch.

    ``mesh`` (P, 3) and ``gamma`` (P, 3) (branches by ascending frequency); q is folded back with the
    crystal's reciprocal lattice. Acoustic branches at q' = 0 have no rate (NaN is returned for them).
    """

    def __init__(self, crystal: BravaisPairCrystal, mesh: np.ndarray, gamma: np.ndarray):
        self.crystal = crystal
        self.gamma = np.asarray(gamma, dtype=float)
        from scipy.spatial import cKDTree

        f = np.mod(np.asarray(mesh) @ crystal.primitive.T / (2 * math.pi), 1.0)
        # periodic images of the mesh so that nearest-point queries work across the cell boundary
        shifts = np.stack(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1], indexing="ij"), -1).reshape(-1, 3)
        pts = (f[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ crystal.reciprocal
        self._tree = cKDTree(pts)
        self._n = f.shape[0]

    def __call__(self, q: np.ndarray, omega=None) -> np.ndarray:
        f = np.mod(np.atleast_2d(q) @ self.crystal.primitive.T / (2 * math.pi), 1.0)
        _, idx = self._tree.query(f @ self.crystal.reciprocal)
        return self.gamma[idx % self._n]
