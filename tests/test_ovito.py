"""glassmodes.ovito: the mode modifier (by-ID matching, selection, animation, centering), headless
rendering checked on the picture's pixels, XYZ / dump export round trips, and the CLIs.

Test systems: a 200-atom Kob-Andersen glass (masses 1 and 2) from LAMMPS with its dense modes, and
a synthetic mode file on the same atoms holding a mode localized on 4 neighbouring atoms and a
delocalized random mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glassmodes.lammps_session import open_lammps
from glassmodes.modes import ModeFile, solve_modes, write_modes
from glassmodes.ovito import (
    DUMP_COLUMNS, ModeMatchError, core_mask, load_mode_frame, match_ids, write_mode_dump, write_mode_xyz,
)
from glassmodes.ovito.frame import minimum_image
from systems import ka_glass, run

N = 200
CORE = 4  # atoms of the synthetic localized mode


@pytest.fixture(scope="module")
def glass(tmp_path_factory):
    """LAMMPS data file, real mode file, synthetic mode file (localized = mode 0, delocalized = 1)."""
    tmp = tmp_path_factory.mktemp("ovito")
    lmp = open_lammps()
    try:
        run(lmp, ka_glass(N, masses=(1.0, 2.0), ftol=1e-10))
        lmp.command(f"write_data {tmp / 'glass.data'}")
        lmp.command(f"write_hessian all {tmp / 'H'}")
    finally:
        lmp.close()
    modes = solve_modes(tmp / "H", backend="dense")
    write_modes(tmp / "modes.h5", modes)

    atoms = modes.atoms
    box = modes.meta["box"]
    length = np.asarray(box["boxhi"]) - np.asarray(box["boxlo"])
    cell = np.column_stack([np.diag(length), box["boxlo"]])
    center = int(np.argmin(np.linalg.norm(atoms["x"] - (np.asarray(box["boxlo"]) + 0.5 * length), axis=1)))
    dist = np.linalg.norm(minimum_image(atoms["x"] - atoms["x"][center], cell, (True,) * 3), axis=1)
    core = np.argsort(dist)[:CORE]
    rng = np.random.default_rng(3)
    loc = 1e-4 * rng.standard_normal((N, 3))
    loc[core] = rng.standard_normal((CORE, 3)) * np.array([1.0, 1.0, 0.3])  # mostly in the xy plane
    deloc = rng.standard_normal((N, 3))
    vectors = np.column_stack([loc.ravel(), deloc.ravel()])
    vectors /= np.linalg.norm(vectors, axis=0)
    info = dataclasses.replace(modes.info, residual_norms=np.zeros(2))
    synth = dataclasses.replace(modes, omega=np.array([1.0, 2.0]), eigenvalues=np.array([1.0, 4.0]),
                                vectors=vectors, info=info)
    write_modes(tmp / "synthetic.h5", synth)
    return {"dir": tmp, "data": tmp / "glass.data", "modes": tmp / "modes.h5", "synthetic": tmp / "synthetic.h5",
            "core": np.sort(atoms["id"][core])}


def by_id(mode_file: Path, k: int, ids: np.ndarray):
    """Expected displacement and weight of mode k for particles with these IDs (from the file)."""
    with ModeFile(mode_file) as mf:
        e = mf.mode(k).reshape(-1, mf.dimension)
        atoms = mf.atoms
    row = {int(i): r for r, i in enumerate(atoms["id"])}
    rows = np.array([row[int(i)] for i in ids])
    return e[rows] / np.sqrt(atoms["mass"][rows])[:, None], (e[rows] ** 2).sum(axis=1), atoms[rows]


# -- the modifier ----------------------------------------------------------------------------------

def test_modifier_properties_match_mode_file_by_id(glass):
    from glassmodes.ovito import mode_pipeline

    with ModeFile(glass["modes"]) as mf:
        k = int(np.argmin(mf.participation_ratio[:30]))
        omega, pr = mf.frequencies[k], mf.participation_ratio[k]
    data = mode_pipeline(glass["modes"], k, data=glass["data"], select_fraction=0.1).compute()
    p = data.particles
    ids = np.asarray(p.identifiers)
    assert np.any(np.diff(ids) < 0), "the data file lists atoms out of ID order: the test needs that"
    u, w, atoms = by_id(glass["modes"], k, ids)
    assert np.ptp(atoms["mass"]) > 0  # masses 1 and 2: u differs from e
    assert np.max(np.abs(np.asarray(p["Mode Displacement"]) - u)) < 1e-12
    assert np.max(np.abs(np.asarray(p["Mode Weight"]) - w)) < 1e-12
    assert abs(np.sum(p["Mode Weight"]) - 1.0) < 1e-12
    assert np.max(np.abs(np.asarray(p.positions) - atoms["x"])) < 1e-12  # positions untouched
    sel = np.asarray(p["Selection"]) != 0
    assert sel.sum() == math.ceil(0.1 * N)
    assert w[sel].min() >= w[~sel].max()
    transparency = np.asarray(p["Vector Transparency"])
    assert transparency[sel].max() == 0 and transparency[~sel].min() == 1  # arrows on the top participants only
    assert data.attributes["Mode.index"] == k and data.attributes["Mode.omega"] == omega
    assert data.attributes["Mode.participation_ratio"] == pr and data.attributes["Mode.selected_count"] == sel.sum()
    vis = p["Mode Displacement"].vis
    assert vis is not None and vis.color_mapping_property == "Mode Weight"
    assert np.isclose(vis.scaling * np.linalg.norm(u, axis=1).max(), 1.5)  # arrow_scale 1.5: longest arrow 1.5
    # top participants at half their own radius, the others at a quarter (default radius: no Radius, no type radii)
    assert np.allclose(np.asarray(p["Radius"]), np.where(sel, 0.3, 0.2) * p.vis.radius)


def test_modifier_on_mode_file_atoms_and_negative_index(glass):
    from glassmodes.ovito import mode_pipeline

    data = mode_pipeline(glass["synthetic"], -1).compute()  # mode 1, positions from the mode file
    u, w, atoms = by_id(glass["synthetic"], 1, np.asarray(data.particles.identifiers))
    assert np.max(np.abs(np.asarray(data.particles["Mode Displacement"]) - u)) < 1e-12
    assert np.max(np.abs(np.asarray(data.particles.positions) - atoms["x"])) < 1e-12
    assert np.array_equal(np.asarray(data.particles["Mass"]), atoms["mass"])


def _static_pipeline(glass, edit):
    from ovito.io import import_file
    from ovito.pipeline import Pipeline, StaticSource

    from glassmodes.ovito import ModeModifier

    data = import_file(str(glass["data"])).compute()
    data = data.clone() if hasattr(data, "clone") else data
    edit(data)
    pipe = Pipeline(source=StaticSource(data=data))
    pipe.modifiers.append(ModeModifier(mode_file=str(glass["modes"]), mode=0))
    return pipe


def test_mismatched_particles_give_clear_errors(glass):
    def drop_one(d):
        d.particles_.delete_elements(np.arange(d.particles.count) == 7)

    def renumber(d):
        d.particles_.identifiers_[3] = 100000

    def no_ids(d):
        del d.particles_["Particle Identifier"]

    with pytest.raises(Exception, match="199 particles and the mode file 200 atoms"):
        _static_pipeline(glass, drop_one).compute()
    with pytest.raises(Exception, match="not in the mode file: 100000"):
        _static_pipeline(glass, renumber).compute()
    with pytest.raises(Exception, match="no identifiers"):
        _static_pipeline(glass, no_ids).compute()
    with pytest.raises(ModeMatchError, match="repeated"):
        match_ids(np.array([1, 2, 3]), np.array([1, 1, 3]))
    with pytest.raises(Exception, match="not stored|out of range"):
        from glassmodes.ovito import mode_pipeline

        mode_pipeline(glass["synthetic"], 5).compute()


def test_animation_along_the_mode(glass):
    from glassmodes.ovito import mode_pipeline

    pipe = mode_pipeline(glass["synthetic"], 0, data=glass["data"], animate=True, frames=8, amplitude=0.2)
    assert pipe.num_frames == 8
    x0 = pipe.compute(0)
    ids = np.asarray(x0.particles.identifiers)
    u, _, atoms = by_id(glass["synthetic"], 0, ids)
    assert np.max(np.abs(np.asarray(x0.particles.positions) - atoms["x"])) < 1e-12
    for f in (2, 5):
        xf = np.asarray(pipe.compute(f).particles.positions)
        step = xf - atoms["x"]
        expect = 0.2 * np.sin(2 * np.pi * f / 8) * u / np.linalg.norm(u, axis=1).max()
        assert np.max(np.abs(step - expect)) < 1e-12
    mod = pipe.modifiers[-1].delegate
    mod.frames = 5
    assert pipe.num_frames == 5
    mod.animate = False
    assert pipe.num_frames == 1


def test_center_core_wraps_the_core_into_the_middle(glass):
    from glassmodes.ovito import mode_pipeline

    plain = mode_pipeline(glass["synthetic"], 0, data=glass["data"]).compute()
    cent = mode_pipeline(glass["synthetic"], 0, data=glass["data"], center_core=True).compute()
    cell = np.asarray(cent.cell[...])
    middle = cell[:, 3] + 0.5 * cell[:, :3].sum(axis=1)
    pos = np.asarray(cent.particles.positions)
    w = np.asarray(cent.particles["Mode Weight"])
    core = core_mask(w)  # the fewest particles carrying half the weight
    assert core.sum() <= CORE
    center = (w[core, None] * pos[core]).sum(axis=0) / w[core].sum()
    assert np.linalg.norm(center - middle) < 1e-9
    frac = np.linalg.solve(cell[:, :3], (pos - cell[:, 3]).T).T
    assert frac.min() >= -1e-12 and frac.max() <= 1 + 1e-12  # wrapped into the shifted cell
    shift = np.linalg.solve(cell[:, :3], (pos - np.asarray(plain.particles.positions)).T).T
    assert np.max(np.abs(shift - np.round(shift))) < 1e-9  # moved by whole cell vectors only


# -- rendering, checked on the pixels ---------------------------------------------------------------

def _mask(img: np.ndarray, kind: str) -> np.ndarray:
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    if kind == "arrow":  # the arrows' red (0.85, 0.05, 0.05), shaded
        return (r > 0.3) & (g < 0.2) & (b < 0.2) & (r > 2.5 * np.maximum(g, b))
    if kind == "yellow":  # viridis at the largest weight (0.99, 0.91, 0.14)
        return (r > 0.6) & (g > 0.55) & (b < 0.35)
    raise ValueError(kind)


def _pixels(path: Path, kind: str) -> np.ndarray:
    img = np.asarray(Image.open(path).convert("RGB"), dtype=float) / 255.0
    rows, cols = np.nonzero(_mask(img, kind))
    return np.column_stack([cols, rows]).astype(float)


def test_render_arrows_sit_on_the_localized_core(glass, tmp_path):
    from glassmodes.ovito.render import render_mode

    size = (320, 240)
    arrow = 0.7  # longest arrow, distance units
    common = dict(data=glass["data"], size=size, select=0.1, view="box", camera_dir=(0, 0, -1), arrow_scale=arrow,
                  label=False, color_bar=False)
    loc = render_mode(glass["synthetic"], 0, tmp_path / "loc.png", **common)
    deloc = render_mode(glass["synthetic"], 1, tmp_path / "deloc.png", **common)
    assert loc.view == deloc.view == "box"
    assert Image.open(loc.path).size == size

    # the camera model is right: the opaque yellow sphere (largest weight) is where project() says
    frame = load_mode_frame(glass["synthetic"], 0)
    top_atom = frame.positions[np.argmax(frame.weight)]
    yellow = _pixels(loc.path, "yellow")
    assert len(yellow) > 20
    assert np.linalg.norm(yellow.mean(axis=0) - loc.camera.project(top_atom, size)[0]) < 4.0

    # the arrows: on the core, a small patch; a delocalized mode's arrows spread over the box
    red_loc, red_deloc = _pixels(loc.path, "arrow"), _pixels(deloc.path, "arrow")
    assert len(red_loc) > 50 and len(red_deloc) > 50
    scale = 0.5 * size[1] / loc.camera.fov  # pixels per distance unit
    arrow_px = arrow * scale  # longest arrow in pixels
    core_rows = np.isin(frame.ids, glass["core"])
    core_atoms_px = loc.camera.project(frame.positions[core_rows], size)
    core_px = core_atoms_px.mean(axis=0)
    # expected centroid of the arrow pixels: the arrows' projected midpoints, weighted by length
    # (up to what spheres in front hide: half an arrow's length of slack)
    u = frame.displacement[core_rows]
    umax = np.linalg.norm(frame.displacement, axis=1).max()
    tips_px = loc.camera.project(frame.positions[core_rows] + arrow * u / umax, size)
    length = np.linalg.norm(tips_px - core_atoms_px, axis=1)
    expected = ((core_atoms_px + tips_px) / 2 * length[:, None]).sum(axis=0) / length.sum()
    assert np.linalg.norm(red_loc.mean(axis=0) - expected) < 0.5 * arrow_px
    reach = np.max(np.linalg.norm(core_atoms_px - core_px, axis=1)) + arrow_px  # core radius + an arrow
    inside = lambda px: float(np.mean(np.linalg.norm(px - core_px, axis=1) < reach))  # noqa: E731
    tiles = lambda px: len({(int(x) // 16, int(y) // 16) for x, y in px})  # noqa: E731  16x16 tiles with arrows
    assert inside(red_loc) > 0.98 and inside(red_deloc) < 0.5
    assert tiles(red_deloc) > 2 * tiles(red_loc)
    # every arrow starts on a core atom: arrow pixels lie within an arrow's length of one
    nearest = np.min(np.linalg.norm(red_loc[:, None, :] - core_atoms_px[None, :, :], axis=2), axis=1)
    assert np.quantile(nearest, 0.98) < 1.1 * arrow_px

    # the core view zooms on the core: it sits in the middle and its arrows cover more pixels
    zoom = render_mode(glass["synthetic"], 0, tmp_path / "core.png", data=glass["data"], size=size, select=0.1,
                       view="auto", label=False, color_bar=False)
    assert zoom.view == "core"
    assert np.allclose(zoom.camera.project(zoom.core_center, size)[0], np.array(size) / 2, atol=1e-6)
    red_zoom = _pixels(zoom.path, "arrow")
    assert len(red_zoom) > 2 * len(red_loc)
    assert np.linalg.norm(red_zoom.mean(axis=0) - np.array(size) / 2) < 0.25 * size[1]


def test_render_label_color_bar_and_real_sizes(glass, tmp_path):
    """The label names mode, omega and PR; the colour bar is a viridis ramp (purple at the bottom,
    yellow at the top) at the right edge; per-particle radii of the structure are kept relative."""
    from ovito.io import export_file, import_file

    from glassmodes.ovito.render import render_mode

    size = (320, 240)
    common = dict(size=size, select=0.1, view="box", camera_dir=(0, 0, -1))
    res = render_mode(glass["synthetic"], 0, tmp_path / "lab.png", data=glass["data"], **common)
    frame = load_mode_frame(glass["synthetic"], 0)
    assert res.label.startswith(f"mode 0: \u03c9 = {frame.omega:.4g} rad/tau, PR = {frame.participation_ratio:.3g}")
    img = np.asarray(Image.open(res.path).convert("RGB"), dtype=float) / 255.0
    bar = img[:, int(0.85 * size[0]):]                       # right strip
    yellow, purple = _mask(bar, "yellow"), (bar[..., 2] > 0.25) & (bar[..., 0] < 0.35) & (bar[..., 1] < 0.15)
    assert yellow.sum() > 20 and purple.sum() > 20
    assert np.nonzero(yellow)[0].mean() < np.nonzero(purple)[0].mean()   # yellow above purple
    plain = render_mode(glass["synthetic"], 0, tmp_path / "plain.png", data=glass["data"], label=False,
                        color_bar=False, **common)
    bare = np.asarray(Image.open(plain.path).convert("RGB"), dtype=float) / 255.0
    corner = (slice(0, int(0.12 * size[1])), slice(0, int(0.6 * size[0])))   # the label's place
    dark = lambda a: int(np.sum(a[corner].max(axis=2) < 0.3))  # noqa: E731  black text pixels
    assert dark(img) > 30 + dark(bare)
    assert _mask(bare[:, int(0.85 * size[0]):], "yellow").sum() < yellow.sum() / 4

    # polydisperse: the top participant twice the others' radius -> about 4x its yellow area
    data = import_file(str(glass["data"])).compute()
    ids = np.asarray(data.particles.identifiers)
    radius = np.ones(data.particles.count)
    radius[ids == frame.ids[np.argmax(frame.weight)]] = 2.0
    data.particles_.create_property("Radius", data=radius)
    export_file(data, str(tmp_path / "poly.dump"), "lammps/dump",
                columns=["Particle Identifier", "Particle Type", "Position.X", "Position.Y", "Position.Z", "Radius"])
    uni = render_mode(glass["synthetic"], 0, tmp_path / "uni.png", data=glass["data"], label=False,
                      color_bar=False, **common)
    poly = render_mode(glass["synthetic"], 0, tmp_path / "poly.png", data=tmp_path / "poly.dump", label=False,
                       color_bar=False, **common)
    ratio = len(_pixels(poly.path, "yellow")) / len(_pixels(uni.path, "yellow"))
    assert 2.5 < ratio < 5.0


def test_arrows_visible_at_default_particle_radius(glass, tmp_path):
    """In a plain OVITO viewport at the default particle radius, the modifier's arrows show: it
    draws the top participants at half their radius and the others at a quarter (at scales 1 the
    arrows are hidden inside and behind the spheres)."""
    from ovito.vis import TachyonRenderer, Viewport

    from glassmodes.ovito import mode_pipeline

    def green_pixels(scale):
        pipe = mode_pipeline(glass["modes"], 0, data=glass["data"], arrow_coloring="uniform", particle_scale=scale[0],
                             context_scale=scale[1], context_transparency=scale[2])
        pipe.modifiers[-1].delegate.vector_vis.color = (0.0, 0.8, 0.0)
        pipe.add_to_scene()
        try:
            vp = Viewport(type=Viewport.Type.Ortho, camera_dir=(0, 0, -1))
            vp.zoom_all()
            path = tmp_path / f"s{scale[0]}.png"
            vp.render_image(size=(240, 240), filename=str(path), background=(1, 1, 1),
                            renderer=TachyonRenderer(ambient_occlusion=False, shadows=False))
        finally:
            pipe.remove_from_scene()
        img = np.asarray(Image.open(path).convert("RGB"), dtype=float) / 255.0
        return int(np.sum((img[..., 1] > 0.35) & (img[..., 1] > 1.5 * np.maximum(img[..., 0], img[..., 2]))))

    visible, hidden = green_pixels((0.3, 0.2, 0.6)), green_pixels((1.0, 1.0, 0.0))
    assert visible > 100 and visible > 2 * hidden


def test_render_animation(glass, tmp_path):
    """--animate: a GIF of one period, more than one distinct frame; a PNG name is refused."""
    png = tmp_path / "x.png"
    gif = tmp_path / "mode.gif"
    assert run_cli("render", [str(glass["synthetic"]), "--mode", "0", "--animate", "--frames", "4", "--size", "96",
                              "72", "-o", str(gif)]) == 0
    im = Image.open(gif)
    assert im.format == "GIF" and im.n_frames > 1 and im.size == (96, 72)
    with pytest.raises(ValueError, match="animation"):
        run_cli("render", [str(glass["synthetic"]), "--mode", "0", "--animate", "-o", str(png)])
    with pytest.raises(ValueError, match="still picture"):
        run_cli("render", [str(glass["synthetic"]), "--mode", "0", "-o", str(tmp_path / "y.gif")])
    assert not png.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["mode.gif"]


# -- export ----------------------------------------------------------------------------------------

def _read_xyz(path: Path):
    lines = path.read_text().splitlines()
    frames = []
    i = 0
    while i < len(lines):
        n = int(lines[i])
        comment = lines[i + 1]
        rows = [ln.split() for ln in lines[i + 2:i + 2 + n]]
        frames.append((comment, np.array([[float(x) for x in r] for r in rows])))
        i += 2 + n
    return frames


def _read_dump(path: Path):
    lines = path.read_text().splitlines()
    frames = []
    i = 0
    while i < len(lines):
        assert lines[i] == "ITEM: TIMESTEP"
        step = int(lines[i + 1])
        n = int(lines[i + 3])
        box = lines[i + 4]
        cols = lines[i + 8].split()[2:]
        rows = np.array([[float(x) for x in ln.split()] for ln in lines[i + 9:i + 9 + n]])
        frames.append((step, box, cols, rows))
        i += 9 + n
    return frames


def test_export_xyz_and_dump_round_trip(glass, tmp_path):
    from ovito.io import import_file

    ks = [0, 7]
    frames = [load_mode_frame(glass["modes"], k) for k in ks]
    write_mode_xyz(tmp_path / "m.xyz", frames)
    write_mode_dump(tmp_path / "m.dump", frames)

    for (comment, rows), f in zip(_read_xyz(tmp_path / "m.xyz"), frames):
        assert f"mode={f.index} " in comment and 'pbc="T T T"' in comment
        assert np.array_equal(rows[:, 4].astype(int), f.ids) and np.array_equal(rows[:, 0].astype(int), f.types)
        assert np.array_equal(rows[:, 1:4], f.positions) and np.array_equal(rows[:, 5], f.masses)
        e = rows[:, 6:9] * np.sqrt(rows[:, 5])[:, None]  # back to the mass-weighted eigenvector
        assert np.max(np.abs(e.ravel() - ModeFile(glass["modes"]).mode(f.index))) < 1e-15
        assert np.array_equal(rows[:, 9], f.weight)
    for (step, box, cols, rows), f in zip(_read_dump(tmp_path / "m.dump"), frames):
        assert step == f.index and tuple(cols) == DUMP_COLUMNS and box == "ITEM: BOX BOUNDS pp pp pp"
        assert cols[5:8] == ["Displacement.X", "Displacement.Y", "Displacement.Z"]
        assert np.array_equal(rows[:, 0].astype(int), f.ids)
        assert np.array_equal(rows[:, 5:8], f.displacement) and np.array_equal(rows[:, 8], f.weight)

    # OVITO reads both back, particle by particle (matched by ID)
    for name, disp, weight in (("m.xyz", "mode_displacement", "mode_weight"), ("m.dump", "Displacement", "weight")):
        pipe = import_file(str(tmp_path / name), multiple_frames=True)
        assert pipe.num_frames == 2
        for j, f in enumerate(frames):
            d = pipe.compute(j)
            ids = np.asarray(d.particles.identifiers)
            row = np.searchsorted(f.ids, ids)
            got = np.asarray(d.particles[disp])   # one vector property, no column mapping needed
            assert got.shape == (f.natoms, 3)
            assert np.max(np.abs(got - f.displacement[row])) < 1e-12
            e = got * np.sqrt(f.masses[row])[:, None]   # back to the eigenvector, by ID
            assert np.max(np.abs(e - f.eigenvector[row])) < 1e-12
            assert np.max(np.abs(np.asarray(d.particles[weight]) - f.weight[row])) < 1e-12
            assert np.max(np.abs(np.asarray(d.particles.positions) - f.positions[row])) < 1e-12
            assert np.allclose(np.asarray(d.cell[...]), f.cell, atol=1e-12)


def test_export_triclinic_and_2d_boxes(tmp_path):
    lmp = open_lammps()
    try:
        run(lmp, ka_glass(64, dimension=2, tilt=0.1, ftol=1e-10))
        lmp.command(f"write_hessian all {tmp_path / 'H'}")
    finally:
        lmp.close()
    write_modes(tmp_path / "m2.h5", solve_modes(tmp_path / "H", backend="dense", k=3))
    f = load_mode_frame(tmp_path / "m2.h5", 0)
    assert f.dimension == 2 and np.all(f.eigenvector[:, 2] == 0) and f.pbc == (True, True, False)
    assert f.cell[0, 1] > 0  # xy tilt
    write_mode_dump(tmp_path / "m2.dump", f)
    step, box, cols, rows = _read_dump(tmp_path / "m2.dump")[0]
    assert box == "ITEM: BOX BOUNDS xy xz yz pp pp ff"
    from ovito.io import import_file

    from glassmodes.ovito import mode_pipeline

    write_mode_xyz(tmp_path / "m2.xyz", f)
    for name in ("m2.dump", "m2.xyz"):  # tilt and origin (z from -0.5) read back by OVITO
        d = import_file(str(tmp_path / name)).compute()
        assert np.allclose(np.asarray(d.cell[...]), f.cell, atol=1e-12)
        assert tuple(d.cell.pbc) == (True, True, False)
    out = mode_pipeline(tmp_path / "m2.h5", 0).compute()
    assert out.cell.is2D
    assert np.all(np.asarray(out.particles["Mode Displacement"])[:, 2] == 0)


# -- command line ----------------------------------------------------------------------------------

def run_cli(module: str, argv: list[str]) -> int:
    import importlib

    mod = importlib.import_module(f"glassmodes.cli.{module}")
    p = argparse.ArgumentParser()
    mod.add_arguments(p)
    return mod.run(p.parse_args(argv))


def test_render_and_export_cli(glass, tmp_path, capsys):
    png = tmp_path / "mode.png"
    assert run_cli("render", [str(glass["synthetic"]), "--mode", "0", "-o", str(png), "--size", "160", "120",
                              "--select", "0.05"]) == 0
    assert "core view" in capsys.readouterr().out
    assert Image.open(png).size == (160, 120) and len(_pixels(png, "arrow")) > 20
    out = tmp_path / "modes.lammpstrj"
    assert run_cli("export_mode", [str(glass["synthetic"]), "--mode", "0", "1", "-o", str(out)]) == 0
    assert [fr[0] for fr in _read_dump(out)] == [0, 1]
    with pytest.raises(ValueError, match="--format"):
        run_cli("export_mode", [str(glass["synthetic"]), "--mode", "0", "-o", str(tmp_path / "x.txt")])
    from glassmodes.cli.main import build_parser

    build_parser().parse_args(["render", "m.h5", "--mode", "1", "-o", "x.png"])


def test_gui_script_defines_a_working_modifier(glass):
    """The file an OVITO Pro user loads into a Python script modifier defines a usable modifier."""
    import runpy

    from ovito.io import import_file
    from ovito.pipeline import ModifierInterface

    import glassmodes.ovito.gui_modifier as gui

    namespace = runpy.run_path(gui.__file__)
    cls = namespace["GlassmodesMode"]
    assert issubclass(cls, ModifierInterface)
    pipe = import_file(str(glass["data"]))
    pipe.modifiers.append(cls(mode_file=str(glass["synthetic"]), mode=1, select_fraction=0.5))
    data = pipe.compute()
    u, _, _ = by_id(glass["synthetic"], 1, np.asarray(data.particles.identifiers))
    assert np.max(np.abs(np.asarray(data.particles["Mode Displacement"]) - u)) < 1e-12
    assert int(np.sum(data.particles["Selection"])) == N // 2


def test_type_radii_from_a_data_file(tmp_path):
    """Per-type sizes sigma_ii / 2 from PairIJ Coeffs (write_data ... pair ij) or Pair Coeffs."""
    from glassmodes.ovito.render import lammps_type_radii

    ij = tmp_path / "ij.data"
    ij.write_text("LAMMPS data file\n\n2 atoms\n2 atom types\n\nPairIJ Coeffs # ipl/smooth\n\n"
                  "1 1 1.0 0.8110916595113637\n1 2 1.0 0.9848970151209417\n2 2 1.0 1.1587023707305197\n\n"
                  "Atoms # atomic\n\n1 1 0 0 0\n2 2 1 1 1\n")
    r = lammps_type_radii(ij)
    assert r.keys() == {1, 2}
    assert abs(r[1] - 0.5 * 0.8110916595113637) < 1e-15 and abs(r[2] / r[1] - 1 / 0.7) < 1e-12
    single = tmp_path / "ii.data"
    single.write_text("LAMMPS data file\n\n1 atoms\n1 atom types\n\nPair Coeffs # lj/cut\n\n1 1.0 1.0\n")
    assert lammps_type_radii(single) == {1: 0.5}
    none = tmp_path / "none.data"
    none.write_text("LAMMPS data file\n\n1 atoms\n1 atom types\n\nAtoms # atomic\n\n1 1 0 0 0\n")
    assert lammps_type_radii(none) is None
