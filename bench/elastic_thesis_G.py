"""Sample-averaged shear modulus of the thesis IPL glasses vs Kapteijns' thesis Table 3.2.

For every ``*.data`` file (written by ``glassmodes prepare thesis-ipl10-3d|2d ...``) in the given
folders: the plain Hessian (``write_hessian all H mass no``), the affine terms from its pair blocks
(:func:`glassmodes.elastic.terms_from_hessian`), the relaxed tensor by block-Jacobi CG
(rtol 1e-10), and the moduli. Prints and writes per-sample values and the ensemble means with
their standard errors, and the load average.

Usage (from the repository root, PYTHONPATH=pytools):
    python bench/elastic_thesis_G.py GLASSDIR [GLASSDIR ...] --label quenched-3d --out bench/results/elastic_G_q3d.json

Thesis values (Table 3.2, samples quenched from high parent temperature): 3D IPL 12.4, 2D IPL 15.8.
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

THESIS = {3: 12.4, 2: 15.8}


def one_sample(data: Path, workdir: Path) -> dict:
    from glassmodes.elastic import CGSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.io.hessian import read_hessian

    t0 = time.perf_counter()
    H = workdir / "H"
    write_hessian_job(HessianJob(source=data, output=H, keywords={"mass": "no"}))
    h = read_hessian(H)
    t1 = time.perf_counter()
    terms = terms_from_hessian(h)
    res = relaxed_elastic(terms, CGSolver(h.matrix, h.dimension, rtol=1e-10, atom_ids=h.atoms["id"]),
                          max_force=1e-8)
    t2 = time.perf_counter()
    return {"file": data.name, "natoms": h.natoms, "dim": h.dimension, "max_force": terms.meta["max_force"],
            "moduli": res.moduli, "born_moduli": res.born_moduli, "C": res.C.tolist(),
            "stress": res.stress.tolist(), "cg_iterations_max": int(res.solve.iterations.max()),
            "cg_residual_max": float(res.solve.residuals.max()), "seconds_hessian": t1 - t0,
            "seconds_elastic": t2 - t1}


def stats(values) -> dict:
    v = np.asarray(values, dtype=float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else None,
            "sem": float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else None, "n": int(v.size)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--label", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=None, help="at most this many samples per folder")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for folder in args.folders:
            files = sorted(Path(folder).glob("*.data"))[: args.limit]
            for f in files:
                r = one_sample(f, Path(tmp))
                rows.append(r)
                m = r["moduli"]
                print(f"{f.name}: G_thesis {m['G_thesis']:.4f}  G_ss_mean {m['G_simple_shear_mean']:.4f}  "
                      f"G_iso_C {m['G_iso_C']:.4f}  G_iso_B {m['G_iso_B']:.4f}  P {m['P']:.4f}  "
                      f"CG {r['cg_iterations_max']} it {r['seconds_elastic']:.1f} s", flush=True)
    if not rows:
        print("no *.data files", file=sys.stderr)
        return 1
    dim = rows[0]["dim"]
    summary = {k: stats([r["moduli"][k] for r in rows])
               for k in ("G_thesis", "G_simple_shear_mean", "G_iso_C", "G_iso_B", "K", "P")}
    summary["G_born_thesis"] = stats([r["born_moduli"]["G_thesis"] for r in rows])
    out = {"label": args.label, "thesis_G": THESIS.get(dim), "dim": dim, "natoms": rows[0]["natoms"],
           "summary": summary, "samples": rows, "loadavg": os.getloadavg(),
           "units": "LJ (epsilon/sigma^d)", "method": "terms from Hessian pair blocks, relaxed by block-Jacobi CG"}
    Path(args.out).write_text(json.dumps(out, indent=1))
    for k in ("G_thesis", "G_simple_shear_mean", "G_iso_C", "G_iso_B"):
        s = summary[k]
        print(f"{k}: {s['mean']:.4f} +- {s['sem'] or 0:.4f} (sem, n = {s['n']}; thesis {THESIS.get(dim)})")
    print(f"load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
