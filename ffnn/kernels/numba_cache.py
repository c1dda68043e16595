"""numba's on-disk cache for ffnn's compiled functions, invalidated by any kernel source.

numba keys a cached function on its own file's contents only. A function that inlines or
calls compiled code from another file (``_chain_kernel`` runs ``_fused_kernel``'s parts, which
run ``_kernels``' norm loops and the scalar helpers of ``ops/special_float*.py``) keeps its
cached machine code when that other file changes: stale code, and a crash when a table
layout moved. ``install()`` puts first among numba's cache locators ones for ffnn's own files
whose stamp is the digest of every kernel source: each file of the package that compiles
code (``njit``, ``cfunc``, ``intrinsic``, ``overload``) and the scalar helpers. A change to any
of them compiles every cached function again, once. Each module that caches compiled
functions calls it before its decorators run (numba picks a function's locator there).
Generated kernels (``ffnn.kernels.elementwise``) are named by the digest of their source and
helpers, so they keep numba's own locators.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ffnn.kernels import compile_notice

PACKAGE = Path(__file__).resolve().parents[1]
_MARKERS = (b"njit", b"cfunc", b"intrinsic", b"overload")
_digest: list[bytes] = []  # computed once per process
_installed: list[bool] = []


def kernel_sources() -> dict[str, bytes]:
    """{path in the package: contents} of the files compiled code depends on, in order: the
    files that compile code, the scalar helpers, and the package's modules those files import
    names from (a plain function compiled by another file, ``_fused_kernel``'s Adam step
    coefficients from ``optim/adam.py``, and constants compiled in as literals)."""
    texts = {path: path.read_bytes() for path in PACKAGE.rglob("*.py")}
    compiling = {path for path, text in texts.items()
                 if path.name.startswith("special_float") or any(m in text for m in _MARKERS)}
    imported = {found for path in compiling for found in _imported_modules(path, texts[path])}
    return {path.relative_to(PACKAGE).as_posix(): texts[path]
            for path in sorted(compiling | imported) if path in texts}


_IMPORT_FROM = re.compile(rb"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+"
                          rb"(?:\(([^)]*)\)|([^\n#]*))", re.MULTILINE)
"""``from module import names`` (names in parentheses across lines, or to the line's end)."""


def _imported_modules(path: Path, text: bytes) -> set[Path]:
    """The package's files that ``path`` (contents ``text``) imports names from (``from
    ffnn.x import y``, also inside functions, and relative): module ``x``, or where ``x`` is
    a package, its submodule ``y`` or else its ``__init__``."""
    found = set()
    for dots, module_name, grouped, plain in _IMPORT_FROM.findall(text):
        parts = module_name.decode().split(".")
        if dots:
            base = path.parent.joinpath(*[".."] * (len(dots) - 1)).resolve()
            parts = [*base.relative_to(PACKAGE).parts, *parts]
        elif parts[0] == PACKAGE.name:
            parts = parts[1:]
        else:
            continue
        module = PACKAGE.joinpath(*[p for p in parts if p])
        if module.with_suffix(".py").is_file():
            found.add(module.with_suffix(".py"))
            continue
        names = re.findall(rb"^\s*(\w+)", re.sub(rb"#[^\n]*", b"", grouped or plain)
                           .replace(b"\n", b" ").replace(b",", b"\n"), re.MULTILINE)
        for name in names:  # a package's submodule, or a name its __init__ defines
            submodule = module / f"{name.decode()}.py"
            found.add(submodule if submodule.is_file() else module / "__init__.py")
    return found


def kernel_sources_digest() -> bytes:
    """sha256 over the kernel sources' names and contents."""
    if not _digest:
        digest = hashlib.sha256()
        for name, text in kernel_sources().items():
            digest.update(name.encode() + b"\0" + text)
        _digest.append(digest.digest())
    return _digest[0]


def install() -> None:
    """Put the stamped locators first in numba's list (once); nothing where this numba does
    not have the locators by either of their names (its own stamps then apply). With them,
    the notice written while a first compile runs (``compile_notice``)."""
    if _installed:
        return
    _installed.append(True)
    compile_notice.install()
    from numba.core import caching

    implementation = _named(caching, "CacheImpl")
    bases = [_named(caching, name) for name in
             ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]
    if implementation is None or None in bases:
        return
    implementation._locator_classes[:0] = [_stamped(base) for base in bases]
    _lock_saves(getattr(caching, "IndexDataCacheFile", None))


def _lock_saves(cache_file: type | None) -> None:
    """numba's ``IndexDataCacheFile.save`` under an exclusive lock on a file beside the
    index. The save reads the index, picks the first data file name it does not list, writes
    the index and then the data: two processes compiling two signatures of one function at
    once (the test workers, one per dtype) both picked ``.1``, and the index could then map
    one signature to the other's machine code (numba's "can't unbox array" at the next
    call). Nothing where the class or ``fcntl`` (POSIX) is missing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    save = getattr(cache_file, "save", None)
    if save is None or getattr(save, "locked", False):
        return

    def locked_save(self, key, data):
        with open(f"{self._index_path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return save(self, key, data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    locked_save.locked = True
    cache_file.save = locked_save


def _named(module, name: str):
    return getattr(module, name, None) or getattr(module, "_" + name, None)


def _stamped(base: type) -> type:
    """``base`` (a numba locator class) for ffnn's files only, stamped by the digest."""

    class Stamped(base):
        def get_source_stamp(self):
            return kernel_sources_digest()

        @classmethod
        def from_function(cls, py_func, py_file):
            if not Path(py_file).resolve().is_relative_to(PACKAGE):
                return None
            return super().from_function(py_func, py_file)

    Stamped.__name__ = Stamped.__qualname__ = f"Ffnn{base.__name__.lstrip('_')}"
    return Stamped
