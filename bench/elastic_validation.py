"""Measured agreement of the elastic routes (the numbers quoted in docs/elasticity.md).

Systems: Kob-Andersen glasses of tests/systems.py (2D N = 64 and 256, 3D N = 256), and optionally a
prepared data file (e.g. a thesis IPL glass, pair style ipl/smooth). For each: relative max-norm
differences of
  stress, C^B, Xi: Hessian pair blocks vs LAMMPS finite differences (delta = 1e-6);
  relaxed C: modes vs CG (rtol 1e-10), and CG vs LAMMPS deformation + CG minimization (+-1e-6,
  largest force component 1e-11);
  kappa_ij of 20 random pairs: modes vs CG (rtol 1e-12); the fix addforce displacement (eps = 1e-4)
  vs eps z for one pair.

Usage: python bench/elastic_validation.py [--data FILE.data] --out bench/results/elastic_validation.json
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def measure(lmp, folder: Path) -> dict:
    from glassmodes.elastic import CGSolver, ModeSolver, relaxed_elastic, terms_from_hessian
    from glassmodes.elastic.dipoles import dipole_response, random_pairs
    from glassmodes.elastic.lammps_fd import dipole_displacement, relaxed_from_lammps, terms_from_lammps
    from glassmodes.elastic.terms import pairs_from_hessian
    from glassmodes.io.hessian import read_hessian
    from glassmodes.modes import solve_modes

    lmp.command(f"write_hessian all {folder / 'H'} mass no")
    h = read_hessian(folder / "H")
    d = h.dimension
    th = terms_from_hessian(h)
    tl = terms_from_lammps(lmp, delta=1e-6)
    m = solve_modes(h, backend="dense")
    cg = CGSolver(h.matrix, d, rtol=1e-10)
    r_cg = relaxed_elastic(th, cg)
    r_md = relaxed_elastic(th, ModeSolver.from_modes(m))
    t0 = time.perf_counter()
    lm = relaxed_from_lammps(lmp, delta=1e-6, ftol=1e-11)
    t_lm = time.perf_counter() - t0
    pairs, _ = pairs_from_hessian(h)
    sel = random_pairs(pairs, 20, seed=3)
    dc = dipole_response(CGSolver(h.matrix, d, rtol=1e-12), pairs, h.natoms, sel, keep_z=True)
    dm = dipole_response(ModeSolver.from_modes(m), pairs, h.natoms, sel)
    eps = 1e-4
    u = dipole_displacement(lmp, int(h.atoms["id"][dc.i[0]]), int(h.atoms["id"][dc.j[0]]), eps=eps,
                            ftol=1e-12, maxiter=50000)
    return {"natoms": h.natoms, "dim": d, "pair_style": h.meta.get("pair_style"),
            "stress_blocks_vs_fd": rel(th.stress, tl.stress), "born_blocks_vs_fd": rel(th.born, tl.born),
            "xi_blocks_vs_fd": rel(th.xi, tl.xi), "C_modes_vs_cg": rel(r_md.C, r_cg.C),
            "C_cg_vs_lammps_minimize": rel(r_cg.C, lm["C"]), "A_vs_C_raw_difference": rel(lm["A"], lm["C"]),
            "cg_iterations": int(r_cg.solve.iterations.max()), "cg_residual": float(r_cg.solve.residuals.max()),
            "kappa_modes_vs_cg": rel(dm.kappa, dc.kappa), "addforce_vs_eps_z": rel(u, eps * dc.z[:, 0]),
            "seconds_lammps_deform_minimize": t_lm, "G_thesis": r_cg.moduli["G_thesis"],
            "pressure": r_cg.moduli["P"], "max_force": th.meta["max_force"]}


def main(argv=None) -> int:
    from glassmodes.lammps_session import open_lammps
    from systems import ka_glass, run

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="*", default=[])
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    rows = []
    cases = [("ka-2d-64", (2, 64)), ("ka-2d-256", (2, 256)), ("ka-3d-256", (3, 256))]
    cases += [(Path(p).stem, p) for p in args.data]
    for name, spec in cases:
        lmp = open_lammps()
        with tempfile.TemporaryDirectory() as tmp:
            if isinstance(spec, tuple):
                run(lmp, ka_glass(spec[1], dimension=spec[0], ftol=1e-13))
            else:
                from glassmodes.hessian_job import data_commands

                lmp.commands_list(data_commands(Path(spec)))
            row = {"case": name, **measure(lmp, Path(tmp))}
        lmp.close()
        rows.append(row)
        print(json.dumps(row), flush=True)
        Path(args.out).write_text(json.dumps({"rows": rows, "loadavg": os.getloadavg()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
