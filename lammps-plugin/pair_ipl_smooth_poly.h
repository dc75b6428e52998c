/* pair_style ipl/smooth/poly: the smoothed inverse power law of ipl/smooth with a size per atom
   (polydisperse, non-additive; docs/pair_styles.md):

     phi(r) = eps_IJ [ (s_ij/r)^n + sum_{k=0..q} c_k (r/s_ij)^(k step) ]   for r < x_c s_ij,
     s_ij = (s_i + s_j)/2 (1 - eps_na |s_i - s_j|),   s_i = 2 * radius_i (atom_style sphere).

   The neighbor cutoff of types I, J is x_c (smax_I + smax_J)/2 with smax_I the largest diameter
   among atoms of type I at setup; compute() stops with an error if an atom grows beyond it.
   Syntax: pair_style ipl/smooth/poly n q xc eps_na [powers even|all] [coeffs c_0 ... c_q];
   pair_coeff I J eps [xc]. */
#ifdef PAIR_CLASS
// clang-format off
PairStyle(ipl/smooth/poly,PairIPLSmoothPoly);
// clang-format on
#else

#ifndef GLASSMODES_PAIR_IPL_SMOOTH_POLY_H
#define GLASSMODES_PAIR_IPL_SMOOTH_POLY_H

#include "pair_smooth_power_law.h"

namespace LAMMPS_NS {

class PairIPLSmoothPoly : public PairSmoothPowerLaw {
 public:
  PairIPLSmoothPoly(class LAMMPS *);
  ~PairIPLSmoothPoly() noexcept override;

  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;
  double memory_usage() override;

 protected:
  double *smax_type;    // largest diameter 2*radius per atom type at setup (distance)
  int nsmax;            // length of smax_type
};

}    // namespace LAMMPS_NS

#endif
#endif
