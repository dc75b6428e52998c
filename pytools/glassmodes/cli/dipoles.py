"""Dipole responses and stiffnesses kappa_ij of interacting pairs (Kapteijns, PhD thesis, Eqs. 6.5-6.7).

For a pair (i, j): d_ij = (1/sqrt 2) dr_ij/dx (unit force dipole), z_ij = H^+ d_ij (the response,
distance per unit force) and kappa_ij = (d.H^+.d)/(d.H^+^2.d) = z.d / z.z (energy/distance^2), with
H the plain Hessian, by block-Jacobi CG (default) or from a complete mode file (--modes M).
The local kappa_i is the mean of kappa_ij over the computed pairs of atom i.

Examples:
  glassmodes prepare thesis-ipl10-2d --n 400 --seed 1 --out el --set T_liquid=2.0 --set rate=0
  glassmodes hessian el/thesis-ipl10-2d-N400-s1.data -o el/H
  glassmodes dipoles el/H --pairs 50 --seed 1 -o el/dipoles.json --csv el/dipoles.csv
  glassmodes dipoles el/H --pairs 5 --export el/z.dump -o el/dipoles5.json
  glassmodes dipoles el/H --pairs 50 --delta 0.5 -o el/dipoles-delta0.5.json

Output: JSON summary (mean/median kappa, solver iterations, the far-field log-slope of |z(r)| of the
first pair when --far-field RMIN is given), --csv one line per pair (atom IDs, r_ij, kappa_ij),
--export: the responses z of the computed pairs as a LAMMPS dump or extended XYZ (suffix .dump or
.xyz; one frame per pair, the frame's mode index = the pair's row in the CSV, Displacement =
z_ij scaled to sum_i m_i |u_i|^2 = 1; the omega field is NaN), for OVITO (docs/ovito.md).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("source", help="Hessian file (write_hessian all H) or LAMMPS data file with its .ff")
    parser.add_argument("--modes", metavar="M", default=None, help="complete mode file (default: CG)")
    parser.add_argument("--rtol", type=float, default=1e-10, help="CG relative residual (default 1e-10)")
    sel = parser.add_mutually_exclusive_group()
    sel.add_argument("--pairs", type=int, default=100, help="random interacting pairs to compute (default 100)")
    sel.add_argument("--all", action="store_true", help="all interacting pairs")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the pair selection (default 0)")
    parser.add_argument("--max-force", type=float, default=1e-8,
                        help="refuse when the largest net force exceeds this (default 1e-8)")
    parser.add_argument("--far-field", type=float, default=None, metavar="RMIN",
                        help="fit |z(r)| ~ r^s of the first pair between RMIN and half the box")
    parser.add_argument("--delta", type=float, default=0.0,
                        help="responses of the stress-scaled Hessian M(delta) = M'' + (1 - delta) M' (thesis "
                             "Eqs. 5.3-5.4) instead of H (CG route; default 0)")
    parser.add_argument("-o", "--output", required=True, help="JSON summary to write")
    parser.add_argument("--csv", default=None, help="per-pair table to write")
    parser.add_argument("--export", default=None, help="responses z for OVITO (.dump/.lammpstrj or .xyz)")


def _frames(h, res):
    import numpy as np

    from glassmodes.ovito.frame import ModeFrame, cell_from_box

    d = h.dimension
    cell, pbc = cell_from_box(h.meta["box"], d)
    m = np.asarray(h.atoms["mass"], dtype=float)
    frames = []
    for k in range(res.z.shape[1]):
        z = res.z[:, k].reshape(-1, d)
        e = np.zeros((m.size, 3))
        e[:, :d] = np.sqrt(m)[:, None] * z
        e /= np.linalg.norm(e)
        w = np.sum(e ** 2, axis=1)
        frames.append(ModeFrame(index=k, omega=float("nan"), omega_unit="n/a (dipole response)",
                                participation_ratio=float(1.0 / (m.size * np.sum(w ** 2))),
                                ids=np.asarray(h.atoms["id"]), types=np.asarray(h.atoms["type"]), masses=m,
                                positions=np.asarray(h.atoms["x"], dtype=float), eigenvector=e, cell=cell, pbc=pbc,
                                dimension=d, units=str(h.meta["units"])))
    return frames


def run(args) -> int:
    import numpy as np

    from glassmodes.cli.elastic import load_hessian, make_solver
    from glassmodes.elastic.dipoles import dipole_response, far_field_slope, random_pairs
    from glassmodes.elastic.relaxed import check_max_force
    from glassmodes.elastic.terms import minimum_image, pairs_from_hessian, pair_forces
    from glassmodes.io.atomic import atomic_output

    if args.export and Path(args.export).suffix.lower() not in (".dump", ".lammpstrj", ".xyz", ".extxyz"):
        raise ValueError(f"--export {args.export}: the suffix must be .dump, .lammpstrj or .xyz")
    with tempfile.TemporaryDirectory() as tmp:
        h = load_hessian(args.source, Path(tmp))
    pairs, _ = pairs_from_hessian(h)
    n = h.natoms
    fmax = float(np.max(np.linalg.norm(pair_forces(pairs, n), axis=1)))
    check_max_force(type("T", (), {"meta": {"max_force": fmax}})(), args.max_force)
    solver = make_solver(h, args.modes, args.rtol, delta=args.delta)
    select = None if args.all else random_pairs(pairs, args.pairs, args.seed)
    keep_z = bool(args.export or args.far_field)
    res = dipole_response(solver, pairs, n, select, keep_z=keep_z, atom_ids=h.atoms["id"])
    summary = {"format": "glassmodes-dipoles", "format_version": 1, "source": str(args.source),
               "units": str(h.meta["units"]), "dimension": h.dimension, "natoms": n, "max_force": fmax,
               "selection": "all pairs" if args.all else f"{res.kappa.size} random pairs, seed {args.seed}",
               "definition": "kappa_ij = (d.H^+.d)/(d.H^+^2.d), d_ij = (1/sqrt2) dr_ij/dx, H plain Hessian"
               + (f" replaced by M(delta) = M'' + (1 - delta) M', delta = {args.delta:g}" if args.delta else ""),
               "delta": args.delta,
               **res.summary()}
    if args.far_field:
        x = h.positions()
        c = x[res.i[0]] + 0.5 * minimum_image((x[res.j[0]] - x[res.i[0]])[None, :], h.meta["box"], h.dimension)[0]
        ff = far_field_slope(res.z[:, 0], x, h.meta["box"], c, args.far_field)
        summary["far_field"] = {"slope": ff.slope, "expected": -(h.dimension - 1), "r_min": ff.r_min,
                                "r_max": ff.r_max, "natoms_used": ff.natoms_used, "pair": 0}
    with atomic_output(args.output) as t:
        Path(t).write_text(json.dumps(summary, indent=1))
    if args.csv:
        ids = np.asarray(h.atoms["id"])
        with atomic_output(args.csv) as t:
            with open(t, "w") as f:
                f.write(f"# kappa_ij in energy/distance^2, r_ij in distance [{summary['units']} units]\n")
                f.write("row,id_i,id_j,r_ij,kappa_ij\n")
                for k in range(res.kappa.size):
                    f.write(f"{k},{ids[res.i[k]]},{ids[res.j[k]]},{res.distance[k]!r},{res.kappa[k]!r}\n")
    if args.export:
        from glassmodes.ovito import write_mode_dump, write_mode_xyz

        suffix = Path(args.export).suffix.lower()
        (write_mode_xyz if suffix in (".xyz", ".extxyz") else write_mode_dump)(args.export, _frames(h, res))
    print(f"{args.source}: {res.kappa.size} pairs, <kappa> = {np.mean(res.kappa):.6g}, median {np.median(res.kappa):.6g} "
          f"[energy/distance^2, {summary['units']}]; {res.solve['method']} -> {args.output}")
    return 0
