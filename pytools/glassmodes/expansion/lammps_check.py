"""Checks of a quartic profile against LAMMPS: energies along the line, relaxation from the second well.

Line scan (Kumar, Procaccia, Singh 2021, Eq. 4 and 12 as an independent route). The atoms are moved to ``x0 + s z_i / sqrt(m_i)`` (``z`` unit, mass weighted) for
``2 K + 1`` equally spaced ``s`` in ``[-a, a]``; ``run 0`` gives the total energy ``E(s)`` and the
forces, hence the slope ``dE/ds = -F . u``. Least-squares polynomials of degree ``degree`` (default
8) give ``b_n = n! c_n`` from the energies and ``b_n = (n-1)! c'_(n-1)`` from the slopes. The amplitude
``a`` is chosen from the largest particle displacement (``max_displacement``, distance units);
the pair styles of Kumar et al. and Khomenko et al. are only C2 at the cutoff (phi''' jumps), so a
pair entering or leaving the cutoff inside the scan spoils the fit: the number of pairs with a
non-zero energy (``compute pair/local eng``) is counted at every point. When it changes, the run of
points around ``s = 0`` where it keeps its value at 0 is rescanned with all ``2 K + 1`` points
(a lopsided interval is fine: the fit is still centred on the expansion point); when that run is
shorter than a quarter of the amplitude the amplitude is halved first (up to ``max_halvings``
times). ``crossing_free``: the fitted points have no crossing. The fit of the slopes
``dE/ds = -F . u`` is the primary estimate (energies as a second one): at these amplitudes the
energy's ``b4 s^4 / 24`` is only a few hundred times the round-off of a total energy.

Second well. For a profile with a second minimum (``beta^2 >= 8/9``), the atoms are moved to
``s_min2`` and relaxed (FIRE then CG to ``ftol``); the result is a distinct inherent structure if
its largest particle displacement from ``x0`` exceeds ``distinct_displacement`` (else the system
fell back into ``x0``). Its energy ``E_IS2 - E0`` is compared with the quartic's ``U(s_min2)``:
the quartic is a local model and can be far off.

The session is left in its starting configuration after each call (positions and image flags
restored, energy checked).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from glassmodes.expansion.coefficients import ExpansionError


def _gather(lmp, name, dtype, count):
    data = lmp.gather_atoms(name, dtype, count)
    return np.array(np.ctypeslib.as_array(data), copy=True)


class LammpsLine:
    """A LAMMPS session holding a minimized structure, driven along lines through it.

    Parameters
    ----------
    opener : callable
        ``opener()`` returns a new ``lammps.lammps`` session with the structure loaded
        (``atom_modify map`` set, atom IDs 1..N, the same order as the mode file and the force
        constants), e.g. ``functools.partial(open_structure, data)``. A session broken by a failed
        relaxation (lost atoms) is closed and replaced by a fresh one.
    """

    def __init__(self, opener):
        self._opener = opener
        self._open()

    def _open(self):
        from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR

        lmp = self._opener()
        self.lmp = lmp
        self.natoms = int(lmp.get_natoms())
        self.dimension = int(lmp.extract_setting("dimension"))
        ids = _gather(lmp, "id", 0, 1)
        if not np.array_equal(ids, np.arange(1, self.natoms + 1)):
            raise ExpansionError("the LAMMPS line check needs atom IDs 1..N (reset_atoms id)")
        self.x0 = _gather(lmp, "x", 1, 3).reshape(-1, 3)
        self.image0 = _gather(lmp, "image", 0, 1)
        self.masses = self._masses()
        lmp.command("compute gm_expand_pairs all pair/local eng")
        lmp.command("compute gm_expand_disp all displace/atom")
        self._pe = (LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR)
        self.e0, _ = self.energy_at(np.zeros((self.natoms, 3)))

    def reopen(self) -> None:
        """Close the session and start a fresh one (after an error left it unusable)."""
        e0 = self.e0
        try:
            self.lmp.close()
        finally:
            self._open()
        if abs(self.e0 - e0) > 1e-12 * max(1.0, abs(e0)):
            raise ExpansionError(f"reopened session has E = {self.e0!r}, not {e0!r}")

    def close(self) -> None:
        self.lmp.close()

    def _masses(self) -> np.ndarray:
        rmass = self.lmp.extract_atom("rmass")
        if rmass is not None:
            return _gather(self.lmp, "rmass", 1, 1)
        types = _gather(self.lmp, "type", 0, 1)
        mass = self.lmp.numpy.extract_atom("mass")
        return np.asarray(mass, float)[types]

    def _interacting_pairs(self) -> int:
        from lammps import LMP_STYLE_LOCAL, LMP_TYPE_VECTOR

        e = self.lmp.numpy.extract_compute("gm_expand_pairs", LMP_STYLE_LOCAL, LMP_TYPE_VECTOR)
        n = int(np.count_nonzero(np.asarray(e))) if e is not None else 0
        comm = self.lmp.get_mpi_comm() if hasattr(self.lmp, "get_mpi_comm") else None
        if comm is not None and comm.Get_size() > 1:
            n = comm.allreduce(n)
        return n

    def _set(self, x, image=None):
        import ctypes

        flat = np.ascontiguousarray(x, dtype=float).ravel()
        self.lmp.scatter_atoms("x", 1, 3, (ctypes.c_double * flat.size)(*flat))
        if image is not None:
            img = np.ascontiguousarray(image, dtype=np.int32).ravel()
            self.lmp.scatter_atoms("image", 0, 1, (ctypes.c_int * img.size)(*img))

    def energy_at(self, displacement) -> tuple[float, int]:
        """Total energy and number of interacting pairs at ``x0 + displacement`` (shape (N, 3))."""
        self._set(self.x0 + displacement, self.image0)
        self.lmp.command("run 0 post no")
        return float(self.lmp.extract_compute("thermo_pe", *self._pe)), self._interacting_pairs()

    def per_atom_compute(self, compute_id: str, columns: int) -> np.ndarray:
        """A per-atom array compute of the current step, shape (N, columns), ordered by atom ID."""
        from lammps import LMP_STYLE_ATOM, LMP_TYPE_ARRAY

        a = np.array(self.lmp.numpy.extract_compute(compute_id, LMP_STYLE_ATOM, LMP_TYPE_ARRAY), copy=True)
        ids = np.array(self.lmp.numpy.extract_atom("id"), copy=True)[: a.shape[0]]
        comm = self.lmp.get_mpi_comm() if hasattr(self.lmp, "get_mpi_comm") else None
        if comm is not None and comm.Get_size() > 1:
            a = np.concatenate(comm.allgather(a))
            ids = np.concatenate(comm.allgather(ids))
        out = np.empty((self.natoms, columns))
        out[ids - 1] = a[:, :columns]
        return out

    def forces(self) -> np.ndarray:
        """Forces of the current configuration, shape (N, 3), ordered by atom ID."""
        return _gather(self.lmp, "f", 1, 3).reshape(-1, 3)

    def restore(self) -> None:
        """Back to the starting configuration; raises if its energy changed (by > 1e-12 relative)."""
        e, _ = self.energy_at(np.zeros((self.natoms, 3)))
        if abs(e - self.e0) > 1e-12 * max(1.0, abs(self.e0)):
            raise ExpansionError(f"restoring the starting configuration gave E = {e!r}, not {self.e0!r}")

    def displacement(self, direction) -> np.ndarray:
        """Atom displacement per unit ``s`` of a mass-weighted direction, shape (N, 3)."""
        z = np.asarray(direction, dtype=float).reshape(self.natoms, self.dimension)
        u = np.zeros((self.natoms, 3))
        u[:, : self.dimension] = z / np.sqrt(self.masses)[:, None]
        return u


@dataclass(frozen=True)
class LineFit:
    """Taylor coefficients fitted to LAMMPS energies and forces along a line (module docs).

    ``s``, ``energy`` (``E(s) - E0``), ``slope`` (``dE/ds = -F . u``), ``b`` (``b2, b3, b4``
    fitted to the slopes, the primary estimate: one power of ``s`` less to resolve), ``b_energy``
    (fitted to the energies), ``b_half`` (slopes fitted at half the amplitude: ``|b - b_half|``
    estimates the fit error), ``amplitude`` (largest ``|s|``), ``max_displacement`` (largest
    particle displacement at it), ``crossing_free`` (no pair entered or left the cutoff),
    ``halvings``, ``residual`` (rms of the energy fit, energy units).
    """

    s: np.ndarray
    energy: np.ndarray
    slope: np.ndarray
    b: np.ndarray
    b_energy: np.ndarray
    b_half: np.ndarray
    amplitude: float
    max_displacement: float
    crossing_free: bool
    halvings: int
    residual: float


def _fit(s, e, degree):
    c = np.polynomial.polynomial.polyfit(s, e, degree)
    fact = np.array([math.factorial(n) for n in range(degree + 1)], dtype=float)
    b = c * fact
    resid = float(np.sqrt(np.mean((np.polynomial.polynomial.polyval(s, c) - e) ** 2)))
    return b[2:5], resid


def _fit_slope(s, g, degree):
    """``g(s) = dU/ds = sum_n b_n s^(n-1) / (n-1)!``: ``b_n = (n-1)! c_(n-1)``."""
    c = np.polynomial.polynomial.polyfit(s, g, degree - 1)
    fact = np.array([math.factorial(n) for n in range(degree)], dtype=float)
    return (c * fact)[1:4]


def line_fit(line: LammpsLine, direction, max_displacement: float = 0.01, points: int = 20, degree: int = 8,
             max_halvings: int = 4) -> LineFit:
    """Fit ``b2, b3, b4`` to LAMMPS energies along ``direction`` (module docs).

    Parameters
    ----------
    line : LammpsLine
    direction : ndarray, shape=(d*N,)
        Unit mass-weighted direction (normalized here).
    max_displacement : float
        Largest particle displacement at the scan's ends (distance units) before any halving.
    points : int
        ``K``: ``2 K + 1`` energies per scan (``s = a k / K``).
    degree : int
        Degree of the least-squares polynomial (>= 4).
    """
    if degree < 4 or 2 * points + 1 <= degree:
        raise ValueError("line_fit: need degree >= 4 and more points than the degree")
    z = np.asarray(direction, dtype=float)
    z = z / np.linalg.norm(z)
    u = line.displacement(z)
    umax = float(np.linalg.norm(u, axis=1).max())
    a = max_displacement / umax
    def scan(s_values):
        e = np.empty(s_values.size)
        g = np.empty(s_values.size)
        pairs = np.empty(s_values.size, dtype=np.int64)
        for k, sk in enumerate(s_values):
            ek, pairs[k] = line.energy_at(sk * u)
            e[k] = ek - line.e0
            g[k] = -float(np.sum(line.forces() * u))
        return e, g, pairs

    def run_around(s_values, pairs, centre):
        same = pairs == pairs[centre]
        lo = centre
        while lo > 0 and same[lo - 1]:
            lo -= 1
        hi = centre
        while hi < s_values.size - 1 and same[hi + 1]:
            hi += 1
        return lo, hi

    try:
        for halving in range(max_halvings + 1):
            s = a * np.arange(-points, points + 1) / points
            e, g, pairs = scan(s)
            lo, hi = run_around(s, pairs, points)
            free = lo == 0 and hi == s.size - 1
            if free:
                break
            if s[hi] - s[lo] >= a / 4 or halving == max_halvings:
                # rescan the crossing-free interval around 0 (possibly lopsided) with all the points
                s_lo, s_hi = s[lo], s[hi]
                s = np.linspace(s_lo, s_hi, 2 * points + 1)
                s[np.argmin(np.abs(s))] = 0.0          # s_lo <= 0 <= s_hi: keep the expansion point
                e, g, pairs = scan(s)
                centre = int(np.argmin(np.abs(s)))
                lo, hi = run_around(s, pairs, centre)
                free = hi - lo + 1 > degree + 2
                s, e, g = s[lo:hi + 1], e[lo:hi + 1], g[lo:hi + 1]
                break
            a *= 0.5
    finally:
        line.restore()
    b_energy, resid = _fit(s, e, degree)
    b = _fit_slope(s, g, degree)
    reach = float(np.abs(s).max())
    inner = np.abs(s) <= reach / 2 * (1 + 1e-12)
    b_half = _fit_slope(s[inner], g[inner], min(degree, int(inner.sum()) - 2))
    return LineFit(s=s, energy=e, slope=g, b=b, b_energy=b_energy, b_half=b_half, amplitude=reach,
                   max_displacement=float(reach * umax), crossing_free=bool(free), halvings=halving,
                   residual=resid)


@dataclass(frozen=True)
class SecondWell:
    """Relaxation from the quartic's second minimum (module docs).

    ``energy`` (``E_IS2 - E0``), ``predicted`` (``U(s_min2)`` of the quartic), ``max_displacement``
    (largest particle displacement of the relaxed structure from ``x0``), ``distinct`` (a new
    inherent structure), ``overlap`` (``|z . dz| / |dz|`` with ``dz`` the mass-weighted
    displacement), ``max_force`` (largest force after relaxation), ``error`` (empty, or why the
    relaxation failed; the numbers are then NaN).
    """

    energy: float
    predicted: float
    max_displacement: float
    distinct: bool
    overlap: float
    max_force: float
    error: str = ""


def relax_second_well(line: LammpsLine, direction, s_min2: float, predicted: float, ftol: float = 1e-10,
                      distinct_displacement: float = 1e-3, max_iterations: int = 100000) -> SecondWell:
    """Displace to ``s_min2`` along ``direction`` (unit, mass weighted, sign as in the profile), relax,
    compare (module docs). The session is restored afterwards."""
    lmp = line.lmp
    z = np.asarray(direction, dtype=float)
    z = z / np.linalg.norm(z)
    try:
        line._set(line.x0 + s_min2 * line.displacement(z), line.image0)
        lmp.command("min_modify norm max dmax 0.05")
        lmp.command("min_style fire")
        lmp.command(f"minimize 0 {ftol} {max_iterations} {10 * max_iterations}")
        lmp.command("min_style cg")
        lmp.command(f"minimize 0 {ftol} {max_iterations} {10 * max_iterations}")
        lmp.command("run 0 post no")
        e = float(lmp.extract_compute("thermo_pe", *line._pe)) - line.e0
        # displacement from x0 (compute displace/atom, defined at x0, unwraps through images)
        disp = line.per_atom_compute("gm_expand_disp", 4)
        fmag = np.linalg.norm(line.forces(), axis=1)
        line.restore()
    except Exception as exc:  # noqa: BLE001 - LAMMPS raises plain Exception (lost atoms, ...)
        line.reopen()
        nan = float("nan")
        return SecondWell(energy=nan, predicted=float(predicted), max_displacement=nan, distinct=False,
                          overlap=nan, max_force=nan, error=str(exc).splitlines()[0])
    d = disp[:, : line.dimension] * np.sqrt(line.masses)[:, None]
    dn = np.linalg.norm(d)
    overlap = float(abs(d.ravel() @ z) / dn) if dn > 0 else float("nan")
    dmax = float(disp[:, 3].max())
    return SecondWell(energy=e, predicted=float(predicted), max_displacement=dmax,
                      distinct=bool(dmax > distinct_displacement), overlap=overlap, max_force=float(fmag.max()))


def open_structure(data, forcefield=None, comm=None, log=None):
    """A LAMMPS session on a data file and its force field (as ``glassmodes hessian`` reads them)."""
    from pathlib import Path

    from glassmodes.hessian_job import HessianJob
    from glassmodes.lammps_session import open_lammps

    job = HessianJob(source=Path(data), output=Path("unused"), forcefield=forcefield)
    lines = job.commands()[:-1]             # everything but write_hessian
    lmp = open_lammps(comm=comm, log=log)
    try:
        for line in lines:
            lmp.command(line)
        lmp.command("thermo_modify norm no")
    except Exception:
        lmp.close()
        raise
    return lmp


__all__ = ["LammpsLine", "LineFit", "SecondWell", "line_fit", "relax_second_well", "open_structure"]
