/* Registers every glassmodes style with LAMMPS: `plugin load glassmodesplugin.so`. */

#include "lammps.h"
#include "lammpsplugin_abi.h"

#include "compute_mode_energy.h"
#include "fix_elastic_write.h"
#include "fix_fc3_write.h"
#include "fix_hessian_write.h"
#include "fix_swap_diameter.h"
#include "pair_ipl_smooth.h"
#include "pair_ipl_smooth_poly.h"
#include "pair_lj_smooth_glass.h"
#include "write_elastic.h"
#include "write_fc3.h"
#include "write_hessian.h"

using namespace LAMMPS_NS;

// ---- factories, one per style ----------------------------------------------------------------

static Command *write_hessian_creator(LAMMPS *lmp)
{
  return new WriteHessian(lmp);
}

static Command *write_fc3_creator(LAMMPS *lmp)
{
  return new WriteFc3(lmp);
}

static Fix *fix_fc3_write_creator(LAMMPS *lmp, int narg, char **arg)
{
  return new FixFc3Write(lmp, narg, arg);
}

static Fix *fix_hessian_write_creator(LAMMPS *lmp, int narg, char **arg)
{
  return new FixHessianWrite(lmp, narg, arg);
}

static Command *write_elastic_creator(LAMMPS *lmp)
{
  return new WriteElastic(lmp);
}

static Fix *fix_elastic_write_creator(LAMMPS *lmp, int narg, char **arg)
{
  return new FixElasticWrite(lmp, narg, arg);
}

static Fix *fix_swap_diameter_creator(LAMMPS *lmp, int narg, char **arg)
{
  return new FixSwapDiameter(lmp, narg, arg);
}

static Compute *compute_mode_energy_creator(LAMMPS *lmp, int narg, char **arg)
{
  return new ComputeModeEnergy(lmp, narg, arg);
}

static Pair *ipl_smooth_creator(LAMMPS *lmp)
{
  return new PairIPLSmooth(lmp);
}

static Pair *ipl_smooth_poly_creator(LAMMPS *lmp)
{
  return new PairIPLSmoothPoly(lmp);
}

static Pair *lj_smooth_glass_creator(LAMMPS *lmp)
{
  return new PairLJSmoothGlass(lmp);
}

// ---- registration -----------------------------------------------------------------------------

namespace {
struct StyleEntry {
  const char *style;    // "pair", "fix", "compute" or "command"
  const char *name;     // style name used in input scripts
  const char *info;     // one-line description
  bool with_args;       // creator takes (lmp, narg, arg): fix and compute
  void *creator;
};

const StyleEntry STYLES[] = {
    {"command", "write_hessian", "sparse parallel Hessian of a group (PETSc binary)", false,
     (void *) &write_hessian_creator},
    {"fix", "hessian/write", "sparse parallel Hessian every N steps", true,
     (void *) &fix_hessian_write_creator},
    {"command", "write_fc3", "third-order force constants of a group (npy records)", false,
     (void *) &write_fc3_creator},
    {"fix", "fc3/write", "third-order force constants every N steps", true,
     (void *) &fix_fc3_write_creator},
    {"command", "write_elastic", "stress, Born tensor and Xi = d2U/dx de of the system", false,
     (void *) &write_elastic_creator},
    {"fix", "elastic/write", "stress, Born tensor and Xi every N steps", true,
     (void *) &fix_elastic_write_creator},
    {"fix", "swap/diameter", "swap Monte Carlo of per-atom diameters (polydisperse models)", true,
     (void *) &fix_swap_diameter_creator},
    {"compute", "mode/energy", "energies of harmonic eigenmodes (projection on a mode file)", true,
     (void *) &compute_mode_energy_creator},
    {"pair", "ipl/smooth", "inverse power law smoothed to zero at its cutoff", false,
     (void *) &ipl_smooth_creator},
    {"pair", "ipl/smooth/poly", "polydisperse non-additive smoothed inverse power law", false,
     (void *) &ipl_smooth_poly_creator},
    {"pair", "lj/smooth/glass", "12-6 Lennard-Jones smoothed to zero at its cutoff", false,
     (void *) &lj_smooth_glass_creator},
};
}    // namespace

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  auto reg = (lammpsplugin_regfunc) regfunc;
  for (const auto &s : STYLES) {
    lammpsplugin_t plugin{};
    plugin.version = static_cast<LAMMPS *>(lmp)->version;
    plugin.style = s.style;
    plugin.name = s.name;
    plugin.info = s.info;
    plugin.author = "glassmodes developers";
    if (s.with_args)
      plugin.creator.v2 = (lammpsplugin_factory2 *) s.creator;
    else
      plugin.creator.v1 = (lammpsplugin_factory1 *) s.creator;
    plugin.handle = handle;
    (*reg)(&plugin, lmp);
  }
}
