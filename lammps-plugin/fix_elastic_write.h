/* fix ID group-ID elastic/write N file keyword value ...
   Writes the stress, Born tensor and Xi of the whole system every N steps (a `*` in the file name
   becomes the step), e.g. along an inherent-structure trajectory or a strain loop; also at the
   setup of a run (`run 0`) whose step is a multiple of N. Same keywords and files as
   write_elastic. */
#ifndef GLASSMODES_FIX_ELASTIC_WRITE_H
#define GLASSMODES_FIX_ELASTIC_WRITE_H

#include "fix.h"

#include "elastic_builder.h"

#include <string>

namespace LAMMPS_NS {

class FixElasticWrite : public Fix {
 public:
  FixElasticWrite(class LAMMPS *lmp, int narg, char **arg);
  int setmask() override;
  void init() override;
  void init_list(int id, class NeighList *ptr) override;
  void setup(int vflag) override;
  void end_of_step() override;

 private:
  std::string pattern;                  // file name, `*` replaced by the step
  glassmodes::ElasticOptions options;   // parsed keywords
  class NeighList *list = nullptr;      // occasional full neighbor list
  bigint last_written = -1;             // step of the last output

  void write_now();
};

}    // namespace LAMMPS_NS

#endif
