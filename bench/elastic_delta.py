"""Shear modulus and its sample-to-sample fluctuations under the stress-scaled Hessian M(delta).

Kapteijns' thesis (Ch. 5, Eqs. 5.3-5.4, Fig. 5.2c and its inset; Fig. 1.x(d)): M(delta) = M'' +
(1 - delta) M' suppresses the internal-force term; increasing delta mimics deeper annealing: the
moduli distribution narrows, its left (soft-mode) tail disappears and the disorder parameter
gamma = N (Delta G / <G>)^2 drops (the Rayleigh prefactor by nearly two decades between delta = 0
and 0.5). Per sample and delta: G_thesis, G_ss (mean of the simple-shear moduli) by block-Jacobi CG
on M(delta) (terms with phi' scaled alike, glassmodes.elastic.terms.scale_force_term), and the mean
dipole stiffness of --pairs random pairs; per delta: mean +- s.e., gamma(G_thesis) with a 95 %
bootstrap interval (glassmodes.elastic.ensemble.disorder_parameter), the sample skewness.

Usage: python bench/elastic_delta.py DIR --deltas 0 0.25 0.5 --limit 40 --pairs 50 \
           --out bench/results/elastic_delta_2d.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def sample(data: Path, deltas, pairs: int) -> dict:
    from glassmodes.elastic import CGSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.elastic.dipoles import dipole_response, random_pairs
    from glassmodes.elastic.terms import pairs_from_hessian, stress_scaled_hessian
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.io.hessian import read_hessian

    with tempfile.TemporaryDirectory() as tmp:
        write_hessian_job(HessianJob(source=data, output=Path(tmp) / "H", keywords={"mass": "no"}))
        h = read_hessian(Path(tmp) / "H")
    table, _ = pairs_from_hessian(h)
    sel = random_pairs(table, pairs, seed=1)
    out = {"file": data.name, "natoms": h.natoms, "by_delta": {}}
    for delta in deltas:
        solver = CGSolver(stress_scaled_hessian(h.matrix, table, delta), h.dimension, rtol=1e-10)
        r = relaxed_elastic(terms_from_hessian(h, delta=delta), solver)
        k = dipole_response(solver, table, h.natoms, sel).kappa
        out["by_delta"][f"{delta:g}"] = {"G_thesis": r.moduli["G_thesis"], "G_ss": r.moduli["G_simple_shear_mean"],
                                         "kappa_mean": float(k.mean()), "cg_iterations": int(r.solve.iterations.max())}
    return out


def main(argv=None) -> int:
    from glassmodes.elastic.ensemble import disorder_parameter, skewness

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--deltas", type=float, nargs="+", default=[0.0, 0.25, 0.5])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    files = sorted(Path(args.folder).glob("*.data"))[: args.limit]
    t0 = time.perf_counter()
    rows = []
    for f in files:
        rows.append(sample(f, args.deltas, args.pairs))
        print(rows[-1]["file"], {d: round(v["G_thesis"], 3) for d, v in rows[-1]["by_delta"].items()}, flush=True)
    n = rows[0]["natoms"]
    per = {}
    for delta in args.deltas:
        key = f"{delta:g}"
        g = np.array([r["by_delta"][key]["G_thesis"] for r in rows])
        gs = np.array([r["by_delta"][key]["G_ss"] for r in rows])
        ka = np.array([r["by_delta"][key]["kappa_mean"] for r in rows])
        se = lambda v: float(v.std(ddof=1) / np.sqrt(v.size))
        per[key] = {"G_thesis_mean": float(g.mean()), "G_thesis_sem": se(g), "G_ss_mean": float(gs.mean()),
                    "G_ss_sem": se(gs), "kappa_mean": float(ka.mean()), "kappa_sem": se(ka),
                    "gamma_G_thesis": disorder_parameter(g, n), "skewness_G_thesis": skewness(g),
                    "relative_sd_G_thesis": float(g.std(ddof=1) / g.mean())}
        print(key, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in per[key].items()
                    if k != "gamma_G_thesis"}, "gamma", round(per[key]["gamma_G_thesis"]["gamma"], 2),
              per[key]["gamma_G_thesis"]["gamma_ci"], flush=True)
    Path(args.out).write_text(json.dumps({"folder": args.folder, "nsamples": len(rows), "natoms": n,
                                          "pairs_per_sample": args.pairs, "by_delta": per, "samples": rows,
                                          "seconds": time.perf_counter() - t0, "loadavg": os.getloadavg()},
                                         indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
