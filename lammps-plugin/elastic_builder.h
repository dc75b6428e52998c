/* The machinery behind `write_elastic` and `fix elastic/write`: the stress tensor, the Born
   tensor C^B (Voigt) and the mixed derivatives Xi = d2U/du de (d*N x nv, in the Hessian's row
   order) of the whole system, analytic from Pair::born_matrix (phi', phi'') or by central
   differences of forces and virial under affine strain (any potential), written collectively as
   a .npy file with its JSON sidecar and atoms file (the Hessian's conventions). */
#ifndef GLASSMODES_ELASTIC_BUILDER_H
#define GLASSMODES_ELASTIC_BUILDER_H

#include "pointers.h"

#include <cstdint>
#include <string>
#include <vector>

namespace LAMMPS_NS {
class NeighList;

namespace glassmodes {

struct ElasticOptions {
  enum Method { AUTO, ANALYTIC, FD };
  Method method = AUTO;
  double delta = 1.0e-6;    // fd: strain amplitude of the central differences (dimensionless)
  double ftol = 1.0e-4;     // warn above this largest residual force (force units)
  bool fcheck = true;       // error when the largest force exceeds 1000 * ftol
};

// Parse `method|delta|ftol|fcheck value` pairs from arg[iarg..narg).
void parse_elastic_options(LAMMPS *lmp, const char *style, int narg, char **arg, int iarg,
                           ElasticOptions &opt);

class ElasticBuilder : protected Pointers {
 public:
  static constexpr int MAXV = 6;    // Voigt components in 3D (3 in 2D)

  ElasticBuilder(LAMMPS *lmp, const char *style, int igroup, const ElasticOptions &opt);

  // errors for what cannot be handled: a group that is not the whole system, a non-periodic
  // dimension, kspace, `method analytic` without Pair::born_matrix. Returns the method used.
  ElasticOptions::Method check_and_resolve();

  // Compute the terms of the current configuration and write `path`, `path`.json and
  // `path`.atoms.npy (each under a temporary name first). `full_list`: a current full neighbor
  // list. Collective. Restores positions, forces and energy/virial accumulators.
  void write(const std::string &path, NeighList *full_list);

 private:
  std::string style;    // command/fix name for messages
  int igroup, groupbit;
  ElasticOptions opt;
  int dim = 3, nv = 6;
  int va[MAXV], vb[MAXV];    // Voigt component I = (va[I], vb[I]), va <= vb

  // results
  double stress[3][3];            // sigma_ab, energy/distance^d
  double born[MAXV][MAXV];        // C^B_IJ, energy/distance^d
  double volume = 0.0;            // distance^d
  double fd_asymmetry = 0.0;      // fd: max |C_IJ - C_JI| / max |C| before symmetrizing
  long force_calls = 0;
  double fmax = 0.0, energy = 0.0;

  struct AtomTerms {
    int64_t index;                // row block (rank of the atom ID)
    double born[MAXV * MAXV];     // this atom's half of its pairs' Born sums (analytic)
    double stress[9];             // ditto, stress
    double xi[3 * MAXV];          // Xi rows of this atom: xi[mu*nv + I]
  };

  struct Neighbor {
    int64_t tag;       // atom ID of the neighbor
    double dx[3];      // x_j - x_i, orders the images of one atom deterministically
    double du, du2;    // phi', phi''
  };
  std::vector<Neighbor> scratch;    // one atom's neighbors, reused

  void analytic_terms(NeighList *list, int i, AtomTerms &t);
  // fd: Xi of the local atoms (xi[i][mu*nv+I]), born and stress
  void fd_terms(std::vector<AtomTerms> &terms);
  // forces at the saved positions mapped by x -> x + gamma e_a (x_b - boxlo_b) (local and
  // ghost atoms alike, no communication of positions); returns the virial W_ab = -V sigma_ab
  // (all ranks) in `w`. Collective.
  void strained_forces(int a, int b, double gamma, const std::vector<double> &x0, double w[3][3]);
  std::string sidecar_json(const std::string &path, int64_t natoms, ElasticOptions::Method method,
                           double seconds) const;
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
