"""Peer check of the pseudo-harmonic modes against softspot 1.0.0 (Richard and Kapteijns; the public PHM
package of the Kapteijns thesis, ch. 4) on the same Hessian and seed.

softspot needs numpy.distutils + f2py + gfortran: build it in a throwaway Python 3.11 venv
(numpy<2, setuptools<60, wheel, scipy, macopt), `pip install --no-build-isolation ./softspot-1.0.0`
(the sdist lacks pyproject build requirements), e.g.
  python3.11 -m venv /tmp/softspot_peer/venv
  /tmp/softspot_peer/venv/bin/pip install "numpy<2" "setuptools<60" wheel scipy macopt
  /tmp/softspot_peer/venv/bin/pip install --no-build-isolation /tmp/softspot_peer/softspot-1.0.0
Then
  python bench/nonlinear_softspot_peer.py FC MODES --peer-python /tmp/softspot_peer/venv/bin/python \
      --seeds 0,1,2 --out bench/results/nonlinear_softspot_peer.json
FC: order-3/4 pair table, MODES: its harmonic mode file (seeds psi_k). softspot takes its pairs from the
Hessian's block sparsity (= the interacting pairs of the table for a pair potential; checked here).
Both codes are run from the same seed; ours with method lbfgs+map and map (tol 1e-10), softspot with
'cg' (macopt, tol 1e-10) and 'mapping' (tol 1e-10).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

PEER = r"""
import sys, json, numpy as np, scipy.sparse as sp
from softspot.softspot import SoftSpot
d = np.load(sys.argv[1])
H = sp.load_npz(sys.argv[2]).tocsr()
ndim, npart = int(d["ndim"]), int(d["npart"])
ss = SoftSpot(ndim=ndim, npart=npart, hessian=H)
out = {"pairs": ss.pair_lookup.tolist()}
for k in range(d["seeds"].shape[1]):
    for mode in ("cg", "mapping"):
        z = np.array(d["seeds"][:, k])
        r = ss.find(z, mode=mode)
        out[f"{k}:{mode}"] = {"pi": np.asarray(r["pi"]).tolist(), "kappa": float(r["kappa"]),
                              "iterations": int(r["iterations"]), "tol": float(r["tol"]),
                              "converged": bool(r["converged"])}
json.dump(out, open(sys.argv[3], "w"))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fc")
    ap.add_argument("modes")
    ap.add_argument("--peer-python", default="/tmp/softspot_peer/venv/bin/python")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default="bench/results/nonlinear_softspot_peer.json")
    a = ap.parse_args()
    from glassmodes.fc3 import read_fc3
    from glassmodes.modes import ModeFile
    from glassmodes.nonlinear import ForceConstantOperator, find_mode

    op = ForceConstantOperator(read_fc3(a.fc))
    idx = [int(s) for s in a.seeds.split(",")]
    with ModeFile(a.modes) as mf:
        seeds = np.stack([mf.mode(j) for j in idx], axis=1)
    res = {"fc": a.fc, "modes": a.modes, "natoms": op.natoms, "seeds": idx}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.savez(tmp / "in.npz", seeds=seeds, ndim=op.dimension, npart=op.natoms)
        sp.save_npz(tmp / "H.npz", sp.csr_matrix(op.matrix()))
        script = tmp / "peer.py"
        script.write_text(PEER)
        subprocess.run([a.peer_python, str(script), str(tmp / "in.npz"), str(tmp / "H.npz"), str(tmp / "out.json")],
                       check=True)
        peer = json.loads((tmp / "out.json").read_text())
    ours_pairs = {(int(i), int(j)) for i, j in zip(op._i, op._j) if j >= 0}
    peer_pairs = {tuple(p) for p in peer.pop("pairs")}
    res["pairs_identical"] = ours_pairs == peer_pairs
    res["npairs"] = [len(ours_pairs), len(peer_pairs)]
    for c, j in enumerate(idx):
        for method in ("lbfgs+map", "map"):
            m = find_mode(op, kind="phm", seed=seeds[:, c], method=method, tol=1e-10)
            for pm in ("cg", "mapping"):
                p = peer[f"{c}:{pm}"]
                pi = np.asarray(p["pi"])
                row = {"overlap": float(abs(pi @ m.pi) / np.linalg.norm(pi)),
                       "kappa_ours": m.kappa, "kappa_peer": p["kappa"],
                       "kappa_rel_diff": abs(m.kappa - p["kappa"]) / m.kappa,
                       "ours_residual": m.residual, "ours_converged": m.converged,
                       "peer_converged": p["converged"], "peer_iterations": p["iterations"], "peer_tol": p["tol"]}
                res[f"psi{j} ours:{method} peer:{pm}"] = row
                print(f"psi{j} ours:{method} peer:{pm}", json.dumps(row), flush=True)
    Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
