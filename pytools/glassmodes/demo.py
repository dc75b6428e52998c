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
    from glassmodes.analysis import ModeStatistics, participation_ratio, qlm_mask
    from glassmodes.anharmonic.lifetimes import Smearing, compute_lifetimes
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
        stats = ModeStatistics(preset="xiang", pr_threshold=pr_threshold, bins=40)
        stats.compute(modes_file)
        figures = stats.save_plots(analysis_dir)
        summary = stats.summary()
        return (stats, figures, summary), (f"{summary['qlm_count']} QLMs (PR < {pr_threshold}), "
                                           f"{len(figures)} figures")

    stats, figures, summary = stages.run(
        "participation ratio, QLMs, vDOS",
        f"glassmodes analyze {q(str(modes_file))} --plot --pr-threshold {pr_threshold} --bins 40 "
        f"--out {q(str(analysis_dir))}", analysis)
    pr = participation_ratio(modes.vectors, modes.dimension, masses=modes.atoms["mass"])
    qlm = np.flatnonzero(qlm_mask(modes.omega, pr, pr_threshold))

    # 5. lifetimes of every mode (classical perturbation theory)
    lifetimes_png = out / "lifetimes.png"

    def lifetimes():
        lt = compute_lifetimes(modes, read_fc3(fc3), temperature, limit="classical",
                               smearing=Smearing("gaussian", width=smearing_width))
        _plot_lifetimes(lt, lifetimes_png, pr, pr_threshold)
        tau = 1.0 / (lt.gamma_split + lt.gamma_combine)
        np.savetxt(out / "lifetimes.csv",
                   np.column_stack([lt.modes, lt.omega, lt.gamma_split, lt.gamma_combine, tau]),
                   delimiter=",", header=f"mode,omega [{lt.omega_unit}],gamma_split [{lt.rate_unit}],"
                                         f"gamma_combine [{lt.rate_unit}],tau [{_time_unit(lt.rate_unit)}]")
        return lt, f"{lt.modes.size} modes at T = {temperature:g} (classical), median tau {np.median(tau):.4g}"

    lt = stages.run("three-phonon lifetimes",
                    f"glassmodes lifetimes {q(str(modes_file))} {q(str(fc3))} --T {temperature:g} --classical "
                    f"--smearing gaussian --width {smearing_width:g}",
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
    report.add_figure(picture, f"Softest quasi-localized mode (mode {softest}, omega = "
                               f"{modes.omega[softest]:.4f} {modes.omega_unit}, PR = {pr[softest]:.3f}): "
                               f"arrows on the top 10% participating particles, colored by |e_i|^2")
    for fig in figures:
        report.add_figure(fig, Path(fig).stem.replace("_", " "))
    report.add_figure(lifetimes_png, f"Lifetimes tau = 1/Gamma at T = {temperature:g} (classical limit)")
    tau = 1.0 / (lt.gamma_split + lt.gamma_combine)
    tau_of = dict(zip(lt.modes.tolist(), tau.tolist()))
    rows = [[int(k), float(modes.omega[k]), float(pr[k]), float(pr[k] * modes.natoms), float(tau_of.get(int(k), np.nan))]
            for k in qlm]
    report.add_table(f"Quasi-localized modes (PR < {pr_threshold})",
                     ["mode", f"omega ({modes.omega_unit})", "PR", "N PR (participating particles)",
                      f"tau ({_time_unit(lt.rate_unit)})"], rows,
                     note="Modes counted from 0 in ascending frequency, translations excluded.")
    report.add_table("Summary", ["quantity", "value"],
                     [[k, json.dumps(v) if isinstance(v, (dict, list)) else v]
                      for k, v in summary.items() if k in ("samples", "modes_counted", "qlm_count", "power_law",
                                                           "qlm_criterion")])
    path = report.write(out / "report.html")
    progress(f"wrote {path} (total {sum(s.seconds for s in stages.stages):.1f} s)")
    return path


def _time_unit(rate_unit: str) -> str:
    """The time unit of a rate unit written 1/<time>."""
    return rate_unit[2:] if rate_unit.startswith("1/") else f"1/({rate_unit})"


def _plot_lifetimes(lt, path: Path, pr: np.ndarray, pr_threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tau = 1.0 / (lt.gamma_split + lt.gamma_combine)
    fig, ax = plt.subplots(figsize=(5.2, 3.9))
    loc = pr[lt.modes] < pr_threshold
    ax.loglog(lt.omega[~loc], tau[~loc], ".", ms=3, color="0.4", label="extended modes")
    ax.loglog(lt.omega[loc], tau[loc], "o", ms=4, color="tab:red", label=f"QLMs (PR < {pr_threshold})")
    ax.set_xlabel(f"omega ({lt.omega_unit})")
    ax.set_ylabel(f"tau = 1/Gamma ({_time_unit(lt.rate_unit)})")
    ax.set_title(f"three-phonon lifetimes, T = {lt.temperature:g}, {lt.limit}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
