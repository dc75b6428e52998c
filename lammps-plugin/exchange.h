/* Distributed exchange of plain records: the rendezvous pattern every glassmodes style uses
   instead of gathering whole-system arrays on one rank. */
#ifndef GLASSMODES_EXCHANGE_H
#define GLASSMODES_EXCHANGE_H

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

namespace LAMMPS_NS {
namespace glassmodes {

// Send items[k] to rank dest[k]; returns everything this rank received, ordered by source rank
// and, within a source, in the sender's order. T must be trivially copyable.
template <class T>
std::vector<T> exchange(MPI_Comm comm, const std::vector<int> &dest, const std::vector<T> &items)
{
  static_assert(std::is_trivially_copyable<T>::value, "exchange needs plain records");
  int nprocs;
  MPI_Comm_size(comm, &nprocs);
  std::vector<long long> scount(nprocs, 0), rcount(nprocs, 0);
  for (int d : dest) scount[d]++;
  MPI_Alltoall(scount.data(), 1, MPI_LONG_LONG, rcount.data(), 1, MPI_LONG_LONG, comm);

  std::vector<long long> soff(nprocs + 1, 0), roff(nprocs + 1, 0);
  for (int p = 0; p < nprocs; p++) {
    soff[p + 1] = soff[p] + scount[p];
    roff[p + 1] = roff[p] + rcount[p];
  }
  std::vector<T> sendbuf(items.size());
  std::vector<long long> fill(soff.begin(), soff.end() - 1);
  for (std::size_t k = 0; k < items.size(); k++) sendbuf[fill[dest[k]]++] = items[k];

  std::vector<T> recvbuf(roff[nprocs]);
  // counts in bytes through MPI_BYTE; chunk when a message would exceed INT_MAX bytes
  const long long maxbytes = 1LL << 30;
  bool small = true;
  for (int p = 0; p < nprocs; p++)
    if ((long long) sizeof(T) * std::max(scount[p], rcount[p]) >= maxbytes ||
        (long long) sizeof(T) * std::max(soff[nprocs], roff[nprocs]) >= maxbytes)
      small = false;
  int anylarge = small ? 0 : 1, globallarge = 0;
  MPI_Allreduce(&anylarge, &globallarge, 1, MPI_INT, MPI_MAX, comm);
  if (!globallarge) {
    std::vector<int> sc(nprocs), sd(nprocs), rc(nprocs), rd(nprocs);
    for (int p = 0; p < nprocs; p++) {
      sc[p] = (int) (sizeof(T) * scount[p]);
      sd[p] = (int) (sizeof(T) * soff[p]);
      rc[p] = (int) (sizeof(T) * rcount[p]);
      rd[p] = (int) (sizeof(T) * roff[p]);
    }
    MPI_Alltoallv(sendbuf.data(), sc.data(), sd.data(), MPI_BYTE, recvbuf.data(), rc.data(),
                  rd.data(), MPI_BYTE, comm);
  } else {
    // point-to-point with a contiguous derived type per peer: no 2 GiB limit on offsets
    std::vector<MPI_Request> reqs;
    MPI_Datatype rec;
    MPI_Type_contiguous((int) sizeof(T), MPI_BYTE, &rec);
    MPI_Type_commit(&rec);
    const long long chunk = maxbytes / (long long) sizeof(T);
    for (int p = 0; p < nprocs; p++)
      for (long long o = 0; o < rcount[p]; o += chunk) {
        reqs.emplace_back();
        MPI_Irecv(recvbuf.data() + roff[p] + o, (int) std::min(chunk, rcount[p] - o), rec, p, 77,
                  comm, &reqs.back());
      }
    for (int p = 0; p < nprocs; p++)
      for (long long o = 0; o < scount[p]; o += chunk) {
        reqs.emplace_back();
        MPI_Isend(sendbuf.data() + soff[p] + o, (int) std::min(chunk, scount[p] - o), rec, p, 77,
                  comm, &reqs.back());
      }
    MPI_Waitall((int) reqs.size(), reqs.data(), MPI_STATUSES_IGNORE);
    MPI_Type_free(&rec);
  }
  return recvbuf;
}

// Owner rank of a key in [0, nkeys) when the key range is split into contiguous equal blocks.
inline int block_owner(int64_t key, int64_t nkeys, int nprocs)
{
  if (nkeys <= 0) return 0;
  int64_t per = (nkeys + nprocs - 1) / nprocs;
  return (int) (key / per);
}

// First key owned by rank p under block_owner.
inline int64_t block_begin(int p, int64_t nkeys, int nprocs)
{
  int64_t per = (nkeys + nprocs - 1) / nprocs;
  return std::min<int64_t>(nkeys, per * p);
}

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
