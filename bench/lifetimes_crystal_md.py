"""MD lifetimes of the low-frequency modes of seed 004's FCC crystal: tau ~ w^-2 (seed 004, Fig. 2(b),
where the MD data of an N = 4000 crystal show it).

Pipeline (each step skipped when its output exists in --work):
  1. FCC crystal, ncells^3 cubic cells at number density 1.015, one type, seed 004's monodisperse
     potential (pair_style ipl/smooth 12 1 2.5 powers all, pair_coeff 1 1 1.0 1.0) -> g.data
  2. Hessian (plugin, analytic), the lowest --k modes (sparse backend) -> modes.h5, projection file
  3. MD (inputs/md_mode_energies.lmp): Langevin at T for 50, then NVE for --t-run, E_k(t) every
     --every steps -> E.txt
  4. tau_k from C_k(t) (known mean kT; 1/e and exponential fit), geometric mean per degenerate shell,
     power-law fit tau ~ omega^a over the shells below --wfit; perturbation theory of the same
     crystal (bench/results/lifetimes_crystal_n4000.json, T = 1e-3, rescaled by 1e-3 / T) beside it

usage: python bench/lifetimes_crystal_md.py [--ncells 10] [--T 1e-2] [--t-run 1000] [--k 600]
           [--wfit 4] [--work DIR] [--out bench/results/lifetimes_crystal_md.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PAIR = "pair_style ipl/smooth 12 1 2.5 powers all"


def step(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def shells(omega, values, rtol=1e-6):
    """(mean omega, geometric mean of the finite values, modes, finite values) per degenerate shell."""
    from glassmodes.modes import degenerate_groups

    out = []
    for g in degenerate_groups(omega, rtol):
        v = values[g]
        v = v[np.isfinite(v) & (v > 0)]
        out.append((float(omega[g].mean()), float(np.exp(np.log(v).mean())) if v.size else float("nan"),
                    int(g.size), int(v.size)))
    return out


def power_law(sh, wfit):
    pts = [(w, t) for w, t, _, n in sh if w <= wfit and np.isfinite(t)]
    if len(pts) < 2:
        return None
    return float(np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ncells", type=int, default=10)
    ap.add_argument("--T", type=float, default=1e-2)
    ap.add_argument("--t-run", type=float, default=1000.0)
    ap.add_argument("--every", type=int, default=10, help="steps between records")
    ap.add_argument("--max-lag", type=float, default=400.0)
    ap.add_argument("--blocks", type=int, default=1, help="blocks of the run (error bars need 2 or more)")
    ap.add_argument("--k", type=int, default=600, help="lowest modes recorded")
    ap.add_argument("--wfit", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("bench-work/crystal_md"))
    ap.add_argument("--pt", type=Path, default=REPO / "bench" / "results" / "lifetimes_crystal_n4000.json")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lifetimes_crystal_md.json")
    args = ap.parse_args()

    from glassmodes.anharmonic.md import md_lifetimes
    from glassmodes.anharmonic.projection import write_mode_projection
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.lammps_session import open_lammps, plugin_path
    from glassmodes.modes import read_modes, solve_modes, write_modes

    w = args.work
    w.mkdir(parents=True, exist_ok=True)
    data = w / "g.data"
    nc = args.ncells
    if not data.exists():
        step(f"FCC {nc}^3 cells")
        lmp = open_lammps()
        for line in ["units lj", "atom_style atomic", "atom_modify map yes", "boundary p p p", "lattice fcc 1.015",
                     f"region box block 0 {nc} 0 {nc} 0 {nc}", "create_box 1 box", "create_atoms 1 box",
                     "mass 1 1.0", PAIR, "pair_coeff 1 1 1.0 1.0", f"write_data {data} pair ij"]:
            lmp.command(line)
        lmp.close()
    if not (w / "modes.h5").exists():
        step(f"Hessian and the lowest {args.k} modes")
        ff = w / "ff.in"
        ff.write_text(f"units lj\natom_style atomic\natom_modify map yes\n{PAIR}\nread_data\nneighbor 0.3 bin\n")
        write_hessian_job(HessianJob(source=data, output=w / "H", forcefield=ff, keywords={"method": "analytic"}))
        write_modes(w / "modes.h5", solve_modes(w / "H", backend="sparse", k=args.k))
    modes = read_modes(w / "modes.h5")
    proj = w / "modes.proj"
    if not proj.exists():
        write_mode_projection(modes, proj)
    out = w / f"E_{args.T:g}_s{args.seed}.txt"
    t_md = None
    if not out.exists():
        step(f"MD at T = {args.T:g} for {args.t_run:g}, {modes.nmodes} modes recorded every {args.every} steps")
        t0 = time.perf_counter()
        exe = str(Path(sys.executable).with_name("lmp"))
        subprocess.run([exe, "-in", str(REPO / "inputs" / "md_mode_energies.lmp"), "-var", "plugin", str(plugin_path()),
                        "-var", "data", str(data), "-var", "proj", str(proj), "-var", "T", str(args.T),
                        "-var", "out", str(out), "-var", "t_run", str(args.t_run), "-var", "every", str(args.every),
                        "-var", "t_therm", "50", "-var", "seed", str(args.seed),
                        "-log", str(w / f"md_{args.T:g}.log"), "-screen", "none"], check=True)
        t_md = time.perf_counter() - t0
    md = md_lifetimes(out, dt=0.005, max_lag=args.max_lag, blocks=args.blocks, projection=proj, mean=args.T)
    mean_e = float(np.mean(md.mean_energy) / args.T)
    order = np.argsort(md.omega, kind="stable")
    om = md.omega[order]
    sh_1e = shells(om, md.tau_1e[order])
    sh_fit = shells(om, md.tau_fit[order])
    result = {"N": int(modes.natoms), "ncells": nc, "T": args.T, "t_run": args.t_run, "record_dt": args.every * 0.005,
              "max_lag": args.max_lag, "modes": int(modes.nmodes), "md_seconds": t_md,
              "mean_energy_over_kT": mean_e, "modes_without_1e_crossing": int(np.sum(~np.isfinite(md.tau_1e))),
              "fit_below": args.wfit,
              "exponent_1e": power_law(sh_1e, args.wfit), "exponent_fit": power_law(sh_fit, args.wfit),
              "shells": [{"omega": a, "modes": n, "tau_1e": t1, "with_1e": m1, "tau_fit": tf}
                         for (a, t1, n, m1), (_, tf, _, _) in zip(sh_1e, sh_fit)]}
    if args.pt.exists():
        pt = json.loads(args.pt.read_text())
        if int(pt["N"]) == result["N"]:
            scale = float(pt["T"]) / args.T
            result["pt"] = {"source": str(args.pt.relative_to(REPO)) if args.pt.is_relative_to(REPO) else str(args.pt),
                            "width": pt["width"], "shells": [[s[0], s[1] * scale, s[2]] for s in pt["shells"]]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k not in ("shells", "pt")}, indent=1))
    for s in result["shells"]:
        if s["omega"] <= max(args.wfit, 6.0):
            print(f"omega {s['omega']:.3f}  modes {s['modes']:3d}  tau_1e {s['tau_1e']:.1f} ({s['with_1e']})  "
                  f"tau_fit {s['tau_fit']:.1f}")


if __name__ == "__main__":
    main()
