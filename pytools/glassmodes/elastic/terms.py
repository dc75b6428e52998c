"""The affine terms of the elastic response: stress sigma, Born tensor C^B and the mixed term Xi.

Conventions (design note B2; Lutsko, J. Appl. Phys. 1989; Kapteijns, PhD thesis, Eq. 5.6):

* Lagrangian strain ``eta = (F^T F - I)/2`` of the affine map ``x -> F x``; tensor derivatives
  (``eta_ab`` and ``eta_ba`` are the same variable, no engineering factor 2 anywhere).
* Voigt order ``VOIGT3 = (xx, yy, zz, yz, xz, xy)`` in 3D and ``VOIGT2 = (xx, yy, xy)`` in 2D; a
  Voigt matrix ``C_IJ`` holds the tensor components ``C_abcd`` (``C_66 = C_xyxy``).
* ``sigma_ab = (1/V) dU/deta_ab`` (negative under compression: ``P = -tr(sigma)/d``),
  ``C^B_abcd = (1/V) d^2U/deta_ab deta_cd`` at fixed reduced coordinates,
  ``Xi_{k mu, ab} = d^2U / dx_{k mu} deta_ab``. For pair potentials with ``r = x_j - x_i``:

  - ``sigma_ab = (1/V) sum_pairs phi' r_a r_b / r``
  - ``C^B_abcd = (1/V) sum_pairs (phi'' - phi'/r) r_a r_b r_c r_d / r^2``
  - a pair adds ``+g`` to Xi of atom j and ``-g`` to atom i, with
    ``g_mu = (phi'' - phi'/r) r_mu r_a r_b / r^2 + (phi'/r)(delta_a,mu r_b + delta_b,mu r_a)``.

* Units: stress and moduli in energy/distance^d (LJ: epsilon/sigma^d; metal: eV/A^3, *not* bar),
  Xi in energy/distance, V the volume (area in 2D).

Two routes give an :class:`ElasticTerms` (fields named as the plugin's ``ElasticFile``):
:func:`terms_from_hessian` recovers phi', phi'' of every interacting pair from the Hessian's
off-diagonal blocks (pair potentials, one periodic image per pair), and
:func:`glassmodes.elastic.lammps_fd.terms_from_lammps` takes central differences of LAMMPS forces
and stresses under affine strain (any potential).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from glassmodes.io.elastic_file import VOIGT_2D, VOIGT_3D, voigt_names

# one definition of the Voigt order: the elastic-terms file format's
VOIGT3, VOIGT2 = VOIGT_3D, VOIGT_2D
_AXIS = {"x": 0, "y": 1, "z": 2}


class ElasticError(ValueError):
    """Input that the elastic calculation refuses (unminimized, unstable, mismatched, many-body)."""


def voigt_labels(dim: int) -> tuple:
    """Voigt component labels, ``VOIGT3`` or ``VOIGT2`` (:func:`glassmodes.io.elastic_file.voigt_names`)."""
    if dim not in (2, 3):
        raise ElasticError(f"dimension {dim}: expected 2 or 3")
    return voigt_names(dim)


def voigt_pairs(dim: int) -> list:
    """Index pairs (a, b) of the Voigt components, e.g. [(0, 0), (1, 1), (0, 1)] in 2D."""
    return [(_AXIS[s[0]], _AXIS[s[1]]) for s in voigt_labels(dim)]


def voigt_to_tensor(c: np.ndarray, dim: int) -> np.ndarray:
    """A Voigt matrix (nv, nv) of tensor components to the full tensor, shape=(d, d, d, d)."""
    pairs = voigt_pairs(dim)
    t = np.zeros((dim,) * 4)
    for i, (a, b) in enumerate(pairs):
        for j, (c_, d_) in enumerate(pairs):
            for p, q in {(a, b), (b, a)}:
                for r, s in {(c_, d_), (d_, c_)}:
                    t[p, q, r, s] = c[i, j]
    return t


def tensor_to_voigt(t: np.ndarray) -> np.ndarray:
    """The full tensor (d, d, d, d) to its Voigt matrix of tensor components (nv, nv)."""
    dim = t.shape[0]
    pairs = voigt_pairs(dim)
    return np.array([[t[a, b, c, d] for (c, d) in pairs] for (a, b) in pairs])


def stress_to_voigt(s: np.ndarray) -> np.ndarray:
    """A (d, d) stress to its Voigt vector (nv,)."""
    return np.array([s[a, b] for a, b in voigt_pairs(s.shape[0])])


@dataclass(frozen=True)
class ElasticTerms:
    """The affine terms of one minimized configuration (the fields of the plugin's ElasticFile).

    Attributes
    ----------
    stress : ndarray, shape=(d, d)
        sigma_ab = (1/V) dU/deta_ab, energy/distance^d (negative under compression).
    born : ndarray, shape=(nv, nv)
        C^B_IJ in Voigt order ``voigt``, tensor components, energy/distance^d.
    xi : ndarray, shape=(d*N, nv)
        Xi_{k mu, I} = d^2U/dx_{k mu} deta_I, energy/distance, rows in the Hessian's order
        (atoms by ascending ID, then x, y[, z]).
    volume : float
        V (the area in 2D), distance^d.
    dim : int
    atom_ids : ndarray, shape=(N,), int64
    box : dict
        ``boxlo``, ``boxhi``, ``xy``, ``xz``, ``yz`` (the Hessian sidecar's layout).
    units : str
        LAMMPS unit style.
    method : str
        How the terms were obtained (``hessian-blocks``, ``lammps-fd``, ``plugin``).
    meta : dict
        Provenance and checks (largest residual force, pair-form residual, ...).
    voigt : tuple of str
    """

    stress: np.ndarray
    born: np.ndarray
    xi: np.ndarray
    volume: float
    dim: int
    atom_ids: np.ndarray
    box: dict
    units: str
    method: str
    meta: dict = field(default_factory=dict)
    voigt: tuple = ()

    @property
    def natoms(self) -> int:
        return int(np.asarray(self.atom_ids).size)

    @property
    def pressure(self) -> float:
        """P = -tr(sigma)/d."""
        return float(-np.trace(self.stress) / self.dim)


def check_terms(terms) -> None:
    """Shapes and finiteness of an ElasticTerms-like object (also the plugin's ElasticFile)."""
    d = int(terms.dim)
    nv = len(voigt_labels(d))
    n = int(np.asarray(terms.atom_ids).size)
    shapes = {"stress": (d, d), "born": (nv, nv), "xi": (d * n, nv)}
    for name, shape in shapes.items():
        a = np.asarray(getattr(terms, name))
        if a.shape != shape:
            raise ElasticError(f"elastic terms: {name} has shape {a.shape}, expected {shape}")
        if not np.all(np.isfinite(a)):
            raise ElasticError(f"elastic terms: {name} holds NaN or infinite values")
    if tuple(terms.voigt) and tuple(terms.voigt) != voigt_labels(d):
        raise ElasticError(f"elastic terms: Voigt order {tuple(terms.voigt)}, expected {voigt_labels(d)}")
    if not terms.volume > 0:
        raise ElasticError(f"elastic terms: volume {terms.volume} must be > 0")


def check_same_system(terms, atoms: np.ndarray, meta: dict, what: str, rtol: float = 1e-9) -> None:
    """Refuse elastic terms and a Hessian / mode file of different systems.

    Compares dimension, units, atom count, atom IDs (in order) and the cell (``terms.box`` as a
    sidecar dict or as the plugin's (d, d) matrix of cell vectors as rows) to ``rtol``.
    """
    d = int(terms.dim)
    if int(meta.get("dimension", d)) != d:
        raise ElasticError(f"{what}: dimension {meta.get('dimension')}, the elastic terms' is {d}")
    if str(meta.get("units", terms.units)) != str(terms.units):
        raise ElasticError(f"{what}: units {meta.get('units')!r}, the elastic terms' are {terms.units!r}")
    ids = np.asarray(terms.atom_ids)
    if atoms.size != ids.size:
        raise ElasticError(f"{what}: {atoms.size} atoms, the elastic terms have {ids.size}: not the same system")
    if not np.array_equal(np.asarray(atoms["id"]), ids):
        k = int(np.argmax(np.asarray(atoms["id"]) != ids))
        raise ElasticError(f"{what}: atom ID {int(atoms['id'][k])} at row {k}, the elastic terms have {int(ids[k])}: "
                           "not the same system")
    mine = box_matrix(terms.box, d).T if isinstance(terms.box, dict) else np.asarray(terms.box, dtype=float)
    theirs = box_matrix(meta["box"], d).T
    if np.max(np.abs(mine - theirs)) > rtol * np.max(np.abs(theirs)):
        raise ElasticError(f"{what}: cell {theirs.tolist()} differs from the elastic terms' {mine.tolist()}: "
                           "not the same configuration")


def box_matrix(box: dict, dim: int) -> np.ndarray:
    """Columns = the periodic box vectors (upper-triangular LAMMPS cell), shape=(d, d).

    The transpose of :func:`glassmodes.analysis.vdos.box_matrix` (edge vectors as rows).
    """
    from glassmodes.analysis.vdos import box_matrix as edge_rows

    return edge_rows(box, dim).T


def box_volume(box: dict, dim: int) -> float:
    """V (3D) or the area (2D) of the cell."""
    return float(abs(np.linalg.det(box_matrix(box, dim))))


def box_widths(box: dict, dim: int) -> np.ndarray:
    """The distances between opposite faces of the cell, shape=(d,)."""
    h = box_matrix(box, dim)
    hinv = np.linalg.inv(h)
    return 1.0 / np.linalg.norm(hinv, axis=1)


def minimum_image(dx: np.ndarray, box: dict, dim: int) -> np.ndarray:
    """Nearest periodic image of separations dx, shape=(m, d)."""
    h = box_matrix(box, dim)
    s = np.linalg.solve(h, dx.T).T
    s -= np.round(s)
    return s @ h.T


def _pair_blocks(matrix: sp.spmatrix, dim: int):
    """Off-diagonal d x d blocks (i < j) of a symmetric matrix: (i, j, blocks (m, d, d))."""
    coo = sp.coo_matrix(matrix)
    ai, aj = coo.row // dim, coo.col // dim
    keep = ai < aj
    ai, aj = ai[keep].astype(np.int64), aj[keep].astype(np.int64)
    mu, nu = coo.row[keep] % dim, coo.col[keep] % dim
    n = matrix.shape[0] // dim
    key = ai * n + aj
    uniq, inv = np.unique(key, return_inverse=True)
    blocks = np.zeros((uniq.size, dim, dim))
    np.add.at(blocks, (inv, mu, nu), coo.data[keep])
    return uniq // n, uniq % n, blocks


@dataclass(frozen=True)
class PairTable:
    """Interacting pairs with their separations and pair derivatives.

    Attributes
    ----------
    i, j : ndarray, shape=(m,), int64
        Atom indices (Hessian order), i < j.
    r : ndarray, shape=(m, d)
        x_j - x_i, nearest image, distance units.
    dphi, ddphi : ndarray, shape=(m,)
        phi'(r) (energy/distance) and phi''(r) (energy/distance^2).
    """

    i: np.ndarray
    j: np.ndarray
    r: np.ndarray
    dphi: np.ndarray
    ddphi: np.ndarray

    @property
    def distance(self) -> np.ndarray:
        return np.linalg.norm(self.r, axis=1)


def pairs_from_hessian(hessian, pair_form_tol: float = 1e-6) -> tuple:
    """phi' and phi'' of every interacting pair from the Hessian's off-diagonal blocks.

    A pair block is ``K_ij = d^2U/dx_i dx_j = -[phi'' n n + (phi'/r)(I - n n)]``, so
    ``phi'' = -n.K.n`` and ``phi'/r = -(tr K - n.K.n)/(d - 1)`` (design note B3). Only valid for
    pair potentials with one periodic image per pair (cutoff below half the smallest box width).

    Parameters
    ----------
    hessian : glassmodes.io.hessian.Hessian
        Plain or mass-weighted (un-weighted here with the atoms' masses).
    pair_form_tol : float
        Largest allowed ``|K - K_pair|_F / max |K|_F`` over the pairs: a many-body potential
        (three-body terms) fails this and is refused.

    Returns
    -------
    pairs : PairTable
    residual : float
        The measured pair-form residual.
    """
    d = hessian.dimension
    meta = hessian.meta
    if meta.get("manybody"):
        raise ElasticError(f"pair style {meta.get('pair_style')!r} is many-body: phi', phi'' cannot be read "
                           "from the Hessian blocks; use the LAMMPS finite-difference route or write_elastic")
    box = meta["box"]
    cutoff = float(meta.get("pair_cutoff", 0.0))
    widths = box_widths(box, d)
    if cutoff and cutoff >= 0.5 * widths.min():
        raise ElasticError(f"pair cutoff {cutoff} is not below half the smallest box width {widths.min():.6g}: "
                           "a pair can interact through several images; the Hessian blocks do not separate them")
    H = sp.csr_matrix(hessian.matrix)
    i, j, K = _pair_blocks(H, d)
    if hessian.mass_weighted:
        m = np.asarray(hessian.atoms["mass"], dtype=float)
        K = K * np.sqrt(m[i] * m[j])[:, None, None]
    x = hessian.positions()
    r = minimum_image(x[j] - x[i], box, d)
    dist = np.linalg.norm(r, axis=1)
    n = r / dist[:, None]
    nkn = np.einsum("pa,pab,pb->p", n, K, n)
    tr = np.trace(K, axis1=1, axis2=2)
    ddphi = -nkn
    dphi = -(tr - nkn) / (d - 1) * dist
    nn = n[:, :, None] * n[:, None, :]
    fit = -(ddphi[:, None, None] * nn + (dphi / dist)[:, None, None] * (np.eye(d) - nn))
    norms = np.linalg.norm(K, axis=(1, 2))
    scale = norms.max() if norms.size else 1.0
    residual = float(np.max(np.linalg.norm(K - fit, axis=(1, 2))) / scale) if norms.size else 0.0
    if residual > pair_form_tol:
        k = int(np.argmax(np.linalg.norm(K - fit, axis=(1, 2))))
        ids = hessian.atoms["id"]
        raise ElasticError(f"Hessian block of atoms {int(ids[i[k]])}-{int(ids[j[k]])} is not of pair form "
                           f"(residual {residual:.2e} > {pair_form_tol:.0e}): a many-body potential, or the "
                           "pair interacts through more than one image")
    return PairTable(i, j, r, dphi, ddphi), residual


def pair_forces(pairs: PairTable, natoms: int) -> np.ndarray:
    """Net force on each atom from the pair table, shape=(N, d): F_j = -sum phi' n, F_i = +sum phi' n."""
    d = pairs.r.shape[1]
    f = (pairs.dphi / pairs.distance)[:, None] * pairs.r
    out = np.zeros((natoms, d))
    np.add.at(out, pairs.j, -f)
    np.add.at(out, pairs.i, f)
    return out


def terms_from_pairs(pairs: PairTable, natoms: int, volume: float) -> tuple:
    """sigma (d, d), C^B (nv, nv) and Xi (d*N, nv) from a pair table (formulas in the module docs)."""
    r = pairs.r
    d = r.shape[1]
    dist = pairs.distance
    vp = voigt_pairs(d)
    a = np.array([p[0] for p in vp])
    b = np.array([p[1] for p in vp])
    w = pairs.dphi / dist
    stress = np.einsum("p,pa,pb->ab", w, r, r) / volume
    k = (pairs.ddphi - w) / dist ** 2
    rab = r[:, a] * r[:, b]                    # (m, nv)
    born = np.einsum("p,pI,pJ->IJ", k, rab, rab) / volume
    g = k[:, None, None] * r[:, :, None] * rab[:, None, :]          # (m, d, nv)
    eye = np.eye(d)
    g += w[:, None, None] * (eye[a].T[None, :, :] * r[:, b][:, None, :] + eye[b].T[None, :, :] * r[:, a][:, None, :])
    xi = np.zeros((natoms, d, len(vp)))
    np.add.at(xi, pairs.j, g)
    np.add.at(xi, pairs.i, -g)
    return stress, born, xi.reshape(natoms * d, len(vp))


def check_delta(delta: float) -> float:
    """The stress-scaling parameter delta of M(delta) as a float in [0, 1], else an ElasticError."""
    try:
        value = float(delta)
    except (TypeError, ValueError):
        raise ElasticError(f"delta {delta!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise ElasticError(f"delta {value}: the stress-scaled Hessian M(delta) is defined for 0 <= delta <= 1")
    return value


def scale_force_term(pairs: PairTable, delta: float) -> PairTable:
    """The pair table with phi' replaced by (1 - delta) phi' (the stress-scaled system of M(delta)).

    Every second-derivative quantity built from the returned table (:func:`terms_from_pairs`:
    C^B and Xi; :func:`force_term_matrix`) is the one of the quadratic form
    ``sum_pairs phi'' dr dr + (1 - delta) phi' d^2r`` in the positions and the strain (Kapteijns,
    PhD thesis, Eqs. 5.3-5.4); its stress is (1 - delta) sigma, which is the term that enters the
    simple-shear modulus ``G_thesis = C_xyxy + sigma_yy`` through ``d^2 eta_yy / d gamma^2``.
    """
    delta = check_delta(delta)
    return PairTable(pairs.i, pairs.j, pairs.r, (1.0 - delta) * pairs.dphi, pairs.ddphi)


def force_term_matrix(pairs: PairTable, natoms: int) -> sp.csr_matrix:
    """The internal-force part M' = sum_pairs phi' d^2 r_ij / dx dx of the Hessian, shape=(d*N, d*N).

    ``d^2 r / dx_i dx_i = d^2 r / dx_j dx_j = (I - n n)/r`` and ``d^2 r / dx_i dx_j = -(I - n n)/r``
    (Kapteijns, PhD thesis, Eq. 5.4; energy/distance^2, rows in the Hessian's order). The rest of
    the Hessian, ``M'' = H - M'``, is the stiffness part ``sum phi'' (dr/dx)(dr/dx)``.
    """
    d = pairs.r.shape[1]
    dist = pairs.distance
    n = pairs.r / dist[:, None]
    blk = (pairs.dphi / dist)[:, None, None] * (np.eye(d)[None] - n[:, :, None] * n[:, None, :])   # (m, d, d)
    a, b = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    rows, cols, vals = [], [], []
    for p, q, sign in ((pairs.i, pairs.i, 1.0), (pairs.j, pairs.j, 1.0), (pairs.i, pairs.j, -1.0),
                       (pairs.j, pairs.i, -1.0)):
        rows.append((d * p[:, None, None] + a[None]).ravel())
        cols.append((d * q[:, None, None] + b[None]).ravel())
        vals.append(sign * blk.ravel())
    m = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(d * natoms, d * natoms))
    return m.tocsr()


def stress_scaled_hessian(matrix, pairs: PairTable, delta: float) -> sp.csr_matrix:
    """M(delta) = M'' + (1 - delta) M' = H - delta M' (Kapteijns, PhD thesis, Eqs. 5.3-5.4).

    Parameters
    ----------
    matrix : sparse matrix, shape=(d*N, d*N)
        The plain Hessian H = M'' + M' (energy/distance^2) of the configuration of ``pairs``.
    pairs : PairTable
        Its pairs with phi' (:func:`pairs_from_hessian`).
    delta : float
        0 gives H; 1 drops the internal-force term (only ``sum phi'' dr dr`` is left).

    Returns
    -------
    scipy.sparse.csr_matrix
        Same shape and units as H.
    """
    delta = check_delta(delta)
    H = sp.csr_matrix(matrix)
    n = H.shape[0] // pairs.r.shape[1]
    if delta == 0.0:
        return H
    return (H - delta * force_term_matrix(pairs, n)).tocsr()


def terms_from_hessian(hessian, pair_form_tol: float = 1e-6, require_group_all: bool = True,
                       delta: float = 0.0) -> ElasticTerms:
    """The elastic terms of a pair-potential glass from its Hessian file alone (design note B3).

    Parameters
    ----------
    hessian : Hessian or path
        ``write_hessian`` output of the whole system (group ``all``), plain or mass-weighted.
    pair_form_tol : float
        See :func:`pairs_from_hessian`.
    delta : float
        Stress scaling (default 0, the plain terms): the terms of the system whose Hessian is
        M(delta) = M'' + (1 - delta) M' (:func:`scale_force_term`; pair with
        :func:`stress_scaled_hessian` for the solves). The stress reported is (1 - delta) sigma.

    Returns
    -------
    ElasticTerms
        ``method = "hessian-blocks"``; ``meta`` has ``max_force`` (the largest net force rebuilt from
        phi', a check that the configuration is a minimum, with the unscaled phi'),
        ``pair_form_residual``, ``npairs`` and ``delta``.
    """
    from glassmodes.io.hessian import Hessian, read_hessian

    if not isinstance(hessian, Hessian):
        hessian = read_hessian(hessian)
    meta = hessian.meta
    if require_group_all and meta.get("group", "all") != "all":
        raise ElasticError(f"the Hessian covers group {meta.get('group')!r}, not the whole system: elastic "
                           "constants need every atom (write_hessian all ...)")
    d = hessian.dimension
    pairs, residual = pairs_from_hessian(hessian, pair_form_tol)
    volume = box_volume(meta["box"], d)
    n = hessian.natoms
    delta = check_delta(delta)
    stress, born, xi = terms_from_pairs(scale_force_term(pairs, delta), n, volume)
    fmax = float(np.max(np.linalg.norm(pair_forces(pairs, n), axis=1))) if n else 0.0
    info = {
        "source": "Hessian off-diagonal blocks (phi'' = -n.K.n, phi'/r = -(tr K - n.K.n)/(d-1))",
        "max_force": fmax, "pair_form_residual": residual, "npairs": int(pairs.i.size),
        "hessian_method": meta.get("method"), "pair_style": meta.get("pair_style"),
        "hessian_max_residual_force": meta.get("max_residual_force"), "delta": delta,
    }
    if delta:
        info["delta_note"] = ("terms of M(delta) = M'' + (1 - delta) M': phi' scaled by (1 - delta) in the stress, "
                              "C^B and Xi (Kapteijns, PhD thesis, Eqs. 5.3-5.4)")
    return ElasticTerms(stress=stress, born=born, xi=xi, volume=volume, dim=d,
                        atom_ids=np.asarray(hessian.atoms["id"], dtype=np.int64).copy(),
                        box=json.loads(json.dumps(meta["box"])), units=str(meta["units"]),
                        method="hessian-blocks", meta=info, voigt=voigt_labels(d))
