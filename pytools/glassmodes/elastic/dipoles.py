"""Force-dipole responses and dipole stiffnesses (Kapteijns, PhD thesis, Ch. 6, Eqs. 6.5-6.7).

For an interacting pair (i, j) with ``r_ij = |x_j - x_i|`` and n the unit vector from i to j:

* the dipole ``d_ij = (1/sqrt 2) dr_ij/dx``: ``-n/sqrt 2`` on atom i, ``+n/sqrt 2`` on atom j
  (unit norm, no net force);
* the response ``z_ij = H^+ d_ij`` (distance/force: the displacement of the minimum under the
  external forces ``eps d_ij`` is ``eps z_ij``), H the plain Hessian;
* the stiffness ``kappa_ij = (d.H^+.d) / (d.H^+^2.d) = (z.d)/(z.z)`` (energy/distance^2), a
  Rayleigh quotient of H, so ``lambda_min(H) <= kappa_ij <= lambda_max(H)``;
* the local stiffness ``kappa_i`` = the mean of kappa_ij over the computed pairs of atom i.

``z`` decays as ``r^-(d-1)`` away from the dipole (continuum elasticity; design note B6.4):
:func:`far_field_slope` measures the log-slope of ``|z(r)|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassmodes.elastic.terms import ElasticError, PairTable, box_widths, minimum_image


def dipole_vectors(pairs: PairTable, natoms: int, select=None) -> np.ndarray:
    """The unit dipoles d_ij of the selected pairs as columns, shape=(d*N, k)."""
    idx = np.arange(pairs.i.size) if select is None else np.asarray(select, dtype=np.int64)
    d = pairs.r.shape[1]
    n = pairs.r[idx] / pairs.distance[idx, None]
    D = np.zeros((natoms * d, idx.size))
    cols = np.arange(idx.size)
    for a in range(d):
        D[d * pairs.i[idx] + a, cols] = -n[:, a] / np.sqrt(2.0)
        D[d * pairs.j[idx] + a, cols] = n[:, a] / np.sqrt(2.0)
    return D


@dataclass(frozen=True)
class DipoleResult:
    """Dipole stiffnesses of a set of pairs.

    Attributes
    ----------
    i, j : ndarray, shape=(k,)
        Atom indices (Hessian order) of each pair; ``atom_ids`` maps them to LAMMPS IDs.
    distance : ndarray, shape=(k,)
        r_ij, distance units.
    kappa : ndarray, shape=(k,)
        kappa_ij, energy/distance^2.
    local_kappa : ndarray, shape=(N,)
        Mean kappa_ij over the computed pairs of each atom (NaN for atoms in none).
    z : ndarray, shape=(d*N, k) or None
        The responses H^+ d_ij (kept when asked for).
    solve : dict
        The solver's summary (method, iterations, residuals).
    """

    i: np.ndarray
    j: np.ndarray
    distance: np.ndarray
    kappa: np.ndarray
    local_kappa: np.ndarray
    atom_ids: np.ndarray
    z: np.ndarray | None
    solve: dict

    def summary(self) -> dict:
        k = self.kappa
        return {"npairs": int(k.size), "kappa_mean": float(np.mean(k)), "kappa_median": float(np.median(k)),
                "kappa_min": float(np.min(k)), "kappa_max": float(np.max(k)),
                "kappa_units": "energy/distance^2", "solve": self.solve}


def dipole_response(solver, pairs: PairTable, natoms: int, select=None, batch: int = 64,
                    keep_z: bool = False, atom_ids=None) -> DipoleResult:
    """kappa_ij (and optionally z_ij) of the selected pairs with a :class:`ModeSolver` or :class:`CGSolver`.

    Parameters
    ----------
    solver : ModeSolver or CGSolver
    pairs : PairTable
        From :func:`glassmodes.elastic.terms.pairs_from_hessian`.
    select : array of int, optional
        Pair indices (default all pairs).
    batch : int
        Right-hand sides per solve (memory: d*N*batch floats).
    """
    idx = np.arange(pairs.i.size) if select is None else np.asarray(select, dtype=np.int64)
    if idx.size == 0:
        raise ElasticError("no pairs selected")
    kappa = np.empty(idx.size)
    zs = [] if keep_z else None
    iters, res, secs = [], [], 0.0
    for start in range(0, idx.size, batch):
        part = idx[start:start + batch]
        D = dipole_vectors(pairs, natoms, part)
        z, info = solver.solve(D)
        kappa[start:start + part.size] = np.einsum("ik,ik->k", D, z) / np.einsum("ik,ik->k", z, z)
        iters.append(info.iterations)
        res.append(info.residuals)
        secs += info.seconds
        if keep_z:
            zs.append(z)
    pi, pj = pairs.i[idx], pairs.j[idx]
    total = np.zeros(natoms)
    count = np.zeros(natoms)
    np.add.at(total, pi, kappa)
    np.add.at(total, pj, kappa)
    np.add.at(count, pi, 1)
    np.add.at(count, pj, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(count > 0, total / count, np.nan)
    it = np.concatenate(iters)
    rs = np.concatenate(res)
    solve = {"method": solver.method, "iterations_max": int(it.max(initial=0)),
             "residual_max": float(np.nanmax(rs)) if np.any(np.isfinite(rs)) else None, "seconds": secs}
    return DipoleResult(i=pi, j=pj, distance=pairs.distance[idx], kappa=kappa, local_kappa=local,
                        atom_ids=np.arange(natoms) + 1 if atom_ids is None else np.asarray(atom_ids),
                        z=np.concatenate(zs, axis=1) if keep_z else None, solve=solve)


def random_pairs(pairs: PairTable, count: int, seed: int = 0) -> np.ndarray:
    """``count`` distinct pair indices drawn uniformly (all pairs when count >= their number)."""
    m = pairs.i.size
    if count >= m:
        return np.arange(m)
    return np.sort(np.random.default_rng(seed).choice(m, size=count, replace=False))


@dataclass(frozen=True)
class FarField:
    """Log-slope of |z(r)| at distance r from a dipole's centre.

    Attributes
    ----------
    slope : float
        Least-squares slope of log(median |z| per log-spaced shell) vs log r over [r_min, r_max];
        continuum elasticity gives -(d - 1).
    r, amplitude : ndarray
        Shell centres and median |z_k| (distance units per unit force).
    r_min, r_max : float
    natoms_used : int
    """

    slope: float
    r: np.ndarray
    amplitude: np.ndarray
    r_min: float
    r_max: float
    natoms_used: int


def far_field_slope(z: np.ndarray, positions: np.ndarray, box: dict, center: np.ndarray, r_min: float,
                    r_max: float | None = None, nbins: int = 8) -> FarField:
    """Fit |z(r)| ~ r^s over [r_min, r_max] (default r_max = half the smallest box width).

    Parameters
    ----------
    z : ndarray, shape=(d*N,)
    positions : ndarray, shape=(N, d)
    center : ndarray, shape=(d,)
        The dipole's centre (midpoint of the pair, nearest image).
    """
    d = positions.shape[1]
    if r_max is None:
        r_max = 0.5 * float(box_widths(box, d).min())
    r = np.linalg.norm(minimum_image(positions - center[None, :], box, d), axis=1)
    amp = np.linalg.norm(np.asarray(z).reshape(-1, d), axis=1)
    keep = (r >= r_min) & (r <= r_max)
    if keep.sum() < 2 * nbins:
        raise ElasticError(f"only {int(keep.sum())} atoms between r = {r_min} and {r_max:.3g}: too few for a "
                           "far-field fit (larger system or smaller r_min)")
    edges = np.geomspace(r_min, r_max, nbins + 1)
    which = np.digitize(r[keep], edges) - 1
    centres, med = [], []
    for b in range(nbins):
        sel = which == b
        if sel.sum() >= 3:
            centres.append(np.sqrt(edges[b] * edges[b + 1]))
            med.append(np.median(amp[keep][sel]))
    centres, med = np.array(centres), np.array(med)
    slope = float(np.polyfit(np.log(centres), np.log(med), 1)[0])
    return FarField(slope=slope, r=centres, amplitude=med, r_min=float(r_min), r_max=float(r_max),
                    natoms_used=int(keep.sum()))
