"""Nonlinear quasilocalized modes (quartic, cubic, pseudo-harmonic) seeded by harmonic modes or a field.

Examples:
  glassmodes nonlinear modes.h5 glass.fc4 --kind quartic,cubic,phm --seeds lowest:10 -o nl.h5
  glassmodes nonlinear modes.h5 glass.fc4 --kind cubic --seeds none --field B.data -o nl.h5
  glassmodes nonlinear modes.h5 glass.fc4 --kind quartic,cubic --seeds lowest:20 --np 2 -o nl.h5 --plot nl.png
  glassmodes nonlinear modes.h5 glass.fc4 --kind cubic --seeds lowest:1 --shear all -o nl.h5
MODES: a mode file with the seed eigenvectors stored (glassmodes modes); FC: the pair table of the same
structure, written with `write_fc3 all FILE method analytic order 4` (order 4 is needed for quartic
modes; cubic and PHM modes need order 3). --field: r_AB to a second structure (LAMMPS data or XYZ
file of the same atoms) or a displacement (.npy, shape (N, d)). --shear: the non-affine responses
u = -H^+ Xi to simple and/or pure shear in the xy (2D; and xz, yz in 3D) planes (thesis appendix 3.B;
the thesis seeds cubic modes with them: use --kind cubic). The output is a mode file whose modes are
the nonlinear modes (export-mode, render and analyze read it as any mode file), with the per-mode data
under /nonlinear/{quartic,cubic,phm}. Definitions and convergence criteria: docs/nonlinear.md.
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("modes", help="harmonic mode file of the structure (eigenvectors of the seeds stored)")
    parser.add_argument("fc", help="pair-derivative table of the same structure (write_fc3 ... order 4)")
    parser.add_argument("--kind", default="quartic,cubic,phm",
                        help="comma-separated kinds: quartic, cubic, phm (default all three)")
    parser.add_argument("--seeds", default="lowest:10",
                        help="harmonic seeds: lowest:K (the K softest non-translational stored modes), "
                             "modes:I,J,... or none (default lowest:10)")
    parser.add_argument("--field", action="append", default=[], metavar="FILE",
                        help="a seed field: second structure (LAMMPS data / XYZ: r_AB) or displacement (.npy); "
                             "repeatable")
    parser.add_argument("--shear", choices=("simple", "pure", "all"),
                        help="also seed with the non-affine responses u = -H^+ Xi to simple shear (xy; xz, yz in 3D), "
                             "pure shear (xx-yy; xx-zz, yy-zz) or both (all)")
    parser.add_argument("--method", choices=("lbfgs+map", "map", "lbfgs"), default="lbfgs+map",
                        help="Riemannian L-BFGS then the fixed-point map (default), the map alone, or L-BFGS alone")
    parser.add_argument("--tol", type=float, default=1e-8,
                        help="residual ||M pi - (kappa/c) g(pi)|| / ||M pi|| to reach (default 1e-8)")
    parser.add_argument("--dedupe", type=float, default=0.99,
                        help="|overlap| above which two modes of a kind are one (default 0.99)")
    parser.add_argument("--max-iter", type=int, default=2000, help="L-BFGS iterations per mode (default 2000)")
    parser.add_argument("--map-iter", type=int, default=500, help="map steps per mode (default 500)")
    parser.add_argument("--solver", choices=("auto", "scipy", "petsc"), default="auto",
                        help="linear solves of the maps: SciPy CG + block Jacobi, or PETSc CG + GAMG (translations as "
                             "null space; distributed by rows); auto: petsc under --np > 1, else scipy")
    parser.add_argument("--np", type=int, default=1, help="MPI ranks (re-runs itself under mpirun)")
    parser.add_argument("-o", "--output", required=True, help="nonlinear-mode file to write (.h5)")
    parser.add_argument("--plot", help="PNG: omega of the quartic, cubic and PHM modes against the harmonic seed's")
    parser.add_argument("--allow-unconverged", action="store_true",
                        help="exit 0 even if a mode missed --tol (it is written with converged = false)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def check_same_structure(mode_file, fc, tol: float = 1e-6) -> None:
    """Raise ValueError unless the mode file and the force constants hold the same atoms at the same
    positions (IDs equal, positions within ``tol`` distance units, minimum image)."""
    import numpy as np

    if mode_file.natoms != fc.natoms or mode_file.dimension != fc.dimension:
        raise ValueError(f"modes and force constants are of different structures: {mode_file.natoms} atoms "
                         f"in {mode_file.dimension}D vs {fc.natoms} atoms in {fc.dimension}D")
    a, b = mode_file.atoms, fc.atoms
    if not np.array_equal(a["id"], b["id"]):
        raise ValueError("modes and force constants are of different structures: atom IDs differ")
    box = mode_file.box
    dx = np.asarray(a["x"], float) - np.asarray(b["x"], float)
    if "boxhi" in box:
        lengths = np.asarray(box["boxhi"], float) - np.asarray(box["boxlo"], float)
        dx -= lengths * np.round(dx / lengths)
    worst = float(np.max(np.abs(dx))) if dx.size else 0.0
    if worst > tol:
        raise ValueError(f"modes and force constants are of different structures: positions differ by up to "
                         f"{worst:.3g} (tolerance {tol:g})")


def run(args) -> int:
    from glassmodes.cli._mpi import relaunch, world_comm

    status = relaunch(args.np)
    if status is not None:
        return status
    import numpy as np

    from glassmodes.fc3 import read_fc3
    from glassmodes.modes import ModeFile
    from glassmodes.nonlinear import KINDS, ForceConstantOperator
    from glassmodes.nonlinear.nlfile import write_nonlinear_modes
    from glassmodes.nonlinear.search import find_modes, harmonic_overlaps
    from glassmodes.nonlinear.seeds import field_seed, harmonic_seeds, parse_lowest, shear_seeds

    comm = world_comm()
    root = comm is None or comm.Get_rank() == 0
    kinds = [k.strip() for k in args.kind.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f"--kind {args.kind!r}: unknown {bad}; choose from {', '.join(KINDS)}")
    if not 0 < args.dedupe <= 1:
        raise ValueError(f"--dedupe {args.dedupe}: must lie in (0, 1]")
    fc = read_fc3(args.fc, comm=comm)
    if fc.storage != "pair-derivatives":
        raise ValueError(f"{args.fc}: {fc.storage} storage; nonlinear modes need the analytic pair table "
                         "(write_fc3 all FILE method analytic order 4)")
    if "quartic" in kinds and fc.order < 4:
        raise ValueError(f"{args.fc}: third-order table only; quartic modes need the fourth order: write it with "
                         "`write_fc3 all FILE method analytic order 4`")
    say = (lambda line: print(line, flush=True)) if (root and not args.quiet) else None
    with ModeFile(args.modes) as mf:
        check_same_structure(mf, fc)
        op = ForceConstantOperator(fc, units=mf.units)
        seeds, psi_cols, psi_omega = [], [], {}
        if args.seeds != "none":
            for label, vec, j in harmonic_seeds(mf, parse_lowest(args.seeds)):
                seeds.append((label, vec))
                psi_cols.append(vec)
                psi_omega[label] = float(mf.frequencies[j])
        for k, path in enumerate(args.field):
            seeds.append((f"field{k}:{path}", field_seed(path, mf)))
        if args.shear:
            seeds.extend(shear_seeds(fc, args.shear, hessian=op.matrix()))
        if not seeds:
            raise ValueError("no seed: give --seeds lowest:K, --field FILE or --shear all")
        if say:
            say(f"{len(seeds)} seed(s), kinds {', '.join(kinds)}, {op.natoms} atoms, tol {args.tol:g}"
                + (f", {comm.Get_size()} ranks" if comm is not None else ""))
        solver = None
        if args.method != "lbfgs":
            from glassmodes.nonlinear.solvers import PetscCG, ScipyCG
            use_petsc = args.solver == "petsc" or (args.solver == "auto" and comm is not None)
            solver = PetscCG(op) if use_petsc else ScipyCG(op)
        res = find_modes(op, seeds, kinds, method=args.method, tol=args.tol, dedupe=args.dedupe, progress=say,
                         solver=solver, max_iter=args.max_iter, map_iter=args.map_iter)
        psis = np.stack(psi_cols, axis=1) if psi_cols else None
        if root:
            overl = {k: harmonic_overlaps(res.modes[k], psis) for k in kinds}
            write_nonlinear_modes(args.output, res.modes, mf, tol=args.tol, dedupe=args.dedupe,
                                  fc_path=args.fc, fc_meta=fc.meta, harmonic_overlap=overl,
                                  options={"kinds": kinds, "seeds": args.seeds, "fields": args.field,
                                           "shear": args.shear or "", "method": args.method})
            if args.plot:
                from glassmodes.nonlinear.plots import plot_frequencies
                plot_frequencies(res, psi_omega, args.plot, omega_unit=mf.omega_unit)
    if root:
        counts = ", ".join(f"{len(res.modes[k])} {k}" for k in kinds)
        print(f"{counts} mode(s) (after de-duplication at |overlap| > {args.dedupe:g}) -> {args.output}")
    bad = res.unconverged
    if bad:
        if root:
            print(f"glassmodes nonlinear: {len(bad)} mode(s) did not reach residual {args.tol:g} (written with "
                  f"converged = false): " + ", ".join(f"{m.kind} from {m.seed_label} ({m.residual:.1e})" for m in bad),
                  file=sys.stderr)
        return 0 if args.allow_unconverged else 3
    return 0
