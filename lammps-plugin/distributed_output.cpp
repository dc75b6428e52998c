#include "distributed_output.h"

#include "exchange.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

using namespace LAMMPS_NS::glassmodes;

namespace {

constexpr int32_t PETSC_MAT_CLASSID = 1211216;
constexpr int64_t CHUNK_BYTES = 1LL << 28;    // largest single MPI-IO call

inline uint32_t to_big32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return v;
#else
  return __builtin_bswap32(v);
#endif
}

inline uint64_t to_big64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return v;
#else
  return __builtin_bswap64(v);
#endif
}

std::string mpi_error(int code)
{
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return std::string(msg, len);
}

// Collective write of this rank's bytes at `offset`; every rank takes part in every call.
std::string write_section(MPI_Comm comm, MPI_File fh, MPI_Offset offset, const char *data,
                          int64_t nbytes)
{
  int64_t nchunks = (nbytes + CHUNK_BYTES - 1) / CHUNK_BYTES, maxchunks = 0;
  MPI_Allreduce(&nchunks, &maxchunks, 1, MPI_INT64_T, MPI_MAX, comm);
  int failed = 0;
  std::string err;
  for (int64_t c = 0; c < maxchunks; c++) {
    int64_t begin = std::min(nbytes, c * CHUNK_BYTES);
    int count = (int) (std::min(nbytes, begin + CHUNK_BYTES) - begin);
    MPI_Status status;
    int rc = MPI_File_write_at_all(fh, offset + begin, data + begin, count, MPI_BYTE, &status);
    if (rc == MPI_SUCCESS && count > 0) {
      int written = 0;
      MPI_Get_count(&status, MPI_BYTE, &written);
      if (written != count) {
        rc = MPI_ERR_IO;
        err = "short write (disk full?)";
      }
    }
    if (rc != MPI_SUCCESS && err.empty()) err = mpi_error(rc);
    if (rc != MPI_SUCCESS) failed = 1;
  }
  int anyfail = 0;
  MPI_Allreduce(&failed, &anyfail, 1, MPI_INT, MPI_MAX, comm);
  if (anyfail && err.empty()) err = "write failed on another rank";
  return anyfail ? err : std::string();
}

// Independent write of `nbytes` at `offset`, in pieces of at most CHUNK_BYTES.
std::string write_independent(MPI_File fh, MPI_Offset offset, const char *data, int64_t nbytes)
{
  for (int64_t begin = 0; begin < nbytes; begin += CHUNK_BYTES) {
    int count = (int) (std::min(nbytes, begin + CHUNK_BYTES) - begin);
    MPI_Status status;
    int rc = MPI_File_write_at(fh, offset + begin, data + begin, count, MPI_BYTE, &status);
    if (rc != MPI_SUCCESS) return mpi_error(rc);
    int written = 0;
    MPI_Get_count(&status, MPI_BYTE, &written);
    if (written != count) return "short write (disk full?)";
  }
  return "";
}

// Open `path` for writing, truncated; collective. Returns an error message or "".
std::string open_for_write(MPI_Comm comm, const std::string &path, MPI_File *fh)
{
  int me;
  MPI_Comm_rank(comm, &me);
  if (me == 0) MPI_File_delete(path.c_str(), MPI_INFO_NULL);    // a stale file from a crash
  MPI_Barrier(comm);
  int rc = MPI_File_open(comm, path.c_str(), MPI_MODE_WRONLY | MPI_MODE_CREATE, MPI_INFO_NULL, fh);
  if (rc != MPI_SUCCESS) return "cannot open " + path + " for writing: " + mpi_error(rc);
  return "";
}

std::string close_file(MPI_File *fh)
{
  int rc = MPI_File_close(fh);
  return rc == MPI_SUCCESS ? std::string() : mpi_error(rc);
}

}    // namespace

WriteResult LAMMPS_NS::glassmodes::write_petsc_block_matrix(MPI_Comm comm, const std::string &path,
                                                           int dim, int64_t natoms,
                                                           std::vector<MatrixBlock> blocks)
{
  WriteResult result;
  int me, nprocs;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &nprocs);

  // move every block to the owner of its row range, then order rows and columns
  std::vector<int> dest(blocks.size());
  for (size_t k = 0; k < blocks.size(); k++) dest[k] = block_owner(blocks[k].row, natoms, nprocs);
  blocks = exchange(comm, dest, blocks);
  std::sort(blocks.begin(), blocks.end(), [](const MatrixBlock &a, const MatrixBlock &b) {
    return a.row < b.row || (a.row == b.row && a.col < b.col);
  });
  // contributions to one (row, col) are summed (at most two, from a symmetrization: a+b == b+a)
  size_t nunique = 0;
  for (size_t k = 0; k < blocks.size(); k++) {
    if (nunique > 0 && blocks[nunique - 1].row == blocks[k].row && blocks[nunique - 1].col == blocks[k].col) {
      for (int q = 0; q < 9; q++) blocks[nunique - 1].v[q] += blocks[k].v[q];
    } else {
      blocks[nunique++] = blocks[k];
    }
  }
  blocks.resize(nunique);
  const int64_t row0 = block_begin(me, natoms, nprocs), row1 = block_begin(me + 1, natoms, nprocs);
  std::vector<int64_t> nblocks(row1 - row0, 0);
  for (const auto &b : blocks) nblocks[b.row - row0]++;
  int bad = 0;
  for (auto n : nblocks)
    if (n == 0) bad = 1;
  int anybad = 0;
  MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, comm);
  if (anybad) {
    result.error = "internal error: an atom row has no block";
    return result;
  }

  const int64_t ndof = natoms * dim;
  int64_t mynnz = (int64_t) blocks.size() * dim * dim, nnz = 0, nnzoff = 0;
  MPI_Allreduce(&mynnz, &nnz, 1, MPI_INT64_T, MPI_SUM, comm);
  MPI_Exscan(&mynnz, &nnzoff, 1, MPI_INT64_T, MPI_SUM, comm);
  if (me == 0) nnzoff = 0;
  if (ndof > INT32_MAX || nnz > INT32_MAX) {
    result.error = "matrix too large for 32-bit PETSc indices (" + std::to_string(nnz) +
        " nonzeros): split the group";
    return result;
  }

  // this rank's rows: lengths, column indices, values, already big-endian
  std::vector<uint32_t> rowlen, cols;
  std::vector<uint64_t> vals;
  rowlen.reserve((row1 - row0) * dim);
  cols.reserve(mynnz);
  vals.reserve(mynnz);
  size_t first = 0;
  for (int64_t r = row0; r < row1; r++) {
    size_t nb = nblocks[r - row0];
    for (int a = 0; a < dim; a++) {
      rowlen.push_back(to_big32((uint32_t) (nb * dim)));
      for (size_t k = first; k < first + nb; k++)
        for (int b = 0; b < dim; b++) {
          cols.push_back(to_big32((uint32_t) (blocks[k].col * dim + b)));
          uint64_t bits;
          std::memcpy(&bits, &blocks[k].v[a * dim + b], sizeof(bits));
          vals.push_back(to_big64(bits));
        }
    }
    first += nb;
  }
  std::vector<MatrixBlock>().swap(blocks);

  MPI_File fh;
  result.error = open_for_write(comm, path, &fh);
  if (!result.error.empty()) return result;
  uint32_t header[4] = {to_big32(PETSC_MAT_CLASSID), to_big32((uint32_t) ndof),
                        to_big32((uint32_t) ndof), to_big32((uint32_t) nnz)};
  const MPI_Offset rowlen_at = 16, cols_at = 16 + 4 * ndof, vals_at = cols_at + 4 * nnz;
  std::string err = write_section(comm, fh, 0, (const char *) header, me == 0 ? 16 : 0);
  if (err.empty())
    err = write_section(comm, fh, rowlen_at + 4 * row0 * dim, (const char *) rowlen.data(),
                        4 * (int64_t) rowlen.size());
  if (err.empty())
    err = write_section(comm, fh, cols_at + 4 * nnzoff, (const char *) cols.data(),
                        4 * (int64_t) cols.size());
  if (err.empty())
    err = write_section(comm, fh, vals_at + 8 * nnzoff, (const char *) vals.data(),
                        8 * (int64_t) vals.size());
  std::string cerr = close_file(&fh);
  result.error = err.empty() ? cerr : err;
  if (!result.error.empty()) result.error = "writing " + path + ": " + result.error;
  result.nnz = nnz;
  return result;
}

namespace {
struct RowCount {
  int64_t index;     // matrix index of the atom row
  int64_t value;     // its number of blocks; on the way back, its first block's position
  int32_t rank;
  int32_t pad;
};
}    // namespace

WriteResult LAMMPS_NS::glassmodes::write_petsc_block_rows(MPI_Comm comm, const std::string &path,
                                                         int dim, int64_t natoms,
                                                         const std::vector<int64_t> &row_index,
                                                         const BlockRowCounter &count,
                                                         const BlockRowProducer &produce)
{
  WriteResult result;
  int me, nprocs;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &nprocs);
  const int64_t nrows = (int64_t) row_index.size();
  const int d2 = dim * dim;

  // pass 1: blocks per row, then each row's first block from a prefix sum in index order
  std::vector<RowCount> counts(nrows);
  std::vector<int> dest(nrows);
  std::vector<MatrixBlock> row;
  for (int64_t r = 0; r < nrows; r++) {
    counts[r] = {row_index[r], count(r), me, 0};
    dest[r] = block_owner(row_index[r], natoms, nprocs);
  }
  std::vector<RowCount> owned = exchange(comm, dest, counts);
  std::sort(owned.begin(), owned.end(),
            [](const RowCount &a, const RowCount &b) { return a.index < b.index; });
  const int64_t row0 = block_begin(me, natoms, nprocs), row1 = block_begin(me + 1, natoms, nprocs);
  int bad = (int64_t) owned.size() != row1 - row0;
  for (size_t k = 0; !bad && k < owned.size(); k++)
    bad = owned[k].index != row0 + (int64_t) k || owned[k].value == 0;
  int anybad = 0;
  MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, comm);
  if (anybad) {
    result.error = "internal error: the rows do not cover every atom once, each with a block";
    return result;
  }
  int64_t myblocks = 0, first = 0, total = 0;
  for (const auto &c : owned) myblocks += c.value;
  MPI_Exscan(&myblocks, &first, 1, MPI_INT64_T, MPI_SUM, comm);
  if (me == 0) first = 0;
  MPI_Allreduce(&myblocks, &total, 1, MPI_INT64_T, MPI_SUM, comm);
  const int64_t ndof = natoms * dim, nnz = total * d2;
  if (ndof > INT32_MAX || nnz > INT32_MAX) {
    result.error = "matrix too large for 32-bit PETSc indices (" + std::to_string(nnz) +
        " nonzeros): split the group";
    return result;
  }
  std::vector<uint32_t> rowlen;
  rowlen.reserve(owned.size() * dim);
  std::vector<int> back(owned.size());
  for (size_t k = 0; k < owned.size(); k++) {
    for (int a = 0; a < dim; a++) rowlen.push_back(to_big32((uint32_t) (owned[k].value * dim)));
    int64_t n = owned[k].value;
    owned[k].value = first;
    first += n;
    back[k] = owned[k].rank;
  }
  std::vector<RowCount> offsets = exchange(comm, back, owned);
  std::vector<RowCount>().swap(owned);
  std::unordered_map<int64_t, int64_t> first_block;
  first_block.reserve(offsets.size());
  for (const auto &o : offsets) first_block[o.index] = o.value;

  MPI_File fh;
  result.error = open_for_write(comm, path, &fh);
  if (!result.error.empty()) return result;
  uint32_t header[4] = {to_big32(PETSC_MAT_CLASSID), to_big32((uint32_t) ndof),
                        to_big32((uint32_t) ndof), to_big32((uint32_t) nnz)};
  const MPI_Offset cols_at = 16 + 4 * ndof, vals_at = cols_at + 4 * nnz;
  std::string err = write_section(comm, fh, 0, (const char *) header, me == 0 ? 16 : 0);
  if (err.empty())
    err = write_section(comm, fh, 16 + 4 * row0 * dim, (const char *) rowlen.data(),
                        4 * (int64_t) rowlen.size());

  // pass 2: rows in index order, coalesced into runs that are contiguous in the file
  std::vector<int64_t> order(nrows);
  for (int64_t r = 0; r < nrows; r++) order[r] = r;
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return row_index[a] < row_index[b]; });
  std::vector<uint32_t> cols;
  std::vector<uint64_t> vals;
  int64_t run_start = -1, run_end = -1;    // scalar positions covered by the buffers
  int64_t produced = 0, counted = 0;       // blocks of this rank's rows, pass 2 and pass 1
  for (const auto &c : counts) counted += c.value;
  auto flush = [&]() {
    if (cols.empty() || !err.empty()) return;
    err = write_independent(fh, cols_at + 4 * run_start, (const char *) cols.data(), 4 * (int64_t) cols.size());
    if (err.empty())
      err = write_independent(fh, vals_at + 8 * run_start, (const char *) vals.data(), 8 * (int64_t) vals.size());
    cols.clear();
    vals.clear();
  };
  const size_t buffer_entries = (size_t) (CHUNK_BYTES / 12);
  for (int64_t k = 0; k < nrows && err.empty(); k++) {
    const int64_t r = order[k];
    row.clear();
    produce(r, row);
    const int64_t start = first_block.at(row_index[r]) * d2;
    produced += (int64_t) row.size();
    if (start != run_end || cols.size() >= buffer_entries) {
      flush();
      run_start = start;
    }
    // the d scalar rows of this atom are contiguous: row alpha holds alpha's entries of each block
    for (int a = 0; a < dim; a++)
      for (const auto &b : row)
        for (int c = 0; c < dim; c++) {
          cols.push_back(to_big32((uint32_t) (b.col * dim + c)));
          uint64_t bits;
          std::memcpy(&bits, &b.v[a * dim + c], sizeof(bits));
          vals.push_back(to_big64(bits));
        }
    run_end = start + (int64_t) row.size() * d2;
  }
  flush();
  if (err.empty() && produced != counted) err = "internal error: rows changed between the passes";
  int failed = !err.empty(), anyfail = 0;
  MPI_Allreduce(&failed, &anyfail, 1, MPI_INT, MPI_MAX, comm);
  if (anyfail && err.empty()) err = "write failed on another rank";
  std::string cerr = close_file(&fh);
  result.error = err.empty() ? cerr : err;
  if (!result.error.empty()) result.error = "writing " + path + ": " + result.error;
  result.nnz = nnz;
  return result;
}

WriteResult LAMMPS_NS::glassmodes::write_atoms_npy(MPI_Comm comm, const std::string &path,
                                                  int64_t natoms, std::vector<AtomRecord> atoms)
{
  WriteResult result;
  int me, nprocs;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &nprocs);
  std::vector<int> dest(atoms.size());
  for (size_t k = 0; k < atoms.size(); k++) dest[k] = block_owner(atoms[k].index, natoms, nprocs);
  atoms = exchange(comm, dest, atoms);
  std::sort(atoms.begin(), atoms.end(),
            [](const AtomRecord &a, const AtomRecord &b) { return a.index < b.index; });
  const int64_t row0 = block_begin(me, natoms, nprocs), row1 = block_begin(me + 1, natoms, nprocs);
  int bad = (int64_t) atoms.size() != row1 - row0;
  for (size_t k = 0; !bad && k < atoms.size(); k++) bad = atoms[k].index != row0 + (int64_t) k;
  int anybad = 0;
  MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, comm);
  if (anybad) {
    result.error = "internal error: atom records do not cover every index once";
    return result;
  }

  // packed little-endian records of 56 bytes (the host is little-endian on every supported HPC
  // platform; the dtype string says '<' so a big-endian host would need a swap here)
  constexpr int RECORD = 8 + 4 + 8 + 24 + 12;
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "atoms.npy writer assumes little-endian");
  std::vector<char> buf(atoms.size() * RECORD);
  for (size_t k = 0; k < atoms.size(); k++) {
    char *p = buf.data() + k * RECORD;
    std::memcpy(p, &atoms[k].id, 8);
    std::memcpy(p + 8, &atoms[k].type, 4);
    std::memcpy(p + 12, &atoms[k].mass, 8);
    std::memcpy(p + 20, atoms[k].x, 24);
    std::memcpy(p + 44, atoms[k].image, 12);
  }

  std::string dict = "{'descr': [('id', '<i8'), ('type', '<i4'), ('mass', '<f8'), ('x', '<f8', (3,)), "
                     "('image', '<i4', (3,))], 'fortran_order': False, 'shape': (" +
      std::to_string(natoms) + ",), }";
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string header("\x93NUMPY\x01\x00", 8);
  uint16_t hlen = (uint16_t) dict.size();
  header.push_back((char) (hlen & 0xff));
  header.push_back((char) (hlen >> 8));
  header += dict;

  MPI_File fh;
  result.error = open_for_write(comm, path, &fh);
  if (!result.error.empty()) return result;
  std::string err = write_section(comm, fh, 0, header.data(), me == 0 ? (int64_t) header.size() : 0);
  if (err.empty())
    err = write_section(comm, fh, (MPI_Offset) header.size() + (MPI_Offset) RECORD * row0,
                        buf.data(), (int64_t) buf.size());
  std::string cerr = close_file(&fh);
  result.error = err.empty() ? cerr : err;
  if (!result.error.empty()) result.error = "writing " + path + ": " + result.error;
  return result;
}
