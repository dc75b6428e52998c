/* The one small derivative interface of glassmodes' pair styles.
   A pair style that derives from both Pair and RadialDerivatives exposes the radial
   derivatives of its pair energy phi(r) up to fourth order. write_hessian uses
   Pair::born_matrix (phi', phi''); write_fc3 and the quartic work use this interface
   (phi''' and phi''''). Found with dynamic_cast<RadialDerivatives *>(force->pair). */
#ifndef GLASSMODES_RADIAL_DERIVATIVES_H
#define GLASSMODES_RADIAL_DERIVATIVES_H

namespace LAMMPS_NS {
namespace glassmodes {

class RadialDerivatives {
 public:
  static constexpr int MAX_ORDER = 4;
  virtual ~RadialDerivatives() = default;

  // d[0..order] = phi, dphi/dr, ..., d^order phi/dr^order (energy / distance^k) for the pair of
  // atoms i, j (local or ghost indices; polydisperse styles read per-atom sizes through them)
  // of types itype, jtype at squared distance rsq. Beyond the pair's cutoff all are 0.
  virtual void radial_derivatives(int i, int j, int itype, int jtype, double rsq, int order,
                                  double *d) const = 0;

  // largest distance (distance units) at which any pair of this style interacts
  virtual double max_interaction_range() const = 0;
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
