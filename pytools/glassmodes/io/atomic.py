"""Atomic file output: write under a temporary name in the target folder, rename at the end."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else remove it.

    The temporary file lives in the same folder so that the final ``os.replace`` is atomic.
    A reader never sees a half-written ``path``.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".part", dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)    # mkstemp's 0600 is not what a plain open() would give
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------------------
# File sets (a data file, an atoms file and a JSON sidecar sharing a stem): written under unique
# temporary names, renamed companions first and the sidecar last; the sidecar records the size
# and CRC-32 of each companion, so a reader detects a set mixed from two writes (two concurrent
# writers of the same name, or a kill between the renames).

COMPANIONS_KEY = "companions"
CRC_CHUNK = 1 << 24


class FileSetError(ValueError):
    """The files of a set do not belong together (sizes or checksums differ from the sidecar's)."""


def crc32_file(path: str | os.PathLike) -> int:
    """CRC-32 (``zlib.crc32``, the IEEE 802.3 polynomial) of a whole file, read in 16 MiB chunks."""
    import zlib

    crc = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(CRC_CHUNK)
            if not block:
                return crc
            crc = zlib.crc32(block, crc)


def companion_record(path: str | os.PathLike, name: str | None = None) -> dict:
    """``{"name", "size", "crc32"}`` of a file for the sidecar's ``companions`` field.

    ``name`` is the final file name (the basename), ``path`` may be its temporary.
    """
    path = Path(path)
    return {"name": name or path.name, "size": path.stat().st_size, "crc32": crc32_file(path)}


def check_companions(sidecar: str | os.PathLike, meta: dict, files: dict, error=FileSetError) -> bool:
    """Check each ``files[role]`` against ``meta['companions'][role]`` (size, then CRC-32).

    ``files[role]`` is a path, or ``(path, bytes)``: the file's content as the caller read it
    (then the check applies to exactly the bytes the caller parses, even if a concurrent writer
    replaces the file meanwhile).

    Returns False when the sidecar has no ``companions`` field (written before they existed:
    nothing to check), True when every companion matches; raises ``error`` naming the file and
    the difference otherwise.
    """
    recorded = meta.get(COMPANIONS_KEY)
    if recorded is None:
        return False
    if not isinstance(recorded, dict):
        raise error(f"{sidecar}: field {COMPANIONS_KEY!r} is not an object")
    import zlib

    for role, spec in files.items():
        rec = recorded.get(role)
        if not isinstance(rec, dict) or not {"size", "crc32"} <= set(rec):
            raise error(f"{sidecar}: {COMPANIONS_KEY!r} has no size and crc32 for the {role} file")
        path, data = (Path(spec[0]), spec[1]) if isinstance(spec, tuple) else (Path(spec), None)
        size = path.stat().st_size if data is None else len(data)
        if size != int(rec["size"]):
            raise error(f"{path}: {size} bytes, its sidecar {sidecar} records {rec['size']}: the files "
                        "come from different writes (a concurrent writer or an interrupted rename) "
                        "or the file was truncated or modified")
        crc = crc32_file(path) if data is None else zlib.crc32(data)
        if crc != int(rec["crc32"]):
            raise error(f"{path}: CRC-32 {crc:#010x}, its sidecar {sidecar} records {int(rec['crc32']):#010x}: "
                        "the files come from different writes (a concurrent writer or an interrupted "
                        "rename) or the file is corrupt")
    return True


@contextlib.contextmanager
def atomic_file_set(paths: dict, sidecar_role: str = "sidecar"):
    """Yield ``{role: temporary path}`` for a set of files; on success rename them all, the
    sidecar (``paths[sidecar_role]``) last; on failure remove every temporary.

    Each temporary has a unique name (``mkstemp``), so concurrent writers of the same final
    names never write into one another's files. The caller writes the sidecar last, after
    :func:`companion_record` of the other temporaries.
    """
    stack = contextlib.ExitStack()
    temps = {}
    with stack:
        for role, final in paths.items():
            temps[role] = stack.enter_context(_deferred(final))
        yield {role: t.tmp for role, t in temps.items()}
        order = [r for r in paths if r != sidecar_role] + ([sidecar_role] if sidecar_role in paths else [])
        for role in order:
            temps[role].commit()


class _Pending:
    def __init__(self, final: Path, tmp: Path):
        self.final, self.tmp, self.done = final, tmp, False

    def commit(self):
        os.replace(self.tmp, self.final)
        self.done = True


@contextlib.contextmanager
def _deferred(path):
    """Like :func:`atomic_output` but the rename is left to the caller (``commit``)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    pending = _Pending(path, Path(tmp))
    try:
        yield pending
    finally:
        if not pending.done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Temporaries of an interrupted write of ``path`` or of its companions (``path.json``,
    ``path.atoms.npy``): Python's ``.NAME.*.part`` and the plugin's ``.NAME.*.glassmodes-part``
    (and the older fixed ``NAME.glassmodes-part``) in the same folder, oldest first."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    stems = [path.name, f"{path.name}.json", f"{path.name}.atoms.npy"]
    found = set()
    for stem in stems:
        for pattern in (f".{stem}.*.part", f".{stem}.*.glassmodes-part", f"{stem}.glassmodes-part"):
            found.update(folder.glob(pattern))
    return sorted(found, key=lambda p: p.stat().st_mtime if p.exists() else 0.0)


def report_stale_temporaries(path: str | os.PathLike, older_than: float = 3600.0) -> list[Path]:
    """Warn (``warnings.warn``) about temporaries of ``path`` not modified for ``older_than``
    seconds: left by a writer killed before its renames (a running writer's are younger).
    Returns them; nothing is deleted (``rm`` them once no writer runs)."""
    import time
    import warnings

    now = time.time()
    old = [p for p in stale_temporaries(path) if p.exists() and now - p.stat().st_mtime > older_than]
    if old:
        warnings.warn(f"{path}: {len(old)} stale temporary file(s) of an interrupted write beside it "
                      f"({', '.join(p.name for p in old[:4])}{', ...' if len(old) > 4 else ''}); "
                      "remove them once no writer is running", stacklevel=2)
    return old


def checksummed(data) -> dict:
    """``create_dataset`` keywords that add HDF5's Fletcher-32 checksum filter to a dataset
    written from ``data`` (a read of a corrupted chunk then fails instead of returning wrong
    numbers). Empty and scalar datasets cannot be chunked, so they get none."""
    import numpy as np

    a = np.asarray(data)
    return {"fletcher32": True} if a.ndim > 0 and a.size > 0 else {}
