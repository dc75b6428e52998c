/* fix ID group-ID hessian/write N file keyword value ...
   Writes the sparse Hessian of the group every N steps (a `*` in the file name becomes the step),
   for inherent-structure trajectories and strain loops; also at the setup of a run (`run 0`)
   whose step is a multiple of N. Same keywords and files as write_hessian. */
#ifndef GLASSMODES_FIX_HESSIAN_WRITE_H
#define GLASSMODES_FIX_HESSIAN_WRITE_H

#include "fix.h"

#include "hessian_builder.h"

#include <string>

namespace LAMMPS_NS {

class FixHessianWrite : public Fix {
 public:
  FixHessianWrite(class LAMMPS *lmp, int narg, char **arg);
  int setmask() override;
  void init() override;
  void init_list(int id, class NeighList *ptr) override;
  void setup(int vflag) override;
  void end_of_step() override;

 private:
  std::string pattern;                  // file name, `*` replaced by the step
  glassmodes::HessianOptions options;   // parsed keywords
  class NeighList *list = nullptr;      // occasional full neighbor list
  bigint last_written = -1;             // step of the last output

  void write_now();
};

}    // namespace LAMMPS_NS

#endif
