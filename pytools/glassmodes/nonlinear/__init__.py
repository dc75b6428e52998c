"""Nonlinear quasilocalized modes: quartic, cubic and pseudo-harmonic modes.

Quartic modes minimize kappa^2/chi, cubic modes kappa^3/tau^2 (Kapteijns (thesis),
ch. 3; Gartner and Lerner, SciPost Phys. 1, 016 (2016); Khomenko et al. (2020)
Eq. 6 for the cubic map), pseudo-harmonic modes (PHM) kappa^2 / sum_<ij> z_ij^4 (thesis ch. 4).
``find_mode(op, kind="cubic", seed=field)`` finds one (docs/nonlinear.md).
"""

from glassmodes.nonlinear.costs import KINDS, Evaluation, evaluate
from glassmodes.nonlinear.modes import (
    NonlinearMode, NonlinearModeError, deduplicate, find_mode,
)
from glassmodes.nonlinear.operators import ForceConstantOperator, NonlinearOperator, OscillatorOperator
from glassmodes.nonlinear.solvers import LinearSolveError, PetscCG, ScipyCG

__all__ = ["KINDS", "Evaluation", "evaluate", "NonlinearMode", "NonlinearModeError", "deduplicate",
           "find_mode", "ForceConstantOperator", "NonlinearOperator", "OscillatorOperator",
           "LinearSolveError", "PetscCG", "ScipyCG"]
