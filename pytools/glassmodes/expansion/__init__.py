"""Quartic expansion of the energy along modes: b2, b3, b4, beta, groups A/B and double wells.

Kumar, Procaccia and Singh (arXiv:2102.12368, 2021) expand the energy of a glass along each
quasi-localized harmonic mode to fourth order and split the modes into group A (single well, or a
higher second well) and group B (a lower second well behind a shallow barrier).

- :mod:`glassmodes.expansion.profile`: closed forms of the quartic profile (pure NumPy; usable by
  any code that has ``b2, b3, b4``).
- :mod:`glassmodes.expansion.coefficients`: ``b2, b3, b4`` along unit directions from
  :class:`glassmodes.fc3.ForceConstants` (order-4 pair tables), selection of QLMs.
- :mod:`glassmodes.expansion.lammps_check`: the profile against LAMMPS energies along the line,
  and relaxation from the predicted second well.
- :mod:`glassmodes.expansion.ensemble`: counts, P(beta), D_A and D_B over samples.

Formulas, conventions and validation: docs/expansion.md.
"""

from glassmodes.expansion.profile import (
    BETA2_GROUP_B, BETA2_STATIONARY, QuarticProfile, beta, quartic_energy, quartic_profile,
    stationary_points_numeric,
)

__all__ = ["BETA2_GROUP_B", "BETA2_STATIONARY", "QuarticProfile", "beta", "quartic_energy", "quartic_profile",
           "stationary_points_numeric"]
