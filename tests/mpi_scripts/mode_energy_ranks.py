"""Under mpirun: compute mode/energy of a seed-004 data file (with velocities), before and after
moving the subdomain boundaries (atoms migrate between ranks), and a short NVE run.

usage: mode_energy_ranks.py DATA PROJ OUT.npy
Saves rows: E_k at run 0, E_k after `balance` (same configuration), E_k after 20 NVE steps.
"""

import sys

import numpy as np

from glassmodes.lammps_session import open_lammps

data, proj, out = sys.argv[1:]
lmp = open_lammps()
for line in ["units lj", "atom_style atomic", "atom_modify map yes", "processors * 1 1",
             "pair_style ipl/smooth 12 1 2.5 powers all", f"read_data {data}", "neighbor 0.3 bin",
             f"compute me all mode/energy {proj}", "thermo_style custom step pe c_me[1]", "run 0"]:
    lmp.command(line)
rows = [np.array(lmp.numpy.extract_compute("me", 0, 1), dtype=float)]
nprocs = lmp.extract_setting("world_size")
if nprocs > 1:    # move the cuts: about a third of the atoms change rank
    cuts = " ".join(f"{(p + 0.5) / nprocs:.4f}" for p in range(nprocs - 1))
    lmp.command(f"balance 1.0 x {cuts}")
lmp.command("run 0")
rows.append(np.array(lmp.numpy.extract_compute("me", 0, 1), dtype=float))
lmp.command("timestep 0.005")
lmp.command("fix nve all nve")
lmp.command("run 20")
rows.append(np.array(lmp.numpy.extract_compute("me", 0, 1), dtype=float))
if lmp.extract_setting("world_rank") == 0:
    np.save(out, np.array(rows))
lmp.close()
