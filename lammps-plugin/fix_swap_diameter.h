/* fix ID group-ID swap/diameter N M T seed
   Swap Monte Carlo of particle sizes for continuously polydisperse models (docs/fix_swap_diameter.md):
   every N steps, M attempts to exchange the diameters of two random atoms of the group (same atom
   type) with the Metropolis rule at temperature T. The energy change is computed locally from the
   pair energies (pair->single) of the two atoms with their neighbors; all ranks draw the pairs
   from one shared random sequence and reduce the owners' energy sums (MPI-collective).
   Global vector: attempts, acceptances, sum of accepted dE, sum of min(1, exp(-dE/T)). */
#ifndef GLASSMODES_FIX_SWAP_DIAMETER_H
#define GLASSMODES_FIX_SWAP_DIAMETER_H

#include "fix.h"

#include <cstdint>
#include <random>
#include <vector>

namespace LAMMPS_NS {

class FixSwapDiameter : public Fix {
 public:
  FixSwapDiameter(class LAMMPS *lmp, int narg, char **arg);

  int setmask() override;
  void init() override;
  void init_list(int id, class NeighList *ptr) override;
  void pre_force(int vflag) override;
  double compute_vector(int n) override;
  double memory_usage() override;

  static constexpr int NVECTOR = 4;    // length of the global vector

 private:
  int nattempt;                          // M: attempts per invocation
  double temperature;                    // T of the Metropolis rule (energy units, k_B = 1)
  std::mt19937_64 rng;                   // same seed and same draws on every rank
  class NeighList *list = nullptr;       // perpetual full neighbor list
  double stats[NVECTOR] = {0, 0, 0, 0};  // attempts, accepted, sum dE accepted (energy),
                                         // sum min(1, exp(-dE/T)) over attempts
  std::vector<std::vector<int>> local_of_type;    // local indices of group atoms, per type
  std::vector<bigint> offset_of_type;             // this rank's first index in each type block
  std::vector<bigint> total_of_type;              // group atoms of each type, all ranks

  double uniform();                                  // [0, 1), from rng
  void collect_candidates();                         // fill the three vectors above
  int locate(int type, bigint index) const;          // local atom of a type-block index, or -1
  double local_delta(int i, double snew, tagint other);    // pair-energy change of atom i
  void set_diameter(tagint tag, double diameter);    // on every local and ghost image
};

}    // namespace LAMMPS_NS

#endif
