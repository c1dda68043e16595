"""Atomic, durable file writes: a crash leaves either the old file or the new one, never half.

Recipe: write to a temporary file in the same folder, ``flush`` + ``fsync`` it, ``os.replace``
it over the target (atomic on POSIX and Windows), then ``fsync`` the folder so the rename
itself survives a power cut.

Missing folders: every writer of one named file (``ffnn.save``, ``predict -o``, ``export
--onnx``, ``init-config -o``) needs the file's folder to exist and says which folder is
missing; only run folders (``ffnn train``'s ``out``, ``ModelCheckpoint``) are created.
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


def check_writable(path: str | os.PathLike) -> None:
    """Raise, before anything is written, when ``path`` cannot become a file: its folder does
    not exist (FileNotFoundError naming that folder) or it is a folder (IsADirectoryError)."""
    path = os.fspath(path)
    if not path:
        raise FileNotFoundError("cannot write to an empty path: give a file name. "
                                "Received: path=''")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a folder; give a file name")
    if not os.path.isdir(folder):
        shown = os.path.dirname(path) or folder
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise FileNotFoundError(f"cannot write {path!r}: the folder {shown!r} {what} "
                                "(create it first)")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp file, fsync, rename, fsync dir).

    The temporary file (``.<name>.<random>.tmp`` in the same folder) is removed on failure.
    Raises FileNotFoundError naming the folder when it does not exist, IsADirectoryError
    when ``path`` is a folder.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.",
                                   suffix=".tmp")
    except OSError as error:  # name the file asked for, not the temporary one
        raise type(error)(error.errno, f"cannot write {path!r}: {error.strerror} (in the "
                          f"folder {os.path.dirname(path) or folder!r})") from None
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
