"""Benchmark: Kumar, Procaccia, Singh (arXiv:2102.12368, 2021) at reduced scale with glassmodes expand.

Glasses: ``glassmodes prepare seed003-2d --n 1000 --seed 1 --samples K --out GLASSES`` (deck
inputs/seed003-2d.in: 2D polydisperse r^-12, swap-MD at T = 0.1, quench to forces <= 1e-10).
For each glass this script writes the dynamical matrix and the order-4 pair table in one LAMMPS
run, all modes by dense diagonalization (kept in WORK, reused on a rerun), then expands with two
selections: the paper's stated rule (PR < 0.27, all frequencies), PR < 0.27 below the lower
edge of the first transverse phonon band, and (for P(beta) only) every mode. The first two are
checked against LAMMPS (line fits of the two lowest selected modes per sample and of every
double-well candidate, relaxation from every second well).

usage: python bench/expansion_seed003.py GLASSES WORK [OUT_PREFIX]
       (OUT_PREFIX default bench/results/expansion_seed003; writes OUT_PREFIX.json and tables)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from glassmodes.expansion.driver import expand_samples
from glassmodes.expansion.ensemble import save_plots, summarize, write_table
from glassmodes.hessian_job import HessianJob
from glassmodes.lammps_session import open_lammps
from glassmodes.modes import solve_modes, write_modes

REPO = Path(__file__).resolve().parents[1]


def prepare_sample(data: Path, work: Path) -> dict:
    stem = data.stem
    h, f4, m = work / f"{stem}.H", work / f"{stem}.F4", work / f"{stem}.modes.h5"
    t = {}
    if not m.is_file():
        t0 = time.perf_counter()
        lmp = open_lammps()
        try:
            for line in HessianJob(source=data, output=h).commands():
                lmp.command(line)
            lmp.command(f"write_fc3 all {f4} order 4")
        finally:
            lmp.close()
        t["lammps_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_modes(m, solve_modes(h, backend="dense"))
        t["modes_s"] = time.perf_counter() - t0
        for p in (h, Path(f"{h}.json"), Path(f"{h}.atoms.npy")):
            p.unlink(missing_ok=True)
    return {"modes": m, "fc": f4, "data": data, "timing": t}


def main(glasses: Path, work: Path, prefix: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    datas = sorted(glasses.glob("seed003-2d-N*-s*.data"), key=lambda p: int(p.stem.rsplit("-s", 1)[1]))
    t_all = time.perf_counter()
    samples, prep_t = [], []
    for d in datas:
        s = prepare_sample(d, work)
        prep_t.append(s.pop("timing"))
        samples.append(s)
        print(f"{d.name}: ready {prep_t[-1]}", file=sys.stderr, flush=True)
    prep_logs, params = [], None
    for d in datas:
        js = d.with_suffix(".json")
        if js.is_file():
            meta = json.loads(js.read_text())
            prep_logs.append(meta.get("cpu_time"))
            params = params or meta.get("parameters")
    out = {"command": "python bench/expansion_seed003.py " + " ".join(sys.argv[1:]),
           "glasses": f"glassmodes prepare seed003-2d --n 1000 --seed S --samples {len(datas)} --out {glasses} "
                      "(S and any --set: see seeds and deck_parameters)",
           "samples": len(datas), "machine": f"{os.cpu_count()} cores shared (load {os.getloadavg()[0]:.1f} at the end)",
           "seconds_hessian_fc4": float(np.sum([t.get('lammps_s', 0) for t in prep_t])),
           "seconds_modes_dense": float(np.sum([t.get('modes_s', 0) for t in prep_t])),
           "cpu_seconds_prepare_per_glass": prep_logs, "deck_parameters": params,
           "seeds": [int(d.stem.rsplit("-s", 1)[1]) for d in datas]}
    results = {}
    for name, opts in (("pr027", dict(pr_max=0.27, below_band=False, check_lines=2)),
                       ("pr027_below_band", dict(pr_max=0.27, below_band=True, check_lines=2)),
                       ("all_modes", dict(pr_max=None))):
        t0 = time.perf_counter()
        samp = samples if "check_lines" in opts else [{k: v for k, v in s.items() if k != "data"} for s in samples]
        cols, infos = expand_samples(samp, progress=lambda m: print(m, file=sys.stderr, flush=True), **opts)
        summary = summarize(cols, n_samples=len(samples)) if cols else {"modes": 0}
        summary["seconds"] = time.perf_counter() - t0
        if cols:
            if name != "all_modes":     # ~2000 rows per sample: summary only
                write_table(f"{prefix}_{name}.csv", cols, {"summary": summary, "command": out["command"]})
            save_plots(cols, Path(f"{prefix}_plots"), omega_unit="rad/tau", prefix=f"{name}_")
        if cols and "lammps_rel_err" in cols:
            err = np.asarray(cols["lammps_rel_err"], float)
            free = np.asarray(cols["lammps_crossing_free"], bool)
            chk = np.isfinite(err)
            spread = np.asarray(cols["lammps_fit_spread"], float)
            tight = chk & free & (spread < 1e-6)
            summary["lammps_line_fits"] = {
                "checked": int(chk.sum()), "crossing_free": int((chk & free).sum()),
                "max_rel_err_b2_b3_b4": float(np.nanmax(err)) if chk.any() else None,
                "median_rel_err": float(np.nanmedian(err)) if chk.any() else None,
                "fits_with_spread_below_1e-6": int(tight.sum()),
                "max_rel_err_of_those": float(err[tight].max()) if tight.any() else None,
                "worst": {k: float(np.asarray(cols[k])[np.nanargmax(err)]) for k in
                          ("sample", "mode", "lammps_rel_err", "lammps_fit_spread", "lammps_amplitude")}
                if chk.any() else None}
            dw = np.asarray(cols["has_second_well"], bool)
            summary["second_wells"] = {
                "candidates": int(dw.sum()), "distinct_is": int(np.asarray(cols["is2_distinct"], bool)[dw].sum()),
                "rows": [{k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in cols.items()
                          if k in ("sample", "mode", "omega", "pr", "beta", "group", "barrier", "asymmetry",
                                   "is2_energy", "is2_distinct", "is2_max_displacement", "is2_overlap", "is2_error")}
                         for i in np.nonzero(dw)[0]]}
        results[name] = {"selection": infos[0]["selection"]["rule"] if infos else None, "summary": summary}
        if name == "pr027_below_band" and infos:
            results[name]["phonon_band_edges"] = [i["selection"]["phonon_band"]["omega_edge"] for i in infos]
    out["results"] = results
    out["seconds_total"] = time.perf_counter() - t_all
    Path(f"{prefix}.json").write_text(json.dumps(out, indent=1, default=str))
    return out


if __name__ == "__main__":
    g, w = Path(sys.argv[1]), Path(sys.argv[2])
    pre = Path(sys.argv[3]) if len(sys.argv) > 3 else REPO / "bench" / "results" / "expansion_seed003"
    res = main(g, w, pre)
    print(json.dumps({name: {k: v["summary"].get(k) for k in ("A", "B", "B_fraction", "B_fraction_err")}
                      for name, v in res["results"].items()}, default=str))
