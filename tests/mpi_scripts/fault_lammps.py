"""mpirun helper for tests/test_faults.py: LAMMPS set-ups the plugin must refuse, on N ranks.

usage: fault_lammps.py FOLDER OUT.json

Cases: per-atom masses from ``fix property/atom rmass`` without ``ghost yes`` (write_hessian,
write_fc3 method fd), the same with ``ghost yes`` (must work), an empty group (write_hessian,
write_fc3). Rank 0 writes {case: "ok" or the error message} and the files left in FOLDER.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mpi4py import MPI  # noqa: E402

from glassmodes.lammps_session import open_lammps  # noqa: E402
from systems import run  # noqa: E402


def crystal(rmass: str | None) -> list:
    """A perfect LJ FCC crystal (32 atoms, a minimum by symmetry) of two types with masses 1 and
    2, as type masses or as per-atom masses set through ``rmass`` (a fix property/atom)."""
    return ["units lj", "atom_style atomic", "atom_modify map yes", "lattice fcc 1.1",
            "region box block 0 2 0 2 0 2", "create_box 2 box", *([rmass] if rmass else []),
            "create_atoms 1 box", "set type 1 type/fraction 2 0.25 7", "mass 1 1.0", "mass 2 2.0",
            *(["set type 1 mass 1.0", "set type 2 mass 2.0"] if rmass else []),
            "pair_style lj/cut 2.5", "pair_coeff * * 1.0 1.0 2.5", "neighbor 0.3 bin"]


def main(argv):
    folder, out = Path(argv[1]), argv[2]
    cases = {
        "hessian_rmass_noghost": (crystal("fix pm all property/atom rmass"), "write_hessian all {}/Hn"),
        "fc3_rmass_noghost": (crystal("fix pm all property/atom rmass"), "write_fc3 all {}/Fn method fd"),
        "hessian_rmass_ghost": (crystal("fix pm all property/atom rmass ghost yes"), "write_hessian all {}/Hg"),
        "hessian_types": (crystal(None), "write_hessian all {}/Ht"),
        "hessian_empty": (crystal(None) + ["group nothing empty"], "write_hessian nothing {}/He"),
        "fc3_empty": (crystal(None) + ["group nothing empty"], "write_fc3 nothing {}/Fe"),
    }
    results = {}
    for name, (lines, command) in cases.items():
        lmp = open_lammps()
        try:
            run(lmp, lines + [command.format(folder)])
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001
            results[name] = str(exc)
        lmp.close()
    if MPI.COMM_WORLD.Get_rank() == 0:
        results["files"] = sorted(os.listdir(folder))
        with open(out, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv)
