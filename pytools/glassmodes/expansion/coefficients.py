"""``b2, b3, b4`` along unit mass-weighted directions, and the selection of quasi-localized modes.

For a unit mass-weighted direction ``z`` (``|z| = 1``; displacement of atom ``i`` is
``s z_i / sqrt(m_i)``) the directional derivatives of the energy at the minimum are

    b2 = z . D . z,   b3 = Phi3 : z z z,   b4 = Phi4 :: z z z z

with ``D`` the dynamical matrix and ``Phi3``, ``Phi4`` mass weighted (Kumar, Procaccia, Singh
2021, arXiv:2102.12368, Eq. 12, written there for unit masses). They come from one order-4 pair table
(:class:`glassmodes.fc3.ForceConstants`, ``write_fc3 ... order 4``): ``D`` rebuilt from the table,
``phi3(z, z, z)``, ``phi4(z, z, z, z)``, each O(pairs). For a harmonic mode ``b2`` equals the
stored eigenvalue (checked and reported as ``b2_rel_diff``).

Selection (Kumar et al.: PR < 0.27, 403 QLMs out of 4.8e8 modes): ``pr_max`` on the participation
ratio, and optionally ``omega_max`` (e.g. "below the first phonon band", see :func:`phonon_band_edge`).
The paper's yield (0.0067 QLM per sample of N = 4000) implies a low-frequency restriction that it
does not state; both rules are offered and the rule used is recorded with the results.
"""

from __future__ import annotations

import numpy as np

from glassmodes.analysis.participation import participation_ratio
from glassmodes.expansion.profile import quartic_profile

#: relative frequency gap below which a mode is flagged as near-degenerate (its direction is then
#: an arbitrary combination inside the pair; design note B.5)
DEGENERATE_RTOL = 1e-3


class ExpansionError(ValueError):
    """Inputs that do not belong together or cannot be expanded (named in the message)."""


def _fc_for(fc):
    if fc.storage != "pair-derivatives" or fc.order < 4:
        raise ExpansionError(
            f"b4 needs a fourth-order pair table: this force-constant file is {fc.storage} of order {fc.order}; "
            "write it with `write_fc3 all FILE order 4` (method analytic)")
    return fc if fc.mass_weighted else fc.with_mass_weighting(True)


def position_mismatch(xa, xb, box: dict, dimension: int) -> float:
    """Largest distance between two position sets of one box, minimum image in periodic directions.

    ``xa, xb`` shape (N, >=d); ``box`` a sidecar box dict (``boxlo``, ``boxhi``, tilts,
    ``periodicity``). Used to check that a mode file, a force-constant file and a data file describe
    the same structure even when one of them wrapped atoms into the box.
    """
    from glassmodes.analysis.vdos import box_matrix

    h = box_matrix(box, dimension)                  # rows: edge vectors
    dx = np.asarray(xa, float)[:, :dimension] - np.asarray(xb, float)[:, :dimension]
    frac = np.linalg.solve(h.T, dx.T).T
    periodic = np.asarray(box.get("periodicity", [1, 1, 1]), dtype=bool)[:dimension]
    frac[:, periodic] -= np.round(frac[:, periodic])
    return float(np.linalg.norm(frac @ h, axis=1).max()) if len(dx) else 0.0


def directional_derivatives(fc, directions, normalize: bool = True, hessian=None) -> dict:
    """``b2, b3, b4`` of the energy along each direction (module docs), no sign convention yet.

    Parameters
    ----------
    fc : glassmodes.fc3.ForceConstants
        Order-4 pair table (``write_fc3 ... order 4``); used mass weighted whatever the file's
        ``mass`` keyword.
    directions : ndarray, shape=(d*N,) or (d*N, k)
        Mass-weighted directions (columns), Hessian ordering (component ``d*i + a``).
    normalize : bool
        Divide each column by its norm first (the input norms are returned); False: the columns
        must already be unit vectors (to 1e-8).
    hessian : scipy sparse matrix, optional
        The dynamical matrix, shape=(d*N, d*N) (default: rebuilt from ``fc``).

    Returns
    -------
    dict of ndarray, shape=(k,)
        ``b2`` (energy/(mass distance^2)), ``b3`` (energy/(mass^1.5 distance^3)), ``b4``
        (energy/(mass^2 distance^4)), ``norm`` (input norms).
    """
    fc = _fc_for(fc)
    z = np.asarray(directions, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    if z.shape[0] != fc.ndof:
        raise ExpansionError(f"directions have {z.shape[0]} components, the force constants {fc.ndof} "
                             f"({fc.natoms} atoms in {fc.dimension}D)")
    norms = np.linalg.norm(z, axis=0)
    if np.any(norms == 0) or not np.all(np.isfinite(norms)):
        raise ExpansionError("a direction is zero or not finite")
    if normalize:
        z = z / norms
    elif np.any(np.abs(norms - 1) > 1e-8):
        raise ExpansionError(f"directions must be unit vectors (norms {norms.min():.3g}..{norms.max():.3g})")
    H = fc.hessian() if hessian is None else hessian
    k = z.shape[1]
    b2, b3, b4 = np.empty(k), np.empty(k), np.empty(k)
    for c in range(k):
        v = z[:, c]
        b2[c] = float(v @ (H @ v))
        b3[c] = float(fc.phi3(v, v, v))
        b4[c] = float(fc.phi4(v, v, v, v))
    return {"b2": b2, "b3": b3, "b4": b4, "norm": norms}


def degenerate_flags(frequencies, indices, rtol: float = DEGENERATE_RTOL) -> np.ndarray:
    """Whether mode ``indices[c]`` has a neighbour in ``frequencies`` within ``rtol`` relative gap.

    ``frequencies`` sorted ascending (a mode file's ``/frequencies``); shape of the result (k,).
    """
    w = np.asarray(frequencies, dtype=float)
    out = np.zeros(len(indices), dtype=bool)
    for c, j in enumerate(indices):
        for nb in (j - 1, j + 1):
            if 0 <= nb < w.size and abs(w[nb] - w[j]) <= rtol * max(abs(w[j]), abs(w[nb])):
                out[c] = True
    return out


def qlm_selection(omega, pr, pr_max: float | None = 0.27, omega_max: float | None = None) -> np.ndarray:
    """Boolean mask: ``pr < pr_max`` (if given) and ``0 < omega <= omega_max`` (if given).

    :func:`glassmodes.analysis.classify.qlm_mask` with an explicit bound (infinite by default).
    """
    from glassmodes.analysis.classify import qlm_mask

    return qlm_mask(omega, pr, 2.0 if pr_max is None else pr_max, np.inf if omega_max is None else omega_max)


def phonon_band_edge(mode_file, n_lowest: int | None = None) -> dict:
    """The first transverse phonon band of a sample, estimated from its stored eigenvectors.

    Uses :func:`glassmodes.analysis.vdos.estimate_phonon_band` (projection of the computed modes on
    the transverse plane waves of the smallest wavevectors). Returns ``omega_ph`` (weight-averaged
    band centre), ``omega_edge`` (lowest computed mode holding >= 10 % of one plane wave's weight:
    the band's lower edge, the cut used by "below the band"), ``captured`` and ``c_t``.
    """
    from glassmodes.analysis.vdos import estimate_phonon_band, transverse_plane_waves

    mf = mode_file
    omega = mf.frequencies
    idx = mf.vector_index
    idx = idx[omega[idx] > 0]
    if n_lowest is not None:
        idx = idx[:n_lowest]
    if idx.size == 0:
        raise ExpansionError(f"{mf.path}: no stored eigenvectors of positive frequency for the phonon band")
    vec = mf.vectors(idx)
    atoms = mf.atoms
    box = mf.box
    est = estimate_phonon_band(omega[idx], vec, atoms["x"], atoms["mass"], box, mf.dimension)
    W = transverse_plane_waves(atoms["x"], atoms["mass"], box, mf.dimension)
    weight = (W.T @ vec) ** 2                       # (waves, modes)
    holds = np.nonzero(weight.max(axis=0) >= 0.1)[0]
    edge = float(omega[idx][holds[0]]) if holds.size else float("nan")
    return {"omega_ph": est.omega_ph, "omega_edge": edge, "captured": est.captured, "c_t": est.c_t}


def expand_modes(mode_file, fc, indices=None, pr_max: float | None = 0.27, omega_max: float | None = None,
                 below_band: bool = False, below_qvm: bool = False, check_structure: bool = True) -> dict:
    """Quartic expansion along the harmonic modes of a mode file (Kumar et al. 2021).

    Parameters
    ----------
    mode_file : glassmodes.modes.ModeFile
        Open mode file with the eigenvectors of the modes to expand.
    fc : glassmodes.fc3.ForceConstants
        Order-4 pair table of the same structure (atoms and positions are checked to 1e-8).
    indices : array of int, optional
        Modes to consider (default: every stored eigenvector); the selection applies on top.
    pr_max, omega_max : float or None
        Selection (:func:`qlm_selection`).
    below_band : bool
        Also require ``omega`` below the lower edge of the first transverse phonon band
        (:func:`phonon_band_edge`).
    below_qvm : bool
        Also require ``omega < omega_QVM``, the frequency of the sample's lowest mode with
        ``PR >= pr_max`` (the project's QLM rule, :mod:`glassmodes.analysis.classify`).

    Returns
    -------
    dict
        ``columns``: dict of arrays, one row per selected mode (``mode``, ``omega``, ``pr``,
        ``b2``, ``b3``, ``b4`` with ``b3 >= 0``, ``beta``, ``group``, ``has_second_well``,
        ``s_max``, ``s_min2``, ``barrier``, ``asymmetry``, ``second_depth``, ``barrier_cubic``,
        ``b2_rel_diff`` = ``|b2 / lambda - 1|``, ``degenerate``, ``flipped``);
        ``directions``: (d*N, k) sign-fixed unit directions (``b3 >= 0``);
        ``selection``: dict describing the rule and the phonon band (if used).
    """
    mf = mode_file
    if fc.natoms != mf.natoms or fc.dimension != mf.dimension:
        raise ExpansionError(f"mode file {mf.path} has {mf.natoms} atoms in {mf.dimension}D, the force constants "
                             f"{fc.natoms} in {fc.dimension}D: not the same structure")
    if check_structure:
        a, b = mf.atoms, fc.atoms
        if not np.array_equal(a["id"], b["id"]):
            raise ExpansionError(f"mode file {mf.path} and the force constants list different atom IDs")
        dx = position_mismatch(a["x"], b["x"], mf.box, mf.dimension)
        if dx > 1e-8:
            raise ExpansionError(f"mode file {mf.path} and the force constants are not the same structure "
                                 f"(positions differ by up to {dx:.3g})")
    omega_all = mf.frequencies
    pr_all = mf.participation_ratio
    idx = mf.vector_index if indices is None else np.asarray(indices, dtype=np.int64)
    idx = np.array([j for j in idx if mf.has_vector(int(j))], dtype=np.int64)
    selection = {"pr_max": pr_max, "omega_max": omega_max, "below_band": bool(below_band),
                 "below_qvm": bool(below_qvm)}
    cut = omega_max
    if below_band:
        band = phonon_band_edge(mf)
        selection["phonon_band"] = band
        cut = band["omega_edge"] if cut is None else min(cut, band["omega_edge"])
    if below_qvm:
        from glassmodes.analysis.classify import omega_qvm_of

        if pr_max is None:
            raise ExpansionError("below_qvm needs a PR cut (omega_QVM is the lowest mode with PR >= pr_max)")
        if np.any(np.isnan(pr_all)):
            raise ExpansionError(f"{mf.path}: omega_QVM needs the participation ratio of every mode")
        wq = omega_qvm_of(omega_all, pr_all, pr_max)
        selection["omega_qvm"] = wq
        # omega_QVM is itself a mode with PR >= pr_max: a strict bound just below it
        wq = float(np.nextafter(wq, -np.inf))
        cut = wq if cut is None else min(cut, wq)
    pr_sel = pr_all[idx]
    if np.any(np.isnan(pr_sel)):
        pr_sel = np.where(np.isnan(pr_sel), participation_ratio(mf.vectors(idx), mf.dimension), pr_sel)
    mask = qlm_selection(omega_all[idx], pr_sel, pr_max, cut)
    sel = idx[mask]
    selection["omega_cut"] = cut
    selection["considered"] = int(idx.size)
    selection["selected"] = int(sel.size)
    why = [w for w, on in (("given", omega_max is not None), ("lower edge of the first phonon band", below_band),
                           ("omega_QVM", below_qvm)) if on]
    selection["rule"] = " and ".join(
        ([f"PR < {pr_max:g}"] if pr_max is not None else [])
        + ([f"omega <= {cut:.6g} (smallest of: {', '.join(why)})"] if cut is not None else [])) or "all modes"
    vec = mf.vectors(sel) if sel.size else np.zeros((mf.dimension * mf.natoms, 0))
    cols = _expand_columns(fc, vec, mf.eigenvalues[sel])
    cols = {"mode": sel, "omega": omega_all[sel], "pr": pr_all[sel], **cols,
            "degenerate": degenerate_flags(omega_all, sel)}
    vec = vec * np.where(cols["flipped"], -1.0, 1.0)
    return {"columns": cols, "directions": vec, "selection": selection}


def expand_directions(fc, directions, eigenvalues=None) -> dict:
    """Quartic expansion along arbitrary directions (columns; normalized here).

    Same columns as :func:`expand_modes` without ``mode``/``omega``/``degenerate``; ``pr`` is
    computed on the (mass-weighted) directions; ``eigenvalues`` optional for ``b2_rel_diff``.
    """
    z = np.asarray(directions, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    z = z / np.linalg.norm(z, axis=0)
    cols = _expand_columns(fc, z, eigenvalues)
    cols = {"pr": np.atleast_1d(participation_ratio(z, fc.dimension)), **cols}
    return {"columns": cols, "directions": z * np.where(cols["flipped"], -1.0, 1.0)}


_COLUMNS = ("b2", "b3", "b4", "beta", "group", "has_second_well", "s_max", "s_min2", "barrier", "asymmetry",
            "second_depth", "barrier_cubic", "b2_rel_diff", "flipped")


def _expand_columns(fc, vec, eigenvalues) -> dict:
    k = vec.shape[1]
    if k == 0:
        out = {name: np.zeros(0) for name in _COLUMNS}
        out.update(group=np.zeros(0, dtype="<U1"), has_second_well=np.zeros(0, bool), flipped=np.zeros(0, bool))
        return out
    d = directional_derivatives(fc, vec)
    p = quartic_profile(d["b2"], d["b3"], d["b4"])
    lam = np.full(k, np.nan) if eigenvalues is None else np.asarray(eigenvalues, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(p.b2 / lam - 1.0)
    return {"b2": p.b2, "b3": p.b3, "b4": p.b4, "beta": p.beta, "group": p.group,
            "has_second_well": p.has_second_well, "s_max": p.s_max, "s_min2": p.s_min2, "barrier": p.barrier,
            "asymmetry": p.asymmetry, "second_depth": p.second_depth, "barrier_cubic": p.barrier_cubic,
            "b2_rel_diff": rel, "flipped": p.flipped}


__all__ = ["ExpansionError", "DEGENERATE_RTOL", "position_mismatch", "directional_derivatives", "degenerate_flags", "qlm_selection",
           "phonon_band_edge", "expand_modes", "expand_directions"]
