"""Heat-flux (velocity) matrices of a periodic glass at the Gamma point, and the flux file.

For the mass-weighted dynamical matrix ``D`` (a sparse ``d x d``-block matrix) and the unit
eigenvectors ``E = [e_1 ... e_m]`` (``D e_mu = omega_mu^2 / ftm2v e_mu``), the flux matrices are

    S^a = E^T (X^a o D) E,        X^a_ij = (x_i - x_j)^a  (minimum image),    a = x, y[, z],

``o`` acting entrywise on the ``d x d`` blocks (Allen and Feldman, Phys. Rev. B 1993; Isaeva,
Barbalinardo, Donadio and Baroni, Nat. Commun. 2019). ``X^a o D`` is antisymmetric, so ``S^a`` is
real antisymmetric and ``S^a_mumu = 0``. With the Bloch matrix
``D(q)_ij = sum_images D^(img)_ij exp(i q.(x_j + img - x_i))`` one has
``[dD(q)/dq_a]_{q=0} = -i X^a o D``, i.e. ``e_mu^T dD/dq_a e_nu = -i S^a_munu``, and the velocity
matrix is ``v^a_munu = i ftm2v S^a_munu / (2 sqrt(omega_mu omega_nu))`` (distance/time). The sign
convention ``x_i - x_j`` is kALDo's; it cancels in every conductivity.

Only the temperature-independent products are kept: ``W = sum_a S^a o S^a`` (entrywise square),
and on request the full tensor ``S^a``. Every later sweep over temperatures and linewidths then
costs O(m^2) (:mod:`glassmodes.transport.qhgk`).

**Single image.** The Gamma-point block ``D_ij`` sums the couplings of ``i`` with every periodic
image of ``j``; ``X^a o D`` is only the q-derivative when at most one image interacts, i.e. when the
interaction range ``r_c`` is below half the smallest distance between opposite faces of the box
(any lattice vector is then longer than ``2 r_c``, so two images of ``j`` cannot both lie within
``r_c`` of ``i``). Otherwise :class:`FluxError` is raised. Triclinic boxes are handled: pair vectors
are reduced in fractional coordinates and the shortest of the 3^d neighbouring images is taken.

Algorithm: for each block of ``b`` modes, ``A = (X^a o D) E[:, J]`` (sparse times dense) and
``S[:, J] = E^T A`` (dense GEMM, ``2 n m b`` flops); ``W[:, J] += S[:, J]^2``. Memory: ``E``
(``8 n m`` bytes, half in float32), ``W`` (``8 m^2``) and ``O(n b)``; never three dense ``m x m``
matrices. MPI: blocks are distributed cyclically over the ranks; each column of ``W`` is computed by
one rank with the same operations whatever the number of ranks, so results are identical on 1, 2, 4
ranks; rank 0 gathers and writes.

File layout (format ``glassmodes-flux``, version 1), HDF5, written atomically:

``/`` attributes
    ``format``, ``format_version``, ``glassmodes_version``, ``units``, ``omega_unit``, ``ftm2v``,
    ``dimension``, ``natoms``, ``nmodes``, ``volume`` (distance^d), ``interaction_range``,
    ``convention`` (the formulas above), ``s_unit``, ``w_unit``, ``dtype``, ``completeness_residual``,
    ``eigen_residual``, ``modes_source``, ``hessian_source``, ``hessian_sidecar`` (JSON), ``seconds``.
``/frequencies`` (m,), ``/participation_ratio`` (m,), ``/mode_index`` (m,)
    The modes used (indices into the mode file), ascending omega.
``/W`` (m, m)
    ``sum_a (S^a)^2``, diagonal set to 0; units ``w_unit``.
``/S`` (d, m, m), optional
    The full tensor.
``/atoms/{id, mass, x}``, ``/box`` attributes: the structure.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from glassmodes.io.atomic import atomic_output

FORMAT_NAME = "glassmodes-flux"
FORMAT_VERSION = 1
CONVENTION = ("S^a = E^T (X^a o D) E, X^a_ij = (x_i - x_j)^a minimum image, D the mass-weighted dynamical matrix "
              "(matrix units), E the unit mass-weighted eigenvectors; e_mu^T dD(q)/dq_a|_0 e_nu = -i S^a_munu; "
              "v^a_munu = i ftm2v S^a_munu / (2 sqrt(omega_mu omega_nu)); W = sum_a S^a o S^a with W_mumu = 0")


class FluxError(ValueError):
    """Inputs that cannot give flux matrices (box too small, mismatched files, missing vectors)."""


# ---- geometry ----------------------------------------------------------------------------------
def box_matrix(box: dict, dimension: int) -> np.ndarray:
    """Cell vectors as columns, shape=(d, d), from a LAMMPS box dict (``boxlo``, ``boxhi``, tilts)."""
    lo = np.asarray(box["boxlo"], dtype=float)
    hi = np.asarray(box["boxhi"], dtype=float)
    L = hi - lo
    h = np.array([[L[0], box.get("xy", 0.0) or 0.0, box.get("xz", 0.0) or 0.0],
                  [0.0, L[1], box.get("yz", 0.0) or 0.0],
                  [0.0, 0.0, L[2]]])
    return h[:dimension, :dimension]


def face_widths(h: np.ndarray) -> np.ndarray:
    """Distance between opposite faces of the cell, per cell vector, shape=(d,)."""
    inv = np.linalg.inv(h)
    return 1.0 / np.linalg.norm(inv, axis=1)


def periodic_axes(box: dict, dimension: int) -> np.ndarray:
    per = box.get("periodicity", [1, 1, 1])
    return np.asarray([bool(p) for p in per[:dimension]])


def volume(box: dict, dimension: int) -> float:
    """Box volume (area in 2D), distance^d."""
    return float(abs(np.linalg.det(box_matrix(box, dimension))))


def reduced_basis(h: np.ndarray) -> np.ndarray:
    """A nearly orthogonal basis (columns) of the lattice spanned by the columns of ``h``.

    Pairwise (Gauss-Lagrange) reduction repeated until no vector shortens: for d <= 3 the closest
    lattice vector then lies within +-2 cells of the rounded fractional coordinates.
    """
    b = [h[:, i].astype(float).copy() for i in range(h.shape[1])]
    for _ in range(100):
        changed = False
        b.sort(key=lambda v: float(v @ v))
        for i in range(len(b)):
            for j in range(len(b)):
                if i == j:
                    continue
                k = round(float(b[i] @ b[j]) / float(b[j] @ b[j]))
                if k:
                    b[i] = b[i] - k * b[j]
                    changed = True
        if not changed:
            break
    return np.stack(b, axis=1)


def minimum_image(dx: np.ndarray, box: dict, dimension: int) -> np.ndarray:
    """Shortest periodic image of difference vectors, shape=(P, d).

    Orthogonal boxes: ``dx - L round(dx / L)`` on the periodic axes. Triclinic boxes (every axis
    periodic): rounded in the fractional coordinates of a reduced basis of the cell, then the shortest
    among the 5^d neighbouring images (exact for any tilt; tested against a brute-force search).
    """
    dx = np.asarray(dx, dtype=float)[:, :dimension]
    h = box_matrix(box, dimension)
    per = periodic_axes(box, dimension)
    if not bool(box.get("triclinic", False)):
        f = dx @ np.linalg.inv(h).T
        f[:, per] -= np.round(f[:, per])
        return f @ h.T
    if not per.all():
        raise FluxError("a triclinic box with non-periodic axes is not supported by the minimum image here")
    hr = reduced_basis(h)
    f = dx @ np.linalg.inv(hr).T
    out = (f - np.round(f)) @ hr.T
    best = out
    bestn = np.einsum("pa,pa->p", out, out)
    for shift in itertools.product(range(-2, 3), repeat=dimension):
        s = np.asarray(shift, dtype=float)
        if not s.any():
            continue
        cand = out + s @ hr.T
        n2 = np.einsum("pa,pa->p", cand, cand)
        take = n2 < bestn
        best = np.where(take[:, None], cand, best)
        bestn = np.where(take, n2, bestn)
    return best


def interaction_range(meta: dict) -> float | None:
    """Largest distance of atoms coupled by the Hessian, from its sidecar (None when unknown).

    Finite differences: ``fd_range``; analytic: ``pair_cutoff`` (twice that for a many-body style).
    """
    if meta.get("fd_range"):
        return float(meta["fd_range"])
    rc = meta.get("pair_cutoff")
    if rc:
        return float(rc) * (2.0 if meta.get("manybody") else 1.0)
    return None


def check_single_image(box: dict, dimension: int, rc: float) -> float:
    """Raise :class:`FluxError` unless ``rc`` < half the smallest face distance of the periodic axes.

    Returns the margin ``min_width / 2 - rc``.
    """
    h = box_matrix(box, dimension)
    w = face_widths(h)[periodic_axes(box, dimension)]
    if w.size == 0:
        return math.inf
    half = 0.5 * float(w.min())
    if not rc < half:
        raise FluxError(
            f"the box is too small for the minimum image: interaction range {rc:g} >= half the shortest box width "
            f"{half:g} ({'triclinic, face-to-face widths' if box.get('triclinic') else 'box lengths'} "
            f"{np.round(w, 6).tolist()}); an atom may couple to more than one image of another and the Gamma-point "
            "blocks no longer give the heat flux: use a larger sample (or replicate the box)")
    return half - rc


def pair_vectors(matrix: sp.csr_matrix, positions: np.ndarray, box: dict, dimension: int):
    """Minimum-image ``X_ij = x_i - x_j`` for every stored entry of ``matrix`` (CSR order).

    Returns ``(X, rows_atom, cols_atom)``: shape=(nnz, d), (nnz,), (nnz,).
    """
    m = sp.csr_matrix(matrix)
    d = dimension
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr)) // d
    cols = m.indices // d
    x = np.asarray(positions, dtype=float)[:, :d]
    # unique atom pairs first (d^2 entries per block)
    key = rows.astype(np.int64) * x.shape[0] + cols
    uk, inv = np.unique(key, return_inverse=True)
    ia, ja = uk // x.shape[0], uk % x.shape[0]
    X = minimum_image(x[ia] - x[ja], box, d)
    return X[inv], rows, cols


# ---- the flux products ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FluxProducts:
    """The temperature-independent products of the flux matrices (see module docs).

    Attributes
    ----------
    omega : ndarray, shape=(m,)
        Angular frequencies of the modes used, ascending, ``omega_unit``.
    W : ndarray, shape=(m, m)
        ``sum_a (S^a_munu)^2``, zero diagonal, ``w_unit``.
    S : ndarray, shape=(d, m, m), or None
        The full tensor (``keep_tensor=True``).
    mode_index : ndarray of int, shape=(m,)
        Indices of these modes in the mode file.
    participation : ndarray, shape=(m,)
    dimension, natoms : int
    volume : float
        distance^d.
    units, omega_unit : str
    ftm2v : float
        omega^2 = eigenvalue * ftm2v.
    interaction_range : float
    completeness_residual : float
        ``max_mu |sum_nu (S^a_munu)^2 + |T^T A e_mu|^2 - ||(X^a o D) e_mu||^2| / max ||.||^2`` (T the
        translations): ~1e-14 when E is the complete basis.
    eigen_residual : float
        ``max_mu ||D e_mu - lambda_mu e_mu|| / scale``: proves that the modes belong to this matrix.
    meta : dict
        Hessian sidecar, sources, timings.
    """

    omega: np.ndarray
    W: np.ndarray
    S: np.ndarray | None
    mode_index: np.ndarray
    participation: np.ndarray
    dimension: int
    natoms: int
    volume: float
    units: str
    omega_unit: str
    ftm2v: float
    interaction_range: float
    completeness_residual: float
    eigen_residual: float
    meta: dict

    @property
    def nmodes(self) -> int:
        return int(self.omega.size)

    @property
    def s_unit(self) -> str:
        return f"energy/(distance*mass) [{self.units}]"

    @property
    def w_unit(self) -> str:
        return f"(energy/(distance*mass))^2 [{self.units}]"


def flux_matrices(D: sp.spmatrix, positions: np.ndarray, box: dict, vectors: np.ndarray, eigenvalues: np.ndarray,
                  *, dimension: int, rc: float, masses: np.ndarray | None = None, keep_tensor: bool = False,
                  block: int = 256, dtype=np.float64, comm=None, progress=None):
    """``W = sum_a (S^a)^2`` (and optionally ``S^a``) from arrays; see the module docs.

    Parameters
    ----------
    D : sparse, shape=(n, n)
        Mass-weighted dynamical matrix, n = d N, row ``d k + a``.
    positions : ndarray, shape=(N, >=d)
    box : dict
        LAMMPS box (``boxlo``, ``boxhi``, ``xy``, ``xz``, ``yz``, ``triclinic``, ``periodicity``).
    vectors : ndarray, shape=(n, m)
        Unit mass-weighted eigenvectors (columns) of the modes to use.
    eigenvalues : ndarray, shape=(m,)
        Their eigenvalues of ``D`` (matrix units), to check ``D e = lambda e``.
    rc : float
        Interaction range (checked against the box, :func:`check_single_image`).
    masses : ndarray, shape=(N,), optional
        For the completeness diagnostic (the translations); omitted: not computed (NaN).
    keep_tensor : bool
        Also return ``S``, shape=(d, m, m).
    block : int
        Modes per block.
    dtype : float64 or float32
        Of ``E`` and the products (``W`` accumulates in float64).
    comm : mpi4py communicator, optional
        Blocks distributed cyclically; every rank returns the full result.

    Returns
    -------
    (W, S or None, completeness_residual, eigen_residual)
    """
    d = dimension
    D = sp.csr_matrix(D, dtype=float)
    n = D.shape[0]
    E = np.ascontiguousarray(vectors, dtype=dtype)
    if E.shape[0] != n:
        raise FluxError(f"the eigenvectors have {E.shape[0]} components, the matrix {n} rows")
    m = E.shape[1]
    check_single_image(box, d, rc)
    X, ra, ca = pair_vectors(D, positions, box, d)
    off = ra != ca
    if off.any():
        rmax = float(np.sqrt((X[off] ** 2).sum(axis=1)).max())
        if rmax > rc * (1 + 1e-9):
            raise FluxError(f"the matrix couples atoms {rmax:g} apart (minimum image), beyond the interaction range "
                            f"{rc:g}: the range in the Hessian's sidecar is wrong (pass interaction_range)")
    XD = []
    for a in range(d):
        XD.append(sp.csr_matrix((D.data * X[:, a], D.indices, D.indptr), shape=D.shape).astype(dtype))
    Dd = D.astype(dtype)
    scale = float(np.max(np.abs(D).sum(axis=1))) if D.nnz else 1.0
    T = None
    if masses is not None:
        from glassmodes.modes.core import translation_basis

        T = translation_basis(np.repeat(np.asarray(masses, float), d), d).astype(dtype)
    W = np.zeros((m, m))
    S = np.zeros((d, m, m), dtype=dtype) if keep_tensor else None
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    starts = list(range(0, m, block))
    comp = np.zeros(2)    # max |residual|, max norm^2
    eig_res = 0.0
    t0 = time.perf_counter()
    lam = np.asarray(eigenvalues, dtype=float)
    for ib in range(rank, len(starts), size):
        j0 = starts[ib]
        j1 = min(m, j0 + block)
        EJ = E[:, j0:j1]
        R = np.asarray(Dd @ EJ, dtype=float) - EJ.astype(float) * lam[None, j0:j1]
        eig_res = max(eig_res, float(np.sqrt((R * R).sum(axis=0)).max()) / scale)
        for a in range(d):
            A = np.asarray(XD[a] @ EJ)
            SJ = E.T @ A
            SJ64 = SJ.astype(float, copy=False)
            W[:, j0:j1] += SJ64 * SJ64
            if S is not None:
                S[a][:, j0:j1] = SJ
            norm2 = np.einsum("ij,ij->j", A, A, dtype=float)
            if T is not None:
                tA = (T.T @ A).astype(float)
                got = (SJ64 * SJ64).sum(axis=0) + (tA * tA).sum(axis=0)
                comp[0] = max(comp[0], float(np.abs(got - norm2).max()))
            comp[1] = max(comp[1], float(norm2.max()))
        if progress and (ib // size) % 10 == 0:
            progress(f"flux: block {ib + 1}/{len(starts)} ({time.perf_counter() - t0:.1f} s)")
    if comm is not None and size > 1:
        from mpi4py import MPI

        comm.Allreduce(MPI.IN_PLACE, W, op=MPI.SUM)
        if S is not None:
            comm.Allreduce(MPI.IN_PLACE, S, op=MPI.SUM)
        comp[0] = comm.allreduce(comp[0], op=MPI.MAX)
        comp[1] = comm.allreduce(comp[1], op=MPI.MAX)
        eig_res = comm.allreduce(eig_res, op=MPI.MAX)
    np.fill_diagonal(W, 0.0)
    completeness = comp[0] / comp[1] if (T is not None and comp[1] > 0) else float("nan")
    return W, S, completeness, eig_res


def _check_same_structure(modes_atoms, modes_meta, modes_units, modes_dim, hessian) -> None:
    """Raise FluxError unless the mode file and the Hessian describe one structure."""
    h = hessian
    if modes_units != h.meta.get("units"):
        raise FluxError(f"the modes are in units {modes_units!r}, the Hessian in {h.meta.get('units')!r}")
    if modes_dim != h.dimension:
        raise FluxError(f"the modes are {modes_dim}-dimensional, the Hessian {h.dimension}-dimensional")
    if modes_atoms.size != h.natoms:
        raise FluxError(f"the modes have {modes_atoms.size} atoms, the Hessian {h.natoms}: different structures")
    if not np.array_equal(modes_atoms["id"], h.atoms["id"]):
        raise FluxError("the atom IDs of the modes and of the Hessian differ: different structures or groups")
    if not np.allclose(modes_atoms["mass"], h.atoms["mass"], rtol=1e-10, atol=0):
        raise FluxError("the atom masses of the modes and of the Hessian differ: different structures")
    box = h.meta["box"]
    dx = minimum_image(modes_atoms["x"] - h.atoms["x"], box, h.dimension)
    L = face_widths(box_matrix(box, h.dimension)).min()
    worst = float(np.sqrt((dx**2).sum(axis=1)).max())
    if worst > 1e-6 * L:
        raise FluxError(f"an atom is {worst:.3g} away from its position in the Hessian: the modes and the Hessian "
                        "come from different structures")


def compute_flux(modes, hessian, *, interaction_range_override: float | None = None, omega_min: float | None = None,
                 keep_tensor: bool = False, block: int = 256, dtype=np.float64, comm=None,
                 progress=None) -> FluxProducts:
    """:class:`FluxProducts` from a mode file (every eigenvector) and the Hessian it was computed from.

    Parameters
    ----------
    modes : path or :class:`glassmodes.modes.ModeFile`
        Must hold every eigenvector (``glassmodes modes ... --backend dense``).
    hessian : path or :class:`glassmodes.io.Hessian`
    interaction_range_override : float, optional
        Interaction range when the sidecar has none (or to override it).
    omega_min : float, optional
        Modes with ``omega <= omega_min`` are left out (default ``1e-6 max(omega)``: rattlers).
    Other parameters: :func:`flux_matrices`.
    """
    from glassmodes import __version__
    from glassmodes.io.hessian import Hessian, read_hessian
    from glassmodes.modes import ModeFile
    from glassmodes.modes.core import unit_factor

    t_start = time.perf_counter()
    hpath = None
    if not isinstance(hessian, Hessian):
        hpath = str(hessian)
        hessian = read_hessian(hessian)
    own = not isinstance(modes, ModeFile)
    mpath = str(modes) if own else str(modes.path)
    mf = ModeFile(modes) if own else modes
    try:
        omega_all = mf.frequencies
        lam_all = mf.eigenvalues
        pr_all = mf.participation_ratio
        stored = mf.vector_index
        nm = mf.nmodes
        units, dim = mf.units, mf.dimension
        _check_same_structure(mf.atoms, mf.meta, units, dim, hessian)
        ndof = dim * mf.natoms
        if nm < ndof - dim:
            raise FluxError(f"{mpath}: {nm} modes, the structure has {ndof - dim} non-translational modes: the flux "
                            "needs every mode (glassmodes modes ... --backend dense)")
        if stored.size < nm:
            raise FluxError(f"{mpath}: {stored.size} of {nm} eigenvectors are stored: the flux needs every eigenvector")
        if omega_min is None:
            omega_min = 1e-6 * float(omega_all.max())
        use = np.flatnonzero(omega_all > omega_min)
        if use.size == 0:
            raise FluxError(f"{mpath}: no mode with omega > {omega_min:g}")
        E = np.empty((ndof, use.size), dtype=dtype)
        for c, j in enumerate(use):
            E[:, c] = mf.mode(int(j))
    finally:
        if own:
            mf.close()
    rc = interaction_range_override if interaction_range_override is not None else interaction_range(hessian.meta)
    if rc is None:
        raise FluxError("the Hessian's sidecar gives no interaction range (pair_cutoff / fd_range): pass "
                        "interaction_range_override")
    box = hessian.meta["box"]
    W, S, comp, eres = flux_matrices(hessian.dynamical_matrix(), hessian.positions(), box, E, lam_all[use],
                                     dimension=dim, rc=rc, masses=hessian.atoms["mass"], keep_tensor=keep_tensor,
                                     block=block, dtype=dtype, comm=comm, progress=progress)
    if eres > 1e-6:
        raise FluxError(f"the modes are not eigenvectors of this Hessian (max |D e - lambda e| / scale = {eres:.2e}): "
                        "modes and Hessian of different structures")
    from glassmodes.modes.core import UNIT_TIME

    meta = {"hessian_sidecar": hessian.meta, "modes_source": mpath, "hessian_source": hpath or "",
            "glassmodes_version": __version__, "seconds": time.perf_counter() - t_start,
            "dtype": np.dtype(dtype).name, "block": block, "ranks": 1 if comm is None else comm.Get_size(),
            "atoms": {"id": hessian.atoms["id"], "mass": hessian.atoms["mass"], "x": hessian.atoms["x"]}}
    return FluxProducts(omega=omega_all[use], W=W, S=S, mode_index=use, participation=pr_all[use], dimension=dim,
                        natoms=hessian.natoms, volume=volume(box, dim), units=units,
                        omega_unit=f"rad/{UNIT_TIME[units][0]}", ftm2v=unit_factor(units), interaction_range=rc,
                        completeness_residual=comp, eigen_residual=eres, meta=meta)


# ---- the file ----------------------------------------------------------------------------------
def write_flux(path: str | os.PathLike, fp: FluxProducts, dtype=None) -> None:
    """Write a flux file (layout in the module docs), atomically. ``dtype`` of W/S (default float64)."""
    import h5py

    dt = np.dtype(dtype or np.float64)
    with atomic_output(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            a = f.attrs
            a["format"] = FORMAT_NAME
            a["format_version"] = FORMAT_VERSION
            a["glassmodes_version"] = fp.meta.get("glassmodes_version", "")
            a["units"] = fp.units
            a["omega_unit"] = fp.omega_unit
            a["ftm2v"] = fp.ftm2v
            a["dimension"] = fp.dimension
            a["natoms"] = fp.natoms
            a["nmodes"] = fp.nmodes
            a["volume"] = fp.volume
            a["interaction_range"] = fp.interaction_range
            a["convention"] = CONVENTION
            a["s_unit"] = fp.s_unit
            a["w_unit"] = fp.w_unit
            a["dtype"] = fp.meta.get("dtype", "float64")
            a["completeness_residual"] = fp.completeness_residual
            a["eigen_residual"] = fp.eigen_residual
            a["modes_source"] = fp.meta.get("modes_source", "")
            a["hessian_source"] = fp.meta.get("hessian_source", "")
            a["hessian_sidecar"] = json.dumps(fp.meta.get("hessian_sidecar", {}), default=str)
            a["seconds"] = float(fp.meta.get("seconds", 0.0))
            a["atom_ordering"] = "ascending atom ID (the Hessian's order)"
            d = f.create_dataset("frequencies", data=fp.omega)
            d.attrs["units"] = fp.omega_unit
            f.create_dataset("participation_ratio", data=fp.participation)
            f.create_dataset("mode_index", data=fp.mode_index)
            d = f.create_dataset("W", data=fp.W.astype(dt, copy=False))
            d.attrs["units"] = fp.w_unit
            d.attrs["definition"] = "sum_a (S^a_munu)^2, diagonal 0"
            if fp.S is not None:
                d = f.create_dataset("S", data=fp.S.astype(dt, copy=False))
                d.attrs["units"] = fp.s_unit
                d.attrs["definition"] = "S[a, mu, nu] = e_mu^T (X^a o D) e_nu"
            atoms = fp.meta.get("atoms")
            if atoms is not None:
                g = f.create_group("atoms")
                for k, v in atoms.items():
                    g.create_dataset(k, data=np.asarray(v))
            b = f.create_group("box")
            for k, v in (fp.meta.get("hessian_sidecar", {}).get("box") or {}).items():
                b.attrs[k] = v


def read_flux(path: str | os.PathLike, tensor: bool = True) -> FluxProducts:
    """Read a flux file written by :func:`write_flux` (``tensor=False`` skips ``/S``)."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FluxError(f"{path}: no such flux file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise FluxError(f"{path}: not an HDF5 file ({exc})") from None
    with f:
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        if a.get("format") != FORMAT_NAME:
            raise FluxError(f"{path}: format {a.get('format')!r}, expected {FORMAT_NAME!r}")
        if not 1 <= int(a.get("format_version", -1)) <= FORMAT_VERSION:
            raise FluxError(f"{path}: format version {a.get('format_version')}, this reader knows 1..{FORMAT_VERSION}")
        S = f["S"][()] if (tensor and "S" in f) else None
        meta = {"hessian_sidecar": json.loads(a["hessian_sidecar"]), "modes_source": a["modes_source"],
                "hessian_source": a["hessian_source"], "glassmodes_version": a["glassmodes_version"],
                "seconds": float(a["seconds"]), "dtype": a["dtype"], "path": str(path)}
        if "atoms" in f:
            meta["atoms"] = {k: f["atoms"][k][()] for k in f["atoms"]}
        return FluxProducts(omega=f["frequencies"][()], W=f["W"][()].astype(float, copy=False), S=S,
                            mode_index=f["mode_index"][()], participation=f["participation_ratio"][()],
                            dimension=int(a["dimension"]), natoms=int(a["natoms"]), volume=float(a["volume"]),
                            units=str(a["units"]), omega_unit=str(a["omega_unit"]), ftm2v=float(a["ftm2v"]),
                            interaction_range=float(a["interaction_range"]),
                            completeness_residual=float(a["completeness_residual"]),
                            eigen_residual=float(a["eigen_residual"]), meta=meta)
