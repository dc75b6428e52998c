"""Ensemble statistics of bench/transport_seed000.py (Xiang et al. (2022) at reduced scale).

Reads the per-sample records of ``bench/results/transport_seed000.json`` (one N) and the samples' mode
files, and reports: the QVM share of the quantum kappa vs T (mean and standard error over samples,
two QVM definitions), kappa at 0.163 Tg, the ensemble heat capacity C(T) (mean over samples) and its
log-slope, and the low-frequency vDOS pooled over samples (maximum-likelihood power law below the
lowest mode with PR >= 0.2 of any sample) with the C(T) that its omega^4 fit predicts,
``6! zeta(6) A4 (kT/hbar)^5`` (glassmodes.transport.omega4_heat_capacity), next to the C(T) of the same
modes. Writes a markdown block to stdout.

    python bench/transport_ensemble.py --n 512 --work /tmp/tr/s000/transport
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TG, HBAR = 0.184, 0.0296


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--work", required=True, help="folder with one sub-folder (modes.h5) per sample")
    args = ap.parse_args()

    from glassmodes.analysis.vdos import fit_power_law
    from glassmodes.modes import ModeFile
    from glassmodes.transport import omega4_heat_capacity, sample_heat_capacity

    recs = [r for r in json.loads((HERE / "results" / "transport_seed000.json").read_text()) if r["N"] == args.n]
    M = len(recs)
    tt = np.array(recs[0]["T_list"]) / TG
    sx = np.array([r["qvm_share_T_xiang"] for r in recs]) * 100
    sp = np.array([r["qvm_share_T_paper_def"] for r in recs]) * 100
    print(f"### Ensemble, N = {args.n}, {M} samples (seeds {sorted(r['seed'] for r in recs)})\n")
    print("| T/Tg | " + " | ".join(f"{t:g}" for t in tt) + " |")
    print("|---" * (len(tt) + 1) + "|")
    for name, s in (("QVM share, xiang classes (%)", sx), ("QVM share, f < 0.166 and PR < 0.2 (%)", sp)):
        print(f"| {name} | " + " | ".join(f"{m:.1f} +- {e:.1f}" for m, e in
                                          zip(s.mean(0), s.std(0, ddof=1) / math.sqrt(M))) + " |")
    kq = np.array([r["kappa_qhgk_quantum"] for r in recs])
    kc = np.array([r["kappa_qhgk_classical"] for r in recs]) if "kappa_qhgk_classical" in recs[0] else None
    print(f"\nkappa QHGK quantum at 0.163 Tg: {kq.mean():.4f} +- {kq.std(ddof=1) / math.sqrt(M):.4f} kB/(sigma t0)"
          + ("" if kc is None else f"; classical {kc.mean():.3f} +- {kc.std(ddof=1) / math.sqrt(M):.3f}"))
    counts = [r["qvm_count_f<0.166_pr<0.2"] for r in recs]
    print(f"QVMs (f < 0.166, PR < 0.2) per sample: {counts} (total {sum(counts)}); lowest f per sample: "
          f"{min(r['f_min'] for r in recs):.3f} .. {max(r['f_min'] for r in recs):.3f}")

    omegas, band = [], []
    for r in recs:
        with ModeFile(Path(args.work) / r["sample"] / "modes.h5") as mf:
            w, pr = np.asarray(mf.frequencies), np.asarray(mf.participation_ratio)
        keep = w > 1e-6 * w[-1]          # the translations (mode files may hold or omit them)
        w, pr = w[keep], pr[keep]
        omegas.append(w)
        band.append(w[np.argmax(pr >= 0.2)])
    w_hi = 2 * math.pi * 0.166       # the paper's QVM frequency window, f < 0.166 t0^-1
    pooled = np.concatenate([w[w <= w_hi] for w in omegas])
    Ts = TG * np.geomspace(1e-3, 1e-1, 21)
    C = np.array([[sample_heat_capacity(w, T, HBAR) for T in Ts] for w in omegas]).mean(0)
    Clow = np.array([[sample_heat_capacity(w[w <= w_hi], T, HBAR) for T in Ts] for w in omegas]).mean(0)
    slope = np.gradient(np.log(C), np.log(Ts))
    rate = pooled.size / M
    print(f"\nPooled low-frequency modes: {pooled.size} modes below omega = {w_hi:.3f} (f < 0.166, every PR), "
          f"{rate:.2f} per sample; first mode with PR >= 0.2 at omega = {min(band):.3f} .. {max(band):.3f}")
    if rate > 0:
        # ML exponent g = beta + 1 of n modes has standard error g / sqrt(n): +-0.5 on beta = 4 needs n = 100;
        # the C(T) log-slope below 0.01 Tg needs modes near hbar omega ~ 6 kT, f ~ 0.06 at 0.01 Tg
        f_low = 6 * 0.01 * TG / HBAR / (2 * math.pi)
        print(f"Samples needed: {100 / rate:.0f} for an omega^4 fit to +-0.5 on the exponent (100 modes in the "
              f"window); {10 / (rate * (f_low / 0.166) ** 5):.0f} for 10 modes below f = {f_low:.3f} (the window "
              f"of C(T) at 0.01 Tg), if D(omega) ~ omega^4 holds below the window")
    if pooled.size >= 2:
        fit = fit_power_law(pooled, w_hi, n_total=M)
        A4 = 5 * pooled.size / (M * w_hi ** 5)
        print(f"ML power law on (0, {w_hi:.3f}]: exponent {fit.beta:.2f} (95 % CI {fit.beta_ci[0]:.2f} .. "
              f"{fit.beta_ci[1]:.2f}), n = {pooled.size}; with the exponent fixed at 4: A4 = {A4:.4g} per sample")
        print("\n| T/Tg | C/N ensemble (kB) | d ln C / d ln T | C of the pooled modes below omega_hi | omega^4 law 6! zeta(6) A4 (kT/hbar)^5 |")
        print("|---|---|---|---|---|")
        for i in range(0, len(Ts), 2):
            pred = float(omega4_heat_capacity(A4, Ts[i], HBAR))
            print(f"| {Ts[i] / TG:.4f} | {C[i] / args.n:.3e} | {slope[i]:.1f} | {Clow[i]:.3e} | {pred:.3e} |")


if __name__ == "__main__":
    main()
