"""Under mpirun: read a data file, set the force field, write its third-order force constants.

usage: write_fc3_from_data.py DATA {ka|sw} OUT [group "GROUP-STYLE ARGS"] [keyword value ...]
(`group "id 1:8"` writes the force constants of that group instead of all atoms)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glassmodes.lammps_session import open_lammps  # noqa: E402
from systems import KA_PAIR, POTENTIALS, run  # noqa: E402

data, model, out, *keywords = sys.argv[1:]
group = ["group sel " + keywords[1]] if keywords[:1] == ["group"] else ["group sel union all"]
if keywords[:1] == ["group"]:
    keywords = keywords[2:]
lmp = open_lammps()
units = "lj" if model == "ka" else "metal"
pair = KA_PAIR if model == "ka" else ["pair_style sw", f"pair_coeff * * {POTENTIALS / 'Si.sw'} Si"]
run(lmp, [f"units {units}", "atom_style atomic", "atom_modify map yes", f"read_data {data}",
          *pair, "neighbor 0.3 bin" if model == "ka" else "neighbor 1.0 bin",
          *group, f"write_fc3 sel {out} {' '.join(keywords)}"])
lmp.close()
