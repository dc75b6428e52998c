/* A set of output files written under temporary names and renamed together at the end, so that
   a reader never sees a half-written result; on failure the temporaries are removed. */
#ifndef GLASSMODES_OUTPUT_FILES_H
#define GLASSMODES_OUTPUT_FILES_H

#include "pointers.h"

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
  // rank 0 writes `text` to temporary k; a failure aborts with a clear message
  void write_text(int k, const std::string &text);
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
