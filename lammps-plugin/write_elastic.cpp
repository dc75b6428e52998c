#include "write_elastic.h"

#include "domain.h"
#include "error.h"
#include "group.h"
#include "neighbor.h"
#include "utils.h"

#include "elastic_builder.h"
#include "system_setup.h"

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

void WriteElastic::command(int narg, char **arg)
{
  if (narg < 2) utils::missing_cmd_args(FLERR, "write_elastic", error);
  if (!domain->box_exist) error->all(FLERR, "write_elastic: no simulation box defined yet");
  const int igroup = group->find(arg[0]);
  if (igroup < 0) error->all(FLERR, "write_elastic: no group named {}", arg[0]);
  ElasticOptions opt;
  parse_elastic_options(lmp, "write_elastic", narg, arg, 2, opt);

  ElasticBuilder builder(lmp, "write_elastic", igroup, opt);
  builder.check_and_resolve();    // refuse before the system setup does any work
  neighbor->add_request(this, "write_elastic", NeighConst::REQ_FULL);
  NeighList *list = setup_system_with_list(lmp, this);
  builder.write(arg[1], list);
}
