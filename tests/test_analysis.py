"""Participation ratio, QLM classification, vDOS, power-law fits, phonon band, ensembles, CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from glassmodes.analysis import (
    CATEGORY_NAMES, PRESETS, ModeStatistics, classify_four, cumulative, estimate_phonon_band, fit_power_law,
    debye_level, participation_number, participation_ratio, phonon_band_frequency, qlm_bound, qlm_mask, vdos,
)
from glassmodes.analysis.classify import DELOCALIZED, HYBRIDIZED, LOCALIZED, QUASI_LOCALIZED
from glassmodes.modes import solve_modes, write_modes
from glassmodes.modes.models import fcc_dynamical_matrix, fcc_lj, spring_network

PAPERS = Path("/work/shared/papers")


# -- participation ratio -----------------------------------------------------------------------------

@pytest.mark.parametrize("d", [2, 3])
def test_pr_single_atom_is_one_over_n(d):
    n = 250
    v = np.zeros(d * n)
    v[d * 17 + d - 1] = 3.0  # normalization does not matter
    assert participation_ratio(v, d) == pytest.approx(1.0 / n, rel=1e-14)
    assert participation_number(v[:, None], d)[0] == pytest.approx(1.0, rel=1e-14)


def test_pr_uniform_and_transverse_plane_wave():
    """e = 1 for a uniform field; e = 2/3 for a transverse plane wave cos(q.x) on a lattice
    (<cos^2> = 1/2, <cos^4> = 3/8 exactly for 8 sites per period)."""
    side = 8
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(float)
    n = grid.shape[0]
    assert participation_ratio(np.ones(3 * n), 3) == pytest.approx(1.0, rel=1e-14)
    q = 2 * np.pi / side * np.array([1.0, 0.0, 0.0])
    p = np.array([0.0, 0.6, 0.8])  # any polarization normal to q
    u = (np.cos(grid @ q)[:, None] * p[None, :]).ravel()
    assert participation_ratio(u, 3) == pytest.approx(2.0 / 3.0, rel=1e-12)
    # also with a phase and along a diagonal wavevector
    q2 = 2 * np.pi / side * np.array([1.0, 1.0, 0.0])
    u2 = (np.sin(grid @ q2 + 0.3)[:, None] * np.array([0, 0, 1.0])[None, :]).ravel()
    assert participation_ratio(u2, 3) == pytest.approx(2.0 / 3.0, rel=1e-12)


def test_pr_mass_weighted_vs_displacement():
    """With ``masses`` the PR is that of u = e / sqrt(m): for e = sqrt(m) (uniform displacement), 1."""
    rng = np.random.default_rng(0)
    m = rng.choice([1.0, 4.0], size=100)
    e = np.repeat(np.sqrt(m), 3)
    assert participation_ratio(e, 3, masses=m) == pytest.approx(1.0, rel=1e-14)
    # on the mass-weighted vector itself: (sum m)^2 / (N sum m^2)
    assert participation_ratio(e, 3) == pytest.approx(m.sum() ** 2 / (100 * np.sum(m ** 2)), rel=1e-14)


def test_pr_of_crystal_transverse_wave_is_two_thirds():
    """FCC crystal (nearest neighbours): the transverse standing wave sqrt(m) p cos(q.x) at the
    smallest q lies in the span of the lowest (24-fold) level, and its PR is 2/3."""
    h = fcc_lj(4)
    m = solve_modes(h, backend="sparse", k=24)
    L = h.meta["box"]["boxhi"][0]
    x = h.atoms["x"]
    wave = (np.sqrt(h.atoms["mass"]) * np.cos(2 * np.pi * x[:, 0] / L))[:, None] * np.array([0, 1.0, 0])
    wave = wave.ravel() / np.linalg.norm(wave)
    resid = wave - m.vectors @ (m.vectors.T @ wave)
    assert np.linalg.norm(resid) < 1e-10
    assert participation_ratio(wave, 3) == pytest.approx(2.0 / 3.0, rel=1e-12)


# -- QLM presets and categories ----------------------------------------------------------------------

def test_presets_match_the_papers():
    """The thresholds as stated in the papers' text."""
    expect = {"xiang": ("000_", "0.2PR", 0.2), "khomenko": ("002_", "PR < 0.1", 0.1),
              "kumar": ("003_", "smaller than 0.27", 0.27)}
    for name, (prefix, phrase, thr) in expect.items():
        assert PRESETS[name].pr_threshold == thr
        if PAPERS.is_dir():
            text = next(PAPERS.glob(prefix + "*.txt")).read_text()
            assert phrase in text.replace("( 0.2PR )", "0.2PR"), f"{name}: '{phrase}' not in paper {prefix}"
    assert PRESETS["xiang"].four_categories


def test_four_categories_on_synthetic_spectrum():
    omega = np.array([0.1, 0.15, 0.2, 0.3, 0.35, 0.5, 0.9, 1.0, 1.2])
    pr = np.array([0.05, 0.03, 0.4, 0.1, 0.5, 0.6, 0.3, 0.05, 0.02])
    c = classify_four(omega, pr, 0.2, complete_spectrum=True)
    assert c.omega_qvm == 0.2 and c.omega_loc == 0.9
    assert list(c.labels) == [QUASI_LOCALIZED, QUASI_LOCALIZED, DELOCALIZED, HYBRIDIZED, DELOCALIZED,
                              DELOCALIZED, DELOCALIZED, LOCALIZED, LOCALIZED]
    partial = classify_four(omega, pr, 0.2, complete_spectrum=False)
    assert partial.counts()["high-frequency localized"] == 0 and partial.counts()["hybridized"] == 3
    assert list(qlm_mask(omega, pr, 0.1, omega_max=0.5)) == [1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert CATEGORY_NAMES[QUASI_LOCALIZED] == "quasi-localized"
    assert CATEGORY_NAMES[LOCALIZED] == "high-frequency localized"


def test_qlm_rule_soft_and_localized(tmp_path):
    """High-frequency localized and hybridized modes are never QLMs: the default bound is
    omega_QVM (the lowest mode with PR >= the threshold), the same rule in qlm_mask, classify_four,
    ModeStatistics (summary, per-bin counts) and ``lifetimes --qlm``."""
    omega = np.array([0.1, 0.15, 0.2, 0.3, 0.35, 0.5, 0.9, 1.0, 1.2])
    pr = np.array([0.05, 0.03, 0.4, 0.1, 0.5, 0.6, 0.3, 0.05, 0.02])
    mask = qlm_mask(omega, pr, 0.2)
    assert list(np.flatnonzero(mask)) == [0, 1]   # 0.3 hybridized, 1.0 and 1.2 high-frequency localized
    assert np.array_equal(mask, classify_four(omega, pr, 0.2, complete_spectrum=True).labels == QUASI_LOCALIZED)
    bound, text = qlm_bound(omega, pr, 0.2)
    assert bound == 0.2 and "omega_QVM = 0.2" in text
    assert list(np.flatnonzero(qlm_mask(omega, pr, 0.2, omega_max=0.3))) == [0, 1, 3]  # a given bound, inclusive
    assert np.array_equal(qlm_mask(omega, pr, 0.2, omega_max=0.3),
                          classify_four(omega, pr, 0.2, omega_qvm=0.3).labels == QUASI_LOCALIZED)
    # a spectrum with many high-frequency localized modes (the demo glass's situation) and one soft QLM
    from glassmodes.modes.models import spring_network

    m = solve_modes(spring_network(100, seed=1), backend="dense")   # 125 atoms: a full spectrum is 372 modes
    rng = np.random.default_rng(0)
    n = m.omega.size
    w = np.sort(np.concatenate([[0.05], rng.uniform(0.2, 18.0, n - 41), rng.uniform(19.0, 23.0, 40)]))
    p = np.where(w > 19.0, 0.05, 0.5)
    p[0] = 0.04
    assert qlm_mask(w, p, 0.2).sum() == 1
    vec = np.zeros((m.vectors.shape[0], n))
    vec[0] = 1.0
    import dataclasses

    fake = dataclasses.replace(m, omega=w, eigenvalues=w ** 2, vectors=vec,
                               info=dataclasses.replace(m.info, residual_norms=np.zeros(n)))
    path = tmp_path / "fake.h5"
    write_modes(path, fake, participation=p)
    st = ModeStatistics(bins=20, n_bootstrap=0).compute(path)
    s = st.summary()
    assert s["qlm_count"] == 1 == s["categories"]["quasi-localized"] == int(st.qlm_counts.sum())
    assert s["categories"]["high-frequency localized"] == 40 and "omega_QVM" in s["qlm_rule"]
    assert ModeStatistics(bins=20, n_bootstrap=0, omega_max_qlm=30.0).compute(path).summary()["qlm_count"] == 41
    ax = st.plot_pr()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "quasi-localized (QLM): 1" in labels and "high-frequency localized: 40" in labels
    assert ax.get_xscale() == "log"   # the QLMs live at low omega
    from glassmodes.anharmonic.report import mode_categories

    assert np.array_equal(mode_categories(path, 0.2) == QUASI_LOCALIZED, qlm_mask(w, p, 0.2))


# -- vDOS, cumulative, power law ---------------------------------------------------------------------

def test_vdos_normalization_full_spectrum():
    h = spring_network(216, seed=5)
    m = solve_modes(h, backend="dense")
    v = vdos(m.omega, bins=40, n_total=3 * 216 - 3)
    assert np.sum(v.g * np.diff(v.edges)) == pytest.approx(1.0, rel=1e-12)
    w, c = cumulative(m.omega, 3 * 216 - 3)
    assert c[-1] == pytest.approx(1.0) and np.all(np.diff(w) >= 0)
    assert np.allclose(v.reduced, v.g / v.centers ** 2)


def test_power_law_mle_recovers_exponent_with_nominal_coverage():
    """Draws from g ~ omega^4 on [0, 1]: the 95 % interval covers beta = 4 in 95 +- 3 % of 400
    datasets of 80 modes (binomial sd 1.1 %), and the estimate is unbiased to 3 standard errors."""
    rng = np.random.default_rng(42)
    hits, betas = 0, []
    for _ in range(400):
        w = rng.uniform(size=80) ** (1 / 5)
        f = fit_power_law(w, 1.0)
        hits += f.beta_ci[0] <= 4 <= f.beta_ci[1]
        betas.append(f.beta)
    assert 0.92 <= hits / 400 <= 0.98
    # gamma_hat = n / Gamma(n, 1/gamma): E[gamma_hat] = gamma n / (n - 1)
    assert np.mean(betas) + 1 == pytest.approx(5 * 80 / 79, abs=3 * np.std(betas) / np.sqrt(400))


def test_power_law_truncated_window():
    """Window [0.3, 1] of omega^3 draws: the truncated likelihood is needed and recovers beta = 3."""
    rng = np.random.default_rng(1)
    w = rng.uniform(size=200000) ** (1 / 4)
    f = fit_power_law(w, 1.0, omega_lo=0.3)
    assert f.beta_ci[0] < 3 < f.beta_ci[1] and abs(f.beta - 3) < 0.05
    assert f.n == int(np.sum(w > 0.3))
    # amplitude: integral of A w^beta over the window equals n / n_total
    a = f.amplitude * (1 - 0.3 ** (f.beta + 1)) / (f.beta + 1)
    assert a == pytest.approx(f.n / 1.0, rel=1e-10)


# -- phonon band -------------------------------------------------------------------------------------

def test_phonon_band_estimate_on_crystal_is_exact():
    """FCC crystal: the plane-wave-weighted band equals the transverse eigenvalue of D(q_min)."""
    h = fcc_lj(4)
    m = solve_modes(h, backend="sparse", k=60)
    est = estimate_phonon_band(m.omega, m.vectors, h.atoms["x"], h.atoms["mass"], h.meta["box"], 3)
    L = h.meta["box"]["boxhi"][0]
    wq = np.linalg.eigvalsh(fcc_dynamical_matrix(np.array([2 * np.pi / L, 0, 0])))
    assert est.omega_ph == pytest.approx(np.sqrt(wq[0]), rel=1e-10)
    assert est.captured == pytest.approx(1.0, abs=1e-10)
    assert est.n_plane_waves == 12
    assert phonon_band_frequency(est.c_t, L) == pytest.approx(est.omega_ph, rel=1e-14)
    # the longitudinal band: the longitudinal eigenvalue of D(q_min), from the full spectrum
    full = solve_modes(h, backend="dense")
    lon = estimate_phonon_band(full.omega, full.vectors, h.atoms["x"], h.atoms["mass"], h.meta["box"], 3,
                               polarization="longitudinal")
    assert lon.omega_ph == pytest.approx(np.sqrt(wq[2]), rel=1e-8)
    assert lon.captured == pytest.approx(1.0, abs=1e-8) and lon.n_plane_waves == 6


def test_debye_level_textbook_limits():
    """One sound speed c for all branches: omega_D = c (6 pi^2 n)^(1/3) (Kittel, ch. 5), and the
    level 3/omega_D^3 makes g_D = 3 omega^2/omega_D^3 integrate to 1 over [0, omega_D]."""
    n, c = 1.015, 2.5
    lvl = debye_level(n, c, c)
    omega_d = c * (6 * np.pi ** 2 * n) ** (1 / 3)
    assert 3 / lvl == pytest.approx(omega_d ** 3, rel=1e-12)
    assert lvl * omega_d ** 3 / 3 == pytest.approx(1.0, rel=1e-12)
    # transverse branches dominate: c_L -> infinity leaves 2/3 of the level
    assert debye_level(n, c, 1e9) == pytest.approx(2 / 3 * lvl, rel=1e-12)
    with pytest.raises(ValueError, match="positive"):
        debye_level(n, 0.0, c)


# -- ensembles ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mode_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("modes")
    paths = []
    for s in range(4):
        m = solve_modes(spring_network(216, seed=s), backend="dense")
        p = folder / f"m{s}.h5"
        write_modes(p, m, vectors="all" if s == 0 else 30)
        paths.append(p)
    return paths


def test_ensemble_streaming_equals_pooled(mode_files):
    edges = np.geomspace(0.3, 5.0, 31)
    one = ModeStatistics(bins=edges, n_bootstrap=50).compute(mode_files)
    step = ModeStatistics(bins=edges, n_bootstrap=50)
    for i, p in enumerate(mode_files):
        step.compute(p, reset=(i == 0))
    assert np.array_equal(one.counts, step.counts)
    assert one.n_samples == 4 and one.n_total == 4 * (3 * 216 - 3)
    from glassmodes.modes import read_modes

    pooled = np.concatenate([read_modes(p, vectors=False).omega for p in mode_files])
    ref = vdos(pooled, edges, n_total=4 * (3 * 216 - 3))
    assert np.allclose(one.vdos.g, ref.g, rtol=1e-14)
    assert one.power_law.n == step.power_law.n
    with pytest.raises(AttributeError):
        _ = ModeStatistics().counts  # compute() not called


def test_ensemble_memory_independent_of_sample_count(mode_files):
    def sizes(st):
        return sum(v.nbytes for v in vars(st).values() if isinstance(v, np.ndarray))

    a = ModeStatistics(bins=20).compute(mode_files[:1])
    b = ModeStatistics(bins=20).compute(mode_files * 5)
    assert sizes(a) == sizes(b)
    assert b.n_samples == 20


def test_ensemble_summary_table_and_plots(mode_files, tmp_path):
    st = ModeStatistics(bins=25, phonon=True, c_t=1.0).compute(mode_files)
    s = st.summary()
    assert s["samples"] == 4 and s["omega_unit"] == "rad/tau"
    assert s["phonon_band_estimate"]["samples"] == 1  # only the first file stores every vector
    assert s["phonon_band_from_c_t"]["omega_ph"] == pytest.approx(2 * np.pi / 6.0)
    lo, hi = s["power_law"]["beta_ci"]
    assert lo < s["power_law"]["beta"] < hi
    cols = st.table()
    assert len(cols["vdos"]) == 25
    paths = st.save_plots(tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)
    import matplotlib

    matplotlib.use("Agg")
    ax = st.plot_vdos()
    assert "rad/tau" in ax.get_xlabel() and "rad/tau" in ax.get_ylabel()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert any("omega^{4" in t.get_text() or "omega^4" in t.get_text() for t in ax.get_legend().get_texts())
    ax2 = st.plot_pr()
    assert "rad/tau" in ax2.get_xlabel() and "participation" in ax2.get_ylabel()
    # the Debye level is drawn from the sound speeds (c_T given, c_L estimated), with its numbers
    assert s["debye"] is not None and s["debye"]["c_t"] == 1.0
    ax3 = st.plot_reduced_vdos()
    assert any(line.get_ydata()[0] == pytest.approx(s["debye"]["level"]) for line in ax3.get_lines()
               if len(line.get_ydata()) == 2)
    assert any("Debye level" in t.get_text() for t in ax3.get_legend().get_texts())
    ax4 = st.plot_cumulative()
    assert any("fraction of the non-zero modes" in t.get_text() for t in ax4.texts)


def _fit_lines(ax):
    return [t.get_text() for t in ax.get_legend().get_texts() if t.get_text().startswith("ML fit")]


def test_vdos_fit_shown_only_from_enough_modes(mode_files):
    """The fit on the figure carries its window and sample size; below MIN_SHOWN_FIT_MODES modes in
    the window it is not drawn and the figure says why."""
    from glassmodes.analysis.ensemble import MIN_SHOWN_FIT_MODES

    few = ModeStatistics(bins=20, fit_range=(0.0, 1.0), n_bootstrap=0).compute(mode_files[:1])
    assert 2 <= few.power_law.n < MIN_SHOWN_FIT_MODES and few.summary()["power_law"]["reliable"] is False
    ax = few.plot_vdos()
    assert not any(line.get_label().startswith("ML fit") for line in ax.get_lines())
    assert any("no power-law fit drawn" in t.get_text() for t in ax.get_legend().get_texts())
    many = ModeStatistics(bins=20, fit_range=(0.0, 2.0), n_bootstrap=0).compute(mode_files)
    f = many.power_law
    assert f.n >= MIN_SHOWN_FIT_MODES
    (label,) = _fit_lines(many.plot_vdos())
    assert f"{f.n} modes, 4 samples" in label and "2" in label and f"{f.beta:.2f}" in label


def test_analyze_cli(mode_files, tmp_path, capsys):
    from glassmodes.cli import analyze

    p = argparse.ArgumentParser()
    analyze.add_arguments(p)
    out = tmp_path / "out"
    args = p.parse_args([*map(str, mode_files), "--out", str(out), "--plot", "--preset", "kumar", "--bins", "20"])
    assert analyze.run(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["qlm_criterion"]["pr_threshold"] == 0.27 and summary["samples"] == 4
    header = (out / "vdos.csv").read_text().splitlines()[1].split(",")
    assert header[:3] == ["omega_lo", "omega_hi", "omega_center"]
    assert {"pr_vs_omega.png", "vdos.png", "reduced_vdos.png", "cumulative_over_omega5.png"} <= {
        q.name for q in out.iterdir()}
    assert "4 sample(s)" in capsys.readouterr().out
