"""Plot of the nonlinear modes' frequencies against their harmonic seeds'."""

from __future__ import annotations

import numpy as np

from glassmodes.nonlinear.costs import KINDS

MARKERS = {"quartic": ("o", "C0"), "cubic": ("s", "C3"), "phm": ("^", "C2")}


def plot_frequencies(result, seed_omega: dict, path, omega_unit: str = "") -> None:
    """Scatter omega (quartic, cubic, PHM) against omega of the harmonic seed mode, with y = x.

    Parameters
    ----------
    result : glassmodes.nonlinear.search.SearchResult
    seed_omega : dict label -> omega of the harmonic seed (labels ``psiJ``)
    path : PNG to write
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glassmodes.io.atomic import atomic_output

    fig, ax = plt.subplots(figsize=(5, 4))
    lo, hi = np.inf, -np.inf
    for kind in KINDS:
        ms = result.all_modes.get(kind, [])
        pts = [(seed_omega[m.seed_label.split("->")[0]], m.omega) for m in ms
               if m.seed_label.split("->")[0] in seed_omega]
        if not pts:
            continue
        x, y = np.array(pts).T
        mk, col = MARKERS[kind]
        ax.scatter(x, y, marker=mk, facecolors="none", edgecolors=col, label=kind)
        lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
    if np.isfinite(lo):
        ax.plot([lo, hi], [lo, hi], "k:", lw=1, label="harmonic")
    ax.set_xlabel(f"omega of the harmonic seed psi {omega_unit}")
    ax.set_ylabel(f"omega of the nonlinear mode {omega_unit}")
    ax.legend(frameon=False)
    fig.tight_layout()
    with atomic_output(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
