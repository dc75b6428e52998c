"""`glassmodes attenuation`: pooled Lanczos lines over samples, against the library, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from glassmodes.cli.main import main
from glassmodes.elastic.attenuation import fit_line, lanczos_measures
from glassmodes.io.hessian import read_hessian
from glassmodes.hessian_job import HessianJob, write_hessian_job


@pytest.fixture(scope="module")
def hessians(tmp_path_factory, plugin):
    """Three 2D thesis IPL glasses, N = 100 (data files: the CLI computes their Hessians)."""
    folder = tmp_path_factory.mktemp("attcli")
    assert main(["prepare", "thesis-ipl10-2d", "--n", "100", "--seed", "1", "--samples", "3", "--set", "T_liquid=2.0",
                 "--set", "rate=0", "--out", str(folder), "--quiet"]) == 0
    return [str(folder / f"thesis-ipl10-2d-N100-s{s}.data") for s in (1, 2, 3)]


def test_attenuation_cli_pools_samples(hessians, tmp_path):
    out = tmp_path / "a.json"
    assert main(["attenuation", *hessians, "--shells", "2", "4", "--steps", "120", "-o", str(out),
                 "--plot", str(tmp_path / "p")]) == 0
    d = json.loads(out.read_text())
    assert d["format"] == "glassmodes-attenuation" and len(d["samples"]) == 3
    (size,) = d["sizes"]
    assert size["natoms"] == 100 and size["samples"] == 3 and "gamma" in size
    assert set(d["thesis"]["predicted"]) == {"100"}
    # the pooled line = fit_line over the library's measures of the three samples
    ms = []
    for p, rec in zip(hessians, d["samples"]):
        write_hessian_job(HessianJob(source=Path(p), output=tmp_path / "H", keywords={"mass": "no"}))
        h = read_hessian(tmp_path / "H")
        ms.append(lanczos_measures(h.dynamical_matrix(), h.positions(), h.atoms["mass"], h.meta["box"], [4],
                                   rec["c_t"], 120)[0])
    ref = fit_line(ms)
    line = size["lines"][1]
    assert line["shell"] == 4 and abs(line["gamma"] - ref.gamma) < 1e-10 * ref.gamma
    assert line["n_line"] == ref.n_line
    G = np.array([r["G_thesis"] for r in d["samples"]])
    assert abs(size["omega0"] - np.sqrt(G.mean() / size["rho"]) / size["a0"]) < 1e-12 * size["omega0"]
    assert (tmp_path / "p" / "attenuation_lanczos.png").stat().st_size > 0


@pytest.mark.parametrize("extra, message", [(["--shells", "0"], "--shells"), (["--steps", "3"], "--steps"),
                                            (["--fit-max", "0"], "--fit-max"), (["--bootstrap", "-1"], "--bootstrap")])
def test_attenuation_cli_bad_options(hessians, tmp_path, capsys, extra, message):
    out = tmp_path / "a.json"
    assert main(["attenuation", hessians[0], *extra, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassmodes attenuation: error:") and message in err and not out.exists()


def test_attenuation_cli_missing_file(tmp_path, capsys):
    assert main(["attenuation", str(tmp_path / "nope"), "-o", str(tmp_path / "a.json")]) == 2
    assert "no such file" in capsys.readouterr().err
