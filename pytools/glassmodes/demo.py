"""The main job on the built-in sample: from nothing to a report of a glass's modes and lifetimes.

Stages (each timed, each with the command that reproduces it on its own):

1. prepare one 3D glass of seed 004's 12-inverse-power-law model (``inputs/seed004-ipl12.in``);
2. write its Hessian and third-order force constants through the plugin;
3. the full spectrum (dense LAPACK);
4. participation ratios, the QLM classification, the vDOS and its plots;
5. the classical three-phonon lifetimes of every mode at T (perturbation theory);
6. a headless OVITO rendering of the softest quasi-localized mode;
7. ``report.html`` with the plots, a table of the QLMs and the stage times.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "seed004-ipl12"


def _progress(message: str) -> None:
    print(f"[demo] {message}", flush=True)


class _Stages:
    """Times each stage and keeps its reproducing command."""

    def __init__(self, progress):
        self.stages = []
        self.progress = progress

    def run(self, name: str, command: str, func):
        self.progress(f"{name} ...")
        t0 = time.perf_counter()
        result, summary = func()
        seconds = time.perf_counter() - t0
        from glassmodes.html_report import Stage

        self.stages.append(Stage(name=name, seconds=seconds, command=command, summary=summary))
        self.progress(f"{name}: {summary} ({seconds:.1f} s)")
        return result


def run_demo(out: str | Path = "demo-out", model: str = DEFAULT_MODEL, n: int = 1000, seed: int = 1,
             temperature: float = 1e-3, pr_threshold: float = 0.2, smearing_width: float = 0.05,
             progress=_progress) -> Path:
    """Run every stage into folder ``out``; returns the path of ``report.html``."""
    from glassmodes.analysis import CATEGORY_LABELS, ModeStatistics, classify_four, participation_ratio, qlm_bound
    from glassmodes.analysis.classify import HYBRIDIZED, LOCALIZED, QUASI_LOCALIZED
    from glassmodes.anharmonic.lifetimes import Smearing, compute_lifetimes
    from glassmodes.anharmonic.report import save_lifetimes_plot
    from glassmodes.fc3 import read_fc3
    from glassmodes.html_report import Report
    from glassmodes.lammps_session import open_lammps, plugin_path
    from glassmodes.modes import read_modes, solve_modes, write_modes
    from glassmodes.ovito.render import render_mode
    from glassmodes.prepare import prepare, sample_commands, sample_stem

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    q = shlex.quote
    stages = _Stages(progress)

    # 1. the glass
    glass_dir = out / "glass"
    metas = stages.run(
        "prepare glass",
        f"glassmodes prepare {model} --n {n} --seed {seed} --samples 1 --out {q(str(glass_dir))}",
        lambda: (lambda m: (m, f"{model}, N = {m[0]['N']}, E/N = {m[0]['energy_per_particle']:.6f}, "
                               f"largest force {m[0]['largest_force']:.1e}"))(
            prepare(model, n=n, seed=seed, samples=1, out_dir=glass_dir)))
    meta_path = glass_dir / f"{sample_stem(model, metas[0]['N'], seed)}.json"

    # 2. Hessian and third-order constants through the plugin
    deck = out / "force_constants.in"
    hessian, fc3 = out / "hessian", out / "fc3"
    lines = [f"plugin load {plugin_path()}", *sample_commands(meta_path),
             f"write_hessian all {hessian}", f"write_fc3 all {fc3}"]
    deck.write_text("\n".join(lines) + "\n")

    def force_constants():
        lmp = open_lammps()
        try:
            for line in lines[1:]:    # open_lammps loads the plugin itself
                lmp.command(line)
        finally:
            lmp.close()
        hmeta = json.loads(Path(f"{hessian}.json").read_text())
        fmeta = json.loads(Path(f"{fc3}.json").read_text())
        return None, (f"Hessian {hmeta['method']} ({hmeta['nnz']} nonzeros), third order "
                      f"{fmeta.get('method', '?')} ({fmeta.get('nrecords', fmeta.get('npairs', '?'))} records)")

    stages.run("Hessian and third-order constants (plugin)",
               f"LD_LIBRARY_PATH=.venv/lib .venv/bin/lmp -in {q(str(deck))}", force_constants)

    # 3. full spectrum
    modes_file = out / "modes.h5"

    def spectrum():
        modes = solve_modes(hessian, backend="dense")
        write_modes(modes_file, modes)
        return modes, (f"{modes.omega.size} modes, {modes.info.zero_modes.count} zero modes excluded, "
                       f"omega {modes.omega[0]:.4f} .. {modes.omega[-1]:.3f} {modes.omega_unit}")

    modes = stages.run("full spectrum (dense LAPACK)",
                       f"glassmodes modes {q(str(hessian))} --backend dense -o {q(str(modes_file))}", spectrum)

    # 4. participation ratio, QLMs, vDOS
    analysis_dir = out / "analysis"

    def analysis():
        analysis_dir.mkdir(exist_ok=True)
        stats = ModeStatistics(preset="xiang", pr_threshold=pr_threshold, bins=40, phonon=True)
        stats.compute(modes_file)
        figures = stats.save_plots(analysis_dir)
        summary = stats.summary()
        cat = summary["categories"]
        return (stats, figures, summary), (f"{summary['qlm_count']} QLMs ({summary['qlm_rule']}); "
                                           f"{cat['hybridized']} hybridized and {cat['high-frequency localized']} "
                                           f"high-frequency localized modes (PR < {pr_threshold:g}, not QLMs); "
                                           f"{len(figures)} figures")

    stats, figures, summary = stages.run(
        "participation ratio, QLMs, vDOS",
        f"glassmodes analyze {q(str(modes_file))} --plot --phonon --pr-threshold {pr_threshold} --bins 40 "
        f"--out {q(str(analysis_dir))}", analysis)
    pr = participation_ratio(modes.vectors, modes.dimension)   # as in the mode file and analyze
    categories = classify_four(modes.omega, pr, pr_threshold, complete_spectrum=True).labels
    qlm = np.flatnonzero(categories == QUASI_LOCALIZED)        # soft and localized: qlm_mask's rule
    qlm_rule = f"PR < {pr_threshold:g} and {qlm_bound(modes.omega, pr, pr_threshold)[1]}"

    # 5. lifetimes of every mode (classical perturbation theory)
    lifetimes_png = out / "lifetimes.png"

    def lifetimes():
        lt = compute_lifetimes(modes, read_fc3(fc3), temperature, limit="classical",
                               smearing=Smearing("gaussian", width=smearing_width))
        save_lifetimes_plot(lifetimes_png, lt, categories=categories, pr_threshold=pr_threshold,
                            title=f"{model}, N = {modes.natoms}")
        tau = 1.0 / (lt.gamma_split + lt.gamma_combine)
        np.savetxt(out / "lifetimes.csv",
                   np.column_stack([lt.modes, lt.omega, lt.gamma_split, lt.gamma_combine, tau]),
                   delimiter=",", header=f"mode,omega [{lt.omega_unit}],gamma_split [{lt.rate_unit}],"
                                         f"gamma_combine [{lt.rate_unit}],tau [{_time_unit(lt.rate_unit)}]")
        return lt, f"{lt.modes.size} modes at T = {temperature:g} (classical), median tau {np.median(tau):.4g}"

    lt = stages.run("three-phonon lifetimes",
                    f"glassmodes lifetimes {q(str(modes_file))} {q(str(fc3))} --T {temperature:g} --classical "
                    f"--smearing gaussian --width {smearing_width:g} -o {q(str(out / 'lifetimes.csv'))} "
                    f"--plot {q(str(lifetimes_png))} --pr-threshold {pr_threshold:g}",
                    lifetimes)

    # 6. the softest QLM, rendered
    softest = int(qlm[0]) if qlm.size else int(np.argmin(pr[: max(1, pr.size // 20)]))
    picture = out / "softest_qlm.png"
    stages.run("render softest QLM (OVITO, Tachyon)",
               f"glassmodes render {q(str(modes_file))} --mode {softest} -o {q(str(picture))}",
               lambda: (render_mode(modes_file, softest, picture),
                        f"mode {softest}, omega {modes.omega[softest]:.4f}, PR {pr[softest]:.3f}"))

    # 7. report
    report = Report(
        title=f"glassmodes demo: {model}, N = {metas[0]['N']}",
        intro=(f"A glass of seed 004's model prepared and minimized; its Hessian and third-order force "
               f"constants written by the LAMMPS plugin; every vibrational mode, its participation ratio "
               f"and its classical three-phonon lifetime at T = {temperature:g}."),
        stages=stages.stages)
    kind = "quasi-localized mode" if qlm.size else "mode of lowest PR among the softest 5% (no QLM found)"
    report.add_figure(picture, f"Softest {kind} (mode {softest}, omega = "
                               f"{modes.omega[softest]:.4f} {modes.omega_unit}, PR = {pr[softest]:.3f}): "
                               f"arrows on the top 10% participating particles, colored by |e_i|^2")
    for fig in figures:
        report.add_figure(fig, _CAPTIONS.get(Path(fig).stem, Path(fig).stem.replace("_", " ")))
    report.add_figure(lifetimes_png, f"Three-phonon lifetimes tau_k = 1/Gamma_k (left axis) and energy decay "
                                     f"rates Gamma_k (right axis) at T = {temperature:g} (classical limit), "
                                     f"modes colored by category (QLM: {qlm_rule})")
    tau = 1.0 / (lt.gamma_split + lt.gamma_combine)
    tau_of = dict(zip(lt.modes.tolist(), tau.tolist()))
    rows = [[int(k), float(modes.omega[k]), float(pr[k]), float(pr[k] * modes.natoms),
             1.0 / float(tau_of.get(int(k), np.nan)), float(tau_of.get(int(k), np.nan))] for k in qlm]
    header = ["mode", f"omega ({modes.omega_unit})", "PR", "N PR (participating particles)",
              f"decay rate Gamma ({lt.rate_unit})", f"lifetime 1/Gamma ({_time_unit(lt.rate_unit)})"]
    report.add_table(f"Quasi-localized modes (QLMs): {qlm_rule}", header, rows,
                     note="Soft and localized. Modes counted from 0 in ascending frequency, translations excluded.")
    other = [[CATEGORY_LABELS[c], int(np.sum(categories == c)),
              f"{modes.omega[categories == c].min():.3g} .. {modes.omega[categories == c].max():.3g}"
              if np.any(categories == c) else "-"] for c in (HYBRIDIZED, LOCALIZED)]
    report.add_table(f"Other modes with PR < {pr_threshold:g} (not QLMs)",
                     ["category", "modes", f"omega range ({modes.omega_unit})"], other,
                     note="Hybridized: inside the band of extended modes (above omega_QVM); high-frequency "
                          "localized: above the highest extended mode (Xiang et al.'s categories).")
    report.add_table("Summary", ["quantity", "value"],
                     [[k, json.dumps(v) if isinstance(v, (dict, list)) else v]
                      for k, v in summary.items() if k in ("samples", "modes_counted", "qlm_count", "qlm_rule",
                                                           "categories", "power_law", "qlm_criterion", "debye")])
    path = report.write(out / "report.html")
    progress(f"wrote {path} (total {sum(s.seconds for s in stages.stages):.1f} s)")
    return path


_CAPTIONS = {
    "pr_vs_omega": "Participation ratio against frequency (log-log), every mode colored by category; QLM = "
                   "PR below the threshold and omega below omega_QVM (the lowest mode with PR above it)",
    "vdos": "vDOS g(omega) per non-zero mode with Poisson errors; the power-law fit is drawn only from 50 "
            "modes in its window on (the summary's power_law gives the fit, its window and sample size always)",
    "reduced_vdos": "Reduced vDOS g(omega)/omega^2 against the Debye level 3/omega_D^3 from the sound speeds "
                    "(estimated from the lowest transverse and longitudinal plane waves)",
    "cumulative_over_omega5": "C(omega)/omega^5, C(omega) the fraction of non-zero modes below omega: a plateau "
                              "where g ~ omega^4",
}


def _time_unit(rate_unit: str) -> str:
    """The time unit of a rate unit written 1/<time>."""
    return rate_unit[2:] if rate_unit.startswith("1/") else f"1/({rate_unit})"
