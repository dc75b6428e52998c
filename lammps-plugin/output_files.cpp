#include "output_files.h"

#include "comm.h"
#include "error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

OutputFiles::OutputFiles(LAMMPS *lmp, const std::string &style_in, std::vector<std::string> names) :
    Pointers(lmp), style(style_in), finals(std::move(names))
{
  for (const auto &f : finals) temps.push_back(f + ".glassmodes-part");
  // probe the folder with the first temporary so that a bad path fails before any work
  int ok = 1;
  std::string why;
  if (comm->me == 0) {
    FILE *fp = fopen(temps[0].c_str(), "wb");
    if (!fp) {
      ok = 0;
      why = strerror(errno);
    } else {
      fclose(fp);
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, world);
  if (!ok) error->all(FLERR, "{}: cannot write {}: {}", style, finals[0], why);    // why: rank 0's
}

OutputFiles::~OutputFiles()
{
  if (!committed) remove_temporaries();
}

void OutputFiles::remove_temporaries()
{
  if (comm->me == 0)
    for (const auto &t : temps) std::remove(t.c_str());
}

void OutputFiles::write_text(int k, const std::string &text)
{
  int ok = 1;
  std::string why;
  if (comm->me == 0) {
    FILE *fp = fopen(temps[k].c_str(), "wb");
    if (!fp || fwrite(text.data(), 1, text.size(), fp) != text.size()) {
      ok = 0;
      why = strerror(errno);
    }
    if (fp && fclose(fp) != 0 && ok) {
      ok = 0;
      why = strerror(errno);
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, world);
  if (!ok) fail("writing " + finals[k] + ": " + (comm->me == 0 ? why : std::string("I/O error")));
}

void OutputFiles::fail(const std::string &why)
{
  remove_temporaries();
  committed = true;
  error->all(FLERR, "{}: {} (nothing was written)", style, why);
}

void OutputFiles::commit()
{
  int ok = 1;
  std::string why;
  MPI_Barrier(world);
  if (comm->me == 0)
    for (size_t k = 0; k < finals.size() && ok; k++)
      if (std::rename(temps[k].c_str(), finals[k].c_str()) != 0) {
        ok = 0;
        why = "renaming to " + finals[k] + ": " + strerror(errno);
      }
  MPI_Bcast(&ok, 1, MPI_INT, 0, world);
  if (!ok) fail(comm->me == 0 ? why : "rename failed");
  committed = true;
}
