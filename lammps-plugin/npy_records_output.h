/* Collective MPI-IO output of fixed-size records as one NumPy .npy file (a structured array that
   numpy.load(..., mmap_mode='r') maps without copying). A sibling of distributed_output: each rank
   hands in its slice of the records, already in global order (rank 0's slice first); the slices
   are written at their offsets, nothing is gathered on one rank. Used by write_fc3. */
#ifndef GLASSMODES_NPY_RECORDS_OUTPUT_H
#define GLASSMODES_NPY_RECORDS_OUTPUT_H

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "distributed_output.h"    // WriteResult

namespace LAMMPS_NS {
namespace glassmodes {

// NumPy .npy header (format 1.0, padded to a multiple of 64 bytes) for a 1-d structured array
// of `nrecords` records of dtype `descr` (a Python list literal, e.g. "[('i', '<i8')]").
std::string npy_header(const std::string &descr, int64_t nrecords);

// Write `path` = npy header + every rank's `data` (`nlocal` records of `record_bytes` each),
// rank by rank. Returns the total record count in `nnz` of the result. Collective.
WriteResult write_npy_records(MPI_Comm comm, const std::string &path, const std::string &descr,
                              int64_t record_bytes, int64_t nlocal, const std::vector<char> &data);

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
