"""Far-field decay of dipole responses |z(r)| ~ r^s (continuum elasticity: s = -(d - 1)).

For each data file (glassmodes prepare ...; Hessian by serial write_hessian), --pairs random
interacting pairs (seed --seed), z = H^+ d_ij by block-Jacobi CG (rtol 1e-10). Per pair and per fit
window [r_min, r_max] (r_max given as fractions of the box width L): the least-squares log-slope of
the median |z_k| in 8 log-spaced shells around the dipole's centre
(glassmodes.elastic.dipoles.far_field_slope). Windows: the periodic images of the dipole flatten
|z| as r approaches L/2, so windows ending at L/4 .. L/2 are all reported.

Usage: python bench/elastic_far_field.py DATA [DATA ...] --pairs 10 --rmin 2 \
           --out bench/results/elastic_far_field_3d.json --plot bench/results/elastic_far_field_3d.png
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


def hessian_of(data: Path, folder: Path, replicate: int = 1):
    """The Hessian of a data file (serial write_hessian), optionally of its k x k (x k) periodic replica."""
    from glassmodes.hessian_job import HessianJob, find_forcefield, write_hessian_job
    from glassmodes.io.hessian import read_hessian
    from glassmodes.lammps_session import open_lammps

    if replicate == 1:
        write_hessian_job(HessianJob(source=data, output=folder / "H", keywords={"mass": "no"}))
        return read_hessian(folder / "H")
    lmp = open_lammps()
    for line in find_forcefield(data).read_text().splitlines():
        lmp.command(f"read_data {data}" if line.split()[:1] == ["read_data"] else line)
    dim = int(lmp.extract_setting("dimension"))
    lmp.command(f"replicate {replicate} {replicate} {replicate if dim == 3 else 1}")
    lmp.command(f"write_hessian all {folder / 'H'} mass no")
    lmp.close()
    return read_hessian(folder / "H")


def analyse(data: Path, npairs: int, seed: int, rmin: float, fractions, replicate: int = 1) -> dict:
    from glassmodes.elastic import CGSolver
    from glassmodes.elastic.dipoles import dipole_response, far_field_slope, random_pairs
    from glassmodes.elastic.terms import box_widths, minimum_image, pairs_from_hessian

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        h = hessian_of(data, Path(tmp), replicate)
    t_h = time.perf_counter() - t0
    pairs, _ = pairs_from_hessian(h)
    d = h.dimension
    res = dipole_response(CGSolver(h.matrix, d, rtol=1e-10), pairs, h.natoms, random_pairs(pairs, npairs, seed=seed),
                          keep_z=True)
    x = h.positions()
    box = h.meta["box"]
    L = float(box_widths(box, d).min())
    fits = {f"{f:g}L": [] for f in fractions}
    profiles = []
    for k in range(res.kappa.size):
        c = x[res.i[k]] + 0.5 * minimum_image((x[res.j[k]] - x[res.i[k]])[None, :], box, d)[0]
        for f in fractions:
            fits[f"{f:g}L"].append(far_field_slope(res.z[:, k], x, box, c, rmin, r_max=f * L).slope)
        full = far_field_slope(res.z[:, k], x, box, c, 1.0, r_max=0.5 * L, nbins=12)
        profiles.append({"r": full.r.tolist(), "median_abs_z": full.amplitude.tolist()})
    summary = {}
    for key, s in fits.items():
        s = np.array(s)
        summary[key] = {"slopes": s.round(4).tolist(), "mean": float(s.mean()),
                        "sem": float(s.std(ddof=1) / np.sqrt(s.size)), "r_max": float(fractions[list(fits).index(key)] * L)}
    return {"file": data.name, "replicate": replicate, "natoms": h.natoms, "dim": d, "L": L, "r_min": rmin, "expected": -(d - 1),
            "kappa_mean": float(res.kappa.mean()), "cg": res.solve, "fits": summary, "profiles": profiles,
            "seconds": time.perf_counter() - t0, "seconds_hessian": t_h}


def plot(rows: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 4), squeeze=False)
    for ax, row in zip(axes[0], rows):
        for p in row["profiles"]:
            r, a = np.array(p["r"]), np.array(p["median_abs_z"])
            ax.loglog(r, a / a[0], "-", lw=0.7, alpha=0.7)
        r = np.geomspace(1.0, row["L"] / 2, 20)
        s = row["expected"]
        ax.loglog(r, (r / r[0]) ** s, "k--", label=f"r^{s}")
        for f, st in zip(("0.25L", "0.5L"), (":", "-.")):
            ax.axvline(row["fits"][f]["r_max"], color="gray", ls=st, lw=0.8, label=f"r = {f}" if f in row["fits"] else None)
        ax.axvline(row["r_min"], color="gray", lw=0.8)
        q, h = row["fits"]["0.25L"], row["fits"]["0.5L"]
        ax.set_title(f"{row['file']}" + (f" x{row['replicate']}^d" if row.get("replicate", 1) > 1 else "")
                     + f"\nslope [{row['r_min']:g}, L/4]: {q['mean']:.2f} +- {q['sem']:.2f}; "
                     f"[{row['r_min']:g}, L/2]: {h['mean']:.2f} +- {h['sem']:.2f}", fontsize=8)
        ax.set_xlabel("r from the dipole centre")
        ax.set_ylabel("median |z| in shell (normalized)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--rmin", type=float, default=2.0)
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.33, 0.4, 0.5])
    ap.add_argument("--replicate", type=int, default=1,
                    help="analyse the k x k (x k) periodic replica of each sample (a periodic medium of glass cells, "
                         "not a larger glass: a check of the decay, not of a glass of that size)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args(argv)
    if 0.25 not in args.fractions or 0.5 not in args.fractions:
        args.fractions = sorted(set(args.fractions) | {0.25, 0.5})
    rows = []
    for data in args.data:
        row = analyse(Path(data), args.pairs, args.seed, args.rmin, args.fractions, args.replicate)
        rows.append(row)
        print(row["file"], {k: (round(v["mean"], 3), round(v["sem"], 3)) for k, v in row["fits"].items()},
              "expected", row["expected"], f"{row['seconds']:.0f} s", flush=True)
        Path(args.out).write_text(json.dumps({"rows": rows, "loadavg": os.getloadavg(),
                                              "method": "median |z| in 8 log shells, least-squares log-slope"},
                                             indent=1))
    if args.plot:
        plot(rows, Path(args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
