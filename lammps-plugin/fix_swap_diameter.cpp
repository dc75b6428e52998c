#include "fix_swap_diameter.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "pair.h"
#include "update.h"
#include "utils.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace LAMMPS_NS;

FixSwapDiameter::FixSwapDiameter(LAMMPS *lmp, int narg, char **arg) : Fix(lmp, narg, arg)
{
  if (narg < 7) utils::missing_cmd_args(FLERR, "fix swap/diameter", error);
  nevery = utils::inumeric(FLERR, arg[3], false, lmp);
  nattempt = utils::inumeric(FLERR, arg[4], false, lmp);
  temperature = utils::numeric(FLERR, arg[5], false, lmp);
  const int seed = utils::inumeric(FLERR, arg[6], false, lmp);
  if (nevery <= 0) error->all(FLERR, "fix swap/diameter: N must be > 0, not {}", arg[3]);
  if (nattempt < 0) error->all(FLERR, "fix swap/diameter: M must be >= 0, not {}", arg[4]);
  if (!(temperature >= 0.0))
    error->all(FLERR, "fix swap/diameter: T must be >= 0, not {}", arg[5]);
  if (seed <= 0) error->all(FLERR, "fix swap/diameter: seed must be > 0, not {}", arg[6]);
  if (narg > 7) error->all(FLERR, "fix swap/diameter: unknown keyword {}", arg[7]);
  if (!atom->radius_flag)
    error->all(FLERR, "fix swap/diameter needs per-atom diameters (atom_style sphere)");

  rng.seed(static_cast<std::uint64_t>(seed));
  vector_flag = 1;
  size_vector = NVECTOR;
  global_freq = 1;
  extvector = 0;
}

int FixSwapDiameter::setmask()
{
  return FixConst::PRE_FORCE;
}

void FixSwapDiameter::init()
{
  if (!force->pair) error->all(FLERR, "fix swap/diameter needs a pair style");
  if (!force->pair->single_enable)
    error->all(FLERR, "fix swap/diameter: pair style {} has no single() to compute pair energies",
               force->pair_style);
  if (atom->map_style == Atom::MAP_NONE)
    error->all(FLERR, "fix swap/diameter needs an atom map (atom_modify map yes before the box "
                      "is created)");
  neighbor->add_request(this, NeighConst::REQ_FULL);
}

void FixSwapDiameter::init_list(int, NeighList *ptr)
{
  list = ptr;
}

double FixSwapDiameter::uniform()
{
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

void FixSwapDiameter::collect_candidates()
{
  const int ntypes = atom->ntypes;
  local_of_type.assign(ntypes + 1, std::vector<int>());
  const int *mask = atom->mask;
  const int *type = atom->type;
  for (int i = 0; i < atom->nlocal; i++)
    if (mask[i] & groupbit) local_of_type[type[i]].push_back(i);
  std::vector<bigint> count(ntypes + 1);
  for (int t = 0; t <= ntypes; t++) count[t] = static_cast<bigint>(local_of_type[t].size());
  total_of_type.assign(ntypes + 1, 0);
  offset_of_type.assign(ntypes + 1, 0);
  MPI_Allreduce(count.data(), total_of_type.data(), ntypes + 1, MPI_LMP_BIGINT, MPI_SUM, world);
  MPI_Exscan(count.data(), offset_of_type.data(), ntypes + 1, MPI_LMP_BIGINT, MPI_SUM, world);
  if (comm->me == 0) std::fill(offset_of_type.begin(), offset_of_type.end(), 0);
}

int FixSwapDiameter::locate(int type, bigint index) const
{
  const bigint first = offset_of_type[type];
  if (index < first || index >= first + static_cast<bigint>(local_of_type[type].size())) return -1;
  return local_of_type[type][index - first];
}

// Change of the pair energy when atom i (local) takes diameter snew, its partners keeping theirs.
// Images of `other` (the swap partner) are skipped: s_ij is symmetric in s_i, s_j, so their pair
// energy does not change. Periodic images of i itself change both sizes and count half (a full
// list holds the pair i-i' twice).
double FixSwapDiameter::local_delta(int i, double snew, tagint other)
{
  double **x = atom->x;
  double *radius = atom->radius;
  const int *type = atom->type;
  const tagint *tag = atom->tag;
  Pair *pair = force->pair;
  double **cutsq = pair->cutsq;
  const double *special_lj = force->special_lj;
  const double rold = radius[i];
  const double rnew = 0.5 * snew;
  const int itype = type[i];

  // find i in the list: ilist holds local atoms in list order, with i at position i for
  // perpetual full lists built over all local atoms
  int ii = i;
  if (ii >= list->inum || list->ilist[ii] != i) {
    ii = -1;
    for (int m = 0; m < list->inum; m++)
      if (list->ilist[m] == i) {
        ii = m;
        break;
      }
    if (ii < 0) error->one(FLERR, "fix swap/diameter: atom {} is not in the neighbor list", tag[i]);
  }
  const int *jlist = list->firstneigh[ii];
  const int jnum = list->numneigh[ii];
  double delta = 0.0, fforce;
  for (int jj = 0; jj < jnum; jj++) {
    int k = jlist[jj];
    const double factor_lj = special_lj[k >> SBBITS & 3];
    k &= NEIGHMASK;
    if (factor_lj == 0.0 || tag[k] == other) continue;
    const double dx = x[i][0] - x[k][0], dy = x[i][1] - x[k][1], dz = x[i][2] - x[k][2];
    const double rsq = dx * dx + dy * dy + dz * dz;
    const int ktype = type[k];
    if (rsq >= cutsq[itype][ktype]) continue;
    const double eold = pair->single(i, k, itype, ktype, rsq, 1.0, factor_lj, fforce);
    if (tag[k] == tag[i]) {
      const double rk = radius[k];
      radius[i] = radius[k] = rnew;
      const double enew = pair->single(i, k, itype, ktype, rsq, 1.0, factor_lj, fforce);
      radius[i] = rold;
      radius[k] = rk;
      delta += 0.5 * (enew - eold);
    } else {
      radius[i] = rnew;
      const double enew = pair->single(i, k, itype, ktype, rsq, 1.0, factor_lj, fforce);
      radius[i] = rold;
      delta += enew - eold;
    }
  }
  return delta;
}

void FixSwapDiameter::set_diameter(tagint tag, double diameter)
{
  double *radius = atom->radius;
  for (int m = atom->map(tag); m >= 0; m = atom->sametag[m]) radius[m] = 0.5 * diameter;
}

// Swaps happen right before the force computation: positions of local and ghost atoms are
// current, the neighbor list is valid, and the forces of this step see the new sizes.
void FixSwapDiameter::pre_force(int)
{
  if (update->ntimestep % nevery) return;
  collect_candidates();
  const int ntypes = atom->ntypes;
  bigint ngroup = 0;
  for (int t = 1; t <= ntypes; t++) ngroup += total_of_type[t];
  if (ngroup < 2) return;
  const double *radius = atom->radius;
  const tagint *tag = atom->tag;

  for (int m = 0; m < nattempt; m++) {
    const double u1 = uniform(), u2 = uniform(), u3 = uniform();
    stats[0] += 1.0;
    // first atom: uniform over the group; second: uniform over the others of its type
    bigint g = std::min(ngroup - 1, static_cast<bigint>(u1 * static_cast<double>(ngroup)));
    int t = 1;
    while (g >= total_of_type[t]) g -= total_of_type[t++];
    const bigint nt = total_of_type[t];
    if (nt < 2) {    // no partner: the identity move, always accepted
      stats[1] += 1.0;
      stats[3] += 1.0;
      continue;
    }
    bigint h = std::min(nt - 2, static_cast<bigint>(u2 * static_cast<double>(nt - 1)));
    if (h >= g) h++;
    const int li = locate(t, g), lj = locate(t, h);
    double buf[4] = {0.0, 0.0, 0.0, 0.0};    // s_i, s_j, tag_i, tag_j (owners contribute)
    if (li >= 0) {
      buf[0] = 2.0 * radius[li];
      buf[2] = static_cast<double>(tag[li]);
    }
    if (lj >= 0) {
      buf[1] = 2.0 * radius[lj];
      buf[3] = static_cast<double>(tag[lj]);
    }
    MPI_Allreduce(MPI_IN_PLACE, buf, 4, MPI_DOUBLE, MPI_SUM, world);
    const double si = buf[0], sj = buf[1];
    const auto tagi = static_cast<tagint>(buf[2]), tagj = static_cast<tagint>(buf[3]);
    double de = 0.0;
    if (si != sj) {
      double part = 0.0;
      if (li >= 0) part += local_delta(li, sj, tagj);
      if (lj >= 0) part += local_delta(lj, si, tagi);
      MPI_Allreduce(&part, &de, 1, MPI_DOUBLE, MPI_SUM, world);
    }
    const double p = de <= 0.0 ? 1.0 : (temperature > 0.0 ? std::exp(-de / temperature) : 0.0);
    stats[3] += p;
    if (u3 < p) {
      stats[1] += 1.0;
      stats[2] += de;
      if (si != sj) {
        set_diameter(tagi, sj);
        set_diameter(tagj, si);
      }
    }
  }
}

double FixSwapDiameter::compute_vector(int n)
{
  return stats[n];
}

double FixSwapDiameter::memory_usage()
{
  double bytes = 2.0 * (atom->ntypes + 1) * sizeof(bigint);
  for (const auto &v : local_of_type) bytes += static_cast<double>(v.capacity()) * sizeof(int);
  return bytes;
}
