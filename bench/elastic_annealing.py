"""Quenched vs annealed thesis IPL glasses: shear modulus and mean dipole stiffness.

For each folder of ``*.data`` samples (glassmodes prepare ...): G_thesis, G_iso_B (relaxed, CG) and
the mean kappa_ij over --pairs random interacting pairs (CG, rtol 1e-10), per sample and averaged.
Design note B6.3/B6.4: a more annealed deck gives a higher <G>, and <kappa> rises faster than G
(thesis Fig. 6.3: ~100 % vs 26 % over the MD-accessible range, 3D IPL).

Usage: python bench/elastic_annealing.py --quenched DIR --annealed DIR --pairs 100 --limit 4 --out FILE.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np


def sample(data: Path, pairs: int) -> dict:
    from glassmodes.elastic import CGSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.elastic.dipoles import dipole_response, random_pairs
    from glassmodes.elastic.terms import pairs_from_hessian
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.io.hessian import read_hessian

    with tempfile.TemporaryDirectory() as tmp:
        write_hessian_job(HessianJob(source=data, output=Path(tmp) / "H", keywords={"mass": "no"}))
        h = read_hessian(Path(tmp) / "H")
    solver = CGSolver(h.matrix, h.dimension, rtol=1e-10)
    r = relaxed_elastic(terms_from_hessian(h), solver)
    table, _ = pairs_from_hessian(h)
    d = dipole_response(solver, table, h.natoms, random_pairs(table, pairs, seed=1))
    return {"file": data.name, "G_thesis": r.moduli["G_thesis"], "G_iso_B": r.moduli["G_iso_B"],
            "kappa_mean": float(np.mean(d.kappa)), "kappa_median": float(np.median(d.kappa)), "npairs": int(d.kappa.size)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quenched", required=True)
    ap.add_argument("--annealed", required=True)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = {}
    for name, folder in (("quenched", args.quenched), ("annealed", args.annealed)):
        rows = [sample(f, args.pairs) for f in sorted(Path(folder).glob("*.data"))[: args.limit]]
        for r in rows:
            print(name, r, flush=True)
        out[name] = {"samples": rows, **{f"{k}_mean": float(np.mean([r[k] for r in rows]))
                                          for k in ("G_thesis", "G_iso_B", "kappa_mean")},
                     **{f"{k}_sem": float(np.std([r[k] for r in rows], ddof=1) / np.sqrt(len(rows))) if len(rows) > 1 else None
                        for k in ("G_thesis", "G_iso_B", "kappa_mean")}}
    rise = {k: out["annealed"][f"{k}_mean"] / out["quenched"][f"{k}_mean"] - 1 for k in ("G_thesis", "G_iso_B", "kappa_mean")}
    out["relative_rise"] = rise
    out["loadavg"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(out, indent=1))
    print("relative rise annealed/quenched - 1:", rise)
    return 0


if __name__ == "__main__":
    sys.exit(main())
