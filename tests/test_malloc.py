"""``import ffnn`` sets glibc's mmap and trim thresholds, so that arrays freed at the end of a
step are reused by the next one instead of being returned to the system and faulted in again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

glibc = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None
pytestmark = pytest.mark.skipif(not glibc, reason="glibc's allocator only")

PATTERN = textwrap.dedent("""
    import resource
    import numpy as np
    import ffnn
    from ffnn import _malloc

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    big = np.ones(4 << 20, np.float32)  # 16 MiB, freed: glibc's own rule then keeps 12 MiB
    del big                             # arrays on the heap, and at most 32 MiB free on top
    counts = []
    for _ in range(6):
        before = faults()
        arrays = [np.ones(3 << 20, np.float32) for _ in range(4)]  # 48 MiB, then freed
        del arrays
        counts.append(faults() - before)
    print(_malloc.tuned, max(counts[2:]))
""")


def _run(tuning: str) -> tuple[str, int]:
    env = dict(os.environ, FFNN_MALLOC_TUNING=tuning)
    out = subprocess.run([sys.executable, "-c", PATTERN], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0], int(out[1])


def test_arrays_freed_each_step_are_reused_without_page_faults():
    tuned, faults = _run("1")
    untuned, faults_untuned = _run("0")
    assert (tuned, untuned) == ("True", "False")
    # 48 MiB is 12,288 pages: glibc's defaults return them and fault them in every time
    assert faults < 500, (faults, faults_untuned)
