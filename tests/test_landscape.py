"""Inherent-structure trajectories and rearrangement events (glassmodes.landscape, issue 7).

Small and fast: a 108-atom FCC crystal and a 128-atom binary IPL glass (seed 004's potential),
a few MD frames each, and synthetic IS trajectories with planted hops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glassmodes.landscape.driver import quench_trajectory
from glassmodes.landscape.dump import DumpError, DumpFile
from glassmodes.landscape.events import EventAnalysis, displacement_field, fit_far_field, minimum_image, n_rearr
from glassmodes.landscape.isfile import ISFileError, ISTrajectory, read_is_trajectory
from glassmodes.landscape.overlaps import overlap_a, overlap_c
from glassmodes.landscape.quench import CONVERGED, NOT_CONVERGED, QuenchSettings, read_forcefield
from glassmodes.lammps_session import open_lammps

REPO = Path(__file__).resolve().parents[1]
FF_GLASS = REPO / "inputs" / "forcefields" / "seed004-ipl12.ff"
FF_FCC = REPO / "inputs" / "forcefields" / "seed004-fcc.ff"
DECK = REPO / "inputs" / "is_trajectory.lmp"


def _run_deck(tmp: Path, name: str, variables: dict) -> Path:
    dump = tmp / f"{name}.dump"
    lmp = open_lammps()
    try:
        for k, v in {**variables, "dump": str(dump)}.items():
            lmp.command(f"variable {k} index {v}")
        lmp.file(str(DECK))
    finally:
        lmp.close()
    return dump


@pytest.fixture(scope="module")
def fcc_dump(tmp_path_factory) -> Path:
    """FCC crystal, 3x3x3 cells (108 atoms), T = 1e-2, 11 frames every 20 steps."""
    tmp = tmp_path_factory.mktemp("fcc")
    return _run_deck(tmp, "fcc", {"start": "fcc", "ncell": 3, "ff": FF_FCC, "T": 0.01, "t_nvt": 2, "nsteps": 200,
                                  "seed": 5})


@pytest.fixture(scope="module")
def glass_dump(tmp_path_factory) -> Path:
    """128-atom seed-004 glass (fast quench of a random start), T = 0.1, 9 frames every 20 steps.

    This trajectory hops A -> B between frames 2 and 3 and back between frames 4 and 5."""
    tmp = tmp_path_factory.mktemp("glass")
    data = tmp / "glass.data"
    lmp = open_lammps()
    try:
        length = (128 / 1.015) ** (1 / 3)
        for line in ["units lj", "atom_style atomic", "atom_modify map yes", f"region box block 0 {length} 0 {length} 0 {length}",
                     "create_box 2 box", "create_atoms 1 random 64 11 NULL overlap 0.6", "create_atoms 2 random 64 12 NULL overlap 0.6"]:
            lmp.command(line)
        lmp.file(str(FF_GLASS))
        lmp.command("minimize 0 1e-6 2000 20000")
        lmp.command(f"write_data {data}")
    finally:
        lmp.close()
    return _run_deck(tmp, "glass", {"start": "data", "data": data, "ff": FF_GLASS, "T": 0.1, "t_nvt": 2,
                                    "nsteps": 160, "seed": 3})


@pytest.fixture(scope="module")
def glass_is(glass_dump, tmp_path_factory) -> Path:
    """The glass trajectory quenched serially, every frame, with a noise-floor measurement."""
    out = tmp_path_factory.mktemp("glass_is") / "one.h5"
    quench_trajectory(glass_dump, FF_GLASS, out, noise_frames=1, noise_replicas=1)
    return out


def _quench(dump, out, ff=FF_GLASS, **kw):
    kw.setdefault("noise_frames", 0)
    return quench_trajectory(dump, ff, out, **kw)


# ------------------------------------------------------------------------------------------------
# quench: rank independence, restart, crystal
# ------------------------------------------------------------------------------------------------

def test_quench_rank_independent(glass_dump, glass_is, tmp_path):
    """The IS of a frame does not depend on the number of ranks (1 vs 2, positions to 1e-8)."""
    one = glass_is
    two = tmp_path / "two.h5"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("GLASSMODES_UNDER_MPIRUN", None)
    proc = subprocess.run([sys.executable, "-m", "glassmodes.cli.main", "is-trajectory", str(glass_dump),
                           "--forcefield", str(FF_GLASS), "-o", str(two), "--np", "2", "--noise-frames", "1",
                           "--noise-replicas", "1"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "on 2 rank(s)" in proc.stderr
    a, b = read_is_trajectory(one), read_is_trajectory(two)
    assert np.all(a.status == CONVERGED) and np.array_equal(a.status, b.status)
    for k in range(a.nframes):
        assert np.max(np.abs(a.frame(k) - b.frame(k))) <= 1e-8
    assert np.allclose(a.energy, b.energy, rtol=1e-12, atol=0)
    assert np.allclose(a.noise_distance, b.noise_distance, rtol=1e-6, atol=1e-14)
    assert np.all(a.fmax <= 1e-10)
    # T(t) of Eq. (2) and the instantaneous Phi(t) come with the frames
    assert np.all((a.md_temperature > 0.02) & (a.md_temperature < 0.3))
    assert np.all(a.md_energy > a.energy)
    ea = EventAnalysis().compute(a)
    assert [e.frame for e in ea.events] == [3, 5]


def test_stride_with_bisection_finds_the_same_events(glass_dump, glass_is, tmp_path):
    """Every 4th frame, then bisection of changed intervals: fewer quenches, the same events."""
    out = tmp_path / "stride.h5"
    counts = _quench(glass_dump, out, stride=4)
    full = EventAnalysis().compute(read_is_trajectory(glass_is)).events
    sparse = EventAnalysis().compute(read_is_trajectory(out)).all_events
    assert counts["quenched"] < len(DumpFile(glass_dump)) and counts["rounds"] > 1
    assert [(e.frame, e.frame_before) for e in sparse] == [(e.frame, e.frame_before) for e in full]
    assert all(not e.flagged for e in sparse)
    assert [e.n_rearr for e in sparse] == pytest.approx([e.n_rearr for e in full], rel=1e-8)


def test_unresolved_lag_is_flagged(glass_dump, tmp_path):
    """Without the bisection (only frames 0, 4, 8 quenched) a change over 4 Delta t is not an event."""
    from glassmodes.landscape import driver

    out = tmp_path / "coarse.h5"
    orig = driver._bisection_tasks
    driver._bisection_tasks = lambda writer, dr: []
    try:
        _quench(glass_dump, out, stride=4)
    finally:
        driver._bisection_tasks = orig
    ea = EventAnalysis().compute(read_is_trajectory(out))
    assert ea.events == [] and [e.frame for e in ea.flagged_events] == [4, 8]   # A -> B, B -> A
    assert "not resolved" in ea.flagged_events[0].reason


def test_restart_skips_finished_frames(glass_dump, glass_is, tmp_path):
    out = tmp_path / "is.h5"
    seen = []

    def interrupt(msg):
        seen.append(msg)
        if sum(m.startswith("frame ") for m in seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _quench(glass_dump, out, progress=interrupt)
    partial = read_is_trajectory(out)
    assert np.count_nonzero(partial.status) == 3
    msgs = []
    counts = _quench(glass_dump, out, progress=msgs.append)
    assert counts["skipped"] == 3 and counts["quenched"] == partial.nframes - 3
    assert any("restart: 3 frame(s) already quenched" in m for m in msgs)
    a, b = read_is_trajectory(out), read_is_trajectory(glass_is)
    for k in range(a.nframes):
        assert np.array_equal(a.frame(k), b.frame(k))
    # other settings on the same output: refused
    with pytest.raises(ISFileError, match="quench settings differ"):
        _quench(glass_dump, out, settings=QuenchSettings(ftol=1e-9))


def test_restart_after_kill(glass_dump, glass_is, tmp_path):
    """A run killed with SIGKILL mid-way leaves a file that restarts and finishes identically."""
    import signal

    out = tmp_path / "killed.h5"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("GLASSMODES_UNDER_MPIRUN", None)
    proc = subprocess.Popen([sys.executable, "-m", "glassmodes.cli.main", "is-trajectory", str(glass_dump),
                             "--forcefield", str(FF_GLASS), "-o", str(out), "--noise-frames", "0"],
                            stderr=subprocess.PIPE, text=True, env=env)
    done = 0
    for line in proc.stderr:
        done += line.startswith("frame ")
        if done == 2:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    counts = _quench(glass_dump, out)
    assert counts["skipped"] >= 2 and counts["skipped"] + counts["quenched"] == 9
    a, b = read_is_trajectory(out), read_is_trajectory(glass_is)
    assert np.array_equal(a.status, b.status)
    for k in range(a.nframes):
        assert np.array_equal(a.frame(k), b.frame(k))


def test_crystal_no_events(fcc_dump, tmp_path):
    """FCC at T = 1e-2: every frame quenches to the same lattice; no event, noise far below threshold."""
    out = tmp_path / "fcc.h5"
    _quench(fcc_dump, out, ff=FF_FCC, noise_frames=2, noise_replicas=2)
    traj = read_is_trajectory(out)
    ea = EventAnalysis().compute(traj)
    assert ea.events == [] and ea.flagged_events == []
    assert np.nanmax(ea.dr) < 1e-8
    assert np.nanmax(np.abs(ea.basin_dphi)) < 1e-8
    assert 0 < ea.noise_floor < 1e-8 and ea.threshold == 1e-3


# ------------------------------------------------------------------------------------------------
# synthetic trajectories: planted hops
# ------------------------------------------------------------------------------------------------

def _planted(n=8000, length=20.0, a=2.7, r0=1.2, amp=0.15, scatter=0.2, seed=1, frames=7, hop=3, back=5):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, length, size=(n, 3))
    lengths = np.full(3, length)
    center = 0
    r = np.linalg.norm(minimum_image(x - x[center], lengths), axis=1)
    mag = amp * np.where(r < r0, 1.0, (np.maximum(r, r0) / r0) ** -a) * np.exp(scatter * rng.normal(size=n))
    u = rng.normal(size=(n, 3))
    field = mag[:, None] * u / np.linalg.norm(u, axis=1)[:, None]
    pos = np.repeat(x[None], frames, axis=0)
    pos[hop:back] += field
    pos += rng.normal(0, 1e-11, size=pos.shape)  # quench noise
    traj = ISTrajectory(times=0.1 * np.arange(frames), steps=20 * np.arange(frames), ids=np.arange(1, n + 1),
                        types=np.ones(n, dtype=np.int32), boxlo=np.zeros(3), boxhi=lengths,
                        periodicity=(True, True, True), energy=np.where((np.arange(frames) >= hop) & (np.arange(frames) < back), -0.4, -0.5),
                        status=np.ones(frames, dtype=np.int8), fmax=np.full(frames, 1e-11), positions=pos,
                        noise_distance=np.array([[2e-10, 3e-10]]))
    return traj, field


def test_planted_hop_detected():
    traj, field = _planted()
    ea = EventAnalysis().compute(traj)
    assert [e.frame for e in ea.events] == [3, 5]            # the hop and its reversal
    hop = ea.events[0]
    expected = field - field.mean(axis=0)
    assert hop.n_rearr == pytest.approx(n_rearr(expected), rel=1e-6)
    assert hop.dr == pytest.approx(np.linalg.norm(expected), rel=1e-6)
    assert hop.dphi == pytest.approx(0.1) and ea.events[1].dphi == pytest.approx(-0.1)
    assert abs(hop.fit.a - 2.7) < max(3 * hop.fit.a_err, 0.1) and hop.fit.a_err < 0.2
    assert hop.top_id == int(np.argmax(np.linalg.norm(field, axis=1))) + 1
    # basin exploration: away during the hop, back afterwards
    assert ea.basin_dr[4] == pytest.approx(hop.dr, rel=1e-6) and ea.basin_dr[6] < 1e-7
    # threshold: max(dr_min, 100 x median noise)
    assert ea.threshold == 1e-3 and ea.noise_floor == pytest.approx(2.5e-10)
    assert ea.rate == pytest.approx(2 / 0.6)


def test_planted_hop_across_boundary_and_wrapped_positions():
    """Minimum image: a hop whose positions jump by a box length is the same hop."""
    traj, field = _planted(n=4000, length=16.0)
    pos = traj.positions.copy()
    pos[4:, :10, 0] += 16.0                                  # unwrapped positions re-wrapped by one box
    t2 = ISTrajectory(**{**traj.__dict__, "positions": pos, "has_images": False})
    a = EventAnalysis().compute(traj).events
    b = EventAnalysis().compute(t2).events
    assert [e.frame for e in a] == [e.frame for e in b] == [3, 5]
    assert a[0].n_rearr == pytest.approx(b[0].n_rearr, rel=1e-9)


def test_unconverged_frames_flag_events():
    traj, _ = _planted(n=2000, length=12.0)
    status = traj.status.copy()
    status[3] = NOT_CONVERGED
    t2 = ISTrajectory(**{**traj.__dict__, "status": status})
    ea = EventAnalysis().compute(t2)
    assert [e.frame for e in ea.events] == [5]
    assert [e.frame for e in ea.flagged_events] == [3] and "frame 3: not converged" in ea.flagged_events[0].reason
    assert ea.summary()["unreliable_lags"] == 2


def test_far_field_fit_recovers_exponent():
    rng = np.random.default_rng(3)
    r = rng.uniform(1.0, 10.0, 50000)
    fit = fit_far_field(r, r ** -2.0 * np.exp(rng.normal(0, 0.4, r.size)), 2.0, 10.0)
    assert abs(fit.a - 2.0) < 4 * fit.a_err + 1e-3 and fit.a_err < 0.05


def test_overlaps_seed002():
    """c (Eq. 7) and a (Eq. 8): 1 for the mode itself, a >= c, sum_k c_k^2 = 1 over a complete basis."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    r = rng.normal(size=30)
    c = overlap_c(r, q)
    assert np.sum(c ** 2) == pytest.approx(1.0)
    assert overlap_c(q[:, 4], q)[4] == pytest.approx(1.0)
    assert overlap_a(q[:, 4], q)[4] == pytest.approx(1.0)
    assert np.all(overlap_a(r, q) >= c - 1e-12)


def test_displacement_field_drift_removed():
    before = np.zeros((5, 3))
    after = before + np.array([0.2, 0.0, 0.0])
    assert np.allclose(displacement_field(before, after, np.full(3, 10.0)), 0)
    assert np.isnan(n_rearr(np.zeros((5, 3))))


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------

def _edit_dump(src: Path, dst: Path, fn, frames: int | None = None) -> Path:
    text = src.read_text().split("ITEM: TIME\n")[1:]
    frames = [fn(i, "ITEM: TIME\n" + t) for i, t in enumerate(text[:frames])]
    dst.write_text("".join(frames))
    return dst


def test_dump_parsing_unwrapped_unsorted(tmp_path):
    """xu/yu/zu columns, atoms out of ID order, no ITEM: TIME: sorted, wrapped + image flags, time NaN."""
    frame = ("ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n3\nITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\n"
             "ITEM: ATOMS id type xu yu zu\n3 2 1.0 2.0 3.0\n1 1 12.5 -0.5 4.0\n2 1 5.0 5.0 5.0\n")
    path = tmp_path / "u.dump"
    path.write_text(frame.format(step=0) + frame.format(step=20))
    d = DumpFile(path)
    assert len(d) == 2
    f = d.frame(1)
    assert f.step == 20 and np.isnan(f.time) and f.has_images and f.velocities is None
    assert f.ids.tolist() == [1, 2, 3] and f.types.tolist() == [1, 1, 2]
    assert f.image[0].tolist() == [1, -1, 0] and np.allclose(f.x[0], [2.5, 9.5, 4.0])
    assert np.allclose(f.unwrapped[0], [12.5, -0.5, 4.0])
    path.write_text(frame.format(step=0).replace("xu yu zu", "xy yu zu"))
    with pytest.raises(DumpError, match="no positions"):
        DumpFile(path).frame(0)


def test_dump_without_velocities(glass_dump, tmp_path):
    def strip(i, frame):
        lines = frame.splitlines()
        out = []
        for line in lines:
            if line.startswith("ITEM: ATOMS"):
                out.append("ITEM: ATOMS id type x y z ix iy iz")
            elif line.startswith("ITEM") or len(line.split()) < 11:
                out.append(line)
            else:
                out.append(" ".join(line.split()[:8]))
        return "\n".join(out) + "\n"

    dump = _edit_dump(glass_dump, tmp_path / "nov.dump", strip, frames=2)
    with pytest.raises(DumpError, match="no velocities"):
        _quench(dump, tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()
    counts = _quench(dump, tmp_path / "y.h5", require_velocities=False)
    assert counts["converged"] == len(DumpFile(dump))
    assert np.all(np.isnan(read_is_trajectory(tmp_path / "y.h5").md_temperature))


def test_dump_with_changing_ids_or_box(glass_dump, tmp_path):
    def new_id(i, frame):
        return frame.replace("\n1 ", "\n999 ", 1) if i == 2 else frame

    with pytest.raises(DumpError, match=r"frame 2 .*atom IDs differ"):
        _quench(_edit_dump(glass_dump, tmp_path / "ids.dump", new_id), tmp_path / "a.h5")

    def new_box(i, frame):
        if i != 4:
            return frame
        lines = frame.splitlines()
        j = lines.index(next(l for l in lines if l.startswith("ITEM: BOX")))
        lo, hi = map(float, lines[j + 1].split())
        lines[j + 1] = f"{lo!r} {hi * 1.01!r}"
        return "\n".join(lines) + "\n"

    with pytest.raises(DumpError, match=r"frame 4 .*box"):
        _quench(_edit_dump(glass_dump, tmp_path / "box.dump", new_box), tmp_path / "b.h5")

    def truncate(i, frame):
        return "\n".join(frame.splitlines()[:-5]) + "\n" if i == 1 else frame

    with pytest.raises(DumpError, match="truncated"):
        _quench(_edit_dump(glass_dump, tmp_path / "trunc.dump", truncate), tmp_path / "c.h5")


def test_unconverged_quench_is_flagged(glass_dump, tmp_path):
    out = tmp_path / "bad.h5"
    counts = _quench(glass_dump, out, settings=QuenchSettings(maxiter=3, stages=("fire",)))
    assert counts["not_converged"] == counts["quenched"] > 0
    traj = read_is_trajectory(out)
    assert np.all(traj.status == NOT_CONVERGED)
    ea = EventAnalysis().compute(traj)
    assert ea.events == []                       # never counted...
    assert len(ea.flagged_events) > 0            # ...but listed with the reason
    assert ea.summary()["frames_not_converged"] == traj.nframes and ea.summary()["frames_pending"] == 0


def test_bad_forcefield(tmp_path, glass_dump):
    ff = tmp_path / "bad.ff"
    ff.write_text("mass * 1.0\nrun 100\n")
    with pytest.raises(ValueError, match="does not belong"):
        read_forcefield(ff)
    ff.write_text("mass * 1.0\n")
    with pytest.raises(ValueError, match="no pair_style"):
        _quench(glass_dump, tmp_path / "x.h5", ff=ff)
    hess_layout = tmp_path / "h.ff"
    hess_layout.write_text("units lj\natom_style atomic\nread_data\n" + FF_GLASS.read_text())
    assert "pair_style" in read_forcefield(hess_layout)


def test_events_cli_report(glass_is, tmp_path):
    """glassmodes events: table, time series, summary, figures, OVITO files, overlaps with the IS modes."""
    import csv

    from glassmodes.cli.main import main
    from glassmodes.modes import ModeFile

    out = tmp_path / "ev"
    assert main(["events", str(glass_is), "--out", str(out), "--quiet", "--compute-modes", "20", "--export", "all"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events"] == 2 and summary["frames"] == 9 and summary["events_with_modes"] == 2
    rows = list(csv.DictReader(open(out / "events.csv")))
    assert [int(r["frame"]) for r in rows] == [3, 5]
    for r in rows:
        assert 0 < float(r["best_c"]) <= float(r["best_a"]) <= 1 and 0 < float(r["captured_c2"]) <= 1 + 1e-9
        assert float(r["N_rearr"]) > 1
    for name in ("timeseries.csv", "dr_series.png", "dphi_vs_dr.png", "nrearr_vs_dr.png", "far_field_largest.png",
                 "basin.png", "msd.png", "overlaps_event_0.png", "event_0.xyz", "is_frame_2.modes.h5"):
        assert (out / name).is_file(), name
    # the event as a mode-like vector: a mode file the OVITO modifier reads, PR = N_rearr / N
    with ModeFile(out / "event_0.modes.h5") as mf:
        assert mf.nmodes == 1 and mf.participation_ratio[0] * mf.natoms == pytest.approx(float(rows[0]["N_rearr"]))
    xyz = (out / "event_0.xyz").read_text().splitlines()
    assert int(xyz[0]) == 128 and "dr:R:3" in xyz[1]
    assert sum(int(line.split()[-1]) for line in xyz[2:]) == int(np.ceil(float(rows[0]["N_rearr"])))
    # a mode file of another structure is refused for these events, with a warning
    msgs = []
    from glassmodes.landscape.report import EventReportOptions, write_event_report

    write_event_report(glass_is, tmp_path / "ev2", EventReportOptions(mode_files=(str(out / "is_frame_2.modes.h5"),),
                                                                       plots=False, export="none"), progress=msgs.append)
    rows2 = list(csv.DictReader(open(tmp_path / "ev2" / "events.csv")))
    assert rows2[0]["best_c"] == rows[0]["best_c"]          # frame 2 is event 0's starting IS ...
    assert rows2[1].get("best_c", "") == ""                 # ... not event 1's (frame 4)


def test_event_rendered_with_the_ovito_mode_machinery(glass_is, tmp_path):
    """The event as a mode-like vector goes through glassmodes.ovito's renderer unchanged."""
    pytest.importorskip("ovito")
    from glassmodes.landscape.report import EventReportOptions, write_event_report

    write_event_report(glass_is, tmp_path, EventReportOptions(plots=False, export="top", render=True))
    pngs = list(tmp_path.glob("event_*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 1000
