#include "force_probe.h"

#include "angle.h"
#include "atom.h"
#include "bond.h"
#include "comm.h"
#include "dihedral.h"
#include "force.h"
#include "improper.h"
#include "pair.h"

#include <cstring>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

namespace {
// the bonded styles in a fixed order; nullptr where none is defined
void bonded_terms(Force *force, double **energy, double **virial, int k)
{
  switch (k) {
    case 0:
      if (force->bond) { *energy = &force->bond->energy; *virial = force->bond->virial; return; }
      break;
    case 1:
      if (force->angle) { *energy = &force->angle->energy; *virial = force->angle->virial; return; }
      break;
    case 2:
      if (force->dihedral) {
        *energy = &force->dihedral->energy;
        *virial = force->dihedral->virial;
        return;
      }
      break;
    case 3:
      if (force->improper) {
        *energy = &force->improper->energy;
        *virial = force->improper->virial;
        return;
      }
      break;
  }
  *energy = nullptr;
  *virial = nullptr;
}
}    // namespace

ForceProbe::ForceProbe(LAMMPS *lmp) : Pointers(lmp)
{
  nall = atom->nlocal + atom->nghost;
  x0.assign(&atom->x[0][0], &atom->x[0][0] + 3 * nall);
  f0.assign(&atom->f[0][0], &atom->f[0][0] + 3 * nall);
  Pair *pair = force->pair;
  if (pair) {
    pair_eng[0] = pair->eng_vdwl;
    pair_eng[1] = pair->eng_coul;
    std::memcpy(pair_virial, pair->virial, sizeof(pair_virial));
  }
  for (int k = 0; k < 4; k++) {
    double *e, *v;
    bonded_terms(force, &e, &v, k);
    if (e) {
      bonded_energy[k] = *e;
      std::memcpy(bonded_virial[k], v, sizeof(bonded_virial[k]));
    }
  }
}

ForceProbe::~ForceProbe()
{
  reset_positions();
  std::memcpy(&atom->f[0][0], f0.data(), sizeof(double) * 3 * nall);
  Pair *pair = force->pair;
  if (pair) {
    pair->eng_vdwl = pair_eng[0];
    pair->eng_coul = pair_eng[1];
    std::memcpy(pair->virial, pair_virial, sizeof(pair_virial));
  }
  for (int k = 0; k < 4; k++) {
    double *e, *v;
    bonded_terms(force, &e, &v, k);
    if (e) {
      *e = bonded_energy[k];
      std::memcpy(v, bonded_virial[k], sizeof(bonded_virial[k]));
    }
  }
}

void ForceProbe::reset_positions()
{
  std::memcpy(&atom->x[0][0], x0.data(), sizeof(double) * 3 * nall);
}

double ForceProbe::evaluate(bool energy)
{
  comm->forward_comm();
  const int nclear = force->newton ? atom->nlocal + atom->nghost : atom->nlocal;
  std::memset(&atom->f[0][0], 0, sizeof(double) * 3 * nclear);
  const int eflag = energy ? 1 : 0;
  double local = 0.0;
  if (force->pair) {
    force->pair->compute(eflag, 0);
    if (energy) local += force->pair->eng_vdwl + force->pair->eng_coul;
  }
  if (atom->molecular != Atom::ATOMIC) {
    if (force->bond) force->bond->compute(eflag, 0);
    if (force->angle) force->angle->compute(eflag, 0);
    if (force->dihedral) force->dihedral->compute(eflag, 0);
    if (force->improper) force->improper->compute(eflag, 0);
    for (int k = 0; k < 4 && energy; k++) {
      double *e, *v;
      bonded_terms(force, &e, &v, k);
      if (e) local += *e;
    }
  }
  if (force->newton) comm->reverse_comm();
  ncalls++;
  double total = 0.0;
  if (energy) MPI_Allreduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, world);
  return total;
}
