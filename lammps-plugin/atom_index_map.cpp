#include "atom_index_map.h"

#include "exchange.h"

#include <algorithm>

using namespace LAMMPS_NS::glassmodes;

namespace {
struct Query {
  int64_t tag;
  int64_t value;
  int32_t rank;
  int32_t pad;
};
}    // namespace

AtomIndexMap::AtomIndexMap(MPI_Comm comm_in, const std::vector<int64_t> &tags) : comm(comm_in)
{
  int me;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &nprocs);
  int64_t mymax = 0;
  for (auto t : tags) mymax = std::max(mymax, t);
  MPI_Allreduce(&mymax, &maxtag, 1, MPI_INT64_T, MPI_MAX, comm);

  std::vector<int> dest(tags.size());
  for (size_t k = 0; k < tags.size(); k++) dest[k] = owner(tags[k]);
  owned = exchange(comm, dest, tags);
  std::sort(owned.begin(), owned.end());
  int64_t n = (int64_t) owned.size();
  offset = 0;
  MPI_Exscan(&n, &offset, 1, MPI_INT64_T, MPI_SUM, comm);
  if (me == 0) offset = 0;
  MPI_Allreduce(&n, &total, 1, MPI_INT64_T, MPI_SUM, comm);
}

int AtomIndexMap::owner(int64_t tag) const
{
  return block_owner(tag - 1, maxtag, nprocs);
}

std::vector<int64_t> AtomIndexMap::lookup(const std::vector<int64_t> &tags) const
{
  int me;
  MPI_Comm_rank(comm, &me);
  std::vector<Query> q(tags.size());
  std::vector<int> dest(tags.size());
  for (size_t k = 0; k < tags.size(); k++) {
    q[k] = {tags[k], -1, me, 0};
    dest[k] = (tags[k] >= 1 && tags[k] <= maxtag) ? owner(tags[k]) : me;
  }
  std::vector<Query> asked = exchange(comm, dest, q);
  std::vector<int> back(asked.size());
  for (size_t k = 0; k < asked.size(); k++) {
    auto it = std::lower_bound(owned.begin(), owned.end(), asked[k].tag);
    if (it != owned.end() && *it == asked[k].tag) asked[k].value = offset + (it - owned.begin());
    back[k] = asked[k].rank;
  }
  std::vector<Query> answers = exchange(comm, back, asked);
  std::unordered_map<int64_t, int64_t> found;
  found.reserve(answers.size());
  for (const auto &a : answers) found[a.tag] = a.value;
  std::vector<int64_t> index(tags.size());
  for (size_t k = 0; k < tags.size(); k++) index[k] = found.at(tags[k]);
  return index;
}
