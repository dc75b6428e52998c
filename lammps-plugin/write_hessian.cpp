#include "write_hessian.h"

#include "comm.h"
#include "domain.h"
#include "error.h"
#include "group.h"
#include "lammps.h"
#include "neighbor.h"
#include "utils.h"

#include "hessian_builder.h"
#include "system_setup.h"

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

void WriteHessian::command(int narg, char **arg)
{
  if (narg < 2) utils::missing_cmd_args(FLERR, "write_hessian", error);
  if (!domain->box_exist) error->all(FLERR, "write_hessian: no simulation box defined yet");
  const int igroup = group->find(arg[0]);
  if (igroup < 0) error->all(FLERR, "write_hessian: no group named {}", arg[0]);
  HessianOptions opt;
  parse_hessian_options(lmp, "write_hessian", narg, arg, 2, opt);

  HessianBuilder builder(lmp, "write_hessian", igroup, opt);
  neighbor->add_request(this, "write_hessian", NeighConst::REQ_FULL);
  NeighList *list = setup_system_with_list(lmp, this);
  builder.write(arg[1], list);
}
