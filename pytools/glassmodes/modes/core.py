"""What every eigen-solver backend shares: input checks, units, rigid translations, results.

Conventions (the same for the ``dense``, ``sparse`` and ``slepc`` backends)
---------------------------------------------------------------------------
* The problem solved is ``D v = lambda v`` with ``D = M^-1/2 H M^-1/2`` the dynamical matrix
  (whatever the Hessian file holds, see :mod:`glassmodes.io.hessian`). ``lambda`` is in the
  matrix's units, (energy/distance^2)/mass of the LAMMPS unit style.
* Angular frequencies are ``omega = sign(lambda) sqrt(|lambda| * ftm2v)`` in radians per time
  unit of the unit style (``ftm2v`` is LAMMPS' force/mass -> velocity/time factor; 1 for ``lj``,
  ``si``, ``cgs``, ``micro``, ``nano``). A (round-off) negative eigenvalue gives a negative omega.
* Eigenvectors are mass-weighted (``e = M^1/2 u`` for a displacement ``u``), unit 2-norm, one
  column per mode, row ``d*k + alpha`` as in the Hessian file; the sign is fixed so that the
  largest-magnitude component is positive (a convention only, modes are defined up to sign).
* ``scale`` is an upper bound of the largest eigenvalue, the Gershgorin bound
  ``max_i sum_j |D_ij|``. Tolerances on eigenvalues are relative to it.
* Rigid translations. ``t_alpha`` (``alpha < d``) has ``sqrt(m_k)`` on the ``alpha`` component of
  every atom, normalized; ``D t_alpha = 0`` exactly for a translation-invariant energy. Every
  backend evaluates the same test: the translations are zero modes when
  ``max_alpha |D t_alpha| <= zero_tol * scale``. Then exactly ``d`` zero modes are reported
  (``ZeroModes.count``), with the largest ``|w^2|`` among them the largest absolute eigenvalue of
  the ``d x d`` matrix ``T^T D T``, and they are excluded from the result (dense: the
  translation subspace is projected out of the computed null space; sparse and slepc: ``T`` is
  deflated from the operator). Other modes with ``|lambda| <= zero_tol * scale`` (rattlers, the
  rotations of a free cluster) are kept and counted in ``ZeroModes.extra``.
* Unstable structures: an eigenvalue ``< -zero_tol * scale`` raises :class:`UnstableStructureError`
  with how many and the most negative one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp

from glassmodes.io.hessian import Hessian, HessianFileError, check_atoms

# LAMMPS unit style -> (time unit, ftm2v): omega^2 [1/time^2] = lambda [force/(distance mass)] * ftm2v.
# Values from LAMMPS' Update::set_units.
UNIT_TIME = {
    "lj": ("tau", 1.0),
    "real": ("fs", 1.0 / 48.88821291 / 48.88821291),
    "metal": ("ps", 1.0 / 1.0364269e-4),
    "si": ("s", 1.0),
    "cgs": ("s", 1.0),
    "electron": ("fs", 0.937582899),
    "micro": ("us", 1.0),
    "nano": ("ns", 1.0),
}

DEFAULT_ZERO_TOL = 1e-8
DEFAULT_SYMMETRY_TOL = 1e-10


class ModeError(ValueError):
    """The eigenproblem cannot be solved as asked (bad input, no convergence)."""


class AsymmetricMatrixError(ModeError):
    """The matrix is not symmetric beyond the tolerance."""


class UnstableStructureError(ModeError):
    """The dynamical matrix has negative eigenvalues beyond round-off: not a local minimum."""

    def __init__(self, message: str, count: int, most_negative: float):
        super().__init__(message)
        self.count = count  # number of eigenvalues below -zero_tol * scale (a lower bound when partial)
        self.most_negative = most_negative  # most negative eigenvalue found, matrix units


@dataclass(frozen=True)
class ZeroModes:
    """The rigid-translation zero modes found and excluded, and other near-zero modes kept.

    Attributes
    ----------
    count : int
        Number of translational zero modes excluded: ``d`` when the translations are null
        vectors of D to ``zero_tol``, else 0.
    max_abs_eigenvalue : float
        Largest ``|w^2|`` among them: the largest absolute eigenvalue of ``T^T D T``, matrix units.
    translation_residual : float
        ``max_alpha |D t_alpha| / scale`` (dimensionless).
    extra : int
        Computed modes (kept in the result) with ``|lambda| <= zero_tol * scale`` that are not
        translations: rattlers, rotations of a non-periodic cluster, floppy modes.
    """

    count: int
    max_abs_eigenvalue: float
    translation_residual: float
    extra: int = 0


@dataclass(frozen=True)
class SolverInfo:
    """How the modes were computed and how well they converged.

    Attributes
    ----------
    backend : str
        ``dense``, ``sparse`` or ``slepc``.
    method : str
        Driver / eigensolver (``evd``, ``evr``, ``arpack-shift-invert``, ``krylovschur``, ...).
    tol : float
        Convergence tolerance asked of the eigensolver (its own definition).
    zero_tol : float
        Relative tolerance for zero and negative eigenvalues (see module docs).
    scale : float
        Gershgorin bound of the largest eigenvalue, matrix units.
    iterations : int
        Outer iterations (restarts / windows) of the eigensolver, 0 for dense.
    residual_norms : ndarray, shape=(k,), float64
        ``|D v - lambda v| / scale`` of each returned mode (computed after the solve).
    zero_modes : ZeroModes
    options : dict
        Options passed to the solver (shift, windows, PETSc/SLEPc options).
    notes : tuple of str
        Anything the caller should know (complete spectrum or not, degenerate group cut, ...).
    seconds : float
        Wall time of the solve.
    complete_below : float
        All eigenvalues below this value (matrix units) are in the result (``inf`` for a full
        dense solve, ``nan`` if the backend cannot certify it).
    """

    backend: str
    method: str
    tol: float
    zero_tol: float
    scale: float
    iterations: int
    residual_norms: np.ndarray
    zero_modes: ZeroModes
    options: dict = field(default_factory=dict)
    notes: tuple = ()
    seconds: float = 0.0
    complete_below: float = float("nan")


@dataclass(frozen=True, eq=False)
class Modes:
    """Normal modes of a dynamical matrix.

    Attributes
    ----------
    omega : ndarray, shape=(k,), float64
        Angular frequencies, rad per time unit of ``units`` (``omega_unit``), ascending.
    eigenvalues : ndarray, shape=(k,), float64
        ``omega^2 / ftm2v``, in (energy/distance^2)/mass of ``units``.
    vectors : ndarray, shape=(d*N, k), float64, or None
        Mass-weighted eigenvectors, unit norm, one column per mode.
    dimension : int
    units : str
        LAMMPS unit style.
    info : SolverInfo
    meta : dict
        The Hessian sidecar the modes were computed from (box, masses, ...).
    atoms : numpy structured array, shape=(N,), or None
        The Hessian's atom records (id, type, mass, x, image).
    """

    omega: np.ndarray
    eigenvalues: np.ndarray
    vectors: np.ndarray | None
    dimension: int
    units: str
    info: SolverInfo
    meta: dict = field(default_factory=dict)
    atoms: np.ndarray | None = None

    @property
    def omega_unit(self) -> str:
        return f"rad/{UNIT_TIME[self.units][0]}"

    @property
    def nmodes(self) -> int:
        return int(self.omega.size)

    @property
    def natoms(self) -> int:
        if self.atoms is not None:
            return int(self.atoms.size)
        return int(self.meta["natoms"])


def unit_factor(units: str) -> float:
    """LAMMPS ``ftm2v`` of a unit style: omega^2 = lambda * ftm2v (see module docs)."""
    try:
        return UNIT_TIME[units][1]
    except KeyError:
        raise ModeError(f"unknown LAMMPS unit style {units!r}; known: {sorted(UNIT_TIME)}") from None


def omega_from_eigenvalues(eigenvalues: np.ndarray, units: str) -> np.ndarray:
    """Signed angular frequency ``sign(l) sqrt(|l| ftm2v)``, rad per time unit of ``units``."""
    lam = np.asarray(eigenvalues, dtype=float)
    return np.sign(lam) * np.sqrt(np.abs(lam) * unit_factor(units))


def eigenvalue_from_omega(omega: float, units: str) -> float:
    """Inverse of :func:`omega_from_eigenvalues` for omega >= 0."""
    return float(omega) ** 2 / unit_factor(units)


def dof_masses(hessian: Hessian) -> np.ndarray:
    """Mass of each degree of freedom, shape=(d*N,), mass units."""
    return np.repeat(np.asarray(hessian.atoms["mass"], dtype=float), hessian.dimension)


def translation_basis(masses: np.ndarray, dimension: int) -> np.ndarray:
    """Orthonormal mass-weighted rigid translations, shape=(d*N, d).

    ``T[d*k + alpha, alpha] = sqrt(m_k) / sqrt(sum_k m_k)``: the eigenvectors of D that a
    translation-invariant energy gives zero frequency.

    >>> T = translation_basis(np.array([1.0, 1.0, 4.0, 4.0]), 2)
    >>> bool(np.allclose(T.T @ T, np.eye(2)))
    True
    """
    masses = np.asarray(masses, dtype=float)
    ndof = masses.size
    if ndof % dimension:
        raise ModeError(f"{ndof} degrees of freedom is not a multiple of the dimension {dimension}")
    T = np.zeros((ndof, dimension))
    s = np.sqrt(masses)
    for a in range(dimension):
        T[a::dimension, a] = s[a::dimension]
    T /= np.linalg.norm(T, axis=0)
    return T


def gershgorin_scale(matrix: sp.spmatrix) -> float:
    """``max_i sum_j |A_ij|``, an upper bound of the spectral radius."""
    a = sp.csr_matrix(matrix)
    return float(np.max(np.abs(a).sum(axis=1))) if a.nnz else 0.0


def check_symmetric(matrix: sp.csr_matrix, tol: float = DEFAULT_SYMMETRY_TOL) -> float:
    """Relative asymmetry ``|A - A^T|_F / |A|_F``; raise AsymmetricMatrixError above ``tol``.

    The message gives the largest ``|A_ij - A_ji|`` and where it is.
    """
    a = sp.csr_matrix(matrix)
    diff = sp.csr_matrix(a - a.T)
    diff.eliminate_zeros()
    norm = sp.linalg.norm(a)
    rel = float(sp.linalg.norm(diff) / norm) if norm > 0 else 0.0
    if rel > tol:
        coo = diff.tocoo()
        j = int(np.argmax(np.abs(coo.data)))
        i_, j_ = int(coo.row[j]), int(coo.col[j])
        raise AsymmetricMatrixError(
            f"matrix is not symmetric: |A - A^T|_F / |A|_F = {rel:.3e} > tolerance {tol:.1e}; "
            f"largest |A_ij - A_ji| = {abs(coo.data[j]):.6e} at (i, j) = ({i_}, {j_}) "
            f"(A_ij = {a[i_, j_]:.6e}, A_ji = {a[j_, i_]:.6e})"
        )
    return rel


def check_hessian(hessian: Hessian) -> None:
    """Consistency of an in-memory Hessian with its sidecar and atoms (clear errors)."""
    meta, m, atoms = hessian.meta, hessian.matrix, hessian.atoms
    for key in ("natoms", "dimension", "units", "mass_weighted"):
        if key not in meta:
            raise HessianFileError(f"Hessian metadata lacks {key!r}")
    d, n = int(meta["dimension"]), int(meta["natoms"])
    if d not in (2, 3):
        raise HessianFileError(f"sidecar dimension {d}, expected 2 or 3")
    if n <= 0:
        raise HessianFileError(f"the Hessian has {n} atoms (an empty group?)")
    if m.shape != (d * n, d * n):
        raise HessianFileError(
            f"matrix is {m.shape[0]}x{m.shape[1]}, sidecar says {n} atoms in {d}D ({d * n} dof)"
        )
    if "nnz" in meta and m.nnz != int(meta["nnz"]):
        raise HessianFileError(f"matrix has {m.nnz} nonzeros, sidecar says {meta['nnz']}")
    check_atoms(atoms, meta, "Hessian atoms")
    if m.nnz and not np.all(np.isfinite(sp.csr_matrix(m).data)):
        raise HessianFileError("matrix holds NaN or infinite values")
    unit_factor(str(meta["units"]))


@dataclass(frozen=True)
class Problem:
    """The checked, symmetrized dynamical matrix with what the backends need."""

    D: sp.csr_matrix  # shape (d*N, d*N)
    T: np.ndarray  # mass-weighted translations, (d*N, d)
    scale: float
    dimension: int
    units: str
    zero_tol: float
    asymmetry: float
    zero_modes: ZeroModes
    hessian: Hessian

    @property
    def translations_are_null(self) -> bool:
        return self.zero_modes.count > 0


def translation_check(matvec: Callable[[np.ndarray], np.ndarray], T: np.ndarray, scale: float,
                      zero_tol: float) -> ZeroModes:
    """Evaluate the rigid translations as zero modes (the test every backend uses)."""
    DT = np.column_stack([matvec(T[:, a]) for a in range(T.shape[1])])
    residual = float(np.max(np.linalg.norm(DT, axis=0)) / scale) if scale > 0 else 0.0
    G = T.T @ DT
    max_abs = float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (G + G.T)))))
    count = T.shape[1] if residual <= zero_tol else 0
    return ZeroModes(count=count, max_abs_eigenvalue=max_abs, translation_residual=residual)


PLAUSIBLE_ZERO_FRACTION = 1e-3
TRANSLATION_RESIDUAL_LIMIT = 1e-3


def check_scale(diagonal: np.ndarray, row_abs_sum: np.ndarray, zero_tol: float, atoms: np.ndarray | None,
                dimension: int) -> float:
    """Spectrum sanity: the Gershgorin bound ``scale = max_i sum_j |D_ij|`` must be plausible.

    Zero and negative eigenvalues are judged relative to ``zero_tol * scale``. When that
    threshold exceeds ``PLAUSIBLE_ZERO_FRACTION`` times the median diagonal entry (a typical
    eigenvalue), zero modes, soft modes and instabilities can no longer be told apart: one
    corrupt entry (e.g. 1.6e21 among values near 90) would turn every eigenvalue into a "zero
    mode". Raise ModeError naming the row (atom ID and component) and the numbers.

    Parameters
    ----------
    diagonal, row_abs_sum : ndarray, shape=(d*N,)
        ``D_ii`` and ``sum_j |D_ij|`` of the dynamical matrix, matrix units.
    zero_tol : float
    atoms : structured array or None
        For the atom ID in the message.
    dimension : int

    Returns
    -------
    float, the scale.
    """
    rowsum = np.asarray(row_abs_sum, dtype=float)
    scale = float(rowsum.max()) if rowsum.size else 0.0
    if scale == 0:
        raise ModeError("the dynamical matrix is zero: no interactions")
    diag = np.abs(np.asarray(diagonal, dtype=float))
    typical = float(np.median(diag[diag > 0])) if np.any(diag > 0) else 0.0
    if zero_tol * scale > PLAUSIBLE_ZERO_FRACTION * typical:
        r = int(np.argmax(rowsum))
        who = (f"atom ID {int(atoms['id'][r // dimension])}, component {'xyz'[r % dimension]}"
               if atoms is not None and atoms.size * dimension == rowsum.size else f"row {r}")
        raise ModeError(
            f"implausible spectrum scale: row {r} ({who}) has sum_j |D_ij| = {scale:.6e} and diagonal "
            f"{diagonal[r]:.6e}, {scale / max(typical, 1e-300):.2e} times the median diagonal entry "
            f"{typical:.6e}; the zero-mode threshold zero_tol * scale = {zero_tol * scale:.3e} would exceed "
            f"{PLAUSIBLE_ZERO_FRACTION:.0e} of a typical eigenvalue, so zero modes and instabilities "
            "could not be detected. A corrupt entry or a bad mass? (If the entry is real, a smaller "
            f"--zero-tol, below {PLAUSIBLE_ZERO_FRACTION * typical / scale:.1e}, accepts it.)"
        )
    return scale


def check_translations(zm: ZeroModes, meta: dict, zero_tol: float) -> None:
    """Spectrum sanity: a Hessian of the whole system (group ``all``) must have the rigid
    translations as zero modes. Raise ModeError when ``|D t| / scale`` exceeds
    ``TRANSLATION_RESIDUAL_LIMIT`` (far beyond finite-difference error: masses in the atoms
    file that disagree with those the matrix was weighted with, or a corrupt matrix)."""
    if zm.count or meta.get("group") != "all" or zm.translation_residual <= TRANSLATION_RESIDUAL_LIMIT:
        return
    raise ModeError(
        f"the rigid translations are not zero modes of the whole system's dynamical matrix "
        f"(|D t| / scale = {zm.translation_residual:.2e} > {TRANSLATION_RESIDUAL_LIMIT:.0e}, zero_tol "
        f"{zero_tol:.0e}): the masses in the atoms file disagree with those the matrix was "
        "mass-weighted with, or the matrix is corrupt"
    )


def prepare(hessian: Hessian, zero_tol: float = DEFAULT_ZERO_TOL,
            symmetry_tol: float = DEFAULT_SYMMETRY_TOL) -> Problem:
    """Check a Hessian and build the symmetrized dynamical matrix, translations and scale."""
    if not zero_tol > 0:
        raise ModeError(f"zero_tol must be > 0, got {zero_tol}")
    check_hessian(hessian)
    D = sp.csr_matrix(hessian.dynamical_matrix(), dtype=float)
    asym = check_symmetric(D, symmetry_tol)
    if asym > 0:
        D = sp.csr_matrix(0.5 * (D + D.T))
    D.sort_indices()
    d = hessian.dimension
    T = translation_basis(np.repeat(np.asarray(hessian.atoms["mass"], dtype=float), d), d)
    scale = check_scale(D.diagonal(), np.asarray(abs(D).sum(axis=1)).ravel(), zero_tol, hessian.atoms, d)
    zm = translation_check(lambda x: D @ x, T, scale, zero_tol)
    check_translations(zm, hessian.meta, zero_tol)
    return Problem(D=D, T=T, scale=scale, dimension=d, units=str(hessian.meta["units"]),
                   zero_tol=zero_tol, asymmetry=asym, zero_modes=zm, hessian=hessian)


def translation_hint(zm: ZeroModes, zero_tol: float) -> str:
    if zm.count == 0 and zm.translation_residual < 1e-3:
        return (f" The rigid translations are not null vectors to zero_tol = {zero_tol:.0e} "
                f"(|D t| / scale = {zm.translation_residual:.1e}): an inaccurate (finite-difference?) "
                f"Hessian; a larger zero_tol would treat them as zero modes.")
    return ""


def raise_unstable(negatives: np.ndarray, scale: float, zero_tol: float, zm: ZeroModes,
                   lower_bound: bool = False, count: int | None = None) -> None:
    """Raise UnstableStructureError for eigenvalues below ``-zero_tol * scale``."""
    negatives = np.asarray(negatives, dtype=float)
    n = int(count if count is not None else negatives.size)
    most = float(negatives.min()) if negatives.size else float("nan")
    raise UnstableStructureError(
        f"unstable structure: {'at least ' if lower_bound else ''}{n} negative eigenvalue(s) "
        f"below -zero_tol * scale = {-zero_tol * scale:.3e}; most negative found {most:.6e} "
        f"(matrix units, {most / scale:.2e} relative to the largest eigenvalue bound {scale:.4e}). "
        f"The structure is not a local energy minimum: minimize it further before the mode "
        f"analysis." + translation_hint(zm, zero_tol),
        count=n, most_negative=most,
    )


def normalize_signs(vectors: np.ndarray) -> np.ndarray:
    """Unit-normalize columns and make the largest-magnitude component of each positive."""
    v = np.array(vectors, dtype=float, copy=True)
    if v.size == 0:
        return v
    v /= np.linalg.norm(v, axis=0)
    idx = np.argmax(np.abs(v), axis=0)
    signs = np.sign(v[idx, np.arange(v.shape[1])])
    signs[signs == 0] = 1.0
    return v * signs


def residual_norms(D: sp.spmatrix, eigenvalues: np.ndarray, vectors: np.ndarray, scale: float) -> np.ndarray:
    """``|D v_k - lambda_k v_k| / scale`` per column, shape=(k,)."""
    if vectors.size == 0:
        return np.zeros(0)
    r = D @ vectors - vectors * eigenvalues[None, :]
    return np.linalg.norm(r, axis=0) / scale


def finish(problem: Problem, eigenvalues: np.ndarray, vectors: np.ndarray, *, backend: str,
           method: str, tol: float, iterations: int, options: dict, notes: list,
           seconds: float, complete_below: float) -> Modes:
    """Sort, check for instability, count extra zero modes, build the Modes."""
    order = np.argsort(eigenvalues, kind="stable")
    lam = np.asarray(eigenvalues, dtype=float)[order]
    vec = normalize_signs(np.asarray(vectors)[:, order])
    thr = problem.zero_tol * problem.scale
    neg = lam[lam < -thr]
    if neg.size:
        raise_unstable(neg, problem.scale, problem.zero_tol, problem.zero_modes,
                       lower_bound=not np.isfinite(complete_below))
    zm = dataclasses.replace(problem.zero_modes, extra=int(np.sum(np.abs(lam) <= thr)))
    if zm.count == 0:
        notes = list(notes) + ["rigid translations are not zero modes (translation residual "
                               f"{zm.translation_residual:.2e} > zero_tol {problem.zero_tol:.0e}); "
                               "nothing excluded"]
    if zm.extra:
        notes = list(notes) + [f"{zm.extra} near-zero mode(s) besides the translations kept "
                               "(rattlers or rotations?)"]
    info = SolverInfo(
        backend=backend, method=method, tol=tol, zero_tol=problem.zero_tol, scale=problem.scale,
        iterations=int(iterations), residual_norms=residual_norms(problem.D, lam, vec, problem.scale),
        zero_modes=zm, options=dict(options), notes=tuple(notes), seconds=float(seconds),
        complete_below=float(complete_below),
    )
    return Modes(
        omega=omega_from_eigenvalues(lam, problem.units), eigenvalues=lam, vectors=vec,
        dimension=problem.dimension, units=problem.units, info=info, meta=dict(problem.hessian.meta),
        atoms=problem.hessian.atoms,
    )


def degenerate_groups(eigenvalues: np.ndarray, rtol: float = 1e-6) -> list[np.ndarray]:
    """Index groups of (nearly) equal sorted eigenvalues: consecutive gaps <= rtol * |lambda|.

    >>> [g.tolist() for g in degenerate_groups(np.array([1.0, 2.0, 2.0, 3.0]))]
    [[0], [1, 2], [3]]
    """
    lam = np.asarray(eigenvalues, dtype=float)
    if lam.size == 0:
        return []
    groups, start = [], 0
    for i in range(1, lam.size):
        if abs(lam[i] - lam[i - 1]) > rtol * max(abs(lam[i]), abs(lam[i - 1])):
            groups.append(np.arange(start, i))
            start = i
    groups.append(np.arange(start, lam.size))
    return groups
