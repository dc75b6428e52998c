"""The main job on the built-in sample: from nothing to a report of a glass's modes and lifetimes.

Stages (each timed, each with the command that reproduces it on its own, each cached):

1. prepare one 3D glass of the binary 12-inverse-power-law model of Mizuno, Tong, Ikeda and
   Mossa (2020) (``inputs/seed004-ipl12.in``);
2. write its Hessian and third-order force constants through the plugin;
3. the full spectrum (dense LAPACK);
4. participation ratios, the mode classes (quasi-localized = soft and localized), the vDOS and
   its plots;
5. the classical three-phonon lifetimes of every mode at T (perturbation theory), on every core
   (``glassmodes lifetimes --np``);
6. the QHGK thermal conductivity with those linewidths at T, 3 T and 10 T (``glassmodes conductivity``);
7. a headless OVITO rendering of the softest quasi-localized mode;
8. ``report.html`` with the plots, a table of the QLMs and the stage times.

A stage whose outputs exist and whose parameters (and those of every stage before it) are the
ones recorded in ``DIR/stages.json`` is not run again, so a rerun after an interruption resumes
at the first unfinished stage (``fresh=True`` / ``--fresh`` starts over).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "seed004-ipl12"
STAGES_FILE = "stages.json"


def _progress(message: str) -> None:
    print(f"[demo] {message}", flush=True)


class _Stages:
    """Runs, times and caches the stages; keeps each one's reproducing command.

    ``DIR/stages.json`` records, per finished stage, its key (the parameters it depends on,
    including the keys of the stages before it), summary, time and command.
    """

    def __init__(self, out: Path, progress, fresh: bool = False):
        self.out = out
        self.path = out / STAGES_FILE
        self.progress = progress
        self.stages = []
        self.done = {}
        if not fresh and self.path.is_file():
            try:
                self.done = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self.done = {}
        self.chain = {}    # keys of the stages so far: a changed stage invalidates the later ones

    def run(self, name: str, key: dict, command: str, outputs: list[Path], func) -> str:
        from glassmodes.html_report import Stage
        from glassmodes.io.atomic import atomic_output

        self.chain = {**self.chain, name: key}
        full_key = json.loads(json.dumps(self.chain, default=str))
        rec = self.done.get(name)
        if rec and rec.get("key") == full_key and all(Path(p).exists() for p in outputs):
            self.progress(f"{name}: done before, kept ({rec['summary']}; {rec['seconds']:.1f} s then)")
            self.stages.append(Stage(name=name, seconds=rec["seconds"], command=command,
                                     summary=rec["summary"] + " (from an earlier run)"))
            return rec["summary"]
        self.progress(f"{name} ...")
        t0 = time.perf_counter()
        summary = func()
        seconds = time.perf_counter() - t0
        self.stages.append(Stage(name=name, seconds=seconds, command=command, summary=summary))
        self.progress(f"{name}: {summary} ({seconds:.1f} s)")
        self.done[name] = {"key": full_key, "summary": summary, "seconds": seconds, "command": command}
        # later stages recorded from an older run stay only if their key still matches theirs
        with atomic_output(self.path) as tmp:
            tmp.write_text(json.dumps(self.done, indent=2) + "\n")
        return summary


def run_demo(out: str | Path = "demo-out", model: str = DEFAULT_MODEL, n: int = 1000, seed: int = 1,
             temperature: float = 1e-3, pr_threshold: float = 0.2, smearing_width: float = 0.05,
             np_ranks: int | None = None, fresh: bool = False, progress=_progress) -> Path:
    """Run every stage into folder ``out``; returns the path of ``report.html``.

    ``np_ranks``: MPI ranks of the lifetime stage (default: the number of cores).
    """
    from glassmodes.analysis import CATEGORY_LABELS, ModeStatistics, classify_four, qlm_bound
    from glassmodes.analysis.classify import HYBRIDIZED, LOCALIZED, QUASI_LOCALIZED
    from glassmodes.hessian_job import HessianJob, write_hessian_job
    from glassmodes.html_report import Report
    from glassmodes.modes import solve_modes, write_modes
    from glassmodes.ovito.render import render_mode
    from glassmodes.prepare import prepare, sample_stem

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    q = lambda p: shlex.quote(str(p))  # noqa: E731
    np_ranks = int(np_ranks or os.cpu_count() or 1)
    stages = _Stages(out, progress, fresh=fresh)

    # 1. the glass
    glass_dir = out / "glass"
    stem = sample_stem(model, n, seed)
    meta_path, data_path = glass_dir / f"{stem}.json", glass_dir / f"{stem}.data"

    def glass():
        with _LogWatch(glass_dir / f"{stem}.log", progress):
            meta = prepare(model, n=n, seed=seed, samples=1, out_dir=glass_dir)[0]
        return (f"{model}, N = {meta['N']}, E/N = {meta['energy_per_particle']:.6f}, "
                f"largest force {meta['largest_force']:.1e}")

    stages.run("prepare glass", {"model": model, "n": n, "seed": seed},
               f"glassmodes prepare {model} --n {n} --seed {seed} --samples 1 --out {q(glass_dir)}",
               [meta_path, data_path, glass_dir / f"{stem}.ff"], glass)

    # 2. Hessian and third-order constants through the plugin
    hessian, fc3 = out / "hessian", out / "fc3"

    def force_constants():
        write_hessian_job(HessianJob(source=data_path, output=hessian, fc3_output=fc3))
        hmeta = json.loads(Path(f"{hessian}.json").read_text())
        fmeta = json.loads(Path(f"{fc3}.json").read_text())
        return (f"Hessian {hmeta['method']} ({hmeta['nnz']} nonzeros), third order "
                f"{fmeta.get('method', '?')} ({fmeta.get('nrecords', fmeta.get('npairs', '?'))} records)")

    stages.run("Hessian and third-order constants (plugin)", {},
               f"glassmodes hessian {q(data_path)} -o {q(hessian)} --fc3 {q(fc3)}",
               [Path(f"{hessian}.json"), Path(f"{fc3}.json")], force_constants)

    # 3. full spectrum
    modes_file = out / "modes.h5"

    def spectrum():
        modes = solve_modes(hessian, backend="dense")
        write_modes(modes_file, modes)
        return (f"{modes.omega.size} modes, {modes.info.zero_modes.count} zero modes excluded, "
                f"omega {modes.omega[0]:.4f} .. {modes.omega[-1]:.3f} {modes.omega_unit}")

    stages.run("full spectrum (dense LAPACK)", {},
               f"glassmodes modes {q(hessian)} --backend dense -o {q(modes_file)}", [modes_file], spectrum)

    # 4. participation ratio, mode classes, vDOS
    analysis_dir = out / "analysis"

    def analysis():
        analysis_dir.mkdir(exist_ok=True)
        stats = ModeStatistics(preset="xiang", pr_threshold=pr_threshold, bins=40, phonon=True)
        stats.compute(modes_file)
        figures = stats.save_plots(analysis_dir)
        summary = stats.summary()
        from glassmodes.analysis.report import write_summary

        write_summary(analysis_dir / "summary.json", summary)
        cat = summary["categories"]
        return (f"QLMs: {summary['qlm_count']} ({summary['qlm_rule']}); {cat['hybridized']} hybridized and "
                f"{cat['high-frequency localized']} high-frequency localized modes (PR < {pr_threshold:g}, "
                f"not QLMs); {len(figures)} figures")

    stages.run("participation ratio, mode classes, vDOS", {"pr_threshold": pr_threshold},
               f"glassmodes analyze {q(modes_file)} --plot --phonon --pr-threshold {pr_threshold} --bins 40 "
               f"--out {q(analysis_dir)}", [analysis_dir / "summary.json"], analysis)

    # 5. lifetimes of every mode (classical perturbation theory), on every core
    lifetimes_csv, lifetimes_png = out / "lifetimes.csv", out / "lifetimes.png"
    lt_args = ["lifetimes", str(modes_file), str(fc3), "--T", f"{temperature:g}", "--classical",
               "--smearing", "gaussian", "--width", f"{smearing_width:g}", "--float32", "--chunk", "512", "--np", str(np_ranks),
               "-o", str(lifetimes_csv), "--plot", str(lifetimes_png), "--pr-threshold", f"{pr_threshold:g}"]

    def lifetimes():
        return _run_cli(lt_args, progress)

    stages.run("three-phonon lifetimes",
               {"T": temperature, "width": smearing_width},
               "glassmodes " + shlex.join(lt_args), [lifetimes_csv, lifetimes_png], lifetimes)

    # 6. thermal conductivity (QHGK) with these linewidths, at T, 3 T and 10 T (Gamma ~ T, classical)
    kappa_dir = out / "conductivity"
    temps = [f"{temperature:g}", f"{3 * temperature:g}", f"{10 * temperature:g}"]
    kappa_args = ["conductivity", str(modes_file), str(hessian), "--lifetimes", str(lifetimes_csv), "--T", *temps,
                  "-o", str(kappa_dir / "conductivity.h5"), "--plot", str(kappa_dir)]
    stages.run("thermal conductivity (QHGK)", {"T": temps},
               "glassmodes " + shlex.join(kappa_args), [kappa_dir / "conductivity.h5"],
               lambda: (kappa_dir.mkdir(exist_ok=True), _run_cli(kappa_args, progress))[1])

    # the modes, their classes and lifetimes, for the figures and tables
    from glassmodes.anharmonic.report import read_table
    from glassmodes.modes import ModeFile

    with ModeFile(modes_file) as mf:
        omega, pr, omega_unit, natoms = mf.frequencies, mf.participation_ratio, mf.omega_unit, mf.natoms
    summary = json.loads((analysis_dir / "summary.json").read_text())
    categories = classify_four(omega, pr, pr_threshold, complete_spectrum=True).labels
    qlm = np.flatnonzero(categories == QUASI_LOCALIZED)        # soft and localized: qlm_mask's rule
    qlm_rule = f"PR < {pr_threshold:g} and {qlm_bound(omega, pr, pr_threshold)[1]}"
    lt_meta, lt_cols = read_table(lifetimes_csv)

    # 7. the softest QLM, rendered
    softest = int(qlm[0]) if qlm.size else int(np.argmin(pr[: max(1, pr.size // 20)]))
    picture = out / "softest_qlm.png"
    stages.run("render softest QLM (OVITO, Tachyon)", {"mode": softest, "sizes": "per type"},
               f"glassmodes render {q(modes_file)} --mode {softest} --data {q(data_path)} -o {q(picture)}", [picture],
               lambda: (render_mode(modes_file, softest, picture, data=data_path),
                        f"mode {softest}, omega {omega[softest]:.4f}, PR {pr[softest]:.3f}")[1])

    # 8. report
    report = Report(
        title=f"glassmodes demo: {model}, N = {n}",
        intro=(f"A glass of the binary 12-inverse-power-law model of Mizuno, Tong, Ikeda and Mossa (2020) "
               f"prepared and minimized; its Hessian and third-order force constants written by the LAMMPS "
               f"plugin; every vibrational mode, its participation ratio and its classical three-phonon "
               f"lifetime at T = {temperature:g}. Quasi-localized modes (QLMs) are soft and localized: "
               f"PR < {pr_threshold} below the first delocalized mode (Xiang, Patinet, Volz and Zhou 2022); "
               f"localized modes at the top of the spectrum are another class. References: docs/references.md."),
        stages=stages.stages)
    kind = "quasi-localized mode" if qlm.size else "mode of lowest PR among the softest 5% (no QLM found)"
    report.add_figure(picture, f"Softest {kind} (mode {softest}, omega = {omega[softest]:.4f} {omega_unit}, "
                               f"PR = {pr[softest]:.3f}): arrows on the top 10% participating particles, "
                               f"colored by |e_i|^2")
    for fig in sorted(analysis_dir.glob("*.png")):
        report.add_figure(fig, _CAPTIONS.get(fig.stem, fig.stem.replace("_", " ")))
    report.add_figure(lifetimes_png, f"Three-phonon lifetimes tau_k = 1/Gamma_k (left axis) and energy decay "
                                     f"rates Gamma_k (right axis) at T = {temperature:g} (classical limit), "
                                     f"modes colored by category (QLM: {qlm_rule})")
    for fig in sorted(kappa_dir.glob("*.png")):
        report.add_figure(fig, "thermal conductivity (QHGK, classical, Gamma ~ T from the lifetimes above): "
                               + fig.stem.replace("_", " ") + " (definitions: docs/transport.md)")
    tau_of = dict(zip(lt_cols["mode"].astype(int).tolist(), lt_cols["tau"].tolist()))
    rate_unit = lt_meta["rate_unit"]
    rows = [[int(k), float(omega[k]), float(pr[k]), float(pr[k] * natoms),
             1.0 / float(tau_of.get(int(k), np.nan)), float(tau_of.get(int(k), np.nan))] for k in qlm]
    header = ["mode", f"omega ({omega_unit})", "PR", "N PR (participating particles)",
              f"decay rate Gamma ({rate_unit})", f"lifetime 1/Gamma ({_time_unit(rate_unit)})"]
    report.add_table(f"Quasi-localized modes (QLMs): {qlm_rule}", header, rows,
                     note="Soft and localized. Modes counted from 0 in ascending frequency, translations excluded.")
    other = [[CATEGORY_LABELS[c], int(np.sum(categories == c)),
              f"{omega[categories == c].min():.3g} .. {omega[categories == c].max():.3g}"
              if np.any(categories == c) else "-"] for c in (HYBRIDIZED, LOCALIZED)]
    report.add_table(f"Other modes with PR < {pr_threshold:g} (not QLMs)",
                     ["category", "modes", f"omega range ({omega_unit})"], other,
                     note="Hybridized: inside the band of extended modes (above omega_QVM); high-frequency "
                          "localized: above the highest extended mode (Xiang et al.'s categories).")
    report.add_table("Summary", ["quantity", "value"],
                     [[k, json.dumps(v) if isinstance(v, (dict, list)) else v]
                      for k, v in summary.items() if k in ("samples", "modes_counted", "qlm_count", "qlm_rule",
                                                           "categories", "power_law", "qlm_criterion", "debye")])
    path = report.write(out / "report.html")
    progress(f"wrote {path} (stage times {sum(s.seconds for s in stages.stages):.1f} s)")
    return path


def _run_cli(args: list[str], progress) -> str:
    """Run ``glassmodes ARGS`` in a subprocess, its progress lines passed on; its last line back."""
    cmd = [sys.executable, "-m", "glassmodes.cli.main", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1")))
    lines = []
    for line in proc.stdout:
        line = line.rstrip()
        if line:
            lines.append(line)
            progress(f"  {line}")
    if proc.wait() != 0:
        raise RuntimeError(f"glassmodes {args[0]} failed (exit {proc.returncode}): " + " | ".join(lines[-5:]))
    return lines[-1] if lines else "done"


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


class _LogWatch:
    """While LAMMPS runs in this process, report every ``every`` s where its log stands: the
    last command (``run``, ``minimize``, ...) and the last thermo step."""

    def __init__(self, log: Path, progress, every: float = 10.0):
        import threading

        self.log, self.progress, self.every = Path(log), progress, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _watch(self):
        while not self.stop.wait(self.every):
            try:
                lines = self.log.read_text(errors="replace").splitlines()
            except OSError:
                continue
            command = next((" ".join(l.split()) for l in reversed(lines)
                            if l.split()[:1] and l.split()[0] in ("run", "minimize", "write_data")), None)
            step = next((l.split()[0] for l in reversed(lines) if l.split()[:1] and l.split()[0].isdigit()), None)
            where = f"`{command[:60]}`" if command else "setting up"
            self.progress(f"  LAMMPS: {where}" + (f", last thermo output at step {step}" if step else "") +
                          f" ({time.perf_counter() - self.t0:.0f} s)")


def _time_unit(rate_unit: str) -> str:
    """The time unit of a rate unit written 1/<time>."""
    return rate_unit[2:] if rate_unit.startswith("1/") else f"1/({rate_unit})"
