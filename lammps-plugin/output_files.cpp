#include "output_files.h"

#include "comm.h"
#include "error.h"
#include "json.h"

#include <chrono>
#include <random>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace LAMMPS_NS;
using namespace LAMMPS_NS::glassmodes;

OutputFiles::OutputFiles(LAMMPS *lmp, const std::string &style_in, std::vector<std::string> names) :
    Pointers(lmp), style(style_in), finals(std::move(names))
{
  // a token unique to this write: rank 0's pid, time and a random number, broadcast
  unsigned long long token[1] = {0};
  if (comm->me == 0) {
    std::random_device rd;
    const auto now = (unsigned long long) std::chrono::steady_clock::now().time_since_epoch().count();
    token[0] = ((unsigned long long) getpid() << 40) ^ now ^ ((unsigned long long) rd() << 20) ^ rd();
  }
  MPI_Bcast(token, 1, MPI_UNSIGNED_LONG_LONG, 0, world);
  for (const auto &f : finals) {
    const auto slash = f.find_last_of('/');
    const std::string dir = slash == std::string::npos ? std::string() : f.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? f : f.substr(slash + 1);
    temps.push_back(fmt::format("{}.{}.{:016x}.glassmodes-part", dir, base, token[0]));
  }
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

bool OutputFiles::file_crc32(const std::string &path, uint32_t &crc, int64_t &size)
{
  static uint32_t table[256];
  static bool init = false;
  if (!init) {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = n;
      for (int b = 0; b < 8; b++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[n] = c;
    }
    init = true;
  }
  FILE *fp = fopen(path.c_str(), "rb");
  if (!fp) return false;
  std::vector<unsigned char> buf(1 << 22);
  uint32_t c = 0xFFFFFFFFu;
  size = 0;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), fp)) > 0) {
    for (size_t i = 0; i < n; i++) c = table[(c ^ buf[i]) & 0xFFu] ^ (c >> 8);
    size += (int64_t) n;
  }
  const bool ok = !ferror(fp);
  fclose(fp);
  crc = c ^ 0xFFFFFFFFu;
  return ok;
}

void OutputFiles::write_sidecar(int k, const std::string &json_text, const std::vector<std::string> &roles)
{
  std::string text;
  int ok = 1;
  std::string why;
  if (comm->me == 0) {
    json j = json::parse(json_text);
    json comp = json::object();
    for (size_t i = 0; i < finals.size() && ok; i++) {
      if ((int) i == k) continue;
      uint32_t crc = 0;
      int64_t size = 0;
      if (!file_crc32(temps[i], crc, size)) {
        ok = 0;
        why = "reading back " + temps[i] + " for its checksum: " + strerror(errno);
        break;
      }
      const auto slash = finals[i].find_last_of('/');
      comp[roles[i]] = {{"name", slash == std::string::npos ? finals[i] : finals[i].substr(slash + 1)},
                        {"size", size},
                        {"crc32", crc}};
    }
    j["companions"] = comp;
    text = j.dump(1);
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, world);
  if (!ok) fail(comm->me == 0 ? why : std::string("checksum failed"));
  write_text(k, text);
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
