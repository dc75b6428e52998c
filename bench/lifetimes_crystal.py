"""Perturbation-theory lifetimes of the monodisperse FCC crystal of seed 004's potential: tau ~ w^-2
at low frequency (seed 004, Fig. 2(b): the continuum, hydrodynamic limit).

FCC with ncells^3 cubic cells at number density 1.015, v(r) = eps [(s/r)^12 + shifted-force terms]
with s = 1, r_c = 2.5 (pair_style ipl/smooth 12 1 2.5 powers all, pair_coeff 1 1 1.0 1.0); the
Hessian and the cubic tensor from the pair derivatives in Python (no LAMMPS); all modes dense;
classical rates of the modes below --wmax (direct method) at T = 1e-3; power-law fit of tau(w) over
the degenerate shells below --wfit.

usage: python bench/lifetimes_crystal.py [--ncells 6] [--width 0.15] [--wmax 6] [--wfit 4]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ncells", type=int, default=6)
    ap.add_argument("--width", type=float, default=0.15)
    ap.add_argument("--cutoff", type=float, default=4.0)
    ap.add_argument("--wmax", type=float, default=6.0)
    ap.add_argument("--wfit", type=float, default=4.0)
    ap.add_argument("--T", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lifetimes_crystal.json")
    args = ap.parse_args()

    from glassmodes.anharmonic import Smearing, decay_rates
    from glassmodes.anharmonic.pair_fc3 import IPLSmooth, PairCubicTensor
    from glassmodes.modes import solve_modes
    from glassmodes.modes.models import make_hessian, neighbor_pairs, pair_hessian

    pot = IPLSmooth(n=12, q=1, xc=2.5, powers="all", pair_coeffs={(1, 1): (1.0, 1.0)})
    a = (4 / 1.015) ** (1 / 3)
    nc = args.ncells
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.array([[i, j, k] for i in range(nc) for j in range(nc) for k in range(nc)], dtype=float)
    x = ((cells[:, None, :] + basis[None]) * a).reshape(-1, 3)
    N = x.shape[0]
    L = np.full(3, nc * a)
    types = np.ones(N, dtype=int)
    i, j, rij = neighbor_pairs(x, L, 2.5)
    _, d1, d2, _ = pot.derivatives(np.linalg.norm(rij, axis=1), types[i], types[j])
    H = make_hessian(pair_hessian(x, L, i, j, rij, d1, d2), x, L)
    t0 = time.perf_counter()
    modes = solve_modes(H, backend="dense")
    tensor = PairCubicTensor.from_positions(x, types, np.ones(N), L, pot)
    w = modes.omega
    targets = np.flatnonzero(w <= args.wmax)
    res = decay_rates(w, modes.vectors, tensor, args.T, smearing=Smearing("gaussian", width=args.width,
                                                                          cutoff=args.cutoff),
                      targets=targets)
    # shells of degenerate modes: average tau per shell
    shells = []
    order = np.argsort(res.omega)
    wo, to = res.omega[order], res.tau[order]
    start = 0
    for k in range(1, wo.size + 1):
        if k == wo.size or wo[k] - wo[k - 1] > 1e-6 * wo[k]:
            shells.append((float(wo[start:k].mean()), float(np.exp(np.log(to[start:k]).mean())), k - start))
            start = k
    fit = [(s, t) for s, t, _ in shells if s <= args.wfit]
    slope = float(np.polyfit(np.log([f[0] for f in fit]), np.log([f[1] for f in fit]), 1)[0]) if len(fit) >= 2 else None
    out = {"N": N, "a": a, "T": args.T, "width": args.width, "targets": int(targets.size),
           "seconds": time.perf_counter() - t0, "shells": shells, "fit_below": args.wfit,
           "tau_vs_omega_exponent": slope}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
