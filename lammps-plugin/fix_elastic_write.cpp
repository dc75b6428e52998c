#include "fix_elastic_write.h"

#include "error.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

FixElasticWrite::FixElasticWrite(LAMMPS *lmp, int narg, char **arg) : Fix(lmp, narg, arg)
{
  if (narg < 5) utils::missing_cmd_args(FLERR, "fix elastic/write", error);
  nevery = utils::inumeric(FLERR, arg[3], false, lmp);
  if (nevery <= 0) error->all(FLERR, "fix elastic/write: N must be > 0, not {}", arg[3]);
  pattern = arg[4];
  parse_elastic_options(lmp, "fix elastic/write", narg, arg, 5, options);
}

int FixElasticWrite::setmask()
{
  return FixConst::END_OF_STEP;
}

void FixElasticWrite::init()
{
  neighbor->add_request(this, NeighConst::REQ_FULL | NeighConst::REQ_OCCASIONAL);
  // fail at init, not steps later, for what cannot be written (group, boundaries, method)
  ElasticBuilder(lmp, "fix elastic/write", igroup, options).check_and_resolve();
}

void FixElasticWrite::init_list(int, NeighList *ptr)
{
  list = ptr;
}

void FixElasticWrite::setup(int)
{
  if (update->ntimestep % nevery == 0) write_now();
}

void FixElasticWrite::end_of_step()
{
  write_now();
}

void FixElasticWrite::write_now()
{
  if (update->ntimestep == last_written) return;
  std::string file = pattern;
  auto star = file.find('*');
  if (star != std::string::npos) file.replace(star, 1, std::to_string(update->ntimestep));
  neighbor->build_one(list);
  ElasticBuilder(lmp, "fix elastic/write", igroup, options).write(file, list);
  last_written = update->ntimestep;
}
