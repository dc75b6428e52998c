#include "fix_fc3_write.h"

#include "error.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

#include "fc3_builder.h"

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

FixFc3Write::FixFc3Write(LAMMPS *lmp, int narg, char **arg) : Fix(lmp, narg, arg)
{
  if (narg < 5) utils::missing_cmd_args(FLERR, "fix fc3/write", error);
  nevery = utils::inumeric(FLERR, arg[3], false, lmp);
  if (nevery <= 0) error->all(FLERR, "fix fc3/write: N must be > 0, not {}", arg[3]);
  pattern = arg[4];
  parse_hessian_options(lmp, "fix fc3/write", narg, arg, 5, options, true);
}

int FixFc3Write::setmask()
{
  return FixConst::END_OF_STEP;
}

void FixFc3Write::init()
{
  neighbor->add_request(this, NeighConst::REQ_FULL | NeighConst::REQ_OCCASIONAL);
  // fail at init, not steps later, when `method analytic` or `order 4` cannot work
  Fc3Builder(lmp, "fix fc3/write", igroup, options).resolve_method();
}

void FixFc3Write::init_list(int, NeighList *ptr)
{
  list = ptr;
}

void FixFc3Write::setup(int)
{
  if (update->ntimestep % nevery == 0) write_now();
}

void FixFc3Write::end_of_step()
{
  write_now();
}

void FixFc3Write::write_now()
{
  if (update->ntimestep == last_written) return;
  std::string file = pattern;
  auto star = file.find('*');
  if (star != std::string::npos) file.replace(star, 1, std::to_string(update->ntimestep));
  neighbor->build_one(list);
  Fc3Builder(lmp, "fix fc3/write", igroup, options).write(file, list);
  last_written = update->ntimestep;
}
