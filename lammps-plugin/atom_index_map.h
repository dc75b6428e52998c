/* Dense matrix index of the atoms of a group: the k-th smallest atom ID gets index k.
   Built and queried with rendezvous exchanges: O(N/P) memory per rank, the same result for
   any number of ranks and any domain decomposition. */
#ifndef GLASSMODES_ATOM_INDEX_MAP_H
#define GLASSMODES_ATOM_INDEX_MAP_H

#include <mpi.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace LAMMPS_NS {
namespace glassmodes {

class AtomIndexMap {
 public:
  // tags: the atom IDs of this rank's local group atoms (each ID on exactly one rank)
  AtomIndexMap(MPI_Comm comm, const std::vector<int64_t> &tags);

  int64_t size() const { return total; }    // number of group atoms
  // matrix index of each tag (any rank may ask for any tag); -1 for tags outside the group
  std::vector<int64_t> lookup(const std::vector<int64_t> &tags) const;

 private:
  MPI_Comm comm;
  int nprocs;
  int64_t maxtag;                   // largest atom ID of the group
  int64_t total;                    // number of atoms in the group
  int64_t offset;                   // index of the first atom ID this rank owns
  std::vector<int64_t> owned;       // sorted IDs this rank owns (a contiguous ID range)
  int owner(int64_t tag) const;
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
