/* compute ID group-ID mode/energy file keyword value ...
   Energies of a set of harmonic eigenmodes of an inherent structure during a run (seed 004,
   Eq. (8)): A_k = sum_i sqrt(m_i) e_k,i . (r_i - r_IS,i) (minimum image), dA_k/dt =
   sum_i sqrt(m_i) e_k,i . v_i, E_k = mvv2e (w_k^2 A_k^2 + (dA_k/dt)^2) / 2. The inherent
   structure, masses, eigenvectors and frequencies come from a mode-projection file written by
   glassmodes.anharmonic.write_mode_projection (layout in its module docs and docs/lifetimes.md).
   Global vector (E_k) and global array (E_k, A_k, dA_k/dt), one row per mode. */
#ifndef GLASSMODES_COMPUTE_MODE_ENERGY_H
#define GLASSMODES_COMPUTE_MODE_ENERGY_H

#include "compute.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace LAMMPS_NS {

class ComputeModeEnergy : public Compute {
 public:
  ComputeModeEnergy(class LAMMPS *lmp, int narg, char **arg);
  ~ComputeModeEnergy() override;
  void init() override;
  void compute_vector() override;
  void compute_array() override;
  double memory_usage() override;

  static constexpr int NCOLS = 3;    // array columns: E_k, A_k, dA_k/dt

 private:
  std::string path;                  // mode-projection file
  std::string file_units;            // LAMMPS unit style the file was written in
  int file_dimension = 3;            // 2 or 3
  int64_t natoms_file = 0;           // atoms in the file
  int nmodes = 0;                    // K, modes in the file
  int stride = 0;                    // doubles per atom record: mass, x[3], e[K][3]
  double file_boxlo[3], file_boxhi[3], file_tilt[3];    // box of the inherent structure
  double boxtol = 1e-6;              // accepted box mismatch, relative to the box lengths
  double masstol = 1e-8;             // accepted relative mass mismatch

  std::vector<double> omega;                // rad/time, per mode
  // atoms this rank holds for the rendezvous (a contiguous slice of the file, by ID)
  std::vector<int64_t> home_id;             // ascending
  std::vector<double> home_data;            // home_id.size() * stride
  std::vector<int64_t> slice_first;         // first ID of every rank's slice (INT64_MAX: empty)
  // the records of the atoms this rank owns now (refreshed when atoms migrate)
  std::unordered_map<int64_t, int> slot;    // atom ID -> record in cache
  std::vector<double> cache;                // records, stride doubles each

  std::vector<double> amp;                  // 2K: A_k then dA_k/dt (summed over ranks)
  double **carray = nullptr;                // K x NCOLS output array

  void read_file();
  void refresh_cache();
  void project();
  int home_rank(int64_t id) const;
};

}    // namespace LAMMPS_NS

#endif
