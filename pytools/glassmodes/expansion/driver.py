"""One sample or many: expansion of the selected modes, optional LAMMPS checks, samples over MPI ranks."""

from __future__ import annotations

import functools
import time

import numpy as np

from glassmodes.expansion.coefficients import ExpansionError, expand_modes, position_mismatch

CHECK_COLUMNS = ("lammps_b2", "lammps_b3", "lammps_b4", "lammps_rel_err", "lammps_fit_spread", "lammps_amplitude",
                 "lammps_crossing_free", "is2_energy", "is2_distinct", "is2_max_displacement", "is2_overlap",
                 "is2_max_force", "is2_error")


def write_fc4(data, output, forcefield=None, log=None, comm=None):
    """Write the order-4 pair table (``write_fc3 all OUTPUT order 4``) of a data file; returns ``output``.

    The force field is read as ``glassmodes hessian`` reads it (the ``.ff`` file beside the data
    file unless ``forcefield`` is given).
    """
    from glassmodes.expansion.lammps_check import open_structure

    lmp = open_structure(data, forcefield, comm, log)
    try:
        lmp.command(f"write_fc3 all {output} order 4")
    finally:
        lmp.close()
    return output


def expand_sample(modes_path, fc_path, sample: int = 0, data=None, forcefield=None, pr_max=0.27, omega_max=None,
                  below_band=False, below_qvm=False, check_lines: int | None = None, relax: bool = True, max_displacement=0.01,
                  ftol: float = 1e-10, log=None, lammps_comm=None) -> tuple[dict, dict]:
    """Expand the selected modes of one sample; with ``data``, check them against LAMMPS.

    Parameters
    ----------
    modes_path, fc_path : path
        Mode file (with eigenvectors) and order-4 force constants of the same structure; ``fc_path``
        may instead be the structure's LAMMPS data file (the table is then written to a temporary
        folder by :func:`write_fc4` and removed afterwards).
    data, forcefield : path, optional
        LAMMPS data file (and force-field file, default the ``.ff`` beside it) of that structure:
        line fits (:func:`glassmodes.expansion.lammps_check.line_fit`) for the ``check_lines``
        lowest-frequency selected modes (None: all) and every mode with a second well, and the
        relaxation from the second well (``relax``).
    lammps_comm : mpi4py communicator, optional
        Where the LAMMPS sessions run (None: serial, or MPI_COMM_WORLD under mpirun; a sample job
        inside an MPI run over samples passes ``MPI.COMM_SELF``).

    Returns
    -------
    (columns, info) : dict, dict
        Columns of :func:`expand_modes` plus ``sample`` and, with ``data``, the ``lammps_*`` and
        ``is2_*`` columns (NaN / "" where not checked); ``info``: selection and timings.
    """
    import tempfile
    from pathlib import Path

    from glassmodes.fc3 import read_fc3
    from glassmodes.hessian_job import is_data_file
    from glassmodes.modes import ModeFile

    t0 = time.perf_counter()
    with ModeFile(modes_path) as mf, tempfile.TemporaryDirectory(prefix="glassmodes-fc4-") as tmp:
        if is_data_file(Path(fc_path)):
            fc_path = write_fc4(fc_path, Path(tmp) / "F4", forcefield=forcefield, log=log, comm=lammps_comm)
        res = expand_modes(mf, read_fc3(fc_path), pr_max=pr_max, omega_max=omega_max, below_band=below_band,
                           below_qvm=below_qvm)
        omega_unit = mf.omega_unit
        natoms, dim, x_modes, box = mf.natoms, mf.dimension, np.asarray(mf.atoms["x"], float), mf.box
    cols = dict(res["columns"])
    k = len(cols["mode"])
    cols = {"sample": np.full(k, sample, dtype=np.int64), **cols}
    info = {"sample": sample, "modes": str(modes_path), "fc": str(fc_path), "selection": res["selection"],
            "omega_unit": omega_unit, "seconds_expand": time.perf_counter() - t0}
    if data is None:
        return cols, info
    from glassmodes.expansion.lammps_check import LammpsLine, line_fit, open_structure, relax_second_well

    t1 = time.perf_counter()
    nan = np.full(k, np.nan)
    chk = {"lammps_b2": nan.copy(), "lammps_b3": nan.copy(), "lammps_b4": nan.copy(), "lammps_rel_err": nan.copy(),
           "lammps_fit_spread": nan.copy(), "lammps_amplitude": nan.copy(),
           "lammps_crossing_free": np.zeros(k, bool), "is2_energy": nan.copy(), "is2_distinct": np.zeros(k, bool),
           "is2_max_displacement": nan.copy(), "is2_overlap": nan.copy(), "is2_max_force": nan.copy(),
           "is2_error": np.array([""] * k, dtype=object)}
    order = np.argsort(cols["omega"], kind="stable")
    lines = set(order[: (k if check_lines is None else check_lines)].tolist())
    lines |= set(np.nonzero(cols["has_second_well"])[0].tolist())
    line = LammpsLine(functools.partial(open_structure, data, forcefield, lammps_comm, log))
    try:
        if line.natoms != natoms:
            raise ExpansionError(f"{data} has {line.natoms} atoms, the mode file {natoms}")
        dx = position_mismatch(line.x0, x_modes, box, dim)
        if dx > 1e-6:
            raise ExpansionError(f"{data} is not the structure of {modes_path} (positions differ by up to {dx:.3g})")
        for c in sorted(lines):
            z = res["directions"][:, c]
            b = np.array([cols["b2"][c], cols["b3"][c], cols["b4"][c]])
            f = line_fit(line, z, max_displacement=max_displacement)
            chk["lammps_b2"][c], chk["lammps_b3"][c], chk["lammps_b4"][c] = f.b
            chk["lammps_rel_err"][c] = float(np.max(np.abs(f.b - b) / np.abs(b)))
            chk["lammps_fit_spread"][c] = float(np.max(np.abs(f.b - f.b_half) / np.abs(b)))
            chk["lammps_amplitude"][c] = f.amplitude
            chk["lammps_crossing_free"][c] = f.crossing_free
            if relax and cols["has_second_well"][c]:
                w = relax_second_well(line, z, cols["s_min2"][c], cols["asymmetry"][c], ftol=ftol)
                chk["is2_energy"][c] = w.energy
                chk["is2_distinct"][c] = w.distinct
                chk["is2_max_displacement"][c] = w.max_displacement
                chk["is2_overlap"][c] = w.overlap
                chk["is2_max_force"][c] = w.max_force
                chk["is2_error"][c] = w.error
    finally:
        line.close()
    chk["is2_error"] = chk["is2_error"].astype(str)
    cols.update(chk)
    info["lammps_checked"] = len(lines)
    info["seconds_lammps"] = time.perf_counter() - t1
    return cols, info


def expand_samples(samples: list[dict], comm=None, progress=None, **options) -> tuple[dict, list]:
    """Expand many samples, ``samples[i]`` = ``{"modes":, "fc":, "data": (optional)}``.

    With ``comm`` (mpi4py), rank ``r`` takes samples ``r, r + size, ...`` (each a serial job) and
    every rank returns the joined table, rows in sample order (identical for any number of ranks).
    """
    from glassmodes.expansion.ensemble import concatenate

    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    if comm is not None and "lammps_comm" not in options:
        from mpi4py import MPI

        options["lammps_comm"] = MPI.COMM_SELF      # one serial LAMMPS per sample job
    mine = []
    for i in range(rank, len(samples), size):
        s = samples[i]
        cols, info = expand_sample(s["modes"], s["fc"], sample=i, data=s.get("data"), forcefield=s.get("forcefield"),
                                   **options)
        mine.append((i, cols, info))
        if progress:
            progress(f"sample {i}: {len(cols['mode'])} modes selected "
                     f"({info['selection']['rule']}), {info.get('seconds_expand', 0):.1f} s"
                     + (f", LAMMPS checks {info['seconds_lammps']:.1f} s" if "seconds_lammps" in info else ""))
    if comm is not None and size > 1:
        mine = [x for part in comm.allgather(mine) for x in part]
    mine.sort(key=lambda x: x[0])
    return concatenate([c for _, c, _ in mine]), [info for _, _, info in mine]


__all__ = ["expand_sample", "expand_samples", "write_fc4", "CHECK_COLUMNS"]
