"""numba's on-disk cache of ffnn's compiled functions is stamped by every kernel source
(``ffnn.kernels.numba_cache``): a cached function that inlines code from another file is
compiled again when that file changes, instead of running its stale machine code."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

_RUN = """
import importlib
import sys
from pathlib import Path
from ffnn.kernels import numba_cache
numba_cache.PACKAGE = Path(sys.argv[1]).resolve()
numba_cache.install()
sys.path.insert(0, sys.argv[2])
user = importlib.import_module(sys.argv[3])
print(user.total(), sum(user.total.stats.cache_hits.values()))
"""


def _run(root: Path, package: bool = False) -> tuple[int, int]:
    """(user.total(), its cache hits) in a fresh process, ffnn's stamp over ``root``: a folder
    of top-level modules, or (``package``) a package's."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}  # in-tree cache
    path, module = (root.parent, f"{root.name}.user") if package else (root, "user")
    done = subprocess.run([sys.executable, "-c", _RUN, str(root), str(path), module],
                          capture_output=True, text=True, check=True, env=env)
    value, hits = done.stdout.split()
    return int(value), int(hits)


def _write(root: Path, name: str, source: str) -> None:
    (root / name).write_text(textwrap.dedent(source))


def test_a_cached_function_is_compiled_again_when_code_it_inlines_changes(tmp_path):
    """``user.total`` (cached) inlines ``helper.value`` from another file: after the helper
    changes, the next process computes the new value (numba alone keys the cache on
    ``user.py`` and would load the old machine code); unchanged, it loads from the cache."""
    _write(tmp_path, "helper.py", """
        import numba

        @numba.njit(inline="always")
        def value():
            return 1
        """)
    _write(tmp_path, "user.py", """
        import numba
        from helper import value

        @numba.njit(cache=True)
        def total():
            return value() + 10
        """)
    assert _run(tmp_path) == (11, 0)
    assert _run(tmp_path) == (11, 1)  # the cache is used while nothing changed
    _write(tmp_path, "helper.py", (tmp_path / "helper.py").read_text().replace(
        "return 1", "return 2"))
    assert _run(tmp_path) == (12, 0)


def test_the_stamp_covers_the_modules_whose_code_is_inlined_across_files():
    from ffnn.kernels import numba_cache

    names = set(numba_cache.kernel_sources())
    assert {"compiler/_fused_kernel.py", "compiler/_chain_kernel.py", "_kernels.py",
            "kernels/blas_split.py", "ops/special_float64.py", "ops/special_float32.py",
            "kernels/bitcast.py"} <= names
    assert "nn/linear.py" not in names  # plain Python: editing it keeps the cache


def test_the_stamp_covers_plain_modules_whose_functions_and_constants_are_compiled_elsewhere():
    """``_fused_kernel`` compiles ``optim/adam.py``'s ``adam_step_coefficients`` and takes
    ``ops/losses.py``'s ``BCE_EPSILON`` as a literal: neither file compiles anything itself,
    and an edit to either must not leave the fused step's cached code stale."""
    from ffnn.kernels import numba_cache

    names = set(numba_cache.kernel_sources())
    assert {"optim/adam.py", "ops/losses.py"} <= names
    assert "__init__.py" not in names  # ``from ffnn import _kernels`` names a submodule
    assert "kernels/__init__.py" not in names


def test_a_plain_function_compiled_by_another_file_is_compiled_again_when_it_changes(tmp_path):
    """As ``_fused_kernel`` compiles ``optim/adam.py``'s plain ``adam_step_coefficients``:
    ``user.total`` (cached) compiles ``plain.value``, a function of a file with no compiled
    code of its own; after ``plain.py`` changes, the next process computes the new value."""
    root = tmp_path / "package"
    root.mkdir()
    _write(root, "__init__.py", "")
    _write(root, "plain.py", """
        def value():
            return 1
        """)
    _write(root, "user.py", """
        import numba
        from package.plain import value

        _value = numba.njit(inline="always")(value)

        @numba.njit(cache=True)
        def total():
            return _value() + 10
        """)
    assert _run(root, package=True) == (11, 0)
    assert _run(root, package=True) == (11, 1)
    _write(root, "plain.py", (root / "plain.py").read_text().replace("return 1", "return 2"))
    assert _run(root, package=True) == (12, 0)
