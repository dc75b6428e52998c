/* Common base of glassmodes' smoothed power-law pair styles (not a style itself):

     phi(r) = eps_IJ f(r / s_ij),   f(x) = sum_t a_t x^(-n_t) + sum_{k=0..q} c_k x^(k step)

   for r < x_c s_ij (see smoothed_power_law.h). Subclasses choose the inverse-power terms
   (ipl/smooth: x^-n; lj/smooth/glass: 4 x^-12 - 4 x^-6) and where s_ij comes from (per type pair,
   or per atom for ipl/smooth/poly). Everything else, the force loop, single(), born_matrix(),
   the radial derivatives up to fourth order, restart and data-file output, lives here once.

   single() also fills svector with phi', phi'', phi''', phi'''' (energy / distance^k), so that
   `compute pair/local ... p1 p2 p3 p4` prints the analytic radial derivatives of each pair. */
#ifndef GLASSMODES_PAIR_SMOOTH_POWER_LAW_H
#define GLASSMODES_PAIR_SMOOTH_POWER_LAW_H

#include "pair.h"
#include "radial_derivatives.h"
#include "smoothed_power_law.h"

namespace LAMMPS_NS {

class PairSmoothPowerLaw : public Pair, public glassmodes::RadialDerivatives {
 public:
  PairSmoothPowerLaw(class LAMMPS *, const char *style);
  // noexcept: Pair destructors are noexcept(false), RadialDerivatives' is noexcept
  ~PairSmoothPowerLaw() noexcept override;

  void compute(int, int) override;
  void coeff(int, char **) override;
  double init_one(int, int) override;
  double single(int, int, int, int, double, double, double, double &) override;
  void born_matrix(int, int, int, int, double, double, double, double &, double &) override;
  void write_restart(FILE *) override;
  void read_restart(FILE *) override;
  void write_restart_settings(FILE *) override;
  void read_restart_settings(FILE *) override;
  void write_data(FILE *) override;
  void write_data_all(FILE *) override;
  void *extract(const char *, int &) override;
  double memory_usage() override;

  void radial_derivatives(int i, int j, int itype, int jtype, double rsq, int order,
                          double *d) const override;
  double max_interaction_range() const override;

 protected:
  using Kernel = glassmodes::SmoothedPowerLaw;
  static constexpr int NSVECTOR = 4;                  // single() extras: phi' .. phi''''
  static constexpr double CONTINUITY_TOL = 1.0e-10;    // allowed f^(m)(x_c), relative to its terms

  const char *style;      // style name, for messages
  bool per_atom_sizes;    // s_ij from atom->radius (ipl/smooth/poly) instead of sigma[I][J]

  // kernel settings (pair_style arguments)
  int nterm;                          // inverse-power terms in f
  double amp[Kernel::MAX_TERMS];      // their amplitudes a_t (units of eps)
  double expo[Kernel::MAX_TERMS];     // their exponents n_t
  int q;                              // smoothing order: f, f', ..., f^(q) vanish at x_c
  int step;                           // polynomial powers k*step: 2 (even, default) or 1 (all)
  double xc_global;                   // cutoff in units of s_ij
  int user_coeffs;                    // 1: c_k given with the coeffs keyword
  double coef_user[Kernel::MAX_Q + 1];    // those c_k (units of eps)
  double eps_na;                      // non-additivity of s_ij (per-atom sizes only)

  // per type pair
  double **epsilon;     // eps_IJ (energy)
  double **sigma;       // s_IJ (distance); unused with per-atom sizes
  double **xc_pair;     // cutoff of pair IJ in units of s_ij; <= 0: the global x_c
  double **inv_sigsq;   // 1 / s_IJ^2 (distance^-2)
  Kernel **kernel;      // f for pair IJ (coefficients depend on its x_c)

  virtual void allocate();
  int parse_smoothing_keywords(int iarg, int narg, char **arg);
  void set_kernel(Kernel &k, double xc, bool at_command);
  void check_settings();
  double pair_xc(int i, int j) const { return xc_pair[i][j] > 0.0 ? xc_pair[i][j] : xc_global; }

  // s_ij of two atoms of diameters di, dj (per-atom sizes)
  double sigma_poly(double di, double dj) const
  {
    const double dd = di > dj ? di - dj : dj - di;
    return 0.5 * (di + dj) * (1.0 - eps_na * dd);
  }
  // eps and s of the pair (i, j) at squared distance rsq; false when beyond its cutoff
  bool pair_scales(int i, int j, int itype, int jtype, double rsq, double &eps, double &s) const;

  template <bool POLY> void eval_dispatch();
  template <bool POLY, int Q> void eval();    // Q >= 0: even kernel unrolled for q = Q
};

}    // namespace LAMMPS_NS

#endif
