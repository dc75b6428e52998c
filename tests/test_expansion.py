"""Quartic expansion along modes (glassmodes.expansion): closed forms, coefficients, LAMMPS checks."""

from __future__ import annotations

import numpy as np
import pytest

from glassmodes.expansion import quartic_energy, quartic_profile, stationary_points_numeric


# ---- closed forms of the quartic profile ---------------------------------------------------------

def _random_coefficients(n, rng):
    b2 = rng.uniform(0.05, 5.0, n)
    b4 = rng.uniform(0.05, 50.0, n)
    beta = rng.uniform(-2.5, 2.5, n)
    # keep clear of beta^2 = 8/9, where the barrier top and the second minimum merge (a double root
    # whose position is only sqrt(eps) accurate by any root finder)
    beta = np.where(np.abs(beta ** 2 - 8 / 9) < 0.02, beta + 0.3, beta)
    return b2, beta * np.sqrt(3 * b2 * b4), b4


def test_closed_forms_match_numeric_roots():
    rng = np.random.default_rng(7)
    b2, b3, b4 = _random_coefficients(400, rng)
    p = quartic_profile(b2, b3, b4)
    assert np.all(p.b3 >= 0) and np.array_equal(p.flipped, b3 < 0)
    n_two = 0
    for k in range(b2.size):
        roots = stationary_points_numeric(b2[k], p.b3[k], b4[k])
        others = roots[np.abs(roots) > 1e-12 * (1 + np.abs(roots).max())]
        if p.has_second_well[k]:
            n_two += 1
            assert others.size == 2
            scale = np.abs(others).max()
            # nearer to 0: the maximum; farther: the second minimum
            assert abs(others[1] - p.s_max[k]) <= 1e-12 * scale
            assert abs(others[0] - p.s_min2[k]) <= 1e-12 * scale
            e_scale = quartic_energy(others[0], b2[k], 0.0, b4[k]) + abs(quartic_energy(others[1], b2[k], 0, 0))
            assert abs(quartic_energy(others[1], b2[k], p.b3[k], b4[k]) - p.barrier[k]) <= 1e-12 * e_scale
            assert abs(quartic_energy(others[0], b2[k], p.b3[k], b4[k]) - p.asymmetry[k]) <= 1e-12 * e_scale
            # curvatures: a maximum and a minimum
            assert b2[k] + p.b3[k] * p.s_max[k] + b4[k] * p.s_max[k] ** 2 / 2 < 0
            assert b2[k] + p.b3[k] * p.s_min2[k] + b4[k] * p.s_min2[k] ** 2 / 2 > 0
        else:
            assert others.size == 0 and np.isnan(p.s_max[k]) and np.isnan(p.barrier[k])
    assert 50 < n_two < 350          # both cases exercised
    beta2 = p.beta ** 2
    assert np.array_equal(p.group == "B", beta2 > 1)
    assert np.array_equal(p.has_second_well, beta2 >= 8 / 9)
    # group B <=> the second well is lower (asymmetry < 0), the Kumar et al. Eq. 8 criterion
    two = p.has_second_well
    assert np.array_equal(p.asymmetry[two] < 0, beta2[two] > 1)
    assert np.allclose(p.second_depth[two], p.barrier[two] - p.asymmetry[two], rtol=0, atol=0)


def test_equal_wells_at_beta_one():
    b2, b4 = np.array([0.3, 2.0, 7.0]), np.array([1.0, 0.2, 40.0])
    for sign in (1, -1):
        p = quartic_profile(b2, sign * np.sqrt(3 * b2 * b4), b4)
        assert np.allclose(p.beta, 1.0, rtol=1e-15, atol=0)
        # U(s_min2) = 0 exactly in exact arithmetic; relative to the barrier, round-off only
        assert np.all(np.abs(p.asymmetry) <= 1e-13 * p.barrier)
        # the second minimum of the symmetric case sits at s = -3 b3 / b4 ... = -sqrt(12 b2 / b4)
        assert np.allclose(p.s_min2, -np.sqrt(12 * b2 / b4), rtol=1e-13, atol=0)
        assert np.all(p.group == "A")          # beta^2 = 1 is the edge of group A (Eq. 8: <=)


def test_cubic_only_limit():
    b2, b3 = 0.7, 0.9
    exact = (2.0 / 3.0) * b2 ** 3 / b3 ** 2
    p0 = quartic_profile(b2, b3, 0.0)
    assert p0.group == "-" and abs(p0.barrier - exact) <= 1e-15 * exact and abs(p0.s_max + 2 * b2 / b3) < 1e-15
    assert abs(p0.barrier_cubic - exact) <= 1e-15 * exact
    # b4 -> 0+: the barrier tends to the cubic value linearly in b4
    errs = [abs(quartic_profile(b2, b3, b4).barrier - exact) for b4 in (1e-2, 1e-3, 1e-4)]
    assert errs[1] < errs[0] / 8 and errs[2] < errs[1] / 8 and errs[2] / exact < 1e-3


def test_single_well_and_bad_input():
    p = quartic_profile([1.0, 1.0], [0.0, 1.0], [1.0, 1.0])
    assert list(p.group) == ["A", "A"] and not p.has_second_well.any() and np.isnan(p.barrier).all()
    assert np.all(np.isinf(p.barrier_cubic[:1]))
    with pytest.raises(ValueError, match="not a minimum"):
        quartic_profile(-1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="non-finite b4"):
        quartic_profile(1.0, 1.0, np.nan)


# ---- a small 2D polydisperse glass (the seed-003 pair style), unequal masses ----------------------

def _glass_lines(n: int, seed: int, data):
    length = n ** 0.5
    return [
        "units lj", "dimension 2", "atom_style sphere", "atom_modify map yes", "boundary p p p",
        f"region box block 0 {length} 0 {length} -0.5 0.5", "create_box 1 box",
        f"create_atoms 1 random {n} {seed} NULL overlap 0.6 maxtry 1000",
        f"variable diam atom (0.72605^-2-(id-0.5)/{n}*(0.72605^-2-1.61111^-2))^-0.5",
        "set group all diameter v_diam",
        # unequal masses (1 to 2) so that the mass weighting of b_n is exercised
        "variable m atom 1.0+(id%3)*0.5", "set group all mass v_m",
        "pair_style ipl/smooth/poly 12 2 1.25 0.2", "pair_coeff * * 1.0",
        "neighbor 0.3 bin", "neigh_modify every 1 delay 0 check yes", "fix twod all enforce2d",
        "minimize 0 1e-3 1000 10000",
        "min_modify norm max", "min_style fire", "minimize 0 1e-11 100000 1000000",
        "min_style cg", "minimize 0 1e-12 100000 1000000", "min_style fire", "minimize 0 1e-12 100000 1000000",
        f"write_data {data} pair ij",
    ]


FF = """units lj
dimension 2
atom_style sphere
atom_modify map yes
boundary p p p
pair_style ipl/smooth/poly 12 2 1.25 0.2
read_data
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
"""


def _make_sample(folder, n=160, seed=11):
    from glassmodes.lammps_session import open_lammps
    from glassmodes.modes import solve_modes, write_modes

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "glass.data"
    lmp = open_lammps()
    try:
        for line in _glass_lines(n, seed, data):
            lmp.command(line)
        lmp.command(f"write_hessian all {folder / 'H'}")
        lmp.command(f"write_fc3 all {folder / 'F4'} order 4")
        lmp.command(f"write_fc3 all {folder / 'F3'}")
    finally:
        lmp.close()
    data.with_suffix(".ff").write_text(FF)
    write_modes(folder / "modes.h5", solve_modes(folder / "H", backend="dense"))
    return {"modes": folder / "modes.h5", "fc": folder / "F4", "data": data}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("expansion")
    return [_make_sample(root / "s1", seed=11), _make_sample(root / "s2", seed=12)]


def test_coefficients_against_lammps_line_fits(samples):
    """b2 = eigenvalue; b2, b3, b4 from the pair table = Taylor coefficients of LAMMPS forces along the line."""
    import functools

    from glassmodes.expansion.coefficients import expand_modes
    from glassmodes.expansion.lammps_check import LammpsLine, line_fit, open_structure
    from glassmodes.fc3 import read_fc3
    from glassmodes.modes import ModeFile

    s = samples[0]
    with ModeFile(s["modes"]) as mf:
        res = expand_modes(mf, read_fc3(s["fc"]), indices=[0, 1, 2, 5, 40, 150], pr_max=None)
        assert np.all(mf.atoms["mass"] > 1.2) is np.False_       # masses really differ
    c = res["columns"]
    assert list(c["mode"]) == [0, 1, 2, 5, 40, 150]
    assert np.all(c["b2_rel_diff"] < 1e-10)
    assert np.all(c["b3"] >= 0)
    # the sign-fixed directions give b3 >= 0 when contracted again
    fc = read_fc3(s["fc"], mass_weighted=True)
    for k in range(len(c["mode"])):
        z = res["directions"][:, k]
        assert fc.phi3(z, z, z) == pytest.approx(c["b3"][k], rel=1e-12)
    line = LammpsLine(functools.partial(open_structure, s["data"]))
    try:
        assert len(set(np.round(line.masses, 9))) == 3
        worst = 0.0
        for k in range(len(c["mode"])):
            f = line_fit(line, res["directions"][:, k])
            b = np.array([c["b2"][k], c["b3"][k], c["b4"][k]])
            assert f.crossing_free
            worst = max(worst, float(np.max(np.abs(f.b - b) / np.abs(b))))
            # the energy fit agrees on b2 (b4 needs one more power of s: at the small amplitudes that
            # avoid cutoff crossings it is only a few per cent, see docs/expansion.md)
            assert abs(f.b_energy[0] / b[0] - 1) < 1e-6
        assert worst < 1e-6, worst
        # the session is back at the minimum
        assert line.energy_at(np.zeros((line.natoms, 3)))[0] == line.e0
    finally:
        line.close()


def test_second_well_relaxation_mechanics(samples):
    """A small push falls back into x0; a large one along a localized mode ends in another minimum."""
    import functools

    from glassmodes.expansion.coefficients import expand_modes
    from glassmodes.expansion.lammps_check import LammpsLine, open_structure, relax_second_well
    from glassmodes.fc3 import read_fc3
    from glassmodes.modes import ModeFile

    s = samples[0]
    with ModeFile(s["modes"]) as mf:
        res = expand_modes(mf, read_fc3(s["fc"]), indices=[0], pr_max=None)
    z = res["directions"][:, 0]
    line = LammpsLine(functools.partial(open_structure, s["data"]))
    try:
        back = relax_second_well(line, z, -0.05, 0.0)
        assert back.error == "" and not back.distinct and abs(back.energy) < 1e-9 and back.max_force <= 1e-10
        far = relax_second_well(line, z, -6.0, 0.0)
        # measured: another minimum 0.617 higher, largest particle displacement 1.29, overlap 0.65
        assert far.error == "" and far.distinct and far.max_displacement > 0.1 and far.energy > 1e-3
        assert far.max_force <= 1e-10 and 0 < far.overlap < 1
        # a violent push loses atoms: flagged (NaN numbers, the reason), the session is replaced
        lost = relax_second_well(line, z, -40.0, 0.0)
        assert "Lost atoms" in lost.error and np.isnan(lost.energy) and not lost.distinct
        again = relax_second_well(line, z, -6.0, 0.0)
        assert again == far
        assert line.energy_at(np.zeros((line.natoms, 3)))[0] == pytest.approx(line.e0, rel=1e-13)
    finally:
        line.close()


def test_bad_inputs(samples, tmp_path):
    from glassmodes.cli.main import main
    from glassmodes.expansion.coefficients import ExpansionError, expand_modes
    from glassmodes.fc3 import read_fc3
    from glassmodes.modes import ModeFile

    a, b = samples
    with ModeFile(a["modes"]) as mf:
        with pytest.raises(ExpansionError, match="not the same structure"):
            expand_modes(mf, read_fc3(b["fc"]))
        with pytest.raises(ExpansionError, match="order 4"):
            expand_modes(mf, read_fc3(a["fc"].with_name("F3")))
    out = tmp_path / "x.csv"
    assert main(["expand", str(a["modes"]), "-o", str(out)]) == 2
    assert main(["expand", str(a["modes"]), str(a["fc"]), "--check-lammps", str(a["data"]), str(b["data"]),
                 "-o", str(out)]) == 2
    assert main(["expand", str(a["modes"]), str(a["fc"]), "-o", str(tmp_path / "x.txt")]) == 2
    assert main(["expand", str(a["modes"]), str(b["fc"]), "-o", str(out)]) == 2
    assert not out.exists()


def test_cli_table_roundtrip_and_ranks(samples, tmp_path, capsys):
    """CLI on two samples: CSV and HDF5 tables agree; the table is the same on 1 and 2 ranks."""
    from glassmodes.cli.main import main
    from glassmodes.expansion.ensemble import ExpansionTableError, read_table

    args = [str(p) for s in samples for p in (s["modes"], s["fc"])]
    csv, h5 = tmp_path / "t.csv", tmp_path / "t.h5"
    assert main(["expand", *args, "--pr-max", "1", "--quiet", "-o", str(csv), "--plot", str(tmp_path / "p")]) == 0
    assert main(["expand", *args, "--pr-max", "1", "--quiet", "-o", str(h5)]) == 0
    c1, m1 = read_table(csv)
    c2, m2 = read_table(h5)
    assert m1["format"] == "glassmodes-expansion" and "b3 >= 0" in m1["conventions"]["sign"]
    assert set(c1) == set(c2) and len(c1["mode"]) == 2 * (2 * 160 - 2)
    for k in c1:
        if c1[k].dtype.kind == "f":
            assert np.array_equal(c1[k], c2[k], equal_nan=True), k
        else:
            assert np.array_equal(c1[k], c2[k]), k
    assert sorted(set(c1["sample"])) == [0, 1]
    assert m1["summary"]["A"] + m1["summary"]["B"] + m1["summary"]["unbounded"] == len(c1["mode"])
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "expansion_barrier_asymmetry.png", "expansion_dos_groups.png", "expansion_p_beta.png"]
    with pytest.raises(ExpansionTableError):
        read_table(samples[0]["modes"])
    # two ranks share the samples: identical rows
    import subprocess
    import sys

    mpi = tmp_path / "mpi.csv"
    subprocess.run([sys.executable, "-m", "glassmodes.cli.main", "expand", *args, "--pr-max", "1", "--quiet",
                    "--np", "2", "-o", str(mpi)], check=True, capture_output=True, timeout=300)
    c3, _ = read_table(mpi)
    for k in c1:
        assert np.array_equal(c1[k], c3[k], equal_nan=c1[k].dtype.kind == "f"), k
    # with LAMMPS checks (one serial LAMMPS per sample on each rank) and FC given as data files
    data_args = [str(p) for s in samples for p in (s["modes"], s["data"])]
    check = ["--check-lammps", *(str(s["data"]) for s in samples), "--check-lines", "2", "--quiet"]
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert main(["expand", *data_args, *check, "-o", str(one)]) == 0
    proc = subprocess.run([sys.executable, "-m", "glassmodes.cli.main", "expand", *data_args, *check, "--np", "2",
                           "-o", str(two)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    c4, _ = read_table(one)
    c5, meta = read_table(two)
    assert np.isfinite(c4["lammps_rel_err"]).sum() == 4
    for k in c4:
        assert np.array_equal(c4[k], c5[k], equal_nan=c4[k].dtype.kind == "f"), k


def test_cli_lammps_check(samples, tmp_path):
    from glassmodes.cli.main import main
    from glassmodes.expansion.ensemble import read_table

    s = samples[1]
    out = tmp_path / "c.csv"
    assert main(["expand", str(s["modes"]), str(s["fc"]), "--pr-max", "1", "--check-lammps", str(s["data"]),
                 "--check-lines", "3", "--quiet", "-o", str(out)]) == 0
    c, _ = read_table(out)
    checked = np.isfinite(c["lammps_rel_err"])
    assert checked.sum() >= 3
    assert np.all(c["lammps_rel_err"][checked & c["lammps_crossing_free"]] < 1e-6)


# ---- ensemble statistics ---------------------------------------------------------------------------

def test_summary_counts_and_power_laws():
    from glassmodes.expansion.ensemble import modes_needed, summarize

    rng = np.random.default_rng(3)
    nA, nB, samples = 3000, 1500, 300
    wA = rng.uniform(size=nA) ** (1 / 5)          # D ~ omega^4 on (0, 1]
    wB = rng.uniform(size=nB) ** (1 / 4)          # D ~ omega^3
    cols = {"sample": rng.integers(0, samples, nA + nB), "omega": np.concatenate([wA, wB]),
            "group": np.array(["A"] * nA + ["B"] * nB), "beta": np.concatenate([rng.uniform(0, 0.9, nA),
                                                                                  rng.uniform(1.01, 2, nB)]),
            "barrier": np.concatenate([np.full(nA, np.nan), rng.uniform(1e-8, 1e-4, nB)])}
    s = summarize(cols, omega_hi=1.0, n_boot=50)
    assert (s["A"], s["B"]) == (nA, nB)
    p = nB / (nA + nB)
    assert s["B_fraction"] == pytest.approx(p) and s["B_fraction_err"] == pytest.approx(np.sqrt(p * (1 - p) / 4500))
    assert s["A_with_higher_second_well"] == (cols["beta"][:nA] ** 2 > 8 / 9).sum()
    for g, gamma in (("A", 4), ("B", 3)):
        f = s["D_fits"][g]
        assert f["ci"][0] < gamma < f["ci"][1]
        assert 0 < f["boot_std"] < 0.5
        assert abs(f["gamma"] - gamma) < 4 * f["boot_std"]
    assert modes_needed(4.0) == 100 and modes_needed(3.0) == 64
    lo, hi = s["B_fraction_95"]
    assert lo < p < hi and hi - lo == pytest.approx(2 * 1.96 * s["B_fraction_err"], rel=0.05)
    from glassmodes.expansion.ensemble import clopper_pearson

    assert clopper_pearson(0, 100) == (0.0, pytest.approx(1 - 0.025 ** (1 / 100)))
    assert s["B_barriers_inside_paper_range"] == (cols["barrier"][nA:] >= 3.4e-9).sum()


def test_selection_rules(samples):
    from glassmodes.analysis.classify import omega_qvm_of
    from glassmodes.expansion.coefficients import expand_modes, phonon_band_edge
    from glassmodes.fc3 import read_fc3
    from glassmodes.modes import ModeFile

    s = samples[0]
    fc = read_fc3(s["fc"])
    with ModeFile(s["modes"]) as mf:
        w, pr = mf.frequencies, mf.participation_ratio
        every = expand_modes(mf, fc, pr_max=0.27)
        band = phonon_band_edge(mf)
        below = expand_modes(mf, fc, pr_max=0.27, below_band=True)
        qvm = expand_modes(mf, fc, pr_max=0.27, below_qvm=True)
    assert np.array_equal(every["columns"]["mode"], np.nonzero((pr < 0.27) & (w > 0))[0])
    assert 0 < band["omega_edge"] <= band["omega_ph"] * 1.5 and band["captured"] > 0.99
    assert np.array_equal(below["columns"]["mode"], np.nonzero((pr < 0.27) & (w > 0) & (w <= band["omega_edge"]))[0])
    wq = omega_qvm_of(w, pr, 0.27)
    assert np.array_equal(qvm["columns"]["mode"], np.nonzero((pr < 0.27) & (w > 0) & (w < wq))[0])
    assert "phonon band" in below["selection"]["rule"] and "omega_QVM" in qvm["selection"]["rule"]


def test_arbitrary_directions(samples):
    """expand_directions on (rescaled) eigenvectors reproduces expand_modes; a random field works too."""
    from glassmodes.expansion.coefficients import expand_directions, expand_modes
    from glassmodes.fc3 import read_fc3
    from glassmodes.modes import ModeFile

    s = samples[1]
    fc = read_fc3(s["fc"])
    with ModeFile(s["modes"]) as mf:
        ref = expand_modes(mf, fc, indices=[0, 3, 7], pr_max=None)
        vec = mf.vectors([0, 3, 7]) * np.array([2.0, -0.5, 3.0])
    got = expand_directions(fc, vec)
    for k in ("b2", "b3", "b4", "beta", "barrier", "pr"):
        assert np.allclose(got["columns"][k], ref["columns"][k], rtol=1e-12, atol=0, equal_nan=True), k
    assert np.allclose(got["directions"], ref["directions"], rtol=0, atol=1e-14)
    rnd = expand_directions(fc, np.random.default_rng(0).normal(size=fc.ndof))
    assert rnd["columns"]["b2"][0] > 0 and rnd["columns"]["b3"][0] >= 0


def test_position_mismatch_minimum_image():
    from glassmodes.expansion.coefficients import position_mismatch

    box = {"boxlo": [0, 0, -0.5], "boxhi": [10, 10, 0.5], "xy": 2.0, "periodicity": [1, 1, 1]}
    x = np.array([[0.1, 0.2, 0.0], [5.0, 9.9, 0.0]])
    shifted = x + np.array([[10.0, 0.0, 0.0], [-2.0, -10.0, 0.0]])   # whole box vectors (the second tilted)
    assert position_mismatch(x, shifted, box, 2) < 1e-12
    assert position_mismatch(x, x + [0.3, 0.0, 0.0], box, 2) == pytest.approx(0.3)


def test_empty_selection_joins(samples):
    """A sample with no selected mode still gives a table with the same columns."""
    from glassmodes.expansion.driver import expand_samples

    cols, infos = expand_samples([{"modes": s["modes"], "fc": s["fc"]} for s in samples], pr_max=0.27,
                                 omega_max=1e-9)
    assert len(cols["mode"]) == 0 and "beta" in cols and infos[0]["selection"]["selected"] == 0


def test_data_file_in_place_of_fc(samples, tmp_path):
    """FC may be the data file: the order-4 table is written on the fly, same numbers."""
    from glassmodes.cli.main import main
    from glassmodes.expansion.ensemble import read_table

    s = samples[0]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["expand", str(s["modes"]), str(s["fc"]), "--quiet", "-o", str(a)]) == 0
    assert main(["expand", str(s["modes"]), str(s["data"]), "--quiet", "-o", str(b)]) == 0
    ca, _ = read_table(a)
    cb, _ = read_table(b)
    assert len(ca["mode"]) > 0 and np.array_equal(ca["mode"], cb["mode"])
    for k in ("b2", "b3", "b4"):
        assert np.allclose(ca[k], cb[k], rtol=1e-9, atol=0), k
