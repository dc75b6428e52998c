/* The atoms-file record of one local atom (ID, type, mass, position, image flags), shared by the
   Hessian, fc3 and elastic builders. `index` (the matrix index) is set by the caller. */
#ifndef GLASSMODES_ATOM_RECORD_H
#define GLASSMODES_ATOM_RECORD_H

#include "atom.h"
#include "lmptype.h"

#include "distributed_output.h"

namespace LAMMPS_NS {
namespace glassmodes {

inline AtomRecord atom_record(const Atom *atom, int i, double mass)
{
  AtomRecord r{};
  r.id = atom->tag[i];
  r.type = atom->type[i];
  r.mass = mass;
  for (int d = 0; d < 3; d++) r.x[d] = atom->x[i][d];
  const imageint im = atom->image[i];
  r.image[0] = (int) (im & IMGMASK) - IMGMAX;
  r.image[1] = (int) (im >> IMGBITS & IMGMASK) - IMGMAX;
  r.image[2] = (int) (im >> IMG2BITS) - IMGMAX;
  return r;
}

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
