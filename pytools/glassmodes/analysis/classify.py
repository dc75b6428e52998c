"""Quasi-localized mode (QLM) classification by participation ratio and frequency.

Presets (thresholds checked against the papers' text; full citations in docs/references.md):

``xiang`` (Xiang, Patinet, Volz, Zhou, arXiv:2206.05402, 2022)
    "we select a limit for the participation ratio (PR = 0.2) as a criterion to distinguish
    the delocalized vibrational modes from localized ones or QVMs (i.e., PR < 0.2)", an ad hoc
    value. Four categories:

    * quasi-localized (QVM): PR < 0.2 below "the upper-frequency limit for the region fully
      dominated by QVMs" (0.166-0.173 t0^-1 there). glassmodes takes that limit, ``omega_qvm``,
      as the frequency of the lowest mode with PR >= 0.2 (the first delocalized mode) of the
      sample, unless given;
    * delocalized: PR >= 0.2;
    * hybridized: PR < 0.2 above ``omega_qvm``, among the delocalized band ("QVMs with larger
      frequencies may hybridize with similar frequency delocalized modes");
    * localized: the high-frequency PR < 0.2 modes above the delocalized band. glassmodes takes
      the band's top, ``omega_loc``, as the highest frequency with PR >= 0.2, which needs the
      full spectrum; with a partial spectrum (``complete_spectrum=False``) and no ``omega_loc``
      given, no mode is called localized.

``khomenko`` (Khomenko, Reichman, Zamponi, arXiv:2012.07998, 2020)
    "We consider low-frequency modes with PR < 0.1 to be QLMs" (N = 1500, 3D).

``kumar`` (Kumar, Procaccia, Singh, arXiv:2102.12368, 2021)
    "Focusing on modes whose participation ratio is smaller than 0.27 we found 403 QLM's"
    (N = 4000, 2D).

QLM rule, the same for every preset and every output (``analyze``, the demo, the plots, ``lifetimes
--qlm``): a QLM is soft *and* localized, ``PR < pr_threshold`` *and* ``0 < omega < omega_bound``.
The bound is ``omega_max`` when given (e.g. the first transverse phonon band
``2 pi c_T / L``, :func:`glassmodes.analysis.vdos.phonon_band_frequency`), else the sample's
``omega_qvm`` (its lowest mode with ``PR >= pr_threshold``, Xiang et al.'s upper limit of the QVM
region; infinite if no computed mode is that extended). The other ``PR < pr_threshold`` modes are
not QLMs: *hybridized* (inside the band of extended modes) or *high-frequency localized* (above it,
the localized modes at the top of the spectrum that Xiang et al. call "localized"). With this rule
the QLMs are exactly the ``quasi-localized`` category of :func:`classify_four`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUASI_LOCALIZED, DELOCALIZED, HYBRIDIZED, LOCALIZED = 0, 1, 2, 3
CATEGORY_NAMES = ("quasi-localized", "delocalized", "hybridized", "high-frequency localized")
#: Legend / table labels of the categories (the QLMs named as such).
CATEGORY_LABELS = ("quasi-localized (QLM)", "delocalized", "hybridized", "high-frequency localized")


@dataclass(frozen=True)
class QLMCriterion:
    """A PR threshold (QLM: PR < pr_threshold) and the scheme of a paper."""

    name: str
    pr_threshold: float
    four_categories: bool
    reference: str


PRESETS = {
    "xiang": QLMCriterion("xiang", 0.2, True,
                          "Xiang, Patinet, Volz, Zhou, Quasilocalized vibrational modes as efficient heat "
                          "carriers in glasses, arXiv:2206.05402 (2022): PR < 0.2, four categories"),
    "khomenko": QLMCriterion("khomenko", 0.1, False,
                             "Khomenko, Reichman, Zamponi, Relationship between two-level systems and "
                             "quasi-localized normal modes in glasses, arXiv:2012.07998 (2020): low-frequency modes "
                             "with PR < 0.1"),
    "kumar": QLMCriterion("kumar", 0.27, False,
                          "Kumar, Procaccia, Singh, Density of quasi-localized modes in glasses: "
                          "where are the two-level systems?, arXiv:2102.12368 (2021): PR < 0.27"),
}


def criterion(preset: str | None = "xiang", pr_threshold: float | None = None) -> QLMCriterion:
    """A preset, optionally with its threshold replaced; ``preset=None`` needs ``pr_threshold``."""
    if preset is None:
        if pr_threshold is None:
            raise ValueError("give a preset or a pr_threshold")
        return QLMCriterion("custom", float(pr_threshold), False, "user threshold")
    try:
        c = PRESETS[preset]
    except KeyError:
        raise ValueError(f"unknown QLM preset {preset!r}; known: {sorted(PRESETS)}") from None
    if pr_threshold is not None and float(pr_threshold) != c.pr_threshold:
        c = QLMCriterion(c.name, float(pr_threshold), c.four_categories, c.reference + " (threshold changed)")
    return c


def omega_qvm_of(omega: np.ndarray, pr: np.ndarray, pr_threshold: float) -> float:
    """``omega_qvm``: the frequency of the lowest non-zero mode with ``PR >= pr_threshold`` (inf if none)."""
    omega = np.asarray(omega, dtype=float)
    deloc = (np.asarray(pr, dtype=float) >= pr_threshold) & (omega > 0)
    return float(omega[deloc].min()) if deloc.any() else float("inf")


def qlm_bound(omega: np.ndarray, pr: np.ndarray, pr_threshold: float,
              omega_max: float | None = None) -> tuple[float, str]:
    """The frequency bound of the QLM rule (module docs) and a text that names it.

    Returns ``(omega_bound, text)``: ``omega_max`` if given, else ``omega_qvm`` of these modes;
    ``text`` such as ``"omega < omega_QVM = 1.234 (lowest mode with PR >= 0.2)"``.
    """
    if omega_max is not None:
        return float(omega_max), f"omega <= {float(omega_max):.4g} (given)"
    w = omega_qvm_of(omega, pr, pr_threshold)
    return w, f"omega < omega_QVM = {w:.4g} (lowest mode with PR >= {pr_threshold:g})"


def qlm_rule_text(pr_threshold: float, omega_max: float | None = None) -> str:
    """The QLM rule in words, for captions and summaries."""
    bound = (f"omega <= {omega_max:.4g}" if omega_max is not None
             else f"omega < omega_QVM (the lowest mode with PR >= {pr_threshold:g}, per sample)")
    return f"PR < {pr_threshold:g} and {bound}"


def qlm_mask(omega: np.ndarray, pr: np.ndarray, pr_threshold: float, omega_max: float | None = None) -> np.ndarray:
    """Boolean mask of the QLMs (module docs): ``PR < pr_threshold`` and ``0 < omega`` below the bound.

    Parameters
    ----------
    omega, pr : ndarray, shape=(k,)
        Angular frequencies and participation ratios of one sample's modes.
    pr_threshold : float
    omega_max : float, optional
        QLMs at ``omega <= omega_max``; default: ``omega < omega_qvm`` of these modes
        (:func:`omega_qvm_of`), so high-frequency localized and hybridized modes are never QLMs.

    >>> qlm_mask([0.1, 0.5, 2.0, 9.0], [0.05, 0.6, 0.1, 0.02], 0.2).tolist()
    [True, False, False, False]
    """
    omega = np.asarray(omega, dtype=float)
    pr = np.asarray(pr, dtype=float)
    m = (pr < pr_threshold) & (omega > 0)
    if omega_max is not None:
        return m & (omega <= omega_max)
    return m & (omega < omega_qvm_of(omega, pr, pr_threshold))


@dataclass(frozen=True, eq=False)
class Classification:
    """Per-mode categories (codes ``QUASI_LOCALIZED``.. ``LOCALIZED``) and the limits used.

    ``omega_qvm`` and ``omega_loc`` are in the units of the omega given.
    """

    labels: np.ndarray  # shape (k,), int8
    pr_threshold: float
    omega_qvm: float
    omega_loc: float

    def counts(self) -> dict:
        return {name: int(np.sum(self.labels == c)) for c, name in enumerate(CATEGORY_NAMES)}


def classify_four(omega: np.ndarray, pr: np.ndarray, pr_threshold: float = 0.2,
                  omega_qvm: float | None = None, omega_loc: float | None = None,
                  complete_spectrum: bool = False) -> Classification:
    """The four categories of Xiang et al. (2022) for the modes of one sample (see module docs).

    Parameters
    ----------
    omega : ndarray, shape=(k,)
        Angular frequencies of the sample's modes.
    pr : ndarray, shape=(k,)
        Their participation ratios.
    omega_qvm, omega_loc : float, optional
        Limits; default from the data (first and last mode with PR >= pr_threshold). Modes with
        ``PR < pr_threshold`` at ``omega < omega_qvm`` are quasi-localized (QLMs), between the
        limits hybridized, above ``omega_loc`` high-frequency localized.
    complete_spectrum : bool
        Whether ``omega`` holds every mode (needed to place ``omega_loc`` from the data).
    """
    omega = np.asarray(omega, dtype=float)
    pr = np.asarray(pr, dtype=float)
    deloc = pr >= pr_threshold
    if omega_qvm is None:
        omega_qvm = omega_qvm_of(omega, pr, pr_threshold)
    if omega_loc is None:
        omega_loc = float(omega[deloc].max()) if (deloc.any() and complete_spectrum) else float("inf")
    labels = np.full(omega.shape, HYBRIDIZED, dtype=np.int8)
    labels[deloc] = DELOCALIZED
    labels[~deloc & (omega > omega_loc)] = LOCALIZED
    # last, so a given omega_qvm wins (qlm_mask's rule); a given bound is inclusive
    labels[~deloc & (omega <= omega_qvm)] = QUASI_LOCALIZED
    return Classification(labels=labels, pr_threshold=pr_threshold, omega_qvm=omega_qvm, omega_loc=omega_loc)
