"""Inherent-structure rearrangements: from an MD trajectory to localized events and their modes.

Mizuno et al. (2020), Eqs. (5)-(7) and Figs. 5-9; Khomenko et al. (2020), Eqs. (7)-(8);
user guide docs/landscape.md.

``dump`` (:class:`DumpFile`)
    Random access to the frames of a LAMMPS text dump; checks that frames belong together.
``quench`` (:class:`Quencher`, :class:`QuenchSettings`)
    One frame -> its inherent structure in a private serial LAMMPS instance (FIRE, CG, FIRE).
``driver`` (:func:`quench_trajectory`)
    Every frame of a dump, split over MPI ranks, restartable: the IS trajectory file.
``isfile`` (:func:`read_is_trajectory`, :class:`ISTrajectory`)
    The IS trajectory file (HDF5): r_IS(t), Phi_IS(t), quench record, noise floor.
``events`` (:class:`EventAnalysis`, :class:`Event`, kernels ``n_rearr``, ``fit_far_field``, ...)
    |Delta r_IS|, |Delta Phi_IS|, N_rearr, far-field exponent, basin exploration.
``overlaps`` (:func:`event_overlaps`, ``overlap_c``, ``overlap_a``, :func:`compute_is_modes`)
    The link to the normal modes of the IS an event starts from.
``neb``, ``schrodinger``, ``tls`` (docs/double_wells.md)
    Minimum-energy paths, tunnel splittings, double wells between pairs of minima, path splitting.
``md`` (:func:`~glassmodes.landscape.md.md_minima`)
    MD at a temperature with periodic minimization for the seed-002 model (``is-trajectory --md``):
    distinct minima and the hop graph that feeds ``glassmodes double-wells --transitions``.
``model`` (:class:`~glassmodes.landscape.model.FunctionLandscape`)
    Analytic potentials with known stationary points, the independent check of NEB and splitting.
``export``, ``plots``, ``report``
    OVITO files, figures, and the ``glassmodes events`` report.

>>> import numpy as np
>>> from glassmodes.landscape import n_rearr
>>> dr = np.zeros((100, 3)); dr[:10, 0] = 0.1      # ten particles moving alike
>>> round(n_rearr(dr), 6)
10.0
"""

from __future__ import annotations

from glassmodes.landscape.driver import quench_trajectory
from glassmodes.landscape.dump import DumpError, DumpFile, DumpFrame
from glassmodes.landscape.events import (Event, EventAnalysis, FarFieldFit, decay_profile, displacement_field,
                                         fit_far_field, minimum_image, n_rearr)
from glassmodes.landscape.isfile import ISFileError, ISTrajectory, read_is_trajectory
from glassmodes.landscape.overlaps import (ModeOverlaps, compute_is_modes, event_overlaps, match_mode_file,
                                           overlap_a, overlap_c)
from glassmodes.landscape.quench import (CONVERGED, FAILED, NOT_CONVERGED, PENDING, Quencher, QuenchResult,
                                         QuenchSettings, QuenchSetupError, read_forcefield)

__all__ = ["quench_trajectory", "DumpError", "DumpFile", "DumpFrame", "Event", "EventAnalysis", "FarFieldFit",
           "decay_profile", "displacement_field", "fit_far_field", "minimum_image", "n_rearr", "ISFileError",
           "ISTrajectory", "read_is_trajectory", "ModeOverlaps", "compute_is_modes", "event_overlaps",
           "match_mode_file", "overlap_a", "overlap_c", "CONVERGED", "FAILED", "NOT_CONVERGED", "PENDING",
           "Quencher", "QuenchResult", "QuenchSettings", "QuenchSetupError", "read_forcefield"]
