"""Under mpirun: read a data file, set the force field, write its elastic terms with given keywords.

usage: write_elastic_from_data.py DATA {ipl3|ipl2|sw} OUT [keyword value ...]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glassmodes.lammps_session import open_lammps  # noqa: E402
from systems import POTENTIALS, run  # noqa: E402
from test_elastic_plugin import IPL_PAIR  # noqa: E402

data, model, out, *keywords = sys.argv[1:]
lmp = open_lammps()
if model == "sw":
    setup = ["units metal", "atom_style atomic", "atom_modify map yes", f"read_data {data}",
             "pair_style sw", f"pair_coeff * * {POTENTIALS / 'Si.sw'} Si", "neighbor 1.0 bin"]
else:
    setup = ["units lj", f"dimension {model[-1]}", "atom_style atomic", "atom_modify map yes",
             f"read_data {data}", *IPL_PAIR, "neighbor 0.3 bin"]
run(lmp, [*setup, f"write_elastic all {out} {' '.join(keywords)}"])
lmp.close()
