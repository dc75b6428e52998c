"""Double wells between inherent structures: pairs, NEB paths, tunnel splittings, mode overlaps.

From a folder of minima (LAMMPS data files of one glass, e.g. the seed-002 files, diameter in the
charge column): re-minimize each to max |F_i| <= 1e-10, list candidate pairs (energy and distance
filters), then for each pair run a climbing-image NEB, check the saddle (one negative Hessian
eigenvalue), solve the 1D Schroedinger equation along the mass-weighted path and compute the overlaps
c, a of r_AB, r_AS, r_tau with the harmonic modes at A (Khomenko et al. (2020)).
hbar~ = hbar / (sigma sqrt(m eps)) must be given: the seed-002 paper gives only the TLS thresholds
(--preset argon: E_th = 0.0015 eps, nip: 0.0002 eps). Energies are total (not per atom).

Writes into --out: minima.npz (re-minimized positions and energies), pairs.csv, one JSON per pair
in pairs/ (a finished pair is skipped when the command is run again), double_wells.csv (the table).
Protocol, conventions and validation numbers: docs/double_wells.md.

Candidate pairs from an MD run instead (Khomenko et al. (2020): MD at T = 0.04 with periodic
minimization, pairs visited back and forth): `glassmodes is-trajectory START --md ... -o md` writes
md/minima/ and md/transitions.csv; --transitions md/transitions.csv then takes its candidate pairs
(most hops first) instead of all pairs of the folder.

Stages (optional first word; none = pairs, neb and the table in one run): pairs (re-minimize, list
candidate pairs), neb (NEB, saddle check, splitting, overlaps; resumable), split (the splittings of the
stored paths again at another --hbar or threshold, no new NEB), report (table, figures into --plot DIR,
default OUT/plots; --render K: r_AB of the K smallest splittings as one-mode files for OVITO).

Examples:
  glassmodes double-wells pairs minima/ --out dw --max-dE 0.05 --max-distance 0.3
  glassmodes double-wells neb minima/ --out dw --max-pairs 3 --max-dE 0.05 --max-distance 0.3 --hbar 0.01 --preset argon --modes none
  glassmodes double-wells split minima/ --out dw --hbar 0.02 --e-th 0.003
  glassmodes double-wells report minima/ --out dw --render 2
  glassmodes double-wells minima/ --out dw --pairs-only --max-dE 0.05 --max-distance 0.3
  glassmodes double-wells md/minima --transitions md/transitions.csv --out dw --hbar 0.01 --preset argon --modes none
  glassmodes double-wells minima/ --out dw --max-pairs 3 --max-dE 0.05 --max-distance 0.3 --hbar 0.01 --preset argon --modes none
  glassmodes double-wells minima/ --out dw --max-pairs 1 --max-dE 0.05 --max-distance 0.3 --hbar 0.01 --modes 20 --cubic
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="+", metavar="[STAGE] FOLDER",
                        help="optional stage (pairs, neb, split, report; default: pairs, neb and report in one "
                             "run), then the folder of LAMMPS data files, one inherent structure each (same "
                             "particles)")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--pattern", default="*", help="file name pattern inside the folder (default: all files)")
    parser.add_argument("--forcefield", default=None,
                        help="file with the pair_style/pair_coeff lines (default: the seed-002 model, "
                             "pair_style ipl/smooth/poly 12 2 1.25 0.2)")
    parser.add_argument("--max-dE", type=float, default=1.0,
                        help="largest |E_B - E_A| of a pair, eps, total energy (default 1.0)")
    parser.add_argument("--max-distance", type=float, default=float("inf"),
                        help="largest mass-weighted |r_AB| of a pair, sigma sqrt(m) (default: no limit)")
    parser.add_argument("--transitions", default=None,
                        help="transitions.csv of `glassmodes is-trajectory --md`: its candidate pairs (the hop graph "
                             "of an MD run) instead of all pairs of the folder")
    parser.add_argument("--neb-maxiter", type=int, default=50000,
                        help="iteration limit of the Python NEB; beyond it the pair is flagged 'NEB not converged' "
                             "(default 50000)")
    parser.add_argument("--max-depth", type=int, default=3,
                        help="paths with intermediate minima are split into segments, recursively down to this "
                             "many levels (default 3; 0: flag only)")
    parser.add_argument("--pairs-only", action="store_true", help="stop after writing pairs.csv")
    parser.add_argument("--max-pairs", type=int, default=None,
                        help="analyse at most this many pairs (the closest first)")
    parser.add_argument("--hbar", type=float, default=None, help="reduced Planck constant hbar~ (required for paths)")
    parser.add_argument("--preset", choices=("argon", "nip"), default=None,
                        help="TLS threshold of Khomenko et al. (2020): argon 0.0015 eps, nip 0.0002 eps")
    parser.add_argument("--e-th", type=float, default=None, help="TLS threshold on the splitting E, eps")
    parser.add_argument("--nimages", type=int, default=8, help="NEB images including the ends (default 8)")
    parser.add_argument("--method", choices=("python", "lammps"), default="python",
                        help="NEB: in-process (default) or LAMMPS's neb with one MPI process per image")
    parser.add_argument("--ftol", type=float, default=1e-7, help="NEB force tolerance (default 1e-7)")
    parser.add_argument("--modes", default="all",
                        help="harmonic modes at A for the overlaps: all (dense, default), K (lowest K) or none")
    parser.add_argument("--cubic", action="store_true",
                        help="also the cubic modes at A seeded with r_AB and with the softest harmonic mode, "
                             "their overlaps and the quartic profile along them (Khomenko et al. (2020), Figs. 7-8)")
    parser.add_argument("--plot", default=None, metavar="DIR",
                        help="figures (barrier vs asymmetry, splittings, V(xi) with levels, overlap vs splitting) "
                             "into DIR (report stage default: OUT/plots)")
    parser.add_argument("--render", type=int, default=0, metavar="K",
                        help="report stage: r_AB of the K double wells of smallest splitting as one-mode files "
                             "OUT/render/<pair>.modes.h5 and, with OVITO installed, PNG renders beside them")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args) -> int:
    import csv
    from pathlib import Path

    import numpy as np

    from glassmodes.io.atomic import atomic_output
    from glassmodes.landscape.neb import SEED002_FORCEFIELD, Landscape, read_configuration
    from glassmodes.landscape.quench import read_forcefield
    from glassmodes.landscape.schrodinger import TLS_PRESETS
    from glassmodes.landscape.tls import (NOT_A_MINIMUM, TABLE_COLUMNS, Minimum, analyze_pair, folder_pairs,
                                          harmonic_modes, read_result, table_rows, transition_file_pairs, write_result)

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    stage, folder = _stage(args.target)
    if args.pairs_only:
        if stage not in ("all", "pairs"):
            raise ValueError(f"--pairs-only contradicts the stage {stage!r}")
        stage = "pairs"
    if stage in ("split", "report"):
        return _post_stage(stage, folder, args, progress)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    files = sorted(p for p in folder.glob(args.pattern) if p.is_file() and not p.name.startswith(("README", "LICENSE")))
    if len(files) < 2:
        raise ValueError(f"{folder}: needs at least two configuration files matching {args.pattern!r}")
    if stage != "pairs":
        if args.hbar is None or not args.hbar > 0:
            raise ValueError("--hbar (> 0) is required for the splittings: hbar~ = hbar / (sigma sqrt(m eps)) of "
                             "the material mapping (not given in the seed-002 paper)")
        if (args.preset is None) == (args.e_th is None):
            raise ValueError("give the TLS threshold: --preset argon|nip or --e-th VALUE (one of them)")
    e_th = TLS_PRESETS[args.preset]["E_th"] if args.preset else args.e_th
    if args.neb_maxiter < 1 or args.max_depth < 0:
        raise ValueError("--neb-maxiter must be >= 1 and --max-depth >= 0")
    modes = args.modes.lower()
    if modes not in ("all", "none") and not modes.isdigit():
        raise ValueError(f"--modes must be all, none or a number, got {args.modes!r}")
    ff = read_forcefield(args.forcefield) if args.forcefield else SEED002_FORCEFIELD
    out = Path(args.out)
    (out / "pairs").mkdir(parents=True, exist_ok=True)

    ref = read_configuration(files[0])
    land = Landscape(ref, ff)
    try:
        cache = out / "minima.npz"
        names = [f.name for f in files]
        minima = None
        if cache.exists():
            try:
                with np.load(cache) as z:
                    if list(z["names"]) == names and str(z["forcefield"]) == ff and "fmax_start" in z:
                        minima = [Minimum(str(n), z["x"][k], float(z["energy"][k]), float(z["fmax"][k]),
                                          float(z["fmax_start"][k]), float(z["max_move"][k]))
                                  for k, n in enumerate(z["names"])]
                        progress(f"re-using the {len(minima)} minimized structures of {cache}")
            except (OSError, ValueError, KeyError) as exc:
                progress(f"{cache}: unreadable ({exc}); minimizing again")
        if minima is None:
            from glassmodes.landscape.tls import minimize_folder

            minima = minimize_folder(files, land, progress=progress)
            for m, n in zip(minima, names):
                object.__setattr__(m, "name", n)
            with atomic_output(cache) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, names=np.array(names), x=np.array([m.x for m in minima]),
                         energy=np.array([m.energy for m in minima]), fmax=np.array([m.fmax for m in minima]),
                         fmax_start=np.array([m.fmax_start for m in minima]),
                         max_move=np.array([m.max_move for m in minima]),
                         forcefield=np.array(ff), units=np.array("lj: eps total, sigma"))
        moved = [m for m in minima if m.fmax_start > NOT_A_MINIMUM]
        if moved:
            progress(f"{len(moved)} file(s) not at a minimum (max force above {NOT_A_MINIMUM:g}), re-minimized: " +
                     ", ".join(f"{m.name} (force {m.fmax_start:.1e}, moved {m.max_move:.1e})" for m in moved[:5]) +
                     (" ..." if len(moved) > 5 else ""))
        if args.transitions:
            from glassmodes.landscape.md import read_transitions

            pairs, notes = transition_file_pairs(minima, read_transitions(args.transitions), ref.lengths, ref.masses,
                                                 max_dE=args.max_dE, max_distance=args.max_distance)
            for n in notes:
                progress(f"transitions: {n}")
        else:
            pairs = folder_pairs(minima, ref.lengths, ref.masses, max_dE=args.max_dE, max_distance=args.max_distance)
        with atomic_output(out / "pairs.csv") as tmp, open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["a", "b", "dE", "distance", "max_disp", "PR_DW"] +
                               (["hops"] if args.transitions else []))
            w.writeheader()
            w.writerows(pairs)
        print(f"double-wells: {len(minima)} minima, {len(pairs)} candidate pair(s) in {out / 'pairs.csv'}")
        if stage == "pairs":
            return 0
        by_name = {m.name: m for m in minima}
        todo = pairs[:args.max_pairs] if args.max_pairs is not None else pairs
        mode_cache: dict = {}
        for k, p in enumerate(todo):
            name = f"{p['a']}__{p['b']}"
            target = out / "pairs" / f"{name}.json"
            if target.exists():
                progress(f"[{k + 1}/{len(todo)}] {name}: done before, skipped")
                continue
            a, b = by_name[p["a"]], by_name[p["b"]]
            mspec = None if modes == "none" else ("all" if modes == "all" else int(modes))
            if mspec is not None:
                if a.name not in mode_cache:
                    progress(f"[{k + 1}/{len(todo)}] harmonic modes at {a.name}")
                    mode_cache.clear()
                    mode_cache[a.name] = harmonic_modes(land, a.x, None if mspec == "all" else mspec)
                mspec = mode_cache[a.name]
            progress(f"[{k + 1}/{len(todo)}] {name}: NEB ({args.method}, {args.nimages} images)")
            row = analyze_pair(land, a.x, b.x, hbar=args.hbar, E_th=e_th, nimages=args.nimages, method=args.method,
                               workdir=out / "neb" / name, modes=mspec, ftol=args.ftol, progress=progress,
                               cubic=args.cubic, split=args.max_depth > 0, max_depth=args.max_depth,
                               neb_maxiter=args.neb_maxiter)
            row.update(a=a.name, b=b.name)
            write_result(target, row)
            barrier = row.get("barrier")
            progress(f"[{k + 1}/{len(todo)}] {name}: {row['status']}, barrier "
                     f"{'-' if barrier is None else format(barrier, '.4e')}, asymmetry {row['asymmetry']:.4e}, E "
                     f"{'-' if row['E'] is None else format(row['E'], '.4e')} ({row['seconds']['total']:.0f} s)")
        rows = [r for f in sorted((out / "pairs").glob("*.json")) for r in table_rows(f.stem, read_result(f))]
        with atomic_output(out / "double_wells.csv") as tmp, open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(TABLE_COLUMNS))
            w.writeheader()
            w.writerows(rows)
        ok = [r for r in rows if r["status"] == "ok"]
        nsplit = sum(1 for r in rows if r["status"] == "not elementary")
        nconv = sum(1 for r in rows if r["status"] == "NEB not converged")
        print(f"double-wells: {len(rows) - nsplit} pair(s) or segment(s) analysed ({nsplit} path(s) with "
              f"intermediate minima split into segments, {nconv} NEB(s) not converged), {len(ok)} double well(s) "
              "with a checked saddle, "
              f"{sum(1 for r in ok if r['tls'])} TLS (E <= {e_th:g} eps at hbar~ = {args.hbar:g}); "
              f"table {out / 'double_wells.csv'}")
    finally:
        land.close()
    if stage == "all" and (args.plot or args.render):
        return _post_stage("report", folder, args, progress)
    return 0


STAGES = ("pairs", "neb", "split", "report")


def _stage(target: list[str]):
    """``[STAGE] FOLDER`` -> (stage, folder); stage "all" when none is given."""
    from pathlib import Path

    if len(target) == 1:
        if target[0] in STAGES:
            raise ValueError(f"the stage {target[0]!r} needs the folder of minima after it")
        return "all", Path(target[0])
    if len(target) == 2 and target[0] in STAGES:
        return target[0], Path(target[1])
    raise ValueError(f"expected [STAGE] FOLDER with STAGE one of {', '.join(STAGES)}, got {' '.join(target)!r}")


def _post_stage(stage: str, folder, args, progress) -> int:
    """split: splittings of the stored paths at --hbar and the threshold, no new NEB; report: the
    table, the figures (--plot, default OUT/plots) and --render K. Both read OUT/pairs/*.json."""
    import csv
    from pathlib import Path

    import numpy as np

    from glassmodes.io.atomic import atomic_output
    from glassmodes.landscape import dwreport
    from glassmodes.landscape.schrodinger import TLS_PRESETS
    from glassmodes.landscape.tls import TABLE_COLUMNS, read_result, table_rows, write_result

    out = Path(args.out)
    files = sorted((out / "pairs").glob("*.json")) if (out / "pairs").is_dir() else []
    if not files:
        raise ValueError(f"{out / 'pairs'}: no pair results (run the neb stage first: "
                         f"glassmodes double-wells neb {folder} --out {out} --hbar H --preset argon)")
    results = [(f.stem, read_result(f)) for f in files]
    if stage == "split":
        if args.hbar is None or not args.hbar > 0:
            raise ValueError("--hbar (> 0) is required for the splittings")
        if (args.preset is None) == (args.e_th is None):
            raise ValueError("give the TLS threshold: --preset argon|nip or --e-th VALUE (one of them)")
        e_th = TLS_PRESETS[args.preset]["E_th"] if args.preset else args.e_th
        results = [(name, dwreport.resplit(row, args.hbar, e_th)) for name, row in results]
        for (name, row), f in zip(results, files):
            write_result(f, row)
        progress(f"split: {len(files)} stored result(s) re-solved at hbar~ = {args.hbar:g}, E_th = {e_th:g}")
    rows = [r for name, row in results for r in table_rows(name, row)]
    with atomic_output(out / "double_wells.csv") as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(TABLE_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    ok = [r for r in rows if r["status"] == "ok"]
    print(f"double-wells {stage}: {len(rows)} row(s), {len(ok)} double well(s) with a checked saddle, "
          f"{sum(1 for r in ok if r['tls'])} TLS; table {out / 'double_wells.csv'}")
    if stage == "report" or args.plot:
        for p in dwreport.save_plots(results, Path(args.plot) if args.plot else out / "plots"):
            print(f"double-wells: wrote {p}")
    if args.render:
        from glassmodes.landscape.neb import read_configuration

        cache = out / "minima.npz"
        if not cache.is_file():
            raise ValueError(f"{cache}: missing (the minimized structures of the pairs stage)")
        with np.load(cache) as z:
            xs = {str(n): z["x"][k] for k, n in enumerate(z["names"])}
        conf = read_configuration(folder / str(next(iter(xs))))
        flat = [(n, r) for n, r in dwreport.flatten(results) if r.get("status") == "ok" and r.get("E") is not None
                and "#" not in n]
        flat.sort(key=lambda t: t[1]["E"])
        (out / "render").mkdir(exist_ok=True)
        for name, row in flat[:args.render]:
            a, b = row.get("a"), row.get("b")
            if a not in xs or b not in xs:
                progress(f"render: {name}: ends not among the minimized structures, skipped")
                continue
            target = out / "render" / f"{name}.modes.h5"
            dwreport.write_displacement_mode_file(target, conf, xs[a], xs[b],
                                                  meta={"pair": name, "E": row["E"], "barrier": row["barrier"],
                                                        "asymmetry": row["asymmetry"], "hbar": row["hbar"]})
            print(f"double-wells: wrote {target} (r_AB, E = {row['E']:.3e})")
            try:
                from glassmodes.ovito.render import render_mode
            except ImportError:
                progress("render: OVITO not installed; open the .modes.h5 files with `glassmodes render`")
                continue
            png = target.with_suffix("").with_suffix(".png")
            render_mode(target, 0, png)
            print(f"double-wells: wrote {png}")
    return 0
