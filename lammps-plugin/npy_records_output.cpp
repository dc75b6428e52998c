#include "npy_records_output.h"

#include <algorithm>

using namespace LAMMPS_NS::glassmodes;

namespace {

constexpr int64_t CHUNK_BYTES = 1LL << 28;    // largest single MPI-IO call

std::string mpi_error(int code)
{
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return std::string(msg, len);
}

}    // namespace

std::string LAMMPS_NS::glassmodes::npy_header(const std::string &descr, int64_t nrecords)
{
  std::string dict = "{'descr': " + descr + ", 'fortran_order': False, 'shape': (" +
      std::to_string(nrecords) + ",), }";
  const size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string header("\x93NUMPY\x01\x00", 8);
  const uint16_t hlen = (uint16_t) dict.size();
  header.push_back((char) (hlen & 0xff));
  header.push_back((char) (hlen >> 8));
  return header + dict;
}

WriteResult LAMMPS_NS::glassmodes::write_npy_records(MPI_Comm comm, const std::string &path,
                                                    const std::string &descr,
                                                    int64_t record_bytes, int64_t nlocal,
                                                    const std::vector<char> &data)
{
  WriteResult result;
  int me;
  MPI_Comm_rank(comm, &me);
  int64_t total = 0, before = 0;
  MPI_Allreduce(&nlocal, &total, 1, MPI_INT64_T, MPI_SUM, comm);
  MPI_Exscan(&nlocal, &before, 1, MPI_INT64_T, MPI_SUM, comm);
  if (me == 0) before = 0;
  result.nnz = total;
  const std::string header = npy_header(descr, total);

  if (me == 0) MPI_File_delete(path.c_str(), MPI_INFO_NULL);    // a stale file from a crash
  MPI_Barrier(comm);
  MPI_File fh;
  int rc = MPI_File_open(comm, path.c_str(), MPI_MODE_WRONLY | MPI_MODE_CREATE, MPI_INFO_NULL, &fh);
  if (rc != MPI_SUCCESS) {
    result.error = "cannot open " + path + " for writing: " + mpi_error(rc);
    return result;
  }

  // two sections (header on rank 0, then the records), each in collective chunks every rank
  // takes part in
  std::string err;
  int failed = 0;
  auto section = [&](MPI_Offset offset, const char *bytes, int64_t nbytes) {
    int64_t nchunks = (nbytes + CHUNK_BYTES - 1) / CHUNK_BYTES, maxchunks = 0;
    MPI_Allreduce(&nchunks, &maxchunks, 1, MPI_INT64_T, MPI_MAX, comm);
    for (int64_t c = 0; c < maxchunks; c++) {
      const int64_t begin = std::min(nbytes, c * CHUNK_BYTES);
      const int count = (int) (std::min(nbytes, begin + CHUNK_BYTES) - begin);
      MPI_Status status;
      int wrc = MPI_File_write_at_all(fh, offset + begin, bytes + begin, count, MPI_BYTE, &status);
      if (wrc == MPI_SUCCESS && count > 0) {
        int written = 0;
        MPI_Get_count(&status, MPI_BYTE, &written);
        if (written != count) {
          wrc = MPI_ERR_IO;
          if (err.empty()) err = "short write (disk full?)";
        }
      }
      if (wrc != MPI_SUCCESS) {
        failed = 1;
        if (err.empty()) err = mpi_error(wrc);
      }
    }
  };
  section(0, header.data(), me == 0 ? (int64_t) header.size() : 0);
  section((MPI_Offset) header.size() + (MPI_Offset) (before * record_bytes), data.data(),
          nlocal * record_bytes);
  rc = MPI_File_close(&fh);
  if (rc != MPI_SUCCESS) {
    failed = 1;
    if (err.empty()) err = mpi_error(rc);
  }
  int anyfail = 0;
  MPI_Allreduce(&failed, &anyfail, 1, MPI_INT, MPI_MAX, comm);
  if (anyfail) result.error = "writing " + path + ": " + (err.empty() ? "failed on another rank" : err);
  return result;
}
