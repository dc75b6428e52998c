"""G of every glass in the given folders (`glassmodes elastic`, CG route), then gamma(N) (`glassmodes gamma`).

For each ``*.data`` in the folders without a result yet, runs ``glassmodes elastic DATA -o
RESULTS/<name>.el.json`` in this process (resumable: existing results are kept), then
``glassmodes gamma RESULTS/*.el.json -o OUT --plot PLOTS``. Samples: ``glassmodes prepare
thesis-ipl10-2d --n N --seed S --samples K --set T_liquid=2.0 --set rate=0 --out DIR`` (as-cast
glasses quenched from T = 2, the thesis' Ch. 5 delta = 0 protocol at reduced scale).

Usage: python bench/elastic_gamma_ensemble.py DIR400 DIR1600 --results RES --out bench/results/elastic_gamma_2d.json
       [--plot bench/results] [--limit K]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    from glassmodes.cli.main import main as gm

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--results", required=True, help="folder for the per-sample elastic results")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot", default=None)
    ap.add_argument("--limit", type=int, default=None, help="at most this many samples per folder")
    ap.add_argument("--only-compute", action="store_true", help="compute the missing results, no gamma")
    args = ap.parse_args(argv)
    res = Path(args.results)
    res.mkdir(parents=True, exist_ok=True)
    files = []
    for folder in args.folders:
        datas = sorted(Path(folder).glob("*.data"), key=lambda p: int(p.stem.rsplit("-s", 1)[1]))[: args.limit]
        for data in datas:
            out = res / f"{data.stem}.el.json"
            if not out.exists():
                t0 = time.perf_counter()
                if gm(["elastic", str(data), "-o", str(out)]) != 0:
                    return 2
                print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
            files.append(str(out))
    if args.only_compute:
        return 0
    extra = ["--plot", args.plot] if args.plot else []
    return gm(["gamma", *files, "-o", args.out, *extra])


if __name__ == "__main__":
    sys.exit(main())
