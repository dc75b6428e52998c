"""An analytic potential energy surface with the interface of :class:`~glassmodes.landscape.neb.Landscape`.

:class:`FunctionLandscape` lets the NEB (:func:`~glassmodes.landscape.neb.neb_python`), the path
splitting and the double-well analysis (:func:`~glassmodes.landscape.tls.analyze_pair`) run on a
potential given as a Python function, whose minima and saddles are known in closed form: the
independent check of those algorithms that a LAMMPS glass cannot give. Everything is dense and meant
for a few particles (the tests use one particle in a large box, i.e. a 3D potential).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from glassmodes.landscape.neb import Configuration, Landscape, unwrap_to


class FunctionLandscape:
    """Energy and forces from ``energy_forces(x) -> (E, F)``, x and F shape=(N, 3).

    Parameters
    ----------
    energy_forces : callable
        Total energy and forces (minus the gradient) at positions shape=(N, 3).
    natoms : int
    masses : ndarray, shape=(N,), optional
        Default 1.
    box : float
        Edge of the cubic periodic box centred on 0 (large: the potential itself is not periodic;
        only minimum-image differences are taken).
    """

    forcefield = "python function"

    def __init__(self, energy_forces: Callable, natoms: int = 1, masses=None, box: float = 1e3):
        n = int(natoms)
        self._ef = energy_forces
        m = np.ones(n) if masses is None else np.asarray(masses, dtype=float)
        self.cfg = Configuration(ids=np.arange(1, n + 1), types=np.ones(n, dtype=np.int64), diameters=np.ones(n),
                                 masses=m, x=np.zeros((n, 3)), boxlo=np.full(3, -box / 2),
                                 boxhi=np.full(3, box / 2), source="function")
        self.evaluations = 0

    def close(self) -> None:
        pass

    def energy_forces(self, x: np.ndarray, rebuild: bool = False) -> tuple[float, np.ndarray]:
        """Total energy and forces, shape=(N, 3), at ``x``."""
        self.evaluations += 1
        e, f = self._ef(np.asarray(x, dtype=float).reshape(-1, 3))
        return float(e), np.asarray(f, dtype=float).reshape(-1, 3)

    def hessian(self, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
        """Mass-weighted Hessian, shape=(3N, 3N), by central differences of the forces (error O(h^2))."""
        x = np.asarray(x, dtype=float).reshape(-1, 3)
        n3 = x.size
        H = np.empty((n3, n3))
        for k in range(n3):
            d = np.zeros(n3)
            d[k] = h
            _, fp = self.energy_forces(x + d.reshape(-1, 3))
            _, fm = self.energy_forces(x - d.reshape(-1, 3))
            H[:, k] = -(fp - fm).ravel() / (2 * h)
        H = 0.5 * (H + H.T)
        sm = np.repeat(1.0 / np.sqrt(self.cfg.masses), 3)
        return H * sm[:, None] * sm[None, :]

    def minimize(self, x: np.ndarray, ftol: float = 1e-10, maxiter: int = 200000,
                 stages=None) -> tuple[np.ndarray, float, float]:
        """Local minimum from ``x``: BFGS (scipy) then Newton steps on the difference Hessian until
        max |F_i| <= ``ftol``. Returns (positions, energy, largest |F_i|) like :meth:`Landscape.minimize`."""
        from scipy.optimize import minimize

        x0 = np.asarray(x, dtype=float).reshape(-1, 3)

        def fun(v):
            e, f = self.energy_forces(v.reshape(-1, 3))
            return e, -f.ravel()

        r = minimize(fun, x0.ravel(), jac=True, method="BFGS", options={"gtol": ftol, "maxiter": maxiter})
        xm = r.x.reshape(-1, 3)
        for _ in range(20):
            e, f = self.energy_forces(xm)
            fmax = float(np.sqrt(np.max(np.einsum("ij,ij->i", f, f))))
            if fmax <= ftol:
                break
            sm = np.repeat(np.sqrt(self.cfg.masses), 3)
            Hq = self.hessian(xm)
            step = np.linalg.solve(Hq * sm[:, None] * sm[None, :], f.ravel())
            xm = xm + step.reshape(-1, 3)
        e, f = self.energy_forces(xm)
        xm = unwrap_to(x0, xm, self.cfg.lengths)
        return xm, e, float(np.sqrt(np.max(np.einsum("ij,ij->i", f, f))))

    def lowest_hessian_eigenvalues(self, x: np.ndarray, k: int = 6) -> np.ndarray:
        """Lowest ``min(k, 3N)`` eigenvalues of the mass-weighted difference Hessian at ``x``."""
        return np.linalg.eigvalsh(self.hessian(x))[:k]

    curvature = Landscape.curvature


def valley_potential(v1: np.poly1d, bend: float = 0.5, k: float = 20.0, kz: float = 1.0):
    """One particle on ``V1(x) + k (y - bend x^2)^2 / 2 + kz z^2 / 2`` (V1 a polynomial, ``numpy.poly1d``).

    The stationary points lie on the curved valley floor y = bend x^2 where V1'(x) = 0, so their
    positions and energies are known exactly (:func:`valley_stationary_points`), while the minimum-energy
    path between them is curved (the straight line between two minima is not the path). Returns
    ``energy_forces`` for :class:`FunctionLandscape`.
    """
    dv1 = v1.deriv()

    def ef(r):
        x, y, z = r[0]
        u = y - bend * x * x
        e = v1(x) + 0.5 * k * u * u + 0.5 * kz * z * z
        g = np.array([dv1(x) - 2 * k * u * bend * x, k * u, kz * z])
        return e, -g[None, :]
    return ef


def triple_well(tilt: float = 0.05) -> np.poly1d:
    """``V1(x) = x^2 (x^2 - 1)^2 + tilt x``: minima near x = -1, 0, 1, saddles near -0.56, 0.6."""
    return np.poly1d([1, 0, -2, 0, 1, 0, 0]) + np.poly1d([tilt, 0])


def quadruple_well(tilt: float = 0.02) -> np.poly1d:
    """``V1' = x (x^2 - 1/4)(x^2 - 1)(x^2 - 9/4) + tilt``: minima near -1.5, -0.5, 0.5, 1.5 (barriers 0.30,
    0.11, 0.30 without tilt)."""
    return np.poly1d([1, 0, -3.5, 0, 3.0625, 0, -0.5625, 0]).integ() + np.poly1d([tilt, 0])


def valley_stationary_points(v1: np.poly1d) -> tuple[np.ndarray, np.ndarray]:
    """Real roots x of V1'(x) (ascending) and V1 there; for the wells above minima and saddles alternate,
    starting with a minimum."""
    r = v1.deriv().roots
    r = np.sort(r[np.abs(r.imag) < 1e-9].real)
    return r, v1(r)


__all__ = ["FunctionLandscape", "valley_potential", "triple_well", "quadruple_well", "valley_stationary_points"]
