#include "fc3_builder.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "group.h"
#include "json.h"
#include "lammps.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "pair.h"
#include "platform.h"
#include "update.h"
#include "utils.h"

#include "atom_index_map.h"
#include "atom_record.h"
#include "exchange.h"
#include "fd_coloring.h"
#include "force_probe.h"
#include "npy_records_output.h"
#include "output_files.h"
#include "radial_derivatives.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <unordered_map>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

namespace {
// the six permutations of three indices; PERMS[p][m] = which old index becomes new index m
constexpr int PERMS[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};

// out = the block v with its three indices permuted by PERMS[p] (new index m = old PERMS[p][m])
void permute_block(const double *v, int p, int dim, double *out)
{
  int z[3];
  for (int x0 = 0; x0 < dim; x0++)
    for (int x1 = 0; x1 < dim; x1++)
      for (int x2 = 0; x2 < dim; x2++) {
        z[PERMS[p][0]] = x0;
        z[PERMS[p][1]] = x1;
        z[PERMS[p][2]] = x2;
        out[(x0 * dim + x1) * dim + x2] = v[(z[0] * dim + z[1]) * dim + z[2]];
      }
}

// the permutation that sorts a triple ascending (stable: equal indices keep their order)
int sorting_perm(const int64_t *t)
{
  for (int p = 0; p < 6; p++) {
    const int *q = PERMS[p];
    if (t[q[0]] < t[q[1]] || (t[q[0]] == t[q[1]] && q[0] < q[1]))
      if (t[q[1]] < t[q[2]] || (t[q[1]] == t[q[2]] && q[1] < q[2])) return p;
  }
  return 0;
}

bool lj_cut_style(const std::string &s)
{
  return s == "lj/cut" || s == "lj/cut/omp" || s == "lj/cut/opt";
}

// append the little-endian bytes of a plain value
template <class T> void put(std::vector<char> &buf, const T &v)
{
  const char *p = reinterpret_cast<const char *>(&v);
  buf.insert(buf.end(), p, p + sizeof(T));
}
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "fc3 .npy writer assumes little-endian");

// Move records to the rank owning their first index (block distribution over natoms), then
// sort them with `less`: the global order is rank by rank, as write_npy_records wants.
template <class T, class Less>
std::vector<T> distribute_sorted(MPI_Comm comm, std::vector<T> items, int64_t natoms, Less less)
{
  int nprocs;
  MPI_Comm_size(comm, &nprocs);
  std::vector<int> dest(items.size());
  for (size_t k = 0; k < items.size(); k++) dest[k] = block_owner(items[k].i, natoms, nprocs);
  items = exchange(comm, dest, items);
  std::sort(items.begin(), items.end(), less);
  return items;
}
}    // namespace

/* ---- PairRadialSource ------------------------------------------------------------------------ */

PairRadialSource::PairRadialSource(LAMMPS *lmp)
{
  Pair *pair = lmp->force->pair;
  if (!pair) {
    why = "no pair style is defined";
    return;
  }
  plugin = dynamic_cast<const RadialDerivatives *>(pair);
  if (plugin) return;
  const std::string ps = lmp->force->pair_style;
  if (lj_cut_style(ps)) {
    int dim = 0;
    epsilon = (double **) pair->extract("epsilon", dim);
    int dim2 = 0;
    sigma = (double **) pair->extract("sigma", dim2);
    cutsq = pair->cutsq;
    if (epsilon && sigma && cutsq && dim == 2 && dim2 == 2) return;
    why = "pair style " + ps + " does not expose epsilon and sigma";
    return;
  }
  why = "pair style " + ps + " provides no third radial derivatives (the analytic path supports "
        "the styles implementing glassmodes::RadialDerivatives: ipl/smooth, ipl/smooth/poly, "
        "lj/smooth/glass; and LAMMPS's lj/cut)";
}

void PairRadialSource::derivatives(int i, int j, int itype, int jtype, double rsq, int order,
                                   double *d) const
{
  for (int m = 0; m < 4; m++) d[m] = 0.0;
  if (plugin) {
    double all[RadialDerivatives::MAX_ORDER + 1];
    plugin->radial_derivatives(i, j, itype, jtype, rsq, order, all);
    for (int m = 1; m <= order; m++) d[m - 1] = all[m];
    return;
  }
  // lj/cut: phi = 4 eps [(s/r)^12 - (s/r)^6] for r < r_c (an energy shift changes no derivative)
  if (rsq >= cutsq[itype][jtype]) return;
  // lj/cut keeps epsilon and sigma for I <= J only (init_one mirrors lj1..lj4, not these)
  const int lo = std::min(itype, jtype), hi = std::max(itype, jtype);
  const double eps4 = 4.0 * epsilon[lo][hi], s = sigma[lo][hi];
  const double sr2 = s * s / rsq, sr6 = sr2 * sr2 * sr2, sr12 = sr6 * sr6, r = std::sqrt(rsq);
  d[0] = eps4 * (-12.0 * sr12 + 6.0 * sr6) / r;
  d[1] = eps4 * (156.0 * sr12 - 42.0 * sr6) / rsq;
  d[2] = eps4 * (-2184.0 * sr12 + 336.0 * sr6) / (rsq * r);
  if (order >= 4) d[3] = eps4 * (32760.0 * sr12 - 3024.0 * sr6) / (rsq * rsq);
}

/* ---- Fc3Builder ------------------------------------------------------------------------------ */

namespace {
HessianOptions plain_auto(HessianOptions opt)
{
  opt.method = HessianOptions::AUTO;    // the Hessians differentiated: analytic when possible
  opt.mass_weighted = false;
  return opt;
}
}    // namespace

Fc3Builder::Fc3Builder(LAMMPS *lmp, const char *style_in, int igroup_in, const HessianOptions &opt_in) :
    Pointers(lmp), style(style_in), igroup(igroup_in), opt(opt_in),
    hessian(lmp, style_in, igroup_in, plain_auto(opt_in))
{
  groupbit = group->bitmask[igroup];
}

HessianOptions::Method Fc3Builder::resolve_method()
{
  std::string why;
  PairRadialSource source(lmp);
  if (!source.available()) why = source.reason();
  else if (force->pair->manybody_flag)
    why = fmt::format("pair style {} is a many-body potential", force->pair_style);
  else if (atom->molecular != Atom::ATOMIC &&
           (force->bond || force->angle || force->dihedral || force->improper))
    why = "bonded interactions are only handled by finite differences";
  if (opt.order == 4 && (opt.method == HessianOptions::FD || !why.empty()))
    error->all(FLERR, "{}: order 4 needs the analytic path (fourth radial derivatives of a pair "
               "potential){}; use order 3", style,
               why.empty() ? std::string(", not method fd") : ": " + why);
  if (opt.method == HessianOptions::ANALYTIC && !why.empty())
    error->all(FLERR, "{}: method analytic impossible: {}; use method fd", style, why);
  if (opt.method == HessianOptions::FD || !why.empty()) return HessianOptions::FD;
  return HessianOptions::ANALYTIC;
}

// One record per interacting pair with at least one atom in the group, each pair (image) once:
// from the owner of its atom with the smaller ID. An atom's interactions with its own periodic
// images add nothing (their separation does not change when it moves) and are left out.
void Fc3Builder::analytic_pairs(NeighList *list, std::vector<PairRecord> &pairs)
{
  PairRadialSource source(lmp);
  const int dim = domain->dimension;
  double **x = atom->x;
  int *type = atom->type, *mask = atom->mask;
  tagint *tag = atom->tag;
  double **cutsq = force->pair->cutsq;
  const double *special_lj = force->special_lj;
  for (int ii = 0; ii < list->inum; ii++) {
    const int a = list->ilist[ii];
    const bool ina = (mask[a] & groupbit) != 0;
    const int *jlist = list->firstneigh[a];
    for (int jj = 0; jj < list->numneigh[a]; jj++) {
      int b = jlist[jj];
      const double factor_lj = special_lj[b >> SBBITS & 3];
      b &= NEIGHMASK;
      if (tag[b] <= tag[a]) continue;
      const bool inb = (mask[b] & groupbit) != 0;
      if (!ina && !inb) continue;
      double del[3] = {x[b][0] - x[a][0], x[b][1] - x[a][1], dim == 3 ? x[b][2] - x[a][2] : 0.0};
      const double rsq = del[0] * del[0] + del[1] * del[1] + del[2] * del[2];
      if (rsq >= cutsq[type[a]][type[b]]) continue;
      PairRecord p{};
      source.derivatives(a, b, type[a], type[b], rsq, opt.order, p.d);
      bool nonzero = false;
      for (int m = 0; m < 4; m++) {
        p.d[m] *= factor_lj;
        nonzero |= p.d[m] != 0.0;
      }
      if (!nonzero) continue;
      const double sign = ina ? 1.0 : -1.0;
      p.i = ina ? tag[a] : tag[b];
      p.j = ina && inb ? (int64_t) tag[b] : -1;
      for (int c = 0; c < 3; c++) p.r[c] = sign * del[c];
      pairs.push_back(p);
    }
  }
}

// Pair potentials with Pair::born_matrix: rows of the exact Hessian of the group atoms near each
// displaced color, at x +- delta e_alpha; Phi3(j,i,k) = (H_jk(+) - H_jk(-)) / (2 delta).
void Fc3Builder::fd_from_hessians(NeighList *list, std::vector<RowMap> &rows)
{
  const int dim = domain->dimension;
  const int nlocal = atom->nlocal;
  int *mask = atom->mask;
  tagint *tag = atom->tag;
  double **x = atom->x;
  if (interaction_range < force->pair->cutforce)
    error->all(FLERR, "{}: range {} is below the pair cutoff {}: a displaced atom changes Hessian "
               "rows up to one cutoff away", style, interaction_range, force->pair->cutforce);
  SpatialColoring coloring(lmp, groupbit, interaction_range);
  ncolors = coloring.ncolors();
  if (comm->me == 0)
    utils::logmesg(lmp, "{}: finite differences of analytic Hessians, range {:.6g}, {} colors, "
                   "{} Hessian evaluations\n", style, interaction_range, ncolors, 2 * dim * ncolors);

  ForceProbe probe(lmp);    // restores positions exactly
  const double inv2d = 1.0 / (2.0 * opt.delta);
  std::vector<int> active;
  std::vector<int64_t> col_tag(nlocal);
  std::vector<std::vector<MatrixBlock>> hrow[2];
  hrow[0].resize(nlocal);
  hrow[1].resize(nlocal);
  int next_report = 10;
  for (int c = 0; c < ncolors; c++) {
    int mine = 0, any = 0;
    for (int i = 0; i < nlocal; i++) mine += coloring.color(i) == c;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_SUM, world);
    if (!any) continue;
    // rows that can respond: group atoms j that are the atom of this color near them, or have
    // it in their neighbor list (a pair potential's row j depends on nothing else)
    active.clear();
    for (int j = 0; j < nlocal; j++) {
      int64_t t;
      double m;
      if (!(mask[j] & groupbit) || !coloring.column_atom(j, c, t, m)) continue;
      bool near = (int64_t) tag[j] == t;
      const int *jlist = list->firstneigh[j];
      for (int kk = 0; kk < list->numneigh[j] && !near; kk++) near = (int64_t) tag[jlist[kk] & NEIGHMASK] == t;
      if (!near) continue;
      active.push_back(j);
      col_tag[j] = t;
      known_mass[t] = m;
    }
    for (int alpha = 0; alpha < dim; alpha++) {
      for (int s = 0; s < 2; s++) {
        for (int i = 0; i < nlocal; i++)
          if (coloring.color(i) == c)
            x[i][alpha] = probe.saved_position(i)[alpha] + (s == 0 ? opt.delta : -opt.delta);
        comm->forward_comm();
        for (int j : active) {
          hrow[s][j].clear();
          hessian.analytic_row(list, j, hrow[s][j]);
        }
        nhessian_calls++;
        probe.reset_positions();
      }
      for (int j : active) {
        const auto &P = hrow[0][j], &M = hrow[1][j];
        size_t p = 0, m = 0;
        while (p < P.size() || m < M.size()) {
          // merge the two rows by column ID (a pair crossing the cutoff may be in one only)
          int64_t col;
          const double *vp = nullptr, *vm = nullptr;
          if (m >= M.size() || (p < P.size() && P[p].col < M[m].col)) {
            col = P[p].col;
            vp = P[p++].v;
          } else if (p >= P.size() || M[m].col < P[p].col) {
            col = M[m].col;
            vm = M[m++].v;
          } else {
            col = P[p].col;
            vp = P[p++].v;
            vm = M[m++].v;
          }
          double dv[9];
          bool nonzero = false;
          for (int q = 0; q < dim * dim; q++) {
            dv[q] = ((vp ? vp[q] : 0.0) - (vm ? vm[q] : 0.0)) * inv2d;
            nonzero |= dv[q] != 0.0;
          }
          if (!nonzero) continue;
          TripleBlock &blk = rows[j][{col_tag[j], col}];
          blk.i = tag[j];    // (row, displaced, column): reordered when written
          blk.j = col_tag[j];
          blk.k = col;
          for (int b = 0; b < dim; b++)
            for (int g = 0; g < dim; g++) blk.v[(b * dim + alpha) * dim + g] = dv[b * dim + g];
        }
      }
    }
    if (comm->me == 0 && 100 * (c + 1) >= next_report * ncolors) {
      utils::logmesg(lmp, "{}: {}% of colors done\n", style, 100 * (c + 1) / ncolors);
      next_report = 10 * (100 * (c + 1) / (10 * ncolors) + 1);
    }
  }
  comm->forward_comm();    // ghosts back at the saved positions on every rank
}

// Any force field: the Hessians at x +- delta e_alpha (color c) are themselves colored central
// differences of the forces (color c2, direction beta): (2 d C)^2 force evaluations.
void Fc3Builder::fd_from_forces(std::vector<RowMap> &rows)
{
  const int dim = domain->dimension;
  const int nlocal = atom->nlocal;
  int *mask = atom->mask;
  tagint *tag = atom->tag;
  if (2.0 * opt.delta >= 0.5 * neighbor->skin)
    error->all(FLERR, "{}: 2 delta = {} must be smaller than half the neighbor skin ({}) for "
               "second differences of the forces", style, 2.0 * opt.delta, neighbor->skin);
  SpatialColoring coloring(lmp, groupbit, interaction_range);
  ncolors = coloring.ncolors();
  std::vector<int> used;    // colors with atoms
  for (int c = 0; c < ncolors; c++) {
    int mine = 0, any = 0;
    for (int i = 0; i < nlocal; i++) mine += coloring.color(i) == c;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_SUM, world);
    if (any) used.push_back(c);
  }
  const long nc = (long) used.size();
  if (comm->me == 0)
    utils::logmesg(lmp, "{}: finite differences of finite-difference Hessians, range {:.6g}, {} "
                   "colors, {} force evaluations\n", style, interaction_range, nc,
                   4L * dim * dim * nc * nc);

  ForceProbe probe(lmp);
  double **x = atom->x, **f = atom->f;
  const double inv2d = 1.0 / (2.0 * opt.delta);
  std::vector<double> fplus(3 * nlocal);
  // H_jk at the two outer displacements: per local row j, column atom ID -> d x d block
  std::vector<std::map<int64_t, std::array<double, 9>>> hcol[2];
  hcol[0].resize(nlocal);
  hcol[1].resize(nlocal);
  int violations = 0, next_report = 10;
  auto place = [&](int c, int alpha, double sa, int c2, int beta, double sb) {
    for (int i = 0; i < nlocal; i++) {
      const int ci = coloring.color(i);
      if (ci != c && ci != c2) continue;
      double *xi = x[i];
      const double *x0 = probe.saved_position(i);
      for (int d = 0; d < 3; d++) xi[d] = x0[d];
      if (ci == c) xi[alpha] += sa;
      if (ci == c2) xi[beta] += sb;
    }
  };
  for (long ic = 0; ic < nc; ic++) {
    const int c = used[ic];
    for (int alpha = 0; alpha < dim; alpha++) {
      for (int s = 0; s < 2; s++) {
        const double sa = s == 0 ? opt.delta : -opt.delta;
        for (int j = 0; j < nlocal; j++) hcol[s][j].clear();
        for (int c2 : used)
          for (int beta = 0; beta < dim; beta++) {
            place(c, alpha, sa, c2, beta, opt.delta);
            probe.evaluate(false);
            std::memcpy(fplus.data(), &f[0][0], sizeof(double) * 3 * nlocal);
            probe.reset_positions();
            place(c, alpha, sa, c2, beta, -opt.delta);
            probe.evaluate(false);
            probe.reset_positions();
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
              if (!coloring.column_atom(j, c2, col, mcol)) {
                violations++;
                continue;
              }
              known_mass[col] = mcol;
              auto it = hcol[s][j].find(col);
              if (it == hcol[s][j].end()) it = hcol[s][j].emplace(col, std::array<double, 9>{}).first;
              for (int b = 0; b < dim; b++) it->second[b * dim + beta] = h[b];
            }
          }
      }
      nhessian_calls += 2;
      for (int j = 0; j < nlocal; j++) {
        if (!(mask[j] & groupbit)) continue;
        const auto &P = hcol[0][j], &M = hcol[1][j];
        std::map<int64_t, std::array<double, 9>> diff;
        for (const auto &kv : P) {
          auto &dv = diff[kv.first];
          for (int q = 0; q < dim * dim; q++) dv[q] = kv.second[q] * inv2d;
        }
        for (const auto &kv : M) {
          auto it = diff.find(kv.first);
          if (it == diff.end()) it = diff.emplace(kv.first, std::array<double, 9>{}).first;
          for (int q = 0; q < dim * dim; q++) it->second[q] -= kv.second[q] * inv2d;
        }
        int64_t disp;
        double mdisp;
        bool have_disp = false, looked = false;
        for (const auto &kv : diff) {
          bool nonzero = false;
          for (int q = 0; q < dim * dim; q++) nonzero |= kv.second[q] != 0.0;
          if (!nonzero) continue;
          if (!looked) {
            have_disp = coloring.column_atom(j, c, disp, mdisp);
            if (have_disp) known_mass[disp] = mdisp;
            looked = true;
          }
          if (!have_disp) {
            violations++;
            continue;
          }
          TripleBlock &blk = rows[j][{disp, kv.first}];
          blk.i = tag[j];
          blk.j = disp;
          blk.k = kv.first;
          for (int b = 0; b < dim; b++)
            for (int g = 0; g < dim; g++) blk.v[(b * dim + alpha) * dim + g] = kv.second[b * dim + g];
        }
      }
    }
    if (comm->me == 0 && 100 * (ic + 1) >= next_report * nc) {
      utils::logmesg(lmp, "{}: {}% of colors done\n", style, 100 * (ic + 1) / nc);
      next_report = (int) (10 * (100 * (ic + 1) / (10 * nc) + 1));
    }
  }
  nforce_calls += probe.calls();
  int allviolations = 0;
  MPI_Allreduce(&violations, &allviolations, 1, MPI_INT, MPI_SUM, world);
  if (allviolations)
    error->all(FLERR, "{}: {} force responses came from farther than the interaction range {}; "
               "give a larger `range`", style, allviolations, interaction_range);
}

// Mass weighting; with `symmetrize`, every block moves to the canonical ordering of its triple
// (indices ascending; `perm` records which permutation took it there, ordering the sums).
void Fc3Builder::finish_blocks(std::vector<RowMap> &rows, std::vector<TripleBlock> &blocks)
{
  const int dim = domain->dimension;
  const int n3 = dim * dim * dim;
  // masses of local and ghost atoms; the fd loops added those of displaced atoms farther away
  std::unordered_map<int64_t, double> &mass_by_tag = known_mass;
  if (opt.mass_weighted)
    for (int i = 0; i < atom->nlocal + atom->nghost; i++) mass_by_tag[atom->tag[i]] = hessian.mass_of(i);
  for (auto &row : rows) {
    for (auto &kv : row) {
      TripleBlock b = kv.second;
      if (opt.mass_weighted) {
        const double s = 1.0 / std::sqrt(mass_by_tag.at(b.i) * mass_by_tag.at(b.j) * mass_by_tag.at(b.k));
        for (int q = 0; q < n3; q++) b.v[q] *= s;
      }
      b.perm = 0;
      if (opt.symmetrize) {
        const int64_t t[3] = {b.i, b.j, b.k};
        const int p = sorting_perm(t);
        TripleBlock c{};
        c.i = t[PERMS[p][0]];
        c.j = t[PERMS[p][1]];
        c.k = t[PERMS[p][2]];
        c.perm = p;
        permute_block(b.v, p, dim, c.v);
        b = c;
      }
      blocks.push_back(b);
    }
    row.clear();
  }
}

// Symmetrize (blocks at canonical triples, sorted, one rank's share): the mean of the
// contributions to each triple (one per ordering of the triple, a missing one counting as zero),
// averaged over the permutations that leave the triple unchanged, then written out at every
// distinct ordering: the stored tensor is exactly symmetric. Without symmetrize: as they are.
std::vector<TripleBlock> Fc3Builder::expand_symmetric(const std::vector<TripleBlock> &canonical)
{
  const int dim = domain->dimension;
  const int n3 = dim * dim * dim;
  std::vector<TripleBlock> out;
  for (size_t b = 0; b < canonical.size();) {
    size_t e = b + 1;
    while (e < canonical.size() && canonical[e].i == canonical[b].i &&
           canonical[e].j == canonical[b].j && canonical[e].k == canonical[b].k)
      e++;
    const int64_t t[3] = {canonical[b].i, canonical[b].j, canonical[b].k};
    // orderings of the triple: 6, 3 (two equal indices) or 1
    const int ndistinct = (t[0] == t[2]) ? 1 : (t[0] == t[1] || t[1] == t[2]) ? 3 : 6;
    double mean[27] = {0.0};
    for (size_t q = b; q < e; q++)
      for (int m = 0; m < n3; m++) mean[m] += canonical[q].v[m];
    for (int m = 0; m < n3; m++) mean[m] /= ndistinct;
    double sym[27] = {0.0}, tmp[27];
    int nstab = 0;
    for (int p = 0; p < 6; p++) {
      if (t[PERMS[p][0]] != t[0] || t[PERMS[p][1]] != t[1] || t[PERMS[p][2]] != t[2]) continue;
      permute_block(mean, p, dim, tmp);
      for (int m = 0; m < n3; m++) sym[m] += tmp[m];
      nstab++;
    }
    for (int m = 0; m < n3; m++) sym[m] /= nstab;
    int64_t done[6][3];
    int ndone = 0;
    for (int p = 0; p < 6; p++) {
      const int64_t u[3] = {t[PERMS[p][0]], t[PERMS[p][1]], t[PERMS[p][2]]};
      bool seen = false;
      for (int q = 0; q < ndone && !seen; q++) seen = done[q][0] == u[0] && done[q][1] == u[1] && done[q][2] == u[2];
      if (seen) continue;
      std::copy(u, u + 3, done[ndone++]);
      TripleBlock o{};
      o.i = u[0];
      o.j = u[1];
      o.k = u[2];
      permute_block(sym, p, dim, o.v);
      out.push_back(o);
    }
    b = e;
  }
  return out;
}

void Fc3Builder::write(const std::string &path, NeighList *full_list)
{
  const double t0 = platform::walltime();
  const HessianOptions::Method method = resolve_method();
  hessian.check_force_field(method);
  const int dim = domain->dimension;
  hessian.check_residual_forces();
  nforce_calls = hessian.force_evaluations();
  nhessian_calls = 0;
  ncolors = 0;
  known_mass.clear();

  // atom IDs -> indices (rank of the ID within the group), atom records
  std::vector<int64_t> own_tags;
  std::vector<AtomRecord> records;
  for (int i = 0; i < atom->nlocal; i++)
    if (atom->mask[i] & groupbit) {
      own_tags.push_back(atom->tag[i]);
      records.push_back(atom_record(atom, i, hessian.mass_of(i)));
    }
  AtomIndexMap index_map(world, own_tags);
  const int64_t natoms = index_map.size();
  if (natoms == 0) error->all(FLERR, "{}: group {} has no atoms", style, group->names[igroup]);
  {
    std::vector<int64_t> idx = index_map.lookup(own_tags);
    for (size_t k = 0; k < records.size(); k++) records[k].index = idx[k];
  }

  OutputFiles files(lmp, style, {path, path + ".atoms.npy", path + ".json"});
  std::vector<char> bytes;
  int64_t nlocal_records = 0;
  std::string descr;
  int64_t record_bytes = 0;
  if (method == HessianOptions::ANALYTIC) {
    std::vector<PairRecord> pairs;
    analytic_pairs(full_list, pairs);
    std::vector<int64_t> ids;
    ids.reserve(2 * pairs.size());
    for (const auto &p : pairs) {
      ids.push_back(p.i);
      if (p.j >= 0) ids.push_back(p.j);
    }
    std::vector<int64_t> idx = index_map.lookup(ids);
    size_t q = 0;
    for (auto &p : pairs) {
      p.i = idx[q++];
      if (p.j >= 0) p.j = idx[q++];
    }
    pairs = distribute_sorted(world, std::move(pairs), natoms, [](const PairRecord &a, const PairRecord &b) {
      if (a.i != b.i) return a.i < b.i;
      if (a.j != b.j) return a.j < b.j;
      return std::lexicographical_compare(a.r, a.r + 3, b.r, b.r + 3);
    });
    record_bytes = 16 + 24 + 8 * opt.order;
    descr = fmt::format("[('i', '<i8'), ('j', '<i8'), ('r', '<f8', (3,)), ('dphi', '<f8', ({},))]",
                        opt.order);
    bytes.reserve(pairs.size() * record_bytes);
    for (const auto &p : pairs) {
      put(bytes, p.i);
      put(bytes, p.j);
      for (int c = 0; c < 3; c++) put(bytes, p.r[c]);
      for (int m = 0; m < opt.order; m++) put(bytes, p.d[m]);
    }
    nlocal_records = (int64_t) pairs.size();
  } else {
    interaction_range = hessian.fd_default_range();
    std::vector<RowMap> rows(atom->nlocal);
    if (hessian.resolve_method() == HessianOptions::ANALYTIC) {
      fd_hessians = "analytic";
      fd_from_hessians(full_list, rows);
    } else {
      fd_hessians = "fd";
      fd_from_forces(rows);
    }
    std::vector<TripleBlock> blocks;
    finish_blocks(rows, blocks);
    std::vector<RowMap>().swap(rows);
    std::vector<int64_t> ids(3 * blocks.size());
    for (size_t k = 0; k < blocks.size(); k++) {
      ids[3 * k] = blocks[k].i;
      ids[3 * k + 1] = blocks[k].j;
      ids[3 * k + 2] = blocks[k].k;
    }
    std::vector<int64_t> idx = index_map.lookup(ids);
    for (size_t k = 0; k < blocks.size(); k++) {
      blocks[k].i = idx[3 * k];
      blocks[k].j = idx[3 * k + 1];
      blocks[k].k = idx[3 * k + 2];
    }
    auto by_triple = [](const TripleBlock &a, const TripleBlock &b) {
      if (a.i != b.i) return a.i < b.i;
      if (a.j != b.j) return a.j < b.j;
      if (a.k != b.k) return a.k < b.k;
      return a.perm < b.perm;
    };
    blocks = distribute_sorted(world, std::move(blocks), natoms, by_triple);
    if (opt.symmetrize) blocks = distribute_sorted(world, expand_symmetric(blocks), natoms, by_triple);
    const int n3 = dim * dim * dim;
    record_bytes = 24 + 8 * n3;
    descr = fmt::format("[('i', '<i8'), ('j', '<i8'), ('k', '<i8'), ('v', '<f8', ({}, {}, {}))]",
                        dim, dim, dim);
    bytes.reserve(blocks.size() * record_bytes);
    for (const auto &b : blocks) {
      put(bytes, b.i);
      put(bytes, b.j);
      put(bytes, b.k);
      for (int q = 0; q < n3; q++) put(bytes, b.v[q]);
    }
    nlocal_records = (int64_t) blocks.size();
  }
  WriteResult res = write_npy_records(world, files.temporary(0), descr, record_bytes,
                                      nlocal_records, bytes);
  std::vector<char>().swap(bytes);
  if (res.error.empty())
    res.error = write_atoms_npy(world, files.temporary(1), natoms, std::move(records)).error;
  if (!res.error.empty()) files.fail(res.error);
  const double seconds = platform::walltime() - t0;
  files.write_sidecar(2, sidecar_json(path, natoms, res.nnz, method, seconds), {"data", "atoms", "sidecar"});
  files.commit();

  if (comm->me == 0)
    utils::logmesg(lmp, "{}: wrote {} ({} atoms, {} {}, {} method, {} force evaluations, "
                   "largest residual force {:.3e}) in {:.3f} s\n", style, path, natoms, res.nnz,
                   method == HessianOptions::ANALYTIC ? "pairs" : "blocks",
                   method == HessianOptions::ANALYTIC ? "analytic" : "fd", nforce_calls,
                   hessian.max_residual_force(), seconds);
}

std::string Fc3Builder::sidecar_json(const std::string &path, int64_t natoms, int64_t nrecords,
                                     HessianOptions::Method method, double seconds) const
{
  json j;
  const int dim = domain->dimension;
  const bool pairs = method == HessianOptions::ANALYTIC;
  auto base = [](const std::string &p) {
    auto s = p.find_last_of('/');
    return s == std::string::npos ? p : p.substr(s + 1);
  };
  j["format"] = "glassmodes-fc3";
  j["format_version"] = 1;
  j["data_file"] = base(path);
  j["atoms_file"] = base(path) + ".atoms.npy";
  j["storage"] = pairs ? "pair-derivatives" : "blocks";
  j["data_format"] = pairs
      ? "npy structured array, one record per interacting pair: i, j (atom indices; j = -1 for an "
        "atom outside the group), r = x_j - x_i (3), dphi = phi', phi'', ... (order - 1 values)"
      : "npy structured array, one record per ordered index triple: i, j, k (atom indices), "
        "v[a,b,c] = Phi3(i_a, j_b, k_c) (d x d x d)";
  j["natoms"] = natoms;
  j["dimension"] = dim;
  j["ndof"] = natoms * dim;
  j["nrecords"] = nrecords;
  j["nnz"] = pairs ? nrecords * (5 + opt.order) : nrecords * dim * dim * dim;    // values stored
  j["order"] = pairs ? opt.order : 3;
  j["ordering"] = "atom index k: the atom with the k-th smallest ID in the group";
  j["units"] = update->unit_style;
  j["mass_weighted"] = opt.mass_weighted;
  j["tensor_units"] = opt.mass_weighted ? "energy/(distance^3*mass^(3/2))" : "energy/distance^3";
  j["values_mass_weighted"] = pairs ? false : opt.mass_weighted;
  j["method"] = pairs ? "analytic" : "fd";
  if (!pairs) {
    j["delta"] = opt.delta;
    j["fd_range"] = interaction_range;
    j["fd_colors"] = ncolors;
    j["fd_hessians"] = fd_hessians;
    j["hessian_evaluations"] = nhessian_calls;
    j["symmetrized"] = opt.symmetrize;
  } else {
    j["radial_derivatives"] = PairRadialSource(lmp).kind();
  }
  j["force_evaluations"] = nforce_calls;
  j["max_residual_force"] = hessian.max_residual_force();
  j["potential_energy"] = hessian.potential_energy();
  add_common_sidecar_fields(lmp, igroup, seconds, j);
  return j.dump(1);
}
