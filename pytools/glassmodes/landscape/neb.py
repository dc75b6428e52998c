"""Minimum-energy paths between two inherent structures: a Python NEB and LAMMPS's own ``neb``.

Khomenko et al. (2020), Sec. II: pairs of inherent structures A, B are joined by the
minimum-energy path (MEP) of the nudged elastic band (NEB; Henkelman, Uberuaga, Jonsson, J. Chem. Phys.
113, 9901 (2000), climbing image; Henkelman and Jonsson, J. Chem. Phys. 113, 9978 (2000), tangent),
whose energy profile V(xi) feeds the 1D Schroedinger equation (:mod:`glassmodes.landscape.schrodinger`).

Two independent routes:

* :func:`neb_python`: images evaluated one after the other in one serial LAMMPS instance
  (:class:`Landscape`), mass-weighted coordinates ``q_i = sqrt(m_i) r_i``, improved tangent, springs on
  the mass-weighted image distances, climbing image in a second stage, FIRE on all images together
  (Bitzek et al., Phys. Rev. Lett. 97, 170201 (2006)).
* :func:`neb_lammps`: LAMMPS's REPLICA ``neb`` command, ``mpirun -np M lmp -partition Mx1`` (one
  process per replica), ``fix neb K parallel ideal``, ``min_style fire``, climbing image; the replicas
  are dumped and re-evaluated in :class:`Landscape` (LAMMPS prints the NEB energies per atom in
  ``units lj`` unless ``thermo_modify norm no``: the deck sets it, and the energies reported here are
  total energies either way). Its spring distances are plain Euclidean: use it for equal masses only.

Both return a :class:`MEP`; :meth:`MEP.path_potential` gives the Hermite path potential, with image slopes
``-F_q . t`` and end curvatures ``t . H . t`` from finite differences of the forces.

Configuration files: LAMMPS data files of ``atom_style charge`` whose charge column holds the particle
diameter (the seed-002 public inherent structures, ``shared/data/seed002_is``) or of ``atom_style
sphere``; the default force field is the seed-002 model, ``ipl/smooth/poly 12 2 1.25 0.2``.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassmodes.landscape.events import minimum_image

#: The seed-002 model (Khomenko et al. (2020)), per-atom diameters from the data file.
SEED002_FORCEFIELD = "pair_style ipl/smooth/poly 12 2 1.25 0.2\npair_coeff * * 1.0"


# -------------------------------------------------------------------------------------------------
# configurations
# -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Configuration:
    """Particles of one inherent structure, sorted by atom ID.

    Attributes
    ----------
    ids, types : ndarray of int, shape=(N,)
    diameters : ndarray, shape=(N,)
        Particle sizes sigma_i (distance units).
    masses : ndarray, shape=(N,)
    x : ndarray, shape=(N, 3)
        Positions, unwrapped with the file's image flags (distance units).
    boxlo, boxhi : ndarray, shape=(3,)
        Orthogonal periodic box.
    source : str
        File it came from.
    """

    ids: np.ndarray
    types: np.ndarray
    diameters: np.ndarray
    masses: np.ndarray
    x: np.ndarray
    boxlo: np.ndarray
    boxhi: np.ndarray
    source: str = ""

    @property
    def natoms(self) -> int:
        return int(self.ids.size)

    @property
    def lengths(self) -> np.ndarray:
        return self.boxhi - self.boxlo


def read_configuration(path: str | os.PathLike) -> Configuration:
    """Read a LAMMPS data file of ``atom_style charge`` (diameter in the charge column) or ``sphere``.

    Raises ``ValueError`` naming the file for anything else (triclinic box, other atom styles,
    missing sections).
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    natoms, box, masses, style, atoms = None, {}, {}, None, None
    i = 1
    while i < len(lines):
        s = lines[i].split("#")[0].strip()
        words = s.split()
        if s.endswith(" atoms") and len(words) == 2:
            natoms = int(words[0])
        elif len(words) == 4 and words[2][1:] == "lo" and words[3][1:] == "hi":
            box[words[2][0]] = (float(words[0]), float(words[1]))
        elif len(words) == 6 and words[3:] == ["xy", "xz", "yz"]:
            if any(float(w) != 0 for w in words[:3]):
                raise ValueError(f"{path}: triclinic boxes are not supported")
        elif s == "Masses":
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            while i < len(lines) and lines[i].strip():
                t, m = lines[i].split()[:2]
                masses[int(t)] = float(m)
                i += 1
            continue
        elif words and words[0] == "Atoms":
            m = re.search(r"#\s*(\w+)", lines[i])
            style = m.group(1) if m else None
            if style not in ("charge", "sphere"):
                raise ValueError(f"{path}: Atoms section of style {style!r}; expected 'charge' (diameter in the "
                                 "charge column, seed-002 files) or 'sphere'")
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            rows = []
            while i < len(lines) and lines[i].strip() and natoms is not None and len(rows) < natoms:
                rows.append(lines[i].split())
                i += 1
            atoms = rows
            continue
        i += 1
    if natoms is None or atoms is None or len(atoms) != natoms or set(box) != {"x", "y", "z"}:
        raise ValueError(f"{path}: not a complete LAMMPS data file (atoms count, box or Atoms section missing)")
    # charge: id type q x y z [ix iy iz]; sphere: id type diameter density x y z [ix iy iz]
    ncol = 6 if style == "charge" else 7
    try:
        a = np.array([[float(v) for v in r[:ncol]] + ([float(v) for v in r[ncol:ncol + 3]]
                                                     if len(r) >= ncol + 3 else [0.0, 0.0, 0.0]) for r in atoms])
    except ValueError:
        raise ValueError(f"{path}: unreadable Atoms line") from None
    a = np.concatenate([a[:, :3], np.zeros((a.shape[0], 1)), a[:, 3:]], axis=1) if style == "charge" else a
    order = np.argsort(a[:, 0])
    a = a[order]
    ids, types = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64)
    if style == "charge":
        diam = a[:, 2]
        if any(t not in masses for t in np.unique(types)):
            raise ValueError(f"{path}: Masses section lacks some atom types")
        mass = np.array([masses[t] for t in types])
    else:   # sphere: id type diameter density x y z
        diam = a[:, 2]
        mass = a[:, 3] * np.pi / 6.0 * diam ** 3
    if np.any(diam <= 0):
        raise ValueError(f"{path}: every particle needs a diameter > 0")
    lo = np.array([box[c][0] for c in "xyz"])
    hi = np.array([box[c][1] for c in "xyz"])
    x = a[:, 4:7] + a[:, 7:10] * (hi - lo)
    return Configuration(ids=ids, types=types, diameters=diam, masses=mass, x=x, boxlo=lo, boxhi=hi,
                         source=str(path))


def write_sphere_data(path: str | os.PathLike, cfg: Configuration, x: np.ndarray | None = None) -> None:
    """LAMMPS data file of ``atom_style sphere`` (density chosen so that rmass = the atom's mass)."""
    x = cfg.x if x is None else np.asarray(x, dtype=float)
    L = cfg.lengths
    img = np.floor((x - cfg.boxlo) / L).astype(np.int64)
    xw = x - img * L
    dens = cfg.masses / (np.pi / 6.0 * cfg.diameters ** 3)
    out = [f"glassmodes double wells: {Path(cfg.source).name}", "", f"{cfg.natoms} atoms",
           f"{int(cfg.types.max())} atom types", ""]
    out += [f"{float(lo)!r} {float(hi)!r} {c}lo {c}hi" for lo, hi, c in zip(cfg.boxlo, cfg.boxhi, "xyz")]
    out += ["", "Atoms # sphere", ""]
    out += [f"{i} {t} {d:.17g} {r:.17g} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g} {m[0]} {m[1]} {m[2]}"
            for i, t, d, r, p, m in zip(cfg.ids, cfg.types, cfg.diameters, dens, xw, img)]
    Path(path).write_text("\n".join(out) + "\n")


def write_charge_data(path: str | os.PathLike, cfg: Configuration, x: np.ndarray | None = None,
                      title: str | None = None) -> None:
    """LAMMPS data file of ``atom_style charge`` with the diameter in the charge column (the layout of the
    seed-002 files, read back by :func:`read_configuration`); positions wrapped into the box with image
    flags, ``%.17g`` (exact round trip)."""
    x = cfg.x if x is None else np.asarray(x, dtype=float)
    L = cfg.lengths
    img = np.floor((x - cfg.boxlo) / L).astype(np.int64)
    xw = x - img * L
    types = np.unique(cfg.types)
    tmass = {}
    for t in types:
        m = cfg.masses[cfg.types == t]
        if np.ptp(m) > 0:
            raise ValueError(f"atom type {t} has unequal masses: not representable in atom_style charge")
        tmass[int(t)] = float(m[0])
    out = [title or f"glassmodes: {Path(cfg.source).name}", "", f"{cfg.natoms} atoms",
           f"{int(cfg.types.max())} atom types", ""]
    out += [f"{float(lo)!r} {float(hi)!r} {c}lo {c}hi" for lo, hi, c in zip(cfg.boxlo, cfg.boxhi, "xyz")]
    out += ["", "Masses", ""] + [f"{t} {m!r}" for t, m in tmass.items()]
    out += ["", "Atoms # charge", ""]
    out += [f"{i} {t} {d:.17g} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g} {m[0]} {m[1]} {m[2]}"
            for i, t, d, p, m in zip(cfg.ids, cfg.types, cfg.diameters, xw, img)]
    Path(path).write_text("\n".join(out) + "\n")


def unwrap_to(reference: np.ndarray, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``x`` moved by box vectors to the minimum image of each particle relative to ``reference``."""
    return reference + minimum_image(np.asarray(x, dtype=float) - reference, lengths)


# -------------------------------------------------------------------------------------------------
# one LAMMPS instance: energies, forces, minimization, Hessian
# -------------------------------------------------------------------------------------------------

class Landscape:
    """Potential energy surface of one configuration's particles in a private LAMMPS instance.

    Parameters
    ----------
    cfg : Configuration
        Particles, sizes, masses, box (the positions are replaced at every call).
    forcefield : str
        LAMMPS commands defining the interactions (default: the seed-002 model).
    comm : mpi4py communicator or None
        None: ``MPI.COMM_SELF`` (serial).

    Energies are total potential energies (eps), forces shape=(N, 3) sorted by atom ID.
    """

    def __init__(self, cfg: Configuration, forcefield: str = SEED002_FORCEFIELD, comm=None):
        from mpi4py import MPI

        from glassmodes.lammps_session import open_lammps

        self.cfg = cfg
        self.forcefield = forcefield
        self.evaluations = 0
        self._lmp = open_lammps(comm=MPI.COMM_SELF if comm is None else comm)
        self._ref = None
        with tempfile.TemporaryDirectory(prefix="gm-landscape-") as tmp:
            data = Path(tmp) / "start.data"
            write_sphere_data(data, cfg)
            try:
                for c in ("units lj", "atom_style sphere", "atom_modify map array sort 0 0.0", "boundary p p p"):
                    self._lmp.command(c)
                # pair_style before read_data (data files with Pair Coeffs need it)
                self._lmp.commands_string(forcefield.split("pair_coeff")[0])
                self._lmp.command(f"read_data {data}")
                self._lmp.commands_string(forcefield)
                for c in (f"neighbor {self.SKIN} bin", "neigh_modify every 1 delay 0 check yes", "thermo_modify norm no",
                          "min_modify norm max", "timestep 0.005"):
                    self._lmp.command(c)
            except Exception as exc:  # noqa: BLE001 - LAMMPS raises plain Exception
                self.close()
                raise ValueError(f"{cfg.source}: setting up LAMMPS failed: {str(exc).strip()}") from None
        n = cfg.natoms
        self._buf = (ctypes.c_double * (3 * n))()

    def close(self) -> None:
        if getattr(self, "_lmp", None) is not None:
            self._lmp.close()
            self._lmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    #: neighbor skin of the instance (``neighbor 0.3 bin``, rebuilt when a particle moved half of it)
    SKIN = 0.3

    def _put(self, x: np.ndarray) -> None:
        c = self.cfg
        xw = c.boxlo + np.mod(np.asarray(x, dtype=float).reshape(-1, 3) - c.boxlo, c.lengths)
        self._scatter(xw)
        self._ref = None

    def _scatter(self, xw: np.ndarray) -> None:
        np.ctypeslib.as_array(self._buf)[:] = xw.ravel()
        self._lmp.scatter_atoms("x", 1, 3, self._buf)

    def _get(self, name: str) -> np.ndarray:
        return np.array(np.ctypeslib.as_array(self._lmp.gather_atoms(name, 1, 3), shape=(3 * self.cfg.natoms,)),
                        dtype=float).reshape(-1, 3)

    def energy_forces(self, x: np.ndarray, rebuild: bool = False) -> tuple[float, np.ndarray]:
        """Total energy (eps) and forces, shape=(N, 3), at positions ``x`` (any image).

        After a first full ``run 0``, positions are set continuously from LAMMPS's current ones (minimum
        image of the change, no re-wrapping) and evaluated by ``run 1 pre no post no`` with no time
        integrator: atoms stay put, LAMMPS's ``neigh_modify check yes`` rebuilds the neighbor lists (with
        periodic re-wrapping) only when a particle moved half the skin, else just updates the ghosts;
        ``rebuild`` forces a full ``run 0``. Both give the same forces (tests/test_tls.py), the first
        about 8x faster at N = 1500.
        """
        x = np.asarray(x, dtype=float).reshape(-1, 3)
        ref = self._ref
        if ref is not None and not rebuild:
            self._scatter(ref[1] + minimum_image(x - ref[0], self.cfg.lengths))
            self._lmp.command("run 1 pre no post no")
        else:
            self._put(x)
            self._lmp.command("run 0 post no")
        self.evaluations += 1
        self._ref = (x.copy(), self._get("x"))
        return float(self._lmp.get_thermo("pe")), self._get("f")

    def minimize(self, x: np.ndarray, ftol: float = 1e-10, maxiter: int = 200000,
                 stages=("fire", "cg", "fire")) -> tuple[np.ndarray, float, float]:
        """Minimize from ``x``: (positions unwrapped next to ``x``, energy, largest |F_i|)."""
        self._put(x)
        for s in stages:
            self._lmp.command(f"min_style {s}")
            self._lmp.command(f"minimize 0.0 {ftol!r} {maxiter} {maxiter}")
        xm = unwrap_to(np.asarray(x).reshape(-1, 3), self._get("x"), self.cfg.lengths)
        e, f = self.energy_forces(xm)
        return xm, e, float(np.sqrt(np.max(np.einsum("ij,ij->i", f, f))))

    def curvature(self, x: np.ndarray, direction: np.ndarray, h: float = 1e-5) -> float:
        """``t . H_q . t`` along the mass-weighted unit direction ``t`` (q = sqrt(m) r), central differences
        of the forces (h in mass-weighted length; error O(h^2))."""
        sm = np.sqrt(self.cfg.masses)[:, None]
        t = np.asarray(direction, dtype=float).reshape(-1, 3)
        t = t / np.linalg.norm(t)
        _, fp = self.energy_forces(x + h * t / sm)
        _, fm = self.energy_forces(x - h * t / sm)
        return float(-np.sum((fp - fm) / sm * t) / (2 * h))

    def lowest_hessian_eigenvalues(self, x: np.ndarray, k: int = 6) -> np.ndarray:
        """Lowest ``k`` eigenvalues of the mass-weighted Hessian at ``x`` (the plugin's analytic
        ``write_hessian``, no force check: saddles allowed), by sparse Lanczos."""
        import scipy.sparse.linalg as sla

        from glassmodes.io.hessian import read_hessian

        self._put(x)
        with tempfile.TemporaryDirectory(prefix="gm-saddle-") as tmp:
            self._lmp.command("run 0 post no")
            self._lmp.command(f"write_hessian all {tmp}/H fcheck no ftol 1e3")
            D = read_hessian(f"{tmp}/H").dynamical_matrix()
        return np.sort(sla.eigsh(D, k=k, which="SA", tol=1e-10, ncv=max(4 * k, 40), maxiter=20000,
                                 return_eigenvectors=False))


# -------------------------------------------------------------------------------------------------
# paths
# -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MEP:
    """A converged minimum-energy path.

    Attributes
    ----------
    x : ndarray, shape=(K, N, 3)
        Image positions, unwrapped continuously from A (images 0 and K-1 are A and B).
    energy : ndarray, shape=(K,)
        Total energies (eps).
    forces : ndarray, shape=(K, N, 3)
        Forces at the images.
    masses : ndarray, shape=(N,)
    climbing : int
        Index of the climbing image (-1: none).
    iterations : int
        Optimizer iterations (LAMMPS: neb steps).
    fmax : float
        Largest NEB force component norm per atom at the end (force units).
    method : str
        ``python-neb`` or ``lammps-neb``.
    seconds : float
        Wall time.
    info : dict
        Method-specific extras (e.g. LAMMPS's printed EBF, EBR).
    """

    x: np.ndarray
    energy: np.ndarray
    forces: np.ndarray
    masses: np.ndarray
    climbing: int
    iterations: int
    fmax: float
    method: str
    seconds: float
    info: dict = field(default_factory=dict)

    @property
    def q(self) -> np.ndarray:
        return self.x * np.sqrt(self.masses)[None, :, None]

    @property
    def xi(self) -> np.ndarray:
        """Mass-weighted arc length of the images (polygon through them), shape=(K,)."""
        d = np.sqrt(np.sum(np.diff(self.q, axis=0) ** 2, axis=(1, 2)))
        return np.concatenate([[0.0], np.cumsum(d)])

    @property
    def length(self) -> float:
        return float(self.xi[-1])

    @property
    def barrier(self) -> float:
        """Highest image energy minus E_A (eps)."""
        return float(self.energy.max() - self.energy[0])

    @property
    def asymmetry(self) -> float:
        """E_B - E_A (eps)."""
        return float(self.energy[-1] - self.energy[0])

    @property
    def saddle(self) -> int:
        return int(np.argmax(self.energy))

    def tangents(self) -> np.ndarray:
        """Mass-weighted unit tangents at the images (improved tangent inside, chords at the ends)."""
        return _tangents(self.q, self.energy)

    def interior_minima(self) -> list[int]:
        """Images (not the ends) lower than both neighbours: the path crosses another minimum."""
        e = self.energy
        return [i for i in range(1, e.size - 1) if e[i] < e[i - 1] and e[i] < e[i + 1]]

    def slopes(self) -> np.ndarray:
        """dV/dxi = -F_q . t at the images (t the unit tangents), shape=(K,)."""
        fq = self.forces / np.sqrt(self.masses)[None, :, None]
        return -np.sum(fq * self.tangents(), axis=(1, 2))

    def hidden_minima(self, etol: float) -> list[tuple[int, float]]:
        """Minima of the path potential between images that are not image minima themselves.

        The path is the cubic Hermite interpolant of the image energies and slopes (the V(xi) of
        :meth:`path_potential`); a local minimum of it inside an interval (i, i+1), with a rise of more
        than ``etol`` (eps) to the highest point of the path on each side, is a well the images skipped
        (too few images across it: the path dips between two higher images). Returns ``(i, s)`` with
        the minimum near ``x_i + s (x_{i+1} - x_i)``; minima within 1 % of an interval of an image
        minimum (:meth:`interior_minima`) are left out (the image itself is that minimum).
        """
        from scipy.interpolate import CubicHermiteSpline

        xi, e = self.xi, self.energy
        spl = CubicHermiteSpline(xi, e, self.slopes())
        im = set(self.interior_minima())
        out = []
        for r in spl.derivative().roots(extrapolate=False):
            if not xi[0] < r < xi[-1] or spl(r, 2) <= 0:
                continue
            i = int(min(np.searchsorted(xi, r) - 1, xi.size - 2))
            s = float((r - xi[i]) / (xi[i + 1] - xi[i]))
            if (s < 0.01 and i in im) or (s > 0.99 and i + 1 in im):
                continue
            v = float(spl(r))
            left = spl(np.linspace(xi[0], r, 400)).max()
            right = spl(np.linspace(r, xi[-1], 400)).max()
            if left - v > etol and right - v > etol:
                out.append((i, s))
        return out

    def interior_maxima(self) -> list[int]:
        e = self.energy
        return [i for i in range(1, e.size - 1) if e[i] > e[i - 1] and e[i] > e[i + 1]]

    def path_potential(self, land: Landscape | None = None, h: float = 1e-5):
        """:class:`~glassmodes.landscape.schrodinger.PathPotential` of this path.

        Slopes ``dV/dxi = -F_q . t``; end curvatures from ``land`` (``t . H . t`` by force differences
        along the end chords), or from the Hermite end segments when ``land`` is None.
        """
        from glassmodes.landscape.schrodinger import PathPotential

        t = self.tangents()
        slope = self.slopes()
        k = None
        if land is not None:
            k = (land.curvature(self.x[0], t[0], h),
                 land.curvature(self.x[-1], t[-1], h))
        return PathPotential(self.xi, self.energy - self.energy[0], slope, k_ends=k)


def _tangents(q: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Henkelman and Jonsson (2000) improved tangents (unit, mass-weighted) of a chain of images."""
    K = q.shape[0]
    t = np.empty_like(q)
    for i in range(K):
        if i == 0 or i == K - 1:
            d = q[1] - q[0] if i == 0 else q[-1] - q[-2]
        else:
            tp, tm = q[i + 1] - q[i], q[i] - q[i - 1]
            ep, em = e[i + 1] - e[i], e[i] - e[i - 1]
            if ep > 0 and em > 0:
                d = tp
            elif ep < 0 and em < 0:
                d = tm
            else:
                big, small = max(abs(ep), abs(em)), min(abs(ep), abs(em))
                d = tp * big + tm * small if e[i + 1] > e[i - 1] else tp * small + tm * big
        t[i] = d / np.linalg.norm(d)
    return t


def neb_python(land: Landscape, xa: np.ndarray, xb: np.ndarray, nimages: int = 8, spring: float = 1.0,
               ftol: float = 1e-7, climb: bool = True, ftol_stage1: float = 1e-3, maxiter: int = 50000,
               dt: float = 0.01, dtmax: float = 0.05, dmax: float = 0.01, progress=None) -> MEP:
    """Climbing-image NEB between two minima in one LAMMPS instance (see the module docstring).

    Parameters
    ----------
    land : Landscape
    xa, xb : ndarray, shape=(N, 3)
        End minima (B is moved to the minimum image of A).
    nimages : int
        Images including the two ends (LAMMPS's number of replicas), >= 3.
    spring : float
        Spring constant (eps / (sigma^2 m)), on mass-weighted image distances.
    ftol : float
        Convergence: the largest per-atom norm of the NEB force (force units), every image.
    climb : bool
        Second stage with the highest image climbing (its tangential force inverted, no spring),
        started when the force is below ``ftol_stage1``.
    dt, dtmax, dmax : float
        FIRE's initial and largest time step, largest mass-weighted displacement per atom and step.

    Returns
    -------
    MEP
    """
    if nimages < 3:
        raise ValueError("nimages must be >= 3 (two ends and at least one moving image)")
    t0 = time.perf_counter()
    cfg = land.cfg
    sm = np.sqrt(cfg.masses)[:, None]
    xa = np.asarray(xa, dtype=float)
    xb = unwrap_to(xa, xb, cfg.lengths)
    s = np.linspace(0.0, 1.0, nimages)[:, None, None]
    q = (xa + s * (xb - xa)) * sm
    e = np.empty(nimages)
    f = np.zeros_like(q)
    for i in (0, nimages - 1):
        e[i], fi = land.energy_forces(q[i] / sm)
        f[i] = fi
    v = np.zeros_like(q)
    a_start, alpha, npos, fdec, finc, falpha, nmin = 0.1, 0.1, 0, 0.5, 1.1, 0.99, 5
    ci = -1
    fmax = np.inf
    it = 0
    for it in range(1, maxiter + 1):
        for i in range(1, nimages - 1):
            e[i], fi = land.energy_forces(q[i] / sm)
            f[i] = fi / sm
        tau = _tangents(q, e)
        g = np.zeros_like(q)
        for i in range(1, nimages - 1):
            fpar = np.sum(f[i] * tau[i])
            if i == ci:
                g[i] = f[i] - 2.0 * fpar * tau[i]
            else:
                dp = np.linalg.norm(q[i + 1] - q[i])
                dm = np.linalg.norm(q[i] - q[i - 1])
                g[i] = f[i] - fpar * tau[i] + spring * (dp - dm) * tau[i]
        fmax = float(np.sqrt(np.max(np.sum((g[1:-1] * sm) ** 2, axis=2))))
        if climb and ci < 0 and fmax < ftol_stage1:
            ci = int(np.argmax(e[1:-1])) + 1
            v[:] = 0.0
            npos, alpha, dt = 0, a_start, min(dt, dtmax)
            continue
        if fmax < ftol and (ci >= 0 or not climb):
            break
        if progress and it % 500 == 0:
            progress(f"python NEB iteration {it}: max force {fmax:.3e}, barrier {e.max() - e[0]:.6e}")
        # FIRE (all images together)
        P = float(np.sum(v * g))
        if P > 0:
            vn, gn = np.linalg.norm(v), np.linalg.norm(g)
            v = (1 - alpha) * v + alpha * vn * g / gn
            npos += 1
            if npos > nmin:
                dt = min(dt * finc, dtmax)
                alpha *= falpha
        else:
            v[:] = 0.0
            npos, alpha, dt = 0, a_start, dt * fdec
        v += dt * g
        step = dt * v
        big = float(np.sqrt(np.max(np.sum(step ** 2, axis=2))))
        if big > dmax:
            step *= dmax / big
        q[1:-1] += step[1:-1]
    else:
        raise RuntimeError(f"python NEB did not converge in {maxiter} iterations (max force {fmax:.3e} > {ftol:g})")
    x = q / sm
    forces = f * sm
    return MEP(x=x, energy=e.copy(), forces=forces, masses=cfg.masses.copy(), climbing=ci, iterations=it,
               fmax=fmax, method="python-neb", seconds=time.perf_counter() - t0, info={"evaluations": land.evaluations})


# -------------------------------------------------------------------------------------------------
# LAMMPS neb
# -------------------------------------------------------------------------------------------------

NEB_DECK = """\
plugin load {plugin}
units lj
atom_style sphere
atom_modify map array sort 0 0.0
boundary p p p
{pair_style}
read_data {data}
{forcefield}
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
variable u uloop {nrep}
variable p world {worlds}
timestep {timestep}
min_style fire
min_modify norm max
thermo_modify norm no
fix nebfix all neb {spring} parallel ideal
thermo 100
neb {etol} {ftol} {n1} {n2} {nevery} final {final}{verbose}
write_dump all custom rep.${{p}}.dump id x y z modify sort id format float %.17g
"""


def neb_lammps(cfg: Configuration, xa: np.ndarray, xb: np.ndarray, workdir: str | os.PathLike, nimages: int = 8,
               forcefield: str = SEED002_FORCEFIELD, spring: float = 1.0, ftol: float = 1e-7, etol: float = 0.0,
               n1: int = 20000, n2: int = 20000, timestep: float = 0.01, climb: bool = True, timeout: float = 3600,
               land: Landscape | None = None) -> MEP:
    """LAMMPS ``neb`` between ``xa`` and ``xb`` with ``nimages`` replicas (one MPI process each).

    Writes ``in.neb``, ``A.data``, ``B.final`` into ``workdir``, runs
    ``mpirun -np M lmp -partition Mx1 -in in.neb``, reads ``rep.<p>.dump`` and re-evaluates every
    replica in ``land`` (a serial :class:`Landscape` of ``cfg``; created when None). With
    ``climb=False`` the second (climbing) stage is skipped (``n2 = 0``).

    The masses must be equal: LAMMPS's replica distances are not mass-weighted.
    """
    from glassmodes.lammps_session import plugin_path, venv_mpirun

    if nimages < 3:
        raise ValueError("nimages must be >= 3")
    if np.ptp(cfg.masses) > 0:
        raise ValueError("LAMMPS neb measures plain Euclidean replica distances: equal masses only")
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    xa = np.asarray(xa, dtype=float)
    xb = unwrap_to(xa, xb, cfg.lengths)
    write_sphere_data(wd / "A.data", cfg, xa)
    final = [str(cfg.natoms)] + [f"{i} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g}" for i, p in zip(cfg.ids, xb)]
    (wd / "B.final").write_text("\n".join(final) + "\n")
    pair_style = forcefield.split("pair_coeff")[0].strip()
    deck = NEB_DECK.format(plugin=plugin_path(), pair_style=pair_style, data="A.data", forcefield=forcefield,
                           nrep=nimages, worlds=" ".join(str(i) for i in range(nimages)), timestep=timestep,
                           spring=spring, etol=etol, ftol=ftol, n1=n1, n2=n2 if climb else 0, nevery=100,
                           final="B.final", verbose="")
    (wd / "in.neb").write_text(deck)
    lmp_exe = Path(sys.executable).with_name("lmp")
    cmd = [str(venv_mpirun()), "-np", str(nimages), str(lmp_exe), "-partition", f"{nimages}x1", "-in", "in.neb",
           "-log", "log.lammps", "-screen", "none", "-nocite"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        tail = (wd / "log.lammps").read_text()[-2000:] if (wd / "log.lammps").exists() else ""
        raise RuntimeError(f"LAMMPS neb failed ({proc.returncode}) in {wd}: {proc.stderr[-1000:]}\n{tail}")
    info = parse_neb_log(wd / "log.lammps", nimages)
    own = land is None
    land = Landscape(cfg, forcefield) if own else land
    try:
        xs, es, fs = [], [], []
        for p in range(nimages):
            xp = _read_dump_positions(wd / f"rep.{p}.dump", cfg)
            xp = unwrap_to(xa if p == 0 else xs[-1], xp, cfg.lengths)
            e, f = land.energy_forces(xp)
            xs.append(xp)
            es.append(e)
            fs.append(f)
    finally:
        if own:
            land.close()
    es = np.array(es)
    ci = int(np.argmax(es[1:-1])) + 1 if climb else -1
    return MEP(x=np.array(xs), energy=es, forces=np.array(fs), masses=cfg.masses.copy(), climbing=ci,
               iterations=int(info.get("steps", -1)), fmax=float(info.get("MaxReplicaForce", np.nan)),
               method="lammps-neb", seconds=time.perf_counter() - t0, info=info)


def _read_dump_positions(path: Path, cfg: Configuration) -> np.ndarray:
    lines = path.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("ITEM: ATOMS"))
    a = np.array([[float(v) for v in line.split()[:4]] for line in lines[k + 1:k + 1 + cfg.natoms]])
    if a.shape[0] != cfg.natoms or not np.array_equal(a[:, 0].astype(np.int64), cfg.ids):
        raise ValueError(f"{path}: replica dump does not hold the configuration's atoms")
    return a[:, 1:4]


def parse_neb_log(path: Path, nimages: int) -> dict:
    """The last line of LAMMPS's NEB progress table: steps, forces, EBF, EBR (as printed: with
    ``thermo_modify norm no`` total energies), replica coordinates and energies."""
    cols, last = None, None
    for line in Path(path).read_text().splitlines():
        w = line.split()
        if w[:3] == ["Step", "MaxReplicaForce", "MaxAtomForce"]:
            cols = w
        elif cols and len(w) == len(cols):
            try:
                last = [float(v) for v in w]
            except ValueError:
                continue
    if last is None:
        raise ValueError(f"{path}: no NEB progress table")
    d = dict(zip(cols, last))
    d["steps"] = int(d["Step"])
    return d
