"""The table of docs/models.md: one sample of every model at its default size.

For each model: ``glassmodes prepare MODEL --seed 1`` (default N and protocol, serial), then the
Hessian of the inherent state (``write_hessian all H``, analytic) and its lowest eigenvalues by
dense LAPACK (``scipy.linalg.eigh`` on ``read_hessian(H).matrix.toarray()``; unit masses, so the
eigenvalues are omega^2), the d zero modes (translations) excluded.

usage: python bench/models_table.py [--out DIR] [--models NAME ...] [--nfreq K]
Writes DIR/models.json and prints the Markdown rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.linalg

from glassmodes.io import read_hessian
from glassmodes.lammps_session import open_lammps
from glassmodes.prepare import MODELS, prepare, sample_commands, sample_stem


def lowest_frequencies(hessian_path: Path, dimension: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The d zero eigenvalues (omega^2) and the k lowest nonzero angular frequencies."""
    matrix = read_hessian(hessian_path).matrix.toarray()
    w2 = scipy.linalg.eigh(matrix, eigvals_only=True, subset_by_index=[0, dimension + k - 1],
                           overwrite_a=True, check_finite=False)
    order = np.argsort(np.abs(w2))
    zero = np.sort(w2[order[:dimension]])
    rest = np.sort(w2[order[dimension:]])
    return zero, np.sqrt(rest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="models-out")
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--nfreq", type=int, default=5)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    table = out / "models.json"
    if table.exists():
        results = json.loads(table.read_text())
    for name in args.models:
        meta = prepare(name, seed=1, samples=1, out_dir=out)[0]
        stem = sample_stem(name, meta["N"], 1)
        hess = out / f"{stem}.hess"
        t0 = time.perf_counter()
        lmp = open_lammps()
        for line in sample_commands(out / f"{stem}.json"):
            lmp.command(line)
        lmp.command(f"write_hessian all {hess}")
        lmp.close()
        zero, omega = lowest_frequencies(hess, meta["dimension"], args.nfreq)
        t_modes = time.perf_counter() - t0
        results[name] = {"N": meta["N"], "dimension": meta["dimension"], "density": meta["density"],
                         "energy_per_particle": meta["energy_per_particle"],
                         "largest_force": meta["largest_force"], "wall_time": meta["wall_time"],
                         "cpu_time": meta["cpu_time"],
                         "zero_mode_eigenvalues": zero.tolist(), "omega": omega.tolist(),
                         "hessian_and_eigh_time": t_modes, "lammps_version": meta["lammps_version"],
                         "machine": f"{platform.node()} {os.cpu_count()} cores",
                         "load_average": os.getloadavg()}
        table.write_text(json.dumps(results, indent=2) + "\n")
        for f in (hess, Path(f"{hess}.json"), Path(f"{hess}.atoms.npy")):
            f.unlink(missing_ok=True)
        r = results[name]
        print(f"| {name} | {r['N']} | {r['density']:.4f} | {r['energy_per_particle']:.6f} | "
              f"{r['largest_force']:.1e} | {', '.join(f'{w:.4f}' for w in omega)} | "
              f"{r['cpu_time']:.0f} s (wall {r['wall_time']:.0f} s) |", flush=True)


if __name__ == "__main__":
    main()
