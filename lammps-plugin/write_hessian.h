/* write_hessian group-ID file keyword value ...
   One-shot output of the sparse Hessian (dynamical matrix) of a group, e.g. after `minimize`. */
#ifndef GLASSMODES_WRITE_HESSIAN_H
#define GLASSMODES_WRITE_HESSIAN_H

#include "command.h"

namespace LAMMPS_NS {

class WriteHessian : public Command {
 public:
  explicit WriteHessian(class LAMMPS *lmp) : Command(lmp) {}
  void command(int narg, char **arg) override;
};

}    // namespace LAMMPS_NS

#endif
