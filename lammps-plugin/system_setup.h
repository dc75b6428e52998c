/* What a command needs before it can evaluate forces: LAMMPS initialized, atoms in their
   domains, ghosts acquired, every neighbor list built (as `run 0` would, without running). */
#ifndef GLASSMODES_SYSTEM_SETUP_H
#define GLASSMODES_SYSTEM_SETUP_H

namespace LAMMPS_NS {
class LAMMPS;
class NeighList;
namespace glassmodes {

// Initialize and set up the system; returns the occasional list `requester` asked for (built).
NeighList *setup_system_with_list(LAMMPS *lmp, void *requester);

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
