/* Force evaluations at displaced positions, for finite differences inside a command or a fix:
   saves positions, forces and energy/virial accumulators on construction and restores them
   exactly on destruction, so the surrounding run or minimization is not disturbed. */
#ifndef GLASSMODES_FORCE_PROBE_H
#define GLASSMODES_FORCE_PROBE_H

#include "pointers.h"

#include <vector>

namespace LAMMPS_NS {
class NeighList;

namespace glassmodes {

class ForceProbe : protected Pointers {
 public:
  explicit ForceProbe(LAMMPS *lmp);
  ~ForceProbe() override;

  // Forces of the force field (pair, bond, angle, dihedral, improper) at the current local
  // positions: ghosts are updated first, forces of ghosts are folded back with Newton on.
  // Returns the total potential energy when `energy` is true (else 0). Collective.
  double evaluate(bool energy);
  // put every local and ghost atom back at its saved position
  void reset_positions();
  const double *saved_position(int i) const { return &x0[3 * i]; }
  long calls() const { return ncalls; }

 private:
  int nall;                       // local + ghost atoms at construction
  std::vector<double> x0, f0;     // saved positions and forces (nall x 3)
  double pair_eng[2], pair_virial[6];
  double bonded_energy[4], bonded_virial[4][6];
  long ncalls = 0;
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
