"""Elastic moduli with the non-affine term, dipole responses and wave attenuation of glasses.

Modules: :mod:`~glassmodes.elastic.terms` (sigma, Born C^B, mixed Xi from a Hessian's pair blocks),
:mod:`~glassmodes.elastic.lammps_fd` (the same, and relaxed moduli, by finite differences in LAMMPS),
:mod:`~glassmodes.elastic.tensors` (C, B, G, K relations), :mod:`~glassmodes.elastic.relaxed`
(H^+ by modes, block-Jacobi CG or PETSc CG + GAMG; the relaxed tensor), :mod:`~glassmodes.elastic.dipoles`
(force-dipole responses and stiffnesses), :mod:`~glassmodes.elastic.ensemble` (gamma(N), left tail),
:mod:`~glassmodes.elastic.attenuation` (transverse spectral lines, Gamma(omega)),
:mod:`~glassmodes.elastic.continuum` (the periodic continuum reference for dipole far fields). Conventions and
validation: docs/elasticity.md.
"""

from glassmodes.elastic.continuum import dipole_forces, isotropic_lame, kelvin_displacement, periodic_displacement
from glassmodes.elastic.relaxed import CGSolver, ModeSolver, PetscCGSolver, RelaxedElastic, SolveInfo, relaxed_elastic
from glassmodes.elastic.tensors import moduli, stress_strain_B
from glassmodes.elastic.terms import ElasticError, ElasticTerms, terms_from_hessian, voigt_labels

__all__ = ["CGSolver", "ModeSolver", "PetscCGSolver", "RelaxedElastic", "SolveInfo", "relaxed_elastic", "moduli", "stress_strain_B",
           "ElasticError", "ElasticTerms", "terms_from_hessian", "voigt_labels",
           "dipole_forces", "isotropic_lame", "kelvin_displacement", "periodic_displacement"]
