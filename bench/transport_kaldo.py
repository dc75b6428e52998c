"""Peer check: Allen-Feldman/QHGK diffusivities and kappa of one glass, glassmodes vs kALDo.

kALDo is never a dependency: it runs in a throwaway virtual environment (python3 -m venv
/tmp/kaldo-venv && /tmp/kaldo-venv/bin/pip install kaldo). Three steps:

    .venv/bin/python bench/transport_kaldo.py export MODES HESSIAN DIR --eta 0.264   # glassmodes side
    /tmp/kaldo-venv/bin/python bench/transport_kaldo.py kaldo DIR                     # kALDo side
    .venv/bin/python bench/transport_kaldo.py compare DIR                             # the numbers
    (export ... --lifetimes pt.csv: QHGK with classical linewidths, kALDo b_mu = c Gamma_mu / 2 per mode)

Mapping (LJ units read as metal units: sigma = 1 A, eps = 1 eV, m = 1 amu-equivalent):
* kALDo takes the masses from the chemical symbols; every atom is written as H and the force
  constants as D_LJ x m_H (eV/A^2, m_H of the installed ASE), so that kALDo's dynamical matrix is D_LJ
  numerically; omega_kaldo [rad/ps] = c omega_LJ with c = sqrt(ftm2v_metal) = 98.2269.
* Allen-Feldman width: Gamma_mu = eta here <=> kALDo ``diffusivity_bandwidth = c eta / 2`` (its kernel
  has FWHM 2 (b_mu + b_nu); docs/transport.md). Classical (``is_classic=True``).
* kALDo's per-mode ``diffusivity`` is (1/3)(1/100) tr sum_nu D_munu in mm^2/s with D in A^2/ps:
  D_kaldo = c / 100 x D_LJ. Its conductivity, kB [J/K] x D [A^2/ps] / V [A^3] x 1e22 W/m/K, is
  1e22 kB c x kappa_LJ = 13.56 kappa_LJ.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

C = math.sqrt(1.0 / 1.0364269e-4)       # rad/ps per rad/t0 (metal ftm2v of LAMMPS)
M_H = 1.00794                            # ASE's mass of H


def export(modes, hessian, out, eta, lifetimes=None):
    import numpy as np

    from glassmodes.io.hessian import read_hessian
    from glassmodes.transport import Linewidths, compute_flux, conductivity

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    h = read_hessian(hessian)
    if not np.allclose(h.atoms["mass"], 1.0):
        raise SystemExit("this mapping assumes unit masses")
    n = h.natoms
    D = h.dynamical_matrix().toarray() * M_H
    np.save(out / "second.npy", D.reshape(1, n, 3, 1, n, 3))
    box = h.meta["box"]
    L = np.asarray(box["boxhi"]) - np.asarray(box["boxlo"])
    x = h.positions()
    with open(out / "replicated_atoms.xyz", "w") as f:
        f.write(f"{n}\n")
        f.write(f'Lattice="{L[0]} 0.0 0.0 0.0 {L[1]} 0.0 0.0 0.0 {L[2]}" Properties=species:S:1:pos:R:3 pbc="T T T"\n')
        for p in x:
            f.write(f"H {p[0]:.16e} {p[1]:.16e} {p[2]:.16e}\n")
    fp = compute_flux(modes, hessian)
    mapping = {"eta_lj": eta, "diffusivity_bandwidth": C * eta / 2, "c": C}
    if lifetimes is None:
        lw = Linewidths.constant(eta, fp.nmodes)
        T = 1.0
    else:        # QHGK with the classical linewidths at their temperature, kALDo b_mu = c Gamma_mu / 2 per mode
        from glassmodes.transport import load_linewidths

        lw = load_linewidths(lifetimes, fp)
        T = lw.reference_temperature
        g = lw.at(T)
        if (g <= 0).any():
            raise SystemExit("zero linewidths: kALDo has no floor, compare with positive linewidths only")
        ntrans = 3 * n - fp.nmodes
        mapping["diffusivity_bandwidth"] = [0.0] * ntrans + (C * g / 2).tolist()
    res = conductivity(fp, [T], lw)
    np.savez(out / "glassmodes.npz", omega=fp.omega, diffusivity=res.diffusivity[0], kappa_modal=res.kappa_modal[0],
             kappa=res.kappa[0], eta=eta)
    (out / "mapping.json").write_text(json.dumps(mapping))


def run_kaldo(folder):
    import numpy as np
    from kaldo.conductivity import Conductivity
    from kaldo.forceconstants import ForceConstants
    from kaldo.phonons import Phonons

    from ase.data import atomic_masses

    folder = Path(folder)
    mp = json.loads((folder / "mapping.json").read_text())
    # the installed ASE's mass of H (1.008 in recent versions, not 1.00794): rescale so that D = D_LJ exactly
    second = np.load(folder / "second.npy")
    np.save(folder / "second.npy", second * (float(atomic_masses[1]) / mp.get("m_H", M_H)))
    mp["m_H"] = float(atomic_masses[1])
    (folder / "mapping.json").write_text(json.dumps(mp))
    fc = ForceConstants.from_folder(str(folder), supercell=(1, 1, 1), format="numpy", only_second=True)
    ph = Phonons(forceconstants=fc, kpts=(1, 1, 1), is_classic=True, temperature=300, folder=str(folder / "kaldo"),
                 storage="memory")
    b = mp["diffusivity_bandwidth"]
    b = np.asarray(b)[None, :] if isinstance(b, list) else b
    cond = Conductivity(phonons=ph, method="qhgk", diffusivity_bandwidth=b, storage="memory")
    kappa = np.asarray(cond.conductivity).reshape(-1, 3, 3)
    diff = np.asarray(cond.diffusivity).reshape(-1)
    omega = np.asarray(ph.omega).reshape(-1)
    phys = np.asarray(ph.physical_mode).reshape(-1)
    np.savez(folder / "kaldo.npz", omega=omega, diffusivity=diff, kappa_modal=np.trace(kappa, axis1=1, axis2=2) / 3,
             physical=phys)


def compare(folder):
    import numpy as np

    folder = Path(folder)
    g = np.load(folder / "glassmodes.npz")
    k = np.load(folder / "kaldo.npz")
    phys = k["physical"].astype(bool)
    wk = k["omega"][phys] / C
    order = np.argsort(wk)
    wk = wk[order]
    dk = k["diffusivity"][phys][order] * 100 / C
    kk = k["kappa_modal"][phys][order] / (1.380649e-23 * 1e22 * C)
    m = min(wk.size, g["omega"].size)
    out = {
        "modes_glassmodes": int(g["omega"].size), "modes_kaldo": int(wk.size),
        "omega_max_rel_diff": float(np.abs(wk[:m] / g["omega"][:m] - 1).max()),
        "diffusivity_max_rel_diff": float(np.abs(dk[:m] / g["diffusivity"][:m] - 1).max()),
        "diffusivity_median_rel_diff": float(np.median(np.abs(dk[:m] / g["diffusivity"][:m] - 1))),
        "kappa_glassmodes": float(g["kappa"]), "kappa_kaldo_converted": float(kk.sum()),
        "kappa_rel_diff": float(kk.sum() / g["kappa"] - 1),
    }
    print(json.dumps(out, indent=1))
    (folder / "comparison.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "export":
        eta = float(sys.argv[sys.argv.index("--eta") + 1]) if "--eta" in sys.argv else 0.264
        lt = sys.argv[sys.argv.index("--lifetimes") + 1] if "--lifetimes" in sys.argv else None
        export(sys.argv[2], sys.argv[3], sys.argv[4], eta, lt)
    elif cmd == "kaldo":
        run_kaldo(sys.argv[2])
    elif cmd == "compare":
        compare(sys.argv[2])
    else:
        raise SystemExit(__doc__)
