"""Benchmark: time and peak memory of the flux build and of kappa(T) (glassmodes.transport) vs N.

Each N runs in a fresh process (peak resident memory = ru_maxrss of that process). The sample is a
disordered spring network (glassmodes.modes.models.spring_network, cutoff 1.6, about 18 neighbours;
the flux cost is dominated by the dense GEMM E^T A, 2 d n m^2 flops, which does not depend on the
neighbour count), all modes by dense eigh (timed separately), written to a mode file and a Hessian
file as the CLI reads them. Then: the flux products (float64 and float32), and a classical kappa(T)
at 20 temperatures with given linewidths (Gamma_mu uniform in [0.2, 0.8] at T = 1, scaled with T).

    .venv/bin/python bench/transport_scaling.py --n 1000 2000          # about 5 min on 2 cores
    .venv/bin/python bench/transport_scaling.py --n 4000 --float32-only # about 20 min

Results are appended to bench/results/transport_scaling.json and bench/results/transport.md is
rewritten from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "transport_scaling.json"


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def one(n: int, dtype: str, workdir: Path) -> dict:
    import numpy as np

    from glassmodes.io.hessian import write_hessian
    from glassmodes.modes import solve_modes, write_modes
    from glassmodes.modes.models import spring_network
    from glassmodes.transport import Linewidths, compute_flux, conductivity

    sides = {1000: (10, 10, 10), 2000: (10, 10, 20), 4000: (10, 20, 20)}.get(n)
    h = spring_network(n, seed=3, sides=sides)
    H = workdir / f"H{n}"
    modes_file = workdir / f"modes{n}.h5"
    out = {"N": h.natoms, "dtype": dtype, "host": platform.node(), "load_before": os.getloadavg()[0]}
    if not modes_file.exists():
        write_hessian(H, h.matrix, h.meta, h.atoms)
        t = time.perf_counter()
        m = solve_modes(h, backend="dense")
        out["eigh_s"] = time.perf_counter() - t
        write_modes(modes_file, m)
        del m
    rss0 = _peak_gb()
    t = time.perf_counter()
    fp = compute_flux(modes_file, H, interaction_range_override=1.6, dtype=np.float32 if dtype == "float32" else np.float64)
    out["flux_s"] = time.perf_counter() - t
    out["peak_after_flux_gb"] = _peak_gb()
    out["peak_before_flux_gb"] = rss0
    out["nmodes"] = fp.nmodes
    out["completeness_residual"] = fp.completeness_residual
    rng = np.random.default_rng(0)
    lw = Linewidths.classical(rng.uniform(0.2, 0.8, fp.nmodes), 1.0)
    T = np.geomspace(0.01, 1.0, 20)
    t = time.perf_counter()
    res = conductivity(fp, T, lw)
    out["kappa_20T_s"] = time.perf_counter() - t
    out["kappa_T1"] = float(res.kappa[-1])
    out["peak_total_gb"] = _peak_gb()
    out["load_after"] = os.getloadavg()[0]
    return out


def table(rows: list[dict]) -> str:
    lines = ["| N | modes | dtype | eigh (s) | flux build (s) | kappa(T), 20 T (s) | peak RSS (GB) | completeness | "
             "kappa(T=1) | load |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['N']} | {r['nmodes']} | {r['dtype']} | {r.get('eigh_s', float('nan')):.0f} | "
                     f"{r['flux_s']:.1f} | {r['kappa_20T_s']:.1f} | {r['peak_total_gb']:.2f} | "
                     f"{r['completeness_residual']:.1e} | {r['kappa_T1']:.6g} | {r['load_before']:.1f}-{r['load_after']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[1000, 2000])
    p.add_argument("--float32-only", action="store_true")
    p.add_argument("--workdir", default=None)
    p.add_argument("--child", nargs=2, metavar=("N", "DTYPE"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(one(int(args.child[0]), args.child[1], Path(args.workdir))))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="transport_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    for n in args.n:
        for dtype in (["float32"] if args.float32_only else ["float64", "float32"]):
            cmd = [sys.executable, __file__, "--workdir", str(work), "--child", str(n), dtype]
            r = subprocess.run(cmd, capture_output=True, text=True, check=True)
            row = json.loads(r.stdout.strip().splitlines()[-1])
            print(row, flush=True)
            rows.append(row)
            RESULTS.write_text(json.dumps(rows, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
