#include "compute_mode_energy.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "group.h"
#include "memory.h"
#include "update.h"
#include "utils.h"

#include "exchange.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

namespace {
constexpr char MAGIC[8] = {'G', 'M', 'M', 'O', 'D', 'E', 'P', '1'};
constexpr char END[8] = {'G', 'M', 'M', 'O', 'D', 'E', 'N', 'D'};
constexpr int VERSION = 1;
constexpr int HEADER_BYTES = 176;

// the file header, read field by field (layout in glassmodes/anharmonic/projection.py)
struct Header {
  char magic[8];
  int32_t endian, version, dimension, triclinic;
  int64_t natoms, nmodes;
  char units[16];
  double boxlo[3], boxhi[3], tilt[3];
  int32_t periodicity[3], reserved_i;
  double reserved[4];
};
static_assert(sizeof(Header) == HEADER_BYTES, "mode-projection header layout");

// one atom request of the rendezvous: which ID, for which rank
struct Request {
  int64_t id;
  int64_t from;
};
}    // namespace

ComputeModeEnergy::ComputeModeEnergy(LAMMPS *lmp, int narg, char **arg) : Compute(lmp, narg, arg)
{
  if (narg < 4) utils::missing_cmd_args(FLERR, "compute mode/energy", error);
  if (!atom->tag_enable) error->all(FLERR, "compute mode/energy: atoms need IDs");
  path = arg[3];
  int iarg = 4;
  while (iarg < narg) {
    if (strcmp(arg[iarg], "boxtol") == 0) {
      if (iarg + 2 > narg) utils::missing_cmd_args(FLERR, "compute mode/energy boxtol", error);
      boxtol = utils::numeric(FLERR, arg[iarg + 1], false, lmp);
      if (boxtol < 0.0) error->all(FLERR, "compute mode/energy: boxtol must be >= 0, not {}", arg[iarg + 1]);
      iarg += 2;
    } else if (strcmp(arg[iarg], "masstol") == 0) {
      if (iarg + 2 > narg) utils::missing_cmd_args(FLERR, "compute mode/energy masstol", error);
      masstol = utils::numeric(FLERR, arg[iarg + 1], false, lmp);
      if (masstol < 0.0) error->all(FLERR, "compute mode/energy: masstol must be >= 0, not {}", arg[iarg + 1]);
      iarg += 2;
    } else {
      error->all(FLERR, "compute mode/energy: unknown keyword {}", arg[iarg]);
    }
  }

  read_file();

  vector_flag = 1;
  size_vector = nmodes;
  extvector = 0;    // one mode's energy: not divided by N with thermo_modify norm yes
  array_flag = 1;
  size_array_rows = nmodes;
  size_array_cols = NCOLS;
  extarray = 0;

  vector = new double[nmodes];
  memory->create(carray, nmodes, NCOLS, "mode/energy:array");
  array = carray;
  amp.assign(2 * (size_t) nmodes, 0.0);
}

ComputeModeEnergy::~ComputeModeEnergy()
{
  delete[] vector;
  memory->destroy(carray);
}

/* Every rank reads the header and the frequencies, and its contiguous slice of atom records
   (the rendezvous "home" of those IDs); nobody holds all atoms. */
void ComputeModeEnergy::read_file()
{
  const int me = comm->me, nprocs = comm->nprocs;
  FILE *fp = fopen(path.c_str(), "rb");
  int ok = fp ? 1 : 0, allok;
  MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, world);
  if (!allok) {
    if (fp) fclose(fp);
    error->all(FLERR, "compute mode/energy: cannot open mode-projection file {}", path);
  }
  Header h;
  std::memset(&h, 0, sizeof(h));
  ok = fread(&h, sizeof(h), 1, fp) == 1 && std::memcmp(h.magic, MAGIC, 8) == 0;
  MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, world);
  if (!allok) {
    fclose(fp);
    error->all(FLERR, "compute mode/energy: {} is not a glassmodes mode-projection file", path);
  }
  if (h.endian != 0x01020304) {
    fclose(fp);
    error->all(FLERR, "compute mode/energy: {} was written with another byte order", path);
  }
  if (h.version < 1 || h.version > VERSION) {
    fclose(fp);
    error->all(FLERR, "compute mode/energy: {} has format version {}, this plugin reads 1..{}", path,
               h.version, VERSION);
  }
  if (h.nmodes <= 0 || h.natoms <= 0 || h.nmodes > std::numeric_limits<int>::max() / 8) {
    fclose(fp);
    error->all(FLERR, "compute mode/energy: {} holds {} atoms and {} modes", path, h.natoms, h.nmodes);
  }
  natoms_file = h.natoms;
  nmodes = (int) h.nmodes;
  file_dimension = h.dimension;
  char units[17];
  std::memcpy(units, h.units, 16);
  units[16] = '\0';
  file_units = units;
  for (int a = 0; a < 3; a++) {
    file_boxlo[a] = h.boxlo[a];
    file_boxhi[a] = h.boxhi[a];
    file_tilt[a] = h.tilt[a];
  }
  stride = 4 + 3 * nmodes;

  // sizes: header, omega, mode_index, records, trailer
  const int64_t recbytes = 8 + 4 + 4 + 8 + 24 + 24 * (int64_t) nmodes;
  const int64_t off_omega = HEADER_BYTES;
  const int64_t off_atoms = off_omega + 16 * (int64_t) nmodes;
  const int64_t expected = off_atoms + recbytes * natoms_file + 8;
  ok = 1;
  if (fseeko(fp, 0, SEEK_END) != 0 || (int64_t) ftello(fp) != expected) ok = 0;
  char end[8] = {0};
  if (ok && (fseeko(fp, (off_t) (expected - 8), SEEK_SET) != 0 || fread(end, 1, 8, fp) != 8 ||
             std::memcmp(end, END, 8) != 0))
    ok = 0;
  omega.assign(nmodes, 0.0);
  if (ok && (fseeko(fp, (off_t) (off_omega), SEEK_SET) != 0 ||
             fread(omega.data(), sizeof(double), nmodes, fp) != (size_t) nmodes))
    ok = 0;
  // this rank's slice [lo, hi) of the records
  const int64_t lo = block_begin(me, natoms_file, nprocs), hi = block_begin(me + 1, natoms_file, nprocs);
  home_id.resize(hi - lo);
  home_data.resize((size_t) (hi - lo) * stride);
  if (ok && hi > lo) {
    std::vector<char> buf(recbytes);
    if (fseeko(fp, (off_t) (off_atoms + lo * recbytes), SEEK_SET) != 0) ok = 0;
    for (int64_t r = lo; ok && r < hi; r++) {
      if (fread(buf.data(), 1, recbytes, fp) != (size_t) recbytes) {
        ok = 0;
        break;
      }
      int64_t id;
      std::memcpy(&id, buf.data(), 8);
      home_id[r - lo] = id;
      double *d = &home_data[(size_t) (r - lo) * stride];
      std::memcpy(d, buf.data() + 16, 8 * 4);                        // mass, x[3]
      std::memcpy(d + 4, buf.data() + 48, 24 * (size_t) nmodes);    // e[K][3]
    }
  }
  fclose(fp);
  MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, world);
  if (!allok)
    error->all(FLERR, "compute mode/energy: {} is truncated or corrupt (expected {} bytes for {} atoms "
               "and {} modes)", path, expected, natoms_file, nmodes);
  ok = std::is_sorted(home_id.begin(), home_id.end()) ? 1 : 0;
  MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, world);
  if (!allok) error->all(FLERR, "compute mode/energy: {} has atom records out of ID order", path);
  for (double w : omega)
    if (!(w > 0.0)) error->all(FLERR, "compute mode/energy: {} has a mode with omega = {} <= 0", path, w);

  int64_t first = home_id.empty() ? std::numeric_limits<int64_t>::max() : home_id.front();
  slice_first.assign(nprocs, 0);
  MPI_Allgather(&first, 1, MPI_INT64_T, slice_first.data(), 1, MPI_INT64_T, world);
}

int ComputeModeEnergy::home_rank(int64_t id) const
{
  // the last non-empty slice whose first ID is <= id (slices are ascending in rank order)
  int r = 0;
  for (int p = 0; p < (int) slice_first.size(); p++)
    if (slice_first[p] != std::numeric_limits<int64_t>::max() && slice_first[p] <= id) r = p;
  return r;
}

void ComputeModeEnergy::init()
{
  if (file_units != update->unit_style)
    error->all(FLERR, "compute mode/energy: {} was written for units {}, this run uses units {}", path,
               file_units, update->unit_style);
  if (file_dimension != domain->dimension)
    error->all(FLERR, "compute mode/energy: {} is {}-dimensional, this run is {}-dimensional", path,
               file_dimension, domain->dimension);
  const bigint n = group->count(igroup);
  if (n != natoms_file)
    error->all(FLERR, "compute mode/energy: group {} has {} atoms, the mode-projection file {}",
               group->names[igroup], n, natoms_file);
  const double run_tilt[3] = {domain->xy, domain->xz, domain->yz};
  for (int a = 0; a < 3; a++) {
    const double L = file_boxhi[a] - file_boxlo[a];
    if (a >= domain->dimension) continue;
    if (std::fabs(domain->boxlo[a] - file_boxlo[a]) > boxtol * L ||
        std::fabs(domain->boxhi[a] - file_boxhi[a]) > boxtol * L ||
        std::fabs(run_tilt[a] - file_tilt[a]) > boxtol * L)
      error->all(FLERR, "compute mode/energy: the box differs from the inherent structure's in {} "
                 "(dimension {}: run [{}, {}], file [{}, {}]; tilt run {} file {}): the modes do not "
                 "belong to this structure", path, a, domain->boxlo[a], domain->boxhi[a], file_boxlo[a],
                 file_boxhi[a], run_tilt[a], file_tilt[a]);
  }
  slot.clear();
  cache.clear();
}

/* Make sure the record of every owned group atom is in the cache: a rendezvous with the home
   ranks of the missing IDs (at the first step and when atoms migrate between ranks). */
void ComputeModeEnergy::refresh_cache()
{
  const int nlocal = atom->nlocal;
  const tagint *tag = atom->tag;
  const int *mask = atom->mask;
  std::vector<int64_t> missing;
  for (int i = 0; i < nlocal; i++)
    if ((mask[i] & groupbit) && !slot.count((int64_t) tag[i])) missing.push_back((int64_t) tag[i]);
  int64_t nmiss = (int64_t) missing.size(), allmiss = 0;
  MPI_Allreduce(&nmiss, &allmiss, 1, MPI_INT64_T, MPI_SUM, world);
  if (allmiss == 0) return;

  // drop records of atoms that left (keeps the cache O(N/P))
  if (slot.size() > (size_t) 2 * nlocal + 64) {
    std::unordered_map<int64_t, int> keep;
    std::vector<double> kept;
    for (int i = 0; i < nlocal; i++) {
      auto it = slot.find((int64_t) tag[i]);
      if (it == slot.end()) continue;
      keep[(int64_t) tag[i]] = (int) (kept.size() / stride);
      kept.insert(kept.end(), cache.begin() + (size_t) it->second * stride,
                  cache.begin() + (size_t) (it->second + 1) * stride);
    }
    slot.swap(keep);
    cache.swap(kept);
  }

  std::vector<int> dest;
  std::vector<Request> req;
  for (int64_t id : missing) {
    dest.push_back(home_rank(id));
    req.push_back({id, (int64_t) comm->me});
  }
  std::vector<Request> asked = exchange(world, dest, req);

  // answer: per request, [id, found, mass, x[3], e[K][3]] (2 + stride doubles)
  const int rs = 2 + stride;
  std::vector<int> rdest;
  std::vector<double> reply;
  rdest.reserve(asked.size() * rs);
  reply.reserve(asked.size() * rs);
  for (const Request &q : asked) {
    auto it = std::lower_bound(home_id.begin(), home_id.end(), q.id);
    bool found = it != home_id.end() && *it == q.id;
    reply.push_back((double) q.id);
    reply.push_back(found ? 1.0 : 0.0);
    if (found) {
      const double *d = &home_data[(size_t) (it - home_id.begin()) * stride];
      reply.insert(reply.end(), d, d + stride);
    } else {
      reply.insert(reply.end(), stride, 0.0);
    }
    rdest.insert(rdest.end(), rs, (int) q.from);
  }
  std::vector<double> got = exchange(world, rdest, reply);

  int64_t notfound = -1;
  for (size_t r = 0; r + rs <= got.size(); r += rs) {
    const int64_t id = (int64_t) std::llround(got[r]);
    if (got[r + 1] == 0.0) {
      notfound = id;
      continue;
    }
    slot[id] = (int) (cache.size() / stride);
    cache.insert(cache.end(), got.begin() + r + 2, got.begin() + r + rs);
  }
  int64_t anyid = notfound, allid = -1;
  MPI_Allreduce(&anyid, &allid, 1, MPI_INT64_T, MPI_MAX, world);
  if (allid >= 0)
    error->all(FLERR, "compute mode/energy: atom ID {} of group {} is not in {}: the modes belong to "
               "another structure", allid, group->names[igroup], path);

  // masses must agree with the file's (the projection weights are sqrt(m))
  double worst = 0.0;
  int64_t worst_id = -1;
  for (int i = 0; i < nlocal; i++) {
    if (!(mask[i] & groupbit)) continue;
    const double m = atom->rmass_flag ? atom->rmass[i] : atom->mass[atom->type[i]];
    const double mf = cache[(size_t) slot[(int64_t) tag[i]] * stride];
    const double rel = std::fabs(m - mf) / std::max(std::fabs(mf), 1e-300);
    if (rel > worst) {
      worst = rel;
      worst_id = (int64_t) tag[i];
    }
  }
  struct {
    double v;
    int r;
  } in{worst, comm->me}, out{0.0, 0};
  MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, world);
  if (out.v > masstol) {
    MPI_Bcast(&worst_id, 1, MPI_INT64_T, out.r, world);
    error->all(FLERR, "compute mode/energy: the mass of atom ID {} differs from {}'s by {:.3g} "
               "(relative; masstol {})", worst_id, path, out.v, masstol);
  }
}

/* A_k and dA_k/dt of the current configuration, summed over ranks (one Allreduce of 2K numbers). */
void ComputeModeEnergy::project()
{
  refresh_cache();
  const int nlocal = atom->nlocal;
  const int *mask = atom->mask;
  const tagint *tag = atom->tag;
  double **x = atom->x, **v = atom->v;
  const int K = nmodes;
  std::fill(amp.begin(), amp.end(), 0.0);
  double *A = amp.data(), *Ad = amp.data() + K;
  for (int i = 0; i < nlocal; i++) {
    if (!(mask[i] & groupbit)) continue;
    const double *d = &cache[(size_t) slot.find((int64_t) tag[i])->second * stride];
    const double m = atom->rmass_flag ? atom->rmass[i] : atom->mass[atom->type[i]];
    const double sm = std::sqrt(m);
    double dx[3] = {x[i][0] - d[1], x[i][1] - d[2], x[i][2] - d[3]};
    domain->minimum_image(FLERR, dx);
    const double px = sm * dx[0], py = sm * dx[1], pz = sm * dx[2];
    const double qx = sm * v[i][0], qy = sm * v[i][1], qz = sm * v[i][2];
    const double *e = d + 4;
    for (int k = 0; k < K; k++, e += 3) {
      A[k] += e[0] * px + e[1] * py + e[2] * pz;
      Ad[k] += e[0] * qx + e[1] * qy + e[2] * qz;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, amp.data(), 2 * K, MPI_DOUBLE, MPI_SUM, world);
  const double mvv2e = force->mvv2e;
  for (int k = 0; k < K; k++) {
    const double w = omega[k];
    const double e = 0.5 * mvv2e * (w * w * A[k] * A[k] + Ad[k] * Ad[k]);
    vector[k] = e;
    carray[k][0] = e;
    carray[k][1] = A[k];
    carray[k][2] = Ad[k];
  }
}

void ComputeModeEnergy::compute_vector()
{
  invoked_vector = update->ntimestep;
  project();
}

void ComputeModeEnergy::compute_array()
{
  invoked_array = update->ntimestep;
  project();
}

double ComputeModeEnergy::memory_usage()
{
  double bytes = sizeof(double) * (home_data.size() + cache.size() + omega.size() + amp.size());
  bytes += sizeof(int64_t) * (home_id.size() + slice_first.size());
  bytes += (sizeof(int64_t) + sizeof(int) + 16.0) * slot.size();
  bytes += sizeof(double) * (double) nmodes * (1 + NCOLS);
  return bytes;
}
