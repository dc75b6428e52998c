"""Compute the normal modes of a Hessian file and write a mode file (HDF5).

Backends: dense (LAPACK, all modes or a window), sparse (ARPACK shift-invert, the default),
slepc (SLEPc under MPI: mpirun -np 4 glassmodes modes H --backend slepc --k 200 -o modes.h5).
Frequencies are angular, in rad per time unit of the Hessian's LAMMPS unit style.
"""

from __future__ import annotations

import os
import sys


def add_arguments(parser) -> None:
    parser.add_argument("hessian", help="Hessian file from write_hessian (its .json and .atoms.npy beside it)")
    parser.add_argument("-o", "--output", required=True, help="mode file to write (HDF5, e.g. modes.h5)")
    parser.add_argument("--backend", choices=("dense", "sparse", "slepc"), default="sparse",
                        help="eigensolver (default sparse)")
    parser.add_argument("--k", type=int, default=None, help="number of lowest non-translational modes")
    parser.add_argument("--wmax", type=float, default=None,
                        help="all modes with angular frequency <= WMAX (rad per time unit)")
    parser.add_argument("--wmin", type=float, default=None, help="dense only: lower end of a frequency window")
    parser.add_argument("--vectors", default="all",
                        help="eigenvectors to store: all, none, or N (the lowest N) (default all)")
    parser.add_argument("--zero-tol", type=float, default=1e-8,
                        help="|w^2| below zero_tol * (largest eigenvalue bound) is a zero mode (default 1e-8)")
    parser.add_argument("--symmetry-tol", type=float, default=1e-10,
                        help="largest accepted |A - A^T|_F / |A|_F (default 1e-10)")
    parser.add_argument("--tol", type=float, default=None, help="eigensolver tolerance (sparse, slepc)")
    parser.add_argument("--chunk", type=int, default=None, help="eigenpairs per window (sparse, slepc --wmax)")
    parser.add_argument("--method", choices=("krylovschur", "lobpcg", "chebyshev"), default="krylovschur",
                        help="slepc eigensolver (chebyshev: Chebyshev-filtered subspace iteration, "
                             "block products only)")
    parser.add_argument("--block-size", type=int, default=None,
                        help="slepc --method lobpcg or chebyshev: block size (default 1.25 or 1.5 x the modes wanted)")
    parser.add_argument("--start", choices=("random", "planewaves"), default=None,
                        help="slepc lobpcg/chebyshev: starting subspace (default random for lobpcg, "
                             "planewaves for chebyshev: Ritz vectors of the box's lowest plane waves)")
    parser.add_argument("--max-degree", type=int, default=300,
                        help="slepc --method chebyshev: largest filter degree per outer step (default 300)")
    parser.add_argument("--inner", choices=("gamg", "icc", "gamg-block"), default="gamg",
                        help="slepc: preconditioner of the inner CG solves (or of LOBPCG); gamg-block: GAMG with "
                             "Richardson-Jacobi smoothers applied to the whole block at once")
    parser.add_argument("--conv", choices=("relative", "norm"), default="relative",
                        help="slepc: convergence test, |Dx - lambda x| <= tol |lambda| (relative) or "
                             "<= tol (|D|_inf + |lambda|) (norm: the residual reported; fewer iterations)")
    parser.add_argument("--near-null", choices=("translations", "rigid"), default="translations",
                        help="slepc gamg: GAMG's near null space (rigid: translations and rotations about the "
                             "box centre)")
    parser.add_argument("--shift", type=float, default=None,
                        help="slepc: shift of shift-and-invert, eigenvalue units (default -zero_tol*scale)")
    parser.add_argument("--petsc-options", default=None,
                        help='slepc: PETSc/SLEPc options, e.g. "-eps_view -st_ksp_rtol 1e-14"')
    parser.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def _vectors(spec: str):
    if spec in ("all", "none"):
        return spec
    try:
        return int(spec)
    except ValueError:
        raise ValueError(f"--vectors must be all, none or an integer, got {spec!r}") from None


def run(args) -> int:
    from glassmodes.modes import solve_modes, write_modes

    if args.k is None and args.wmax is None and args.backend != "dense":
        raise ValueError(f"--backend {args.backend} needs --k and/or --wmax (the dense backend computes all modes)")
    vectors = _vectors(args.vectors)
    comm = None
    rank = 0
    if args.backend == "slepc":
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
        rank = comm.Get_rank()
    elif int(os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))) > 1:
        raise ValueError(f"the {args.backend} backend is serial: run it without mpirun, or use --backend slepc")

    def progress(msg: str) -> None:
        if not args.quiet and rank == 0:
            print(msg, file=sys.stderr, flush=True)

    opts: dict = {}
    if args.tol is not None:
        opts["tol"] = args.tol
    if args.chunk is not None:
        opts["chunk"] = args.chunk
    if args.backend == "slepc":
        opts.update(method=args.method, inner=args.inner, shift=args.shift, options=args.petsc_options,
                    block_size=args.block_size, start=args.start, max_degree=args.max_degree,
                    conv=args.conv, near_null=args.near_null)
    modes = solve_modes(args.hessian, backend=args.backend, k=args.k, w_max=args.wmax, w_min=args.wmin,
                        zero_tol=args.zero_tol, symmetry_tol=args.symmetry_tol, comm=comm, progress=progress,
                        **opts)
    if modes is None:  # MPI rank other than 0
        return 0
    write_modes(args.output, modes, vectors=vectors, source=os.fspath(args.hessian))
    info = modes.info
    zm = info.zero_modes
    rng = f"{modes.omega[0]:.6g} .. {modes.omega[-1]:.6g}" if modes.nmodes else "none"
    print(f"{args.output}: {modes.nmodes} modes, omega {rng} {modes.omega_unit}; {zm.count} translational "
          f"zero modes excluded (largest |w^2| {zm.max_abs_eigenvalue:.2e}); backend {info.backend} "
          f"({info.method}), largest residual {info.residual_norms.max() if modes.nmodes else 0:.1e}, "
          f"{info.seconds:.2f} s")
    for note in info.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
