/* A set of output files written under temporary names and renamed together at the end, so that
   a reader never sees a half-written result; on failure the temporaries are removed.
   Temporaries are unique per write (`.NAME.<token>.glassmodes-part` beside NAME), so two runs
   writing the same names never share a file; the JSON sidecar is written last, with the size
   and CRC-32 of every companion (`companions`), and renamed last, so a reader detects a set
   mixed from two writes or left by a kill between the renames. */
#ifndef GLASSMODES_OUTPUT_FILES_H
#define GLASSMODES_OUTPUT_FILES_H

#include "pointers.h"

#include <cstdint>
#include <string>
#include <vector>

namespace LAMMPS_NS {
class NeighList;

namespace glassmodes {

class OutputFiles : protected Pointers {
 public:
  // `finals`: the final names; checks (collectively) that their folder is writable
  OutputFiles(LAMMPS *lmp, const std::string &style, std::vector<std::string> finals);
  ~OutputFiles() override;

  const std::string &temporary(int k) const { return temps[k]; }
  // CRC-32 (IEEE 802.3, zlib's crc32) and size of a file; false if it cannot be read
  static bool file_crc32(const std::string &path, uint32_t &crc, int64_t &size);
  // rank 0 writes `text` to temporary k; a failure aborts with a clear message
  void write_text(int k, const std::string &text);
  // rank 0 adds `companions` {roles[i]: {name, size, crc32}} of every other file i to the JSON
  // object `json_text` and writes it to temporary k (call after the companions are complete)
  void write_sidecar(int k, const std::string &json_text, const std::vector<std::string> &roles);
  // remove the temporaries and stop with `why` (collective)
  [[noreturn]] void fail(const std::string &why);
  // rename every temporary to its final name (collective)
  void commit();

 private:
  std::string style;
  std::vector<std::string> finals, temps;
  bool committed = false;
  void remove_temporaries();
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
