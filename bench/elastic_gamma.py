"""Disorder parameter gamma = N (Delta G/<G>)^2 and skewness from bench/elastic_thesis_G.py results.

Usage: python bench/elastic_gamma.py bench/results/elastic_G_q3d.json bench/results/elastic_G_q2d.json
Prints, per file, gamma of G_thesis and G_iso_B with the 95 % bootstrap interval (2000 resamples over
samples), Delta G sqrt(N), and the skewness with its interval. With ~12 samples these are rough
(design note B7.7: 10-20 % error needs 200-500 samples; the thesis used 10 000 per N).
"""

from __future__ import annotations

import json
import sys

from glassmodes.elastic.ensemble import disorder_parameter


def main(argv=None) -> int:
    for path in (argv if argv is not None else sys.argv[1:]):
        d = json.loads(open(path).read())
        n = d["natoms"]
        for key in ("G_thesis", "G_iso_B"):
            r = disorder_parameter([s["moduli"][key] for s in d["samples"]], natoms=n, n_bootstrap=2000)
            print(f"{path} {key}: N = {n}, samples = {r['n_samples']}, <G> = {r['mean']:.4f}, "
                  f"gamma = {r['gamma']:.4f} [{r['gamma_ci'][0]:.4f}, {r['gamma_ci'][1]:.4f}], "
                  f"Delta G sqrt(N) = {r['std_sqrtN']:.3f}, skewness = {r['skewness']:.3f} "
                  f"[{r['skewness_ci'][0]:.3f}, {r['skewness_ci'][1]:.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
