"""Anharmonic physics of the modes: three-phonon lifetimes (perturbation theory) and their MD check.

* :mod:`glassmodes.anharmonic.lifetimes`: decay rates Gamma_k from the cubic vertex (Mizuno et al. 2020,
  Eqs. (10)-(14)), quantum and classical, split and combine channels, joint two-mode DOS; with
  ``partner_weights=True`` the rates at every other temperature follow from one run (``reweight``).
* :mod:`glassmodes.anharmonic.pair_fc3`: third-order force constants of pair potentials.
* :mod:`glassmodes.anharmonic.crystal`: the same rates for a Bravais crystal in q-space (any
  wavevector, the continuum limit), with optionally broadened partner lines.
* :mod:`glassmodes.anharmonic.projection`: the mode-projection file read by the plugin's
  ``compute mode/energy``, and the same projection in Python.
* :mod:`glassmodes.anharmonic.md`: lifetimes from the energy autocorrelation of MD runs.

Conventions and derivations: ``docs/lifetimes.md``.
"""

from glassmodes.anharmonic.lifetimes import (
    JointDOS, LifetimeError, Lifetimes, PartnerWeights, Smearing, check_same_structure, compute_lifetimes,
    cubic_tensor, decay_rates, joint_dos, reweight, thermal_constants,
)
from glassmodes.anharmonic.md import EnergyAutocorrelation, MDLifetimes, md_lifetimes, read_mode_energy_series
from glassmodes.anharmonic.projection import (
    ModeProjection, mode_energies, read_mode_projection, write_mode_projection,
)

__all__ = [
    "JointDOS", "LifetimeError", "Lifetimes", "Smearing", "check_same_structure", "compute_lifetimes",
    "cubic_tensor", "decay_rates", "joint_dos", "thermal_constants", "PartnerWeights", "reweight", "EnergyAutocorrelation", "MDLifetimes",
    "md_lifetimes", "read_mode_energy_series", "ModeProjection", "mode_energies", "read_mode_projection",
    "write_mode_projection",
]
