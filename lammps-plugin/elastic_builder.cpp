#include "elastic_builder.h"

#include "angle.h"
#include "atom.h"
#include "bond.h"
#include "comm.h"
#include "dihedral.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "group.h"
#include "improper.h"
#include "json.h"
#include "lammps.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "pair.h"
#include "update.h"
#include "utils.h"

#include "atom_index_map.h"
#include "atom_record.h"
#include "distributed_output.h"
#include "exchange.h"
#include "force_probe.h"
#include "hessian_builder.h"
#include "npy_records_output.h"
#include "output_files.h"
#include "platform.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

namespace {

// Double-double accumulation (Knuth's TwoSum): the error of each addition is kept in `lo`, so a
// sum of N terms is exact to ~N eps^2 and its rounding to double does not depend (in practice)
// on how the terms were split over ranks.
struct Accumulator {
  double hi = 0.0, lo = 0.0;
  void add(double x)
  {
    const double s = hi + x;
    const double bp = s - hi;
    lo += (hi - (s - bp)) + (x - bp);
    hi = s;
  }
};

// Sum `n` per-rank double-double partials (hi[k], lo[k]) over the ranks in rank order.
void reduce_accumulators(MPI_Comm comm, const std::vector<Accumulator> &mine, std::vector<double> &out)
{
  int nprocs;
  MPI_Comm_size(comm, &nprocs);
  const size_t n = mine.size();
  std::vector<double> send(2 * n), all(2 * n * nprocs);
  for (size_t k = 0; k < n; k++) {
    send[2 * k] = mine[k].hi;
    send[2 * k + 1] = mine[k].lo;
  }
  MPI_Allgather(send.data(), (int) (2 * n), MPI_DOUBLE, all.data(), (int) (2 * n), MPI_DOUBLE, comm);
  out.assign(n, 0.0);
  for (size_t k = 0; k < n; k++) {
    Accumulator acc;
    double lo = 0.0;
    for (int p = 0; p < nprocs; p++) {
      acc.add(all[2 * n * p + 2 * k]);
      lo += all[2 * n * p + 2 * k + 1];
    }
    out[k] = acc.hi + (acc.lo + lo);
  }
}

const char *VOIGT3[6] = {"xx", "yy", "zz", "yz", "xz", "xy"};
const char *VOIGT2[3] = {"xx", "yy", "xy"};

}    // namespace

void LAMMPS_NS::glassmodes::parse_elastic_options(LAMMPS *lmp, const char *style, int narg,
                                                  char **arg, int iarg, ElasticOptions &opt)
{
  while (iarg < narg) {
    const std::string key = arg[iarg];
    if (iarg + 2 > narg) utils::missing_cmd_args(FLERR, std::string(style) + " " + key, lmp->error);
    const char *val = arg[iarg + 1];
    if (key == "method") {
      const std::string v = val;
      if (v == "auto") opt.method = ElasticOptions::AUTO;
      else if (v == "analytic") opt.method = ElasticOptions::ANALYTIC;
      else if (v == "fd") opt.method = ElasticOptions::FD;
      else lmp->error->all(FLERR, "{}: method must be auto, analytic or fd, not {}", style, v);
    } else if (key == "delta") {
      opt.delta = utils::numeric(FLERR, val, false, lmp);
      if (!(opt.delta > 0.0 && opt.delta < 0.01))
        lmp->error->all(FLERR, "{}: delta (a strain) must be > 0 and < 0.01, not {}", style, val);
    } else if (key == "ftol") {
      opt.ftol = utils::numeric(FLERR, val, false, lmp);
      if (opt.ftol <= 0.0) lmp->error->all(FLERR, "{}: ftol must be > 0, not {}", style, val);
    } else if (key == "fcheck") {
      opt.fcheck = utils::logical(FLERR, val, false, lmp) != 0;
    } else {
      lmp->error->all(FLERR, "{}: unknown keyword {}", style, key);
    }
    iarg += 2;
  }
}

ElasticBuilder::ElasticBuilder(LAMMPS *lmp, const char *style_in, int igroup_in,
                               const ElasticOptions &opt_in) :
    Pointers(lmp), style(style_in), igroup(igroup_in), opt(opt_in)
{
  groupbit = group->bitmask[igroup];
  dim = domain->dimension;
  nv = dim == 3 ? 6 : 3;
  const int a3[6] = {0, 1, 2, 1, 0, 0}, b3[6] = {0, 1, 2, 2, 2, 1};
  const int a2[3] = {0, 1, 0}, b2[3] = {0, 1, 1};
  for (int I = 0; I < nv; I++) {
    va[I] = dim == 3 ? a3[I] : a2[I];
    vb[I] = dim == 3 ? b3[I] : b2[I];
  }
  std::memset(stress, 0, sizeof(stress));
  std::memset(born, 0, sizeof(born));
}

ElasticOptions::Method ElasticBuilder::check_and_resolve()
{
  if (!domain->box_exist) error->all(FLERR, "{}: no simulation box defined yet", style);
  const bigint in_group = group->count(igroup);
  if (in_group != atom->natoms)
    error->all(FLERR, "{}: group {} holds {} of the {} atoms; the elastic terms (stress, Born "
               "tensor, Xi) are properties of the whole system: use group all", style,
               group->names[igroup], in_group, atom->natoms);
  const char *axis = "xyz";
  for (int a = 0; a < dim; a++)
    if (!domain->periodicity[a])
      error->all(FLERR, "{}: the box is not periodic along {}: strain derivatives need a periodic "
                 "cell in every dimension (boundary p p{})", style, axis[a], dim == 3 ? " p" : "");
  if (dim == 2 && !domain->periodicity[2])
    error->all(FLERR, "{}: 2D system with a non-periodic z boundary: use boundary p p p", style);
  if (force->kspace)
    error->all(FLERR, "{}: kspace style {} is not supported (long-range strain derivatives)", style,
               force->kspace_style);
  if (!force->pair && !force->bond)
    error->all(FLERR, "{}: no pair style is defined", style);
  HessianOptions hopt;
  hopt.method = opt.method == ElasticOptions::ANALYTIC ? HessianOptions::ANALYTIC
      : opt.method == ElasticOptions::FD             ? HessianOptions::FD
                                                     : HessianOptions::AUTO;
  hopt.delta = 0.0;    // fd displacements are checked against the skin below
  HessianBuilder hb(lmp, style.c_str(), igroup, hopt);
  const ElasticOptions::Method method =
      hb.resolve_method() == HessianOptions::ANALYTIC ? ElasticOptions::ANALYTIC : ElasticOptions::FD;
  hb.check_force_field(HessianOptions::ANALYTIC);    // masses, atom IDs (kspace handled above)
  if (method == ElasticOptions::FD) {
    double extent = 0.0;
    for (int a = 0; a < dim; a++) extent = std::max(extent, domain->boxhi[a] - domain->boxlo[a]);
    extent += std::fabs(domain->xy) + std::fabs(domain->xz) + std::fabs(domain->yz);
    if (opt.delta * extent >= 0.5 * neighbor->skin)
      error->all(FLERR, "{}: strain delta {} moves atoms by up to {:.3g} (delta x box size), not "
                 "less than half the neighbor skin {}: use a smaller delta", style, opt.delta,
                 opt.delta * extent, neighbor->skin);
  }
  return method;
}

// Atom i's part of the pair sums over its full neighbor list (each pair is seen from both
// atoms, so each adds half of the pair's Born and stress terms); neighbors in atom-ID order, so
// the sums do not depend on the domain decomposition. For the pair (i,j), r = x_j - x_i:
//   sigma_ab += phi' r_a r_b / r / 2,  C^B_IJ += (phi'' - phi'/r) r_a r_b r_c r_d / r^2 / 2,
//   Xi_{i mu, I} -= (phi'' - phi'/r) r_mu r_a r_b / r^2 + (phi'/r)(d_a,mu r_b + d_b,mu r_a).
void ElasticBuilder::analytic_terms(NeighList *list, int i, AtomTerms &t)
{
  double **x = atom->x;
  int *type = atom->type;
  tagint *tag = atom->tag;
  Pair *pair = force->pair;
  double **cutsq = pair->cutsq;
  const double *special_lj = force->special_lj, *special_coul = force->special_coul;
  const int itype = type[i];
  std::vector<Neighbor> &nb = scratch;
  nb.clear();
  for (int jj = 0; jj < list->numneigh[i]; jj++) {
    int j = list->firstneigh[i][jj];
    const double factor_lj = special_lj[j >> SBBITS & 3], factor_coul = special_coul[j >> SBBITS & 3];
    j &= NEIGHMASK;
    Neighbor n;
    n.tag = tag[j];
    n.dx[0] = x[j][0] - x[i][0];
    n.dx[1] = x[j][1] - x[i][1];
    n.dx[2] = dim == 3 ? x[j][2] - x[i][2] : 0.0;
    const double rsq = n.dx[0] * n.dx[0] + n.dx[1] * n.dx[1] + n.dx[2] * n.dx[2];
    if (rsq >= cutsq[itype][type[j]]) continue;
    n.du = n.du2 = 0.0;
    pair->born_matrix(i, j, itype, type[j], rsq, factor_coul, factor_lj, n.du, n.du2);
    nb.push_back(n);
  }
  std::sort(nb.begin(), nb.end(), [](const Neighbor &a, const Neighbor &b) {
    if (a.tag != b.tag) return a.tag < b.tag;
    return std::lexicographical_compare(a.dx, a.dx + 3, b.dx, b.dx + 3);
  });
  std::memset(t.born, 0, sizeof(t.born));
  std::memset(t.stress, 0, sizeof(t.stress));
  std::memset(t.xi, 0, sizeof(t.xi));
  for (const auto &n : nb) {
    const double *r = n.dx;
    const double rsq = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    const double rr = std::sqrt(rsq);
    const double k = n.du2 - n.du / rr;    // phi'' - phi'/r
    const double q = n.du / rr;            // phi'/r
    for (int a = 0; a < dim; a++)
      for (int b = 0; b < dim; b++) t.stress[3 * a + b] += 0.5 * q * r[a] * r[b];
    for (int I = 0; I < nv; I++) {
      const double rab = r[va[I]] * r[vb[I]];
      for (int J = 0; J < nv; J++) t.born[nv * I + J] += 0.5 * k * rab * r[va[J]] * r[vb[J]] / rsq;
      if (n.tag == (int64_t) tag[i]) continue;    // an own periodic image moves with the atom
      for (int mu = 0; mu < dim; mu++) {
        const double g = k * r[mu] * rab / rsq + q * ((va[I] == mu ? r[vb[I]] : 0.0) + (vb[I] == mu ? r[va[I]] : 0.0));
        t.xi[nv * mu + I] -= g;
      }
    }
  }
}

// Forces and virial with every local and ghost atom at x0 + gamma e_a (x0_b - boxlo_b): an affine
// strain of the whole periodic system (ghosts are images, so they map like any point; positions
// are not communicated, which works for orthogonal boxes as well). Forces of ghosts are folded
// back (Newton on).
void ElasticBuilder::strained_forces(int a, int b, double gamma, const std::vector<double> &x0, double w[3][3])
{
  const int nall = atom->nlocal + atom->nghost;
  double **x = atom->x;
  for (int i = 0; i < nall; i++) {
    for (int c = 0; c < 3; c++) x[i][c] = x0[3 * i + c];
    x[i][a] += gamma * (x0[3 * i + b] - domain->boxlo[b]);
  }
  const int nclear = force->newton ? nall : atom->nlocal;
  std::memset(&atom->f[0][0], 0, sizeof(double) * 3 * nclear);
  double v[6] = {0, 0, 0, 0, 0, 0};
  auto add = [&](const double *vv) {
    for (int k = 0; k < 6; k++) v[k] += vv[k];
  };
  if (force->pair) {
    force->pair->compute(0, VIRIAL_PAIR);
    add(force->pair->virial);
  }
  if (atom->molecular != Atom::ATOMIC) {
    if (force->bond) { force->bond->compute(0, VIRIAL_PAIR); add(force->bond->virial); }
    if (force->angle) { force->angle->compute(0, VIRIAL_PAIR); add(force->angle->virial); }
    if (force->dihedral) { force->dihedral->compute(0, VIRIAL_PAIR); add(force->dihedral->virial); }
    if (force->improper) { force->improper->compute(0, VIRIAL_PAIR); add(force->improper->virial); }
  }
  if (force->newton) comm->reverse_comm();
  force_calls++;
  double all[6];
  MPI_Allreduce(v, all, 6, MPI_DOUBLE, MPI_SUM, world);
  // LAMMPS order xx, yy, zz, xy, xz, yz
  w[0][0] = all[0];
  w[1][1] = all[1];
  w[2][2] = all[2];
  w[0][1] = w[1][0] = all[3];
  w[0][2] = w[2][0] = all[4];
  w[1][2] = w[2][1] = all[5];
}

// Central differences under the affine maps F = I + gamma e_a e_b^T (a <= b: the normal
// stretches and the simple shears LAMMPS's tilts describe), gamma = +-delta. With S = -W the
// energy-derivative stress times V in the lab frame, T(gamma) = F^-1 S F^-T = dU/deta (second
// Piola-Kirchhoff times V), and de_I/dgamma = delta_IJ at gamma = 0, so
//   C^B_IJ = (1/V) dT_J/dgamma_I,
//   Xi_I = d(F^T dU/dx)/dgamma = -dF_lab/dgamma - e_b f_a   (the last term vanishes at F = 0).
void ElasticBuilder::fd_terms(std::vector<AtomTerms> &terms)
{
  const int nlocal = atom->nlocal;
  ForceProbe probe(lmp);    // restores positions, forces and accumulators when done
  const int nall = atom->nlocal + atom->nghost;
  std::vector<double> x0(&atom->x[0][0], &atom->x[0][0] + 3 * nall);
  std::vector<double> f0(3 * nlocal), fplus(3 * nlocal);
  double w0[3][3];
  strained_forces(0, 0, 0.0, x0, w0);
  std::memcpy(f0.data(), &atom->f[0][0], sizeof(double) * 3 * nlocal);
  for (int a = 0; a < dim; a++)
    for (int b = 0; b < dim; b++) stress[a][b] = -w0[a][b] / volume;
  double dT[MAXV][MAXV];
  for (int I = 0; I < nv; I++) {
    const int a = va[I], b = vb[I];
    double T[2][3][3];
    for (int s = 0; s < 2; s++) {
      const double gamma = s == 0 ? opt.delta : -opt.delta;
      double w[3][3];
      strained_forces(a, b, gamma, x0, w);
      if (s == 0) std::memcpy(fplus.data(), &atom->f[0][0], sizeof(double) * 3 * nlocal);
      // F^-1 = I - c e_a e_b^T, c = gamma/(1+gamma) for a == b, gamma otherwise
      const double c = a == b ? gamma / (1.0 + gamma) : gamma;
      double Finv[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
      Finv[a][b] -= c;
      for (int p = 0; p < 3; p++)
        for (int q = 0; q < 3; q++) {
          double sum = 0.0;
          for (int m = 0; m < 3; m++)
            for (int n = 0; n < 3; n++) sum += Finv[p][m] * (-w[m][n]) * Finv[q][n];
          T[s][p][q] = sum;
        }
    }
    for (int J = 0; J < nv; J++)
      dT[I][J] = (T[0][va[J]][vb[J]] - T[1][va[J]][vb[J]]) / (2.0 * opt.delta * volume);
    for (int i = 0; i < nlocal; i++)
      for (int mu = 0; mu < dim; mu++) {
        double xi = -(fplus[3 * i + mu] - atom->f[i][mu]) / (2.0 * opt.delta);
        if (mu == b) xi -= f0[3 * i + a];
        terms[i].xi[nv * mu + I] = xi;
      }
  }
  double cmax = 0.0, asym = 0.0;
  for (int I = 0; I < nv; I++)
    for (int J = 0; J < nv; J++) {
      born[I][J] = 0.5 * (dT[I][J] + dT[J][I]);
      cmax = std::max(cmax, std::fabs(born[I][J]));
      asym = std::max(asym, std::fabs(dT[I][J] - dT[J][I]));
    }
  fd_asymmetry = cmax > 0.0 ? asym / cmax : asym;
}

void ElasticBuilder::write(const std::string &path, NeighList *full_list)
{
  const double t0 = platform::walltime();
  const ElasticOptions::Method method = check_and_resolve();
  volume = domain->xprd * domain->yprd * (dim == 3 ? domain->zprd : 1.0);

  // residual forces, energy and the per-atom mass check, as for the Hessian
  HessianOptions hopt;
  hopt.ftol = opt.ftol;
  hopt.fcheck = opt.fcheck;
  HessianBuilder hb(lmp, style.c_str(), igroup, hopt);
  hb.check_residual_forces();
  fmax = hb.max_residual_force();
  energy = hb.potential_energy();
  force_calls = hb.force_evaluations();

  const int nlocal = atom->nlocal;
  std::vector<int64_t> own_tags(nlocal);
  std::vector<AtomRecord> records(nlocal);
  for (int i = 0; i < nlocal; i++) {
    own_tags[i] = atom->tag[i];
    records[i] = atom_record(atom, i, atom->rmass ? atom->rmass[i] : atom->mass[atom->type[i]]);
  }
  AtomIndexMap index_map(world, own_tags);
  const int64_t natoms = index_map.size();
  const std::vector<int64_t> own_index = index_map.lookup(own_tags);
  for (int i = 0; i < nlocal; i++) records[i].index = own_index[i];

  std::vector<AtomTerms> terms(nlocal);
  if (method == ElasticOptions::ANALYTIC) {
    for (int i = 0; i < nlocal; i++) analytic_terms(full_list, i, terms[i]);
  } else {
    // a pair within delta*r of a cutoff where the force jumps spoils its differences: warn
    if (force->pair && !force->pair->manybody_flag) {
      HessianOptions jopt;
      jopt.delta = opt.delta * force->pair->cutforce;    // the largest change of a separation
      HessianBuilder(lmp, style.c_str(), igroup, jopt).check_force_jumps(full_list);
    }
    for (auto &t : terms) std::memset(&t, 0, sizeof(t));
    fd_terms(terms);
  }
  for (int i = 0; i < nlocal; i++) terms[i].index = own_index[i];

  // to the owners of contiguous index ranges, in index order
  std::vector<int> dest(nlocal);
  for (int i = 0; i < nlocal; i++) dest[i] = block_owner(own_index[i], natoms, comm->nprocs);
  std::vector<AtomTerms> owned = exchange(world, dest, terms);
  std::vector<AtomTerms>().swap(terms);
  std::sort(owned.begin(), owned.end(), [](const AtomTerms &a, const AtomTerms &b) { return a.index < b.index; });
  if (method == ElasticOptions::ANALYTIC) {
    std::vector<Accumulator> acc(nv * nv + 9);
    for (const auto &t : owned) {
      for (int k = 0; k < nv * nv; k++) acc[k].add(t.born[k]);
      for (int k = 0; k < 9; k++) acc[nv * nv + k].add(t.stress[k]);
    }
    std::vector<double> sums;
    reduce_accumulators(world, acc, sums);
    for (int I = 0; I < nv; I++)
      for (int J = 0; J < nv; J++) born[I][J] = sums[nv * I + J] / volume;
    for (int a = 0; a < dim; a++)
      for (int b = 0; b < dim; b++) stress[a][b] = sums[nv * nv + 3 * a + b] / volume;
  }
  std::vector<char> rows(owned.size() * dim * nv * sizeof(double));
  {
    double *p = (double *) rows.data();
    for (const auto &t : owned)
      for (int mu = 0; mu < dim; mu++)
        for (int I = 0; I < nv; I++) *p++ = t.xi[nv * mu + I];
  }
  const int64_t nrows_local = (int64_t) owned.size() * dim;
  std::vector<AtomTerms>().swap(owned);

  OutputFiles files(lmp, style, {path, path + ".atoms.npy", path + ".json"});
  WriteResult res = write_npy_records(world, files.temporary(0), "'<f8'", sizeof(double) * nv,
                                      nrows_local, rows);
  if (res.error.empty() && res.nnz != natoms * dim) res.error = "internal error: Xi rows do not cover every atom";
  if (res.error.empty()) {
    // the records were written as a flat vector; give the header the 2-d shape (same length)
    const std::string flat = npy_header("'<f8'", natoms * dim);
    std::string dict = fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}",
                                   natoms * dim, nv);
    int ok = 1;
    if (comm->me == 0) {
      if (10 + dict.size() + 1 > flat.size()) ok = 0;
      else {
        dict.append(flat.size() - 10 - dict.size() - 1, ' ');
        dict.push_back('\n');
        std::string header = flat.substr(0, 10) + dict;
        FILE *fp = fopen(files.temporary(0).c_str(), "r+b");
        if (!fp || fwrite(header.data(), 1, header.size(), fp) != header.size()) ok = 0;
        if (fp && fclose(fp) != 0) ok = 0;
      }
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, world);
    if (!ok) res.error = "writing the header of " + path + " failed";
  }
  if (res.error.empty()) res.error = write_atoms_npy(world, files.temporary(1), natoms, std::move(records)).error;
  if (!res.error.empty()) files.fail(res.error);
  const double seconds = platform::walltime() - t0;
  files.write_sidecar(2, sidecar_json(path, natoms, method, seconds), {"xi", "atoms", "sidecar"});
  files.commit();
  if (comm->me == 0)
    utils::logmesg(lmp, "{}: wrote {} ({} atoms, {} method, {} force evaluations, largest residual "
                   "force {:.3e}) in {:.3f} s\n", style, path, natoms,
                   method == ElasticOptions::ANALYTIC ? "analytic" : "fd", force_calls, fmax, seconds);
}

std::string ElasticBuilder::sidecar_json(const std::string &path, int64_t natoms,
                                         ElasticOptions::Method method, double seconds) const
{
  json j;
  auto base = [](const std::string &p) {
    auto s = p.find_last_of('/');
    return s == std::string::npos ? p : p.substr(s + 1);
  };
  j["format"] = "glassmodes-elastic";
  j["format_version"] = 1;
  j["xi_file"] = base(path);
  j["xi_format"] = "npy <f8, C order, shape (ndof, nvoigt)";
  j["atoms_file"] = base(path) + ".atoms.npy";
  j["natoms"] = natoms;
  j["dimension"] = dim;
  j["ndof"] = natoms * dim;
  j["nvoigt"] = nv;
  std::vector<std::string> names;
  for (int I = 0; I < nv; I++) names.push_back(dim == 3 ? VOIGT3[I] : VOIGT2[I]);
  j["voigt"] = names;
  j["units"] = update->unit_style;
  j["method"] = method == ElasticOptions::ANALYTIC ? "analytic" : "fd";
  j["volume"] = volume;
  // cell vectors as rows: a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz)
  const double cell3[3][3] = {{domain->xprd, 0.0, 0.0}, {domain->xy, domain->yprd, 0.0},
                              {domain->xz, domain->yz, domain->zprd}};
  std::vector<std::vector<double>> cell(dim, std::vector<double>(dim)), sig(dim, std::vector<double>(dim));
  for (int a = 0; a < dim; a++)
    for (int b = 0; b < dim; b++) {
      cell[a][b] = cell3[a][b];
      sig[a][b] = stress[a][b];
    }
  std::vector<std::vector<double>> cb(nv, std::vector<double>(nv));
  for (int I = 0; I < nv; I++)
    for (int J = 0; J < nv; J++) cb[I][J] = born[I][J];
  j["cell"] = cell;
  j["stress"] = sig;
  j["born"] = cb;
  j["stress_units"] = "energy/distance^d";
  j["born_units"] = "energy/distance^d";
  j["xi_units"] = "energy/distance";
  j["conventions"] = {
      {"voigt_strain", "e_I = eta_aa (normal), e_I = 2 eta_ab (shear, engineering); eta = (F^T F - I)/2"},
      {"stress", "sigma_ab = (1/V) dU/deta_ab = (1/V) sum_pairs phi' r_a r_b / r; energy-derivative "
                 "convention, no kinetic term, negative under compression; sigma = -(virial pressure)"},
      {"born", "C^B_IJ = (1/V) d2U/de_I de_J at fixed reduced positions = (1/V) sum_pairs "
               "(phi'' - phi'/r) r_a r_b r_c r_d / r^2 (Lagrangian strain)"},
      {"xi", "Xi[d*k+mu, I] = d2U/du_{k,mu} de_I, u the positions in the reference frame; a pair "
             "(i,j), r = x_j - x_i, gives +g to atom j and -g to atom i, g_mu = (phi'' - phi'/r) "
             "r_mu r_a r_b / r^2 + (phi'/r)(delta_a,mu r_b + delta_b,mu r_a); at zero forces "
             "Xi = -dF/de_I (F the forces in the lab frame)"},
      {"volume", "V = the cell volume (area in 2D)"},
      {"rows", "row d*k+mu: component mu of the atom with the k-th smallest ID (the Hessian's order)"}};
  if (method == ElasticOptions::FD) {
    j["delta"] = opt.delta;
    j["fd_born_asymmetry"] = fd_asymmetry;
  }
  j["force_evaluations"] = force_calls;
  j["max_residual_force"] = fmax;
  j["potential_energy"] = energy;
  add_common_sidecar_fields(lmp, igroup, seconds, j);
  return j.dump(1);
}
