"""Double wells: path splitting on analytic potentials, bad input, MD minima of the seed-002 model.

The analytic potentials (glassmodes.landscape.model) have stationary points known in closed form (roots of
a polynomial), so the split chain and every segment's barrier are checked against exact numbers; the MD
route is run at small scale on one of the public seed-002 minima.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from glassmodes.landscape.model import (FunctionLandscape, quadruple_well, triple_well, valley_potential,
                                        valley_stationary_points)
from glassmodes.landscape.neb import neb_python
from glassmodes.landscape.tls import analyze_pair, hop_pairs, table_rows, transition_pairs

SEED002 = os.environ.get("GLASSMODES_SEED002_IS", "/work/shared/data/seed002_is")
START = "2.044528139E-01.conf.txt"
needs_seed002 = pytest.mark.skipif(not os.path.isdir(SEED002), reason=f"seed-002 minima not found at {SEED002}")


def _well(v1, bend=0.5):
    """Exact stationary energies, the landscape and the outermost minima (A, B) of a valley potential."""
    r, v = valley_stationary_points(v1)
    land = FunctionLandscape(valley_potential(v1, bend=bend))
    return v, land, np.array([[r[0], bend * r[0] ** 2, 0.0]]), np.array([[r[-1], bend * r[-1] ** 2, 0.0]])


def test_stationary_points_are_stationary():
    for v1 in (triple_well(0.05), quadruple_well(0.02)):
        land = FunctionLandscape(valley_potential(v1))
        r, v = valley_stationary_points(v1)
        assert r.size == v1.deriv().order        # all roots real: minima and saddles alternate
        for x, e in zip(r, v):
            en, f = land.energy_forces(np.array([[x, 0.5 * x * x, 0.0]]))
            assert abs(en - e) < 1e-14 and np.abs(f).max() < 1e-10
        ev = [land.lowest_hessian_eigenvalues(np.array([[x, 0.5 * x * x, 0.0]]))[0] for x in r]
        assert all((k % 2 == 0) == (ev[k] > 0) for k in range(r.size))   # minimum, saddle, minimum, ...


def test_split_at_image_minimum_triple_well():
    """A -> B through C: the NEB image at C is a minimum; the split recovers C and both exact barriers."""
    v, land, xa, xb = _well(triple_well(0.05))
    row = analyze_pair(land, xa, xb, hbar=0.05, E_th=1e-3, nimages=7, modes=None)
    assert row["status"] == "not elementary" and row["interior_minima"] and row["E"] is None
    np.testing.assert_allclose(row["split_energies"], [0.0, v[2] - v[0], v[4] - v[0]], atol=1e-12)
    s0, s1 = row["segments"]
    assert s0["status"] == s1["status"] == "ok" and s0["saddle"]["negative"] == s1["saddle"]["negative"] == 1
    assert abs(s0["barrier"] - (v[1] - v[0])) < 1e-9 and abs(s1["barrier"] - (v[3] - v[2])) < 1e-9
    assert abs(s0["asymmetry"] - (v[2] - v[0])) < 1e-12 and s0["E"] > 0 and s1["E"] > 0
    rows = table_rows("A__B", row)
    assert [r["pair"] for r in rows] == ["A__B", "A__B#0", "A__B#1"]
    assert [r["parent"] for r in rows] == ["", "A__B", "A__B"]


def test_split_hidden_minimum_between_images():
    """Five images across four wells: no image is a minimum, the Hermite path dips between images."""
    v, land, xa, xb = _well(quadruple_well(0.02))
    row = analyze_pair(land, xa, xb, hbar=0.05, E_th=1e-3, nimages=5, modes=None)
    assert row["status"] == "not elementary" and not row["interior_minima"] and len(row["hidden_minima"]) == 2
    np.testing.assert_allclose(row["split_energies"], v[::2] - v[0], atol=1e-12)
    assert [s["status"] for s in row["segments"]] == ["ok"] * 3
    # each segment: barrier from its lower end to the saddle between (exact)
    want = [v[1] - v[0], v[3] - v[2], v[5] - v[6]]
    np.testing.assert_allclose([s["barrier"] for s in row["segments"]], want, atol=1e-9)


def test_split_recursive_when_images_skip_a_well():
    """Four images across four wells: the images see one barrier; the connectivity check (images next to the
    saddle relax to other minima) splits, and a segment that still holds a well is split again (depth 2)."""
    v, land, xa, xb = _well(quadruple_well(0.02))
    mep = neb_python(land, xa, xb, nimages=4)
    assert not mep.interior_minima() and not mep.hidden_minima(1e-8)   # the images alone cannot tell
    row = analyze_pair(land, xa, xb, hbar=0.05, E_th=1e-3, nimages=4, modes=None)
    assert row["status"] == "not elementary" and not row["connectivity"]["A"]["same"]
    rows = table_rows("P", row)
    ok = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: r["barrier"])
    np.testing.assert_allclose([r["barrier"] for r in ok], sorted([v[1] - v[0], v[3] - v[2], v[5] - v[6]]),
                               atol=1e-9)
    assert max(r["pair"].count("#") for r in rows) == 2 and all(r["saddle_negative"] == 1 for r in ok)
    assert {r["parent"] for r in rows if r["pair"].count("#") == 2} == {"P#1"}
    # bounded depth: one level only, the deeper segment stays flagged and says why
    row1 = analyze_pair(land, xa, xb, hbar=0.05, E_th=1e-3, nimages=4, modes=None, max_depth=1)
    deep = [s for s in row1["segments"] if s["status"] == "not elementary"]
    assert deep and "split depth 1 reached" in deep[0]["message"] and "segments" not in deep[0]


def test_bad_input_ends_identical_unconverged_hbar():
    v, land, xa, xb = _well(triple_well(0.05))
    # an end that is not a minimum is re-minimized, and the row says so
    row = analyze_pair(land, xa + 0.02, xb, hbar=0.05, E_th=1e-3, nimages=7, modes=None)
    (r,) = row["reminimized"]
    assert r["end"] == "A" and r["fmax_before"] > 0.1 and r["fmax_after"] <= 1e-10 and r["max_move"] > 0.01
    assert abs(row["E_A"] - v[0]) < 1e-12
    # identical endpoints (also after re-minimization)
    with pytest.raises(ValueError, match="identical endpoints"):
        analyze_pair(land, xa, xa + 1e-4, hbar=0.05, E_th=1e-3, modes=None)
    # a NEB that does not converge: a flagged row, no numbers from the path
    row = analyze_pair(land, xa, xb, hbar=0.05, E_th=1e-3, nimages=7, modes=None, neb_maxiter=20)
    assert row["status"] == "NEB not converged" and row["E"] is None and "did not converge" in row["message"]
    assert "barrier" not in row and table_rows("x", row)[0]["barrier"] is None
    # hbar is required
    for h in (None, 0.0):
        with pytest.raises(ValueError, match="hbar"):
            analyze_pair(land, xa, xb, hbar=h, E_th=1e-3, modes=None)


def test_hop_graph_skips_flagged_frames():
    assert hop_pairs([0, 1, 0, 1, -1, 0, 2], min_hops=1, back_and_forth=False) == [
        {"a": 0, "b": 1, "hops": 3, "ab": 2, "ba": 1, "first_frame": 1},
        {"a": 0, "b": 2, "hops": 1, "ab": 1, "ba": 0, "first_frame": 6}]
    assert hop_pairs([0, 1, 0, 1, -1, 0, 2]) == hop_pairs([0, 1, 0, 1], min_hops=3)   # defaults: >= 2, both ways
    L = np.full(3, 10.0)
    x = np.zeros((2, 3))
    y = x.copy()
    y[0, 0] = 0.5
    labels, pairs = transition_pairs([x, y, x + 1e-5, y, x + 10.0], L)   # x + 10: a periodic image, same minimum
    assert labels.tolist() == [0, 1, 0, 1, 0] and pairs[0]["hops"] == 4 and pairs[0]["ab"] == pairs[0]["ba"] == 2


def test_charge_data_roundtrip(tmp_path):
    from glassmodes.landscape.neb import read_configuration, write_charge_data

    if not os.path.isdir(SEED002):
        pytest.skip("seed-002 minima not found")
    c = read_configuration(f"{SEED002}/{START}")
    x = c.x + np.array([20.0, -11.4471, 0.3])           # any image
    write_charge_data(tmp_path / "a.conf.txt", c, x)
    d = read_configuration(tmp_path / "a.conf.txt")
    np.testing.assert_array_equal(d.ids, c.ids)
    np.testing.assert_array_equal(d.diameters, c.diameters)
    np.testing.assert_array_equal(d.masses, c.masses)
    np.testing.assert_allclose(d.x, x, atol=1e-12)


def _cli(*argv):
    return subprocess.run([sys.executable, "-m", "glassmodes.cli.main", *map(str, argv)], capture_output=True,
                          text=True)


@needs_seed002
def test_md_minima_seed002_small(tmp_path, plugin):
    """MD at T = 0.04 from a seed-002 minimum with a minimization every 50 steps: every stored minimum is
    a minimum (re-evaluated), every quench is within same_tol of its labelled minimum, and the files
    written reproduce the energies."""
    from glassmodes.landscape.md import MDSettings, md_minima, read_transitions, write_md_minima
    from glassmodes.landscape.neb import Landscape, read_configuration

    cfg = read_configuration(f"{SEED002}/{START}")
    st = MDSettings(temperature=0.04, steps=300, quench_every=50, equilibrate=200, seed=11)
    res = md_minima(cfg, st)
    assert res.labels.size == 7 and np.all(res.labels >= 0) and np.all(res.fmax <= 1e-10)
    assert 0.02 < np.mean(res.md_temperature) < 0.06
    assert res.visits.sum() == 7 and len(res.minima_x) == res.visits.size
    for k, lab in enumerate(res.labels):
        assert abs(res.energy[k] - res.minima_energy[lab]) < 1e-8
    s = write_md_minima(tmp_path / "md", cfg, res, st, "pair_style ipl/smooth/poly 12 2 1.25 0.2\npair_coeff * * 1.0",
                        min_hops=1, back_and_forth=False)
    files = sorted((tmp_path / "md" / "minima").glob("*.conf.txt"))
    assert len(files) == s["distinct_minima"] == res.visits.size
    with Landscape(cfg) as land:
        for f in files:
            c = read_configuration(f)
            e, fo = land.energy_forces(c.x, rebuild=True)
            assert abs(e / cfg.natoms - float(re.match(r"[-0-9.]+E[-+]\d+", f.name).group())) < 1e-9
            assert np.abs(fo).max() < 1e-9
    rows = read_transitions(tmp_path / "md" / "transitions.csv", candidates_only=False)
    assert sum(r["hops"] for r in rows) == int(np.sum(res.labels[1:] != res.labels[:-1]))
    summary = json.loads((tmp_path / "md" / "summary.json").read_text())
    assert summary["format"] == "glassmodes-md-minima" and summary["units"]["energy"].startswith("eps")


@needs_seed002
def test_md_cli_errors(tmp_path):
    r = _cli("is-trajectory", f"{SEED002}/{START}", "--md", "-o", tmp_path / "md", "--steps", "10")
    assert r.returncode != 0 and "needs --temperature and --steps" in r.stderr and "Traceback" not in r.stderr
    r = _cli("is-trajectory", f"{SEED002}/{START}", "--md", "-o", tmp_path / "md", "--steps", "10",
             "--temperature", "0.04", "--quench-every", "20")
    assert r.returncode != 0 and "exceeds the number of steps" in r.stderr
    r = _cli("is-trajectory", "x.dump", "-o", tmp_path / "IS.h5")
    assert r.returncode != 0 and "--forcefield is required" in r.stderr
    bad = tmp_path / "t.csv"
    bad.write_text("a,b\n1,2\n")
    (tmp_path / "m").mkdir()
    for n in ("a.conf.txt", "b.conf.txt"):
        (tmp_path / "m" / n).write_text(open(f"{SEED002}/{START}").read())
    r = _cli("double-wells", tmp_path / "m", "--out", tmp_path / "o", "--transitions", bad, "--pairs-only")
    assert r.returncode != 0 and "not a transitions file" in r.stderr and "Traceback" not in r.stderr


@needs_seed002
@pytest.mark.slow
def test_md_to_double_wells_command_sequence(tmp_path, plugin):
    """The documented sequence at small scale: is-trajectory --md, then double-wells --transitions."""
    md = tmp_path / "md"
    r = _cli("is-trajectory", f"{SEED002}/{START}", "--md", "--temperature", "0.04", "--steps", "400",
             "--quench-every", "100", "--equilibrate", "200", "--seed", "7", "--min-hops", "1", "--one-way",
             "-o", md, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "distinct minima" in r.stdout
    rows = list(csv.DictReader(open(md / "transitions.csv")))
    assert rows, "this seed gives hops at T = 0.04 (deterministic serial MD)"
    r = _cli("double-wells", md / "minima", "--transitions", md / "transitions.csv", "--out", tmp_path / "dw",
             "--hbar", "0.01", "--preset", "argon", "--modes", "none", "--max-pairs", "1", "--quiet")
    assert r.returncode == 0, r.stderr
    pairs = list(csv.DictReader(open(tmp_path / "dw" / "pairs.csv")))
    assert len(pairs) == sum(1 for x in rows if x["candidate"] == "1") and "hops" in pairs[0]
    table = list(csv.DictReader(open(tmp_path / "dw" / "double_wells.csv")))
    assert table and table[0]["status"] in ("ok", "not elementary", "saddle check failed")
    assert float(table[0]["barrier"]) > 0


def test_minimum_names_seed002_convention():
    from glassmodes.landscape.md import minimum_names

    assert minimum_names(np.array([306.679, 306.679, 300.0]), 1500) == [
        "2.044526667E-01.conf.txt", "2.044526667E-01-1.conf.txt", "2.000000000E-01.conf.txt"]


def test_split_that_finds_no_new_minimum_is_flagged_not_recursed(monkeypatch):
    """If every intermediate candidate relaxes into A or B, the path stays flagged (no endless re-split)."""
    import glassmodes.landscape.tls as tls

    v, land, xa, xb = _well(triple_well(0.05))
    monkeypatch.setattr(tls, "split_path", lambda land, mep, **kw: [(mep.x[0], mep.energy[0]),
                                                                      (mep.x[-1], mep.energy[-1])])
    row = analyze_pair(land, xa, xb, hbar=0.05, E_th=1e-3, nimages=7, modes=None)
    assert row["status"] == "not elementary" and "relaxes into an end" in row["message"]
    assert row["segments"] == [] and row["split_energies"] == [] and row["E"] is None
