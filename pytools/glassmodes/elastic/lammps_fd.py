"""Elastic terms and relaxed moduli from a running LAMMPS session by finite differences.

Independent of the Hessian and of any pair decomposition (any potential, many-body included):

* :func:`terms_from_lammps`: ``Xi_I = -dF/du_I`` and the affine Cauchy-stress derivative
  ``A_IK = d tau_I/du_K`` (``tau = -p``, atoms moved affinely by ``change_box ... remap``, then
  ``run 0``), central differences with ``+-delta``; ``C^B = A - stress terms``
  (:func:`glassmodes.elastic.tensors.C_from_stress_derivatives`). At a minimum (F = 0) the
  first-order forces are the same for simple and symmetric shear, so Xi from a tilt is the tensor
  derivative of design note B2.
* :func:`relaxed_from_lammps`: the same deformations followed by a CG minimization at fixed box
  to a largest force component ``ftol`` (default 1e-11; ``min_modify norm max``: at 1e-12 the
  KA test glasses stall at the round-off floor and run to the iteration limit)
  (LAMMPS ``examples/ELASTIC`` recipe, which measures A, i.e. B for symmetric strains, not C;
  converted here): the relaxed C.
* :func:`dipole_displacement`: the displacement of the minimum under external forces
  ``+-eps d`` (``fix addforce``), which linear response predicts to be ``eps H^+ d``.

The box must be orthogonal (tilts zero) because ``change_box x scale`` does not scale the tilts;
it is made triclinic (zero tilts) to apply shears. The session's state (positions, images, box) is
restored after each deformation; its ``thermo_style`` is replaced. Pressures are converted with
LAMMPS's ``nktv2p`` so that everything is in energy/distance^d.
"""

from __future__ import annotations

import numpy as np

from glassmodes.elastic.tensors import C_from_stress_derivatives
from glassmodes.elastic.terms import ElasticError, ElasticTerms, voigt_labels, voigt_pairs

_PRESS = "gm_el_press"
_VOIGT_LMP3 = (1, 2, 3, 6, 5, 4)     # compute pressure vector: pxx pyy pzz pxy pxz pyz -> Voigt order
_VOIGT_LMP2 = (1, 2, 4)


class _Session:
    """Reference state of a LAMMPS session, restorable after deformations."""

    def __init__(self, lmp):
        self.lmp = lmp
        self.dim = int(lmp.extract_setting("dimension"))
        self.natoms = int(lmp.get_natoms())
        boxlo, boxhi, xy, yz, xz, periodicity, _ = lmp.extract_box()
        if any(abs(t) > 0 for t in (xy, yz, xz)):
            raise ElasticError("the LAMMPS route needs an orthogonal box (tilts xy, xz, yz all zero)")
        if not all(periodicity[: self.dim]):
            raise ElasticError("the LAMMPS route needs a periodic box in every direction")
        self.boxlo, self.boxhi = list(boxlo), list(boxhi)
        if not lmp.has_id("compute", _PRESS):
            lmp.command(f"compute {_PRESS} all pressure NULL virial")
        cols = _VOIGT_LMP3 if self.dim == 3 else _VOIGT_LMP2
        lmp.command("thermo_style custom step pe " + " ".join(f"c_{_PRESS}[{c}]" for c in cols))
        lmp.command("thermo_modify norm no")
        if not int(lmp.extract_setting("triclinic")):
            lmp.command("change_box all triclinic")
        self.nktv2p = float(lmp.extract_global("nktv2p"))
        ids = np.asarray(lmp.gather_atoms("id", 0, 1), dtype=np.int64)
        if ids.size != self.natoms or not np.array_equal(np.sort(ids), np.arange(1, self.natoms + 1)):
            raise ElasticError("atom IDs must be 1..N (gather_atoms order); reset_atoms id first")
        self.x = np.array(lmp.gather_atoms("x", 1, 3), dtype=float).reshape(-1, 3)
        self.image = np.array(lmp.gather_atoms("image", 0, 1), dtype=np.int64)
        self.evaluate()
        self.stress = self.cauchy_stress()
        self.forces = self.gather_forces()

    def evaluate(self) -> None:
        self.lmp.command("run 0 post no")

    def cauchy_stress(self) -> np.ndarray:
        """tau = -p (virial part, energy/distance^d), shape=(d, d)."""
        v = np.asarray(self.lmp.extract_compute(_PRESS, 0, 1)[:6], dtype=float)
        p = np.array([[v[0], v[3], v[4]], [v[3], v[1], v[5]], [v[4], v[5], v[2]]])
        return -p[: self.dim, : self.dim] / self.nktv2p

    def gather_forces(self) -> np.ndarray:
        f = np.array(self.lmp.gather_atoms("f", 1, 3), dtype=float).reshape(-1, 3)
        return f[:, : self.dim].copy()

    def gather_positions(self) -> np.ndarray:
        return np.array(self.lmp.gather_atoms("x", 1, 3), dtype=float).reshape(-1, 3)[:, : self.dim]

    def lengths(self) -> np.ndarray:
        return np.asarray(self.boxhi) - np.asarray(self.boxlo)

    def strain(self, c: int, e: int, u: float) -> None:
        """Apply x_c += u x_e (c == e: scale along c) to box and atoms (remap)."""
        names = "xyz"
        L = self.lengths()
        if c == e:
            self.lmp.command(f"change_box all {names[c]} scale {_f(1.0 + u)} remap units box")
        else:
            tilt = {(0, 1): "xy", (0, 2): "xz", (1, 2): "yz"}[(c, e)]
            self.lmp.command(f"change_box all {tilt} final {_f(u * L[e])} remap units box")

    def restore(self) -> None:
        names = "xyz"
        parts = [f"{names[a]} final {_f(self.boxlo[a])} {_f(self.boxhi[a])}" for a in range(self.dim)]
        tilts = "xy final 0.0 xz final 0.0 yz final 0.0" if self.dim == 3 else "xy final 0.0"
        self.lmp.command("change_box all " + " ".join(parts) + f" {tilts} units box")
        self.lmp.scatter_atoms("x", 1, 3, _c_array(self.x.ravel(), float))
        self.lmp.scatter_atoms("image", 0, 1, _c_array(self.image, int))

    def minimize(self, ftol: float, maxiter: int) -> None:
        self.lmp.command("min_style cg")
        self.lmp.command("min_modify norm max")
        self.lmp.command(f"minimize 0 {_f(ftol)} {maxiter} {10 * maxiter}")
        fmax = float(np.max(np.linalg.norm(self.gather_forces(), axis=1)))
        if fmax > 10 * ftol * np.sqrt(self.dim):
            raise ElasticError(f"minimization stopped at a largest force {fmax:.2e}, above the tolerance "
                               f"{ftol:.1e}: the relaxed response would be inaccurate (raise ftol or maxiter)")


def _f(x) -> str:
    """A float as LAMMPS reads it back exactly (shortest repr)."""
    return repr(float(x))


def _c_array(values, kind):
    import ctypes

    if kind is float:
        return (ctypes.c_double * len(values))(*values)
    return (ctypes.c_int * len(values))(*[int(v) for v in values])


def _strains(dim: int) -> list:
    return [(a, b) for a, b in voigt_pairs(dim)]


def terms_from_lammps(lmp, delta: float = 1e-6) -> ElasticTerms:
    """sigma, C^B and Xi of the current (minimized) configuration by central differences.

    Parameters
    ----------
    lmp : lammps.lammps
        A session holding a minimized system (group all, atom IDs 1..N, orthogonal periodic box).
    delta : float
        Strain step (both signs).

    Returns
    -------
    ElasticTerms
        ``method = "lammps-fd"``; ``meta['max_force']`` the largest force of the reference state.
    """
    s = _Session(lmp)
    d = s.dim
    strains = _strains(d)
    nv = len(strains)
    A = np.zeros((nv, nv))
    xi = np.zeros((d * s.natoms, nv))
    vp = voigt_pairs(d)
    for K, (c, e) in enumerate(strains):
        tau, f = [], []
        for u in (delta, -delta):
            s.strain(c, e, u)
            s.evaluate()
            tau.append(s.cauchy_stress())
            f.append(s.gather_forces())
            s.restore()
        dtau = (tau[0] - tau[1]) / (2 * delta)
        A[:, K] = [dtau[a, b] for a, b in vp]
        xi[:, K] = -((f[0] - f[1]) / (2 * delta)).ravel()
    s.evaluate()
    born = C_from_stress_derivatives(A, s.stress, strains)
    boxlo, boxhi, *_ = lmp.extract_box()
    L = np.asarray(boxhi) - np.asarray(boxlo)
    volume = float(np.prod(L[:d]))
    fmax = float(np.max(np.linalg.norm(s.forces, axis=1)))
    return ElasticTerms(stress=s.stress, born=born, xi=xi, volume=volume, dim=d,
                        atom_ids=np.arange(1, s.natoms + 1, dtype=np.int64),
                        box={"boxlo": list(boxlo), "boxhi": list(boxhi), "xy": 0.0, "xz": 0.0, "yz": 0.0},
                        units=str(lmp.extract_global("units")), method="lammps-fd",
                        meta={"delta": delta, "max_force": fmax,
                              "source": "central differences of LAMMPS forces and pressures under affine strain"},
                        voigt=voigt_labels(d))


def relaxed_from_lammps(lmp, delta: float = 1e-6, ftol: float = 1e-11, maxiter: int = 20000) -> dict:
    """The relaxed C by box deformation and minimization at fixed box, +-delta (design note B4).

    Returns
    -------
    dict
        ``C`` (nv, nv) relaxed Lagrangian tensor, ``A`` the measured Cauchy-stress derivatives,
        ``stress`` (d, d), ``voigt``; energy/distance^d.
    """
    s = _Session(lmp)
    d = s.dim
    strains = _strains(d)
    nv = len(strains)
    A = np.zeros((nv, nv))
    vp = voigt_pairs(d)
    for K, (c, e) in enumerate(strains):
        tau = []
        for u in (delta, -delta):
            s.strain(c, e, u)
            s.minimize(ftol, maxiter)
            s.evaluate()
            tau.append(s.cauchy_stress())
            s.restore()
        dtau = (tau[0] - tau[1]) / (2 * delta)
        A[:, K] = [dtau[a, b] for a, b in vp]
    s.evaluate()
    return {"C": C_from_stress_derivatives(A, s.stress, strains), "A": A, "stress": s.stress,
            "voigt": voigt_labels(d)}


def dipole_displacement(lmp, i: int, j: int, eps: float = 1e-6, ftol: float = 1e-11,
                        maxiter: int = 100000) -> np.ndarray:
    """Displacement of the minimum under the force dipole ``eps d_ij`` (``fix addforce``).

    ``d_ij = (1/sqrt 2) dr_ij/dx``: ``-n/sqrt2`` on atom i, ``+n/sqrt2`` on atom j, n the unit
    vector from i to j (nearest image). Central difference over ``+-eps``, the mean (a rigid
    translation) removed.

    Parameters
    ----------
    i, j : int
        Atom IDs (1..N).

    Returns
    -------
    ndarray, shape=(d*N,)
        ``(u(+eps) - u(-eps)) / 2``, distance units; linear response predicts ``eps H^+ d``.
    """
    s = _Session(lmp)
    d = s.dim
    boxlo, boxhi, *_ = lmp.extract_box()
    L = (np.asarray(boxhi) - np.asarray(boxlo))[:d]
    r = s.x[j - 1, :d] - s.x[i - 1, :d]
    r -= L * np.round(r / L)
    n = r / np.linalg.norm(r)
    x0 = s.x[:, :d]
    disp = []
    for sign in (1.0, -1.0):
        f = sign * eps * n / np.sqrt(2.0)
        pad = np.zeros(3)
        lmp.command(f"group gm_el_i id {i}")
        lmp.command(f"group gm_el_j id {j}")
        pad[:d] = -f
        lmp.command(f"fix gm_el_fi gm_el_i addforce {_f(pad[0])} {_f(pad[1])} {_f(pad[2])}")
        pad[:d] = f
        lmp.command(f"fix gm_el_fj gm_el_j addforce {_f(pad[0])} {_f(pad[1])} {_f(pad[2])}")
        lmp.command("fix_modify gm_el_fi energy yes")
        lmp.command("fix_modify gm_el_fj energy yes")
        s.minimize(ftol, maxiter)
        u = s.gather_positions() - x0
        u -= L * np.round(u / L)
        u -= u.mean(axis=0)
        disp.append(u.ravel())
        lmp.command("unfix gm_el_fi")
        lmp.command("unfix gm_el_fj")
        lmp.command("group gm_el_i delete")
        lmp.command("group gm_el_j delete")
        s.restore()
    s.evaluate()
    return 0.5 * (disp[0] - disp[1])
