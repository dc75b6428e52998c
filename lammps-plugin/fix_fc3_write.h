/* fix ID group-ID fc3/write N file keyword value ...
   Writes the third-order force constants of the group every N steps (a `*` in the file name
   becomes the step), e.g. along an inherent-structure trajectory; also at the setup of a run whose
   step is a multiple of N. Same keywords and files as write_fc3. */
#ifndef GLASSMODES_FIX_FC3_WRITE_H
#define GLASSMODES_FIX_FC3_WRITE_H

#include "fix.h"

#include "hessian_builder.h"

#include <string>

namespace LAMMPS_NS {

class FixFc3Write : public Fix {
 public:
  FixFc3Write(class LAMMPS *lmp, int narg, char **arg);
  int setmask() override;
  void init() override;
  void init_list(int id, class NeighList *ptr) override;
  void setup(int vflag) override;
  void end_of_step() override;

 private:
  std::string pattern;                  // file name, `*` replaced by the step
  glassmodes::HessianOptions options;   // parsed keywords (the shared parser, with `order`)
  class NeighList *list = nullptr;      // occasional full neighbor list
  bigint last_written = -1;             // step of the last output

  void write_now();
};

}    // namespace LAMMPS_NS

#endif
