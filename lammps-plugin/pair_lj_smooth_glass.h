/* pair_style lj/smooth/glass: 12-6 Lennard-Jones with a polynomial that smooths it to zero at
   its cutoff, per type pair (docs/pair_styles.md):

     phi(r) = eps [ 4 (s/r)^12 - 4 (s/r)^6 + sum_{k=0..q} c_k (r/s)^(k step) ]   for r < x_c s,

   with c_k solved so that phi, phi', ..., phi^(q) vanish at r = x_c s (or given and checked).
   Syntax: pair_style lj/smooth/glass q xc [powers even|all] [coeffs c_0 ... c_q];
   pair_coeff I J eps s [xc]. */
#ifdef PAIR_CLASS
// clang-format off
PairStyle(lj/smooth/glass,PairLJSmoothGlass);
// clang-format on
#else

#ifndef GLASSMODES_PAIR_LJ_SMOOTH_GLASS_H
#define GLASSMODES_PAIR_LJ_SMOOTH_GLASS_H

#include "pair_smooth_power_law.h"

namespace LAMMPS_NS {

class PairLJSmoothGlass : public PairSmoothPowerLaw {
 public:
  PairLJSmoothGlass(class LAMMPS *);
  void settings(int, char **) override;
};

}    // namespace LAMMPS_NS

#endif
#endif
