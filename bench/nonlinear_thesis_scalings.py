"""Thesis scalings of nonlinear modes at reduced scale: 2D IPL glasses, N = 400 and 1600.

Kapteijns (PhD thesis, Univ. of Amsterdam), ch. 3, Sec. 3.4 and appendix 3.B, and ch. 4: per glass the
softest harmonic mode psi (not a translation; dense eigensolver), the quartic mode pi4 minimized from psi,
the cubic mode pi3 minimized from pi4 (the thesis' chain), and the pseudo-harmonic mode (PHM) from psi.
The relations checked, with the scaling argument of thesis Sec. 3.4.1 for the size dependence in 2D
(hybridization dominated by the first phonon band, omega_ph ~ 1/L):

* (omega4^2 - omega2^2)/omega4^2 = f(L) omega4^2 (thesis Eq. 3.15), f(L) ~ L^2 in 2D (Eq. 3.25);
* 1 - |pi4 . psi| = g(L) omega4^4 (Eq. 3.16), g(L) ~ L^4 in 2D (Eq. 3.20);
  so between N = 400 and 1600 (L doubles at fixed density) f grows 4x and g 16x;
* omega3 > omega4 in > 99.5 % of glasses, omega3^2/omega4^2 - 1 ~ 0.3 ("cubic modes ~30 % stiffer");
* tau3^2 ~ kappa3 chi3 (thesis Fig. 3.9(d));
* PHM -> psi as omega -> 0 (thesis ch. 4).

Samples: ``glassmodes prepare thesis-ipl10-2d --n N --seed S --set T_liquid=2.0 --set rate=0``, i.e. an
instantaneous quench from the liquid at T = 2.0 (the thesis' ch. 3 protocol for its 3D IPL glasses;
for 2D the thesis refers to the slower ch. 2 protocol, cooling at rate 1e-3 from T = 1.0, which costs
about 10x more MD per sample and did not fit the time available here).

The liquid is equilibrated at T = 2.0 for t_equil time units before the quench: the deck's 100 for
N = 400, 25 for N = 1600 (to fit the time available; ``teq-check`` measures whether that matters: the
mean-squared displacement of the liquid, and E_IS/N of N = 400 glasses at t_equil = 25 and 100).

Steps (``run`` is resumable):

  python bench/nonlinear_thesis_scalings.py run --n 400 --samples 300 --work /tmp/nls \\
      --out bench/results/nonlinear_thesis_scalings_N400.jsonl
  python bench/nonlinear_thesis_scalings.py run --n 1600 --samples 400 --t-equil 25 --until 17:58 \\
      --out bench/results/nonlinear_thesis_scalings_N1600.jsonl
  python bench/nonlinear_thesis_scalings.py teq-check --n 1600 --samples 40 --t-equil 25 100 \\
      --out bench/results/nonlinear_thesis_teq_check.json
  python bench/nonlinear_thesis_scalings.py analyze bench/results/nonlinear_thesis_scalings_N400.jsonl \\
      bench/results/nonlinear_thesis_scalings_N1600.jsonl --json bench/results/nonlinear_thesis_scalings.json \\
      --plots bench/results/nonlinear_thesis_scalings_plots

The committed results: 320 glasses at N = 400 (seeds 1-320) and 160 at N = 1600 (seeds 1-160; that run
was stopped by hand to free the core); see docs/nonlinear.md section 8.

``run`` appends one JSON line per glass to ``--out`` (the seeds already there are skipped) and prints
one progress line per glass; ``--until HH:MM`` (UTC) stops before starting a glass after that time.
Units: LJ units of the model (eps, sigma, m = 1), so kappa = omega^2 in eps/(sigma^2 m).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

MODEL = "thesis-ipl10-2d"
OVERRIDES = {"T_liquid": "2.0", "rate": "0"}
SEED0 = 1


# ---------------------------------------------------------------------------------------------- run

def one_glass(n: int, seed: int, work: Path, t_equil: float | None = None) -> dict:
    """Prepare one glass and find psi, pi4, pi3 and the PHM; returns the per-glass record.

    ``t_equil``: liquid equilibration time at T = 2.0 (LJ time units; None: the deck's 100).
    """
    import scipy.linalg

    from glassmodes.fc3 import read_fc3
    from glassmodes.lammps_session import open_lammps
    from glassmodes.nonlinear import ForceConstantOperator, find_mode
    from glassmodes.prepare import prepare, sample_commands, sample_stem

    c0, w0 = time.process_time(), time.perf_counter()
    overrides = dict(OVERRIDES)
    if t_equil is not None:
        overrides["t_equil"] = f"{t_equil:g}"
    meta = prepare(MODEL, n=n, seed=seed, out_dir=work, overrides=overrides)[0]
    stem = work / sample_stem(MODEL, n, seed)
    c1 = time.process_time()
    lmp = open_lammps()
    try:
        for line in sample_commands(f"{stem}.json"):
            lmp.command(line)
        lmp.command(f"write_fc3 all {stem}.fc4 method analytic order 4")
    finally:
        lmp.close()
    op = ForceConstantOperator(read_fc3(f"{stem}.fc4"))
    Path(f"{stem}.fc4").unlink()
    d = op.dimension
    w, v = scipy.linalg.eigh(op.matrix().toarray(), subset_by_index=[0, d + 7])
    notrans = np.linalg.norm(op.null_basis.T @ v, axis=0) < 0.5
    k = int(np.argmax(notrans))
    psi = v[:, k]
    kappas = [float(x) for x, ok in zip(w, notrans) if ok]
    c2 = time.process_time()
    q = find_mode(op, kind="quartic", seed=psi, seed_label="psi")
    c = find_mode(op, kind="cubic", seed=q.pi, seed_label="psi->quartic")
    p = find_mode(op, kind="phm", seed=psi, seed_label="psi")
    c3 = time.process_time()
    return {
        "N": n, "seed": seed, "model": MODEL, "parameters": meta["parameters"],
        "E_per_particle": meta["energy_per_particle"],
        "largest_force": meta["largest_force"], "box": meta["box"],
        "kappa_harmonic": kappas[:6], "kappa_psi": kappas[0], "Ne_psi": float(n * _pr(psi, d)),
        "kappa4": q.kappa, "chi4": q.chi, "tau4": q.tau, "Ne4": q.participation_number,
        "kappa3": c.kappa, "chi3": c.chi, "tau3": c.tau, "Ne3": c.participation_number,
        "kappa_phm": p.kappa, "Ne_phm": p.participation_number,
        "overlap_4_psi": float(abs(q.pi @ psi)), "overlap_3_4": float(abs(c.pi @ q.pi)),
        "overlap_3_psi": float(abs(c.pi @ psi)), "overlap_phm_psi": float(abs(p.pi @ psi)),
        "overlap_phm_4": float(abs(p.pi @ q.pi)),
        "residual": {"quartic": q.residual, "cubic": c.residual, "phm": p.residual},
        "iterations": {"quartic": q.iterations, "cubic": c.iterations, "phm": p.iterations},
        "converged": bool(q.converged and c.converged and p.converged),
        "cpu_s": {"prepare": c1 - c0, "fc_eigh": c2 - c1, "modes": c3 - c2},
        "wall_s": time.perf_counter() - w0,
    }


def _pr(z: np.ndarray, d: int) -> float:
    s = np.sum(z.reshape(-1, d) ** 2, axis=1)
    return float(s.sum() ** 2 / (len(s) * np.sum(s ** 2)))


def run(a) -> None:
    out = Path(a.out)
    done = set()
    if out.is_file():
        for line in out.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                done.add(int(r["seed"]))
    work = Path(a.work) / f"N{a.n}"
    work.mkdir(parents=True, exist_ok=True)
    until = None
    if a.until:
        hh, mm = (int(x) for x in a.until.split(":"))
        until = datetime.now(timezone.utc).replace(hour=hh, minute=mm, second=0, microsecond=0)
    t0 = time.perf_counter()
    for seed in range(SEED0, SEED0 + a.samples):
        if seed in done:
            continue
        if until is not None and datetime.now(timezone.utc) >= until:
            print(f"stopping at {until:%H:%M} UTC: {len(done)} glasses of N = {a.n} in {out}", flush=True)
            break
        r = one_glass(a.n, seed, work, a.t_equil)
        if not a.keep:
            for suffix in (".data", ".ff", ".log"):
                (work / f"{MODEL}-N{a.n}-s{seed}{suffix}").unlink(missing_ok=True)
        with out.open("a") as fh:
            fh.write(json.dumps(r) + "\n")
        done.add(seed)
        print(f"N {a.n} seed {seed:4d}: omega_psi^2 {r['kappa_psi']:.4f} omega4^2 {r['kappa4']:.4f} "
              f"omega3^2 {r['kappa3']:.4f} omega_phm^2 {r['kappa_phm']:.4f} 1-|pi4.psi| "
              f"{1 - r['overlap_4_psi']:.2e} conv {r['converged']} cpu {sum(r['cpu_s'].values()):.1f} s "
              f"[{len(done)} done, {time.perf_counter() - t0:.0f} s]", flush=True)


# ------------------------------------------------------------------------------- equilibration check

def teq_check(a) -> None:
    """Is t_equil = 25 at T = 2.0 enough? MSD of the liquid, and E_IS/N of glasses at two t_equil."""
    from glassmodes.lammps_session import open_lammps
    from glassmodes.prepare import get_model, prepare

    deck = get_model(MODEL).deck_path().read_text().splitlines()
    liquid = deck[:next(k for k, ln in enumerate(deck) if ln.startswith("# ---- constant-rate cooling"))]
    lmp = open_lammps()
    msd = []
    try:
        for k, v in {"N": str(a.n), "seed": "3", "dim": "2", "density": "0.86", "T_liquid": "2.0",
                     "t_equil": "5"}.items():
            lmp.command(f"variable {k} index {v}")
        lmp.commands_string("\n".join(liquid))
        lmp.command("compute gm_msd all msd com yes")
        lmp.command("variable gm_msd equal c_gm_msd[4]")
        for _ in range(10):
            lmp.command("run 1000")
            msd.append([float(lmp.get_thermo("step")) * 0.005 - 5.0, float(lmp.extract_variable("gm_msd"))])
    finally:
        lmp.close()
    out = {"msd_liquid_T2": {"N": a.n, "columns": ["time after the first 5 time units", "MSD (sigma^2)"],
                             "values": msd}}
    work = Path(a.work) / "teq"
    for te in a.t_equil:
        metas = prepare(MODEL, n=a.n_glass, seed=1001, samples=a.samples, out_dir=work / f"t{te:g}",
                        overrides={**OVERRIDES, "t_equil": f"{te:g}"})
        e = np.array([m["energy_per_particle"] for m in metas])
        out[f"E_IS_t_equil_{te:g}"] = {"N": a.n_glass, "mean": float(e.mean()),
                                       "sem": float(e.std(ddof=1) / np.sqrt(e.size)), "glasses": int(e.size)}
    print(json.dumps(out, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(out, indent=1) + "\n")


# ------------------------------------------------------------------------------------------ analyze

def load(paths) -> dict[int, list[dict]]:
    """Records per N from the JSON-lines files."""
    by_n: dict[int, list[dict]] = {}
    for p in paths:
        for line in Path(p).read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                by_n.setdefault(int(r["N"]), []).append(r)
    return by_n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="prepare glasses and find their modes (resumable)")
    r.add_argument("--n", type=int, required=True)
    r.add_argument("--samples", type=int, required=True, help="seeds 1 .. samples")
    r.add_argument("--work", default="/tmp/nls", help="scratch folder for the glasses")
    r.add_argument("--out", required=True, help="JSON-lines file (appended)")
    r.add_argument("--until", help="HH:MM UTC: start no glass after this time")
    r.add_argument("--t-equil", type=float, help="liquid equilibration time at T = 2.0 (default: the deck's 100)")
    r.add_argument("--keep", action="store_true", help="keep the data files of the glasses")
    t = sub.add_parser("teq-check", help="MSD of the T = 2.0 liquid; E_IS/N of glasses at several t_equil")
    t.add_argument("--n", type=int, default=1600, help="liquid size of the MSD run")
    t.add_argument("--n-glass", type=int, default=400)
    t.add_argument("--samples", type=int, default=40)
    t.add_argument("--t-equil", type=float, nargs="+", default=[25.0, 100.0])
    t.add_argument("--work", default="/tmp/nls")
    t.add_argument("--out")
    an = sub.add_parser("analyze", help="fits, bootstrap errors, figures")
    an.add_argument("jsonl", nargs="+")
    an.add_argument("--json", help="summary JSON to write")
    an.add_argument("--plots", help="folder for the PNG figures")
    an.add_argument("--boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    a = ap.parse_args(argv)
    if a.cmd == "run":
        run(a)
    elif a.cmd == "teq-check":
        teq_check(a)
    else:
        from nonlinear_thesis_analysis import analyze
        analyze(load(a.jsonl), a)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
