"""Under mpirun: read a data file, set the force field, write its Hessian with given keywords.

usage: write_hessian_from_data.py DATA {ka|sw} OUT [keyword value ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glassmodes.lammps_session import open_lammps  # noqa: E402
from systems import KA_PAIR, POTENTIALS, run  # noqa: E402

data, model, out, *keywords = sys.argv[1:]
lmp = open_lammps()
units = "lj" if model == "ka" else "metal"
pair = KA_PAIR if model == "ka" else ["pair_style sw", f"pair_coeff * * {POTENTIALS / 'Si.sw'} Si"]
run(lmp, [f"units {units}", "atom_style atomic", "atom_modify map yes", f"read_data {data}",
          *pair, "neighbor 0.3 bin" if model == "ka" else "neighbor 1.0 bin",
          f"write_hessian all {out} {' '.join(keywords)}"])
lmp.close()
