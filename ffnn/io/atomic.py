"""Atomic, durable file writes: a crash leaves either the old file or the new one, never half.

Recipe: write to a temporary file in the same folder, ``flush`` + ``fsync`` it, ``os.replace``
it over the target (atomic on POSIX and Windows), then ``fsync`` the folder so the rename
itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def _file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give: 0o666 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_dir(folder: str | os.PathLike) -> None:
    """Flush a folder's entries (the rename) to disk; a no-op where folders can't be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows: folders cannot be opened; its rename is already durable
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp file, fsync, rename, fsync dir).

    The temporary file (``.<name>.<random>.tmp`` in the same folder) is removed on failure.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode())  # mkstemp creates 0600; a saved file should not be private
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
