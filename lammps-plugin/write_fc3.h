/* write_fc3 group-ID file keyword value ...
   One-shot output of the third-order force constants of a group (analytic pair-derivative table
   for pair potentials, colored finite differences for any force field), e.g. after `minimize`. */
#ifndef GLASSMODES_WRITE_FC3_H
#define GLASSMODES_WRITE_FC3_H

#include "command.h"

namespace LAMMPS_NS {

class WriteFc3 : public Command {
 public:
  explicit WriteFc3(class LAMMPS *lmp) : Command(lmp) {}
  void command(int narg, char **arg) override;
};

}    // namespace LAMMPS_NS

#endif
