"""Many seeds, several kinds: :func:`find_modes`.

For each seed (harmonic mode psi or a field) and each kind asked for, :func:`find_mode` is run;
the cubic search starts from the quartic mode of the same seed when quartic modes are computed
too (the thesis' chain psi -> pi4 -> pi3, Kapteijns thesis appendix 3.B), else from the seed.
Modes of one kind whose |overlap| exceeds ``dedupe`` are kept once (the first seed's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassmodes.nonlinear.costs import KINDS
from glassmodes.nonlinear.modes import NonlinearMode, deduplicate, find_mode
from glassmodes.nonlinear.solvers import ScipyCG


@dataclass
class SearchResult:
    """Modes found per kind (deduplicated) and what was dropped.

    Attributes
    ----------
    modes : dict kind -> list of NonlinearMode
    all_modes : dict kind -> list of NonlinearMode (one per seed, before deduplication)
    duplicates : dict kind -> list of int (index of the kept mode each seed's mode duplicates, -1)
    """

    modes: dict = field(default_factory=dict)
    all_modes: dict = field(default_factory=dict)
    duplicates: dict = field(default_factory=dict)

    @property
    def unconverged(self) -> list[NonlinearMode]:
        return [m for ms in self.modes.values() for m in ms if not m.converged]


def find_modes(op, seeds, kinds=KINDS, *, method: str = "lbfgs+map", tol: float = 1e-8,
               dedupe: float = 0.99, solver=None, progress=None, **kw) -> SearchResult:
    """Nonlinear modes of ``kinds`` from every seed.

    Parameters
    ----------
    op : NonlinearOperator
    seeds : list of (label, ndarray shape=(n,))
        Mass-weighted seed fields.
    kinds : iterable of "quartic", "cubic", "phm"
    dedupe : float
        |overlap| above which two modes of one kind are the same (0.99; the thesis' users take
        0.99-0.999).
    progress : callable(str), optional
        Called with one line per mode.
    kw : passed to :func:`find_mode` (max_iter, map_iter).
    """
    kinds = [k for k in KINDS if k in set(kinds)]
    if solver is None and method != "lbfgs":
        solver = ScipyCG(op)
    res = SearchResult()
    for kind in kinds:
        res.all_modes[kind] = []
    for label, vec in seeds:
        quartic = None
        for kind in kinds:
            start, slabel = vec, label
            if kind == "cubic" and quartic is not None:
                start, slabel = quartic.pi, f"{label}->quartic"
            m = find_mode(op, kind=kind, seed=start, method=method, tol=tol, solver=solver,
                          seed_label=slabel, **kw)
            if kind == "quartic":
                quartic = m
            res.all_modes[kind].append(m)
            if progress is not None:
                flag = "" if m.converged else "  NOT CONVERGED"
                flag += "  single-particle (N e < 2)" if m.single_particle else ""
                progress(f"{kind:8s} seed {slabel:16s} omega {m.omega:.6g}  N e {m.participation_number:.3g}  "
                         f"residual {m.residual:.1e}  its {m.iterations['lbfgs']}+{m.iterations['map']} "
                         f"({m.iterations['cg']} CG)  {m.seconds:.1f} s{flag}")
    for kind in kinds:
        kept, dup = deduplicate(res.all_modes[kind], dedupe)
        res.modes[kind] = kept
        res.duplicates[kind] = dup
    return res


def harmonic_overlaps(modes, psis: np.ndarray) -> np.ndarray:
    """max_k |pi . psi_k| for each mode, shape=(len(modes),); psis shape=(n, k)."""
    if psis is None or psis.size == 0:
        return np.full(len(modes), np.nan)
    return np.array([float(np.max(np.abs(m.pi @ psis))) for m in modes])
