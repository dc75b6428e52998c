"""The stress-scaled Hessian M(delta) = M'' + (1 - delta) M' (Kapteijns, PhD thesis, Eqs. 5.3-5.4).

Independent route: a small periodic pair system built here by hand (analytic phi), whose
M'' = sum phi'' dr dr and M' = sum phi' d2r are assembled from *finite differences* of the pair
distances r_ij(x, e) (positions and Voigt strain), and whose full Hessian is the finite-difference
Hessian of the energy. The library's M(delta), and the terms (stress, C^B, Xi) of the scaled system,
must match these to 1e-6 (second differences with step 1e-4: truncation ~1e-8, round-off ~1e-8).
On a LAMMPS glass: M(0) is the Hessian file to round-off, and the relaxed moduli of M(delta) by
CG equal those from a dense eigendecomposition of M(delta) to 1e-8.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassmodes.elastic import CGSolver, ElasticError, ModeSolver, relaxed_elastic, terms_from_hessian
from glassmodes.elastic.tensors import moduli
from glassmodes.elastic.terms import (PairTable, check_delta, force_term_matrix, scale_force_term,
                                      stress_scaled_hessian, terms_from_pairs, voigt_pairs)

RC, AMP = 1.4, 3.0


def phi(r):
    """phi(r) = A (rc - r)^4 - 0.2 A (rc - r)^3 (r < rc): phi' changes sign, so M' is indefinite."""
    s = np.clip(RC - r, 0, None)
    return AMP * (s ** 4 - 0.2 * s ** 3)


def dphi(r):
    s = RC - r
    return AMP * (-4 * s ** 3 + 0.6 * s ** 2)


def ddphi(r):
    s = RC - r
    return AMP * (12 * s ** 2 - 1.2 * s)


class PairSystem:
    """N atoms at random positions in a periodic cube (square) of side 3, pairs within rc < L/2."""

    def __init__(self, dim, n=7, seed=5, side=3.0):
        rng = np.random.default_rng(seed)
        self.dim, self.n, self.side = dim, n, side
        self.x = rng.uniform(0, side, size=(n, dim))
        i, j, shifts = [], [], []
        for a in range(n):
            for b in range(a + 1, n):
                dx = self.x[b] - self.x[a]
                shift = -side * np.round(dx / side)
                if np.linalg.norm(dx + shift) < RC:
                    i.append(a), j.append(b), shifts.append(shift)
        self.i, self.j, self.shift = np.array(i), np.array(j), np.array(shifts)
        assert self.i.size >= n          # enough pairs for a meaningful test
        r = self.x[self.j] - self.x[self.i] + self.shift
        dist = np.linalg.norm(r, axis=1)
        self.pairs = PairTable(self.i, self.j, r, dphi(dist), ddphi(dist))
        self.volume = side ** dim
        self.vp = voigt_pairs(dim)

    def distances(self, v):
        """r_ij of all pairs for the variables v = (x flattened, Voigt strain e): r^2 = D.(I + 2 eta).D."""
        nd = self.n * self.dim
        x = v[:nd].reshape(self.n, self.dim)
        eta = np.zeros((self.dim, self.dim))
        for k, (a, b) in enumerate(self.vp):
            if a == b:
                eta[a, a] = v[nd + k]
            else:
                eta[a, b] = eta[b, a] = 0.5 * v[nd + k]        # engineering shear e = 2 eta_ab
        D = x[self.j] - x[self.i] + self.shift
        return np.sqrt(np.einsum("pa,ab,pb->p", D, np.eye(self.dim) + 2 * eta, D))

    def variables(self):
        return np.concatenate([self.x.ravel(), np.zeros(len(self.vp))])

    def fd_parts(self, h=1e-4):
        """(M''-like, M'-like) quadratic forms in (x, e) from finite differences of r: sum phi'' g g, sum phi' d2r."""
        v0 = self.variables()
        m = v0.size
        r0 = self.distances(v0)
        grad = np.zeros((m, r0.size))
        hess = np.zeros((m, m, r0.size))
        for a in range(m):
            ea = np.zeros(m)
            ea[a] = h
            grad[a] = (self.distances(v0 + ea) - self.distances(v0 - ea)) / (2 * h)
            hess[a, a] = (self.distances(v0 + ea) - 2 * r0 + self.distances(v0 - ea)) / h ** 2
            for b in range(a):
                eb = np.zeros(m)
                eb[b] = h
                val = (self.distances(v0 + ea + eb) - self.distances(v0 + ea - eb) - self.distances(v0 - ea + eb)
                       + self.distances(v0 - ea - eb)) / (4 * h * h)
                hess[a, b] = hess[b, a] = val
        stiff = np.einsum("p,ap,bp->ab", ddphi(r0), grad, grad)
        force = np.einsum("p,abp->ab", dphi(r0), hess)
        first = np.einsum("p,ap->a", dphi(r0), grad)        # dU/dv (for the stress)
        return stiff, force, first

    def fd_energy_hessian(self, h=1e-4):
        v0 = self.variables()
        nd = self.n * self.dim
        U = lambda v: float(np.sum(phi(self.distances(v))))
        H = np.zeros((nd, nd))
        for a in range(nd):
            for b in range(a + 1):
                ea, eb = np.zeros(v0.size), np.zeros(v0.size)
                ea[a], eb[b] = h, h
                H[a, b] = H[b, a] = (U(v0 + ea + eb) - U(v0 + ea - eb) - U(v0 - ea + eb) + U(v0 - ea - eb)) / (4 * h * h)
        return H


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


@pytest.fixture(scope="module", params=[2, 3], ids=["2d", "3d"])
def system(request):
    s = PairSystem(request.param)
    s.parts = s.fd_parts()
    s.H = s.fd_energy_hessian()
    return s


def test_hessian_split_vs_finite_differences(system):
    """M' (library) = sum phi' d2r (FD of r); M(0) = H; M(1) = sum phi'' dr dr; M(0.4) in between."""
    s = system
    nd = s.n * s.dim
    stiff, force = s.parts[0][:nd, :nd], s.parts[1][:nd, :nd]
    assert rel(stiff + force, s.H) < 1e-6                      # the FD split adds up to the FD Hessian
    assert rel(force_term_matrix(s.pairs, s.n).toarray(), force) < 1e-6
    assert np.linalg.norm(force) > 0.1 * np.linalg.norm(stiff)  # the test is not blind to M'
    assert rel(stress_scaled_hessian(s.H, s.pairs, 0.0).toarray(), s.H) == 0.0
    assert rel(stress_scaled_hessian(s.H, s.pairs, 1.0).toarray(), stiff) < 1e-6
    assert rel(stress_scaled_hessian(s.H, s.pairs, 0.4).toarray(), stiff + 0.6 * force) < 1e-6


@pytest.mark.parametrize("delta", [0.0, 0.35, 1.0])
def test_scaled_terms_vs_finite_differences(system, delta):
    """Stress, C^B and Xi of the scaled system = the (x, e) blocks of sum phi'' dr dr + (1 - delta) phi' d2r.

    Also the unrelaxed simple-shear modulus C^B_xyxy + sigma_yy = (1/V) d2/dgamma2 of the scaled form
    along x += gamma y (a second FD route), which fixes how the stress enters G_thesis under delta.
    """
    s = system
    nd = s.n * s.dim
    stiff, force, first = s.parts
    Q = stiff + (1 - delta) * force
    stress, born, xi = terms_from_pairs(scale_force_term(s.pairs, delta), s.n, s.volume)
    assert rel(born, Q[nd:, nd:] / s.volume) < 1e-6
    assert rel(xi, Q[:nd, nd:]) < 1e-6
    sig_voigt = np.array([stress[a, b] for a, b in s.vp])
    ref = first[nd:] / s.volume                                 # (1/V) dU/de, unscaled
    assert np.max(np.abs(sig_voigt - (1 - delta) * ref)) < 1e-6 * np.max(np.abs(ref))
    # simple shear x += gamma y
    D0 = s.x[s.j] - s.x[s.i] + s.shift

    def r_of(g):
        F = np.eye(s.dim)
        F[0, 1] = g
        return np.linalg.norm(D0 @ F.T, axis=1)

    h = 1e-4
    r0 = r_of(0.0)
    d1 = (r_of(h) - r_of(-h)) / (2 * h)
    d2 = (r_of(h) - 2 * r0 + r_of(-h)) / h ** 2
    g_fd = float(np.sum(ddphi(r0) * d1 ** 2 + (1 - delta) * dphi(r0) * d2)) / s.volume
    g_lib = moduli(born, stress)["G_thesis"]
    scale = float(np.sum(np.abs(ddphi(r0)) * d1 ** 2 + np.abs(dphi(r0) * d2))) / s.volume   # G may nearly cancel
    assert abs(g_lib - g_fd) < 1e-6 * scale


def test_delta_refusals(system):
    for bad in (-0.1, 1.5, "x"):
        with pytest.raises(ElasticError, match="delta"):
            check_delta(bad)
    with pytest.raises(ElasticError, match="0 <= delta <= 1"):
        stress_scaled_hessian(system.H, system.pairs, 2.0)


@pytest.fixture(scope="module")
def ka2d(tmp_path_factory, plugin):
    from glassmodes.io.hessian import read_hessian
    from glassmodes.lammps_session import open_lammps
    from systems import ka_glass, run

    folder = tmp_path_factory.mktemp("delta")
    lmp = open_lammps()
    run(lmp, ka_glass(64, dimension=2, ftol=1e-13))
    lmp.command(f"write_hessian all {folder / 'H'} mass no")
    lmp.close()
    return folder / "H", read_hessian(folder / "H")


def test_relaxed_delta_cg_vs_dense_and_cli(ka2d, tmp_path):
    """Relaxed C of M(delta): CG = dense pseudo-inverse of M(delta) (1e-8); delta = 0 = plain; the CLI agrees."""
    import json

    from glassmodes.cli.main import main
    from glassmodes.elastic.terms import pairs_from_hessian

    path, h = ka2d
    pairs, _ = pairs_from_hessian(h)
    assert rel(stress_scaled_hessian(h.matrix, pairs, 0.0).toarray(), h.matrix.toarray()) == 0.0
    plain = relaxed_elastic(terms_from_hessian(h), CGSolver(h.matrix, 2, rtol=1e-12))
    same = relaxed_elastic(terms_from_hessian(h, delta=0.0), CGSolver(stress_scaled_hessian(h.matrix, pairs, 0.0), 2,
                                                                       rtol=1e-12))
    assert rel(same.C, plain.C) < 1e-14
    delta = 0.3
    M = stress_scaled_hessian(h.matrix, pairs, delta)
    lam, vec = np.linalg.eigh(M.toarray())
    assert lam[2] > 0                                  # M(0.3) of this glass is stable (2 translations)
    t = terms_from_hessian(h, delta=delta)
    assert t.meta["delta"] == delta and np.allclose(t.stress, (1 - delta) * terms_from_hessian(h).stress)
    cg = relaxed_elastic(t, CGSolver(M, 2, rtol=1e-12))
    dense = relaxed_elastic(t, ModeSolver(lam[2:], vec[:, 2:], np.ones(h.natoms), 2))
    assert rel(cg.C, dense.C) < 1e-8
    assert rel(cg.C, plain.C) > 1e-3                   # delta changes the answer
    out = tmp_path / "d.json"
    assert main(["elastic", str(path), "--delta", str(delta), "-o", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["delta"] == delta and rel(res["C"], cg.C) < 1e-8
    assert main(["dipoles", str(path), "--delta", str(delta), "--pairs", "3", "-o", str(tmp_path / "k.json")]) == 0


def test_delta_cli_refusals(ka2d, tmp_path, capsys):
    from glassmodes.cli.main import main

    path, _ = ka2d
    assert main(["elastic", str(path), "--delta", "1.5", "-o", str(tmp_path / "x.json")]) == 2
    assert "glassmodes elastic: error:" in capsys.readouterr().err and not (tmp_path / "x.json").exists()
    assert main(["elastic", str(path), "--delta", "0.2", "--petsc", "-o", str(tmp_path / "x.json")]) == 2
    assert "CG route only" in capsys.readouterr().err


def test_addforce_ipl_glass(tmp_path, plugin):
    """`fix addforce` of +-eps d_ij + CG minimization = eps H^+ d to 1e-6 on a thesis IPL glass (B6.4).

    eps = 1e-3: the error of the central difference is the minimizer's absolute floor (~1e-13 in the
    positions at ftol 1e-12), so it falls as 1/eps; the O(eps^2) nonlinearity is not visible up to
    eps = 2e-3 on the N = 400 glass (bench/elastic_addforce.py, docs/elasticity.md). At eps = 1e-4
    that glass gave 1.3e-6.
    """
    from glassmodes.elastic.dipoles import dipole_vectors, random_pairs
    from glassmodes.elastic.lammps_fd import dipole_displacement
    from glassmodes.elastic.terms import pairs_from_hessian
    from glassmodes.hessian_job import find_forcefield
    from glassmodes.io.hessian import read_hessian
    from glassmodes.lammps_session import open_lammps
    from glassmodes.prepare import prepare

    meta = prepare("thesis-ipl10-2d", n=100, seed=3, out_dir=tmp_path,
                   overrides={"T_liquid": "2.0", "rate": "0", "t_equil": "5"})[0]
    data = tmp_path / "thesis-ipl10-2d-N100-s3.data"
    assert meta["largest_force"] < 1e-10
    lmp = open_lammps()
    for line in find_forcefield(data).read_text().splitlines():
        lmp.command(f"read_data {data}" if line.split()[:1] == ["read_data"] else line)
    lmp.command(f"write_hessian all {tmp_path / 'H'} mass no")
    h = read_hessian(tmp_path / "H")
    pairs, _ = pairs_from_hessian(h)
    lam, vec = np.linalg.eigh(h.matrix.toarray())
    assert lam[2] > 0
    V, L = vec[:, 2:], lam[2:]
    for k in random_pairs(pairs, 2, seed=4):
        D = dipole_vectors(pairs, h.natoms, [k])[:, 0]
        z = V @ ((V.T @ D) / L)
        eps = 1e-3
        u = dipole_displacement(lmp, int(h.atoms["id"][pairs.i[k]]), int(h.atoms["id"][pairs.j[k]]), eps=eps,
                                ftol=1e-12, maxiter=50000)
        assert rel(u, eps * z) < 1e-6
    lmp.close()
