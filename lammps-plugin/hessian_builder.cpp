#include "hessian_builder.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "fix.h"
#include "group.h"
#include "modify.h"
#include "json.h"
#include "lammps.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "pair.h"
#include "update.h"
#include "utils.h"

#include "atom_index_map.h"
#include "atom_record.h"
#include "exchange.h"
#include "fd_coloring.h"
#include "output_files.h"
#include "platform.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_map>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

#ifndef GLASSMODES_VERSION
#define GLASSMODES_VERSION "unknown"
#endif

void LAMMPS_NS::glassmodes::parse_hessian_options(LAMMPS *lmp, const char *style, int narg,
                                                  char **arg, int iarg, HessianOptions &opt,
                                                  bool fc3_keywords)
{
  while (iarg < narg) {
    const std::string key = arg[iarg];
    if (iarg + 2 > narg) utils::missing_cmd_args(FLERR, std::string(style) + " " + key, lmp->error);
    const char *val = arg[iarg + 1];
    if (key == "method") {
      const std::string v = val;
      if (v == "auto") opt.method = HessianOptions::AUTO;
      else if (v == "analytic") opt.method = HessianOptions::ANALYTIC;
      else if (v == "fd") opt.method = HessianOptions::FD;
      else lmp->error->all(FLERR, "{}: method must be auto, analytic or fd, not {}", style, v);
    } else if (key == "delta") {
      opt.delta = utils::numeric(FLERR, val, false, lmp);
      if (opt.delta <= 0.0) lmp->error->all(FLERR, "{}: delta must be > 0, not {}", style, val);
    } else if (key == "mass") {
      opt.mass_weighted = utils::logical(FLERR, val, false, lmp) != 0;
    } else if (key == "ftol") {
      opt.ftol = utils::numeric(FLERR, val, false, lmp);
      if (opt.ftol <= 0.0) lmp->error->all(FLERR, "{}: ftol must be > 0, not {}", style, val);
    } else if (key == "fcheck") {
      opt.fcheck = utils::logical(FLERR, val, false, lmp) != 0;
    } else if (key == "range") {
      opt.range = utils::numeric(FLERR, val, false, lmp);
      if (opt.range <= 0.0) lmp->error->all(FLERR, "{}: range must be > 0, not {}", style, val);
    } else if (key == "symmetrize") {
      opt.symmetrize = utils::logical(FLERR, val, false, lmp) != 0;
    } else if (key == "order" && fc3_keywords) {
      opt.order = utils::inumeric(FLERR, val, false, lmp);
      if (opt.order != 3 && opt.order != 4)
        lmp->error->all(FLERR, "{}: order must be 3 or 4, not {}", style, val);
    } else {
      lmp->error->all(FLERR, "{}: unknown keyword {}", style, key);
    }
    iarg += 2;
  }
}

HessianBuilder::HessianBuilder(LAMMPS *lmp, const char *style_in, int igroup_in,
                               const HessianOptions &opt_in) :
    Pointers(lmp), style(style_in), igroup(igroup_in), opt(opt_in)
{
  groupbit = group->bitmask[igroup];
}

double HessianBuilder::mass_of(int i) const
{
  return atom->rmass ? atom->rmass[i] : atom->mass[atom->type[i]];
}

// Which method write() uses; errors for `method analytic` when the force field cannot give it.
HessianOptions::Method HessianBuilder::resolve_method()
{
  std::string why;
  Pair *pair = force->pair;
  if (!pair) why = "no pair style is defined";
  else if (!pair->born_matrix_enable)
    why = fmt::format("pair style {} has no analytic second derivatives (born_matrix)",
                      force->pair_style);
  else if (pair->manybody_flag)
    why = fmt::format("pair style {} is a many-body potential", force->pair_style);
  else if (atom->molecular != Atom::ATOMIC &&
           (force->bond || force->angle || force->dihedral || force->improper))
    why = "bonded interactions are only handled by finite differences";
  if (opt.method == HessianOptions::ANALYTIC && !why.empty())
    error->all(FLERR, "{}: method analytic impossible: {}; use method fd", style, why);
  if (opt.method == HessianOptions::FD || !why.empty()) return HessianOptions::FD;
  return HessianOptions::ANALYTIC;
}

void HessianBuilder::check_force_field(HessianOptions::Method method)
{
  if (atom->natoms == 0) error->all(FLERR, "{}: no atoms", style);
  if (group->count(igroup) == 0) error->all(FLERR, "{}: group {} has no atoms", style, group->names[igroup]);
  if (!atom->rmass) {
    for (int t = 1; t <= atom->ntypes; t++)
      if (!atom->mass_setflag[t]) error->all(FLERR, "{}: mass of atom type {} is not set", style, t);
  }
  if (force->kspace)
    error->all(FLERR, "{}: kspace style {} makes the Hessian dense; not supported", style,
               force->kspace_style);
  if (!atom->tag_enable) error->all(FLERR, "{}: atoms need IDs (atom_modify id yes)", style);
  if (method == HessianOptions::FD) {
    if (opt.delta >= 0.5 * neighbor->skin)
      error->all(FLERR, "{}: delta {} must be smaller than half the neighbor skin ({})", style,
                 opt.delta, neighbor->skin);
  }
}

// Largest distance over which a displaced atom changes another atom's force.
double HessianBuilder::fd_default_range()
{
  if (opt.range > 0.0) return opt.range;
  if (atom->molecular != Atom::ATOMIC)
    error->all(FLERR, "{}: molecular systems need the `range` keyword (the largest distance "
               "between atoms coupled by any bonded or pair term)", style);
  double cut = force->pair ? force->pair->cutforce : 0.0;
  if (cut <= 0.0) error->all(FLERR, "{}: the pair style reports no cutoff; give `range`", style);
  // many-body: atoms i and j couple through a common neighbor k, up to two cutoffs apart
  return force->pair->manybody_flag ? 2.0 * cut : cut;
}


// Exact block row of local atom i from Pair::born_matrix: for the pair (i,j) at separation r,
// n = r_ij / r,  H_ij = -[phi'' n n + (phi'/r) (I - n n)],  H_ii = -sum_{j != i} H_ij.
// Blocks sorted by column atom ID (diagonal included, columns restricted to the group); every
// sum runs in atom-ID order, so the row does not depend on the domain decomposition.
void HessianBuilder::analytic_row(NeighList *list, int i, std::vector<MatrixBlock> &out)
{
  const int dim = domain->dimension;
  double **x = atom->x;
  int *type = atom->type, *mask = atom->mask;
  tagint *tag = atom->tag;
  Pair *pair = force->pair;
  double **cutsq = pair->cutsq;
  const double *special_lj = force->special_lj, *special_coul = force->special_coul;
  const int itype = type[i];
  const int *jlist = list->firstneigh[i];
  std::vector<NeighborBlock> &row = scratch;
  row.clear();
  for (int jj = 0; jj < list->numneigh[i]; jj++) {
    int j = jlist[jj];
    const double factor_lj = special_lj[j >> SBBITS & 3], factor_coul = special_coul[j >> SBBITS & 3];
    j &= NEIGHMASK;
    const int jtype = type[j];
    double del[3] = {x[j][0] - x[i][0], x[j][1] - x[i][1], dim == 3 ? x[j][2] - x[i][2] : 0.0};
    const double rsq = del[0] * del[0] + del[1] * del[1] + del[2] * del[2];
    if (rsq >= cutsq[itype][jtype]) continue;
    double du = 0.0, du2 = 0.0;
    pair->born_matrix(i, j, itype, jtype, rsq, factor_coul, factor_lj, du, du2);
    const double r = std::sqrt(rsq);
    const double n[3] = {del[0] / r, del[1] / r, del[2] / r};
    NeighborBlock b;
    b.tag = tag[j];
    std::memcpy(b.dx, del, sizeof(del));
    b.in_group = (mask[j] & groupbit) != 0;
    b.mass = mass_of(j);
    for (int a = 0; a < dim; a++)
      for (int c = 0; c < dim; c++)
        b.v[a * dim + c] = -((du2 - du / r) * n[a] * n[c] + (a == c ? du / r : 0.0));
    row.push_back(b);
  }
  std::sort(row.begin(), row.end(), [](const NeighborBlock &a, const NeighborBlock &b) {
    if (a.tag != b.tag) return a.tag < b.tag;
    return std::lexicographical_compare(a.dx, a.dx + 3, b.dx, b.dx + 3);
  });
  MatrixBlock diag{};
  diag.row = diag.col = tag[i];
  const double mi = mass_of(i);
  size_t diag_at = 0;
  for (size_t k = 0; k < row.size();) {
    size_t e = k;
    MatrixBlock off{};
    off.row = tag[i];
    off.col = row[k].tag;
    while (e < row.size() && row[e].tag == row[k].tag) {
      for (int q = 0; q < dim * dim; q++) off.v[q] += row[e].v[q];
      e++;
    }
    // the atom's own periodic images (tiny boxes) move with it: they add nothing to H_ii
    if (row[k].tag != (int64_t) tag[i]) {
      for (int q = 0; q < dim * dim; q++) diag.v[q] -= off.v[q];
      if (row[k].in_group) {
        if (opt.mass_weighted)
          for (int q = 0; q < dim * dim; q++) off.v[q] /= std::sqrt(mi * row[k].mass);
        out.push_back(off);
      }
    }
    if (row[k].tag < (int64_t) tag[i]) diag_at = out.size();
    k = e;
  }
  if (opt.mass_weighted)
    for (int q = 0; q < dim * dim; q++) diag.v[q] /= mi;
  out.insert(out.begin() + diag_at, diag);
}

// Blocks analytic_row(list, i) will produce: distinct group neighbors within the cutoff, + 1.
int64_t HessianBuilder::analytic_row_size(NeighList *list, int i)
{
  const int dim = domain->dimension;
  double **x = atom->x;
  int *type = atom->type, *mask = atom->mask;
  tagint *tag = atom->tag;
  double **cutsq = force->pair->cutsq;
  const int *jlist = list->firstneigh[i];
  std::vector<int64_t> &tags = scratch_tags;
  tags.clear();
  for (int jj = 0; jj < list->numneigh[i]; jj++) {
    const int j = jlist[jj] & NEIGHMASK;
    if (!(mask[j] & groupbit) || tag[j] == tag[i]) continue;
    double del[3] = {x[j][0] - x[i][0], x[j][1] - x[i][1], dim == 3 ? x[j][2] - x[i][2] : 0.0};
    if (del[0] * del[0] + del[1] * del[1] + del[2] * del[2] < cutsq[type[i]][type[j]])
      tags.push_back(tag[j]);
  }
  std::sort(tags.begin(), tags.end());
  return (int64_t) (std::unique(tags.begin(), tags.end()) - tags.begin()) + 1;
}

// Colored central differences: H(j,i)[.][alpha] = -(F_j(x_i + delta e_alpha) - F_j(x_i - delta
// e_alpha)) / (2 delta), all atoms of one color displaced together.
void HessianBuilder::fd_blocks(std::vector<MatrixBlock> &blocks)
{
  const int dim = domain->dimension;
  const int nlocal = atom->nlocal;
  int *mask = atom->mask;
  tagint *tag = atom->tag;
  interaction_range = fd_default_range();
  SpatialColoring coloring(lmp, groupbit, interaction_range);
  ncolors = coloring.ncolors();
  if (comm->me == 0)
    utils::logmesg(lmp, "{}: finite differences, range {:.6g}, grid {}x{}x{} cells, period {}x{}x{}, "
                   "{} colors, {} force evaluations\n", style, interaction_range,
                   coloring.grid()[0], coloring.grid()[1], coloring.grid()[2], coloring.periods()[0],
                   coloring.periods()[1], coloring.periods()[2], ncolors, 2 * dim * ncolors);

  // rows of this rank's group atoms, keyed by column atom ID
  std::vector<std::map<int64_t, MatrixBlock>> rows(nlocal);
  std::vector<double> fplus(3 * nlocal);
  ForceProbe probe(lmp);
  double **x = atom->x, **f = atom->f;
  int violations = 0;
  const double inv2d = 1.0 / (2.0 * opt.delta);
  int next_report = 10;
  for (int c = 0; c < ncolors; c++) {
    int mine = 0, any = 0;
    for (int i = 0; i < nlocal; i++) mine += coloring.color(i) == c;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_SUM, world);
    if (!any) continue;
    for (int alpha = 0; alpha < dim; alpha++) {
      for (int sign = 0; sign < 2; sign++) {
        for (int i = 0; i < nlocal; i++)
          if (coloring.color(i) == c)
            x[i][alpha] = probe.saved_position(i)[alpha] + (sign == 0 ? opt.delta : -opt.delta);
        probe.evaluate(false);
        if (sign == 0) std::memcpy(fplus.data(), &f[0][0], sizeof(double) * 3 * nlocal);
        probe.reset_positions();
      }
      for (int j = 0; j < nlocal; j++) {
        if (!(mask[j] & groupbit)) continue;
        double h[3];
        bool nonzero = false;
        for (int b = 0; b < dim; b++) {
          h[b] = -(fplus[3 * j + b] - f[j][b]) * inv2d;
          nonzero |= h[b] != 0.0;
        }
        if (!nonzero) continue;
        int64_t col;
        double mcol;
        if (!coloring.column_atom(j, c, col, mcol)) {
          violations++;
          continue;
        }
        auto &blk = rows[j][col];
        blk.row = tag[j];
        blk.col = col;
        const double scale = opt.mass_weighted ? 1.0 / std::sqrt(mass_of(j) * mcol) : 1.0;
        for (int b = 0; b < dim; b++) blk.v[b * dim + alpha] = h[b] * scale;
      }
    }
    if (comm->me == 0 && 100 * (c + 1) >= next_report * ncolors) {
      utils::logmesg(lmp, "{}: {}% of colors done\n", style, 100 * (c + 1) / ncolors);
      next_report = 10 * (100 * (c + 1) / (10 * ncolors) + 1);
    }
  }
  nforce_calls += probe.calls();
  int allviolations = 0;
  MPI_Allreduce(&violations, &allviolations, 1, MPI_INT, MPI_SUM, world);
  if (allviolations)
    error->all(FLERR, "{}: {} force responses came from farther than the interaction range {}; "
               "give a larger `range`", style, allviolations, interaction_range);

  for (int j = 0; j < nlocal; j++) {
    if (!(mask[j] & groupbit)) continue;
    if (rows[j].find(tag[j]) == rows[j].end()) {    // an atom that feels nothing: zero diagonal
      MatrixBlock z{};
      z.row = z.col = tag[j];
      rows[j][tag[j]] = z;
    }
    for (auto &kv : rows[j]) {
      MatrixBlock b = kv.second;
      if (!opt.symmetrize) {
        blocks.push_back(b);
        continue;
      }
      // (H + H^T)/2: half of the block here, half of its transpose at (col,row); the two halves
      // meeting at one position are summed by the writer (a commutative, exact-order sum)
      MatrixBlock t{};
      t.row = b.col;
      t.col = b.row;
      for (int a = 0; a < dim; a++)
        for (int q = 0; q < dim; q++) {
          t.v[q * dim + a] = 0.5 * b.v[a * dim + q];
          b.v[a * dim + q] *= 0.5;
        }
      blocks.push_back(b);
      blocks.push_back(t);
    }
  }
}

// Pairs whose separation lies within delta of the cutoff of a pair style whose force does not
// vanish there (lj/cut, ...): displacing one of their atoms by +-delta crosses the force jump and
// that finite difference is off by about jump/(2 delta). Counted once per pair, warned about on
// rank 0 with the largest jump. Pairwise styles with Pair::single only (many-body styles are
// smooth at their cutoffs). Collective.
void HessianBuilder::check_force_jumps(NeighList *list)
{
  Pair *pair = force->pair;
  pairs_at_force_jump = 0;
  if (!pair || pair->manybody_flag || !pair->single_enable || !list) return;
  double **x = atom->x;
  int *type = atom->type;
  double **cutsq = pair->cutsq;
  const int dim = domain->dimension;
  const double *special_lj = force->special_lj, *special_coul = force->special_coul;
  long near = 0;
  double jump = 0.0;
  for (int ii = 0; ii < list->inum; ii++) {
    const int i = list->ilist[ii];
    if (!(atom->mask[i] & groupbit)) continue;
    for (int jj = 0; jj < list->numneigh[i]; jj++) {
      int j = list->firstneigh[i][jj];
      const double factor_lj = special_lj[j >> SBBITS & 3], factor_coul = special_coul[j >> SBBITS & 3];
      j &= NEIGHMASK;
      double del[3] = {x[j][0] - x[i][0], x[j][1] - x[i][1], dim == 3 ? x[j][2] - x[i][2] : 0.0};
      const double r = std::sqrt(del[0] * del[0] + del[1] * del[1] + del[2] * del[2]);
      const double rc = std::sqrt(cutsq[type[i]][type[j]]);
      if (std::fabs(r - rc) >= opt.delta) continue;
      double fpair = 0.0;    // force/r just inside the cutoff
      pair->single(i, j, type[i], type[j], rc * rc * (1.0 - 1.0e-12), factor_coul, factor_lj, fpair);
      const double f = std::fabs(fpair) * rc;
      if (f > 1.0e-8) {
        near++;
        jump = std::max(jump, f);
      }
    }
  }
  long all = 0;
  double alljump = 0.0;
  MPI_Allreduce(&near, &all, 1, MPI_LONG, MPI_SUM, world);
  MPI_Allreduce(&jump, &alljump, 1, MPI_DOUBLE, MPI_MAX, world);
  pairs_at_force_jump = all / 2;    // a full list holds every pair twice
  if (pairs_at_force_jump && comm->me == 0)
    error->warning(FLERR, "{}: {} pair(s) lie within delta = {:.3g} of a cutoff where pair style {} "
                   "does not bring the force to zero (jump up to {:.3g}); their finite differences "
                   "are off by up to jump/(2 delta) = {:.3g}. Use method analytic, a smaller delta, "
                   "or a pair style with a smooth cutoff", style, pairs_at_force_jump, opt.delta,
                   force->pair_style, alljump, alljump / (2.0 * opt.delta));
}

// Per-atom masses (rmass) are read on ghost atoms too (mass weighting of pairs through a ghost,
// fd colorings). `fix property/atom rmass` without `ghost yes` never sends them to ghosts: the
// ghosts keep 0 or stale values and the matrix gets inf or wrong entries. Compare every ghost's
// rmass with its owner's (a rendezvous by atom ID) and refuse, naming the fix, on any difference;
// also refuse unset (non-positive) masses of group atoms. Collective.
void HessianBuilder::check_ghost_masses()
{
  if (!atom->rmass) return;
  int64_t bad_owner = 0, owner_tag = 0;
  double owner_mass = 0.0;
  for (int i = 0; i < atom->nlocal; i++)
    if ((atom->mask[i] & groupbit) && !(atom->rmass[i] > 0.0) && bad_owner++ == 0) {
      owner_tag = atom->tag[i];
      owner_mass = atom->rmass[i];
    }
  int64_t nbad_owner = 0;
  MPI_Allreduce(&bad_owner, &nbad_owner, 1, MPI_INT64_T, MPI_SUM, world);
  if (nbad_owner) {
    int64_t tag = bad_owner ? owner_tag : INT64_MAX, first = 0;
    MPI_Allreduce(&tag, &first, 1, MPI_INT64_T, MPI_MIN, world);
    error->all(FLERR, "{}: {} atom(s) of group {} have a per-atom mass (rmass) <= 0{}: set the masses "
               "(e.g. `set group all mass 1.0`) before writing", style, nbad_owner, group->names[igroup],
               first == owner_tag && bad_owner ? fmt::format(" (atom {}: {})", owner_tag, owner_mass) : "");
  }

  struct MassRecord {
    int64_t tag;
    double mass;
    int32_t ghost;
    int32_t pad;
  };
  int64_t mytag = 0, maxtag = 0;
  for (int i = 0; i < atom->nlocal; i++) mytag = std::max<int64_t>(mytag, atom->tag[i]);
  MPI_Allreduce(&mytag, &maxtag, 1, MPI_INT64_T, MPI_MAX, world);
  const int nall = atom->nlocal + atom->nghost;
  std::vector<MassRecord> recs(nall);
  std::vector<int> dest(nall);
  for (int i = 0; i < nall; i++) {
    recs[i] = {(int64_t) atom->tag[i], atom->rmass[i], i >= atom->nlocal ? 1 : 0, 0};
    dest[i] = block_owner(recs[i].tag - 1, maxtag, comm->nprocs);
  }
  std::vector<MassRecord> got = exchange(world, dest, recs);
  std::unordered_map<int64_t, double> owners;
  for (const auto &r : got)
    if (!r.ghost) owners[r.tag] = r.mass;
  int64_t bad = 0, example = INT64_MAX;
  double ghost_mass = 0.0, true_mass = 0.0;
  for (const auto &r : got) {
    if (!r.ghost) continue;
    auto it = owners.find(r.tag);
    if (it == owners.end() || std::memcmp(&it->second, &r.mass, sizeof(double)) == 0) continue;
    if (bad++ == 0 || r.tag < example) {
      example = r.tag;
      ghost_mass = r.mass;
      true_mass = it->second;
    }
  }
  int64_t nbad = 0, first = INT64_MAX;
  MPI_Allreduce(&bad, &nbad, 1, MPI_INT64_T, MPI_SUM, world);
  if (!nbad) return;
  MPI_Allreduce(&example, &first, 1, MPI_INT64_T, MPI_MIN, world);
  // the rank holding the smallest offending ID reports the values
  double vals[2] = {example == first ? ghost_mass : 0.0, example == first ? true_mass : 0.0}, all[2];
  MPI_Allreduce(vals, all, 2, MPI_DOUBLE, MPI_SUM, world);
  std::string fixes;
  for (const auto *fix : modify->get_fix_list())
    if (std::strcmp(fix->style, "property/atom") == 0 && fix->comm_border == 0)
      fixes += (fixes.empty() ? "" : ", ") + std::string(fix->id);
  error->all(FLERR, "{}: per-atom masses (rmass) are not communicated to ghost atoms ({} ghost "
             "copies differ from their owners, e.g. atom {}: {} on a ghost, {} on its owner){}; "
             "the matrix entries of pairs through ghosts would be wrong or inf. Add `ghost yes` to the "
             "fix property/atom that defines rmass", style, nbad, first, all[0], all[1],
             fixes.empty() ? std::string() : fmt::format(" (fix property/atom without ghost yes: {})", fixes));
}

// Residual forces and energy of the configuration as it is.
void HessianBuilder::check_residual_forces()
{
  {
    ForceProbe probe(lmp);
    energy = probe.evaluate(true);
    double local = 0.0;
    for (int i = 0; i < atom->nlocal; i++)
      if (atom->mask[i] & groupbit) {
        double *fi = atom->f[i];
        local = std::max(local, std::sqrt(fi[0] * fi[0] + fi[1] * fi[1] + fi[2] * fi[2]));
      }
    MPI_Allreduce(&local, &fmax, 1, MPI_DOUBLE, MPI_MAX, world);
    nforce_calls = probe.calls();
  }
  check_ghost_masses();
  if (fmax > opt.ftol) {
    if (opt.fcheck && fmax > 1000.0 * opt.ftol)
      error->all(FLERR, "{}: largest residual force {:.3e} is far above ftol {:.3e}: the structure "
                 "is not minimized (minimize first, or `fcheck no` to go on)", style, fmax, opt.ftol);
    if (comm->me == 0)
      error->warning(FLERR, "{}: largest residual force {:.3e} exceeds ftol {:.3e}; the Hessian "
                     "is not that of a minimum", style, fmax, opt.ftol);
  }
}

void HessianBuilder::write(const std::string &path, NeighList *full_list)
{
  const double t0 = platform::walltime();
  HessianOptions::Method method = resolve_method();
  check_force_field(method);
  const int dim = domain->dimension;

  check_residual_forces();

  // atom IDs -> matrix indices (rank of the ID within the group)
  std::vector<int64_t> own_tags;
  std::vector<int> own_atoms;
  std::vector<AtomRecord> records;
  for (int i = 0; i < atom->nlocal; i++)
    if (atom->mask[i] & groupbit) {
      own_tags.push_back(atom->tag[i]);
      own_atoms.push_back(i);
      records.push_back(atom_record(atom, i, mass_of(i)));
    }
  AtomIndexMap index_map(world, own_tags);
  const int64_t natoms = index_map.size();
  std::vector<int64_t> own_index = index_map.lookup(own_tags);
  for (size_t k = 0; k < records.size(); k++) records[k].index = own_index[k];

  OutputFiles files(lmp, style, {path, path + ".atoms.npy", path + ".json"});
  WriteResult res;
  ncolors = 0;
  if (method == HessianOptions::ANALYTIC) {
    // complete rows of this rank's atoms, streamed to their place in the file
    std::unordered_map<int64_t, int64_t> index_of;    // group atoms among local + ghost atoms
    {
      std::vector<int64_t> tags;
      for (int i = 0; i < atom->nlocal + atom->nghost; i++)
        if (atom->mask[i] & groupbit) tags.push_back(atom->tag[i]);
      std::sort(tags.begin(), tags.end());
      tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
      std::vector<int64_t> idx = index_map.lookup(tags);
      index_of.reserve(tags.size());
      for (size_t k = 0; k < tags.size(); k++) index_of[tags[k]] = idx[k];
    }
    res = write_petsc_block_rows(world, files.temporary(0), dim, natoms, own_index,
                                 [&](int64_t r) { return analytic_row_size(full_list, own_atoms[r]); },
                                 [&](int64_t r, std::vector<MatrixBlock> &out) {
                                   analytic_row(full_list, own_atoms[r], out);
                                   for (auto &b : out) {
                                     b.row = own_index[r];
                                     b.col = index_of.at(b.col);
                                   }
                                 });
  } else {
    check_force_jumps(full_list);
    std::vector<MatrixBlock> blocks;
    fd_blocks(blocks);
    std::vector<int64_t> ids(2 * blocks.size());
    for (size_t k = 0; k < blocks.size(); k++) {
      ids[2 * k] = blocks[k].row;
      ids[2 * k + 1] = blocks[k].col;
    }
    std::vector<int64_t> idx = index_map.lookup(ids);
    for (size_t k = 0; k < blocks.size(); k++) {
      blocks[k].row = idx[2 * k];
      blocks[k].col = idx[2 * k + 1];
    }
    res = write_petsc_block_matrix(world, files.temporary(0), dim, natoms, std::move(blocks));
  }
  if (res.error.empty()) res.error = write_atoms_npy(world, files.temporary(1), natoms, std::move(records)).error;
  if (!res.error.empty()) files.fail(res.error);
  const double seconds = platform::walltime() - t0;
  files.write_sidecar(2, sidecar_json(path, natoms, res.nnz, method, seconds), {"matrix", "atoms", "sidecar"});
  files.commit();

  if (comm->me == 0)
    utils::logmesg(lmp, "{}: wrote {} ({} atoms, {} nonzeros, {} method, {} force evaluations, "
                   "largest residual force {:.3e}) in {:.3f} s\n", style, path, natoms, res.nnz,
                   method == HessianOptions::ANALYTIC ? "analytic" : "fd", nforce_calls, fmax, seconds);
}

// Fields every sidecar of the plugin carries: group, step, box, masses, force field, ranks,
// wall time and versions.
void LAMMPS_NS::glassmodes::add_common_sidecar_fields(LAMMPS *lmp, int igroup, double seconds, json &j)
{
  const Domain *domain = lmp->domain;
  const Atom *atom = lmp->atom;
  const Force *force = lmp->force;
  j["group"] = lmp->group->names[igroup];
  j["timestep"] = lmp->update->ntimestep;
  j["box"] = {{"boxlo", {domain->boxlo[0], domain->boxlo[1], domain->boxlo[2]}},
              {"boxhi", {domain->boxhi[0], domain->boxhi[1], domain->boxhi[2]}},
              {"xy", domain->xy},
              {"xz", domain->xz},
              {"yz", domain->yz},
              {"triclinic", domain->triclinic != 0},
              {"periodicity", {domain->periodicity[0], domain->periodicity[1], domain->periodicity[2]}}};
  std::vector<double> type_mass;
  if (atom->mass)
    for (int t = 1; t <= atom->ntypes; t++) type_mass.push_back(atom->mass_setflag[t] ? atom->mass[t] : 0.0);
  j["type_masses"] = type_mass;
  j["per_atom_mass"] = atom->rmass != nullptr;
  j["pair_style"] = force->pair_style ? force->pair_style : "none";
  j["manybody"] = force->pair ? force->pair->manybody_flag != 0 : false;
  j["pair_cutoff"] = force->pair ? force->pair->cutforce : 0.0;
  j["bond_style"] = force->bond_style ? force->bond_style : "none";
  j["nprocs"] = lmp->comm->nprocs;
  j["seconds"] = seconds;
  j["lammps_version"] = lmp->version;
  j["glassmodes_version"] = GLASSMODES_VERSION;
}

std::string HessianBuilder::sidecar_json(const std::string &path, int64_t natoms, int64_t nnz,
                                         HessianOptions::Method method, double seconds) const
{
  json j;
  const int dim = domain->dimension;
  auto base = [](const std::string &p) {
    auto s = p.find_last_of('/');
    return s == std::string::npos ? p : p.substr(s + 1);
  };
  j["format"] = "glassmodes-hessian";
  j["format_version"] = 1;
  j["matrix_file"] = base(path);
  j["matrix_format"] = "petsc-binary-aij, big-endian, int32 indices, float64 values";
  j["atoms_file"] = base(path) + ".atoms.npy";
  j["natoms"] = natoms;
  j["dimension"] = dim;
  j["ndof"] = natoms * dim;
  j["nnz"] = nnz;
  j["ordering"] = "row/column d*k+alpha: component alpha of the atom with the k-th smallest ID";
  j["units"] = update->unit_style;
  j["mass_weighted"] = opt.mass_weighted;
  j["matrix_units"] = opt.mass_weighted ? "energy/(distance^2*mass)" : "energy/distance^2";
  j["method"] = method == HessianOptions::ANALYTIC ? "analytic" : "fd";
  if (method == HessianOptions::FD) {
    j["delta"] = opt.delta;
    j["fd_range"] = interaction_range;
    j["fd_colors"] = ncolors;
    j["fd_pairs_at_force_jump"] = pairs_at_force_jump;
    j["symmetrized"] = opt.symmetrize;
  }
  j["force_evaluations"] = nforce_calls;
  j["max_residual_force"] = fmax;
  j["potential_energy"] = energy;
  add_common_sidecar_fields(lmp, igroup, seconds, j);
  return j.dump(1);
}
