"""Relaxed (athermal) elastic tensor of a minimized glass: C, B, G, K with the non-affine term.

C_IJ = C^B_IJ - Xi_I . H^+ . Xi_J / V (Kapteijns, PhD thesis, Eq. 5.6; Lutsko 1989), with the
affine terms (stress, Born term C^B, mixed term Xi) from the plugin's elastic-terms file
(`write_elastic all E`, any potential; then the Hessian H of the same configuration as second
file) or read from the pair blocks of a Hessian file (pair potentials; `write_hessian all H`,
plain or mass-weighted), and H^+ applied by block-Jacobi CG on the Hessian (default, --cg), by
PETSc CG + GAMG under MPI (--petsc [--np N]), or from a complete mode file (--modes M). A LAMMPS
data file with its .ff (glassmodes prepare) is first run through write_hessian (serial,
temporary files).

Examples:
  glassmodes prepare thesis-ipl10-2d --n 400 --seed 1 --out el --set T_liquid=2.0 --set rate=0
  glassmodes elastic el/thesis-ipl10-2d-N400-s1.data -o el/elastic.json --plot el/plots
  glassmodes hessian el/thesis-ipl10-2d-N400-s1.data -o el/H
  glassmodes modes el/H --backend dense -o el/modes.h5
  glassmodes elastic el/H --modes el/modes.h5 -o el/elastic-modes.json
  glassmodes elastic el/H --petsc --np 2 -o el/elastic-petsc.json
  glassmodes elastic el/E el/H -o el/elastic-plugin.json    # el/E: `write_elastic all el/E` in LAMMPS
  glassmodes elastic el/H --modes el/modes.h5 --lines 1 2 4 5 8 -o el/lines.json --plot el/plots
  glassmodes elastic el/H --delta 0.5 -o el/elastic-delta0.5.json

Output (JSON, written atomically): C, B (Wallace stress-strain tensor), the Born and non-affine
parts, the stress, the moduli (G_thesis = C_xyxy + sigma_yy, isotropic averages of C and B, bulk
modulus K, pressure P), the solver's iterations and residuals; with --lines the transverse
spectral lines (docs/elasticity.md, Attenuation) reduced by omega0 = c_s/a0; units
energy/distance^d of the LAMMPS unit style (LJ: epsilon/sigma^d; metal: eV/A^3). Conventions:
docs/elasticity.md.
--delta D: the stress-scaled Hessian M(D) = M'' + (1 - D) M' of Kapteijns' thesis (Eqs. 5.3-5.4;
M'' = sum phi'' dr dr, M' = sum phi' d2r) with the same scaling of phi' in Xi, C^B and the stress
(CG route, pair potentials).
Refused: a largest net force above --max-force (not a minimum), a negative eigenvalue (the modes
route names the mode; CG reports non-positive curvature), a Hessian of a group other than all,
a mode file of other atoms, a many-body potential (Hessian blocks not of pair form).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("source", help="Hessian file (write_hessian all H), LAMMPS data file with its .ff, or "
                        "elastic-terms file (write_elastic all E)")
    parser.add_argument("hessian", nargs="?", default=None,
                        help="with an elastic-terms file: the Hessian of the same configuration (for CG)")
    solver = parser.add_mutually_exclusive_group()
    solver.add_argument("--modes", metavar="M", help="complete mode file of the same Hessian (all modes, vectors)")
    solver.add_argument("--cg", action="store_true", help="block-Jacobi CG on the Hessian (the default)")
    solver.add_argument("--petsc", action="store_true", help="PETSc CG + GAMG (translations as near-null space) "
                        "on the Hessian file, under MPI with --np")
    parser.add_argument("--np", type=int, default=1, help="MPI ranks for --petsc (re-runs itself under mpirun)")
    parser.add_argument("--rtol", type=float, default=1e-10, help="CG relative residual (default 1e-10)")
    parser.add_argument("--max-force", type=float, default=1e-8,
                        help="refuse when the largest net force exceeds this (force units; default 1e-8)")
    parser.add_argument("-o", "--output", required=True, help="JSON file to write")
    parser.add_argument("--plot", metavar="DIR", default=None, help="write PNG figures of C, C^B and the "
                        "non-affine term (and with --lines, Gamma(omega)) to DIR")
    parser.add_argument("--lines", type=int, nargs="+", metavar="S", default=None,
                        help="with --modes: transverse spectral lines of the shells |n|^2 = S (e.g. 1 2 4 5 8): "
                             "centre, width Gamma (energy decay rate), line-resolution test, Rayleigh fit")
    parser.add_argument("--delta", type=float, default=0.0,
                        help="stress-scaled Hessian M(delta) = M'' + (1 - delta) M' (thesis Eqs. 5.3-5.4): "
                             "phi' scaled by (1 - delta) in H, Xi, C^B and the stress; CG route on a Hessian "
                             "or data file of a pair potential (default 0: the plain Hessian)")
    parser.add_argument("--min-modes", type=float, default=10.0,
                        help="a line is resolved when it holds Gamma g(Omega) >= this many modes (default 10)")


def is_elastic_file(path: str) -> bool:
    """Whether ``path`` has a glassmodes-elastic sidecar (``path.json``)."""
    side = Path(f"{path}.json")
    if not side.is_file():
        return False
    try:
        return json.loads(side.read_text()).get("format") == "glassmodes-elastic"
    except (ValueError, UnicodeDecodeError):
        return False


def load_terms(args, workdir: Path):
    """(terms, hessian or None): from an elastic-terms file (+ optional Hessian), else from a Hessian or data file."""
    from glassmodes.elastic import ElasticError, terms_from_hessian
    from glassmodes.elastic.terms import check_same_system
    from glassmodes.io.elastic_file import read_elastic
    from glassmodes.io.hessian import read_hessian

    delta = getattr(args, "delta", 0.0)
    if is_elastic_file(args.source):
        if delta:
            raise ElasticError("--delta needs phi' of every pair: give the Hessian (or data file) of a pair "
                               "potential, not an elastic-terms file")
        terms = read_elastic(args.source)
        group = terms.meta.get("group", "all")
        if group != "all":
            raise ElasticError(f"{args.source}: written for group {group!r}, not the whole system")
        h = None
        if args.hessian:
            h = read_hessian(args.hessian)
            check_same_system(terms, h.atoms, h.meta, str(args.hessian))
        elif not args.modes:
            raise ValueError(f"{args.source} is an elastic-terms file: give the Hessian of the same configuration "
                             "(glassmodes elastic E H) or --modes M")
        return terms, h
    if args.hessian:
        raise ValueError(f"a second file ({args.hessian}) goes only with an elastic-terms file as the first")
    h = load_hessian(args.source, workdir)
    return terms_from_hessian(h, delta=delta), h


def load_hessian(source: str, workdir: Path):
    """A Hessian from a Hessian file, or computed from a data file (serial write_hessian, mass no)."""
    from glassmodes.hessian_job import HessianJob, is_data_file, write_hessian_job
    from glassmodes.io.hessian import read_hessian

    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if is_data_file(path):
        out = workdir / "H"
        write_hessian_job(HessianJob(source=path, output=out, keywords={"mass": "no"}))
        return read_hessian(out)
    return read_hessian(path)


def make_solver(hessian, modes_path: str | None, rtol: float, terms=None, petsc_path: str | None = None, comm=None,
                delta: float = 0.0):
    """ModeSolver from a mode file of the same atoms, or a CGSolver on the plain Hessian (on M(delta) if delta > 0)."""
    import numpy as np
    import scipy.sparse as sp

    from glassmodes.elastic import CGSolver, ElasticError, ModeSolver
    from glassmodes.elastic.terms import check_same_system

    if delta and (modes_path or petsc_path is not None):
        raise ElasticError("--delta works with the CG route only (--modes and --petsc use the plain Hessian)")
    if modes_path:
        from glassmodes.modes import read_modes

        m = read_modes(modes_path)
        if terms is not None:
            check_same_system(terms, m.atoms, m.meta, str(modes_path))
        if hessian is not None:
            if m.atoms is None or m.atoms.size != hessian.natoms or not np.array_equal(m.atoms["id"], hessian.atoms["id"]):
                raise ElasticError(f"{modes_path}: its atoms (IDs) are not the Hessian's: not the same system")
            if m.dimension != hessian.dimension:
                raise ElasticError(f"{modes_path}: dimension {m.dimension}, the Hessian's is {hessian.dimension}")
            if not np.allclose(m.atoms["x"], hessian.atoms["x"], rtol=0, atol=1e-8):
                raise ElasticError(f"{modes_path}: atom positions differ from the Hessian's: not the same configuration")
        return ModeSolver.from_modes(m, source=str(modes_path))
    if petsc_path is not None:
        from glassmodes.elastic.relaxed import PetscCGSolver

        return PetscCGSolver(petsc_path, comm=comm, rtol=rtol)
    H = hessian.matrix
    if hessian.mass_weighted:
        s = np.sqrt(np.repeat(np.asarray(hessian.atoms["mass"], dtype=float), hessian.dimension))
        H = sp.diags(s) @ H @ sp.diags(s)
    if delta:
        from glassmodes.elastic.terms import pairs_from_hessian, stress_scaled_hessian

        H = stress_scaled_hessian(H, pairs_from_hessian(hessian)[0], delta)
    return CGSolver(H, hessian.dimension, rtol=rtol, atom_ids=hessian.atoms["id"])


def plot_tensors(result, folder: Path) -> list:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    labels = list(result.voigt)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (name, m) in zip(axes, (("relaxed C", result.C), ("Born C^B", result.born),
                                    ("non-affine (1/V) Xi.H^+.Xi", result.nonaffine))):
        lim = float(np.max(np.abs(m))) or 1.0
        im = ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7)
        ax.set_title(name)
        fig.colorbar(im, ax=ax, label=f"energy/distance^{result.dim} [{result.units}]")
    mo = result.moduli
    fig.suptitle(f"N = {result.meta.get('natoms')}, G_thesis = {mo['G_thesis']:.4g}, G_iso(B) = {mo['G_iso_B']:.4g}, "
                 f"K = {mo['K']:.4g}, P = {mo['P']:.4g}")
    fig.tight_layout()
    out = folder / "elastic_tensors.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return [out]


def attenuation(hessian, modes_path: str, result, shells, min_modes: float) -> dict:
    """Spectral lines of a complete mode file, reduced with omega0 = c_s/a0 (c_s = sqrt(G_thesis/rho))."""
    import numpy as np

    from glassmodes.elastic.attenuation import rayleigh_analysis, spectral_lines
    from glassmodes.modes import read_modes

    m = read_modes(modes_path)
    lines = spectral_lines(m.omega, m.vectors, hessian.positions(), hessian.atoms["mass"], hessian.meta["box"],
                           shells=shells, min_modes=min_modes)
    n, d = hessian.natoms, hessian.dimension
    rho = float(np.sum(hessian.atoms["mass"]) / result.volume)
    a0 = (result.volume / n) ** (1.0 / d)
    cs = float(np.sqrt(result.moduli["G_thesis"] / rho))
    omega0 = cs / a0
    return {"lines": [vars(l) for l in lines], "rayleigh": rayleigh_analysis(lines, d, omega0=omega0),
            "omega0": omega0, "c_s": cs, "a0": a0, "rho": rho, "omega_unit": m.omega_unit,
            "convention": "Lorentzian FWHM in omega = energy decay rate (docs/lifetimes.md)",
            "min_modes": min_modes}


def plot_attenuation(att: dict, dim: int, folder: Path) -> Path:
    import matplotlib

    from glassmodes.cli.attenuation import label_reduced_axes

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    w0 = att["omega0"]
    om = np.array([l["omega_center"] for l in att["lines"]]) / w0
    ga = np.array([l["gamma"] for l in att["lines"]]) / w0
    ok = np.array([l["resolved"] for l in att["lines"]], dtype=bool)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    ax.loglog(om[ok], ga[ok], "o", label=f"resolved (>= {att['min_modes']:g} modes in the line)")
    ax.loglog(om[~ok], ga[~ok], "x", color="gray", label="unresolved (a few spikes)")
    if ok.any():
        x = np.geomspace(om.min(), om.max(), 50)
        ref = np.median(ga[ok] / om[ok] ** (dim + 1))
        ax.loglog(x, ref * x ** (dim + 1), "k--", lw=0.8, label=f"omega^{dim + 1} guide")
    x = np.geomspace(om.min(), om.max(), 50)
    ax.loglog(x, x / np.pi, ":", color="C3", lw=0.8, label="Ioffe-Regel pi Gamma = omega")
    ra = att["rayleigh"]
    if ra["slope"] is not None:
        ax.set_title(f"slope {ra['slope']:.2f} over {ra['n_resolved']} lines, "
                     f"omega/omega0 {ra['range'][0] / w0:.3g}-{ra['range'][1] / w0:.3g}", fontsize=9)
    label_reduced_axes(ax)
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = folder / "attenuation.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def run(args) -> int:
    from glassmodes.cli._mpi import relaunch, world_comm
    from glassmodes.elastic import relaxed_elastic
    from glassmodes.hessian_job import is_data_file
    from glassmodes.io.atomic import atomic_output

    if args.np > 1 and not args.petsc:
        raise ValueError("--np needs --petsc (the other solvers are serial)")
    status = relaunch(args.np)
    if status is not None:
        return status
    comm = world_comm()
    petsc_path = None
    if args.petsc:
        petsc_path = args.hessian if is_elastic_file(args.source) else args.source
        if petsc_path is None or is_data_file(Path(petsc_path)):
            raise ValueError("--petsc reads a Hessian file: give H (or E H), not a data file")
    with tempfile.TemporaryDirectory() as tmp:
        terms, h = load_terms(args, Path(tmp))
    solver = make_solver(h, args.modes, args.rtol, terms, petsc_path=petsc_path, comm=comm, delta=args.delta)
    res = relaxed_elastic(terms, solver, max_force=args.max_force)
    if comm is not None and comm.Get_rank() != 0:
        return 0
    out = res.to_dict()
    out["source"] = str(args.source)
    out["modes"] = args.modes
    out["delta"] = args.delta
    att = None
    if args.lines:
        if not args.modes:
            raise ValueError("--lines needs --modes M (a complete mode file with eigenvectors)")
        if h is None:
            raise ValueError("--lines needs the Hessian (positions and cell): give it as the second file")
        att = attenuation(h, args.modes, res, args.lines, args.min_modes)
        out["attenuation"] = att
    with atomic_output(args.output) as t:
        Path(t).write_text(json.dumps(out, indent=1))
    mo = res.moduli
    s = res.solve.summary()
    print(f"{args.source}: N = {res.meta['natoms']}, {res.dim}D" + (f", M(delta = {args.delta:g})" if args.delta else "")
          + f"; G_thesis (C_xyxy + sigma_yy) = {mo['G_thesis']:.6g}, "
          f"G_iso(C) = {mo['G_iso_C']:.6g}, G_iso(B) = {mo['G_iso_B']:.6g}, K = {mo['K']:.6g}, P = {mo['P']:.6g} "
          f"[{res.units} units]; " + (f"{s['method']}: {s['iterations_max']} iterations, residual {s['residual_max']:.2e}"
                                      if s["method"] != "modes" else f"modes: {s['nmodes']} modes")
          + f" -> {args.output}")
    if args.plot:
        plots = plot_tensors(res, Path(args.plot))
        if att is not None:
            plots.append(plot_attenuation(att, h.dimension, Path(args.plot)))
        for p in plots:
            print(f"plot -> {p}")
    return 0
