"""Mode analysis: participation ratio, QLM classification, vDOS and its power-law tail, ensembles.

* :mod:`glassmodes.analysis.participation`: ``participation_ratio``, ``participation_number``;
* :mod:`glassmodes.analysis.classify`: QLM presets (Xiang et al.; Khomenko et al.; Kumar et al.), the QLM
  rule (soft and localized) and the four categories of Xiang et al.;
* :mod:`glassmodes.analysis.vdos`: vDOS, reduced vDOS, cumulative, maximum-likelihood power law,
  first phonon band;
* :mod:`glassmodes.analysis.ensemble`: :class:`ModeStatistics`, streaming over samples;
* :mod:`glassmodes.analysis.plots`: the figures.
"""

from glassmodes.analysis.classify import (
    CATEGORY_LABELS, CATEGORY_NAMES, PRESETS, Classification, QLMCriterion, classify_four, criterion, omega_qvm_of,
    qlm_bound, qlm_mask, qlm_rule_text,
)
from glassmodes.analysis.ensemble import ModeStatistics
from glassmodes.analysis.participation import participation_number, participation_ratio
from glassmodes.analysis.vdos import (
    VDOS, PhononBandEstimate, PowerLawFit, cumulative, debye_level, estimate_phonon_band, fit_power_law,
    fit_power_law_stats, phonon_band_frequency, shear_wave_speed, vdos,
)

__all__ = [
    "participation_ratio", "participation_number", "PRESETS", "QLMCriterion", "criterion", "qlm_mask",
    "qlm_bound", "qlm_rule_text", "omega_qvm_of", "CATEGORY_LABELS", "debye_level",
    "classify_four", "Classification", "CATEGORY_NAMES", "VDOS", "vdos", "cumulative", "PowerLawFit",
    "fit_power_law", "fit_power_law_stats", "phonon_band_frequency", "shear_wave_speed",
    "estimate_phonon_band", "PhononBandEstimate", "ModeStatistics",
]
