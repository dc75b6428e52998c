#include "system_setup.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "lammps.h"
#include "modify.h"
#include "neighbor.h"

using namespace LAMMPS_NS;

// the sequence LAMMPS's own delete_atoms and Verlet::setup_minimal use
NeighList *LAMMPS_NS::glassmodes::setup_system_with_list(LAMMPS *lmp, void *requester)
{
  lmp->init();
  Domain *domain = lmp->domain;
  Comm *comm = lmp->comm;
  Neighbor *neighbor = lmp->neighbor;
  Atom *atom = lmp->atom;
  if (domain->triclinic) domain->x2lamda(atom->nlocal);
  domain->pbc();
  domain->reset_box();
  comm->setup();
  if (neighbor->style) neighbor->setup_bins();
  comm->exchange();
  comm->borders();
  if (domain->triclinic) domain->lamda2x(atom->nlocal + atom->nghost);
  domain->image_check();
  domain->box_too_small_check();
  neighbor->build(1);
  neighbor->ncalls = 0;
  NeighList *list = neighbor->find_list(requester);
  neighbor->build_one(list);
  return list;
}
