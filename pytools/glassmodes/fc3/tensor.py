"""The force-constant tensor object: Phi3 (and Phi4 from order-4 pair tables) with O(records)
contractions, serial or over an MPI communicator."""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

from glassmodes.fc3 import kernels
from glassmodes.fc3.files import (
    Fc3FileError, check_file_set, check_indices, open_records, read_atoms, read_sidecar,
)


def local_range(n: int, size: int, rank: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous slice [lo, hi) of ``n`` records split over ``size`` ranks."""
    per, extra = divmod(n, size)
    lo = rank * per + min(rank, extra)
    return lo, lo + per + (1 if rank < extra else 0)


class ForceConstants:
    """Third-order force constants Phi3(i,j,k)_{abc} = d^3U / dx_{i,a} dx_{j,b} dx_{k,c} of a group,
    and for order-4 pair tables also Phi4, as written by ``write_fc3``.

    Contractions take atom vectors of shape=(d*N,) or (N, d) (Hessian ordering: component a of
    the atom with index k is entry d*k + a) and cost O(records):

    ========================  ==============================================  ===================
    call                      meaning                                         result
    ========================  ==============================================  ===================
    ``phi3(u)``               sum_i Phi3(i,j,k) u_i  (dH/ds along u)          CSR, shape=(dN, dN)
    ``phi3(u, v)``            sum_ij Phi3(i,j,k) u_i v_j                      ndarray, (dN,)
    ``phi3(u, v, w)``         sum_ijk Phi3(i,j,k) u_i v_j w_k                 float
    ``phi4(u, v)``            sum_ij Phi4(i,j,k,l) u_i v_j                    CSR, (dN, dN)
    ``phi4(u, v, w)``         sum_ijk Phi4(i,j,k,l) u_i v_j w_k               ndarray, (dN,)
    ``phi4(u, v, w, x)``      full contraction                                float
    ========================  ==============================================  ===================

    Units: energy/distance^3 (Phi3) and energy/distance^4 (Phi4) per unit of the vectors, or with
    ``mass_weighted`` the tensors M^-1/2 ... M^-1/2 (Phi3 / sqrt(m_i m_j m_k)), the Hessian's
    convention (``glassmodes.io.hessian``): then the vectors are mass-weighted displacements.

    With ``comm`` (an mpi4py communicator) each rank holds a contiguous slice of the records;
    the vectors are whole (every rank the same); scalars and vectors are summed with
    ``comm.allreduce``, matrices too unless ``reduce=False`` (then each rank returns its part;
    the matrix is their sum).

    Attributes
    ----------
    meta : dict
        The sidecar.
    atoms : numpy structured array, shape=(N,)
        Atom records in index order (``glassmodes.io.hessian.ATOMS_DTYPE``).
    records : numpy structured array
        This rank's records (memory-mapped in serial).

    Examples
    --------
    The energy along u to third order, for a file written with ``mass no``::

        fc = read_fc3("ka.fc3")
        e3 = fc.phi3(u, u, u) / 6          # the s^3 coefficient of U(x + s u)
    """

    def __init__(self, records: np.ndarray, meta: dict, atoms: np.ndarray, *,
                 mass_weighted: bool | None = None, comm=None, record_range=(0, None)):
        self._records = records
        self._meta = meta
        self._atoms = atoms
        self._mass_weighted = bool(meta["mass_weighted"]) if mass_weighted is None else bool(mass_weighted)
        self._comm = comm
        self._range = (record_range[0], record_range[0] + len(records))
        self._geometry = None

    # ---- properties ------------------------------------------------------------------------

    @property
    def meta(self) -> dict:
        return self._meta

    @property
    def atoms(self) -> np.ndarray:
        return self._atoms

    @property
    def records(self) -> np.ndarray:
        return self._records

    @property
    def record_range(self) -> tuple[int, int]:
        """[first, last) record of the file this object holds."""
        return self._range

    @property
    def natoms(self) -> int:
        return int(self._meta["natoms"])

    @property
    def dimension(self) -> int:
        return int(self._meta["dimension"])

    @property
    def ndof(self) -> int:
        return self.natoms * self.dimension

    @property
    def storage(self) -> str:
        """``pair-derivatives`` or ``blocks``."""
        return self._meta["storage"]

    @property
    def order(self) -> int:
        """Highest derivative available: 4 for pair tables written with ``order 4``, else 3."""
        return int(self._meta["order"])

    @property
    def mass_weighted(self) -> bool:
        return self._mass_weighted

    @property
    def comm(self):
        return self._comm

    def with_mass_weighting(self, mass_weighted: bool) -> "ForceConstants":
        """The same tensor, mass weighted (Phi3/sqrt(m_i m_j m_k)) or plain."""
        return ForceConstants(self._records, self._meta, self._atoms, mass_weighted=mass_weighted,
                              comm=self._comm, record_range=self._range)

    # ---- contractions ----------------------------------------------------------------------

    def phi3(self, *vectors):
        """Contract Phi3 with 1, 2 or 3 vectors (see the class docs)."""
        if not 1 <= len(vectors) <= 3:
            raise ValueError(f"phi3 contracts 1, 2 or 3 vectors, not {len(vectors)}")
        return self._contract(3, vectors)

    def phi4(self, *vectors):
        """Contract Phi4 with 2, 3 or 4 vectors (pair tables written with ``order 4``)."""
        if not 2 <= len(vectors) <= 4:
            raise ValueError(f"phi4 contracts 2, 3 or 4 vectors, not {len(vectors)}")
        if self.storage != "pair-derivatives" or self.order < 4:
            raise ValueError("phi4 needs a pair-derivative table written with `order 4` (method "
                             f"analytic); this file is {self.storage} of order {self.order}")
        return self._contract(4, vectors)

    def hessian(self, reduce: bool = True) -> sp.csr_matrix:
        """The Hessian (or dynamical matrix, mass weighted) rebuilt from a pair table, (dN, dN):
        the same matrix as ``write_hessian`` of the group."""
        if self.storage != "pair-derivatives":
            raise ValueError("hessian() needs the pair-derivative storage")
        m = kernels.pair_hessian(self._pair_geometry(), self.natoms)
        return self._finish_matrix(m, self._scale(), reduce)

    def _contract(self, order: int, vectors):
        scale = self._scale()
        us = [self._atom_vector(v, scale) for v in vectors]
        nout = order - len(us)      # free indices: 2 matrix, 1 vector, 0 scalar
        if self.storage == "pair-derivatives":
            g = self._pair_geometry()
            fn = {(3, 2): kernels.pair_phi3_matrix, (3, 1): kernels.pair_phi3_vector,
                  (3, 0): kernels.pair_phi3_scalar, (4, 2): kernels.pair_phi4_matrix,
                  (4, 1): kernels.pair_phi4_vector, (4, 0): kernels.pair_phi4_scalar}[(order, nout)]
            out = fn(g, *us)
        else:
            r = self._records
            i, j, k, v = r["i"], r["j"], r["k"], r["v"]
            if nout == 2:
                out = kernels.block_phi3_matrix(i, j, k, v, us[0], self.natoms)
            elif nout == 1:
                out = kernels.block_phi3_vector(i, j, k, v, us[0], us[1], self.natoms)
            else:
                out = kernels.block_phi3_scalar(i, j, k, v, *us)
        if nout == 2:
            return self._finish_matrix(out, scale, True)
        if nout == 1:
            if scale is not None:
                out = out * scale[:, None]
            out = out.ravel()
            if self._comm is not None:
                total = np.empty_like(out)
                from mpi4py import MPI
                self._comm.Allreduce(out, total, op=MPI.SUM)
                out = total
            return out
        return self._comm.allreduce(out) if self._comm is not None else out

    def _finish_matrix(self, m: sp.csr_matrix, scale, reduce: bool) -> sp.csr_matrix:
        if scale is not None:
            s = sp.diags(np.repeat(scale, self.dimension))
            m = sp.csr_matrix(s @ m @ s)
        if self._comm is not None and reduce:
            m = self._comm.allreduce(m)
        m.sum_duplicates()
        return m

    # ---- conversions -------------------------------------------------------------------------

    def to_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """This rank's Phi3 as merged blocks, in the object's mass weighting.

        Returns
        -------
        index : ndarray, shape=(B, 3), int64
            (i, j, k) atom indices, ascending lexicographically, each triple once.
        values : ndarray, shape=(B, d, d, d), float64
            values[b, a, c, e] = Phi3(i_a, j_c, k_e).
        """
        if self.storage == "pair-derivatives":
            idx, vals = kernels.pair_phi3_blocks(self._pair_geometry())
        else:
            r = self._records
            idx = np.stack([r["i"], r["j"], r["k"]], axis=1).astype(np.int64)
            vals = np.array(r["v"], dtype=np.float64)
        n = self.natoms
        key = (idx[:, 0] * n + idx[:, 1]) * n + idx[:, 2]
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        merged = np.zeros((uniq.size,) + vals.shape[1:])
        np.add.at(merged, inverse, vals)
        idx = idx[first]
        scale = self._scale()
        if scale is not None:
            merged *= (scale[idx[:, 0], None, None, None] * scale[idx[:, 1], None, None, None]
                       * scale[idx[:, 2], None, None, None])
        return idx, merged

    def to_dense(self, max_dof: int = 1500) -> np.ndarray:
        """Phi3 as a dense array, shape=(dN, dN, dN) (small systems only: ``max_dof``)."""
        d, n = self.dimension, self.natoms
        if d * n > max_dof:
            raise ValueError(f"to_dense: {d * n} degrees of freedom > max_dof = {max_dof}")
        idx, vals = self.to_blocks()
        out = np.zeros((n, d, n, d, n, d))
        out[idx[:, 0], :, idx[:, 1], :, idx[:, 2], :] = vals
        return out.reshape(d * n, d * n, d * n)

    # ---- internals ---------------------------------------------------------------------------

    def _pair_geometry(self) -> kernels.PairGeometry:
        if self._geometry is None:
            r = self._records
            self._geometry = kernels.PairGeometry(r["i"], r["j"], r["r"], r["dphi"], self.dimension)
        return self._geometry

    def _scale(self):
        """Per-atom factor turning stored values into the represented tensor, or None."""
        stored = bool(self._meta["values_mass_weighted"])
        if stored == self._mass_weighted:
            return None
        m = np.asarray(self._atoms["mass"], dtype=np.float64)
        return 1.0 / np.sqrt(m) if self._mass_weighted else np.sqrt(m)

    def _atom_vector(self, v, scale) -> np.ndarray:
        a = np.asarray(v, dtype=np.float64)
        d, n = self.dimension, self.natoms
        if a.shape == (d * n,):
            a = a.reshape(n, d)
        elif a.shape != (n, d):
            raise ValueError(f"vector of shape {a.shape}, expected ({d * n},) or ({n}, {d})")
        return a * scale[:, None] if scale is not None else a


def read_fc3(path: str | os.PathLike, comm=None, mass_weighted: bool | None = None) -> ForceConstants:
    """Read (memory-map) the force constants written by ``write_fc3`` and check them.

    Parameters
    ----------
    path : path of the data file (the name given to write_fc3); ``path.json`` and
        ``path.atoms.npy`` must be beside it.
    comm : mpi4py communicator or None
        With a communicator each rank keeps a contiguous slice of the records (see
        :class:`ForceConstants`).
    mass_weighted : bool or None
        Represent Phi3/sqrt(m m m) (True) or Phi3 (False); None: as written (``mass`` keyword).

    Raises
    ------
    Fc3FileError
        A missing, truncated, corrupt or mismatched file, with the reason.
    """
    meta = read_sidecar(path)
    records = open_records(path, meta)
    atoms = read_atoms(path, meta)
    lo, hi = 0, records.shape[0]
    if comm is not None:
        lo, hi = local_range(records.shape[0], comm.Get_size(), comm.Get_rank())
        records = np.array(records[lo:hi])
    check_indices(path, records, meta)
    # the companions' checksums (a mixed set, a valid-range but wrong index): one rank reads
    # the whole file, every rank gets its verdict
    failure = None
    if comm is None or comm.Get_rank() == 0:
        try:
            check_file_set(path, meta)
        except Fc3FileError as exc:
            failure = str(exc)
    if comm is not None and comm.Get_size() > 1:
        failure = comm.bcast(failure, root=0)
    if failure is not None:
        raise Fc3FileError(failure)
    return ForceConstants(records, meta, atoms, mass_weighted=mass_weighted, comm=comm,
                          record_range=(lo, hi))


__all__ = ["ForceConstants", "read_fc3", "local_range", "Fc3FileError"]
