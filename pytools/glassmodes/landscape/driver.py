"""Quench every frame of an MD dump: r_IS(t), Phi_IS(t), split over MPI ranks, restartable.

:func:`quench_trajectory` is what ``glassmodes is-trajectory`` runs. Frames are independent, so
the work is embarrassingly parallel: each rank owns a serial LAMMPS instance on
``MPI.COMM_SELF`` (:class:`~glassmodes.landscape.quench.Quencher`); rank 0 deals the pending
frames out dynamically (each rank holds two ahead and gets one more with every result it returns),
quenches frames itself and writes the output file as results arrive (no barrier between frames).
A frame's result does not depend on the rank count nor on which rank quenched it.

Sequence
--------
1. Rank 0 indexes the dump; all ranks check the headers of their share of frames against frame 0
   (atom count, box, columns; velocities present when required) and the last frame in full (a
   truncated dump). Any mismatch stops every rank with the first offending frame named, before any
   quench. Each frame read for a quench is checked in full (atom IDs and types) against frame 0;
   a mismatch there stops the run with the frame named (reading every frame up front would cost
   as much as ~10% of the quenches).
2. Rank 0 creates the output (or, on restart, checks that it belongs to the same dump, force
   field and settings) and lists the pending frames (status 0) and noise-floor tasks.
3. Ranks quench; rank 0 stores each result (data, flush, then status, flush) and prints progress
   on stderr.

Noise floor: ``noise_frames`` frames (spread over the trajectory) are each quenched once
unperturbed and ``noise_replicas`` times from copies displaced by independent Gaussian noise of
standard deviation ``noise_amplitude`` per component, their mean (a rigid translation, a zero
mode that would move the whole IS) removed (random stream seeded by ``(seed, frame,
replica)``: rank-independent). The distances |r_IS' - r_IS| measure how far apart two quenches of
one basin end up given the force tolerance, the floor below which a change of r_IS is not an event.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from glassmodes.landscape.dump import DumpError, DumpFile, check_same_header, check_same_system
from glassmodes.landscape.isfile import ISFileError, ISWriter, create_is_file
from glassmodes.landscape.quench import (CONVERGED, FAILED, NOT_CONVERGED, STATUS_NAMES, Quencher,
                                         QuenchSettings, forcefield_units, read_forcefield)

_TAG_RESULT = 17
_TAG_TASK = 18
_PREFETCH = 2  # tasks a worker rank holds ahead, so that it never waits for rank 0's current quench


def _min_image(d: np.ndarray, lengths: np.ndarray, periodic) -> np.ndarray:
    per = np.asarray(periodic, dtype=bool)
    out = d.copy()
    out[..., per] -= np.round(out[..., per] / lengths[per]) * lengths[per]
    return out


def _md_msd(frame, ref) -> float:
    if ref.has_images:
        d = frame.unwrapped - ref.unwrapped
    else:
        d = _min_image(frame.x - ref.x, ref.lengths, ref.periodicity)
    return float(np.mean(np.einsum("ij,ij->i", d, d)))


def default_noise_frames(nframes: int, count: int) -> np.ndarray:
    """``count`` frames spread evenly over ``nframes`` (first, last and between), ascending."""
    if count <= 0 or nframes <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, nframes - 1, min(count, nframes))).astype(np.int64))


def _perturbed(frame, amplitude: float, seed: int, replica: int) -> np.ndarray:
    rng = np.random.default_rng([int(seed), int(frame.index), int(replica)])
    noise = rng.normal(0.0, amplitude, size=frame.x.shape)
    noise -= noise.mean(axis=0)  # no rigid translation: it would shift the IS along a zero mode
    return frame.x + noise


def _noise_task(quencher: Quencher, frame, replicas: int, amplitude: float, seed: int) -> dict:
    base = quencher.quench(frame)
    dist = np.full(replicas, np.nan)
    de = np.full(replicas, np.nan)
    fm = np.full(replicas, np.nan)
    status = base.status
    for r in range(replicas):
        res = quencher.quench(frame, _perturbed(frame, amplitude, seed, r))
        if res.status != CONVERGED:
            status = max(status, res.status)
        d = _min_image(res.positions - base.positions, frame.lengths, frame.periodicity)
        dist[r] = float(np.sqrt(np.sum(d * d)))
        de[r] = abs(res.energy - base.energy)
        fm[r] = res.fmax
    return {"distance": dist, "energy": de, "fmax": fm, "status": int(status)}


def quench_trajectory(dump: str | os.PathLike, forcefield: str | os.PathLike, output: str | os.PathLike, *,
                      settings: QuenchSettings = QuenchSettings(), comm=None, require_velocities: bool = True,
                      noise_frames: int = 3, noise_replicas: int = 4, noise_amplitude: float = 1e-4,
                      noise_seed: int = 2024, ntypes: int | None = None, stride: int = 1,
                      refine_dr: float = 1e-3, refine_budget: int | None = None,
                      window: tuple[int, int] | None = None,
                      progress: Callable[[str], None] | None = None) -> dict:
    """Quench all pending frames of ``dump`` into the IS trajectory file ``output``.

    Parameters
    ----------
    dump : path
        LAMMPS text dump (:mod:`glassmodes.landscape.dump`), frames every Delta t.
    forcefield : path
        Force-field file (:func:`~glassmodes.landscape.quench.read_forcefield`).
    output : path
        IS trajectory file (:mod:`glassmodes.landscape.isfile`); created, or continued if it exists
        (frames already quenched are skipped; it must come from the same dump, force field and
        settings).
    comm : mpi4py communicator or None
        Frames are split over its ranks (None: serial).
    require_velocities : bool
        Stop if the dump has no velocities (T(t) of Eq. 2 needs them); False stores T(t) = NaN.
    noise_frames, noise_replicas, noise_amplitude, noise_seed
        Noise-floor measurement (module docs); ``noise_frames=0`` skips it.
    ntypes : int, optional
        Number of atom types of the box (default: the largest type in the dump).
    stride : int
        1 (default): quench every frame. S > 1: quench every S-th frame (and the last), then,
        round after round, the middle frame of every interval between quenched frames whose
        inherent structures differ by more than ``refine_dr`` (3N norm, minimum image, drift
        removed), until each change is located to one Delta t. About S / log2(S) times fewer
        quenches when events are rare; blind to a transition and its reversal both inside one
        unchanged interval (A -> B -> A within S Delta t).
    refine_dr : float
        Distance above which an interval counts as changed (default 1e-3, the default event floor).
    refine_budget : int, optional
        At most this many bisection quenches in this call (0: no bisection); the intervals left
        are not resolved and their changes are flagged, not counted, by the event analysis. None:
        no limit. Bisection proceeds breadth-first (all changed intervals halved each round), so
        a budget smaller than ~log2(stride) per changed interval resolves none completely: use
        ``window`` for a fully resolved stretch instead.
    window : (int, int), optional
        Also quench every frame ``first <= k < last``: an unbiased, fully resolved stretch of the
        trajectory (event rate, statistics) inside a strided run.
    progress : callable(str), optional
        Receives progress lines (rank 0 only).

    Returns
    -------
    dict
        On rank 0: counts (``quenched``, ``skipped``, ``converged``, ``not_converged``,
        ``failed``), ``seconds``, ``frames_per_second``; on other ranks: ``{}``.
    """
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())

    def say(msg: str) -> None:
        if progress is not None and rank == 0:
            progress(msg)

    def collective(fn):
        """Run fn on rank 0, broadcast its value or its error to every rank."""
        value, err = None, None
        if rank == 0:
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - re-raised on every rank
                err = exc
        if comm is not None and size > 1:
            value, err = comm.bcast((value, err), root=0)
        if err is not None:
            raise err
        return value

    t_start = time.perf_counter()
    def load_ff():
        text = read_forcefield(forcefield)
        units = forcefield_units(forcefield)
        if units is not None and units != settings.units:
            raise ValueError(f"{forcefield}: units {units}, but the quench settings say {settings.units}")
        return text

    ff_text = collective(load_ff)
    offsets = collective(lambda: DumpFile(dump).offsets)
    dfile = DumpFile.from_index(dump, offsets)
    nframes = len(offsets)
    ref = dfile.frame(0)
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if window is not None:
        window = (int(window[0]), int(window[1]))
        if not 0 <= window[0] < window[1]:
            raise ValueError(f"window must be (first, last) with 0 <= first < last, got {window}")
    if require_velocities and ref.velocities is None:
        raise DumpError(f"{dump}: no velocities (vx vy vz) in the dump; T(t) (Mizuno et al. (2020), Eq. (2)) "
                        "needs them. Dump them (inputs/is_trajectory.lmp does) or pass --no-velocities")

    # 1. every frame's header against frame 0 (cheap), in parallel; the last frame in full (a dump
    #    cut short); every quenched frame is checked in full against frame 0 when it is read
    ref_header = dfile.header(0)
    local_err = None
    steps_local = {}
    times_local = {}
    for k in range(rank, nframes, size):
        try:
            h = dfile.header(k)
            check_same_header(ref, h)
            if h.columns != ref_header.columns:
                raise DumpError(f"frame {k} (step {h.step}): columns {' '.join(h.columns)} differ from frame 0's "
                                f"{' '.join(ref_header.columns)}")
            if k == nframes - 1:
                check_same_system(ref, dfile.frame(k))
            steps_local[k] = h.step
            times_local[k] = h.time
        except (DumpError, ValueError) as exc:
            local_err = (k, str(exc))
            break
    if comm is not None and size > 1:
        errs = comm.allgather(local_err)
        gathered = comm.gather((steps_local, times_local), root=0)
    else:
        errs = [local_err]
        gathered = [(steps_local, times_local)]
    errs = [e for e in errs if e is not None]
    if errs:
        k, msg = min(errs)
        raise DumpError(f"{dump}: {msg}")
    say(f"is-trajectory: {dump}: {nframes} frames of {ref.natoms} atoms, headers checked "
        f"({'unwrapped by image flags' if ref.has_images else 'no image flags: minimum image'}, "
        f"{'with' if ref.velocities is not None else 'without'} velocities)")

    ntypes = int(ntypes or ref.types.max())
    nf_noise = default_noise_frames(nframes, noise_frames) if noise_replicas > 0 else np.zeros(0, dtype=np.int64)

    quencher = Quencher(ff_text, settings, ntypes=ntypes)

    # 2. output file and the task list (rank 0)
    def prepare_output():
        steps = np.zeros(nframes, dtype=np.int64)
        times = np.zeros(nframes)
        for st, ti in gathered:
            for k, v in st.items():
                steps[k] = v
            for k, v in ti.items():
                times[k] = v
        if len(np.unique(steps)) != nframes or np.any(np.diff(steps) <= 0):
            raise DumpError(f"{dump}: time steps are not strictly increasing (frames appended twice?)")
        out = Path(output)
        if not out.exists():
            create_is_file(out, steps=steps, times=times, ids=ref.ids, types=ref.types, boxlo=ref.boxlo,
                           boxhi=ref.boxhi, periodicity=ref.periodicity, units=settings.units, source=str(dump),
                           forcefield=ff_text, settings=settings.as_dict(), has_images=ref.has_images,
                           has_velocities=ref.velocities is not None, noise_frames=nf_noise,
                           noise_replicas=noise_replicas, noise_amplitude=noise_amplitude, noise_seed=noise_seed,
                           type_masses=quencher.type_masses(ref))
        _check_restart(out, steps, ref, ff_text, settings, nf_noise, noise_replicas, noise_amplitude, noise_seed)
        writer = ISWriter(out)
        status = writer.status
        lo, hi = window if window is not None else (0, 0)
        first = [int(k) for k in np.flatnonzero(status == 0)
                 if k % stride == 0 or k == nframes - 1 or lo <= k < hi]
        todo = [("frame", k) for k in first]
        todo += [("noise", int(j)) for j in np.flatnonzero(writer.noise_status == 0)]
        return writer, todo, int(np.count_nonzero(status))

    writer = None
    if rank == 0:
        try:
            writer, todo, skipped = prepare_output()
            value, err = (todo, skipped), None
        except Exception as exc:  # noqa: BLE001
            value, err = None, exc
    else:
        value, err = None, None
    if comm is not None and size > 1:
        value, err = comm.bcast((value, err), root=0)
    if err is not None:
        raise err
    todo, skipped = value
    if skipped:
        say(f"is-trajectory: restart: {skipped} frame(s) already quenched, skipped")
    plan = "every frame" if stride == 1 else f"every {stride}th frame, then bisection of changed intervals"
    say(f"is-trajectory: {len(todo)} task(s) on {size} rank(s) ({plan}; {'/'.join(settings.stages)}, "
        f"ftol {settings.ftol:g})")

    # 3. quench, in rounds: the stride frames, then bisection of the intervals whose IS changed
    counts = {"quenched": 0, "skipped": skipped, "converged": 0, "not_converged": 0, "failed": 0, "rounds": 0,
              "refined": 0}
    t_quench = time.perf_counter()
    progress_state = {"done": 0}

    def store(task, payload, ntasks) -> None:
        kind, k = task
        progress_state["done"] += 1
        done = progress_state["done"]
        if kind == "frame":
            res, msd = payload
            writer.write_frame(k, res, msd)
            counts["quenched"] += 1
            key = {CONVERGED: "converged", NOT_CONVERGED: "not_converged", FAILED: "failed"}[res.status]
            counts[key] += 1
            rate = done / max(time.perf_counter() - t_quench, 1e-9)
            eta = (ntasks - done) / rate if rate > 0 else float("nan")
            extra = f": {res.message.strip().splitlines()[-1]}" if res.message else ""
            say(f"frame {k} ({done}/{ntasks}) {STATUS_NAMES[res.status]}{extra} fmax {res.fmax:.2e} "
                f"Phi_IS {res.energy:.10g} iterations {res.iterations} {res.seconds:.2f} s; "
                f"{rate:.3g} tasks/s, ETA {eta:.0f} s")
        else:
            writer.write_noise(k, payload["distance"], payload["energy"], payload["fmax"], payload["status"])
            say(f"noise floor at frame {int(nf_noise[k])} ({done}/{ntasks}): |r_IS' - r_IS| = "
                + " ".join(f"{d:.2e}" for d in payload["distance"]))

    def do_task(task, q: Quencher):
        kind, k = task
        if kind == "frame":
            fr = dfile.frame(k)
            check_same_system(ref, fr)  # atom IDs and types: a DumpError stops every rank
            return q.quench(fr), _md_msd(fr, ref)
        return _noise_task(q, dfile.frame(int(nf_noise[k])), noise_replicas, noise_amplitude, noise_seed)

    def run_round(tasks: list, q: Quencher) -> None:
        """Quench ``tasks`` over the ranks; rank 0 stores the results as they come.

        Dynamic scheduling: rank 0 keeps the pool, gives each other rank ``_PREFETCH`` tasks ahead
        and a new one with every result received (between its own quenches), then a stop message;
        ranks that run faster (a busy shared machine) take more tasks. Which rank quenches a frame
        does not change its result.
        """
        ntasks = progress_state["done"] + len(tasks)
        if comm is None or size == 1:
            for task in tasks:
                store(task, do_task(task, q), ntasks)
            return
        from mpi4py import MPI

        if rank != 0:
            pending = []
            while True:
                task = comm.recv(source=0, tag=_TAG_TASK)
                if task is None:
                    break
                pending.append(comm.isend((task, do_task(task, q)), dest=0, tag=_TAG_RESULT))
            MPI.Request.waitall(pending)
            return
        pool = list(tasks)
        outstanding = {r: 0 for r in range(1, size)}
        stopped = set()

        def feed(r: int) -> None:
            if pool:
                comm.send(pool.pop(0), dest=r, tag=_TAG_TASK)
                outstanding[r] += 1
            elif r not in stopped:
                comm.send(None, dest=r, tag=_TAG_TASK)
                stopped.add(r)

        def drain(block: bool) -> None:
            st = MPI.Status()
            while any(outstanding.values()):
                if not block and not comm.Iprobe(source=MPI.ANY_SOURCE, tag=_TAG_RESULT, status=st):
                    return
                task, payload = comm.recv(source=MPI.ANY_SOURCE, tag=_TAG_RESULT, status=st)
                r = st.Get_source()
                outstanding[r] -= 1
                store(task, payload, ntasks)
                feed(r)

        for r in range(1, size):
            for _ in range(_PREFETCH):
                feed(r)
        while pool:
            task = pool.pop(0)
            store(task, do_task(task, q), ntasks)
            drain(block=False)
        drain(block=True)
        for r in range(1, size):
            feed(r)  # stop message to ranks that have not had it

    def next_round() -> list:
        """Midpoints of the intervals between quenched frames whose IS changed (rank 0)."""
        if stride == 1:
            return []
        tasks = _bisection_tasks(writer, refine_dr)
        if refine_budget is not None:
            left = max(int(refine_budget) - counts["refined"], 0)
            if len(tasks) > left:
                say(f"is-trajectory: refinement budget reached: {len(tasks) - left} interval(s) left unresolved")
                tasks = tasks[:left]
            counts["refined"] += len(tasks)
        if tasks:
            say(f"is-trajectory: refinement: {len(tasks)} interval(s) with a changed IS, bisecting")
        return [("frame", k) for k in tasks]

    try:
        with quencher as q:
            while True:
                if todo:
                    counts["rounds"] += 1
                    run_round(todo, q)
                todo = next_round() if rank == 0 else None
                if comm is not None and size > 1:
                    todo = comm.bcast(todo, root=0)
                if not todo:
                    break
    except BaseException as exc:
        if comm is not None and size > 1:
            print(f"is-trajectory: rank {rank}: {type(exc).__name__}: {exc}; aborting all ranks", file=sys.stderr,
                  flush=True)
            comm.Abort(1)
        raise
    finally:
        if writer is not None:
            writer.close()
    if rank != 0:
        return {}
    counts["seconds"] = time.perf_counter() - t_start
    counts["quench_seconds"] = time.perf_counter() - t_quench
    counts["frames_per_second"] = counts["quenched"] / max(counts["quench_seconds"], 1e-9)
    say(f"is-trajectory: {counts['quenched']} frame(s) quenched in {counts['quench_seconds']:.1f} s "
        f"({counts['frames_per_second']:.3g} frames/s on {size} rank(s)); converged {counts['converged']}, "
        f"not converged {counts['not_converged']}, failed {counts['failed']}; {skipped} skipped")
    return counts


def _bisection_tasks(writer: ISWriter, refine_dr: float) -> list[int]:
    """Pending frames to quench next: one inside each interval between consecutive quenched frames
    whose inherent structures differ by more than ``refine_dr`` (or cannot be compared)."""
    status = writer.status
    have = np.flatnonzero((status == CONVERGED) | (status == NOT_CONVERGED))
    lengths, per = writer.lengths, writer.periodicity
    tasks = []
    prev_k, prev_x = None, None
    for k in have:
        x = writer.positions(k)
        if prev_k is not None and k - prev_k > 1:
            d = _min_image(x - prev_x, lengths, per)
            d -= d.mean(axis=0)
            changed = not np.isfinite(d).all() or float(np.sqrt(np.sum(d * d))) > refine_dr \
                or status[k] != CONVERGED or status[prev_k] != CONVERGED
            if changed:
                pending = np.flatnonzero(status[prev_k + 1:k] == 0) + prev_k + 1
                if pending.size:
                    mid = (prev_k + k) / 2
                    tasks.append(int(pending[np.argmin(np.abs(pending - mid))]))
        prev_k, prev_x = k, x
    return tasks


def _check_restart(out: Path, steps, ref, ff_text, settings, nf_noise, replicas, amplitude, seed) -> None:
    import json

    import h5py

    from glassmodes.landscape.isfile import check_format

    with h5py.File(out, "r", locking=False) as f:
        check_format(f, out)
        problems = []
        if int(f.attrs["natoms"]) != ref.natoms or not np.array_equal(f["ids"][()], ref.ids):
            problems.append("atoms differ")
        if int(f.attrs["nframes"]) != len(steps) or not np.array_equal(f["step"][()], steps):
            problems.append(f"frames differ ({int(f.attrs['nframes'])} stored, {len(steps)} in the dump)")
        if f.attrs["forcefield"] != ff_text:
            problems.append("force field differs")
        if json.loads(f.attrs["quench_settings"]) != json.loads(json.dumps(settings.as_dict(), sort_keys=True)):
            problems.append("quench settings differ")
        noise = json.loads(f.attrs["noise"])
        if (noise["frames"] != nf_noise.tolist() or noise["replicas"] != int(replicas)
                or noise["amplitude"] != float(amplitude) or noise["seed"] != int(seed)):
            problems.append("noise-floor settings differ")
        if not np.allclose(f["box"].attrs["boxlo"], ref.boxlo) or not np.allclose(f["box"].attrs["boxhi"], ref.boxhi):
            problems.append("box differs")
    if problems:
        raise ISFileError(f"{out} exists but was made from other inputs ({'; '.join(problems)}): remove it or "
                          "choose another output name")
