"""Cost of all-mode classical three-phonon lifetimes (glassmodes.anharmonic.lifetimes) vs N.

For each N: a seed-004 glass (inputs/seed004-ipl12.in, shortened equilibration unless --full),
its Hessian, every mode (dense), the pair tensor, and decay_rates(method="triples") at T = 1e-3
with a Gaussian of fixed width. Records wall and CPU time, peak RSS, and the work counters
(sparse and GEMM flops), and fits the cost model t = a * spmm_flops + b * gemm_flops.

usage: python bench/lifetimes_cost.py --N 512 1000 [--width 0.1] [--cutoff 4] [--float32]
           [--work DIR] [--out bench/results/lifetimes_cost.json]
       mpirun -np 2 python bench/lifetimes_cost.py --N 4000 ...   (pivots dealt over the ranks; the
           glass, Hessian and modes are made on rank 0 first; times and flops of all ranks)
(run with OMP_NUM_THREADS=1 and nothing else on the machine for meaningful times)
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def make_glass(N: int, work: Path, full: bool) -> Path:
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.lammps_session import open_lammps

    data = work / f"g{N}.data"
    if not data.exists():
        lmp = open_lammps()
        for k, v in {"N": N, "seed": 1, "out": str(data), **({} if full else {"t_equil": 20, "t_glass": 20})}.items():
            lmp.command(f"variable {k} index {v}")
        lmp.command(f"include {REPO / 'inputs' / 'seed004-ipl12.in'}")
        lmp.close()
    H = work / f"H{N}"
    if not H.exists():
        ff = work / "ff004.in"
        ff.write_text("units lj\natom_style atomic\natom_modify map yes\n"
                      "pair_style ipl/smooth 12 1 2.5 powers all\nread_data\nneighbor 0.3 bin\n")
        write_hessian_job(HessianJob(source=data, output=H, forcefield=ff, keywords={"method": "analytic"}))
    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, nargs="+", default=[512, 1000])
    ap.add_argument("--width", type=float, default=0.1)
    ap.add_argument("--cutoff", type=float, default=4.0)
    ap.add_argument("--float32", action="store_true")
    ap.add_argument("--block", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--work", type=Path, default=Path("bench-work"))
    ap.add_argument("--full", action="store_true", help="the deck's full equilibration")
    ap.add_argument("--prepare", action="store_true",
                    help="only make the glasses, Hessians and mode files (so that the timed run's peak memory "
                         "is that of the lifetimes, not of the dense eigensolver)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lifetimes_cost.json")
    args = ap.parse_args()

    from glassmodes.anharmonic import Smearing, decay_rates
    from glassmodes.anharmonic.pair_fc3 import SEED004, PairCubicTensor
    from glassmodes.modes import read_modes, solve_modes, write_modes

    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for N in args.N:
        t_modes = 0.0
        if rank == 0:
            H = make_glass(N, args.work, args.full)
            mfile = args.work / f"modes{N}.h5"
            if not mfile.exists():
                t0 = time.perf_counter()
                write_modes(mfile, solve_modes(H, backend="dense"))
                t_modes = time.perf_counter() - t0
        t_modes = comm.bcast(t_modes)
        if args.prepare:
            continue
        modes = read_modes(args.work / f"modes{N}.h5")
        tensor = PairCubicTensor.from_modes(modes, SEED004)
        comm.Barrier()
        c0, w0 = time.process_time(), time.perf_counter()
        res = decay_rates(modes.omega, modes.vectors, tensor, 1e-3, limit="classical",
                          smearing=Smearing("gaussian", width=args.width, cutoff=args.cutoff),
                          dtype=np.float32 if args.float32 else np.float64, block=args.block, chunk=args.chunk,
                          comm=comm if size > 1 else None)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        cpu_all = comm.allreduce(cpu)
        rss_all = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1e6
        row = {"N": N, "ranks": size, "nmodes": int(modes.nmodes), "nnz_blocks": int(tensor.block_indices.size),
               "width": args.width, "cutoff_widths": args.cutoff, "dtype": res.stats["dtype"],
               "modes_seconds": t_modes, "lifetimes_wall_s": wall, "lifetimes_cpu_s": cpu_all,
               "peak_rss_GB": rss_all,
               "spmm_flops": res.stats["spmm_flops"], "gemm_flops": res.stats["gemm_flops"],
               "eigenvector_GB": res.stats["eigenvector_bytes"] / 1e9,
               "work_arrays_GB": res.stats["work_bytes_max"] / 1e9, "pivots": res.stats["pivots"],
               "median_tau": float(np.median(res.tau))}
        if rank == 0:
            print(json.dumps(row), flush=True)
        rows.append(row)
    if rank != 0 or args.prepare:
        return
    if len(rows) >= 2:
        A = np.array([[r["spmm_flops"], r["gemm_flops"]] for r in rows])
        t = np.array([r["lifetimes_cpu_s"] for r in rows])
        coef, *_ = np.linalg.lstsq(A, t, rcond=None)
        model = {"seconds_per_spmm_flop": coef[0], "seconds_per_gemm_flop": coef[1]}
    else:
        model = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": rows, "model": model}, indent=1, default=float))


if __name__ == "__main__":
    main()
