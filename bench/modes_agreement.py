"""Benchmark: dense, sparse and SLEPc (1 and 2 ranks) on the lowest modes of an N = 2000 glass-like
spring network (10 x 10 x 20 box, binary masses 1 and 2); agreement of the lowest 50 non-zero
eigenvalues (relative) and eigenvectors (1 - |overlap|, degenerate groups as subspaces), timings.

usage: python bench/modes_agreement.py [OUT.json]     (OMP_NUM_THREADS=1 recommended)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from glassmodes.io.hessian import atoms_path, write_hessian
from glassmodes.modes import degenerate_groups, solve_modes
from glassmodes.modes.models import spring_network

REPO = Path(__file__).resolve().parents[1]
K, NCMP = 60, 50


def compare(a_l, a_v, b_l, b_v, n=NCMP):
    rel = float(np.max(np.abs(a_l[:n] / b_l[:n] - 1)))
    worst = 0.0
    for g in degenerate_groups(a_l[: n + 10], rtol=1e-6):
        if g[-1] >= n:
            break
        s = np.linalg.svd(a_v[:, g].T @ b_v[:, g], compute_uv=False)
        worst = max(worst, float(1 - s.min()))
    return rel, worst


def main(out: str | None) -> dict:
    h = spring_network(sides=(10, 10, 20), seed=2000, mass_ratio=2.0)
    results: dict = {"natoms": int(h.atoms.size), "ndof": int(h.matrix.shape[0]), "nnz": int(h.matrix.nnz),
                     "k": K, "compared": NCMP, "runs": {}}
    t = time.perf_counter()
    ref = solve_modes(h, backend="dense", k=K)
    results["runs"]["dense"] = {"seconds": time.perf_counter() - t}
    t = time.perf_counter()
    sp_ = solve_modes(h, backend="sparse", k=K)
    rel, vec = compare(ref.eigenvalues, ref.vectors, sp_.eigenvalues, sp_.vectors)
    results["runs"]["sparse"] = {"seconds": time.perf_counter() - t, "eig_rel": rel, "vec_1_minus_overlap": vec}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "H"
        write_hessian(path, h.matrix, h.meta, h.atoms)
        with open(atoms_path(path), "wb") as f:  # see tests/test_modes.py::save_hessian
            np.save(f, h.atoms)
        for nprocs in (1, 2):
            npz = Path(tmp) / f"s{nprocs}.npz"
            cmd = [str(Path(sys.executable).with_name("mpirun")), "-np", str(nprocs), sys.executable,
                   str(REPO / "tests" / "mpi_scripts" / "slepc_modes.py"), str(path), str(npz), str(K)]
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
            wall = time.perf_counter() - t
            if proc.returncode:
                results["runs"][f"slepc-np{nprocs}"] = {"error": proc.stderr[-2000:]}
                continue
            r = np.load(npz)
            rel, vec = compare(ref.eigenvalues, ref.vectors, r["eigenvalues"], r["vectors"])
            results["runs"][f"slepc-np{nprocs}"] = {"seconds_incl_startup": wall, "eig_rel": rel,
                                                   "vec_1_minus_overlap": vec}
    results["omega_lowest"] = ref.omega[:5].tolist()
    text = json.dumps(results, indent=1)
    print(text)
    if out:
        Path(out).write_text(text)
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
