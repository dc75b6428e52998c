/* Collective MPI-IO output of glassmodes' per-atom-indexed data: block-sparse matrices in PETSc's
   binary AIJ format and per-atom records as a NumPy .npy file. Every rank contributes whatever
   records it holds; records are first moved to the rank owning their index range, so each rank
   writes one contiguous slice of each file section. Nothing is gathered on one rank. */
#ifndef GLASSMODES_DISTRIBUTED_OUTPUT_H
#define GLASSMODES_DISTRIBUTED_OUTPUT_H

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace LAMMPS_NS {
namespace glassmodes {

// One d x d block (row-major, d <= 3) of a matrix whose rows/columns are atom indices.
struct MatrixBlock {
  int64_t row;    // atom index of the block row
  int64_t col;    // atom index of the block column
  double v[9];    // v[alpha*d + beta]
};

// One atom of the matrix, as stored in the .atoms.npy file.
struct AtomRecord {
  int64_t index;      // matrix index (rank of the atom ID in the group)
  int64_t id;         // LAMMPS atom ID
  int32_t type;       // LAMMPS atom type
  double mass;        // mass units
  double x[3];        // position, distance units (z = 0 in 2D)
  int32_t image[3];   // image flags
};

struct WriteResult {
  int64_t nnz = 0;     // scalar nonzeros written
  std::string error;   // empty on success
};

// Write the matrix (natoms*d square) in PETSc binary AIJ format (big-endian, int32 indices,
// float64 values). Blocks may be on any rank; blocks at the same (row, col) are summed (at most
// two, so the sum does not depend on their order). Every atom row needs at least one block (its
// diagonal). Collective.
WriteResult write_petsc_block_matrix(MPI_Comm comm, const std::string &path, int dim,
                                     int64_t natoms, std::vector<MatrixBlock> blocks);

// Produces the complete block row of local row r (blocks sorted by column index, columns as
// matrix indices) into `out` (cleared by the caller).
using BlockRowProducer = std::function<void(int64_t r, std::vector<MatrixBlock> &out)>;

// Number of blocks of local row r.
using BlockRowCounter = std::function<int64_t(int64_t r)>;

// The same file as write_petsc_block_matrix, streamed: each rank holds complete rows of its own
// atoms (`row_index[r]`: the matrix index of local row r) and writes each at its place in the
// file, so memory stays O(rows + one buffer) whatever the matrix size. A first pass counts each
// row's blocks (with `count`) for the file offsets, a second produces and writes. Collective.
WriteResult write_petsc_block_rows(MPI_Comm comm, const std::string &path, int dim, int64_t natoms,
                                   const std::vector<int64_t> &row_index,
                                   const BlockRowCounter &count, const BlockRowProducer &produce);

// Write per-atom records, one per index in [0, natoms), as a NumPy structured .npy file with
// dtype [('id','<i8'),('type','<i4'),('mass','<f8'),('x','<f8',(3,)),('image','<i4',(3,))].
WriteResult write_atoms_npy(MPI_Comm comm, const std::string &path, int64_t natoms,
                            std::vector<AtomRecord> atoms);

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
