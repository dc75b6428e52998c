/* pair_style ipl/smooth/poly; see pair_ipl_smooth_poly.h and docs/pair_styles.md. */

#include "pair_ipl_smooth_poly.h"

#include "atom.h"
#include "error.h"
#include "memory.h"
#include "neighbor.h"
#include "utils.h"

#include <cfloat>

using namespace LAMMPS_NS;

PairIPLSmoothPoly::PairIPLSmoothPoly(LAMMPS *lmp) :
    PairSmoothPowerLaw(lmp, "ipl/smooth/poly"), smax_type(nullptr), nsmax(0)
{
  per_atom_sizes = true;
  writedata = 1;
}

PairIPLSmoothPoly::~PairIPLSmoothPoly() noexcept
{
  if (copymode) return;
  memory->destroy(smax_type);
}

// pair_style ipl/smooth/poly n q xc eps_na [powers even|all] [coeffs c_0 ... c_q]
void PairIPLSmoothPoly::settings(int narg, char **arg)
{
  if (narg < 4) utils::missing_cmd_args(FLERR, "pair_style ipl/smooth/poly", error);
  nterm = 1;
  amp[0] = 1.0;
  expo[0] = utils::numeric(FLERR, arg[0], false, lmp);
  q = utils::inumeric(FLERR, arg[1], false, lmp);
  xc_global = utils::numeric(FLERR, arg[2], false, lmp);
  eps_na = utils::numeric(FLERR, arg[3], false, lmp);
  if (q < 0 || q > Kernel::MAX_Q)
    error->all(FLERR, "pair_style ipl/smooth/poly: q = {} out of range 0..{}", q, Kernel::MAX_Q);
  if (eps_na < 0.0)
    error->all(FLERR, "pair_style ipl/smooth/poly: eps_na must be >= 0, got {}", eps_na);
  parse_smoothing_keywords(4, narg, arg);
  check_settings();
}

// pair_coeff I J eps [xc]
void PairIPLSmoothPoly::coeff(int narg, char **arg)
{
  if (narg < 3 || narg > 4)
    error->all(FLERR, "pair_coeff for ipl/smooth/poly: expected I J eps [xc], got {} arguments",
               narg);
  if (!allocated) allocate();

  int ilo, ihi, jlo, jhi;
  utils::bounds(FLERR, arg[0], 1, atom->ntypes, ilo, ihi, error);
  utils::bounds(FLERR, arg[1], 1, atom->ntypes, jlo, jhi, error);
  const double eps_one = utils::numeric(FLERR, arg[2], false, lmp);
  double xc_one = -1.0;
  if (narg == 4) xc_one = utils::numeric(FLERR, arg[3], false, lmp);
  if (eps_one < 0.0)
    error->all(FLERR, "pair_coeff for ipl/smooth/poly: eps must be >= 0, got {}", eps_one);
  if (narg == 4) {
    if (!(xc_one > 0.0))
      error->all(FLERR, "pair_coeff for ipl/smooth/poly: xc must be > 0, got {}", xc_one);
    Kernel k;
    set_kernel(k, xc_one, true);
  }

  int count = 0;
  for (int i = ilo; i <= ihi; i++)
    for (int j = MAX(jlo, i); j <= jhi; j++) {
      epsilon[i][j] = eps_one;
      sigma[i][j] = 1.0;
      xc_pair[i][j] = xc_one;
      setflag[i][j] = 1;
      count++;
    }
  if (count == 0)
    error->all(FLERR, "pair_coeff for ipl/smooth/poly: no type pair in {} {}", arg[0], arg[1]);
}

// per-type largest diameters over all ranks; sizes must be positive and keep s_ij > 0
void PairIPLSmoothPoly::init_style()
{
  if (!atom->radius_flag || !atom->radius)
    error->all(FLERR, "pair_style ipl/smooth/poly needs per-atom sizes: use atom_style sphere "
                      "(s_i = diameter = 2 * radius)");

  const int ntypes = atom->ntypes;
  if (nsmax != ntypes + 1) {
    memory->destroy(smax_type);
    nsmax = ntypes + 1;
    memory->create(smax_type, nsmax, "pair:smax_type");
  }
  // local max per type and, in the last slot, -min over all atoms (one MPI_Allreduce MAX)
  double *local = new double[nsmax + 1];
  for (int t = 0; t <= nsmax; t++) local[t] = -DBL_MAX;
  const double *radius = atom->radius;
  const int *type = atom->type;
  for (int i = 0; i < atom->nlocal; i++) {
    const double d = 2.0 * radius[i];
    if (d > local[type[i]]) local[type[i]] = d;
    if (-d > local[nsmax]) local[nsmax] = -d;
  }
  double *global = new double[nsmax + 1];
  MPI_Allreduce(local, global, nsmax + 1, MPI_DOUBLE, MPI_MAX, world);
  double smax = 0.0;
  for (int t = 1; t <= ntypes; t++) {
    smax_type[t] = global[t] > 0.0 ? global[t] : 0.0;    // 0: no atom of type t
    if (smax_type[t] > smax) smax = smax_type[t];
  }
  smax_type[0] = 0.0;
  const double smin = -global[nsmax];
  delete[] local;
  delete[] global;

  if (atom->natoms > 0 && !(smin > 0.0))
    error->all(FLERR,
               "pair_style ipl/smooth/poly: every atom needs a diameter > 0 (smallest is {:.6g})",
               smin);
  if (atom->natoms > 0 && eps_na * (smax - smin) >= 1.0)
    error->all(FLERR,
               "pair_style ipl/smooth/poly: eps_na * (s_max - s_min) = {:.6g} >= 1 makes s_ij <= 0",
               eps_na * (smax - smin));

  neighbor->add_request(this);
}

// s_ij <= (s_i + s_j)/2 <= (smax_I + smax_J)/2 for eps_na >= 0
double PairIPLSmoothPoly::init_one(int i, int j)
{
  PairSmoothPowerLaw::init_one(i, j);
  return pair_xc(i, j) * 0.5 * (smax_type[i] + smax_type[j]);
}

void PairIPLSmoothPoly::compute(int eflag, int vflag)
{
  const double *radius = atom->radius;
  const int *type = atom->type;
  for (int i = 0; i < atom->nlocal; i++)
    if (2.0 * radius[i] > smax_type[type[i]])
      error->one(FLERR,
                 "pair_style ipl/smooth/poly: atom {} has diameter {} > {}, the largest of its "
                 "type at setup; start a new run after changing sizes",
                 atom->tag[i], 2.0 * radius[i], smax_type[type[i]]);
  PairSmoothPowerLaw::compute(eflag, vflag);
}

double PairIPLSmoothPoly::memory_usage()
{
  return PairSmoothPowerLaw::memory_usage() + nsmax * sizeof(double);
}
