"""`make bench`: run the benchmarks one after the other (each writes its table in bench/results/).

    .venv/bin/python bench/run_benchmarks.py            # all, several hours on 2 cores
    .venv/bin/python bench/run_benchmarks.py hessian modes   # a selection by name

A benchmark that fails is reported and the others still run; the exit status is 1 if any failed.
The long acceptance runs of the MD-based benchmarks (landscape, lifetimes from MD) take their own
arguments and work folders: see the commands in bench/results/landscape.md and lifetimes.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> script and arguments
BENCHMARKS = {
    "hessian": ["hessian_vs_dynamical_matrix.py"],
    "hessian-accuracy": ["hessian_accuracy.py"],
    "fc3": ["fc3_vs_third_order.py"],
    "modes-agreement": ["modes_agreement.py", str(HERE / "results" / "modes_agreement.json")],
    "modes": ["modes_scaling.py"],
    "models": ["models_table.py"],
    "lifetimes-toy": ["lifetimes_toy_md.py"],
    "lifetimes-crystal": ["lifetimes_crystal.py"],
    "lifetimes-crystal-md": ["lifetimes_crystal_md.py"],
    "lifetimes-crystal-qspace": ["lifetimes_crystal_qspace.py"],
    "lifetimes-cost": ["lifetimes_cost.py", "--N", "512", "1000"],
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names or list(BENCHMARKS):
        script, *args = BENCHMARKS[name]
        print(f"== {name}: {script} {' '.join(args)}", flush=True)
        t = time.perf_counter()
        rc = subprocess.run([sys.executable, str(HERE / script), *args]).returncode
        print(f"== {name}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.perf_counter() - t:.0f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
