"""The nonlinear-mode file: a mode file (``glassmodes-modes``) whose modes are nonlinear modes.

The file written by :func:`write_nonlinear_modes` is a complete mode file
(:mod:`glassmodes.modes.modefile`): ``/frequencies`` (omega = sqrt(kappa ftm2v), ascending over
all kinds), ``/eigenvalues`` (kappa), ``/participation_ratio``, ``/eigenvectors`` (the fields
pi, mass-weighted, unit norm), ``/atoms``, ``/box`` and the units of the harmonic mode file it
started from, so ``export-mode``, ``render`` and ``analyze`` read it as they are (mode index =
row). The root attribute ``content`` = "nonlinear modes" and ``harmonic_source`` (the seed mode
file) say what it is. The nonlinear data sit in

``/nonlinear`` attributes ``tol`` (residual tolerance), ``dedupe`` (overlap threshold),
    ``definitions`` (JSON: cost, residual, PR), ``force_constants`` (path), ``fc_sidecar`` (JSON)
``/nonlinear/{quartic,cubic,phm}`` one group per kind searched, datasets (nk,) each:
    ``rows`` (int64, index into ``/frequencies``), ``kappa`` (eigenvalue units), ``omega``
    (omega unit), ``tau``, ``chi``, ``cost``, ``pr``, ``participation_number``, ``residual``,
    ``map_step``, ``converged`` (bool), ``single_particle`` (bool), ``iterations_lbfgs``,
    ``iterations_map``, ``iterations_cg``, ``seconds``, ``seed`` (str), ``method`` (str),
    ``stop`` (str), ``harmonic_overlap`` (max |pi . psi| over the harmonic seed modes, NaN
    without them). Attributes ``units`` (JSON dict of the datasets' units).

Written under a temporary name and renamed (no partial file).
"""

from __future__ import annotations

import json
import os

import numpy as np

from glassmodes.io.atomic import atomic_output, checksummed
from glassmodes.modes.core import Modes, SolverInfo, ZeroModes
from glassmodes.modes.modefile import ModeFile, ModeFileError, write_modes
from glassmodes.nonlinear.costs import KINDS

CONTENT = "nonlinear modes"
FLOAT_FIELDS = ("kappa", "omega", "tau", "chi", "cost", "pr", "participation_number", "residual",
                "map_step", "seconds")
DEFINITIONS = {
    "quartic": "minimum of E4 = kappa^2/chi on the unit sphere (Kapteijns thesis Eq. 3.12)",
    "cubic": "minimum of E3 = kappa^3/tau^2 (Kapteijns thesis Eq. 3.31; map of Khomenko et al. (2020)), tau >= 0",
    "phm": "minimum of (pi.M.pi)^2 / sum_<ij> (pi_ij.pi_ij)^2 over interacting pairs (Kapteijns thesis Eq. 4.2)",
    "residual": "||M pi - (kappa/c) g(pi)|| / ||M pi||, (c, g) = (chi, U4:.pipipi), (tau, U3:pipi), (D, zeta)",
    "kappa": "pi.M.pi, mass-weighted Hessian, pi unit norm",
    "tau": "U3:.pipipi (mass-weighted third derivatives)",
    "chi": "U4::pipipipi (mass-weighted fourth derivatives), NaN without an order-4 table",
    "pr": "participation ratio (sum_i |pi_i|^2)^2 / (N sum_i |pi_i|^4)",
}


def _units(unit: str, eig_unit: str) -> dict:
    return {"kappa": eig_unit, "omega": unit, "tau": "energy/(distance^3 mass^1.5)",
            "chi": "energy/(distance^4 mass^2)", "cost": "kappa^p/c^q (see definitions)",
            "pr": "1", "participation_number": "particles", "residual": "1", "seconds": "s"}


def write_nonlinear_modes(path, modes_by_kind: dict, source: ModeFile, *, tol: float, dedupe: float,
                          fc_path: str = "", fc_meta: dict | None = None, harmonic_overlap: dict | None = None,
                          options: dict | None = None) -> None:
    """Write the nonlinear-mode file (layout in the module docs), atomically.

    Parameters
    ----------
    modes_by_kind : dict kind -> list of glassmodes.nonlinear.NonlinearMode
    source : ModeFile
        The harmonic mode file of the same structure (atoms, box, units).
    harmonic_overlap : dict kind -> ndarray (nk,), optional
    """
    import h5py

    allm = [(kind, i, m) for kind in KINDS for i, m in enumerate(modes_by_kind.get(kind, []))]
    if not allm:
        raise ValueError("no nonlinear mode to write")
    order = sorted(range(len(allm)), key=lambda r: allm[r][2].omega)
    rows = np.empty(len(allm), dtype=np.int64)
    rows[order] = np.arange(len(allm))
    omega = np.array([allm[r][2].omega for r in order])
    kappa = np.array([allm[r][2].kappa for r in order])
    vecs = np.stack([allm[r][2].pi for r in order], axis=1)
    pr = np.array([allm[r][2].pr for r in order])
    res = np.array([allm[r][2].residual for r in order])
    info = SolverInfo(backend="glassmodes.nonlinear", method="lbfgs+map", tol=tol, zero_tol=0.0, scale=1.0,
                      iterations=0, residual_norms=res, zero_modes=ZeroModes(0, 0.0, 0.0, 0),
                      options=dict(options or {}), notes=("rows are nonlinear modes: see /nonlinear",),
                      complete_below=float("nan"))
    m = Modes(omega=omega, eigenvalues=kappa, vectors=vecs, dimension=source.dimension, units=source.units,
              info=info, meta=source.meta, atoms=source.atoms)
    with atomic_output(path, suffix=".h5") as tmp:
        write_modes(tmp, m, vectors="all", participation=pr, source=str(source.path))
        with h5py.File(tmp, "a") as f:
            f.attrs["content"] = CONTENT
            f.attrs["harmonic_source"] = str(source.path)
            for key, val in source.box.items():
                f["box"].attrs[key] = val
            g = f.create_group("nonlinear")
            g.attrs["tol"] = tol
            g.attrs["dedupe"] = dedupe
            g.attrs["definitions"] = json.dumps(DEFINITIONS)
            g.attrs["force_constants"] = str(fc_path)
            g.attrs["fc_sidecar"] = json.dumps(fc_meta or {}, default=str)
            units = _units(source.omega_unit, f"energy/(distance^2*mass) [{source.units}]")
            r0 = 0
            for kind in KINDS:
                if kind not in modes_by_kind:
                    continue
                ms = modes_by_kind[kind]
                k = f.create_group(f"nonlinear/{kind}")
                k.attrs["units"] = json.dumps(units)
                k.attrs["definition"] = DEFINITIONS[kind]
                nk = len(ms)

                def put(name, data, dtype=None):
                    arr = np.asarray(data, dtype=dtype)
                    if arr.dtype.kind in "OU":
                        k.create_dataset(name, data=np.array([str(x) for x in arr], dtype=h5py.string_dtype()))
                    else:
                        k.create_dataset(name, data=arr, **checksummed(arr))

                put("rows", rows[r0:r0 + nk], np.int64)
                r0 += nk
                for name in FLOAT_FIELDS:
                    put(name, [getattr(x, name) for x in ms], float)
                put("converged", [x.converged for x in ms], bool)
                put("single_particle", [x.single_particle for x in ms], bool)
                for name in ("lbfgs", "map", "cg"):
                    put(f"iterations_{name}", [x.iterations.get(name, 0) for x in ms], np.int64)
                put("seed", [x.seed_label for x in ms], object)
                put("method", [x.method for x in ms], object)
                put("stop", [x.stop for x in ms], object)
                ho = (harmonic_overlap or {}).get(kind)
                put("harmonic_overlap", np.full(nk, np.nan) if ho is None else ho, float)


def read_nonlinear_table(path: str | os.PathLike) -> dict:
    """The per-kind tables of a nonlinear-mode file: {kind: {field: ndarray}}; raises
    :class:`ModeFileError` if the file is not one."""
    import h5py

    with ModeFile(path) as mf:
        f = mf._f
        content = f.attrs.get("content", "")
        content = content.decode() if isinstance(content, bytes) else content
        if content != CONTENT or "nonlinear" not in f:
            raise ModeFileError(f"{path}: not a nonlinear-mode file (glassmodes nonlinear -o ...)")
        out = {}
        for kind in KINDS:
            if f"nonlinear/{kind}" not in f:
                continue
            g = f[f"nonlinear/{kind}"]
            tab = {}
            for name in g:
                data = g[name][()]
                if h5py.check_string_dtype(g[name].dtype) is not None:
                    data = np.array([x.decode() if isinstance(x, bytes) else x for x in data], dtype=object)
                tab[name] = data
            out[kind] = tab
        return out
