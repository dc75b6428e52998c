"""Glass samples of the papers' models: a registry of LAMMPS decks and a runner for ensembles.

Each model is one deck in ``inputs/`` (``inputs/ka.in``, ...) that prepares one glass the way its
paper does (liquid equilibration, quench or cooling, NPT where the paper has one, minimization)
and writes a LAMMPS data file. A deck's parameters are its ``variable NAME index VALUE`` lines,
so the same deck runs from the shell (``lmp -in inputs/ka.in -var N 1000 -var seed 1 -var out
g.data``, plugin loaded) and from here, where a parameter is changed with ``overrides``
(``glassmodes prepare ka --set rate=1e-2``).

Before any run starts, :func:`check_request` rejects what cannot work, with the reason:

* an unknown model (the error lists the known ones) or deck parameter;
* a pair potential that jumps at its cutoff: ``lj/cut`` without ``pair_modify shift yes``, or a
  smoothed style given ``coeffs`` for which phi(x_c) != 0 (e.g. the printed, rounded
  C_0, C_2, C_4 of Kumar et al. (2021); the error prints the exact coefficients);
* ``ipl/smooth/poly`` without per-atom sizes (``atom_style sphere`` and a size distribution),
  or sizes with s_min <= 0, s_max < s_min, or eps_na (s_max - s_min) >= 1 (then s_ij <= 0);
* impossible densities: rho <= 0, or a packing fraction of the particles' cores above random
  close packing (0.64 in 3D, 0.84 in 2D). The core of species a is the distance where its pair
  energy reaches ``CORE_ENERGY`` = 1e4 eps_aa, far above any energy the protocols reach (the
  papers' soft spheres overlap at their nominal sizes: the thesis r^-10 model in 3D has a nominal
  packing fraction of 0.80).

Every sample gets ``<model>-N<n>-s<seed>.data``, ``.json`` (metadata: model, N, seed, density,
composition, inherent-state energy per particle, largest residual force, wall time, LAMMPS and
glassmodes versions, the deck parameters used) and ``.log`` in the output folder. With ``np > 1``
the decks run under the venv's ``mpirun`` (one launch for all samples).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassmodes import __version__

_REPO_ROOT = Path(__file__).resolve().parents[2]

CORE_ENERGY = 1.0e4               # pair energy (units of eps_aa) that defines a particle's core
RCP = {2: 0.84, 3: 0.64}          # random close packing fraction by dimension
RESERVED = ("N", "seed", "out")   # deck variables set by the runner itself
DISCONTINUITY_TOL = 1e-10         # |phi(x_c)| / sum |terms of phi(x_c)| accepted as continuous


def inputs_dir() -> Path:
    """Folder of the decks: ``$GLASSMODES_INPUTS``, else the repository's ``inputs/``."""
    env = os.environ.get("GLASSMODES_INPUTS")
    return Path(env) if env else _REPO_ROOT / "inputs"


@dataclass(frozen=True)
class Model:
    """One glass model: its deck and what is needed to check a request and describe a sample.

    Attributes
    ----------
    name : str
        Registry name (``glassmodes prepare NAME``).
    deck : str
        Deck file, relative to :func:`inputs_dir` or absolute.
    paper : str
        Where the model and protocol come from.
    default_n : int
        Default number of particles (runs in minutes on 2 cores).
    settings : dict
        Deck variables this model sets (e.g. ``{"dim": "2", "density": "0.86"}``); overrides win,
        except for the names in ``locked``.
    locked : tuple of str
        Variables that define the model and cannot be overridden (e.g. the dimension).
    composition : tuple
        How the type counts follow from N and the deck variables: ``("fraction", VAR)``: type 1
        has round(VAR * N) particles, type 2 the rest; ``("ratio", VAR)``: N_2/N_1 = VAR, type 1
        has round(N / (1 + VAR)); ``("single",)``: one type.
    sizes : tuple of str or None
        For per-atom sizes: the deck variables of the smallest and largest diameter of the
        distribution P(s) ~ s^-3 (``("smin", "smax")``); None for sizes per type.
    eps_na : str or None
        Deck variable of the non-additivity of s_ij (per-atom sizes only).
    notes : str
        One line on what deviates from the paper.
    """

    name: str
    deck: str
    paper: str
    default_n: int
    settings: dict = field(default_factory=dict)
    locked: tuple = ()
    composition: tuple = ("single",)
    sizes: tuple | None = None
    eps_na: str | None = None
    notes: str = ""

    def deck_path(self) -> Path:
        path = Path(self.deck)
        return path if path.is_absolute() else inputs_dir() / path


MODELS: dict[str, Model] = {}


def register_model(model: Model) -> Model:
    """Add (or replace) a model in the registry; returns it."""
    MODELS[model.name] = model
    return model


for _m in (
    Model("ka", "ka.in", "Kob & Andersen, Phys. Rev. E 51, 4626 (1995); protocol of Kapteijns, "
          "PhD thesis (Univ. of Amsterdam), Ch. 2", 1000, composition=("fraction", "xA"),
          notes="lj/cut with shift: the force jumps at r_c as in the original model"),
    Model("thesis-ipl10-3d", "thesis-ipl10.in", "Kapteijns, PhD thesis, Ch. 2-3 (Kapteijns, Bouchbinder, Lerner, PRL 121, 055501 (2018)): binary r^-10, 3D", 1000,
          settings={"dim": "3", "density": "0.82"}, locked=("dim",),
          composition=("fraction", "xS")),
    Model("thesis-ipl10-2d", "thesis-ipl10.in", "Kapteijns, PhD thesis, Ch. 2 (Kapteijns, Bouchbinder, Lerner, PRL 121, 055501 (2018)): binary r^-10, 2D", 1600,
          settings={"dim": "2", "density": "0.86"}, locked=("dim",),
          composition=("fraction", "xS")),
    Model("poly", "poly.in", "Khomenko, Reichman, Zamponi (2020, arXiv:2012.07998) and the POLY model of "
          "Kapteijns' thesis: polydisperse r^-12, 3D", 1500, sizes=("smin", "smax"), eps_na="eps_na",
          notes="hybrid MD + swap MC; default equilibration short of the papers' for T <= 0.07"),
    Model("seed003-2d", "seed003-2d.in", "Kumar, Procaccia, Singh (2021, arXiv:2102.12368): polydisperse "
          "r^-12, 2D", 1000, sizes=("smin", "smax"), eps_na="eps_na",
          notes="exact smoothing coefficients instead of the printed rounded ones; N 1000 (paper 4000)"),
    Model("seed004-ipl12", "seed004-ipl12.in", "Mizuno, Tong, Ikeda, Mossa (2020, arXiv:2006.15082): binary r^-12 "
          "with shifted-force cutoff, 3D", 4000, composition=("fraction", "x1")),
    Model("seed000-mlj", "seed000-mlj.in", "Xiang, Patinet, Volz, Zhou (2022, arXiv:2206.05402): binary modified LJ, 3D",
          1000, composition=("ratio", "ratio"),
          notes="LJ parameters from the cited literature; NPT 500 t0 instead of 18067 t0"),
):
    register_model(_m)


def get_model(name: str) -> Model:
    """The registered model ``name``; ValueError listing the known ones otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}") from None


# ---- deck parsing -------------------------------------------------------------------------------

_VARIABLE = re.compile(r'^\s*variable\s+(\S+)\s+index\s+("[^"]*"|\S+)')


def deck_variables(path: str | os.PathLike) -> dict[str, str]:
    """The ``variable NAME index VALUE`` defaults of a deck, in order (quotes removed)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        m = _VARIABLE.match(line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2).strip('"')
    return out


def _substitute(text: str, variables: dict[str, str]) -> str:
    """Replace ``${NAME}`` of known variables (others stay)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), m.group(0)), text)


def _commands(path: Path, variables: dict[str, str]) -> list[list[str]]:
    """Deck commands (comments removed, variables substituted), split into words."""
    cmds = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            cmds.append(shlex.split(_substitute(line, variables)))
    return cmds


def _float(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


# ---- pair potentials: continuity at the cutoff and core sizes ---------------------------------

def _falling(p: float, m: int) -> float:
    out = 1.0
    for k in range(m):
        out *= p - k
    return out


def smoothing_coefficients(terms, q: int, xc: float, step: int) -> np.ndarray:
    """Coefficients c_0..c_q that make f and its first q derivatives vanish at x_c.

    f(x) = sum_t a_t x^(p_t) + sum_k c_k x^(k step) with ``terms`` = [(a_t, p_t), ...]
    (docs/pair_styles.md); the same conditions as the plugin solves.
    """
    rows = np.array([[_falling(k * step, m) * xc ** (k * step - m) for k in range(q + 1)]
                     for m in range(q + 1)])
    rhs = np.array([-sum(a * _falling(p, m) * xc ** (p - m) for a, p in terms) for m in range(q + 1)])
    return np.linalg.solve(rows, rhs)


@dataclass(frozen=True)
class PairSpec:
    """The parts of a deck's pair potential that the checks need.

    ``terms``: inverse-power terms [(a, p)] of f(x) in x = r/s; ``per_atom``: sizes per atom;
    ``sigma_ii``: {type: (eps, s)} of the like pairs (per-type sizes).
    """

    style: str
    terms: tuple
    q: int | None
    xc: float | None
    step: int
    coeffs: tuple | None
    per_atom: bool
    sigma_ii: dict
    shift: bool


def _parse_smoothed(style: str, args: list[str]) -> tuple:
    nfixed = {"ipl/smooth": 3, "ipl/smooth/poly": 4, "lj/smooth/glass": 2}[style]
    if len(args) < nfixed:
        raise ValueError(f"pair_style {style}: expected {nfixed} arguments, got {' '.join(args)!r}")
    if style == "lj/smooth/glass":
        terms, q, xc = ((4.0, -12.0), (-4.0, -6.0)), args[0], args[1]
    else:
        n = _float(args[0], f"pair_style {style} exponent n")
        if n <= 0:
            raise ValueError(f"pair_style {style}: the exponent n must be > 0, got {n:g}")
        terms, q, xc = ((1.0, -n),), args[1], args[2]
    try:
        q = int(q)
    except ValueError:
        raise ValueError(f"pair_style {style}: the smoothing order q must be an integer, got {q!r}") from None
    if not 0 <= q <= 6:
        raise ValueError(f"pair_style {style}: the smoothing order q must be 0..6, got {q}")
    xc = _float(xc, f"pair_style {style} cutoff xc")
    if xc <= 0:
        raise ValueError(f"pair_style {style}: the cutoff xc must be > 0, got {xc:g}")
    step, coeffs = 2, None
    rest = args[nfixed:]
    i = 0
    while i < len(rest):
        if rest[i] == "powers" and i + 1 < len(rest) and rest[i + 1] in ("even", "all"):
            step = 2 if rest[i + 1] == "even" else 1
            i += 2
        elif rest[i] == "coeffs":
            vals = rest[i + 1:i + 2 + q]
            if len(vals) != q + 1:
                raise ValueError(f"pair_style {style}: coeffs needs q+1 = {q + 1} values, got {len(vals)}")
            coeffs = tuple(_float(v, f"pair_style {style} coeffs") for v in vals)
            i += 2 + q
        else:
            raise ValueError(f"pair_style {style}: unknown keyword {rest[i]!r}")
    return terms, q, xc, step, coeffs


def pair_spec(commands: list[list[str]]) -> PairSpec:
    """The pair potential of a deck's (substituted) commands."""
    style_args = None
    sigma_ii, shift, atom_style = {}, False, "atomic"
    for words in commands:
        if words[0] == "pair_style":
            style_args = words[1:]
        elif words[0] == "atom_style":
            atom_style = " ".join(words[1:])
        elif words[0] == "pair_modify" and "shift" in words:
            shift = words[words.index("shift") + 1] == "yes"
        elif words[0] == "pair_coeff" and len(words) >= 5 and words[1] == words[2] and words[1].isdigit():
            sigma_ii[int(words[1])] = (_float(words[3], "pair_coeff eps"), _float(words[4], "pair_coeff sigma"))
    if not style_args:
        raise ValueError("the deck has no pair_style")
    style, args = style_args[0], style_args[1:]
    per_atom = style == "ipl/smooth/poly"
    if per_atom and "sphere" not in atom_style.split():
        raise ValueError(f"pair_style ipl/smooth/poly needs per-atom sizes (atom_style sphere with "
                         f"diameters), but the deck uses atom_style {atom_style}")
    if style == "lj/cut":
        return PairSpec(style, ((4.0, -12.0), (-4.0, -6.0)), None, None, 2, None, False, sigma_ii, shift)
    if style in ("ipl/smooth", "ipl/smooth/poly", "lj/smooth/glass"):
        terms, q, xc, step, coeffs = _parse_smoothed(style, args)
        return PairSpec(style, terms, q, xc, step, coeffs, per_atom, sigma_ii, shift)
    raise ValueError(f"pair_style {style} is not one of the checked styles "
                     "(lj/cut, ipl/smooth, ipl/smooth/poly, lj/smooth/glass)")


def check_continuity(spec: PairSpec, commands: list[list[str]]) -> None:
    """ValueError if the pair energy jumps at the cutoff."""
    if spec.style == "lj/cut":
        if spec.shift:
            return
        cut = None
        jumps = []
        for words in commands:
            if words[0] == "pair_style":
                cut = _float(words[2], "lj/cut cutoff")
            if words[0] == "pair_coeff" and len(words) >= 5:
                eps, s = _float(words[3], "eps"), _float(words[4], "sigma")
                rc = _float(words[5], "cutoff") if len(words) > 5 else cut
                jumps.append(4 * eps * ((s / rc) ** 12 - (s / rc) ** 6))
        raise ValueError("pair_style lj/cut without `pair_modify shift yes` leaves the energy "
                         f"discontinuous at the cutoff (jumps of {', '.join(f'{j:.4g}' for j in jumps)} "
                         "eps): set shift=yes")
    if spec.coeffs is None:
        return    # the plugin solves the coefficients: continuous by construction
    x = spec.xc
    parts = [a * x ** p for a, p in spec.terms] + [c * x ** (k * spec.step) for k, c in enumerate(spec.coeffs)]
    value = sum(parts)
    if abs(value) > DISCONTINUITY_TOL * sum(abs(t) for t in parts):
        exact = smoothing_coefficients(spec.terms, spec.q, x, spec.step)
        raise ValueError(
            f"pair_style {spec.style} coeffs {' '.join(f'{c:g}' for c in spec.coeffs)}: phi(x_c = {x:g}) = "
            f"{value:.3g} eps, a jump at the cutoff; the continuous coefficients for q = {spec.q} are "
            f"{' '.join(f'{c:.15g}' for c in exact)} (or drop `coeffs` and let the style solve them)")


def _core_diameter(spec: PairSpec, eps: float, s: float) -> float:
    """Distance where the leading repulsion a x^p reaches CORE_ENERGY eps (units of s)."""
    a, p = max(spec.terms, key=lambda t: -t[1])    # most repulsive (most negative power)
    return s * (a / CORE_ENERGY) ** (-1.0 / p)


def _ball(d: int, diameter: float) -> float:
    return (math.pi / 4 * diameter ** 2) if d == 2 else (math.pi / 6 * diameter ** 3)


def _size_moment(smin: float, smax: float, d: int) -> float:
    """<s^d> of P(s) ~ s^-3 on [smin, smax]."""
    norm = 0.5 * (smin ** -2 - smax ** -2)
    if smax == smin:
        return smin ** d
    return (math.log(smax / smin) if d == 2 else smax - smin) / norm


# ---- the request -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    """A checked request: model, N, the deck variables of the run, derived facts."""

    model: Model
    n: int
    variables: dict          # deck variables after settings and overrides (N, seed, out excluded)
    assigned: dict           # the model's settings and the overrides: what the runner sets
    dimension: int
    density: float
    type_counts: tuple       # expected particles per type
    core_packing: float      # packing fraction of the cores (see CORE_ENERGY)
    pair_style: str


def _type_counts(model: Model, n: int, v: dict) -> tuple:
    kind = model.composition[0]
    if kind == "single":
        return (n,)
    x = _float(v[model.composition[1]], model.composition[1])
    if kind == "fraction":
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"{model.composition[1]} must be a fraction in [0, 1], got {x:g}")
        n1 = math.floor(x * n + 0.5)
    elif kind == "ratio":
        if x < 0:
            raise ValueError(f"{model.composition[1]} must be >= 0, got {x:g}")
        n1 = math.floor(n / (1.0 + x) + 0.5)
    else:
        raise ValueError(f"model {model.name}: unknown composition kind {kind!r}")
    return (n1, n - n1)


def check_request(model: Model | str, n: int | None = None, overrides: dict | None = None) -> Request:
    """Check everything that can be checked before LAMMPS starts; ValueError with the reason."""
    model = get_model(model) if isinstance(model, str) else model
    n = model.default_n if n is None else n
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"N must be an integer >= 2, got {n!r}")
    deck = model.deck_path()
    if not deck.is_file():
        raise FileNotFoundError(f"model {model.name}: deck {deck} not found")
    defaults = deck_variables(deck)
    overrides = {k: str(v) for k, v in (overrides or {}).items()}
    for name in overrides:
        if name in RESERVED:
            raise ValueError(f"{name} is set by the runner (use --n, --seed, --out), not by an override")
        if name not in defaults:
            raise ValueError(f"model {model.name} has no parameter {name!r}; its parameters: "
                             f"{', '.join(k for k in defaults if k not in RESERVED)}")
        if name in model.locked:
            raise ValueError(f"model {model.name} fixes {name} = {model.settings[name]}")
    v = {k: val for k, val in defaults.items() if k not in RESERVED}
    v.update(model.settings)
    v.update(overrides)
    v["N"] = str(n)

    commands = _commands(deck, v)
    dimension = 3
    for words in commands:
        if words[0] == "dimension":
            dimension = int(_float(words[1], "dimension"))
    if dimension not in (2, 3):
        raise ValueError(f"dimension must be 2 or 3, got {dimension}")

    if "density" not in v:
        raise ValueError(f"model {model.name}: the deck has no `density` parameter")
    density = _float(v["density"], "density")
    if not density > 0 or not math.isfinite(density):
        raise ValueError(f"density must be > 0, got {density:g}")

    spec = pair_spec(commands)
    check_continuity(spec, commands)
    counts = _type_counts(model, n, v)

    if spec.per_atom:
        if not model.sizes:
            raise ValueError(f"model {model.name}: pair_style ipl/smooth/poly needs per-atom sizes, "
                             "but the model defines no size distribution (Model.sizes)")
        smin = _float(v[model.sizes[0]], model.sizes[0])
        smax = _float(v[model.sizes[1]], model.sizes[1])
        if not smin > 0 or smax < smin:
            raise ValueError(f"per-atom sizes need 0 < {model.sizes[0]} <= {model.sizes[1]}, "
                             f"got {smin:g}, {smax:g}")
        eps_na = _float(v[model.eps_na], model.eps_na) if model.eps_na else 0.0
        if eps_na < 0 or eps_na * (smax - smin) >= 1.0:
            raise ValueError(f"eps_na (s_max - s_min) = {eps_na * (smax - smin):g} must be in [0, 1) "
                             "(else s_ij <= 0 for the most different pair)")
        scale = _core_diameter(spec, 1.0, 1.0)
        per_particle = _ball(dimension, 1.0) * scale ** dimension * _size_moment(smin, smax, dimension)
    else:
        if len(spec.sigma_ii) < len(counts):
            raise ValueError(f"model {model.name}: the deck sets no like-pair pair_coeff for every type")
        per_particle = sum(c / n * _ball(dimension, _core_diameter(spec, *spec.sigma_ii[t + 1]))
                           for t, c in enumerate(counts))
    packing = density * per_particle
    if packing > RCP[dimension]:
        raise ValueError(
            f"density {density:g} is impossible for {model.name}: the particle cores (pair energy "
            f"above {CORE_ENERGY:g} eps) would fill a fraction {packing:.3f} of the "
            f"{'area' if dimension == 2 else 'volume'}, beyond random close packing {RCP[dimension]}; "
            f"the largest possible density is about {RCP[dimension] / per_particle:.3g}")
    del v["N"]
    return Request(model, int(n), v, {**model.settings, **overrides}, dimension, density, counts,
                   packing, spec.style)


# ---- running -----------------------------------------------------------------------------------

def sample_stem(model: str, n: int, seed: int) -> str:
    """Base name of a sample's files: ``<model>-N<n>-s<seed>``."""
    return f"{model}-N{n}-s{seed}"


def _lammps_quote(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


def run_sample(request: Request, seed: int, out_dir: str | os.PathLike, comm=None) -> dict:
    """Run the deck of a checked request for one seed; write the data file and its metadata.

    Parameters
    ----------
    request : Request
        From :func:`check_request`.
    seed : int
        Random seed (> 0) of the deck.
    out_dir : path
        Existing folder for ``<stem>.data``, ``<stem>.json``, ``<stem>.log``.
    comm : mpi4py communicator or None
        None: serial (MPI_COMM_WORLD of a one-rank run). Rank 0 writes the metadata.

    Returns
    -------
    dict
        The metadata (also written as JSON): energies per particle in eps, forces in eps/sigma,
        density in particles per sigma^d, time in seconds.
    """
    from glassmodes.io.atomic import atomic_output
    from glassmodes.lammps_session import open_lammps

    if int(seed) < 1:
        raise ValueError(f"seed must be >= 1, got {seed}")
    out_dir = Path(out_dir)
    stem = sample_stem(request.model.name, request.n, seed)
    data, meta_path, log = out_dir / f"{stem}.data", out_dir / f"{stem}.json", out_dir / f"{stem}.log"
    ff_path = out_dir / f"{stem}.ff"
    rank = 0 if comm is None else comm.Get_rank()
    nprocs = 1 if comm is None else comm.Get_size()

    start, cpu_start = time.perf_counter(), time.process_time()
    lmp = open_lammps(comm=comm, log=str(log))
    try:
        settings = {"N": str(request.n), "seed": str(int(seed)), "out": str(data), **request.assigned}
        for name, value in settings.items():
            lmp.command(f"variable {name} index {_lammps_quote(value)}")
        lmp.file(str(request.model.deck_path()))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        e_is = lmp.extract_variable("e_is")
        fmax = lmp.extract_variable("fmax")
        natoms = lmp.get_natoms()
        boxlo, boxhi, xy, yz, xz, *_ = lmp.extract_box()
        lengths = [hi - lo for lo, hi in zip(boxlo, boxhi)]
        volume = lengths[0] * lengths[1] * (lengths[2] if request.dimension == 3 else 1.0)
        types = np.asarray(lmp.gather_atoms("type", 0, 1), dtype=int)
        counts = [int(np.sum(types == t)) for t in range(1, len(request.type_counts) + 1)]
        diameters = None
        if request.model.sizes:
            radius = np.asarray(lmp.gather_atoms("radius", 1, 1), dtype=float)
            diameters = {"min": float(2 * radius.min()), "max": float(2 * radius.max()),
                         "mean": float(2 * radius.mean())}
        version = lmp.version()
    finally:
        lmp.close()

    meta = {
        "model": request.model.name,
        "paper": request.model.paper,
        "deck": str(request.model.deck_path()),
        "N": int(natoms),
        "seed": int(seed),
        "dimension": request.dimension,
        "density": natoms / volume,
        "density_requested": request.density,
        "box": lengths[:request.dimension],
        "type_counts": counts,
        "diameters": diameters,
        "pair_style": request.pair_style,
        "energy_per_particle": e_is,
        "largest_force": fmax,
        "units": {"energy": "eps", "force": "eps/sigma", "length": "sigma",
                  "wall_time": "s", "cpu_time": "s (this process; rank 0 under MPI)"},
        "wall_time": wall,
        "cpu_time": cpu,
        "mpi_ranks": nprocs,
        "lammps_version": version,
        "glassmodes_version": __version__,
        "parameters": request.variables,
        "data_file": data.name,
        "forcefield_file": ff_path.name,
        "forcefield": forcefield_lines(request.model.deck_path(),
                                       {**request.variables, "N": str(request.n), "seed": str(int(seed))}),
        "log_file": log.name,
        "notes": request.model.notes,
    }
    if rank == 0:
        header = (f"# Force field of {stem}.data ({request.model.name}), written by glassmodes prepare.\n"
                  f"# Use: glassmodes hessian {stem}.data -o H   (found automatically beside the data file)\n"
                  f"#  or: glassmodes hessian {stem}.data --forcefield {stem}.ff -o H\n"
                  "# In a LAMMPS deck: these lines in this order, with the data file on the read_data line.\n")
        with atomic_output(ff_path) as tmp:
            tmp.write_text(header + "\n".join(meta["forcefield"]) + "\n")
        with atomic_output(meta_path) as tmp:
            tmp.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def prepare(model: Model | str, n: int | None = None, seed: int = 1, samples: int = 1,
            out_dir: str | os.PathLike = ".", np_ranks: int = 1, overrides: dict | None = None,
            progress=None) -> list[dict]:
    """Prepare ``samples`` independent glasses (seeds ``seed .. seed + samples - 1``).

    Everything is checked before the first run starts. ``np_ranks > 1`` runs all samples in one
    ``mpirun -np np_ranks`` launch of this module. ``progress``: optional callable(str).
    Returns the metadata of every sample.
    """
    request = check_request(model, n, overrides)
    if int(samples) < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if int(seed) < 1:
        raise ValueError(f"seed must be >= 1, got {seed}")
    if int(np_ranks) < 1:
        raise ValueError(f"np must be >= 1, got {np_ranks}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = [int(seed) + k for k in range(int(samples))]
    if int(np_ranks) == 1:
        metas = []
        for s in seeds:
            metas.append(run_sample(request, s, out_dir))
            if progress:
                progress(_summary(metas[-1]))
        return metas
    from glassmodes.lammps_session import venv_mpirun

    job = {"model": dataclasses.asdict(request.model), "n": request.n,
           "overrides": overrides or {}, "seeds": seeds, "out_dir": str(out_dir.resolve())}
    cmd = [str(venv_mpirun()), "-np", str(int(np_ranks)), sys.executable, "-m", "glassmodes.prepare",
           json.dumps(job)]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"mpirun -np {np_ranks} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    metas = []
    for s in seeds:
        metas.append(json.loads((out_dir / f"{sample_stem(request.model.name, request.n, s)}.json").read_text()))
        if progress:
            progress(_summary(metas[-1]))
    return metas


_SETUP_COMMANDS = ("units", "dimension", "atom_style", "atom_modify", "boundary", "pair_style")
_AFTER_COMMANDS = ("pair_modify", "neighbor", "neigh_modify")


def forcefield_lines(deck: str | os.PathLike, variables: dict[str, str]) -> list[str]:
    """The force-field file of a prepared sample: set-up lines, a line ``read_data``, the rest.

    The layout of ``glassmodes hessian --forcefield`` and ``is-trajectory --forcefield``
    (:class:`glassmodes.hessian_job.HessianJob`): ``units``, ``dimension``, ``atom_style``,
    ``atom_modify``, ``boundary`` and ``pair_style`` (the deck's lines with the sample's
    parameters), the marker ``read_data`` (the data file holds masses and pair coefficients,
    ``write_data ... pair ij``), then ``pair_modify``, ``neighbor`` and ``neigh_modify``.
    """
    before, after = [], []
    for words in _commands(Path(deck), variables):
        if words[0] in _SETUP_COMMANDS:
            before.append(shlex.join(words))
        elif words[0] in _AFTER_COMMANDS:
            after.append(shlex.join(words))
    return [*before, "read_data", *after]


def sample_forcefield(meta: dict) -> list[str]:
    """:func:`forcefield_lines` of a sample's metadata (stored there by glassmodes >= 0.2)."""
    if "forcefield" in meta:
        return list(meta["forcefield"])
    variables = {**meta["parameters"], "N": str(meta["N"]), "seed": str(meta["seed"])}
    return forcefield_lines(meta["deck"], variables)


def sample_commands(meta_path: str | os.PathLike) -> list[str]:
    """LAMMPS commands that read a prepared sample back with its potential (plugin loaded).

    :func:`sample_forcefield` with its ``read_data`` line pointing at the sample's data file;
    then e.g. ``write_hessian all H``.
    """
    meta_path = Path(meta_path)
    meta = json.loads(meta_path.read_text())
    data = shlex.quote(str(meta_path.parent / meta["data_file"]))
    return [f"read_data {data}" if line == "read_data" else line for line in sample_forcefield(meta)]


def _summary(meta: dict) -> str:
    return (f"{meta['model']} N={meta['N']} seed={meta['seed']}: E/N = {meta['energy_per_particle']:.10f}, "
            f"largest force {meta['largest_force']:.2e}, density {meta['density']:.6g}, "
            f"{meta['wall_time']:.1f} s")


def _worker(job: dict) -> None:
    """Body of the ``mpirun`` launch: run the job's seeds on MPI_COMM_WORLD."""
    from mpi4py import MPI

    model = Model(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in job["model"].items()})
    request = check_request(model, job["n"], job["overrides"])
    for s in job["seeds"]:
        run_sample(request, s, job["out_dir"], comm=MPI.COMM_WORLD)


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
