"""`glassmodes gamma`: gamma(N) over `glassmodes elastic` results against the library and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glassmodes.cli.main import main
from glassmodes.elastic.ensemble import disorder_parameter


def fake_result(path, mu, n, dim=2, units="lj", source=None):
    path.write_text(json.dumps({"format": "glassmodes-elastic-result", "dimension": dim, "units": units,
                                "moduli": {"G_thesis": mu, "K": 2 * mu}, "meta": {"natoms": n},
                                "source": source or str(path)}))
    return str(path)


def ensemble(tmp_path, n, mus, **kw):
    return [fake_result(tmp_path / f"r{n}-{i}.json", float(m), n, **kw) for i, m in enumerate(mus)]


def test_gamma_cli_matches_library_and_overlap(tmp_path, capsys):
    rng = np.random.default_rng(5)
    a = 15 + 15 * np.sqrt(0.3 / 400) * rng.normal(size=60)     # gamma = 0.3 at both sizes
    b = 15 + 15 * np.sqrt(0.3 / 1600) * rng.normal(size=40)
    files = ensemble(tmp_path, 400, a) + ensemble(tmp_path, 1600, b)
    out = tmp_path / "g.json"
    assert main(["gamma", *files, "-o", str(out), "--bootstrap", "500", "--plot", str(tmp_path / "p")]) == 0
    d = json.loads(out.read_text())
    ref = disorder_parameter(a, natoms=400, n_bootstrap=500)
    s400 = d["sizes"][0]
    assert s400["natoms"] == 400 and s400["n_samples"] == 60
    assert abs(s400["gamma"] - ref["gamma"]) < 1e-12 and s400["gamma_ci"] == ref["gamma_ci"]
    assert d["intervals_overlap"] is True and d["modulus"] == "G_thesis"
    assert (tmp_path / "p" / "gamma.png").stat().st_size > 0
    assert "overlap: yes" in capsys.readouterr().out
    # a size with 9x the fluctuations does not overlap
    c = 15 + 15 * np.sqrt(2.7 / 1600) * rng.normal(size=40)
    files2 = files[:60] + [fake_result(tmp_path / f"c{i}.json", float(m), 1600) for i, m in enumerate(c)]
    assert main(["gamma", *files2, "-o", str(out), "--bootstrap", "500"]) == 0
    assert json.loads(out.read_text())["intervals_overlap"] is False
    assert main(["gamma", *files[:60], "--modulus", "K", "--bootstrap", "200"]) == 0
    # one far-tail sample (a soft mode) inflates gamma, not the Gaussian-core gamma
    files3 = files[:60] + [fake_result(tmp_path / "tail.json", -10.0, 400)]
    assert main(["gamma", *files3, "-o", str(out), "--bootstrap", "200"]) == 0
    s = json.loads(out.read_text())["sizes"][0]
    assert s["gamma"] > 10 * ref["gamma"] and abs(s["gamma_core"] / ref["gamma"] - 1) < 0.5 and s["min"] == -10.0


@pytest.mark.parametrize("case, message", [
    ("format", "not a `glassmodes elastic` result"),
    ("key", "no modulus 'G_iso_B'"),
    ("few", "gamma needs at least 3"),
    ("twice", "given twice"),
    ("mixed", "mix dimensions"),
    ("json", "cannot read"),
])
def test_gamma_cli_bad_input(tmp_path, capsys, case, message):
    files = ensemble(tmp_path, 400, [1.0, 1.1, 0.9, 1.05])
    extra = []
    args = []
    if case == "format":
        (tmp_path / "x.json").write_text(json.dumps({"format": "other"}))
        extra = [str(tmp_path / "x.json")]
    elif case == "key":
        args = ["--modulus", "G_iso_B"]
    elif case == "few":
        files = files[:2]
    elif case == "twice":
        extra = [fake_result(tmp_path / "dup.json", 1.0, 400, source=files[0])]
    elif case == "mixed":
        extra = [fake_result(tmp_path / "m.json", 1.0, 400, dim=3)]
    elif case == "json":
        (tmp_path / "bad.json").write_text("{")
        extra = [str(tmp_path / "bad.json")]
    out = tmp_path / "g.json"
    assert main(["gamma", *files, *extra, *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassmodes gamma: error:") and message in err
    assert not out.exists()
