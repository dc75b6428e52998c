"""What limits the `fix addforce` check of a dipole response on a thesis IPL glass (issue 18, B6.4: 1e-6).

The check: apply the external forces +-eps d_ij with `fix addforce`, minimize (CG, largest force
component ftol), and compare the central difference u = (u(+eps) - u(-eps))/2 with eps z,
z = H^+ d_ij (here from a dense eigendecomposition of the plain Hessian: no solver tolerance).
Error = max_k |u_k - eps z_k| / max_k |eps z_k| (as in tests/test_elastic.py).

Two error sources with opposite eps dependence:
  * nonlinearity: the central difference leaves O(eps^3) in u, i.e. a relative error ~ c eps^2;
    Richardson's combination (8 D(eps) - D(2 eps))/6 removes it (O(eps^4) left);
  * the minimizer's floor: the residual force f_res <= ftol leaves a displacement ~ H^+ f_res,
    a relative error ~ ftol / (eps lambda_min |z|_max) that grows as eps shrinks.
And a third, specific to prepared samples: the reference state is itself minimized only to the
deck's ftol (1e-10); the central difference cancels its linear response, but the Hessian and z
belong to that slightly-off state. `--reminimize F` first minimizes the reference to F.

Usage: python bench/elastic_addforce.py DATA --eps 1e-3 3e-4 1e-4 3e-5 --ftol 1e-12 1e-13 \
           [--reminimize 1e-13] --out bench/results/elastic_addforce.json
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


def main(argv=None) -> int:
    from glassmodes.elastic import ElasticError
    from glassmodes.elastic.dipoles import dipole_vectors, random_pairs
    from glassmodes.elastic.lammps_fd import dipole_displacement
    from glassmodes.elastic.terms import pair_forces, pairs_from_hessian
    from glassmodes.hessian_job import data_commands
    from glassmodes.io.hessian import read_hessian
    from glassmodes.lammps_session import open_lammps

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--eps", type=float, nargs="+", default=[1e-3, 3e-4, 1e-4, 3e-5])
    ap.add_argument("--ftol", type=float, nargs="+", default=[1e-12])
    ap.add_argument("--reminimize", type=float, default=None, help="minimize the reference state to this first")
    ap.add_argument("--pair-seed", type=int, default=3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    lmp = open_lammps()
    lmp.commands_list(data_commands(Path(args.data)))
    if args.reminimize:
        lmp.command("min_style cg")
        lmp.command("min_modify norm max")
        lmp.command(f"minimize 0 {args.reminimize!r} 200000 2000000")
    out = {"data": str(args.data), "reminimize": args.reminimize, "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        lmp.command(f"write_hessian all {tmp}/H mass no")
        h = read_hessian(Path(tmp) / "H")
    pairs, _ = pairs_from_hessian(h)
    d = h.dimension
    out["reference_max_force"] = float(np.max(np.linalg.norm(pair_forces(pairs, h.natoms), axis=1)))
    lam, vec = np.linalg.eigh(h.matrix.toarray())
    keep = np.arange(d, lam.size)                       # the d translations excluded
    if lam[d] <= 0:
        raise ElasticError(f"Hessian eigenvalue {lam[d]:.3e} <= 0")
    sel = random_pairs(pairs, 20, seed=args.pair_seed)[:1]
    D = dipole_vectors(pairs, h.natoms, sel)[:, 0]
    z = vec[:, keep] @ ((vec[:, keep].T @ D) / lam[keep])
    i, j = int(h.atoms["id"][pairs.i[sel[0]]]), int(h.atoms["id"][pairs.j[sel[0]]])
    out.update({"pair_ids": [i, j], "lambda_min": float(lam[d]), "lambda_max": float(lam[-1]),
                "z_maxabs": float(np.max(np.abs(z))), "kappa": float(D @ z / (z @ z)), "natoms": h.natoms})
    print({k: v for k, v in out.items() if k != "rows"}, flush=True)
    cache = {}
    for ftol in args.ftol:
        for eps in sorted(set(args.eps) | {2 * e for e in args.eps}):
            t0 = time.perf_counter()
            try:
                u = dipole_displacement(lmp, i, j, eps=eps, ftol=ftol, maxiter=200000)
                cache[(ftol, eps)] = u
                err = float(np.max(np.abs(u - eps * z)) / np.max(np.abs(eps * z)))
                note = ""
            except ElasticError as exc:
                err, note = None, str(exc)
            row = {"ftol": ftol, "eps": eps, "error": err, "seconds": time.perf_counter() - t0, "note": note}
            out["rows"].append(row)
            print(row, flush=True)
        for eps in args.eps:
            if (ftol, eps) in cache and (ftol, 2 * eps) in cache:
                u = (8 * cache[(ftol, eps)] - cache[(ftol, 2 * eps)]) / 6
                err = float(np.max(np.abs(u - eps * z)) / np.max(np.abs(eps * z)))
                row = {"ftol": ftol, "eps": eps, "richardson": True, "error": err}
                out["rows"].append(row)
                print(row, flush=True)
    out["loadavg"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(out, indent=1))
    lmp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
