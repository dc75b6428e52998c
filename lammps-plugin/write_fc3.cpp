#include "write_fc3.h"

#include "domain.h"
#include "error.h"
#include "group.h"
#include "neighbor.h"
#include "utils.h"

#include "fc3_builder.h"
#include "system_setup.h"

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

void WriteFc3::command(int narg, char **arg)
{
  if (narg < 2) utils::missing_cmd_args(FLERR, "write_fc3", error);
  if (!domain->box_exist) error->all(FLERR, "write_fc3: no simulation box defined yet");
  const int igroup = group->find(arg[0]);
  if (igroup < 0) error->all(FLERR, "write_fc3: no group named {}", arg[0]);
  HessianOptions opt;
  parse_hessian_options(lmp, "write_fc3", narg, arg, 2, opt, true);

  neighbor->add_request(this, "write_fc3", NeighConst::REQ_FULL);
  NeighList *list = setup_system_with_list(lmp, this);
  Fc3Builder(lmp, "write_fc3", igroup, opt).write(arg[1], list);
}
