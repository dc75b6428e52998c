"""Expansion tables over samples: files, group counts, P(beta), D_A(omega), D_B(omega), plots.

Table: one row per expanded mode, columns of :func:`glassmodes.expansion.coefficients.expand_modes`
plus ``sample`` (index) and, when checked against LAMMPS, ``lammps_*`` columns. Written as CSV
(``#`` header lines carry the format, units and conventions, then one ``# meta: {json}`` line) or
HDF5 (``.h5``: one dataset per column, the same metadata as attributes), under a temporary name
renamed at the end.

Statistics (:func:`summarize`):

- counts of groups A and B with the binomial standard error of the B fraction,
  ``sqrt(p (1 - p) / n)``, and its exact 95 % (Clopper-Pearson) interval, which stays informative
  when no B mode is found;
- group-A modes with a higher second well (``8/9 < beta^2 <= 1``; Kumar et al. found none);
- range of the group-B barriers (paper: 3.4e-9 to 4.0e-4);
- median frequencies of A and B (paper: omega_B about two orders of magnitude below omega_A);
- power laws ``D(omega) ~ omega^gamma`` of each group by maximum likelihood
  (:func:`glassmodes.analysis.vdos.fit_power_law`) on ``(0, omega_hi]``, with a bootstrap over
  samples (modes of one sample are resampled together) for the error;
- the number of modes per group a fit would need to tell ``omega^4`` from ``omega^3`` at two
  standard errors: the maximum-likelihood exponent ``g = gamma + 1`` of ``n`` modes on ``(0, w]``
  has standard error ``g / sqrt(n)``, so ``n >= (2 g / 1)^2`` (100 for ``g = 5``, 64 for ``g = 4``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from glassmodes.io.atomic import atomic_output

FORMAT_NAME = "glassmodes-expansion"
FORMAT_VERSION = 1
CONVENTIONS = {
    "expansion": "U(s) = b2 s^2/2 + b3 s^3/6 + b4 s^4/24 (b_n: n-th directional derivatives, no factorials)",
    "direction": "unit mass-weighted vector z; atom i moves by s z_i / sqrt(m_i)",
    "sign": "z flipped so that b3 >= 0 (flipped = True where the stored eigenvector had b3 < 0)",
    "beta": "b3 / sqrt(3 b2 b4); group A: beta^2 <= 1, B: beta^2 > 1, '-': b4 <= 0 (unbounded)",
    "energies": "barrier = U(s_max), asymmetry = U(s_min2) (< 0: lower second well), second_depth = "
                "barrier - asymmetry, barrier_cubic = (2/3) b2^3 / b3^2; measured from U(0) = 0",
    "reference": "A. Kumar, I. Procaccia, M. Singh, arXiv:2102.12368 (2021), Eq. 4, 8, 12",
}
UNITS = {
    "omega": "omega unit of the mode file", "pr": "1", "b2": "energy/(mass distance^2)",
    "b3": "energy/(mass^1.5 distance^3)", "b4": "energy/(mass^2 distance^4)", "beta": "1",
    "s_max": "mass^0.5 distance", "s_min2": "mass^0.5 distance", "barrier": "energy", "asymmetry": "energy",
    "second_depth": "energy", "barrier_cubic": "energy", "b2_rel_diff": "1",
}


class ExpansionTableError(ValueError):
    """Not an expansion table, an unknown version, or inconsistent columns."""


def concatenate(tables: list[dict]) -> dict:
    """Join per-sample column dicts (each with a ``sample`` column) into one."""
    tables = [t for t in tables if t]
    if not tables:
        return {}
    keys = list(tables[0])
    for t in tables[1:]:
        if list(t) != keys:
            raise ExpansionTableError("tables with different columns cannot be joined")
    return {k: np.concatenate([np.asarray(t[k]) for t in tables]) for k in keys}


def write_table(path: str | os.PathLike, columns: dict, meta: dict | None = None) -> Path:
    """Write the table as CSV or HDF5 (by the ``.h5``/``.hdf5`` suffix), atomically (module docs)."""
    path = Path(path)
    meta = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "conventions": CONVENTIONS,
            "units": UNITS, **(meta or {})}
    from glassmodes import __version__

    meta["glassmodes_version"] = __version__
    n = {len(np.asarray(v)) for v in columns.values()}
    if len(n) > 1:
        raise ExpansionTableError(f"columns of different lengths {sorted(n)}")
    if path.suffix in (".h5", ".hdf5"):
        import h5py

        with atomic_output(path, ".h5") as tmp:
            with h5py.File(tmp, "w") as f:
                f.attrs["format"] = FORMAT_NAME
                f.attrs["format_version"] = FORMAT_VERSION
                f.attrs["meta"] = json.dumps(meta, default=_json_default)
                for k, v in columns.items():
                    v = np.asarray(v)
                    if v.dtype.kind == "U":
                        v = v.astype("S")
                    ds = f.create_dataset(k, data=v)
                    if k in UNITS:
                        ds.attrs["units"] = UNITS[k]
        return path
    with atomic_output(path, ".csv") as tmp:
        with open(tmp, "w") as fh:
            fh.write(f"# {FORMAT_NAME} version {FORMAT_VERSION}\n")
            for k, v in CONVENTIONS.items():
                fh.write(f"# {k}: {v}\n")
            fh.write("# units: " + "; ".join(f"{k} [{u}]" for k, u in UNITS.items()) + "\n")
            fh.write("# meta: " + json.dumps(meta, default=_json_default) + "\n")
            keys = list(columns)
            fh.write(",".join(keys) + "\n")
            cols = [np.asarray(columns[k]) for k in keys]
            for r in range(len(cols[0]) if cols else 0):
                fh.write(",".join(_fmt(c[r]) for c in cols) + "\n")
    return path


def read_table(path: str | os.PathLike) -> tuple[dict, dict]:
    """Read a table written by :func:`write_table`: ``(columns, meta)``; checks format and version."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such expansion table")
    if path.suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
            fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
            if fmt != FORMAT_NAME:
                raise ExpansionTableError(f"{path}: format {fmt!r}, expected {FORMAT_NAME!r}")
            _check_version(path, int(f.attrs.get("format_version", -1)))
            meta = json.loads(f.attrs["meta"])
            cols = {}
            for k in f:
                v = f[k][()]
                cols[k] = v.astype("U") if v.dtype.kind == "S" else v
        return cols, meta
    with open(path) as fh:
        first = fh.readline().split()
        if first[:2] != ["#", FORMAT_NAME]:
            raise ExpansionTableError(f"{path}: not a {FORMAT_NAME} table")
        _check_version(path, int(first[3]))
        meta, header = {}, None
        rows = []
        for line in fh:
            if line.startswith("# meta: "):
                meta = json.loads(line[len("# meta: "):])
            elif line.startswith("#"):
                continue
            elif header is None:
                header = line.strip().split(",")
            elif line.strip():
                rows.append(line.strip().split(","))
    cols = {}
    for c, k in enumerate(header or []):
        vals = [r[c] for r in rows]
        cols[k] = _parse(vals)
    return cols, meta


def _check_version(path, ver):
    if ver < 1 or ver > FORMAT_VERSION:
        raise ExpansionTableError(f"{path}: format version {ver}, this reader knows 1..{FORMAT_VERSION}")


def _parse(vals):
    if all(v in ("True", "False") for v in vals) and vals:
        return np.array([v == "True" for v in vals])
    try:
        ints = np.array([int(v) for v in vals], dtype=np.int64)
        return ints
    except ValueError:
        pass
    try:
        return np.array([float(v) for v in vals])
    except ValueError:
        return np.array(vals)


def _fmt(x):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return str(x)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


# ---- statistics ---------------------------------------------------------------------------------

def poisson_interval(counts, confidence: float = 0.6827):
    """Central (Garwood) confidence interval of Poisson means for observed ``counts``.

    Returns ``(lower, upper)`` arrays; ``lower = 0`` for a count of 0. With 1 count the interval is
    [0.17, 3.3] at 68 %, so error bars on log axes never reach zero, unlike ``count +- sqrt(count)``.
    """
    from scipy.stats import chi2

    n = np.asarray(counts, dtype=float)
    a = 1.0 - confidence
    lower = np.where(n > 0, chi2.ppf(a / 2, 2 * n) / 2, 0.0)
    upper = chi2.ppf(1 - a / 2, 2 * n + 2) / 2
    return lower, upper


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial fraction ``k / n``; for ``k = 0`` the upper end
    is ``1 - (alpha/2)^(1/n)`` (the binomial standard error is 0 there and says nothing)."""
    from scipy import stats

    if n <= 0:
        return (float("nan"), float("nan"))
    alpha = 1.0 - confidence
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def modes_needed(gamma: float, separation: float = 1.0, sigmas: float = 2.0) -> int:
    """Modes needed so that ``sigmas`` standard errors of the ML exponent equal ``separation``."""
    g = gamma + 1.0
    return int(np.ceil((sigmas * g / separation) ** 2))


def power_law(omega, sample, omega_hi: float, n_boot: int = 200, seed: int = 0) -> dict:
    """ML power law ``D ~ omega^gamma`` on ``(0, omega_hi]`` with a bootstrap over samples."""
    from glassmodes.analysis.vdos import fit_power_law

    w = np.asarray(omega, dtype=float)
    smp = np.asarray(sample)
    sel = (w > 0) & (w <= omega_hi)
    out = {"n": int(sel.sum()), "omega_lo": 0.0, "omega_hi": float(omega_hi)}
    if sel.sum() < 2:
        out.update(gamma=float("nan"), ci=[float("nan")] * 2, boot_std=float("nan"),
                   note="fewer than 2 modes: no fit")
        return out
    fit = fit_power_law(w[sel], omega_hi)
    out.update(gamma=fit.beta, ci=list(fit.beta_ci))
    ids = np.unique(smp)
    rng = np.random.default_rng(seed)
    by = {s: w[sel & (smp == s)] for s in ids}
    boots = []
    for _ in range(n_boot):
        pick = np.concatenate([by[s] for s in rng.choice(ids, ids.size)])
        if pick.size >= 2 and np.ptp(pick) > 0:
            boots.append(fit_power_law(pick, omega_hi).beta)
    out["boot_std"] = float(np.std(boots)) if len(boots) > 1 else float("nan")
    out["boot_samples"] = len(boots)
    return out


def summarize(columns: dict, n_samples: int | None = None, omega_hi: float | None = None,
              n_boot: int = 200) -> dict:
    """Statistics of an expansion table (module docs). ``omega_hi``: top of the power-law fits
    (default: the largest frequency of the group)."""
    c = columns
    n = len(c.get("group", []))
    group = np.asarray(c.get("group", []))
    beta = np.asarray(c.get("beta", []), dtype=float)
    omega = np.asarray(c.get("omega", []), dtype=float)
    sample = np.asarray(c.get("sample", np.zeros(n, dtype=int)))
    isA, isB = group == "A", group == "B"
    nA, nB = int(isA.sum()), int(isB.sum())
    nab = nA + nB
    p = nB / nab if nab else float("nan")
    out = {"modes": n, "samples": int(n_samples if n_samples is not None else np.unique(sample).size),
           "A": nA, "B": nB, "unbounded": int((group == "-").sum()),
           "B_fraction": p, "B_fraction_err": float(np.sqrt(p * (1 - p) / nab)) if nab else float("nan"),
           "B_fraction_95": list(clopper_pearson(nB, nab)),
           "paper": {"A": 278, "B": 125, "B_fraction": 125 / 403,
                     "B_fraction_err": float(np.sqrt((125 / 403) * (278 / 403) / 403)),
                     "B_barriers": [3.4e-9, 4.0e-4]},
           "A_with_higher_second_well": int((isA & (beta ** 2 > 8 / 9)).sum()),
           "beta_quantiles": ({q: float(np.nanquantile(beta, float(q))) for q in ("0.5", "0.9", "0.99", "1.0")}
                              if np.isfinite(beta).any() else {}),
           "degenerate": int(np.asarray(c.get("degenerate", np.zeros(n, bool))).sum())}
    if nB:
        bar = np.asarray(c["barrier"], dtype=float)[isB]
        out["B_barrier_range"] = [float(np.nanmin(bar)), float(np.nanmax(bar))]
        out["B_barriers_inside_paper_range"] = int(((bar >= 3.4e-9) & (bar <= 4.0e-4)).sum())
    out["omega_median_A"] = float(np.median(omega[isA])) if nA else float("nan")
    out["omega_median_B"] = float(np.median(omega[isB])) if nB else float("nan")
    fits = {}
    for name, m, g in (("A", isA, 4.0), ("B", isB, 3.0)):
        hi = omega_hi if omega_hi is not None else (float(omega[m].max()) if m.any() else 1.0)
        fits[name] = power_law(omega[m], sample[m], hi, n_boot=n_boot)
        fits[name]["expected_gamma"] = g
        fits[name]["modes_needed_to_tell_4_from_3"] = modes_needed(g)
    out["D_fits"] = fits
    return out


# ---- plots --------------------------------------------------------------------------------------

def save_plots(columns: dict, folder, omega_unit: str = "omega unit", prefix: str = "expansion_") -> list:
    """P(beta) by group, D_A and D_B on log axes with omega^4 / omega^3 guides, barrier vs asymmetry.

    Returns the written PNG paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    group = np.asarray(columns.get("group", []))
    beta = np.asarray(columns.get("beta", []), dtype=float)
    omega = np.asarray(columns.get("omega", []), dtype=float)
    paths = []

    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    bins = np.linspace(0, max(2.0, np.nanmax(beta) if beta.size else 2.0), 41)
    for g, col in (("A", "tab:blue"), ("B", "tab:red")):
        b = beta[group == g]
        if b.size:
            ax.hist(b, bins=bins, density=True, alpha=0.6, color=col, label=f"group {g} ({b.size})")
    if beta.size:
        ax.set_yscale("log")        # the interest is the tail towards beta = 1 (the double-well border)
    ax.axvline(np.sqrt(8 / 9), color="grey", ls=":", lw=1, label=r"$\beta^2=8/9$")
    ax.axvline(1.0, color="k", ls="--", lw=1, label=r"$\beta=1$")
    paths.append(_finish(fig, ax, r"$\beta = b_3/\sqrt{3 b_2 b_4}$", r"$P(\beta)$", folder / f"{prefix}p_beta.png"))

    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    pos = omega[omega > 0]
    if pos.size:
        edges = np.geomspace(pos.min() * 0.9, pos.max() * 1.1, 16)
        centers = np.sqrt(edges[1:] * edges[:-1])
        nsamp = max(1, np.unique(np.asarray(columns.get("sample", [0]))).size)
        for g, col, expo in (("A", "tab:blue", 4), ("B", "tab:red", 3)):
            w = omega[group == g]
            if not w.size:
                continue
            h, _ = np.histogram(w, edges)
            d = h / np.diff(edges) / nsamp
            ok = h > 0
            lo, hi = poisson_interval(h[ok])
            scale = d[ok] / h[ok]
            ax.errorbar(centers[ok], d[ok], yerr=(d[ok] - lo * scale, hi * scale - d[ok]), fmt="o", ms=3,
                        color=col, label=f"$D_{g}$ ({w.size} modes, {nsamp} samples)")
            # A guide, not a fit: the power law through the cumulative count of the lowest k modes,
            # N(<omega_k) = k = A omega_k^(n+1) / (n+1), drawn only up to 3 omega_k (the low end is where
            # the law is claimed; a guide through all modes would suggest a fit the data do not carry).
            ws = np.sort(w[w > 0])
            k = int(min(10, ws.size))
            wk = ws[k - 1]
            amp = (expo + 1) * k / wk ** (expo + 1) / nsamp
            x = np.geomspace(ws[0], 3 * wk, 20)
            ax.plot(x, amp * x ** expo, color=col, ls="--", lw=1,
                    label=rf"$\omega^{expo}$ guide (lowest {k} modes)")
        ax.set_xscale("log")
        ax.set_yscale("log")
    paths.append(_finish(fig, ax, rf"$\omega$ [{omega_unit}]", r"$D(\omega)$ [modes per sample per unit $\omega$]",
                         folder / f"{prefix}dos_groups.png", "no mode of group A or B"))

    bar = np.asarray(columns.get("barrier", []), dtype=float)
    asym = np.asarray(columns.get("asymmetry", []), dtype=float)
    ok = np.isfinite(bar) & np.isfinite(asym) & (bar > 0)
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    for g, col in (("A", "tab:blue"), ("B", "tab:red")):
        m = ok & (group == g)
        if m.any():
            ax.scatter(np.abs(asym[m]), bar[m], s=10, color=col, label=f"group {g} ({int(m.sum())})")
    if ok.any():
        ax.set_xscale("log")
        ax.set_yscale("log")
    paths.append(_finish(fig, ax, r"$|U(s_{\min,2})|$ (asymmetry) [energy]", r"barrier $U(s_{\max})$ [energy]",
                         folder / f"{prefix}barrier_asymmetry.png", "no mode with a second well"))
    return paths


def _finish(fig, ax, xlabel, ylabel, path, empty_note=None):
    """Label, legend (or a note when nothing was drawn), save atomically, close."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    if empty_note and not (ax.lines or ax.collections or ax.patches):
        ax.text(0.5, 0.5, empty_note, transform=ax.transAxes, ha="center")
    fig.tight_layout()
    with atomic_output(path, ".png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return path


__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "CONVENTIONS", "UNITS", "ExpansionTableError", "concatenate",
           "write_table", "read_table", "summarize", "power_law", "modes_needed", "clopper_pearson", "save_plots"]
