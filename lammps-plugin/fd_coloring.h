/* Spatial coloring for finite differences with O(1) force evaluations.

   The box is cut into a grid of n_d cells per dimension (n_d a multiple of an odd period m_d,
   cell width a_d >= 2 R / (m_d - 1) in perpendicular distance, R the interaction range). An atom's
   color is (class, slot): its class the cell index mod m_d per dimension, its slot the rank of its
   atom ID among the atoms of its cell; a class has as many colors as its fullest cell has atoms. Two atoms of one color are then at least 2 R apart (periodic images
   included), so no atom feels both: displacing a whole color at once, the force change on atom j
   comes from the single atom of that color within R of j, and that atom is found from j's cell
   and the color alone. The number of colors depends on density and R, not on N.
   Everything is decided from atom IDs and positions, not from the domain decomposition. */
#ifndef GLASSMODES_FD_COLORING_H
#define GLASSMODES_FD_COLORING_H

#include "pointers.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace LAMMPS_NS {
class NeighList;

namespace glassmodes {

class SpatialColoring : protected Pointers {
 public:
  // Colors the local atoms of `groupbit`; `range` is the interaction range R (distance units).
  SpatialColoring(LAMMPS *lmp, int groupbit, double range);

  int ncolors() const { return first_color.back(); }
  int color(int i) const { return colors[i]; }    // -1 for atoms outside the group
  // The atom of color `c` that may interact with local atom `j` (the only one within R of it):
  // false when that cell holds no atom of this color.
  bool column_atom(int j, int c, int64_t &tag, double &mass) const;
  const int *grid() const { return ncell; }       // cells per dimension
  const int *periods() const { return period; }   // m_d per dimension

  struct Member {
    int64_t tag;
    double mass;
  };
  struct CellEntry {
    int64_t cell;
    int64_t tag;
    double mass;
    int32_t rank;
    int32_t local;    // index of the atom on the sending rank; its slot on the way back
  };

 private:
  int dim;
  int ncell[3], period[3];
  int nclasses;                     // prod_d m_d cell classes
  std::vector<int> first_color;     // colors of class k: [first_color[k], first_color[k+1])
  std::vector<int> colors;                  // per local atom
  std::vector<int> cellidx;                 // per local atom: 3 cell coordinates
  std::unordered_map<int64_t, std::vector<Member>> members;    // cells near this rank's atoms

  void cell_coords(const double *x, const int *n, int *c) const;
  int64_t cell_id(const int *c) const;
  std::vector<int> class_occupancy(const int *n, const int *per);
  void choose_grid(double range);
  std::vector<CellEntry> assign_slots();
  void fetch_neighbor_cells(const std::vector<CellEntry> &owned);
};

}    // namespace glassmodes
}    // namespace LAMMPS_NS

#endif
