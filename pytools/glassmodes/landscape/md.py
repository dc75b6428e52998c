"""Inherent structures visited by MD at a temperature T with periodic minimization (seed-002 protocol).

Khomenko et al. (2020), Sec. II: "we explore the glass basin ... by running MD at a slightly lower
temperature T_hop = 0.04 and periodically minimizing the system's potential energy"; pairs of minima
visited often are the candidate double wells. This module does that for the configurations that
:mod:`glassmodes.landscape.neb` reads (``atom_style charge`` with the diameter in the charge column,
the seed-002 files, or ``atom_style sphere``; default force field the seed-002 model
``ipl/smooth/poly 12 2 1.25 0.2`` of the plugin), which the dump-based quencher
(:mod:`glassmodes.landscape.quench`, ``atom_style atomic``) cannot build.

Protocol (:class:`MDSettings`):

* one serial LAMMPS instance runs the MD: velocities drawn at 2 T (``velocity all create 2T seed dist
  gaussian mom yes rot no``: started from a minimum, half of the kinetic energy goes into the potential
  energy, as for harmonic oscillators), Nose-Hoover NVT (``fix nvt temp T T tdamp``), velocity Verlet,
  time step ``timestep``, ``equilibrate`` steps before the first quench;
* every ``quench_every`` steps the current positions are copied into a second serial LAMMPS instance
  and minimized (FIRE, CG, FIRE, ``min_modify norm max``, to max |F_i| <= ``ftol``,
  :meth:`~glassmodes.landscape.neb.Landscape.minimize`); the MD is not disturbed;
* each inherent structure (IS) is labelled: the same minimum as an earlier one when no particle differs
  by more than ``same_tol`` (minimum image; :func:`~glassmodes.landscape.tls.label_minimum`), else a
  new distinct minimum;
* the transition graph: hops between the labels of consecutive quenches, counted per pair and direction
  (:func:`~glassmodes.landscape.tls.hop_pairs`); a quench that did not converge is flagged and the hops
  next to it are not counted.

Frame 0 is the quench after the equilibration; frame k the quench ``k * quench_every`` steps later.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from glassmodes.landscape.neb import SEED002_FORCEFIELD, Configuration, Landscape, write_charge_data
from glassmodes.landscape.tls import hop_pairs, label_minimum

FORMAT = "glassmodes-md-minima"
FORMAT_VERSION = 1
UNITS = {"energy": "eps (total, not per atom)", "length": "sigma", "time": "tau = sigma sqrt(m / eps)",
         "temperature": "eps / k_B"}


@dataclass(frozen=True)
class MDSettings:
    """MD with periodic minimization.

    Attributes
    ----------
    temperature : float
        MD temperature T (eps / k_B); seed 002: T_hop = 0.04.
    steps : int
        MD steps in all.
    quench_every : int
        Steps between two minimizations (the time between quenches is ``quench_every * timestep``).
    timestep : float
        MD time step (tau).
    tdamp : float
        Nose-Hoover damping time (tau).
    seed : int
        Seed of the initial velocities.
    equilibrate : int
        MD steps before the first quench.
    ftol : float
        Largest per-atom force of a converged minimization (eps / sigma).
    same_tol : float
        Two IS are the same minimum when no particle differs by more than this (sigma).
    """

    temperature: float
    steps: int
    quench_every: int
    timestep: float = 0.005
    tdamp: float = 0.5
    seed: int = 2024
    equilibrate: int = 1000
    ftol: float = 1e-10
    same_tol: float = 1e-3

    def __post_init__(self):
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.equilibrate < 0:
            raise ValueError(f"equilibrate must be >= 0, got {self.equilibrate}")
        if self.steps < 1 or self.quench_every < 1:
            raise ValueError(f"steps and quench_every must be >= 1, got {self.steps}, {self.quench_every}")
        if self.quench_every > self.steps:
            raise ValueError(f"quench_every ({self.quench_every}) exceeds the number of steps ({self.steps})")
        for name in ("timestep", "tdamp", "ftol", "same_tol"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.seed < 2 ** 31:
            raise ValueError(f"seed must be in 1 ... 2^31 - 1 (LAMMPS velocity), got {self.seed}")


@dataclass
class MDMinima:
    """Result of :func:`md_minima`.

    Attributes
    ----------
    time : ndarray, shape=(F,)
        MD time of each quench (tau) after the equilibration; frame 0 is the first quench.
    labels : ndarray of int, shape=(F,)
        Distinct-minimum index of each quench (-1: not converged).
    energy, fmax : ndarray, shape=(F,)
        Total IS energy (eps) and largest residual force of each quench.
    md_temperature, md_energy : ndarray, shape=(F,)
        Kinetic temperature and potential energy of the MD frame that was quenched.
    minima_x : list of ndarray, shape=(N, 3)
        Distinct minima (positions unwrapped next to the MD frame they were first reached from).
    minima_energy : ndarray, shape=(M,)
    visits : ndarray of int, shape=(M,)
        Quenches that ended in each minimum.
    hops : list of dict
        All hops between consecutive converged quenches (:func:`~glassmodes.landscape.tls.hop_pairs`
        with ``min_hops=1``, one-way allowed): ``a``, ``b``, ``hops``, ``ab``, ``ba``, ``first_frame``.
    seconds : dict
        Wall time of the MD and of the quenches.
    """

    time: np.ndarray
    labels: np.ndarray
    energy: np.ndarray
    fmax: np.ndarray
    md_temperature: np.ndarray
    md_energy: np.ndarray
    minima_x: list
    minima_energy: np.ndarray
    visits: np.ndarray
    hops: list
    seconds: dict

    def pairs(self, min_hops: int = 2, back_and_forth: bool = True) -> list[dict]:
        """Candidate pairs: at least ``min_hops`` hops, in both directions with ``back_and_forth``."""
        return [h for h in self.hops if h["hops"] >= min_hops and (not back_and_forth or (h["ab"] and h["ba"]))]


def md_minima(cfg: Configuration, settings: MDSettings, forcefield: str = SEED002_FORCEFIELD,
              progress=None) -> MDMinima:
    """Run MD at ``settings.temperature`` from ``cfg`` and minimize every ``quench_every`` steps.

    Parameters
    ----------
    cfg : Configuration
        Start configuration (usually an inherent structure of the glass; positions shape=(N, 3)).
    settings : MDSettings
    forcefield : str
        LAMMPS commands defining the interactions (default: the seed-002 model).
    progress : callable or None
        Receives one line per quench.

    Returns
    -------
    MDMinima
    """
    s = settings
    t0 = time.perf_counter()
    md = Landscape(cfg, forcefield)
    quench = Landscape(cfg, forcefield)
    L = cfg.lengths
    times, labels, energy, fmax, temp, epot = [], [], [], [], [], []
    reps: list[np.ndarray] = []
    t_md = t_q = 0.0
    try:
        lmp = md._lmp
        for c in (f"timestep {s.timestep!r}", f"velocity all create {2 * s.temperature!r} {s.seed} dist gaussian "
                  "mom yes rot no", f"fix gm_md all nvt temp {s.temperature!r} {s.temperature!r} {s.tdamp!r}",
                  f"run {s.equilibrate} post no"):
            lmp.command(c)
        nq = s.steps // s.quench_every
        last = -1
        for k in range(nq + 1):
            if k:
                t1 = time.perf_counter()
                lmp.command(f"run {s.quench_every} post no")
                t_md += time.perf_counter() - t1
            x = md._get("x")
            temp.append(float(lmp.get_thermo("temp")))
            epot.append(float(lmp.get_thermo("pe")))
            times.append(k * s.quench_every * s.timestep)
            t1 = time.perf_counter()
            xm, e, fm = quench.minimize(x, ftol=s.ftol)
            t_q += time.perf_counter() - t1
            energy.append(e)
            fmax.append(fm)
            if fm <= s.ftol:
                lab = label_minimum(xm, reps, L, s.same_tol, last)
                last = lab
            else:
                lab = -1
            labels.append(lab)
            if progress:
                progress(f"md-minima: t = {times[-1]:g} ({k}/{nq}), T = {temp[-1]:.4f}, IS energy {e:.10f}, "
                         f"max force {fm:.1e}, minimum {lab if lab >= 0 else 'not converged'} "
                         f"({len(reps)} distinct)")
    finally:
        md.close()
        quench.close()
    labels = np.array(labels, dtype=np.int64)
    energy = np.array(energy)
    # hops only between consecutive converged quenches: a non-converged one (label -1) breaks the chain
    hops = hop_pairs(labels, min_hops=1, back_and_forth=False)
    visits = np.bincount(labels[labels >= 0], minlength=len(reps))
    e_min = np.array([energy[int(np.argmax(labels == j))] for j in range(len(reps))])
    return MDMinima(time=np.array(times), labels=labels, energy=energy, fmax=np.array(fmax),
                    md_temperature=np.array(temp), md_energy=np.array(epot), minima_x=reps, minima_energy=e_min,
                    visits=visits, hops=hops,
                    seconds={"md": t_md, "quench": t_q, "total": time.perf_counter() - t0})


def minimum_names(energies: np.ndarray, natoms: int) -> list[str]:
    """File names of the minima in the seed-002 convention: the energy per particle, ``%.9E.conf.txt``;
    a suffix ``-k`` keeps two distinct minima of equal printed energy apart."""
    names, seen = [], {}
    for e in energies:
        stem = f"{e / natoms:.9E}"
        k = seen.get(stem, 0)
        seen[stem] = k + 1
        names.append(f"{stem}{'' if k == 0 else f'-{k}'}.conf.txt")
    return names


def write_md_minima(out: str | os.PathLike, cfg: Configuration, res: MDMinima, settings: MDSettings,
                    forcefield: str, min_hops: int = 2, back_and_forth: bool = True) -> dict:
    """Write the result of :func:`md_minima` into the folder ``out`` (each file atomically).

    Files: ``minima/<E/N>.conf.txt`` (the distinct minima, :func:`minimum_names`, data files of
    ``atom_style charge`` that ``glassmodes double-wells`` reads), ``trajectory.csv`` (frame, time,
    minimum, energy, fmax, T_md, Phi_md), ``transitions.csv`` (every pair of minima joined by a hop:
    a, b (file names, A the lower), hops, a_to_b, b_to_a, first_frame, candidate = passes ``min_hops``
    and ``back_and_forth``), ``summary.json`` (format, units, settings, force field, counts).

    Returns
    -------
    dict : the summary.
    """
    import csv

    from glassmodes import __version__
    from glassmodes.io.atomic import atomic_output

    out = Path(out)
    (out / "minima").mkdir(parents=True, exist_ok=True)
    names = minimum_names(res.minima_energy, cfg.natoms)
    for n, x in zip(names, res.minima_x):
        with atomic_output(out / "minima" / n) as tmp:
            title = (f"glassmodes md-minima: inherent structure from {Path(cfg.source).name} "
                     f"at T = {settings.temperature:g}")
            write_charge_data(tmp, cfg, x, title=title)
    with atomic_output(out / "trajectory.csv") as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "time", "minimum", "energy", "fmax", "T_md", "Phi_md"])
        for k in range(res.labels.size):
            lab = int(res.labels[k])
            w.writerow([k, repr(float(res.time[k])), names[lab] if lab >= 0 else "not converged",
                        repr(float(res.energy[k])), f"{res.fmax[k]:.3e}", repr(float(res.md_temperature[k])),
                        repr(float(res.md_energy[k]))])
    cand = {(p["a"], p["b"]) for p in res.pairs(min_hops, back_and_forth)}
    rows = []
    for h in res.hops:
        a, b, ab, ba = h["a"], h["b"], h["ab"], h["ba"]
        if res.minima_energy[b] < res.minima_energy[a]:
            a, b, ab, ba = b, a, ba, ab
        rows.append({"a": names[a], "b": names[b], "hops": h["hops"], "a_to_b": ab, "b_to_a": ba,
                     "first_frame": h["first_frame"], "candidate": int((h["a"], h["b"]) in cand)})
    with atomic_output(out / "transitions.csv") as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["a", "b", "hops", "a_to_b", "b_to_a", "first_frame", "candidate"])
        w.writeheader()
        w.writerows(rows)
    summary = {"format": FORMAT, "format_version": FORMAT_VERSION, "units": UNITS, "glassmodes_version": __version__,
               "start": str(cfg.source), "natoms": cfg.natoms, "forcefield": forcefield, "settings": asdict(settings),
               "min_hops": int(min_hops), "back_and_forth": bool(back_and_forth),
               "quenches": int(res.labels.size), "not_converged": int(np.sum(res.labels < 0)),
               "md_time": float(res.time[-1]), "distinct_minima": len(names),
               "visits": {n: int(v) for n, v in zip(names, res.visits)},
               "pairs_with_hops": len(rows), "candidate_pairs": len(cand),
               "mean_temperature": float(np.mean(res.md_temperature[1:])) if res.labels.size > 1 else None,
               "seconds": res.seconds}
    with atomic_output(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=1))
    return summary


def read_transitions(path: str | os.PathLike, candidates_only: bool = True) -> list[dict]:
    """Rows of a ``transitions.csv`` written by :func:`write_md_minima` (checks the header).

    Returns
    -------
    list of dict: ``a``, ``b`` (file names), ``hops``, ``a_to_b``, ``b_to_a``, ``first_frame``, ``candidate``
    (ints); only the candidate pairs with ``candidates_only``.
    """
    import csv

    path = Path(path)
    try:
        with open(path, newline="") as fh:
            r = csv.DictReader(fh)
            need = {"a", "b", "hops", "a_to_b", "b_to_a", "first_frame", "candidate"}
            if not need <= set(r.fieldnames or ()):
                raise ValueError(f"{path}: not a transitions file of `glassmodes is-trajectory --md` "
                                 f"(columns {sorted(need)} needed)")
            rows = [dict(row, **{k: int(row[k]) for k in need - {"a", "b"}}) for row in r]
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    return [row for row in rows if row["candidate"] or not candidates_only]


__all__ = ["MDSettings", "MDMinima", "md_minima", "write_md_minima", "read_transitions", "minimum_names",
           "FORMAT", "UNITS"]
