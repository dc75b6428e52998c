"""Convention check with a toy of known vertex: classical MD of mode 0 (w0 = 1) coupled to a band of
M modes (w in [0.3, 0.7]) through V_0lm = g, against the perturbation-theory rate of
glassmodes.anharmonic.decay_rates on the same toy.

U = sum_k w_k^2 q_k^2 / 2 + (g/2) q_0 (sum_l q_l)^2; velocity Verlet for R replicas started from the
harmonic Boltzmann distribution at kT; E_0(t) = (p_0^2 + w_0^2 q_0^2)/2; the energy ACF (known mean
<E_0> = kT subtracted) against exp(-Gamma t). Result (M = 200, g = 1.2e-4, kT = 1, R = 1000,
t = 2000, dt = 0.05): tau_MD = 98.0 at C = 1/e, tau_PT = 99.2; C(t) within 1 % of exp(-Gamma t)
up to t = 1.5 tau. A factor-2 error in the energy/amplitude convention would give 49.6 or 198.

usage: python bench/lifetimes_toy_md.py [g] [steps]
"""

import math
import sys
import time

import numpy as np
import scipy.sparse as sp

from glassmodes.anharmonic import Smearing, decay_rates
from glassmodes.anharmonic.md import EnergyAutocorrelation

M, A, B = 200, 0.3, 0.7
w = np.concatenate([A + (np.arange(M) + 0.5) * (B - A) / M, [1.0]])
kT = 1.0
g = float(sys.argv[1]) if len(sys.argv) > 1 else 1.2e-4
nsteps = int(sys.argv[2]) if len(sys.argv) > 2 else 40000


class Toy:
    dimension = 1

    def contract(self, u):
        a = np.zeros((M + 1, M + 1))
        a[:M, :M] = g * u[M]
        s = g * u[:M].sum()
        a[M, :M] = s
        a[:M, M] = s
        return sp.csr_matrix(a)


r = decay_rates(w, np.eye(M + 1), Toy(), kT, smearing=Smearing("gaussian", width=0.004), omega_min=0.0,
                targets=[M])
gamma = r.gamma[0]
rng = np.random.default_rng(1)
R, dt, every = 1000, 0.05, 10
q = rng.normal(size=(R, M + 1)) * np.sqrt(kT) / w
p = rng.normal(size=(R, M + 1)) * np.sqrt(kT)


def force(q):
    Q = q[:, :M].sum(axis=1)
    f = -(w**2) * q
    f[:, M] -= 0.5 * g * Q**2
    f[:, :M] -= (g * q[:, M] * Q)[:, None]
    return f


f = force(q)
rec = []
t0 = time.time()
for s in range(nsteps):
    p += 0.5 * dt * f
    q += dt * p
    f = force(q)
    p += 0.5 * dt * f
    if s % every == 0:
        rec.append(0.5 * (p[:, M] ** 2 + q[:, M] ** 2))
E = np.array(rec)
res = EnergyAutocorrelation(dt=dt * every, max_lag=300, blocks=1, mean=kT).compute(E).result
C = res.acf.mean(axis=1)
i = int(np.argmax(C < math.exp(-1)))
print(f"PT: Gamma = {gamma:.5g}, tau = {1 / gamma:.4g};  MD: tau(C = 1/e) = {res.t[i]:.4g} "
      f"(ratio {res.t[i] * gamma:.3f}); <E_0>/kT = {E.mean() / kT:.4f}; {time.time() - t0:.0f} s")
for tt in (0, 25, 50, 100, 150):
    j = int(tt / (dt * every))
    print(f"  t = {tt:4d}: C_MD = {C[j]:.4f}  exp(-Gamma t) = {math.exp(-gamma * tt):.4f}")
