/* pair_style ipl/smooth: inverse power law with a polynomial that smooths it to zero at its
   cutoff, per type pair (docs/pair_styles.md):

     phi(r) = eps [ (s/r)^n + sum_{k=0..q} c_k (r/s)^(k step) ]   for r < x_c s, else 0,

   with c_k solved so that phi, phi', ..., phi^(q) vanish at r = x_c s (or given by the user and
   checked). Syntax: pair_style ipl/smooth n q xc [powers even|all] [coeffs c_0 ... c_q];
   pair_coeff I J eps s [xc]. */
#ifdef PAIR_CLASS
// clang-format off
PairStyle(ipl/smooth,PairIPLSmooth);
// clang-format on
#else

#ifndef GLASSMODES_PAIR_IPL_SMOOTH_H
#define GLASSMODES_PAIR_IPL_SMOOTH_H

#include "pair_smooth_power_law.h"

namespace LAMMPS_NS {

class PairIPLSmooth : public PairSmoothPowerLaw {
 public:
  PairIPLSmooth(class LAMMPS *);
  void settings(int, char **) override;
};

}    // namespace LAMMPS_NS

#endif
#endif
