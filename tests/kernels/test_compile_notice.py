"""While ffnn's kernels compile for the first time (an empty disk cache), one line on stderr
says why the first step waits (``ffnn.kernels.compile_notice``); a load from the cache, a
short compile and a user's own numba function say nothing. Each check runs in a fresh process
with its own empty cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from ffnn import accel
from ffnn.kernels.compile_notice import NOTICE

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

_KERNELS = """
    import numpy as np
    import ffnn
    from ffnn import _kernels
    from ffnn.kernels import compile_notice
    compile_notice.NOTICE_AFTER = {after}
    for dtype in (np.float32, np.float64):  # two compiles of one of ffnn's kernels
        y = np.zeros((4, 3), dtype)
        _kernels.add_rows(y, np.arange(3, dtype=dtype))
    print("trained" if y.sum() == 12 else "wrong")
"""


def _stderr(code: str, cache, notice: str = "1") -> str:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), FFNN_COMPILE_NOTICE=notice)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.split() == ["trained"], done.stderr
    return done.stderr


def test_a_long_first_compile_says_so_once(tmp_path):
    # a compile of add_rows takes far longer than 0.05 s on any machine
    assert _stderr(_KERNELS.format(after=0.05), tmp_path).count(NOTICE) == 1


def test_a_compile_shorter_than_the_wait_says_nothing(tmp_path):
    assert NOTICE not in _stderr(_KERNELS.format(after=600.0), tmp_path)


def test_the_switch_keeps_it_quiet(tmp_path):
    assert NOTICE not in _stderr(_KERNELS.format(after=0.05), tmp_path, notice="0")


def test_a_users_own_numba_function_says_nothing(tmp_path):
    code = """
        import numba
        import ffnn
        from ffnn.kernels import compile_notice, numba_cache
        numba_cache.install()  # what ffnn's first kernel does
        compile_notice.NOTICE_AFTER = 0.0

        @numba.njit
        def total(a):
            s = 0.0
            for v in a:
                s += v
            return s

        import numpy as np
        total(np.ones(3))
        print("trained")
    """
    assert NOTICE not in _stderr(code, tmp_path)
