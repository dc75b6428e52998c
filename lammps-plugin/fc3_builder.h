/* The machinery behind `write_fc3` and `fix fc3/write`: third-order force constants
   Phi3(i,j,k)_{abc} = d^3 U / dx_{i,a} dx_{j,b} dx_{k,c} of a group (and, for pair potentials, what
   the fourth-order ones need), written collectively as NumPy .npy records with a JSON sidecar and
   the atoms file of write_hessian. See docs/fc3.md.

   Analytic path (pair potentials with phi', phi'', phi''' per pair): one record per interacting
   pair, the "pair derivative table" (i, j, r = x_j - x_i, phi', phi'', phi'''[, phi'''']), from
   which every block of Phi3 (and Phi4) follows. With n = r/|r|, C = phi''/r - phi'/r^2 and
   D = phi''' - 3 C, the derivatives of phi(|r|) with respect to the components of r are

     H_ab    = phi'' n_a n_b + (phi'/r) (delta_ab - n_a n_b)
     T_abc   = dH_ab/dr_c = D n_a n_b n_c + C (delta_ab n_c + delta_ac n_b + delta_bc n_a)
     Q_abcd  = dT_abc/dr_d = (phi'''' - 6 phi'''/r + 15 C/r) n_a n_b n_c n_d
               + (D/r) (delta_ab n_c n_d + 5 more pairings) + (C/r) (delta_ab delta_cd + 2 more)

   (derivation: dn_a/dr_c = (delta_ac - n_a n_c)/r and H = r C n n + (phi'/r) I; d(phi'/r)/dr = C
   gives C delta_ab n_c, d(rC)/dr = phi''' - C gives (phi''' - C) nnn, the two n's give
   C (delta_ac n_b + n_a delta_bc - 2 nnn); Q follows with dC/dr = (phi''' - 2C)/r; docs/fc3.md).
   Since r = x_j - x_i, each derivative
   with respect to x_i is -d/dr and with respect to x_j is +d/dr:

     Phi3(p,q,s) = (-1)^(number of i among p,q,s) T   for p,q,s in {i,j}, summed over pairs,

   and likewise Phi4 with Q. The analytic path needs Pair styles implementing
   glassmodes::RadialDerivatives, or LAMMPS's lj/cut (closed forms of 4 eps [(s/r)^12 - (s/r)^6]).

   Finite-difference path (any force field): Phi3(i,j,k) = dH_jk / dx_i by central differences of
   Hessians under colored displacements (SpatialColoring with the Hessian's interaction range R:
   displacing i changes row j of H only for i within R of j, so the response of row j to a whole
   color comes from the single atom of that color near j). The Hessians are analytic
   (Pair::born_matrix) for pair styles that have it, else themselves colored central differences
   of forces. Evaluations: 2 d C Hessians, or (2 d C)^2 force evaluations, C colors: independent
   of N. Output: one d x d x d block per ordered triple (i,j,k), symmetrized over the six index
   permutations (keyword `symmetrize`). */
#ifndef GLASSMODES_FC3_BUILDER_H
#define GLASSMODES_FC3_BUILDER_H

#include "pointers.h"

#include "hessian_builder.h"

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace LAMMPS_NS {
class NeighList;

namespace glassmodes {

class RadialDerivatives;

// One interacting pair of the analytic table (IDs first, matrix indices when written).
struct PairRecord {
  int64_t i;       // atom of the pair inside the group (the smaller ID when both are)
  int64_t j;       // the other atom; -1 when it is outside the group (held fixed)
  double r[3];     // x_j - x_i (the interacting image), distance units
  double d[4];     // phi', phi'', phi''', phi'''' (energy / distance^k); unused orders 0
};

// One d x d x d block of Phi3 (IDs first, matrix indices when written).
struct TripleBlock {
  int64_t i, j, k;
  int32_t perm;      // the index permutation that brought it to its canonical triple (orders sums)
  int32_t pad;
  double v[27];      // v[(a*d + b)*d + c] = Phi3(i_a, j_b, k_c)
};

// Where the analytic path gets phi', phi'', phi''' (and phi''''): the plugin's RadialDerivatives
// styles, or closed forms for LAMMPS's lj/cut.
class PairRadialSource {
 public:
  explicit PairRadialSource(LAMMPS *lmp);
  bool available() const { return why.empty(); }
  const std::string &reason() const { return why; }    // why not available
  const char *kind() const { return plugin ? "RadialDerivatives" : "lj/cut closed form"; }
  // d[0..3] = phi', ..., phi'''' of the pair at rsq (0 beyond its cutoff), up to `order`
  void derivatives(int i, int j, int itype, int jtype, double rsq, int order, double *d) const;

 private:
  std::string why;
  const RadialDerivatives *plugin = nullptr;
  double **epsilon = nullptr, **sigma = nullptr, **cutsq = nullptr;    // lj/cut
};

class Fc3Builder : protected Pointers {
 public:
  Fc3Builder(LAMMPS *lmp, const char *style, int igroup, const HessianOptions &opt);

  // Compute the tensor of the current configuration and write `path` (.npy records),
  // `path`.json and `path`.atoms.npy (temporary names first, renamed together). `full_list`: a
  // current full neighbor list. Collective. Restores positions and forces.
  void write(const std::string &path, NeighList *full_list);

  // the method write() will use (AUTO resolved); errors when `method analytic` or `order 4` is
  // impossible for the force field, naming it and the alternative
  HessianOptions::Method resolve_method();

 private:
  std::string style;    // command/fix name for messages
  int igroup, groupbit;
  HessianOptions opt;
  HessianBuilder hessian;    // shared checks, masses, analytic Hessian rows (plain, unweighted)

  // statistics of the last write, reported and stored in the sidecar
  int ncolors = 0;
  long nhessian_calls = 0;    // fd: Hessian evaluations (analytic rows, or fd from forces)
  long nforce_calls = 0;      // force evaluations
  double interaction_range = 0.0;
  std::string fd_hessians;    // fd: "analytic" or "fd"
  std::unordered_map<int64_t, double> known_mass;    // fd: mass of every atom ID in a block

  void analytic_pairs(NeighList *list, std::vector<PairRecord> &pairs);
  using RowMap = std::map<std::pair<int64_t, int64_t>, TripleBlock>;    // (i, k) -> block (j, i, k)
  void fd_from_hessians(NeighList *list, std::vector<RowMap> &rows);
  void fd_from_forces(std::vector<RowMap> &rows);
  void finish_blocks(std::vector<RowMap> &rows, std::vector<TripleBlock> &blocks);
  std::vector<TripleBlock> expand_symmetric(const std::vector<TripleBlock> &canonical);
  std::string sidecar_json(const std::string &path, int64_t natoms, int64_t nrecords,
                           HessianOptions::Method method, double seconds) const;
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
