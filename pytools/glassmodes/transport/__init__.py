"""Heat transport in glasses: quasi-harmonic Green-Kubo (QHGK) conductivity, its Allen-Feldman limit,
the generalized heat capacity and diffusivity.

* :mod:`glassmodes.transport.flux`: the heat-flux (velocity) matrices ``S^a = E^T (X^a o D) E`` of
  a periodic sample from its Hessian and modes, streamed by blocks of modes; the flux file.
* :mod:`glassmodes.transport.heat_capacity`: ``C(mu, nu)`` quantum (stable at any x) and classical,
  ``C(T)``, the omega^4 low-temperature law.
* :mod:`glassmodes.transport.qhgk`: kappa(T) (tensor, modal, cumulative), diffusivities, the
  diagonal/off-diagonal split, linewidths per temperature.
* :mod:`glassmodes.transport.report`: tables (CSV), plots and the HDF5 result file.

Formulas, units and conventions: ``docs/transport.md``.
"""

from glassmodes.transport.flux import (
    FluxError, FluxProducts, compute_flux, flux_matrices, minimum_image, read_flux, write_flux,
)
from glassmodes.transport.heat_capacity import (
    generalized_heat_capacity, mode_heat_capacity, omega4_heat_capacity, sample_heat_capacity,
)
from glassmodes.transport.qhgk import (
    PAPER_BAND, ConductivitySweep, Linewidths, TransportError, conductivity, load_linewidths, pair_maps,
    read_linewidths,
)

__all__ = [
    "FluxError", "FluxProducts", "compute_flux", "flux_matrices", "minimum_image", "read_flux", "write_flux",
    "generalized_heat_capacity", "mode_heat_capacity", "omega4_heat_capacity", "sample_heat_capacity",
    "PAPER_BAND", "ConductivitySweep", "Linewidths", "TransportError", "conductivity", "load_linewidths",
    "pair_maps", "read_linewidths",
]
