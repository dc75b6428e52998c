"""Small-ensemble statistics of the thesis' relations between harmonic, quartic, cubic and pseudo-harmonic
modes (Kapteijns thesis ch. 3-4), one softest harmonic mode psi per sample, the CLI's chain psi -> pi4 -> pi3,
PHM from psi.

NOT the thesis' model or sample counts: 3D Kob-Andersen glasses (tests/systems.ka_glass: random start,
minimized, i.e. an instantaneous quench), N = 300, a handful of samples; it checks signs and rough sizes:
fraction with omega3 > omega4 (thesis: > 99.5 %), median omega3^2/omega4^2 - 1 (thesis: ~0.3),
tau3^2 / (kappa3 chi3) (thesis: O(1), > 3 means a lower second well), omega_phm vs omega_psi.

  python bench/nonlinear_ensemble.py --samples 8 --n 300 --out bench/results/nonlinear_ensemble_ka300.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from systems import ka_glass

    from glassmodes.fc3 import read_fc3
    from glassmodes.lammps_session import open_lammps
    from glassmodes.nonlinear import ForceConstantOperator, find_mode

    rows = []
    t0 = time.perf_counter()
    for s in range(a.samples):
        with tempfile.TemporaryDirectory() as tmp:
            lmp = open_lammps()
            try:
                for line in ka_glass(a.n, seed=1000 + 17 * s):
                    lmp.command(line)
                lmp.command(f"write_fc3 all {tmp}/F method analytic order 4")
            finally:
                lmp.close()
            op = ForceConstantOperator(read_fc3(f"{tmp}/F"))
        w, v = np.linalg.eigh(op.matrix().toarray())
        k = int(np.argmax(np.linalg.norm(op.null_basis.T @ v, axis=0) < 0.5))   # first non-translation
        psi = v[:, k]
        q = find_mode(op, kind="quartic", seed=psi)
        c = find_mode(op, kind="cubic", seed=q.pi)
        p = find_mode(op, kind="phm", seed=psi)
        row = {"sample": s, "kappa_psi": float(w[k]), "kappa4": q.kappa, "kappa3": c.kappa, "kappa_phm": p.kappa,
               "chi4": q.chi, "tau3": c.tau, "chi3": c.chi, "Ne4": q.participation_number,
               "Ne3": c.participation_number, "overlap_4_psi": float(abs(q.pi @ psi)),
               "overlap_3_4": float(abs(c.pi @ q.pi)), "overlap_phm_psi": float(abs(p.pi @ psi)),
               "converged": bool(q.converged and c.converged and p.converged)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    k2, k4, k3, kp = (np.array([r[x] for r in rows]) for x in ("kappa_psi", "kappa4", "kappa3", "kappa_phm"))
    tau3, chi3 = np.array([r["tau3"] for r in rows]), np.array([r["chi3"] for r in rows])
    summary = {"samples": len(rows), "N": a.n, "model": "KA 3D, instantaneous quench (tests/systems.ka_glass)",
               "all_converged": all(r["converged"] for r in rows),
               "fraction_omega3_gt_omega4": float(np.mean(k3 > k4)),
               "median_omega3sq_over_omega4sq_minus_1": float(np.median(k3 / k4 - 1)),
               "median_tau3sq_over_kappa3_chi3": float(np.median(tau3 ** 2 / (k3 * chi3))),
               "fraction_tau3sq_gt_3_kappa3_chi3": float(np.mean(tau3 ** 2 > 3 * k3 * chi3)),
               "median_(omega4sq-omega2sq)/omega4sq": float(np.median((k4 - k2) / k4)),
               "median_(omega_phm_sq-omega2sq)/omega2sq": float(np.median((kp - k2) / k2)),
               "fraction_omega3_gt_omega_phm": float(np.mean(k3 > kp)),
               "seconds": time.perf_counter() - t0}
    print(json.dumps(summary, indent=1))
    if a.out:
        a.out.write_text(json.dumps({"summary": summary, "samples": rows}, indent=1))


if __name__ == "__main__":
    main()
