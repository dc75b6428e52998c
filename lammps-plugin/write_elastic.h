/* write_elastic group-ID file keyword value ...
   One-shot output of the stress, the Born tensor and the mixed strain-position derivatives Xi of
   the whole system (group all), e.g. after `minimize`, for the relaxed elastic constants. */
#ifndef GLASSMODES_WRITE_ELASTIC_H
#define GLASSMODES_WRITE_ELASTIC_H

#include "command.h"

namespace LAMMPS_NS {

class WriteElastic : public Command {
 public:
  explicit WriteElastic(class LAMMPS *lmp) : Command(lmp) {}
  void command(int narg, char **arg) override;
};

}    // namespace LAMMPS_NS

#endif
