"""Cost and results of the double-well pipeline on the public seed-002 minima (N = 1500).

Runs ``glassmodes double-wells`` on a folder of minima for the closest ``--pairs`` pairs (resumable: an
existing --work folder is continued), then summarizes the per-pair times (NEB, splitting, total) from the
JSON results, the machine load, and the double-well table; writes bench/results/tls_seed002.json.

Usage (the numbers in bench/results/tls.md):
  python bench/tls_bench.py --data /work/shared/data/seed002_is --work /tmp/dw --pairs 12 --modes none
  python bench/tls_bench.py --data md/minima --transitions md/transitions.csv --work /tmp/dwmd --pairs 10 \
      --out bench/results/tls_seed002_md.json      # pairs of an MD run (glassmodes is-trajectory --md)

Per pair: wall seconds and the CPU seconds of the double-wells process (``seconds.cpu``: NEB, checks,
splitting and segments); CPU time is the load-independent cost on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder of minima (seed002_is)")
    ap.add_argument("--work", required=True, help="output folder of glassmodes double-wells")
    ap.add_argument("--pairs", type=int, default=12)
    ap.add_argument("--hbar", type=float, default=0.01)
    ap.add_argument("--modes", default="none")
    ap.add_argument("--nimages", type=int, default=8)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "tls_seed002.json"))
    ap.add_argument("--transitions", default=None, help="transitions.csv of glassmodes is-trajectory --md")
    ap.add_argument("--neb-maxiter", type=int, default=50000, help="passed to glassmodes double-wells")
    ap.add_argument("--skip-run", action="store_true", help="only summarize an existing --work folder")
    args = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    if not args.skip_run:
        cmd = [sys.executable, "-m", "glassmodes.cli.main", "double-wells", args.data, "--out", args.work,
               "--max-pairs", str(args.pairs), "--hbar", str(args.hbar), "--preset", "argon", "--modes", args.modes,
               "--nimages", str(args.nimages), "--neb-maxiter", str(args.neb_maxiter)]
        cmd += ["--transitions", args.transitions] if args.transitions else []
        subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    rows = [json.loads(p.read_text()) for p in sorted(Path(args.work, "pairs").glob("*.json"))]
    if not rows:
        raise SystemExit("no results")
    t_neb = np.array([r["seconds"]["neb"] for r in rows])
    t_tot = np.array([r["seconds"]["total"] for r in rows])
    t_cpu = np.array([r["seconds"].get("cpu", np.nan) for r in rows])

    def flat(r):
        return [r] + [x for s in r.get("segments", []) for x in flat(s)]
    wells = [x for r in rows for x in flat(r) if x["status"] == "ok"]
    ok = [r for r in rows if r["status"] == "ok"]
    summary = {"pairs": len(rows), "ok": len(ok), "hbar": args.hbar, "nimages": args.nimages, "modes": args.modes,
               "load_before": load0, "load_after": os.getloadavg(), "cpu_count": os.cpu_count(),
               "wall_s_this_call": wall, "neb_s_mean": float(t_neb.mean()), "neb_s_max": float(t_neb.max()),
               "total_s_mean": float(t_tot.mean()), "total_s_median": float(np.median(t_tot)),
               "extrapolated_100_dw_h": float(100 * t_tot.mean() / 3600),
               "cpu_s_mean": float(np.nanmean(t_cpu)), "cpu_s_median": float(np.nanmedian(t_cpu)),
               "double_wells_incl_segments": len(wells),
               "cpu_s_per_double_well": float(np.nansum(t_cpu) / max(len(wells), 1)),
               "wall_s_per_double_well": float(t_tot.sum() / max(len(wells), 1)),
               "statuses": {st: sum(1 for r in rows for x in flat(r) if x["status"] == st)
                            for st in sorted({x["status"] for r in rows for x in flat(r)})},
               "table": [{k: r.get(k) for k in ("a", "b", "status", "barrier", "barrier_B", "asymmetry", "length",
                                                 "PR_DW", "E", "E_dvr", "tls", "neb_iterations")}
                         | {"saddle_negative": r.get("saddle", {}).get("negative"),
                            "seconds": r["seconds"]["total"], "cpu_seconds": r["seconds"].get("cpu")} for r in rows]}
    Path(args.out).write_text(json.dumps(summary, indent=1))
    print(f"{len(rows)} pairs ({len(ok)} ok): NEB {t_neb.mean():.1f} s mean, total {t_tot.mean():.1f} s mean per pair "
          f"-> 100 double wells in {summary['extrapolated_100_dw_h']:.2f} h; load {load0[0]:.1f} -> "
          f"{summary['load_after'][0]:.1f} on {os.cpu_count()} cores")
    print(f"CPU: {summary['cpu_s_mean']:.1f} s mean per pair; {len(wells)} double wells (segments included): "
          f"{summary['cpu_s_per_double_well']:.1f} CPU s, {summary['wall_s_per_double_well']:.1f} wall s each; "
          f"statuses {summary['statuses']}")
    print("| A | B | status | barrier | asymmetry | length | PR_DW | E | TLS | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in summary["table"]:
        e = "-" if r["E"] is None else f"{r['E']:.3e}"
        if r["barrier"] is None:
            print(f"| {r['a'][:15]} | {r['b'][:15]} | {r['status']} | - | - | - | - | - | - | {r['seconds']:.0f} |")
            continue
        print(f"| {r['a'][:15]} | {r['b'][:15]} | {r['status']} | {r['barrier']:.4e} | {r['asymmetry']:.4e} | "
              f"{r['length']:.4f} | {r['PR_DW']:.2f} | {e} | {r['tls']} | {r['seconds']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
