"""Mode analysis: participation ratio, QLM classification, vDOS and its power-law tail, ensembles.

* :mod:`glassmodes.analysis.participation`: ``participation_ratio``, ``participation_number``;
* :mod:`glassmodes.analysis.classify`: QLM presets of papers 000 / 002 / 003, paper 000's four
  categories;
* :mod:`glassmodes.analysis.vdos`: vDOS, reduced vDOS, cumulative, maximum-likelihood power law,
  first phonon band;
* :mod:`glassmodes.analysis.ensemble`: :class:`ModeStatistics`, streaming over samples;
* :mod:`glassmodes.analysis.plots`: the figures.
"""

from glassmodes.analysis.classify import (
    CATEGORY_NAMES, PRESETS, Classification, QLMCriterion, classify_four, criterion, qlm_mask,
)
from glassmodes.analysis.ensemble import ModeStatistics
from glassmodes.analysis.participation import participation_number, participation_ratio
from glassmodes.analysis.vdos import (
    VDOS, PhononBandEstimate, PowerLawFit, cumulative, estimate_phonon_band, fit_power_law,
    fit_power_law_stats, phonon_band_frequency, shear_wave_speed, vdos,
)

__all__ = [
    "participation_ratio", "participation_number", "PRESETS", "QLMCriterion", "criterion", "qlm_mask",
    "classify_four", "Classification", "CATEGORY_NAMES", "VDOS", "vdos", "cumulative", "PowerLawFit",
    "fit_power_law", "fit_power_law_stats", "phonon_band_frequency", "shear_wave_speed",
    "estimate_phonon_band", "PhononBandEstimate", "ModeStatistics",
]
