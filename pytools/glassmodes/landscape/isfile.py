"""The inherent-structure trajectory file (HDF5): r_IS(t), Phi_IS(t) and the quench record of each frame.

Layout (format ``glassmodes-is-trajectory``, version 1); the caller picks the name (``IS.h5``):

``/`` attributes
    ``format``, ``format_version``, ``glassmodes_version``, ``units`` (LAMMPS unit style),
    ``natoms``, ``nframes``, ``source`` (dump path as given), ``forcefield`` (the force-field
    text, verbatim), ``quench_settings`` (JSON of :class:`~glassmodes.landscape.quench.QuenchSettings`),
    ``has_images`` (the dump's positions unwrap: image flags or ``xu``), ``has_velocities``,
    ``type_masses`` (JSON ``{type: mass}`` from the force field),
    ``noise`` (JSON: frames, replicas, amplitude, seed of the noise-floor measurement).
``/step`` int64 (F,), ``/time`` float64 (F,)
    MD step and time of each frame (time NaN when the dump has no ``ITEM: TIME``).
``/ids`` int64 (N,), ``/types`` int32 (N,); ``/box`` attributes ``boxlo``, ``boxhi``, ``periodicity``.
``/positions`` float64 (F, N, 3), contiguous, attribute ``units`` = distance
    r_IS(t), unwrapped, ascending atom ID; undefined until the frame's status is non-zero (the
    storage is reserved at creation but not written: a sparse region of the file).
``/energy`` (F,) Phi_IS(t), total potential energy of the IS (Mizuno et al. (2020), Eq. 4), energy units.
``/fmax`` (F,) largest per-atom force after the quench; ``/iterations`` int64 (F,);
``/seconds`` (F,) wall time of each quench.
``/md_energy`` (F,) Phi(t) and ``/md_temperature`` (F,) T(t) of the MD frame (Eq. 2);
``/md_msd`` (F,) mean-squared displacement of the MD frame from frame 0, sum_i |r_i(t) - r_i(0)|^2 / N
    (unwrapped positions when ``has_images``, else minimum image), distance^2.
``/status`` int8 (F,)
    0 pending, 1 converged, 2 not converged, 3 failed (:mod:`glassmodes.landscape.quench`).
    Written *after* the frame's data, each followed by a flush: a frame whose status is non-zero
    is complete; a crash leaves at most the frame in flight pending, and a restart redoes it.
``/noise/frames`` int64 (K,), ``/noise/distance`` float64 (K, R), ``/noise/energy`` float64 (K, R),
``/noise/fmax`` (K, R), ``/noise/status`` int8 (K,)
    Noise floor: frame ``frames[j]`` re-quenched from R copies perturbed by Gaussian displacements
    of standard deviation ``amplitude`` per component; ``distance[j, r]`` = |r_IS' - r_IS| (3N norm,
    minimum image), ``energy[j, r]`` = |Phi_IS' - Phi_IS|.

The file is created complete under a temporary name and renamed: every dataset is allocated at
creation (early allocation, contiguous; NaN / 0 filled, except the positions), so filling it in place writes raw data
only and never HDF5 metadata: a writer killed at any moment (kill -9, node failure) leaves a
readable file whose completed frames are intact (tested). One writer at a time (HDF5 file lock);
readers open without locking, so ``glassmodes events`` can read a file still being filled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassmodes.io.atomic import atomic_output, checksummed

FORMAT_NAME = "glassmodes-is-trajectory"
FORMAT_VERSION = 1


class ISFileError(ValueError):
    """Not an IS trajectory file, or one that belongs to other inputs."""


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def create_is_file(path: str | os.PathLike, *, steps: np.ndarray, times: np.ndarray, ids: np.ndarray,
                   types: np.ndarray, boxlo, boxhi, periodicity, units: str, source: str, forcefield: str,
                   settings: dict, has_images: bool, has_velocities: bool, noise_frames: np.ndarray,
                   noise_replicas: int, noise_amplitude: float, noise_seed: int,
                   type_masses: dict | None = None) -> None:
    """Create an empty IS trajectory file (all frames pending), atomically."""
    import h5py

    from glassmodes import __version__

    nf, n = len(steps), len(ids)
    noise_frames = np.asarray(noise_frames, dtype=np.int64)
    def fixed(name, shape, dtype, fill, chunks=None, write_fill=True):
        """A dataset whose storage is allocated now (early allocation, contiguous unless chunked):
        filling it later writes raw data only, never HDF5 metadata, so a writer killed mid-write
        cannot corrupt the file's structure."""
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
        if not write_fill:  # the big positions array stays a sparse region of the file until written
            dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
        if chunks is not None:
            dcpl.set_chunk(chunks)
        return f.create_dataset(name, shape=shape, dtype=dtype, fillvalue=fill, dcpl=dcpl)

    with atomic_output(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            a = f.attrs
            a["format"] = FORMAT_NAME
            a["format_version"] = FORMAT_VERSION
            a["glassmodes_version"] = __version__
            a["units"] = units
            a["natoms"] = n
            a["nframes"] = nf
            a["source"] = str(source)
            a["forcefield"] = forcefield
            a["quench_settings"] = json.dumps(settings, sort_keys=True)
            a["has_images"] = bool(has_images)
            a["has_velocities"] = bool(has_velocities)
            a["type_masses"] = json.dumps({str(k): float(v) for k, v in (type_masses or {}).items()})
            a["noise"] = json.dumps({"frames": noise_frames.tolist(), "replicas": int(noise_replicas),
                                     "amplitude": float(noise_amplitude), "seed": int(noise_seed)}, sort_keys=True)
            f.create_dataset("step", data=np.asarray(steps, dtype=np.int64), **checksummed(np.asarray(steps, dtype=np.int64)))
            d = f.create_dataset("time", data=np.asarray(times, dtype=float), **checksummed(np.asarray(times, dtype=float)))
            d.attrs["units"] = "time"
            f.create_dataset("ids", data=np.asarray(ids, dtype=np.int64), **checksummed(np.asarray(ids, dtype=np.int64)))
            f.create_dataset("types", data=np.asarray(types, dtype=np.int32), **checksummed(np.asarray(types, dtype=np.int32)))
            b = f.create_group("box")
            b.attrs["boxlo"] = np.asarray(boxlo, dtype=float)
            b.attrs["boxhi"] = np.asarray(boxhi, dtype=float)
            b.attrs["periodicity"] = np.asarray(periodicity, dtype=bool)
            d = fixed("positions", (nf, n, 3), "f8", np.nan, write_fill=False)
            d.attrs["units"] = "distance"
            d.attrs["description"] = "inherent structure r_IS(t), unwrapped, ascending atom ID"
            for name, unit in (("energy", "energy"), ("fmax", "force"), ("seconds", "s"), ("md_energy", "energy"),
                               ("md_temperature", "temperature"), ("md_msd", "distance^2")):
                d = fixed(name, (nf,), "f8", np.nan)
                d.attrs["units"] = unit
            fixed("iterations", (nf,), "i8", 0)
            d = fixed("status", (nf,), "i1", 0)
            d.attrs["codes"] = "0 pending, 1 converged, 2 not converged, 3 failed"
            g = f.create_group("noise")
            k, r = noise_frames.size, max(int(noise_replicas), 0)
            g.create_dataset("frames", data=noise_frames, **checksummed(noise_frames))
            for name in ("distance", "energy", "fmax"):
                fixed(f"noise/{name}", (k, r), "f8", np.nan)
            fixed("noise/status", (k,), "i1", 0)


class ISWriter:
    """Fill an IS trajectory file in place; one writer at a time (HDF5 file lock)."""

    def __init__(self, path: str | os.PathLike):
        import h5py

        self.path = Path(path)
        try:
            self._f = h5py.File(self.path, "r+")
        except OSError as exc:
            raise ISFileError(f"{self.path}: cannot open for writing ({exc}); is another is-trajectory run "
                              "writing it?") from None
        check_format(self._f, self.path)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def status(self) -> np.ndarray:
        return self._f["status"][()]

    @property
    def noise_status(self) -> np.ndarray:
        return self._f["noise/status"][()]

    @property
    def lengths(self) -> np.ndarray:
        """Box edge lengths, shape=(3,)."""
        b = self._f["box"].attrs
        return np.asarray(b["boxhi"], dtype=float) - np.asarray(b["boxlo"], dtype=float)

    @property
    def periodicity(self) -> tuple:
        return tuple(bool(p) for p in self._f["box"].attrs["periodicity"])

    def positions(self, k: int) -> np.ndarray:
        """r_IS of frame ``k`` as stored, shape=(N, 3) (NaN while pending)."""
        return self._f["positions"][int(k)]

    def write_frame(self, k: int, result, md_msd: float) -> None:
        """Store the quench result of frame ``k`` (data first, then its status)."""
        f = self._f
        f["positions"][k] = result.positions
        for name in ("energy", "fmax", "seconds", "md_energy", "md_temperature"):
            f[name][k] = getattr(result, name)
        f["md_msd"][k] = md_msd
        f["iterations"][k] = result.iterations
        f.flush()
        f["status"][k] = result.status
        f.flush()

    def write_noise(self, j: int, distance: np.ndarray, energy: np.ndarray, fmax: np.ndarray, status: int) -> None:
        g = self._f["noise"]
        g["distance"][j] = distance
        g["energy"][j] = energy
        g["fmax"][j] = fmax
        self._f.flush()
        g["status"][j] = status
        self._f.flush()


def check_format(f, path) -> None:
    fmt = _s(f.attrs.get("format"))
    if fmt != FORMAT_NAME:
        raise ISFileError(f"{path}: format {fmt!r}, expected {FORMAT_NAME!r}")
    ver = int(f.attrs.get("format_version", -1))
    if not 1 <= ver <= FORMAT_VERSION:
        raise ISFileError(f"{path}: format version {ver}, this reader knows 1..{FORMAT_VERSION}")


@dataclass(frozen=True, eq=False)
class ISTrajectory:
    """An inherent-structure time series in memory, except the positions (read frame by frame).

    Build it with :func:`read_is_trajectory`, or directly from arrays (``positions`` then an
    ndarray of shape (F, N, 3)) for synthetic data.

    Attributes
    ----------
    times : ndarray, shape=(F,), float64
        Time of each frame, time units (steps * dt when the dump had no time).
    steps : ndarray, shape=(F,), int64
    ids : ndarray, shape=(N,), int64
    types : ndarray, shape=(N,), int32
    boxlo, boxhi : ndarray, shape=(3,)
    periodicity : tuple of 3 bool
    energy : ndarray, shape=(F,)
        Phi_IS(t), energy units.
    status : ndarray, shape=(F,), int8
        Quench status codes (1 = converged).
    fmax : ndarray, shape=(F,)
    positions : ndarray (F, N, 3) or a callable k -> ndarray (N, 3)
        r_IS(t), unwrapped, distance units.
    has_images : bool
        Whether positions are unwrapped along the trajectory (else only minimum-image differences
        are meaningful).
    md_energy, md_temperature, md_msd : ndarray, shape=(F,)
        Instantaneous Phi(t), T(t), MSD of the MD frames (NaN when unknown).
    noise_distance : ndarray, shape=(K, R)
        Re-quench distances of the noise-floor measurement (empty when not measured).
    units : str
    source : str
        The dump the file was made from.
    forcefield : str
        Force-field text used for the quenches.
    ftol : float
        Quench force tolerance.
    type_masses : dict or None
        ``{type: mass}`` of the force field (None: unknown, equal masses assumed).
    """

    times: np.ndarray
    steps: np.ndarray
    ids: np.ndarray
    types: np.ndarray
    boxlo: np.ndarray
    boxhi: np.ndarray
    periodicity: tuple
    energy: np.ndarray
    status: np.ndarray
    fmax: np.ndarray
    positions: object
    has_images: bool = True
    md_energy: np.ndarray | None = None
    md_temperature: np.ndarray | None = None
    md_msd: np.ndarray | None = None
    noise_distance: np.ndarray | None = None
    units: str = "lj"
    source: str = ""
    forcefield: str = ""
    ftol: float = float("nan")
    type_masses: dict | None = None

    @property
    def nframes(self) -> int:
        return int(len(self.times))

    @property
    def natoms(self) -> int:
        return int(self.ids.size)

    @property
    def lengths(self) -> np.ndarray:
        return np.asarray(self.boxhi, dtype=float) - np.asarray(self.boxlo, dtype=float)

    def frame(self, k: int) -> np.ndarray:
        """r_IS of frame ``k``, shape=(N, 3)."""
        if callable(self.positions):
            return self.positions(int(k))
        return np.asarray(self.positions[int(k)], dtype=float)


def read_is_trajectory(path: str | os.PathLike, dt: float | None = None) -> ISTrajectory:
    """Open an IS trajectory file; positions are read lazily, one frame per call.

    Parameters
    ----------
    dt : float, optional
        MD time step, to convert steps to times when the file has no times (dump without
        ``ITEM: TIME``); ignored otherwise.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such IS trajectory file")
    try:
        f = h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise ISFileError(f"{path}: not an HDF5 file ({exc})") from None
    with f:
        check_format(f, path)
        times = f["time"][()]
        steps = f["step"][()]
        if np.any(~np.isfinite(times)):
            if dt is None:
                raise ISFileError(f"{path}: the dump had no ITEM: TIME; give the MD time step (dt) to convert "
                                  "steps to times")
            times = steps * float(dt)
        settings = json.loads(_s(f.attrs["quench_settings"]))
        g = f["noise"]
        nd = g["distance"][()]
        nd = nd[g["status"][()] > 0]
        out = dict(times=times, steps=steps, ids=f["ids"][()], types=f["types"][()],
                   boxlo=f["box"].attrs["boxlo"], boxhi=f["box"].attrs["boxhi"],
                   periodicity=tuple(bool(p) for p in f["box"].attrs["periodicity"]),
                   energy=f["energy"][()], status=f["status"][()], fmax=f["fmax"][()],
                   has_images=bool(f.attrs["has_images"]), md_energy=f["md_energy"][()],
                   md_temperature=f["md_temperature"][()], md_msd=f["md_msd"][()], noise_distance=nd,
                   units=_s(f.attrs["units"]), source=_s(f.attrs["source"]), forcefield=_s(f.attrs["forcefield"]),
                   ftol=float(settings.get("ftol", np.nan)),
                   type_masses={int(k): v for k, v in json.loads(_s(f.attrs.get("type_masses", "{}"))).items()}
                   or None)
    return ISTrajectory(positions=_FrameReader(path), **out)


class _FrameReader:
    """Callable k -> positions of frame k, keeping the file open between calls (sequential scans)."""

    def __init__(self, path: Path):
        self.path = path
        self._f = None

    def __call__(self, k: int) -> np.ndarray:
        import h5py

        if self._f is None:
            self._f = h5py.File(self.path, "r", locking=False)
        return self._f["positions"][k]

    def __del__(self):
        if self._f is not None:
            try:
                self._f.close()
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass
