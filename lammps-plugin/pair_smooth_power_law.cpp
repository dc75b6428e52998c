/* Common base of glassmodes' smoothed power-law pair styles; see pair_smooth_power_law.h. */

#include "pair_smooth_power_law.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "utils.h"

#include <cmath>
#include <cstring>
#include <string>

using namespace LAMMPS_NS;

/* ---------------------------------------------------------------------------------------------- */

PairSmoothPowerLaw::PairSmoothPowerLaw(LAMMPS *lmp, const char *style_name) :
    Pair(lmp), style(style_name), per_atom_sizes(false), nterm(0), q(0), step(2), xc_global(0.0),
    user_coeffs(0), eps_na(0.0), epsilon(nullptr), sigma(nullptr), xc_pair(nullptr),
    inv_sigsq(nullptr), kernel(nullptr)
{
  for (int t = 0; t < Kernel::MAX_TERMS; t++) amp[t] = expo[t] = 0.0;
  for (int k = 0; k <= Kernel::MAX_Q; k++) coef_user[k] = 0.0;
  single_enable = 1;
  born_matrix_enable = 1;
  restartinfo = 1;
  writedata = 1;
  single_extra = NSVECTOR;
  svector = new double[NSVECTOR];
}

PairSmoothPowerLaw::~PairSmoothPowerLaw() noexcept
{
  if (copymode) return;
  delete[] svector;
  svector = nullptr;
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
    memory->destroy(epsilon);
    memory->destroy(sigma);
    memory->destroy(xc_pair);
    memory->destroy(inv_sigsq);
    memory->destroy(kernel);
  }
}

void PairSmoothPowerLaw::allocate()
{
  allocated = 1;
  const int n = atom->ntypes + 1;
  memory->create(setflag, n, n, "pair:setflag");
  memory->create(cutsq, n, n, "pair:cutsq");
  memory->create(epsilon, n, n, "pair:epsilon");
  memory->create(sigma, n, n, "pair:sigma");
  memory->create(xc_pair, n, n, "pair:xc");
  memory->create(inv_sigsq, n, n, "pair:inv_sigsq");
  memory->create(kernel, n, n, "pair:kernel");
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      setflag[i][j] = 0;
      cutsq[i][j] = 0.0;
      epsilon[i][j] = 0.0;
      sigma[i][j] = 1.0;
      xc_pair[i][j] = -1.0;
      inv_sigsq[i][j] = 1.0;
      std::memset(&kernel[i][j], 0, sizeof(Kernel));
    }
}

/* ---- settings helpers ------------------------------------------------------------------------ */

// keywords after the positional pair_style arguments: powers even|all, coeffs c_0 .. c_q
int PairSmoothPowerLaw::parse_smoothing_keywords(int iarg, int narg, char **arg)
{
  step = 2;
  user_coeffs = 0;
  while (iarg < narg) {
    if (strcmp(arg[iarg], "powers") == 0) {
      if (iarg + 2 > narg)
        utils::missing_cmd_args(FLERR, std::string("pair_style ") + style + " powers", error);
      if (strcmp(arg[iarg + 1], "even") == 0)
        step = 2;
      else if (strcmp(arg[iarg + 1], "all") == 0)
        step = 1;
      else
        error->all(FLERR, "pair_style {}: powers must be 'even' or 'all', not '{}'", style,
                   arg[iarg + 1]);
      iarg += 2;
    } else if (strcmp(arg[iarg], "coeffs") == 0) {
      if (iarg + 2 + q > narg)
        error->all(FLERR, "pair_style {}: coeffs needs q+1 = {} values c_0 .. c_{}, got {}", style,
                   q + 1, q, narg - iarg - 1);
      for (int k = 0; k <= q; k++)
        coef_user[k] = utils::numeric(FLERR, arg[iarg + 1 + k], false, lmp);
      user_coeffs = 1;
      iarg += q + 2;
    } else {
      error->all(FLERR, "pair_style {}: unknown keyword {}", style, arg[iarg]);
    }
  }
  return iarg;
}

// common checks once the pair_style arguments are read; user coefficients are tested here at the
// global x_c (pairs with their own x_c are tested by pair_coeff)
void PairSmoothPowerLaw::check_settings()
{
  if (q < 0 || q > Kernel::MAX_Q)
    error->all(FLERR, "pair_style {}: q = {} out of range 0..{}", style, q, Kernel::MAX_Q);
  if (!(xc_global > 0.0))
    error->all(FLERR, "pair_style {}: xc must be > 0, got {}", style, xc_global);
  for (int t = 0; t < nterm; t++)
    if (!(expo[t] > 0.0))
      error->all(FLERR, "pair_style {}: exponent n must be > 0, got {}", style, expo[t]);
  Kernel k;
  set_kernel(k, xc_global, true);
}

// the kernel of one cutoff x_c: coefficients solved, or the user's checked for continuity
void PairSmoothPowerLaw::set_kernel(Kernel &k, double xc, bool at_command)
{
  if (!k.setup(nterm, amp, expo, q, step, xc))
    error->all(FLERR, "pair_style {}: invalid smoothing settings (q = {}, xc = {})", style, q,
               xc);
  Kernel solved = k;
  if (!solved.solve())
    error->all(FLERR, "pair_style {}: singular smoothing system (q = {}, xc = {})", style, q, xc);
  double rel[Kernel::MAX_Q + 1];
  if (!user_coeffs) {
    solved.check_cutoff(q, rel);
    for (int m = 0; m <= q; m++)
      if (rel[m] > CONTINUITY_TOL)
        error->all(FLERR,
                   "pair_style {}: smoothing with q = {} at xc = {} is ill-conditioned (derivative "
                   "{} off by {:.2e} relative at the cutoff); use a smaller q",
                   style, q, xc, m, rel[m]);
    k = solved;
    return;
  }

  k.set_coefficients(coef_user);
  k.check_cutoff(q >= 1 ? 1 : 0, rel);
  if (rel[0] > CONTINUITY_TOL) {
    double d[1];
    k.derivatives(xc, 0, d);
    std::string exact;
    for (int j = 0; j <= q; j++) exact += fmt::format(" {:.15g}", solved.c[j]);
    error->all(FLERR,
               "pair_style {}: coeffs leave phi discontinuous at the cutoff xc = {}: "
               "phi(xc)/eps = {:.6e}, {:.2e} relative to the cancelling terms (limit {:.0e}). "
               "Smoothing to order q = {} at this xc needs coeffs{}",
               style, xc, d[0], rel[0], CONTINUITY_TOL, q, exact);
  }
  if (at_command && q >= 1 && rel[1] > CONTINUITY_TOL && comm->me == 0)
    error->warning(FLERR,
                   "pair_style {}: with the given coeffs the force is discontinuous at the cutoff "
                   "xc = {} ({:.2e} relative)",
                   style, xc, rel[1]);
}

/* ---- pair_coeff I J eps s [xc] --------------------------------------------------------------- */

void PairSmoothPowerLaw::coeff(int narg, char **arg)
{
  if (narg < 4 || narg > 5)
    error->all(FLERR, "pair_coeff for {}: expected I J eps s [xc], got {} arguments", style,
               narg);
  if (!allocated) allocate();

  int ilo, ihi, jlo, jhi;
  utils::bounds(FLERR, arg[0], 1, atom->ntypes, ilo, ihi, error);
  utils::bounds(FLERR, arg[1], 1, atom->ntypes, jlo, jhi, error);
  const double eps_one = utils::numeric(FLERR, arg[2], false, lmp);
  const double sigma_one = utils::numeric(FLERR, arg[3], false, lmp);
  double xc_one = -1.0;
  if (narg == 5) xc_one = utils::numeric(FLERR, arg[4], false, lmp);
  if (eps_one < 0.0)
    error->all(FLERR, "pair_coeff for {}: eps must be >= 0, got {}", style, eps_one);
  if (!(sigma_one > 0.0))
    error->all(FLERR, "pair_coeff for {}: s must be > 0, got {}", style, sigma_one);
  if (narg == 5) {
    if (!(xc_one > 0.0))
      error->all(FLERR, "pair_coeff for {}: xc must be > 0, got {}", style, xc_one);
    Kernel k;
    set_kernel(k, xc_one, true);
  }

  int count = 0;
  for (int i = ilo; i <= ihi; i++)
    for (int j = MAX(jlo, i); j <= jhi; j++) {
      epsilon[i][j] = eps_one;
      sigma[i][j] = sigma_one;
      xc_pair[i][j] = xc_one;
      setflag[i][j] = 1;
      count++;
    }
  if (count == 0)
    error->all(FLERR, "pair_coeff for {}: no type pair in {} {}", style, arg[0], arg[1]);
}

/* ---- init_one: mixing, kernel of the pair, cutoff ------------------------------------------ */

double PairSmoothPowerLaw::init_one(int i, int j)
{
  if (setflag[i][j] == 0) {
    if (per_atom_sizes) {
      epsilon[i][j] = mix_energy(epsilon[i][i], epsilon[j][j], 1.0, 1.0);
    } else {
      epsilon[i][j] = mix_energy(epsilon[i][i], epsilon[j][j], sigma[i][i], sigma[j][j]);
      sigma[i][j] = mix_distance(sigma[i][i], sigma[j][j]);
    }
    const bool same = xc_pair[i][i] > 0.0 && xc_pair[i][i] == xc_pair[j][j];
    xc_pair[i][j] = same ? xc_pair[i][i] : -1.0;
  }
  const double xc = pair_xc(i, j);
  set_kernel(kernel[i][j], xc, false);
  inv_sigsq[i][j] = 1.0 / (sigma[i][j] * sigma[i][j]);

  epsilon[j][i] = epsilon[i][j];
  sigma[j][i] = sigma[i][j];
  xc_pair[j][i] = xc_pair[i][j];
  inv_sigsq[j][i] = inv_sigsq[i][j];
  kernel[j][i] = kernel[i][j];
  etail_ij = ptail_ij = 0.0;    // phi = 0 beyond the cutoff: the tail correction is exactly zero
  return xc * sigma[i][j];
}

/* ---- forces ---------------------------------------------------------------------------------- */

void PairSmoothPowerLaw::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  if (per_atom_sizes)
    eval_dispatch<true>();
  else
    eval_dispatch<false>();
  if (vflag_fdotr) virial_fdotr_compute();
}

// one force loop per smoothing order q for the common even case (unrolled polynomial,
// straight-line powers), the general kernel otherwise; all type pairs share q, step, exponents
template <bool POLY> void PairSmoothPowerLaw::eval_dispatch()
{
  const Kernel &k = kernel[1][1];
  if (!k.needs_root && k.step == 2) {
    switch (k.q) {
      case 0: return eval<POLY, 0>();
      case 1: return eval<POLY, 1>();
      case 2: return eval<POLY, 2>();
      case 3: return eval<POLY, 3>();
      case 4: return eval<POLY, 4>();
      case 5: return eval<POLY, 5>();
      case 6: return eval<POLY, 6>();
      default: break;
    }
  }
  eval<POLY, -1>();
}

template <bool POLY, int Q> void PairSmoothPowerLaw::eval()
{
  double **x = atom->x;
  double **f = atom->f;
  const int *type = atom->type;
  const double *radius = atom->radius;
  const int nlocal = atom->nlocal;
  const double *special_lj = force->special_lj;
  const int newton_pair = force->newton_pair;

  const int inum = list->inum;
  const int *ilist = list->ilist;
  const int *numneigh = list->numneigh;
  int **firstneigh = list->firstneigh;
  double evdwl = 0.0;

  for (int ii = 0; ii < inum; ii++) {
    const int i = ilist[ii];
    const double xtmp = x[i][0], ytmp = x[i][1], ztmp = x[i][2];
    const int itype = type[i];
    const double di = POLY ? 2.0 * radius[i] : 0.0;
    const int *jlist = firstneigh[i];
    const int jnum = numneigh[i];
    const double *cutsqi = cutsq[itype];

    for (int jj = 0; jj < jnum; jj++) {
      int j = jlist[jj];
      const double factor_lj = special_lj[sbmask(j)];
      j &= NEIGHMASK;
      const double delx = xtmp - x[j][0];
      const double dely = ytmp - x[j][1];
      const double delz = ztmp - x[j][2];
      const double rsq = delx * delx + dely * dely + delz * delz;
      const int jtype = type[j];
      if (rsq >= cutsqi[jtype]) continue;

      double invssq;
      if (POLY) {
        const double s = sigma_poly(di, 2.0 * radius[j]);
        invssq = 1.0 / (s * s);
      } else {
        invssq = inv_sigsq[itype][jtype];
      }
      const double xsq = rsq * invssq;
      const Kernel &k = kernel[itype][jtype];
      if (POLY && xsq >= k.xcsq) continue;

      double g;
      const double phi =
          Q >= 0 ? k.template eval_even<(Q >= 0 ? Q : 0)>(xsq, g) : k.eval_general(xsq, g);
      const double eps = factor_lj * epsilon[itype][jtype];
      const double fpair = -eps * invssq * g;    // -phi'(r) / r

      f[i][0] += delx * fpair;
      f[i][1] += dely * fpair;
      f[i][2] += delz * fpair;
      if (newton_pair || j < nlocal) {
        f[j][0] -= delx * fpair;
        f[j][1] -= dely * fpair;
        f[j][2] -= delz * fpair;
      }
      if (eflag_either) evdwl = eps * phi;
      if (evflag) ev_tally(i, j, nlocal, newton_pair, evdwl, 0.0, fpair, delx, dely, delz);
    }
  }
}

/* ---- one pair: energy, force, derivatives ---------------------------------------------------- */

bool PairSmoothPowerLaw::pair_scales(int i, int j, int itype, int jtype, double rsq, double &eps,
                                     double &s) const
{
  eps = epsilon[itype][jtype];
  if (!(rsq < cutsq[itype][jtype])) return false;
  if (!per_atom_sizes) {
    s = sigma[itype][jtype];
    return true;
  }
  s = sigma_poly(2.0 * atom->radius[i], 2.0 * atom->radius[j]);
  return rsq * (1.0 / (s * s)) < kernel[itype][jtype].xcsq;
}

double PairSmoothPowerLaw::single(int i, int j, int itype, int jtype, double rsq,
                                  double /*factor_coul*/, double factor_lj, double &fforce)
{
  for (int m = 0; m < NSVECTOR; m++) svector[m] = 0.0;
  fforce = 0.0;
  // pair_write calls single(0, 1, ...): with per-atom sizes those must be real atoms
  if (per_atom_sizes && MAX(i, j) >= atom->nlocal + atom->nghost)
    error->one(FLERR, "pair_style {}: single() for atoms {} {} needs their sizes, but this rank "
               "holds {} atoms (pair_write uses the first two atoms of each rank)",
               style, i, j, atom->nlocal + atom->nghost);
  double eps, s;
  if (!pair_scales(i, j, itype, jtype, rsq, eps, s)) return 0.0;

  const Kernel &k = kernel[itype][jtype];
  const double e = factor_lj * eps;
  const double invssq = 1.0 / (s * s);
  double g;
  const double phi = k.eval(rsq * invssq, g);
  fforce = -e * invssq * g;

  double d[NSVECTOR + 1];
  k.derivatives(std::sqrt(rsq) / s, NSVECTOR, d);
  double scale = e;
  for (int m = 1; m <= NSVECTOR; m++) {
    scale /= s;
    svector[m - 1] = scale * d[m];    // phi^(m)(r), energy / distance^m
  }
  return e * phi;
}

void PairSmoothPowerLaw::born_matrix(int i, int j, int itype, int jtype, double rsq,
                                     double /*factor_coul*/, double factor_lj, double &du,
                                     double &du2)
{
  du = du2 = 0.0;
  double eps, s;
  if (!pair_scales(i, j, itype, jtype, rsq, eps, s)) return;
  double d[3];
  kernel[itype][jtype].derivatives(std::sqrt(rsq) / s, 2, d);
  du = factor_lj * eps * d[1] / s;
  du2 = factor_lj * eps * d[2] / (s * s);
}

void PairSmoothPowerLaw::radial_derivatives(int i, int j, int itype, int jtype, double rsq,
                                            int order, double *d) const
{
  if (order > MAX_ORDER) order = MAX_ORDER;
  for (int m = 0; m <= order; m++) d[m] = 0.0;
  double eps, s;
  if (!pair_scales(i, j, itype, jtype, rsq, eps, s)) return;
  kernel[itype][jtype].derivatives(std::sqrt(rsq) / s, order, d);
  double scale = eps;
  for (int m = 0; m <= order; m++) {
    d[m] *= scale;
    scale /= s;
  }
}

double PairSmoothPowerLaw::max_interaction_range() const
{
  return cutforce;
}

/* ---- restart and data files ------------------------------------------------------------------ */

void PairSmoothPowerLaw::write_restart_settings(FILE *fp)
{
  fwrite(&nterm, sizeof(int), 1, fp);
  fwrite(amp, sizeof(double), Kernel::MAX_TERMS, fp);
  fwrite(expo, sizeof(double), Kernel::MAX_TERMS, fp);
  fwrite(&q, sizeof(int), 1, fp);
  fwrite(&step, sizeof(int), 1, fp);
  fwrite(&xc_global, sizeof(double), 1, fp);
  fwrite(&user_coeffs, sizeof(int), 1, fp);
  fwrite(coef_user, sizeof(double), Kernel::MAX_Q + 1, fp);
  fwrite(&eps_na, sizeof(double), 1, fp);
  fwrite(&mix_flag, sizeof(int), 1, fp);
}

void PairSmoothPowerLaw::read_restart_settings(FILE *fp)
{
  if (comm->me == 0) {
    utils::sfread(FLERR, &nterm, sizeof(int), 1, fp, nullptr, error);
    utils::sfread(FLERR, amp, sizeof(double), Kernel::MAX_TERMS, fp, nullptr, error);
    utils::sfread(FLERR, expo, sizeof(double), Kernel::MAX_TERMS, fp, nullptr, error);
    utils::sfread(FLERR, &q, sizeof(int), 1, fp, nullptr, error);
    utils::sfread(FLERR, &step, sizeof(int), 1, fp, nullptr, error);
    utils::sfread(FLERR, &xc_global, sizeof(double), 1, fp, nullptr, error);
    utils::sfread(FLERR, &user_coeffs, sizeof(int), 1, fp, nullptr, error);
    utils::sfread(FLERR, coef_user, sizeof(double), Kernel::MAX_Q + 1, fp, nullptr, error);
    utils::sfread(FLERR, &eps_na, sizeof(double), 1, fp, nullptr, error);
    utils::sfread(FLERR, &mix_flag, sizeof(int), 1, fp, nullptr, error);
  }
  MPI_Bcast(&nterm, 1, MPI_INT, 0, world);
  MPI_Bcast(amp, Kernel::MAX_TERMS, MPI_DOUBLE, 0, world);
  MPI_Bcast(expo, Kernel::MAX_TERMS, MPI_DOUBLE, 0, world);
  MPI_Bcast(&q, 1, MPI_INT, 0, world);
  MPI_Bcast(&step, 1, MPI_INT, 0, world);
  MPI_Bcast(&xc_global, 1, MPI_DOUBLE, 0, world);
  MPI_Bcast(&user_coeffs, 1, MPI_INT, 0, world);
  MPI_Bcast(coef_user, Kernel::MAX_Q + 1, MPI_DOUBLE, 0, world);
  MPI_Bcast(&eps_na, 1, MPI_DOUBLE, 0, world);
  MPI_Bcast(&mix_flag, 1, MPI_INT, 0, world);
}

void PairSmoothPowerLaw::write_restart(FILE *fp)
{
  write_restart_settings(fp);
  for (int i = 1; i <= atom->ntypes; i++)
    for (int j = i; j <= atom->ntypes; j++) {
      fwrite(&setflag[i][j], sizeof(int), 1, fp);
      if (setflag[i][j]) {
        fwrite(&epsilon[i][j], sizeof(double), 1, fp);
        fwrite(&sigma[i][j], sizeof(double), 1, fp);
        fwrite(&xc_pair[i][j], sizeof(double), 1, fp);
      }
    }
}

void PairSmoothPowerLaw::read_restart(FILE *fp)
{
  read_restart_settings(fp);
  allocate();
  const int me = comm->me;
  for (int i = 1; i <= atom->ntypes; i++)
    for (int j = i; j <= atom->ntypes; j++) {
      if (me == 0) utils::sfread(FLERR, &setflag[i][j], sizeof(int), 1, fp, nullptr, error);
      MPI_Bcast(&setflag[i][j], 1, MPI_INT, 0, world);
      if (setflag[i][j]) {
        if (me == 0) {
          utils::sfread(FLERR, &epsilon[i][j], sizeof(double), 1, fp, nullptr, error);
          utils::sfread(FLERR, &sigma[i][j], sizeof(double), 1, fp, nullptr, error);
          utils::sfread(FLERR, &xc_pair[i][j], sizeof(double), 1, fp, nullptr, error);
        }
        MPI_Bcast(&epsilon[i][j], 1, MPI_DOUBLE, 0, world);
        MPI_Bcast(&sigma[i][j], 1, MPI_DOUBLE, 0, world);
        MPI_Bcast(&xc_pair[i][j], 1, MPI_DOUBLE, 0, world);
      }
    }
}

// data-file lines are pair_coeff arguments: "I eps s [xc]" (per-atom sizes: "I eps [xc]")
void PairSmoothPowerLaw::write_data(FILE *fp)
{
  for (int i = 1; i <= atom->ntypes; i++) {
    std::string line = fmt::format("{} {:.15g}", i, epsilon[i][i]);
    if (!per_atom_sizes) line += fmt::format(" {:.15g}", sigma[i][i]);
    if (xc_pair[i][i] > 0.0) line += fmt::format(" {:.15g}", xc_pair[i][i]);
    fprintf(fp, "%s\n", line.c_str());
  }
}

void PairSmoothPowerLaw::write_data_all(FILE *fp)
{
  for (int i = 1; i <= atom->ntypes; i++)
    for (int j = i; j <= atom->ntypes; j++) {
      std::string line = fmt::format("{} {} {:.15g}", i, j, epsilon[i][j]);
      if (!per_atom_sizes) line += fmt::format(" {:.15g}", sigma[i][j]);
      line += fmt::format(" {:.15g}", pair_xc(i, j));
      fprintf(fp, "%s\n", line.c_str());
    }
}

/* ---- extract, memory ------------------------------------------------------------------------- */

void *PairSmoothPowerLaw::extract(const char *str, int &dim)
{
  dim = 2;
  if (strcmp(str, "epsilon") == 0) return (void *) epsilon;
  if (!per_atom_sizes && strcmp(str, "sigma") == 0) return (void *) sigma;
  dim = 0;
  if (strcmp(str, "xc") == 0) return (void *) &xc_global;
  if (per_atom_sizes && strcmp(str, "eps_na") == 0) return (void *) &eps_na;
  return nullptr;
}

double PairSmoothPowerLaw::memory_usage()
{
  const double n = atom->ntypes + 1;
  double bytes = Pair::memory_usage();
  bytes += n * n * (6.0 * sizeof(double) + sizeof(int) + sizeof(Kernel));
  return bytes;
}
