"""Quench one MD frame to its inherent structure in a private serial LAMMPS instance.

The inherent structure r_IS(t) of a configuration r(t) is the local minimum of the potential
energy reached by a steepest-descent-like path from r(t) (Mizuno et al. (2020), Sec. II.B: FIRE). Here each
frame is rebuilt from scratch in a LAMMPS instance that belongs to the quencher (``clear``, box,
force field, atoms in ascending ID order), so

* the MD trajectory is never touched (the frame is a copy read from the dump);
* the result depends only on the frame and the settings, not on which MPI rank or which earlier
  frames went through the same instance (tested: 1 vs 2 ranks, positions to 1e-8; in practice
  bitwise).

Protocol (:class:`QuenchSettings`): FIRE, then CG, then FIRE again (the same sequence as the
glass preparation decks), each to the largest per-atom force ``ftol`` (``min_modify norm max``).
Then the largest force is measured: ``fmax <= ftol`` is *converged*; otherwise the frame is
flagged (status :data:`NOT_CONVERGED`) and events next to it are not counted. A LAMMPS error is
status :data:`FAILED`. A system that cannot even be built (bad force field) raises
:class:`QuenchSetupError`: that is bad input, not a flagged frame.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from glassmodes.landscape.dump import DumpFrame

# per-frame status stored in the IS file
PENDING = 0        # not quenched yet
CONVERGED = 1      # fmax <= ftol
NOT_CONVERGED = 2  # all stages done, fmax > ftol: flagged
FAILED = 3         # LAMMPS error during the quench: flagged
STATUS_NAMES = {PENDING: "pending", CONVERGED: "converged", NOT_CONVERGED: "not converged", FAILED: "failed"}


@dataclass(frozen=True)
class QuenchSettings:
    """How a frame is minimized.

    Attributes
    ----------
    ftol : float
        Target largest per-atom force |f_i| (force units) of every stage and the convergence test.
    maxiter : int
        Iteration (and force-evaluation) limit of each stage.
    fire_dt : float
        Time step of FIRE (time units; LAMMPS's FIRE uses the current ``timestep``).
    stages : tuple of str
        LAMMPS ``min_style`` of the successive stages.
    units : str
        LAMMPS unit style the force field is written in.
    """

    ftol: float = 1e-10
    maxiter: int = 100000
    fire_dt: float = 0.005
    stages: tuple = ("fire", "cg", "fire")
    units: str = "lj"

    def __post_init__(self):
        if not self.ftol > 0:
            raise ValueError(f"ftol must be positive, got {self.ftol}")
        if self.maxiter < 1:
            raise ValueError(f"maxiter must be >= 1, got {self.maxiter}")
        if not self.fire_dt > 0:
            raise ValueError(f"fire_dt must be positive, got {self.fire_dt}")
        for s in self.stages:
            if s not in ("fire", "cg", "sd", "quickmin", "hftn"):
                raise ValueError(f"unknown minimizer stage {s!r}")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["stages"] = list(self.stages)
        return d


@dataclass(frozen=True, eq=False)
class QuenchResult:
    """The inherent structure of one frame.

    Attributes
    ----------
    positions : ndarray, shape=(N, 3), float64
        r_IS, unwrapped (``x + image * L`` with the image flags carried from the frame and updated
        by LAMMPS during the minimization), ascending atom ID, distance units.
    energy : float
        Phi_IS, total potential energy of the inherent structure (Mizuno et al. (2020), Eq. 4), energy units.
    fmax : float
        Largest per-atom force after the quench, force units.
    iterations : int
        Minimizer iterations of all stages together.
    status : int
        :data:`CONVERGED`, :data:`NOT_CONVERGED` or :data:`FAILED`.
    md_energy : float
        Phi(t), total potential energy of the MD frame itself (Eq. 2), energy units.
    md_temperature : float
        T(t) = sum_i m_i v_i^2 / (3 N k_B) (Eq. 2, 3N degrees of freedom), NaN without velocities.
    seconds : float
        Wall time of the quench.
    message : str
        The LAMMPS error for :data:`FAILED`, else empty.
    """

    positions: np.ndarray
    energy: float
    fmax: float
    iterations: int
    status: int
    md_energy: float
    md_temperature: float
    seconds: float
    message: str = ""


class QuenchSetupError(RuntimeError):
    """The LAMMPS system of a frame cannot be built (bad force field, atoms outside the box): fatal,
    unlike a minimization that fails or does not converge (a flagged frame)."""


def read_forcefield(path: str | Path) -> str:
    """The force-field commands of a file, to run after ``create_box``.

    Two layouts are accepted:

    * commands valid after ``create_box`` only (mass, pair_style, pair_coeff, neighbor,
      neigh_modify, ...), as in ``inputs/forcefields/*.ff`` (also ``include``-d by
      ``inputs/is_trajectory.lmp``);
    * the layout of ``glassmodes hessian --forcefield``: set-up lines, a line ``read_data``, then
      the force-field commands. The set-up lines may only be ``units`` (must match the quench
      settings' units), ``atom_style atomic``, ``atom_modify``, ``boundary``, ``dimension 3``; the
      commands after ``read_data`` are returned.

    ``#`` comments are allowed. Raises ``ValueError`` for commands that would rebuild or move the
    system (create_box, run, minimize, ...), and when there is no ``pair_style``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such force-field file")
    lines = path.read_text().splitlines()
    words = [line.split("#", 1)[0].split() for line in lines]
    marker = [n for n, w in enumerate(words) if w[:1] == ["read_data"]]
    start = 0
    if marker:
        start = marker[0] + 1
        for n in range(marker[0]):
            w = words[n]
            if not w:
                continue
            if w[0] not in ("units", "atom_style", "atom_modify", "boundary", "dimension"):
                raise ValueError(f"{path}:{n + 1}: {w[0]!r} before read_data is not supported here")
            if w[0] == "atom_style" and w[1:] != ["atomic"]:
                raise ValueError(f"{path}:{n + 1}: only atom_style atomic is supported")
            if w[0] == "dimension" and w[1:] != ["3"]:
                raise ValueError(f"{path}:{n + 1}: only 3D systems are supported")
    forbidden = ("units", "atom_style", "region", "create_box", "create_atoms", "read_data", "boundary",
                 "run", "minimize", "dimension", "lattice", "read_restart", "displace_atoms", "velocity", "fix")
    for n in range(start, len(lines)):
        w = words[n]
        if w and w[0] in forbidden:
            raise ValueError(f"{path}:{n + 1}: {w[0]!r} does not belong in a force-field file (only commands "
                             "after create_box: mass, pair_style, pair_coeff, neighbor, ...)")
    text = "\n".join(lines[start:]) + "\n"
    if not any(w[:1] == ["pair_style"] for w in words[start:]):
        raise ValueError(f"{path}: no pair_style command")
    return text


def forcefield_units(path: str | Path) -> str | None:
    """The ``units`` set before ``read_data`` in a force-field file of the hessian layout, else None."""
    for line in Path(path).read_text().splitlines():
        w = line.split("#", 1)[0].split()
        if w[:1] == ["read_data"]:
            break
        if w[:1] == ["units"] and len(w) > 1:
            return w[1]
    return None


def _encode_images(image: np.ndarray, bits: int, maxv: int, mask: int) -> np.ndarray:
    im = np.asarray(image, dtype=np.int64)
    ix, iy, iz = ((im[:, a] + maxv) & mask for a in range(3))
    return (iz << (2 * bits)) | (iy << bits) | ix


def _decode_images(packed: np.ndarray, bits: int, maxv: int, mask: int) -> np.ndarray:
    p = np.asarray(packed, dtype=np.int64)
    return np.stack([(p & mask) - maxv, ((p >> bits) & mask) - maxv, ((p >> (2 * bits)) & mask) - maxv], axis=1)


class Quencher:
    """Quench frames one after the other in one private serial LAMMPS instance.

    Parameters
    ----------
    forcefield : str
        Force-field text (:func:`read_forcefield`).
    settings : QuenchSettings
    ntypes : int
        Number of atom types of the box (at least the largest type of the frames).
    comm : mpi4py communicator or None
        Communicator of the LAMMPS instance; default ``MPI.COMM_SELF`` (serial, whatever the
        caller's rank).
    """

    def __init__(self, forcefield: str, settings: QuenchSettings = QuenchSettings(), ntypes: int = 1, comm=None):
        from mpi4py import MPI

        from glassmodes.lammps_session import open_lammps

        self.forcefield = forcefield
        self.settings = settings
        self.ntypes = int(ntypes)
        self._lmp = open_lammps(comm=MPI.COMM_SELF if comm is None else comm)
        self._img = (self._lmp.extract_setting("IMGBITS"), self._lmp.extract_setting("IMGMAX"),
                     self._lmp.extract_setting("IMGMASK"))

    def close(self) -> None:
        if self._lmp is not None:
            self._lmp.close()
            self._lmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _setup(self, frame: DumpFrame, x: np.ndarray, image: np.ndarray) -> None:
        lmp = self._lmp
        if int(frame.types.max()) > self.ntypes:
            raise ValueError(f"frame {frame.index} has atom type {int(frame.types.max())} > ntypes {self.ntypes}")
        lmp.command("clear")
        lmp.command(f"units {self.settings.units}")
        lmp.command("atom_style atomic")
        lmp.command("atom_modify map yes")
        lmp.command("boundary " + " ".join("p" if p else "f" for p in frame.periodicity))
        bounds = " ".join(repr(float(v)) for pair in zip(frame.boxlo, frame.boxhi) for v in pair)
        lmp.command(f"region box block {bounds}")
        lmp.command(f"create_box {self.ntypes} box")
        lmp.commands_string(self.forcefield)
        packed = _encode_images(image, *self._img)
        v = frame.velocities
        n = lmp.create_atoms(frame.natoms, frame.ids.tolist(), frame.types.tolist(), x.ravel().tolist(),
                             v.ravel().tolist() if v is not None else None, packed.tolist())
        if n != frame.natoms:
            raise RuntimeError(f"frame {frame.index}: LAMMPS created {n} of {frame.natoms} atoms (outside the box?)")
        lmp.command("thermo_modify norm no")
        lmp.command("compute_modify thermo_temp extra/dof 0")
        lmp.command(f"timestep {self.settings.fire_dt!r}")
        lmp.command("min_modify norm max")

    def type_masses(self, frame: DumpFrame) -> dict:
        """``{type: mass}`` set by the force field, read from LAMMPS after building ``frame``."""
        self._setup(frame, frame.x, frame.image)
        mass = self._lmp.numpy.extract_atom("mass")
        return {t: float(mass[t]) for t in range(1, self.ntypes + 1)}

    def _state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lmp = self._lmp
        nlocal = lmp.extract_global("nlocal")
        ids = np.array(lmp.numpy.extract_atom("id")[:nlocal], dtype=np.int64)
        x = np.array(lmp.numpy.extract_atom("x")[:nlocal], dtype=float)
        f = np.array(lmp.numpy.extract_atom("f")[:nlocal], dtype=float)
        img = _decode_images(np.array(lmp.numpy.extract_atom("image")[:nlocal]), *self._img)
        order = np.argsort(ids)
        return x[order], img[order], f[order]

    def quench(self, frame: DumpFrame, x: np.ndarray | None = None) -> QuenchResult:
        """Quench ``frame`` (or the positions ``x``, shape=(N, 3), wrapped, in its box and with its image flags).

        ``x`` is how a perturbed copy of a frame is quenched (noise-floor measurement).
        """
        s = self.settings
        t0 = time.perf_counter()
        x = frame.x if x is None else np.asarray(x, dtype=float)
        lengths = frame.lengths
        # re-wrap (a perturbation can push an atom out of the box) and carry the images along
        shift = np.floor((x - frame.boxlo) / lengths).astype(np.int64)
        per = np.array(frame.periodicity)
        shift[:, ~per] = 0
        x = x - shift * lengths
        image = frame.image + shift
        nan = float("nan")
        try:
            self._setup(frame, x, image)
            lmp = self._lmp
            lmp.command("run 0 post no")
        except Exception as exc:  # noqa: BLE001 - LAMMPS raises plain Exception
            raise QuenchSetupError(f"frame {frame.index} (step {frame.step}): setting up the LAMMPS system "
                                   f"failed (force field or frame): {str(exc).strip()}") from None
        md_energy = float(lmp.get_thermo("pe"))
        md_temperature = float(lmp.get_thermo("temp")) if frame.velocities is not None else nan
        try:
            lmp.command("velocity all set 0.0 0.0 0.0")
            lmp.command("reset_timestep 0")
            for style in s.stages:
                lmp.command(f"min_style {style}")
                lmp.command(f"minimize 0.0 {s.ftol!r} {s.maxiter} {s.maxiter}")
            iterations = int(lmp.extract_global("ntimestep"))
            lmp.command("run 0 post no")
            energy = float(lmp.get_thermo("pe"))
            xq, img, f = self._state()
        except Exception as exc:  # noqa: BLE001 - LAMMPS raises plain Exception
            return QuenchResult(positions=np.full((frame.natoms, 3), nan), energy=nan, fmax=nan, iterations=0,
                                status=FAILED, md_energy=nan, md_temperature=nan,
                                seconds=time.perf_counter() - t0, message=str(exc))
        fmax = float(np.sqrt(np.max(np.einsum("ij,ij->i", f, f)))) if f.size else 0.0
        positions = xq + img * lengths
        status = CONVERGED if fmax <= s.ftol else NOT_CONVERGED
        return QuenchResult(positions=positions, energy=energy, fmax=fmax, iterations=iterations, status=status,
                            md_energy=md_energy, md_temperature=md_temperature, seconds=time.perf_counter() - t0)
