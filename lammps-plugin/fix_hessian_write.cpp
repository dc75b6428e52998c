#include "fix_hessian_write.h"

#include "error.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

FixHessianWrite::FixHessianWrite(LAMMPS *lmp, int narg, char **arg) : Fix(lmp, narg, arg)
{
  if (narg < 5) utils::missing_cmd_args(FLERR, "fix hessian/write", error);
  nevery = utils::inumeric(FLERR, arg[3], false, lmp);
  if (nevery <= 0) error->all(FLERR, "fix hessian/write: N must be > 0, not {}", arg[3]);
  pattern = arg[4];
  parse_hessian_options(lmp, "fix hessian/write", narg, arg, 5, options);
}

int FixHessianWrite::setmask()
{
  return FixConst::END_OF_STEP;
}

void FixHessianWrite::init()
{
  neighbor->add_request(this, NeighConst::REQ_FULL | NeighConst::REQ_OCCASIONAL);
  // fail at init, not steps later, when `method analytic` cannot work
  HessianBuilder(lmp, "fix hessian/write", igroup, options).resolve_method();
}

void FixHessianWrite::init_list(int, NeighList *ptr)
{
  list = ptr;
}

void FixHessianWrite::setup(int)
{
  if (update->ntimestep % nevery == 0) write_now();
}

void FixHessianWrite::end_of_step()
{
  write_now();
}

void FixHessianWrite::write_now()
{
  if (update->ntimestep == last_written) return;
  std::string file = pattern;
  auto star = file.find('*');
  if (star != std::string::npos) file.replace(star, 1, std::to_string(update->ntimestep));
  neighbor->build_one(list);
  HessianBuilder(lmp, "fix hessian/write", igroup, options).write(file, list);
  last_written = update->ntimestep;
}
