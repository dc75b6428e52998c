"""mpirun helper for tests/test_faults.py: the slepc backend on a list of (corrupt) Hessians.

usage: fault_slepc.py CASES.json OUT.json

CASES.json: a list of {"name", "path", "k", "method"}. Every rank records what each solve gave
("ok" and the eigenvalues, or the error's class and message); rank 0 writes
{name: [outcome of rank 0, outcome of rank 1, ...]} to OUT.json. A rank left waiting in a
collective call would hang the run (the test's timeout fails it).
"""

import json
import sys

from mpi4py import MPI

from glassmodes.modes import solve_modes


def main(argv):
    comm = MPI.COMM_WORLD
    cases = json.loads(open(argv[1]).read())
    results = {}
    for case in cases:
        try:
            m = solve_modes(case["path"], backend="slepc", k=case["k"], comm=comm,
                            method=case.get("method", "krylovschur"))
            out = {"ok": True, "eigenvalues": None if m is None else m.eigenvalues.tolist(),
                   "notes": None if m is None else list(m.info.notes)}
        except Exception as exc:  # noqa: BLE001 - the test inspects every failure
            out = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        results[case["name"]] = comm.gather(out, root=0)
    if comm.Get_rank() == 0:
        with open(argv[2], "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv)
