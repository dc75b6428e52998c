/* pair_style ipl/smooth; see pair_ipl_smooth.h and docs/pair_styles.md. */

#include "pair_ipl_smooth.h"

#include "error.h"
#include "utils.h"

using namespace LAMMPS_NS;

PairIPLSmooth::PairIPLSmooth(LAMMPS *lmp) : PairSmoothPowerLaw(lmp, "ipl/smooth") {}

// pair_style ipl/smooth n q xc [powers even|all] [coeffs c_0 ... c_q]
void PairIPLSmooth::settings(int narg, char **arg)
{
  if (narg < 3) utils::missing_cmd_args(FLERR, "pair_style ipl/smooth", error);
  nterm = 1;
  amp[0] = 1.0;
  expo[0] = utils::numeric(FLERR, arg[0], false, lmp);
  q = utils::inumeric(FLERR, arg[1], false, lmp);
  xc_global = utils::numeric(FLERR, arg[2], false, lmp);
  if (q < 0 || q > Kernel::MAX_Q)
    error->all(FLERR, "pair_style ipl/smooth: q = {} out of range 0..{}", q, Kernel::MAX_Q);
  parse_smoothing_keywords(3, narg, arg);
  check_settings();
}
