"""Relations between the elastic tensors and the moduli derived from them.

* ``C_abcd`` (Lagrangian, second derivatives of U/V in eta): what :mod:`glassmodes.elastic.relaxed`
  computes.
* ``A_abcd = d tau_ab / d u_cd``: the derivative of the Cauchy stress ``tau`` (LAMMPS's ``-p``)
  under the displacement gradient ``u`` (``x -> (I + u) x``), what a box deformation measures:
  ``A_abcd = C_abcd + delta_ac s_bd + delta_bc s_ad - delta_cd s_ab`` (``s`` the stress; from
  ``tau = J^-1 F S F^T`` with ``S = s + C eta``, to first order). For a symmetric ``u`` this is
  the stress-strain tensor ``B`` of Wallace (Thermodynamics of Crystals, 1972):
  ``B_abcd = C_abcd + (1/2)(d_ac s_bd + d_ad s_bc + d_bc s_ad + d_bd s_ac - 2 d_cd s_ab)``.
* The thesis shear modulus (Kapteijns, PhD thesis, Ch. 3/5; simple shear x += gamma y):
  ``G = (1/V) d^2U/dgamma^2 = C_xyxy + sigma_yy``.

All moduli in the units of the inputs (energy/distance^d).
"""

from __future__ import annotations

import numpy as np

from glassmodes.elastic.terms import tensor_to_voigt, voigt_pairs, voigt_to_tensor


def stress_terms_A(stress: np.ndarray) -> np.ndarray:
    """``delta_ac s_bd + delta_bc s_ad - delta_cd s_ab``, shape=(d, d, d, d)."""
    s = np.asarray(stress, dtype=float)
    e = np.eye(s.shape[0])
    return (np.einsum("ac,bd->abcd", e, s) + np.einsum("bc,ad->abcd", e, s) - np.einsum("cd,ab->abcd", e, s))


def stress_terms_B(stress: np.ndarray) -> np.ndarray:
    """Wallace's ``(1/2)(d_ac s_bd + d_ad s_bc + d_bc s_ad + d_bd s_ac - 2 d_cd s_ab)``, (d, d, d, d)."""
    s = np.asarray(stress, dtype=float)
    e = np.eye(s.shape[0])
    t = (np.einsum("ac,bd->abcd", e, s) + np.einsum("ad,bc->abcd", e, s) + np.einsum("bc,ad->abcd", e, s)
         + np.einsum("bd,ac->abcd", e, s))
    return 0.5 * t - np.einsum("cd,ab->abcd", e, s)


def stress_strain_B(C: np.ndarray, stress: np.ndarray) -> np.ndarray:
    """Wallace's stress-strain tensor B in Voigt form (nv, nv) from the Voigt C and the stress (d, d).

    For sigma = -P I: B11 = C11 - P, B12 = C12 + P, B44 = C44 - P.

    >>> C = np.array([[10., 4., 0.], [4., 10., 0.], [0., 0., 3.]])
    >>> stress_strain_B(C, -2.0 * np.eye(2)).round(12).tolist()
    [[8.0, 6.0, 0.0], [6.0, 8.0, 0.0], [0.0, 0.0, 1.0]]
    """
    d = np.asarray(stress).shape[0]
    return tensor_to_voigt(voigt_to_tensor(np.asarray(C, dtype=float), d) + stress_terms_B(stress))


def C_from_stress_derivatives(A: np.ndarray, stress: np.ndarray, strains: list) -> np.ndarray:
    """The Voigt C (nv, nv) from measured Cauchy-stress derivatives.

    Parameters
    ----------
    A : ndarray, shape=(nv, nv)
        ``A[I, K] = d tau_I / d u_K``: column K is the derivative of the Voigt Cauchy stress under
        the displacement gradient with the single component ``strains[K] = (c, e)`` (c <= e: a box
        scaling along c, or the tilt that adds ``u x_e`` to ``x_c``).
    stress : ndarray, shape=(d, d)
    strains : list of (int, int)
    """
    d = np.asarray(stress).shape[0]
    S = stress_terms_A(stress)
    out = np.empty_like(np.asarray(A, dtype=float))
    for I, (a, b) in enumerate(voigt_pairs(d)):
        for K, (c, e) in enumerate(strains):
            out[I, K] = A[I, K] - S[a, b, c, e]
    return out


def bulk_modulus(C: np.ndarray, stress: np.ndarray) -> float:
    """K = -V dP/dV = (1/d^2) sum_ab C_aabb + P (d - 2)/d (P = -tr(sigma)/d)."""
    s = np.asarray(stress, dtype=float)
    d = s.shape[0]
    P = -np.trace(s) / d
    return float(np.sum(np.asarray(C)[:d, :d]) / d ** 2 + P * (d - 2) / d)


def isotropic_shear(V: np.ndarray, dim: int) -> float:
    """Voigt average of the shear modulus of a Voigt matrix (C or B).

    3D: ``[(C11+C22+C33) - (C12+C13+C23) + 3(C44+C55+C66)]/15``; 2D: ``(C11 + C22 - 2C12 + 4C66)/8``.
    """
    c = np.asarray(V, dtype=float)
    if dim == 3:
        return float((np.trace(c[:3, :3]) - (c[0, 1] + c[0, 2] + c[1, 2]) + 3 * np.trace(c[3:, 3:])) / 15)
    return float((c[0, 0] + c[1, 1] - 2 * c[0, 1] + 4 * c[2, 2]) / 8)


def simple_shear_moduli(C: np.ndarray, stress: np.ndarray) -> dict:
    """``G_ab = C_abab + sigma_bb`` for the simple shears ``x_a += gamma x_b`` (a != b).

    ``G_xy`` is the thesis' G (Kapteijns, PhD thesis, Ch. 3; design note B2).
    """
    s = np.asarray(stress, dtype=float)
    d = s.shape[0]
    t = voigt_to_tensor(np.asarray(C, dtype=float), d)
    names = "xyz"
    return {f"{names[a]}{names[b]}": float(t[a, b, a, b] + s[b, b]) for a in range(d) for b in range(d) if a != b}


def moduli(C: np.ndarray, stress: np.ndarray) -> dict:
    """The moduli of a relaxed (or Born) Voigt tensor C with its stress.

    Returns
    -------
    dict
        ``G_thesis`` (C_xyxy + sigma_yy), ``G_simple_shear_mean`` (mean of G_ab over a != b),
        ``G_simple_shear`` (each), ``G_iso_C`` and ``G_iso_B`` (Voigt averages of C and of B),
        ``K`` (bulk modulus), ``P`` (pressure).
    """
    s = np.asarray(stress, dtype=float)
    d = s.shape[0]
    B = stress_strain_B(C, s)
    ss = simple_shear_moduli(C, s)
    return {
        "G_thesis": ss["xy"], "G_simple_shear_mean": float(np.mean(list(ss.values()))), "G_simple_shear": ss,
        "G_iso_C": isotropic_shear(C, d), "G_iso_B": isotropic_shear(B, d), "K": bulk_modulus(C, s),
        "P": float(-np.trace(s) / d),
    }
