/* pair_style lj/smooth/glass; see pair_lj_smooth_glass.h and docs/pair_styles.md. */

#include "pair_lj_smooth_glass.h"

#include "error.h"
#include "utils.h"

using namespace LAMMPS_NS;

PairLJSmoothGlass::PairLJSmoothGlass(LAMMPS *lmp) : PairSmoothPowerLaw(lmp, "lj/smooth/glass") {}

// pair_style lj/smooth/glass q xc [powers even|all] [coeffs c_0 ... c_q]
void PairLJSmoothGlass::settings(int narg, char **arg)
{
  if (narg < 2) utils::missing_cmd_args(FLERR, "pair_style lj/smooth/glass", error);
  nterm = 2;
  amp[0] = 4.0;
  expo[0] = 12.0;
  amp[1] = -4.0;
  expo[1] = 6.0;
  q = utils::inumeric(FLERR, arg[0], false, lmp);
  xc_global = utils::numeric(FLERR, arg[1], false, lmp);
  if (q < 0 || q > Kernel::MAX_Q)
    error->all(FLERR, "pair_style lj/smooth/glass: q = {} out of range 0..{}", q, Kernel::MAX_Q);
  parse_smoothing_keywords(2, narg, arg);
  check_settings();
}
