"""Double wells between inherent structures and their tunnel splittings (two-level systems).

Protocol of Khomenko et al. (2020), Sec. II-III, and Khomenko, Scalliet et al., Phys. Rev. Lett. 124, 225901 (2020):

1. candidate pairs of inherent structures (IS): all pairs of a folder of minima under energy and
   distance filters (:func:`folder_pairs`), or the hops of an IS trajectory with visit counts
   (:func:`transition_pairs`); endpoints re-minimized to max |F_i| <= 1e-10;
2. the minimum-energy path (MEP) by NEB (:mod:`glassmodes.landscape.neb`); paths with an interior minimum
   are not elementary double wells (flagged, not analysed further);
3. the 1D Schroedinger equation along the mass-weighted path (:mod:`glassmodes.landscape.schrodinger`):
   splitting E = e_1 - e_0, TLS if E <= E_th;
4. overlaps c, a (Eqs. 7-8, :func:`glassmodes.landscape.overlap_c`, :func:`~glassmodes.landscape.overlap_a`)
   of r_AB = B - A, r_AS = S - A (S the climbing image) and r_tau = image 1 - A with the harmonic modes at A.

Per double well (:func:`analyze_pair`), all energies **total** (eps), lengths mass-weighted:
``barrier`` V_S - V_A, ``barrier_B`` V_S - V_B, ``asymmetry`` V_B - V_A, ``length`` (arc length of the
image polygon), ``distance`` |r_AB|, ``PR_DW = (sum_i d_i^2)^2 / sum_i d_i^4`` (d_i = |r_AB,i|, not
normalized by N: about the number of moving particles; the TLS_ML_exploration code's definition),
``E``, ``E_dvr``, ``tls``.

Hook for nonlinear modes: ``extra_modes`` of :func:`analyze_pair` takes named mass-weighted vectors (for
instance the cubic mode of the cubic map seeded with r_AB, Khomenko et al. (2020), Figs. 7-8)
and reports their c, a with r_AB, r_AS and r_tau next to the harmonic modes'.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassmodes.landscape.events import minimum_image
from glassmodes.landscape.neb import (SEED002_FORCEFIELD, Configuration, Landscape, neb_lammps, neb_python,
                                      read_configuration, unwrap_to)
from glassmodes.landscape.overlaps import overlap_a, overlap_c
from glassmodes.landscape.schrodinger import tunnel_splitting

FORMAT = "glassmodes-double-well"
FORMAT_VERSION = 1
UNITS = {"energy": "eps (total, not per atom)", "length": "sigma sqrt(m) (mass-weighted)",
         "hbar": "hbar / (sigma sqrt(m eps))", "force": "eps / sigma"}


def pr_dw(dr: np.ndarray) -> float:
    """``(sum_i d_i^2)^2 / sum_i d_i^4`` with d_i = |dr_i|, shape=(N, 3): 1 for one moving particle.

    >>> d = np.zeros((10, 3)); d[:3, 0] = 1.0
    >>> pr_dw(d)
    3.0
    """
    s = np.einsum("ij,ij->i", dr, dr)
    return float(np.sum(s) ** 2 / np.sum(s * s))


# -------------------------------------------------------------------------------------------------
# inherent structures and candidate pairs
# -------------------------------------------------------------------------------------------------

#: a file whose largest force exceeds this (eps / sigma) is reported as "not a minimum" when re-minimized
NOT_A_MINIMUM = 1e-4


@dataclass(frozen=True)
class Minimum:
    """A re-minimized inherent structure: ``name`` (file stem), positions (N, 3), total energy, max |F_i|;
    ``fmax_start`` the largest force of the file as read and ``max_move`` the largest particle displacement
    of the re-minimization (NaN when unknown)."""

    name: str
    x: np.ndarray
    energy: float
    fmax: float
    fmax_start: float = float("nan")
    max_move: float = float("nan")


def minimize_folder(files, land: Landscape, ftol: float = 1e-10, progress=None) -> list[Minimum]:
    """Re-minimize each configuration file (same particles as ``land.cfg``) to max |F_i| <= ``ftol``.

    Raises ``ValueError`` when a file holds other particles or the minimizer stops above ``ftol``.
    """
    out = []
    for k, f in enumerate(files):
        c = read_configuration(f)
        if c.natoms != land.cfg.natoms or not np.array_equal(c.ids, land.cfg.ids) or \
                not np.allclose(c.diameters, land.cfg.diameters) or not np.allclose(c.lengths, land.cfg.lengths):
            raise ValueError(f"{f}: not the same particles and box as {land.cfg.source}")
        _, f0 = land.energy_forces(c.x, rebuild=True)
        f0 = float(np.sqrt(np.max(np.einsum("ij,ij->i", f0, f0))))
        x, e, fmax = land.minimize(c.x, ftol=ftol)
        if fmax > ftol:
            raise ValueError(f"{f}: minimization stopped at max force {fmax:.3g} > {ftol:g}")
        d = minimum_image(x - c.x, land.cfg.lengths)
        move = float(np.sqrt(np.max(np.einsum("ij,ij->i", d, d))))
        out.append(Minimum(name=Path(f).name.removesuffix(".txt").removesuffix(".conf"), x=x, energy=e, fmax=fmax,
                           fmax_start=f0, max_move=move))
        if progress:
            progress(f"minimized {k + 1}/{len(files)}: {out[-1].name} E = {e:.10f}, max force {f0:.2e} -> "
                     f"{fmax:.2e}, largest move {move:.2e}" +
                     (" (the file was not at a minimum)" if f0 > NOT_A_MINIMUM else ""))
    return out


def folder_pairs(minima: list[Minimum], lengths: np.ndarray, masses: np.ndarray, max_dE: float = 1.0,
                 max_distance: float = np.inf, min_displacement: float = 1e-3) -> list[dict]:
    """All pairs (A lower in energy) with |E_B - E_A| <= ``max_dE`` (eps, total; the TLS_ML_exploration
    prefilter Delta(E/N) N <= 1 eps), |r_AB| <= ``max_distance`` and a particle moving more than
    ``min_displacement`` (else the same minimum). Sorted by |r_AB|.

    Returns
    -------
    list of dict: ``a``, ``b`` (names), ``dE``, ``distance`` (mass-weighted |r_AB|), ``max_disp``, ``PR_DW``.
    """
    rows = []
    for i, a in enumerate(minima):
        for b in minima[i + 1:]:
            row = pair_row(a, b, lengths, masses)
            if row["dE"] <= max_dE and row["distance"] <= max_distance and row["max_disp"] > min_displacement:
                rows.append(row)
    return sorted(rows, key=lambda r: r["distance"])


def pair_row(a: Minimum, b: Minimum, lengths: np.ndarray, masses: np.ndarray) -> dict:
    """``a``, ``b`` (names, A the lower in energy), ``dE``, ``distance`` (mass-weighted |r_AB|, translation
    removed, minimum image), ``max_disp``, ``PR_DW`` of two minima."""
    lo, hi = (a, b) if a.energy <= b.energy else (b, a)
    d = minimum_image(hi.x - lo.x, lengths)
    d -= d.mean(axis=0)
    mag = np.sqrt(np.einsum("ij,ij->i", d, d))
    sm = np.sqrt(np.asarray(masses, dtype=float))[:, None]
    return {"a": lo.name, "b": hi.name, "dE": hi.energy - lo.energy, "distance": float(np.linalg.norm(d * sm)),
            "max_disp": float(mag.max()), "PR_DW": pr_dw(d)}


def transition_file_pairs(minima: list[Minimum], transitions: list[dict], lengths: np.ndarray, masses: np.ndarray,
                          max_dE: float = np.inf, max_distance: float = np.inf,
                          min_displacement: float = 1e-3) -> tuple[list[dict], list[str]]:
    """Candidate pairs of an MD run (:func:`glassmodes.landscape.md.read_transitions`) as :func:`folder_pairs`
    rows plus ``hops``, under the same filters, sorted by hops (most first).

    Returns
    -------
    rows : list of dict
    notes : list of str
        Pairs dropped, with the reason (a name not among ``minima``, the filters, and endpoints that
        re-minimized into the same minimum).
    """
    by_name = {m.name: m for m in minima}
    rows, notes = [], []
    for t in transitions:
        miss = [n for n in (t["a"], t["b"]) if n not in by_name]
        if miss:
            raise ValueError(f"transitions file names {', '.join(miss)}, not among the minima files")
        row = pair_row(by_name[t["a"]], by_name[t["b"]], lengths, masses)
        label = f"{row['a']} - {row['b']}"
        if row["max_disp"] <= min_displacement:
            notes.append(f"{label}: identical endpoints (largest particle displacement {row['max_disp']:.2e} <= "
                         f"{min_displacement:g}): the same minimum, dropped")
        elif row["dE"] > max_dE:
            notes.append(f"{label}: |E_B - E_A| = {row['dE']:.3g} > --max-dE {max_dE:g}, dropped")
        elif row["distance"] > max_distance:
            notes.append(f"{label}: |r_AB| = {row['distance']:.3g} > --max-distance {max_distance:g}, dropped")
        else:
            row["hops"] = int(t["hops"])
            rows.append(row)
    return sorted(rows, key=lambda r: (-r["hops"], r["distance"])), notes


def transition_pairs(positions, lengths: np.ndarray, same_tol: float = 1e-3, min_hops: int = 2,
                     back_and_forth: bool = True) -> tuple[np.ndarray, list[dict]]:
    """Distinct IS and hop counts of an IS trajectory (Khomenko et al. (2020): pairs visited often).

    Parameters
    ----------
    positions : sequence of ndarray, shape=(N, 3) each (or an :class:`~glassmodes.landscape.ISTrajectory`)
        Inherent structures in time order.
    same_tol : float
        Two IS are the same minimum when no particle differs by more than this (minimum image).
    min_hops : int
        Keep pairs with at least this many hops between them (both directions counted).
    back_and_forth : bool
        Require hops in both directions.

    Returns
    -------
    labels : ndarray of int, shape=(F,)
        Minimum index of every frame (first occurrence order).
    pairs : list of dict
        ``a``, ``b`` (minimum indices, a < b), ``hops``, ``ab``, ``ba``, ``first_frame``.
    """
    if hasattr(positions, "positions") and hasattr(positions, "energy"):
        traj = positions
        get = traj.positions if callable(traj.positions) else (lambda k: traj.positions[k])
        frames = [get(k) for k in range(len(traj.energy))]
    else:
        frames = list(positions)
    reps: list[np.ndarray] = []
    labels = np.empty(len(frames), dtype=np.int64)
    for k, x in enumerate(frames):
        labels[k] = label_minimum(np.asarray(x, dtype=float), reps, lengths, same_tol, int(labels[k - 1]) if k else -1)
    return labels, hop_pairs(labels, min_hops=min_hops, back_and_forth=back_and_forth)


def label_minimum(x: np.ndarray, reps: list, lengths: np.ndarray, same_tol: float = 1e-3, last: int = -1) -> int:
    """Index of the minimum ``x`` (shape=(N, 3)) among the distinct minima ``reps``, appended when new.

    Same minimum: no particle differs by more than ``same_tol`` (minimum image). ``last`` (the previous
    frame's label) is tried first.
    """
    for j in ([last] if last >= 0 else []) + list(range(len(reps))):
        d = minimum_image(x - reps[j], lengths)
        if np.sqrt(np.max(np.einsum("ij,ij->i", d, d))) <= same_tol:
            return int(j)
    reps.append(x)
    return len(reps) - 1


def hop_pairs(labels, min_hops: int = 2, back_and_forth: bool = True) -> list[dict]:
    """Transition graph of a label sequence: pairs of minima joined by hops between consecutive frames.

    A negative label (a flagged frame, e.g. a quench that did not converge) joins nothing: the hops
    into and out of it are not counted.

    Returns
    -------
    list of dict
        ``a``, ``b`` (labels, a < b), ``hops`` (both directions), ``ab``, ``ba``, ``first_frame``; the
        pairs with ``hops >= min_hops`` (and, with ``back_and_forth``, hops both ways), most hops first.
    """
    labels = np.asarray(labels)
    counts: dict = {}
    for k in range(1, labels.size):
        a, b = int(labels[k - 1]), int(labels[k])
        if a != b and a >= 0 and b >= 0:
            key = (min(a, b), max(a, b))
            c = counts.setdefault(key, {"a": key[0], "b": key[1], "hops": 0, "ab": 0, "ba": 0, "first_frame": k})
            c["hops"] += 1
            c["ab" if a < b else "ba"] += 1
    pairs = [c for c in counts.values() if c["hops"] >= min_hops and (not back_and_forth or (c["ab"] and c["ba"]))]
    return sorted(pairs, key=lambda c: (-c["hops"], c["first_frame"]))


# -------------------------------------------------------------------------------------------------
# one double well
# -------------------------------------------------------------------------------------------------

def cubic_modes(land: Landscape, x: np.ndarray, seeds: dict, tol: float = 1e-8, method: str = "map") -> dict:
    """Cubic nonlinear modes at the minimum ``x`` from mass-weighted seed fields (Khomenko et al. (2020), Sec. III).

    The pair table (orders 3 and 4) is written at ``x`` by the plugin (``write_fc3 ... order 4``) and
    :func:`glassmodes.nonlinear.find_mode` runs the cubic map ``pi <- M^-1 (U3 : pi pi)`` from every
    seed (the paper's procedure; ``method="lbfgs+map"`` adds the minimizer).

    Parameters
    ----------
    land : Landscape
    x : ndarray, shape=(N, 3)
        A minimized structure (the A end of a pair).
    seeds : dict of str -> ndarray, shape=(3N,)
        Mass-weighted start fields, e.g. ``{"r_AB": ..., "psi_0": ...}``.

    Returns
    -------
    dict of str -> glassmodes.nonlinear.NonlinearMode
        One converged or flagged (``converged`` False) mode per seed.
    """
    import tempfile

    from glassmodes.fc3 import read_fc3
    from glassmodes.nonlinear import ForceConstantOperator, find_mode

    land._put(x)
    with tempfile.TemporaryDirectory(prefix="gm-fc3-") as tmp:
        land._lmp.command("run 0 post no")
        land._lmp.command(f"write_fc3 all {tmp}/F method analytic order 4 ftol 1e-6")
        op = ForceConstantOperator(read_fc3(f"{tmp}/F"))
    return {name: find_mode(op, kind="cubic", seed=np.asarray(seed, float), method=method, tol=tol,
                            seed_label=name) for name, seed in seeds.items()}


def harmonic_modes(land: Landscape, x: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (omega^2) and mass-weighted eigenvectors (columns, component 3 i + alpha) at a minimum.

    ``k`` None: all 3N (dense); else the lowest ``k`` (sparse Lanczos, shift-invert about 0 with the
    three translations included).
    """
    import tempfile

    import scipy.linalg as sl
    import scipy.sparse.linalg as sla

    from glassmodes.io.hessian import read_hessian

    land._put(x)
    with tempfile.TemporaryDirectory(prefix="gm-modes-") as tmp:
        land._lmp.command("run 0 post no")
        land._lmp.command(f"write_hessian all {tmp}/H ftol 1e-6")
        D = read_hessian(f"{tmp}/H").dynamical_matrix()
    if k is None or k >= D.shape[0] - 1:
        w, v = sl.eigh(D.toarray())
    else:
        w, v = sla.eigsh(D, k=int(k) + 3, sigma=-1e-3, which="LM")
        o = np.argsort(w)
        w, v = w[o], v[:, o]
    return w, v


def _overlap_block(fields: dict, vectors: np.ndarray, omega2: np.ndarray, skip: int = 3) -> dict:
    """Best c, a of each field over the modes (translations, the first ``skip``, excluded); captured sum c^2."""
    out = {}
    vec = vectors[:, skip:]
    w2 = omega2[skip:]
    for name, f in fields.items():
        c = overlap_c(f, vec)
        a = overlap_a(f, vec)
        bc, ba = int(np.argmax(c)), int(np.argmax(a))
        # mode indices count the ascending spectrum from 0, the three translations included
        out[name] = {"best_c": float(c[bc]), "best_c_mode": bc + skip, "best_c_omega": float(np.sqrt(max(w2[bc], 0))),
                     "best_a": float(a[ba]), "best_a_mode": ba + skip,
                     "best_a_omega": float(np.sqrt(max(w2[ba], 0))), "captured_c2": float(np.sum(c * c)),
                     "c_softest": float(c[0])}
    return out


def analyze_pair(land: Landscape, xa: np.ndarray, xb: np.ndarray, hbar: float, E_th: float, nimages: int = 8,
                 method: str = "python", workdir: str | os.PathLike | None = None, modes: int | str | None = "all",
                 extra_modes: dict | None = None, spring: float = 1.0, ftol: float = 1e-7, split: bool = True,
                 progress=None, cubic: bool = False, max_depth: int = 3, endpoint_ftol: float = 1e-8,
                 same_tol: float = 1e-3, neb_maxiter: int = 50000, connect_check: bool = True,
                 _depth: int = 0) -> dict:
    """NEB, checks, splitting and overlaps of one pair of minima (see the module docstring).

    Parameters
    ----------
    land : Landscape
    xa, xb : ndarray, shape=(N, 3)
        Minimized endpoints (A the lower one).
    hbar, E_th : float
        hbar~ and the TLS threshold (eps).
    nimages : int
        NEB images including the ends.
    method : {"python", "lammps"}
        NEB route; ``lammps`` needs ``workdir``.
    modes : "all", int, None or tuple (omega2, vectors)
        Harmonic modes at A for the overlaps: all (dense), the lowest k, none, or precomputed by
        :func:`harmonic_modes` (several pairs sharing A).
    extra_modes : dict of str -> ndarray, shape=(3N,)
        Other mass-weighted directions (e.g. nonlinear modes) for the same overlaps.
    cubic : bool
        Also the cubic modes at A seeded with r_AB and (when harmonic modes are computed) with the
        softest harmonic mode psi_0 (:func:`cubic_modes`; Khomenko et al. (2020), Figs. 7-8): their
        overlaps join ``overlaps_extra`` as ``cubic(r_AB)``, ``cubic(psi_0)``; ``cubic_modes`` holds
        omega, tau, chi, N e, residual, convergence and the quartic profile along each (beta,
        group, second well; :func:`glassmodes.expansion.quartic_profile` with b = kappa, tau, chi).
    split : bool
        A path with interior minima is not a double well (status ``not elementary``); with ``split``
        the interior minima are minimized (:func:`split_path`) and each consecutive pair of the chain
        analysed (``segments``: the same keys, A the lower end, ``reversed`` when the chain runs
        downhill, ``depth``; no overlaps for segments). A segment with an interior minimum of its own
        is split again, down to ``max_depth`` levels (deeper ones stay ``not elementary`` with
        ``message`` saying so).
    endpoint_ftol : float
        An end whose largest force exceeds this is not a minimum: it is re-minimized (to 1e-10) before
        the NEB and ``reminimized`` records which end, its force before and how far it moved.
    same_tol : float
        Ends (after re-minimization) with no particle displaced by more than this are the same minimum:
        ``ValueError``.
    connect_check : bool
        Relax the two images next to the highest one: they must reach A and B (``connectivity``); an
        image that relaxes to another minimum means the images skipped a well (status ``not
        elementary``, split at that minimum). Two minimizations per path.
    neb_maxiter : int
        Iteration limit of the Python NEB; a NEB that does not converge gives status
        ``NEB not converged`` (no splitting, no overlaps), never a number from an unconverged path.

    Returns
    -------
    dict, JSON-serializable: the quantities listed in the module docstring, the path (image xi,
    energies, slopes), saddle check, overlaps and timings (``seconds``: wall ``neb``, ``split``, ``total``
    and ``cpu``, the CPU time of this process, segments included; LAMMPS's ``neb`` runs in other
    processes and is not in ``cpu``).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    cfg = land.cfg
    if method not in ("python", "lammps"):
        raise ValueError(f"unknown NEB method {method!r} (python, lammps)")
    if method == "lammps" and workdir is None:
        raise ValueError("method 'lammps' needs a work folder")
    if hbar is None or not hbar > 0:
        raise ValueError("hbar~ (> 0) is required for the tunnel splitting: hbar / (sigma sqrt(m eps)) of the "
                         "material mapping")
    xa = np.asarray(xa, dtype=float)
    xb = unwrap_to(xa, xb, cfg.lengths)
    reminimized = []
    ends = []
    for tag, x in (("A", xa), ("B", xb)):
        _, f = land.energy_forces(x)
        f0 = float(np.sqrt(np.max(np.einsum("ij,ij->i", f, f))))
        if f0 > endpoint_ftol:
            xm, _, fm = land.minimize(x, ftol=1e-10)
            moved = float(np.sqrt(np.max(np.einsum("ij,ij->i", xm - x, xm - x))))
            reminimized.append({"end": tag, "fmax_before": f0, "fmax_after": fm, "max_move": moved})
            if progress:
                progress(f"end {tag} is not a minimum (max force {f0:.2e} > {endpoint_ftol:g}): re-minimized to "
                         f"{fm:.1e}, largest particle move {moved:.2e}")
            x = xm
        ends.append(x)
    xa, xb = ends[0], unwrap_to(ends[0], ends[1], cfg.lengths)
    d = minimum_image(xb - xa, cfg.lengths)
    if np.sqrt(np.max(np.einsum("ij,ij->i", d, d))) <= same_tol:
        raise ValueError(f"identical endpoints: no particle differs by more than {same_tol:g} between A and B"
                         f"{' (after re-minimization)' if reminimized else ''}")
    try:
        if method == "python":
            mep = neb_python(land, xa, xb, nimages=nimages, spring=spring, ftol=ftol, progress=progress,
                             maxiter=neb_maxiter)
        else:
            mep = neb_lammps(cfg, xa, xb, workdir, nimages=nimages, forcefield=land.forcefield, spring=spring,
                             ftol=ftol, land=land)
    except RuntimeError as exc:
        e_a, _ = land.energy_forces(xa)
        e_b, _ = land.energy_forces(xb)
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "units": UNITS, "method": method,
                "nimages": int(nimages), "spring": spring, "ftol": ftol, "status": "NEB not converged",
                "message": str(exc).strip()[:2000], "E_A": e_a, "E_B": e_b, "asymmetry": e_b - e_a, "E": None,
                "E_dvr": None, "tls": None, "hbar": float(hbar), "E_th": float(E_th), "depth": _depth,
                "reminimized": reminimized, "seconds": {"neb": time.perf_counter() - t0,
                                                        "total": time.perf_counter() - t0,
                                                        "cpu": time.process_time() - c0}}
    t_neb = time.perf_counter() - t0
    sm = np.sqrt(cfg.masses)[:, None]
    d_ab = xb - xa
    row = {"format": FORMAT, "format_version": FORMAT_VERSION, "units": UNITS, "method": mep.method,
           "nimages": int(nimages), "spring": spring, "ftol": ftol, "neb_iterations": mep.iterations,
           "neb_fmax": mep.fmax, "E_A": float(mep.energy[0]), "E_B": float(mep.energy[-1]),
           "barrier": mep.barrier, "barrier_B": float(mep.energy.max() - mep.energy[-1]),
           "asymmetry": mep.asymmetry, "length": mep.length, "distance": float(np.linalg.norm(d_ab * sm)),
           "max_disp": float(np.sqrt(np.max(np.einsum("ij,ij->i", d_ab, d_ab)))), "PR_DW": pr_dw(d_ab),
           "path": {"xi": mep.xi.tolist(), "energy": (mep.energy - mep.energy[0]).tolist()},
           "interior_minima": mep.interior_minima(), "interior_maxima": mep.interior_maxima(),
           "hidden_minima": [[i, s] for i, s in mep.hidden_minima(ftol * mep.length)],
           "hbar": float(hbar), "E_th": float(E_th), "depth": _depth, "reminimized": reminimized}
    if method == "lammps" and not mep.fmax <= ftol:
        row.update(status="NEB not converged", E=None, E_dvr=None, tls=None,
                   message=f"LAMMPS neb stopped at max replica force {mep.fmax:.3g} > {ftol:g}")
        row["seconds"] = {"neb": t_neb, "total": time.perf_counter() - t0, "cpu": time.process_time() - c0}
        return row
    extra = []
    if connect_check and not (row["interior_minima"] or row["hidden_minima"] or len(row["interior_maxima"]) > 1):
        # the images next to the highest one must relax into A and B (else the path skipped a well)
        s = mep.saddle
        row["connectivity"] = {}
        for side, k, ref in (("A", s - 1, xa), ("B", s + 1, xb)):
            if k in (0, nimages - 1):
                row["connectivity"][side] = "end image"
                continue
            xk, _, _ = land.minimize(mep.x[k], ftol=1e-10)
            d = minimum_image(xk - ref, cfg.lengths)
            dmax = float(np.sqrt(np.max(np.einsum("ij,ij->i", d, d))))
            row["connectivity"][side] = {"image": int(k), "max_disp_to_end": dmax, "same": dmax <= same_tol}
            if dmax > same_tol:
                extra.append((float(k), mep.x[k]))
    if row["interior_minima"] or row["hidden_minima"] or extra or len(row["interior_maxima"]) > 1:
        why = ("" if row["interior_minima"] else " between two images (a dip of the Hermite path potential)"
               if row["hidden_minima"] else " (an image next to the highest one relaxes to another minimum than "
               "its end: the images skipped a well)")
        row.update(status="not elementary", E=None, E_dvr=None, tls=None,
                   message="the path crosses an intermediate minimum" + why + ": not one double well")
        if split and _depth >= max_depth:
            row["message"] += f"; not split further (split depth {max_depth} reached)"
        elif split:
            chain = split_path(land, mep, same_tol=same_tol, etol=ftol * mep.length, extra_starts=extra)
            if len(chain) == 2:     # every candidate relaxed into A or B: no new minimum, nothing to split
                row["message"] += ("; the intermediate minimum relaxes into an end, not split (more images "
                                   "resolve the path)")
                chain = []
            row["split_energies"] = [e - chain[0][1] for _, e in chain] if chain else []
            row["segments"] = []
            for (x0, e0), (x1, e1) in zip(chain[:-1], chain[1:]):
                lo, hi = ((x0, x1) if e0 <= e1 else (x1, x0))
                seg_dir = None if workdir is None else Path(workdir) / f"segment{len(row['segments'])}"
                sub = analyze_pair(land, lo, hi, hbar, E_th, nimages=nimages, method=method, workdir=seg_dir,
                                   modes=None, spring=spring, ftol=ftol, split=True, progress=progress,
                                   max_depth=max_depth, endpoint_ftol=endpoint_ftol, same_tol=same_tol,
                                   neb_maxiter=neb_maxiter, connect_check=connect_check, _depth=_depth + 1)
                sub.pop("format", None), sub.pop("format_version", None), sub.pop("units", None)
                sub["reversed"] = bool(e0 > e1)
                row["segments"].append(sub)
        row["seconds"] = {"neb": t_neb, "total": time.perf_counter() - t0, "cpu": time.process_time() - c0}
        return row
    s = mep.saddle
    eig = land.lowest_hessian_eigenvalues(mep.x[s], k=6)
    row["saddle"] = {"image": s, "climbing": mep.climbing, "lowest_eigenvalues": eig.tolist(),
                     "negative": int(np.sum(eig < -1e-6))}
    pp = mep.path_potential(land)
    row["path"]["slope"] = pp.slope.tolist()
    row["k_ends"] = list(pp.k_ends)
    sp = tunnel_splitting(pp, hbar)
    row.update(E=sp.E, E_dvr=sp.E_dvr, e0=sp.e0, e1=sp.e1, tls=sp.is_tls(E_th),
               status="ok" if row["saddle"]["negative"] == 1 else "saddle check failed")
    t_split = time.perf_counter() - t0 - t_neb
    if modes is not None or extra_modes or cubic:
        fields = {"r_AB": (d_ab * sm).ravel(), "r_AS": ((mep.x[s] - xa) * sm).ravel(),
                  "r_tau": ((mep.x[1] - xa) * sm).ravel()}
        for f in fields.values():           # translations removed (zero modes, not part of the event)
            f.reshape(-1, 3)[:] -= f.reshape(-1, 3).mean(axis=0)
        if modes is not None:
            if isinstance(modes, tuple):
                w2, v = modes
            else:
                w2, v = harmonic_modes(land, xa, None if modes == "all" else int(modes))
            row["overlaps"] = _overlap_block(fields, v, w2)
            row["overlaps_modes"] = int(v.shape[1] - 3)
        extra_modes = dict(extra_modes or {})
        if cubic:
            seeds = {"r_AB": fields["r_AB"]}
            if modes is not None:
                seeds["psi_0"] = v[:, 3]
            row["cubic_modes"] = {}
            for name, m in cubic_modes(land, xa, seeds).items():
                info = {"omega": m.omega, "kappa": m.kappa, "tau": m.tau, "chi": m.chi,
                        "participation_number": m.participation_number, "single_particle": m.single_particle,
                        "residual": m.residual, "converged": m.converged, "iterations": m.iterations}
                if m.kappa > 0 and np.isfinite(m.chi):
                    from glassmodes.expansion import quartic_profile

                    q = quartic_profile(m.kappa, m.tau, m.chi)
                    info.update(beta=float(q.beta), group=str(q.group), has_second_well=bool(q.has_second_well))
                row["cubic_modes"][f"cubic({name})"] = info
                extra_modes[f"cubic({name})"] = m.pi
        if extra_modes:
            row["overlaps_extra"] = {name: {fn: {"c": float(overlap_c(f, np.asarray(vec))[0]),
                                                 "a": float(overlap_a(f, np.asarray(vec))[0])}
                                            for fn, f in fields.items()} for name, vec in extra_modes.items()}
    row["seconds"] = {"neb": t_neb, "split": t_split, "total": time.perf_counter() - t0,
                      "cpu": time.process_time() - c0}
    return row


def split_path(land: Landscape, mep, ftol: float = 1e-10, same_tol: float = 1e-3,
               etol: float | None = None, extra_starts=()) -> list[tuple[np.ndarray, float]]:
    """Chain of minima ``[A, C_1, ..., B]`` along a path with interior minima.

    Every interior-minimum image, and with ``etol`` every minimum between two images
    (:meth:`~glassmodes.landscape.neb.MEP.hidden_minima`, started on the chord between the images), is
    minimized (max |F_i| <= ``ftol``), in path order; a result within ``same_tol`` (largest particle
    displacement) of the previous minimum in the chain is dropped. Consecutive members are the pairs to
    analyse instead of (A, B) (each may be split again: :func:`analyze_pair`). ``extra_starts``: more
    ``(image position, positions)`` to relax (the images of a failed connectivity check).

    Returns
    -------
    list of (positions, shape=(N, 3), total energy)
    """
    L = land.cfg.lengths
    chain = [(mep.x[0], float(mep.energy[0]))]
    starts = [(float(i), mep.x[i]) for i in mep.interior_minima()] + list(extra_starts)
    if etol is not None:
        starts += [(i + s, mep.x[i] + s * (mep.x[i + 1] - mep.x[i])) for i, s in mep.hidden_minima(etol)]
    for pos, x0 in sorted(starts, key=lambda t: t[0]):
        xc, ec, fmax = land.minimize(x0, ftol=ftol)
        if fmax > ftol:
            raise RuntimeError(f"minimizing the path at image {pos:.2f} stopped at max force {fmax:.3g} > {ftol:g}")
        d = minimum_image(xc - chain[-1][0], L)
        if np.sqrt(np.max(np.einsum("ij,ij->i", d, d))) > same_tol:
            chain.append((unwrap_to(chain[-1][0], xc, L), ec))
    d = minimum_image(mep.x[-1] - chain[-1][0], L)
    if np.sqrt(np.max(np.einsum("ij,ij->i", d, d))) <= same_tol:
        chain.pop()
    chain.append((mep.x[-1], float(mep.energy[-1])))
    return chain


def write_result(path: str | os.PathLike, row: dict) -> None:
    """One pair's result as JSON, written atomically (temporary file + rename)."""
    from glassmodes import __version__
    from glassmodes.io.atomic import atomic_output

    row = dict(row, glassmodes_version=__version__)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(row, indent=1))


def read_result(path: str | os.PathLike) -> dict:
    """Read a result written by :func:`write_result`; checks the format tag and units."""
    try:
        row = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a double-well result ({exc})") from None
    if row.get("format") != FORMAT or row.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: not a {FORMAT} v{FORMAT_VERSION} file")
    if row.get("units") != UNITS:
        raise ValueError(f"{path}: units {row.get('units')} differ from {UNITS}")
    return row


TABLE_COLUMNS = ("pair", "parent", "status", "barrier", "barrier_B", "asymmetry", "length", "distance", "max_disp",
                 "PR_DW",
                 "E", "E_dvr", "tls", "hbar", "E_th", "neb_iterations", "saddle_negative", "best_c_r_AB",
                 "best_c_r_AS", "best_c_r_tau", "best_a_r_tau", "captured_c2_r_AB", "cubic_c_r_AB", "cubic_a_r_AB",
                 "cubic_omega", "cubic_beta", "cubic_psi0_c_r_AB", "seconds", "cpu_seconds")


def table_rows(name: str, row: dict, parent: str = "") -> list[dict]:
    """The table row of a result and, recursively, one row ``name#k`` per segment of a split path (a
    segment split again gives ``name#k#j``); ``parent`` names the row it was split from."""
    out = [dict(table_row(name, row), parent=parent)]
    for k, sub in enumerate(row.get("segments", [])):
        out += table_rows(f"{name}#{k}", sub, parent=name)
    return out


def table_row(name: str, row: dict) -> dict:
    ov = row.get("overlaps", {})
    ex, cm = row.get("overlaps_extra", {}), row.get("cubic_modes", {})
    return {"pair": name, "status": row.get("status"), "barrier": row.get("barrier"),
            "barrier_B": row.get("barrier_B"), "asymmetry": row.get("asymmetry"), "length": row.get("length"),
            "distance": row.get("distance"), "max_disp": row.get("max_disp"), "PR_DW": row.get("PR_DW"),
            "E": row.get("E"), "E_dvr": row.get("E_dvr"), "tls": row.get("tls"), "hbar": row.get("hbar"),
            "E_th": row.get("E_th"), "neb_iterations": row.get("neb_iterations"),
            "saddle_negative": row.get("saddle", {}).get("negative"),
            "best_c_r_AB": ov.get("r_AB", {}).get("best_c"), "best_c_r_AS": ov.get("r_AS", {}).get("best_c"),
            "best_c_r_tau": ov.get("r_tau", {}).get("best_c"), "best_a_r_tau": ov.get("r_tau", {}).get("best_a"),
            "captured_c2_r_AB": ov.get("r_AB", {}).get("captured_c2"),
            "cubic_c_r_AB": ex.get("cubic(r_AB)", {}).get("r_AB", {}).get("c"),
            "cubic_a_r_AB": ex.get("cubic(r_AB)", {}).get("r_AB", {}).get("a"),
            "cubic_omega": cm.get("cubic(r_AB)", {}).get("omega"), "cubic_beta": cm.get("cubic(r_AB)", {}).get("beta"),
            "cubic_psi0_c_r_AB": ex.get("cubic(psi_0)", {}).get("r_AB", {}).get("c"),
            "seconds": row.get("seconds", {}).get("total"), "cpu_seconds": row.get("seconds", {}).get("cpu")}


__all__ = ["pr_dw", "NOT_A_MINIMUM", "Minimum", "minimize_folder", "folder_pairs", "pair_row", "transition_file_pairs",
           "transition_pairs", "label_minimum", "hop_pairs", "harmonic_modes",
           "analyze_pair", "cubic_modes", "split_path", "write_result", "read_result", "table_row", "table_rows",
           "TABLE_COLUMNS", "SEED002_FORCEFIELD",
           "Configuration", "FORMAT", "UNITS"]
