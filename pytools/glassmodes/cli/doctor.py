"""Check the installation: versions, and live tests of the plugin, PETSc/SLEPc and OVITO.

Examples:
  glassmodes doctor
  glassmodes doctor --skip ovito

Required: LAMMPS with the plugin (tested under mpirun -np 2), NumPy, SciPy, h5py, matplotlib.
Optional: PETSc/SLEPc (petsc4py, slepc4py: `glassmodes modes --backend slepc`; `make setup`
builds them) and OVITO (`glassmodes render`). Each check runs in its own process. The exit
status is the number of failed checks; an optional part that is not installed is reported and
does not count as a failure (one that is installed but broken does).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from glassmodes import __version__
from glassmodes.lammps_session import plugin_path, venv_mpirun

# each check: (name, code run by `python -c`, ranks under mpirun or 0 for a plain process)
PLUGIN_CHECK = textwrap.dedent("""
    import sys
    from mpi4py import MPI
    from glassmodes.lammps_session import open_lammps
    lmp = open_lammps()
    for line in ["units lj", "atom_style atomic", "lattice fcc 1.0", "region b block 0 3 0 3 0 3",
                 "create_box 1 b", "create_atoms 1 box", "mass 1 1.0", "pair_style lj/cut 2.5",
                 "pair_coeff 1 1 1.0 1.0", "write_hessian all {out} fcheck no"]:
        lmp.command(line)
    if MPI.COMM_WORLD.rank == 0:
        from glassmodes.io import read_hessian
        h = read_hessian("{out}")
        assert h.meta["nprocs"] == MPI.COMM_WORLD.size == 2, h.meta["nprocs"]
        print(f"write_hessian on 2 ranks: {{h.natoms}} atoms, {{h.matrix.nnz}} nonzeros")
""")

PETSC_CHECK = textwrap.dedent("""
    from petsc4py import PETSc
    from slepc4py import SLEPc
    print("petsc4py", ".".join(map(str, PETSc.Sys.getVersion())), "slepc4py",
          ".".join(map(str, SLEPc.Sys.getVersion())))
""")

OVITO_CHECK = textwrap.dedent("""
    # {out} is a PNG path here
    import numpy as np
    from ovito.data import DataCollection, Particles, SimulationCell
    from ovito.pipeline import Pipeline, StaticSource
    from ovito.vis import Viewport, TachyonRenderer
    data = DataCollection()
    data.create_cell(np.diag([4.0, 4.0, 4.0]), pbc=(True, True, True))
    p = data.create_particles(count=8)
    p.create_property("Position", data=np.random.default_rng(0).random((8, 3)) * 4)
    pipeline = Pipeline(source=StaticSource(data=data))
    pipeline.add_to_scene()
    vp = Viewport(type=Viewport.Type.Perspective)
    vp.zoom_all()
    vp.render_image(size=(64, 64), filename="{out}.png", renderer=TachyonRenderer())
    from PIL import Image
    print("OVITO rendered a headless picture", Image.open("{out}.png").size)
""")


def add_arguments(parser) -> None:
    parser.add_argument("--skip", action="append", default=[], choices=["plugin", "petsc", "ovito"],
                        help="leave out a live check")


def _versions() -> list[str]:
    import importlib.metadata as md

    rows = [f"glassmodes {__version__}", f"python {sys.version.split()[0]}"]
    for pkg in ("lammps", "mpi4py", "numpy", "scipy", "h5py", "matplotlib", "petsc4py", "slepc4py", "ovito"):
        try:
            rows.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            optional = pkg in ("petsc4py", "slepc4py", "ovito")
            rows.append(f"{pkg} {'not installed (optional)' if optional else 'MISSING'}")
    try:
        rows.append(f"plugin {plugin_path()}")
    except FileNotFoundError as exc:
        rows.append(f"plugin MISSING ({exc})")
    return rows


def _check(name: str, code: str, ranks: int, tmp: Path) -> bool:
    out = tmp / f"{name}-output"
    script = tmp / f"check_{name}.py"
    script.write_text(code.format(out=out))
    cmd = [sys.executable, str(script)]
    if ranks:
        cmd = [str(venv_mpirun()), "-np", str(ranks), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    ok = proc.returncode == 0
    detail = (proc.stdout.strip().splitlines() or [""])[-1] if ok else (proc.stderr.strip() or proc.stdout.strip())[-800:]
    print(f"[{'ok' if ok else 'FAILED'}] {name}: {detail}")
    return ok


# optional checks: name -> (modules that must be importable, what is missing without them)
OPTIONAL = {
    "petsc": (("petsc4py", "slepc4py"), "glassmodes modes --backend slepc (build them with `make setup`)"),
    "ovito": (("ovito",), "glassmodes render and the OVITO modifier (pip install the pinned ovito)"),
}


def _missing(modules) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m) is None]


def run(args) -> int:
    for row in _versions():
        print(row)
    checks = [("plugin", PLUGIN_CHECK, 2), ("petsc", PETSC_CHECK, 0), ("ovito", OVITO_CHECK, 0)]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="glassmodes-doctor-") as tmp:
        for name, code, ranks in checks:
            if name in args.skip:
                print(f"[skipped] {name}")
                continue
            if name in OPTIONAL:
                modules, needed_for = OPTIONAL[name]
                missing = _missing(modules)
                if missing:
                    print(f"[optional, not installed] {name}: {', '.join(missing)} missing; needed only for "
                          f"{needed_for}")
                    continue
            failures += not _check(name, code, ranks, Path(tmp))
    print("all checks passed" if failures == 0 else f"{failures} check(s) FAILED")
    return failures
