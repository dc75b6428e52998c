#include "fd_coloring.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"

#include "exchange.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

using CellEntry = SpatialColoring::CellEntry;

namespace {
struct CellRequest {
  int64_t cell;
  int32_t rank;
  int32_t pad;
};

struct CellReply {
  int64_t cell;
  int64_t tag;
  double mass;
  int32_t slot;
  int32_t pad;
};

inline int owner_of_cell(int64_t cell, int nprocs)
{
  // spread neighboring cells over ranks
  uint64_t h = (uint64_t) cell * 0x9E3779B97F4A7C15ULL;
  return (int) ((h >> 17) % (uint64_t) nprocs);
}
}    // namespace

SpatialColoring::SpatialColoring(LAMMPS *lmp, int groupbit, double range) : Pointers(lmp)
{
  dim = domain->dimension;
  const int nlocal = atom->nlocal;
  colors.assign(nlocal, -1);
  cellidx.assign(3 * nlocal, -1);
  for (int i = 0; i < nlocal; i++)
    if (atom->mask[i] & groupbit) cellidx[3 * i] = 0;    // group member, cell still unknown
  choose_grid(range);
  for (int i = 0; i < nlocal; i++)
    if (cellidx[3 * i] >= 0) cell_coords(atom->x[i], ncell, &cellidx[3 * i]);
  std::vector<CellEntry> owned = assign_slots();
  fetch_neighbor_cells(owned);
}

void SpatialColoring::cell_coords(const double *x, const int *n, int *c) const
{
  const double *h_inv = domain->h_inv;
  const double *lo = domain->boxlo;
  double dx = x[0] - lo[0], dy = x[1] - lo[1], dz = x[2] - lo[2];
  double lamda[3] = {h_inv[0] * dx + h_inv[5] * dy + h_inv[4] * dz, h_inv[1] * dy + h_inv[3] * dz,
                     h_inv[2] * dz};
  for (int d = 0; d < 3; d++) {
    if (n[d] == 1) {
      c[d] = 0;
      continue;
    }
    double f = lamda[d] - std::floor(lamda[d]);    // periodic dimension: wrap into [0,1)
    int k = (int) std::floor(f * n[d]);
    c[d] = std::min(std::max(k, 0), n[d] - 1);
  }
}

int64_t SpatialColoring::cell_id(const int *c) const
{
  return (int64_t) c[0] + (int64_t) ncell[0] * ((int64_t) c[1] + (int64_t) ncell[1] * c[2]);
}

// for each cell class of the grid n with periods per, the largest number of group atoms in one
// of its cells (collective)
std::vector<int> SpatialColoring::class_occupancy(const int *n, const int *per)
{
  const int nprocs = comm->nprocs;
  std::vector<int64_t> cells;
  std::vector<int> dest;
  for (int i = 0; i < atom->nlocal; i++) {
    if (cellidx[3 * i] < 0) continue;
    int c[3];
    cell_coords(atom->x[i], n, c);
    int64_t id = (int64_t) c[0] + (int64_t) n[0] * ((int64_t) c[1] + (int64_t) n[1] * c[2]);
    cells.push_back(id);
    dest.push_back(owner_of_cell(id, nprocs));
  }
  std::vector<int64_t> mine = exchange(world, dest, cells);
  std::sort(mine.begin(), mine.end());
  std::vector<int> occ(per[0] * per[1] * per[2], 0), global(occ.size(), 0);
  for (size_t k = 0; k < mine.size();) {
    size_t e = k;
    while (e < mine.size() && mine[e] == mine[k]) e++;
    int64_t id = mine[k];
    int c[3] = {(int) (id % n[0]), (int) ((id / n[0]) % n[1]), (int) (id / ((int64_t) n[0] * n[1]))};
    int cls = (c[0] % per[0]) + per[0] * ((c[1] % per[1]) + per[1] * (c[2] % per[2]));
    occ[cls] = std::max(occ[cls], (int) (e - k));
    k = e;
  }
  MPI_Allreduce(occ.data(), global.data(), (int) occ.size(), MPI_INT, MPI_MAX, world);
  return global;
}

void SpatialColoring::choose_grid(double range)
{
  // perpendicular widths of the (possibly triclinic) box: 1 / |row d of h_inv|
  const double *hi = domain->h_inv;
  double width[3] = {1.0 / std::sqrt(hi[0] * hi[0] + hi[5] * hi[5] + hi[4] * hi[4]),
                     1.0 / std::sqrt(hi[1] * hi[1] + hi[3] * hi[3]), 1.0 / std::fabs(hi[2])};
  const double separation = 2.0 * range;

  int best_n[3] = {1, 1, 1}, best_m[3] = {1, 1, 1};
  long best_colors = -1;
  std::vector<int> best_occ;
  for (int m : {1, 3, 5, 7}) {
    int n[3] = {1, 1, 1}, per[3] = {1, 1, 1};
    for (int d = 0; d < dim && m > 1; d++) {
      if (!domain->periodicity[d]) continue;
      int k = (int) std::floor(width[d] * (m - 1) / (separation * m) * (1.0 - 1e-12));
      if (k >= 1) {
        n[d] = k * m;
        per[d] = m;
      }
    }
    if (m > 1 && n[0] * n[1] * n[2] == 1) continue;
    std::vector<int> occ = class_occupancy(n, per);
    long total = 0;
    for (int o : occ) total += o;
    if (best_colors < 0 || total < best_colors) {
      best_colors = total;
      best_occ = occ;
      std::copy(n, n + 3, best_n);
      std::copy(per, per + 3, best_m);
    }
  }
  std::copy(best_n, best_n + 3, ncell);
  std::copy(best_m, best_m + 3, period);
  nclasses = period[0] * period[1] * period[2];
  first_color.assign(nclasses + 1, 0);
  for (int k = 0; k < nclasses; k++) first_color[k + 1] = first_color[k] + best_occ[k];
}

std::vector<CellEntry> SpatialColoring::assign_slots()
{
  const int nprocs = comm->nprocs, me = comm->me;
  std::vector<CellEntry> entries;
  std::vector<int> dest;
  for (int i = 0; i < atom->nlocal; i++) {
    if (cellidx[3 * i] < 0) continue;
    double mass = atom->rmass ? atom->rmass[i] : atom->mass[atom->type[i]];
    int64_t id = cell_id(&cellidx[3 * i]);
    entries.push_back({id, (int64_t) atom->tag[i], mass, me, i});
    dest.push_back(owner_of_cell(id, nprocs));
  }
  std::vector<CellEntry> owned = exchange(world, dest, entries);
  std::sort(owned.begin(), owned.end(), [](const CellEntry &a, const CellEntry &b) {
    return a.cell < b.cell || (a.cell == b.cell && a.tag < b.tag);
  });
  std::vector<int> back(owned.size());
  for (size_t k = 0; k < owned.size();) {
    size_t e = k;
    while (e < owned.size() && owned[e].cell == owned[k].cell) e++;
    for (size_t s = k; s < e; s++) back[s] = owned[s].rank;
    k = e;
  }

  // answer: which slot each of the sender's atoms got (in `local`, matched back by tag)
  std::vector<CellEntry> answers(owned);
  for (size_t k = 0; k < owned.size();) {
    size_t e = k;
    while (e < owned.size() && owned[e].cell == owned[k].cell) e++;
    for (size_t s = k; s < e; s++) answers[s].local = (int32_t) (s - k);
    k = e;
  }
  answers = exchange(world, back, answers);
  std::unordered_map<int64_t, int> slot_of;
  slot_of.reserve(answers.size());
  for (const auto &a : answers) slot_of[a.tag] = a.local;
  for (int i = 0; i < atom->nlocal; i++) {
    if (cellidx[3 * i] < 0) continue;
    const int *c = &cellidx[3 * i];
    int cls = (c[0] % period[0]) + period[0] * ((c[1] % period[1]) + period[1] * (c[2] % period[2]));
    colors[i] = first_color[cls] + slot_of.at((int64_t) atom->tag[i]);
  }
  return owned;
}

void SpatialColoring::fetch_neighbor_cells(const std::vector<CellEntry> &owned)
{
  const int nprocs = comm->nprocs, me = comm->me;
  // cells within half a period of this rank's atoms' cells, in every dimension
  int half[3];
  for (int d = 0; d < 3; d++) half[d] = (period[d] - 1) / 2;
  std::unordered_set<int64_t> own_cells, wanted;
  for (int i = 0; i < atom->nlocal; i++)
    if (cellidx[3 * i] >= 0) own_cells.insert(cell_id(&cellidx[3 * i]));
  for (int64_t id : own_cells) {
    int c[3] = {(int) (id % ncell[0]), (int) ((id / ncell[0]) % ncell[1]),
                (int) (id / ((int64_t) ncell[0] * ncell[1]))};
    for (int a = -half[0]; a <= half[0]; a++)
      for (int b = -half[1]; b <= half[1]; b++)
        for (int g = -half[2]; g <= half[2]; g++) {
          int t[3] = {((c[0] + a) % ncell[0] + ncell[0]) % ncell[0],
                      ((c[1] + b) % ncell[1] + ncell[1]) % ncell[1],
                      ((c[2] + g) % ncell[2] + ncell[2]) % ncell[2]};
          wanted.insert(cell_id(t));
        }
  }

  // ask the cells' owners for their members (`owned`: this rank's cells, sorted)
  std::unordered_map<int64_t, std::pair<size_t, size_t>> range_of;
  for (size_t k = 0; k < owned.size();) {
    size_t e = k;
    while (e < owned.size() && owned[e].cell == owned[k].cell) e++;
    range_of[owned[k].cell] = {k, e};
    k = e;
  }

  std::vector<CellRequest> requests;
  std::vector<int> dest;
  for (int64_t id : wanted) {
    requests.push_back({id, me, 0});
    dest.push_back(owner_of_cell(id, nprocs));
  }
  std::vector<CellRequest> asked = exchange(world, dest, requests);
  std::vector<CellReply> replies;
  dest.clear();
  for (const auto &q : asked) {
    auto it = range_of.find(q.cell);
    if (it == range_of.end()) continue;
    for (size_t s = it->second.first; s < it->second.second; s++) {
      replies.push_back({q.cell, owned[s].tag, owned[s].mass,
                         (int32_t) (s - it->second.first), 0});
      dest.push_back(q.rank);
    }
  }
  std::vector<CellReply> got = exchange(world, dest, replies);
  for (const auto &r : got) {
    auto &list = members[r.cell];
    if ((int) list.size() <= r.slot) list.resize(r.slot + 1);
    list[r.slot] = {r.tag, r.mass};
  }
}

bool SpatialColoring::column_atom(int j, int c, int64_t &tag, double &mass) const
{
  const int cls = (int) (std::upper_bound(first_color.begin(), first_color.end(), c) -
                        first_color.begin()) - 1;
  const int slot = c - first_color[cls];
  const int p[3] = {cls % period[0], (cls / period[0]) % period[1], cls / (period[0] * period[1])};
  const int *cj = &cellidx[3 * j];
  int t[3];
  for (int d = 0; d < 3; d++) {
    int delta = ((p[d] - cj[d]) % period[d] + period[d]) % period[d];
    if (delta > (period[d] - 1) / 2) delta -= period[d];
    t[d] = ((cj[d] + delta) % ncell[d] + ncell[d]) % ncell[d];
  }
  auto it = members.find(cell_id(t));
  if (it == members.end() || slot >= (int) it->second.size()) return false;
  tag = it->second[slot].tag;
  mass = it->second[slot].mass;
  return true;
}
