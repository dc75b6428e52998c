"""Glass preparation: the decks in inputs/, ``glassmodes prepare``, and ``fix swap/diameter``.

What is checked, and how:

* every model's deck, at N = 120 with a shortened protocol (the same commands, fewer steps),
  writes a data file of a minimized glass: the number density and the composition (type counts,
  or the quantiles of P(s) ~ s^-3 for per-atom sizes) read back from the data file match the
  papers' numbers (written here independently of the decks), the largest residual force is below
  1e-10, and the metadata JSON agrees with the file;
* a sample read back with ``sample_commands`` gives the recorded energy and a zero force;
* a 2-rank run of two samples through the CLI (``--np 2``);
* bad input is refused before any run starts, with the reason (unknown model, discontinuous
  potential, per-atom style without sizes, impossible densities, unknown or reserved parameters),
  and nothing is written;
* the swap Monte Carlo of diameters, on frozen configurations (no integrator): (1) the energy
  changes exactly by the sum of the accepted dE (1 and 2 MPI ranks) and the sizes are only
  permuted; (2) the number of accepted swaps equals the sum over attempts of the exact acceptance
  probability, the mean of min(1, exp(-dE/T)) over all pairs with dE from NumPy and the paper's
  formula (4 sigma), and the same sum at T/1.5 or 1.5 T is rejected; (3) a 4-particle toy (2 small,
  2 large) visits its 6 size assignments with the Boltzmann probabilities exp(-E/T)/Z (5 standard
  errors of batch means), not with those at T/1.5 or 1.5 T; (4) the fix's argument errors.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from glassmodes.cli.main import main as cli_main
from glassmodes.prepare import (MODELS, Model, check_request, deck_variables, get_model, prepare,
                                sample_commands, sample_stem, smoothing_coefficients)

MPI_SCRIPT = Path(__file__).parent / "mpi_scripts" / "swap_diameter.py"

# the same protocol with fewer steps: what a test can afford (< 1 s per model at N = 120)
QUICK = {
    "ka": {"t_equil": "2", "rate": "0.1"},
    "thesis-ipl10-3d": {"t_equil": "2", "rate": "0.1"},
    "thesis-ipl10-2d": {"t_equil": "2", "rate": "0.1"},
    "poly": {"t_equil": "5"},
    "seed003-2d": {"t_equil": "5"},
    "seed004-ipl12": {"t_equil": "2", "t_glass": "2"},
    "seed000-mlj": {"t_equil": "2", "t_npt": "5"},
}

# the papers' numbers, written here independently of the decks
PAPER = {
    "ka": {"density": 1.2, "counts": lambda n: (round(0.8 * n), n - round(0.8 * n)), "dim": 3},
    "thesis-ipl10-3d": {"density": 0.82, "counts": lambda n: (n // 2, n - n // 2), "dim": 3},
    "thesis-ipl10-2d": {"density": 0.86, "counts": lambda n: (n // 2, n - n // 2), "dim": 2},
    "poly": {"density": 1.0, "counts": lambda n: (n,), "dim": 3},
    "seed003-2d": {"density": 1.0, "counts": lambda n: (n,), "dim": 2},
    "seed004-ipl12": {"density": 1.015, "counts": lambda n: (n // 2, n - n // 2), "dim": 3},
    # N_L/N_S = (1 + sqrt 5)/4; the NPT stage at P = 0 moves the density (see the deck)
    "seed000-mlj": {"density": None, "counts": lambda n: (round(n / (1 + (1 + 5 ** 0.5) / 4)),
                                                          n - round(n / (1 + (1 + 5 ** 0.5) / 4))), "dim": 3},
}
SMAX = 1.45 / 0.9            # seed 003
SMIN = SMAX / 2.219


def read_data(path: Path) -> dict:
    """Box lengths, types, diameters (sphere) and positions of a LAMMPS data file."""
    lines = path.read_text().splitlines()
    natoms = next(int(l.split()[0]) for l in lines if l.strip().endswith(" atoms"))
    box = {}
    for l in lines:
        w = l.split()
        if len(w) == 4 and w[2].endswith("lo") and w[3].endswith("hi"):
            box[w[2][0]] = float(w[1]) - float(w[0])
    start = next(i for i, l in enumerate(lines) if l.startswith("Atoms"))
    style = lines[start].split("#")[-1].strip()
    rows = np.array([[float(x) for x in lines[start + 2 + k].split()[:7]] for k in range(natoms)])
    rows = rows[np.argsort(rows[:, 0])]
    out = {"natoms": natoms, "box": box, "types": rows[:, 1].astype(int), "style": style}
    if style == "sphere":
        out["diameters"] = rows[:, 2]
        out["x"] = rows[:, 4:7]
    else:
        out["x"] = rows[:, 2:5]
    return out


@pytest.fixture(scope="module")
def quick_samples(tmp_path_factory):
    """One quick sample of every model (N = 120, seed 3)."""
    out = tmp_path_factory.mktemp("samples")
    metas = {name: prepare(name, n=120, seed=3, samples=1, out_dir=out, overrides=QUICK[name])[0]
             for name in MODELS if name in QUICK}
    return out, metas


def test_every_model_has_a_quick_protocol():
    assert set(QUICK) == set(MODELS)


@pytest.mark.parametrize("name", list(QUICK))
def test_deck_makes_minimized_glass_at_paper_density_and_composition(quick_samples, name):
    out, metas = quick_samples
    meta = metas[name]
    paper = PAPER[name]
    data = read_data(out / f"{sample_stem(name, 120, 3)}.data")
    assert data["natoms"] == meta["N"] == 120
    dim = paper["dim"]
    volume = data["box"]["x"] * data["box"]["y"] * (data["box"]["z"] if dim == 3 else 1.0)
    density = 120 / volume
    assert meta["dimension"] == dim
    assert density == pytest.approx(meta["density"], rel=1e-12)
    if paper["density"] is not None:
        assert density == pytest.approx(paper["density"], rel=1e-12)
    else:    # seed 000: liquid at density 1, then NPT at zero pressure
        assert meta["density_requested"] == 1.0 and 0.9 < density < 1.2
    counts = tuple(int(np.sum(data["types"] == t)) for t in range(1, len(paper["counts"](120)) + 1))
    assert counts == paper["counts"](120) == tuple(meta["type_counts"])
    if dim == 2:
        assert np.all(data["x"][:, 2] == 0.0)
    if data["style"] == "sphere":
        k = np.arange(1, 121)
        quantiles = (SMIN ** -2 - (k - 0.5) / 120 * (SMIN ** -2 - SMAX ** -2)) ** -0.5
        np.testing.assert_allclose(np.sort(data["diameters"]), np.sort(quantiles), rtol=1e-12)
    assert 0.0 < meta["largest_force"] < 1e-10
    assert math.isfinite(meta["energy_per_particle"])
    assert meta["lammps_version"] > 20200000 and meta["wall_time"] > 0


@pytest.mark.parametrize("name", ["ka", "poly"])
def test_sample_reads_back_to_the_recorded_inherent_state(quick_samples, lmp, name):
    """sample_commands() (the deck's pair_style + read_data): same energy, force still ~0."""
    out, metas = quick_samples
    for line in sample_commands(out / f"{sample_stem(name, 120, 3)}.json"):
        lmp.command(line)
    for line in ["variable fa atom sqrt(fx*fx+fy*fy+fz*fz)", "compute fm all reduce max v_fa",
                 "thermo_style custom step pe c_fm", "run 0"]:
        lmp.command(line)
    assert lmp.get_thermo("pe") == pytest.approx(metas[name]["energy_per_particle"], rel=1e-12)
    assert lmp.get_thermo("c_fm") < 1e-9


def test_metadata_file(quick_samples):
    out, metas = quick_samples
    meta = json.loads((out / f"{sample_stem('poly', 120, 3)}.json").read_text())
    for key in ("model", "N", "seed", "density", "energy_per_particle", "largest_force", "wall_time",
                "lammps_version", "glassmodes_version", "parameters"):
        assert key in meta
    assert meta["parameters"]["t_equil"] == "5" and meta["parameters"]["T_parent"] == "0.092"
    assert meta["diameters"]["mean"] == pytest.approx(2 * SMIN * SMAX / (SMIN + SMAX), rel=2e-3)


@pytest.mark.mpi
def test_cli_two_samples_on_two_ranks(tmp_path, capsys):
    rc = cli_main(["prepare", "thesis-ipl10-2d", "--n", "100", "--seed", "7", "--samples", "2",
                   "--np", "2", "--out", str(tmp_path), "--set", "t_equil=2", "--set", "rate=0.1"])
    assert rc == 0
    metas = [json.loads((tmp_path / f"{sample_stem('thesis-ipl10-2d', 100, s)}.json").read_text())
             for s in (7, 8)]
    assert [m["mpi_ranks"] for m in metas] == [2, 2]
    assert [m["seed"] for m in metas] == [7, 8]
    assert metas[0]["energy_per_particle"] != metas[1]["energy_per_particle"]
    assert all(m["largest_force"] < 1e-10 for m in metas)


# ---- bad input: refused before any run ---------------------------------------------------------

@pytest.mark.parametrize("model, overrides, message", [
    ("foo", {}, "known models: ka, thesis-ipl10-3d"),
    ("ka", {"shift": "no"}, "discontinuous at the cutoff"),
    ("seed003-2d", {"smoothing": "coeffs -1.92415 2.11106 -0.591097"}, "a jump at the cutoff"),
    ("thesis-ipl10-3d", {"density": "0"}, "density must be > 0"),
    ("thesis-ipl10-3d", {"density": "-0.8"}, "density must be > 0"),
    ("thesis-ipl10-3d", {"density": "20"}, "beyond random close packing"),
    ("seed003-2d", {"density": "8"}, "beyond random close packing"),
    ("poly", {"smin": "0"}, "per-atom sizes need 0 < smin"),
    ("poly", {"eps_na": "2"}, "must be in [0, 1)"),
    ("ka", {"q": "3"}, "has no parameter 'q'"),
    ("ka", {"seed": "3"}, "set by the runner"),
    ("thesis-ipl10-2d", {"dim": "3"}, "fixes dim"),
    ("seed000-mlj", {"q": "9"}, "q must be 0..6"),
    ("ka", {"xA": "1.5"}, "fraction in [0, 1]"),
])
def test_bad_input_is_refused_before_running(tmp_path, capsys, model, overrides, message):
    with pytest.raises((ValueError, FileNotFoundError), match=None) as err:
        check_request(model, 100, overrides)
    assert message in str(err.value)
    out = tmp_path / "out"
    argv = ["prepare", model, "--n", "100", "--out", str(out)] + [f"--set={k}={v}" for k, v in overrides.items()]
    assert cli_main(argv) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()    # nothing created, nothing run


def test_poly_style_without_per_atom_sizes_is_refused(tmp_path):
    deck = tmp_path / "poly-atomic.in"
    deck.write_text(get_model("poly").deck_path().read_text().replace("atom_style      sphere", "atom_style      atomic"))
    custom = Model("poly-atomic", str(deck), "test", 100, sizes=("smin", "smax"), eps_na="eps_na")
    with pytest.raises(ValueError, match="needs per-atom sizes .atom_style sphere"):
        check_request(custom, 100)
    no_sizes = Model("poly-nosizes", str(get_model("poly").deck_path()), "test", 100)
    with pytest.raises(ValueError, match="defines no size distribution"):
        check_request(no_sizes, 100)


def test_decks_have_header_and_runner_variables():
    for model in MODELS.values():
        text = model.deck_path().read_text()
        assert text.startswith("# ")
        assert list(deck_variables(model.deck_path()))[:3] == ["N", "seed", "out"]
        assert "write_data" in text and "min_modify      norm max" in text


def test_smoothing_coefficients_closed_forms():
    xc = 1.48
    np.testing.assert_allclose(smoothing_coefficients([(1.0, -10.0)], 3, xc, 2),
                               [-56 / xc ** 10, 140 / xc ** 12, -120 / xc ** 14, 35 / xc ** 16], rtol=1e-12)
    np.testing.assert_allclose(smoothing_coefficients([(1.0, -12.0)], 1, 2.5, 1), [-13 / 2.5 ** 12, 12 / 2.5 ** 13],
                               rtol=1e-12)


# ---- fix swap/diameter -------------------------------------------------------------------------

XC, EPS_NA = 1.25, 0.2
C_POLY = smoothing_coefficients([(1.0, -12.0)], 2, XC, 2)


def pair_energy(r, di, dj):
    """Seed 003's phi(r) with s_ij = (s_i + s_j)/2 (1 - 0.2 |s_i - s_j|), NumPy, elementwise."""
    s = 0.5 * (di + dj) * (1 - EPS_NA * np.abs(di - dj))
    x = r / s
    phi = x ** -12.0 + C_POLY[0] + C_POLY[1] * x ** 2 + C_POLY[2] * x ** 4
    return np.where(x < XC, phi, 0.0)


def toy_lines(positions, diameters, box, temperature, attempts=1, seed=4321):
    lines = ["units lj", "atom_style sphere", "atom_modify map yes",
             f"region box block 0 {box} 0 {box} 0 {box}", "create_box 1 box"]
    lines += [f"create_atoms 1 single {x} {y} {z}" for x, y, z in positions]
    lines += [f"set atom {k + 1} diameter {d}" for k, d in enumerate(diameters)]
    lines += ["set group all mass 1.0", f"pair_style ipl/smooth/poly 12 2 {XC} {EPS_NA}", "pair_coeff * * 1.0",
              "neighbor 0.3 bin", f"fix sw all swap/diameter 1 {attempts} {temperature} {seed}",
              "thermo_style custom step pe f_sw[1] f_sw[2]", "run 0"]
    return lines


def diameters_by_id(lmp):
    nlocal = lmp.extract_global("nlocal")
    ids = lmp.numpy.extract_atom("id")[:nlocal]
    d = 2 * lmp.numpy.extract_atom("radius")[:nlocal]
    return d[np.argsort(ids)].copy()


def test_swap_energy_bookkeeping_serial_and_two_ranks(tmp_path, mpirun):
    for n in (1, 2):
        out = tmp_path / f"r{n}.json"
        mpirun(n, MPI_SCRIPT, out, 150)
        res = json.loads(out.read_text())
        attempts, accepted, de_sum, _ = res["stats"]
        assert attempts == 50 * 20 and 0 < accepted < attempts
        assert res["pe1"] - res["pe0"] == pytest.approx(de_sum, abs=1e-10 * abs(res["pe0"]))
        k = np.arange(1, 151)
        quantiles = (SMIN ** -2 - (k - 0.5) / 150 * (SMIN ** -2 - SMAX ** -2)) ** -0.5
        np.testing.assert_allclose(np.sort(res["diameters"]), np.sort(quantiles), rtol=1e-12)


def test_swap_acceptance_matches_exact_metropolis_probabilities(lmp):
    """Frozen 2-size toy (N = 64, sizes 1.0 and 1.2, one attempt per step): the exact acceptance
    probability of an attempt is the mean over ordered pairs (i, j), i != j, of
    min(1, exp(-dE_ij / T)), dE_ij from NumPy; the observed acceptances must match the sum over
    attempts (4 sigma), and the same sum at T/1.5 or 1.5 T must not (the test discriminates)."""
    rng = np.random.default_rng(11)
    n, box, temperature, big = 64, (64 / 0.6) ** (1 / 3), 1.0, 1.2
    grid = np.array(list(itertools.product(range(4), repeat=3)), dtype=float)
    positions = (grid + 0.5 + 0.15 * rng.standard_normal(grid.shape)) * box / 4
    lines = toy_lines(positions, np.where(rng.permutation(n) < n // 2, 1.0, big), box, temperature)
    lines.insert(-3, "minimize 0 1e-8 10000 10000")    # a mechanically stable frozen state
    for line in lines:
        lmp.command(line)
    assert XC * big + 0.3 < box / 2    # the minimum image holds every interacting pair
    nlocal = lmp.extract_global("nlocal")
    x = lmp.numpy.extract_atom("x")[:nlocal][np.argsort(lmp.numpy.extract_atom("id")[:nlocal])]
    dx = x[:, None, :] - x[None, :, :]
    dx -= box * np.round(dx / box)
    r = np.linalg.norm(dx, axis=-1)
    np.fill_diagonal(r, 1e6)    # no self-interaction

    temps = (temperature, temperature / 1.5, temperature * 1.5)
    expected, variance = np.zeros(3), np.zeros(3)
    accepted_before = lmp.extract_fix("sw", 0, 1, 1)
    d_prev, pmeans = None, None
    for _ in range(5000):
        d = diameters_by_id(lmp)
        if d_prev is None or np.any(d != d_prev):
            # R[i, a] = sum_k phi(r_ik; size a, d_k): the energy of i if it had size a
            rows = np.stack([pair_energy(r, a, d[None, :]).sum(axis=1) for a in (1.0, big)], axis=1)
            idx = (d == big).astype(int)
            own, other = rows[np.arange(n), idx], rows[np.arange(n), 1 - idx]
            de = (other[:, None] - own[:, None] + other[None, :] - own[None, :]
                  - (pair_energy(r, d[None, :], d[None, :]) - pair_energy(r, d[:, None], d[None, :]))
                  - (pair_energy(r, d[:, None], d[:, None]) - pair_energy(r, d[None, :], d[:, None])))
            off = ~np.eye(n, dtype=bool)
            same = (d[:, None] == d[None, :])[off]
            pmeans = np.array([np.where(same, 1.0, np.exp(-np.clip(de[off], 0.0, None) / t)).mean() for t in temps])
            d_prev = d
        expected += pmeans
        variance += pmeans * (1 - pmeans)
        lmp.command("run 1 pre no post no")
    observed = lmp.extract_fix("sw", 0, 1, 1) - accepted_before
    z = (observed - expected) / np.sqrt(variance)
    assert 0.2 < observed / 5000 < 0.95, observed    # an informative temperature
    assert abs(z[0]) < 4, (observed, expected, z)
    assert abs(z[1]) > 4 and abs(z[2]) > 4, z


def test_swap_samples_boltzmann_distribution_of_size_assignments(lmp):
    """4 particles (2 of size 1.0, 2 of size 1.4) at fixed positions: the chain of swaps visits
    the 6 assignments with probabilities exp(-E/T)/Z (E from NumPy; batch means, 5 standard
    errors), and not with those at T/1.5 or 1.5 T."""
    positions = np.array([(5.0, 5.0, 5.0), (6.1, 5.0, 5.0), (5.55, 5.95, 5.0), (5.55, 5.32, 5.9)])
    temperature = 0.5
    for line in toy_lines(positions, (1.0, 1.0, 1.4, 1.4), 10.0, temperature, seed=97):
        lmp.command(line)
    r = np.linalg.norm(positions[:, None] - positions[None, :], axis=-1)
    iu = np.triu_indices(4, 1)
    states = [s for s in itertools.combinations(range(4), 2)]    # which two are large
    energies = []
    for large in states:
        d = np.array([1.4 if k in large else 1.0 for k in range(4)])
        energies.append(pair_energy(r[iu], d[iu[0]], d[iu[1]]).sum())
    energies = np.array(energies)

    def boltzmann_at(t):
        w = np.exp(-(energies - energies.min()) / t)
        return w / w.sum()

    boltzmann = boltzmann_at(temperature)
    assert boltzmann.min() > 0.02 and boltzmann.max() < 0.7    # the distribution is not trivial

    nbatch, per_batch = 20, 1500
    freq = np.zeros((nbatch, len(states)))
    for b in range(nbatch):
        for _ in range(per_batch):
            lmp.command("run 1 pre no post no")
            large = tuple(np.flatnonzero(diameters_by_id(lmp) > 1.2))
            freq[b, states.index(large)] += 1
    freq /= per_batch
    mean, err = freq.mean(axis=0), freq.std(axis=0, ddof=1) / math.sqrt(nbatch)
    assert np.all(np.abs(mean - boltzmann) < 5 * err + 1e-3), (mean, boltzmann, err)
    for wrong in (temperature / 1.5, temperature * 1.5):    # the test discriminates
        assert np.any(np.abs(mean - boltzmann_at(wrong)) > 5 * err + 1e-3), (mean, boltzmann_at(wrong), err)
    # and the energy LAMMPS computes agrees with the NumPy one for the final state
    large = tuple(np.flatnonzero(diameters_by_id(lmp) > 1.2))
    lmp.command("run 0")
    assert lmp.get_thermo("pe") * 4 == pytest.approx(energies[states.index(large)], rel=1e-10)


@pytest.mark.parametrize("setup, args, message", [
    (["atom_style atomic", "atom_modify map yes"], "1 1 0.1 5", "needs per-atom diameters"),
    (["atom_style sphere", "atom_modify map yes"], "0 1 0.1 5", "N must be > 0"),
    (["atom_style sphere", "atom_modify map yes"], "1 1 -1 5", "T must be >= 0"),
    (["atom_style sphere", "atom_modify map yes"], "1 1 0.1 0", "seed must be > 0"),
    (["atom_style sphere", "atom_modify map yes"], "1 1 0.1 5 bogus", "unknown keyword bogus"),
    (["atom_style sphere"], "1 1 0.1 5", "needs an atom map"),
])
def test_swap_fix_errors(lmp, setup, args, message):
    for line in ["units lj", *setup, "region box block 0 5 0 5 0 5", "create_box 1 box",
                 "create_atoms 1 random 20 3 NULL", "mass 1 1.0" if "atomic" in setup[0] else "set group all mass 1.0",
                 "pair_style lj/cut 2.5", "pair_coeff * * 1.0 1.0"]:
        lmp.command(line)
    with pytest.raises(Exception, match=message):
        lmp.command(f"fix sw all swap/diameter {args}")
        lmp.command("run 0")
