/* The machinery behind `write_hessian` and `fix hessian/write`: the sparse Hessian (or dynamical
   matrix) of a group, analytic from Pair::born_matrix or by colored central differences of the
   forces, written collectively in PETSc binary AIJ format with its sidecar and atoms file. */
#ifndef GLASSMODES_HESSIAN_BUILDER_H
#define GLASSMODES_HESSIAN_BUILDER_H

#include "json.h"
#include "pointers.h"

#include "distributed_output.h"
#include "force_probe.h"

#include <string>
#include <vector>

namespace LAMMPS_NS {
class NeighList;

namespace glassmodes {

struct HessianOptions {
  enum Method { AUTO, ANALYTIC, FD };
  Method method = AUTO;
  double delta = 1.0e-5;          // fd displacement, distance units
  bool mass_weighted = true;      // write D = M^-1/2 H M^-1/2 (else the plain Hessian)
  double ftol = 1.0e-4;           // warn above this largest residual force (force units)
  bool fcheck = true;             // error when the largest force exceeds 1000 * ftol
  double range = -1.0;            // fd interaction range; < 0: from the force field
  bool symmetrize = true;         // fd: write (H + H^T)/2 (write_fc3: the mean over index permutations)
  int order = 3;                  // write_fc3 only: highest radial derivative stored (3 or 4)
};

// Parse `method|delta|mass|ftol|fcheck|range|symmetrize value` pairs from arg[iarg..narg);
// with `fc3_keywords` also `order` (write_fc3, fix fc3/write).
void parse_hessian_options(LAMMPS *lmp, const char *style, int narg, char **arg, int iarg,
                           HessianOptions &opt, bool fc3_keywords = false);

// Sidecar fields shared by write_hessian and write_fc3: group, step, box, type masses, force
// field, ranks, wall time `seconds`, LAMMPS and glassmodes versions.
void add_common_sidecar_fields(LAMMPS *lmp, int igroup, double seconds, json &j);

class HessianBuilder : protected Pointers {
 public:
  HessianBuilder(LAMMPS *lmp, const char *style, int igroup, const HessianOptions &opt);

  // Compute the matrix of the current configuration and write `path`, `path`.json and
  // `path`.atoms.npy (each under a temporary name first). `full_list` is a current full
  // neighbor list (used by the analytic path). Collective. Restores positions and forces.
  void write(const std::string &path, NeighList *full_list);

  // the method `write` will use for the current force field (AUTO resolved); errors when
  // `method analytic` was asked for and the force field cannot provide it
  HessianOptions::Method resolve_method();

  // Pieces shared with write_fc3 (Fc3Builder):
  // errors for what no method can handle (no masses, kspace, no atom IDs, fd delta vs skin)
  void check_force_field(HessianOptions::Method method);
  // residual-force check of the configuration as it is: warns above ftol, errors above
  // 1000 ftol unless `fcheck no`; sets max_residual_force() and potential_energy(). Collective.
  void check_residual_forces();
  // refuses per-atom masses (rmass) that ghost atoms do not carry correctly (fix property/atom
  // without `ghost yes`) or that are unset; called by check_residual_forces. Collective.
  void check_ghost_masses();
  // the exact Hessian block row of local group atom i (row and columns atom IDs, sorted by
  // column, diagonal included, mass weighted per the options) from Pair::born_matrix over a
  // current full list, appended to `out`
  void analytic_row(NeighList *list, int i, std::vector<MatrixBlock> &out);
  // the number of blocks analytic_row(list, i, out) appends (cheaper: no derivatives)
  int64_t analytic_row_size(NeighList *list, int i);
  // largest distance over which a displaced atom changes another atom's force
  double fd_default_range();
  double mass_of(int i) const;
  // fd: warn about pairs within delta of a discontinuous-force cutoff (sets the count)
  void check_force_jumps(NeighList *list);
  double max_residual_force() const { return fmax; }
  double potential_energy() const { return energy; }
  long force_evaluations() const { return nforce_calls; }

 private:
  std::string style;    // command/fix name for messages
  int igroup, groupbit;
  HessianOptions opt;

  // statistics of the last write, reported and stored in the sidecar
  int ncolors = 0;            // fd colors used
  long nforce_calls = 0;      // force evaluations
  double fmax = 0.0;          // largest residual force on a group atom
  double energy = 0.0;        // potential energy of the configuration
  double interaction_range = 0.0;
  long pairs_at_force_jump = 0;    // fd: pairs within delta of a force jump at the cutoff

  struct NeighborBlock {
    int64_t tag;     // atom ID of the neighbor
    double dx[3];    // separation, orders the images of one atom deterministically
    double v[9];     // d^2 U / dx_i dx_j
    bool in_group;
    double mass;
  };
  std::vector<NeighborBlock> scratch;    // one row's pair blocks, reused
  std::vector<int64_t> scratch_tags;     // one row's neighbor IDs, reused

  void fd_blocks(std::vector<MatrixBlock> &blocks);
  std::string sidecar_json(const std::string &path, int64_t natoms, int64_t nnz,
                           HessianOptions::Method method, double seconds) const;
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
