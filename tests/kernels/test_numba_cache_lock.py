"""numba's cache saves under a lock (``ffnn.kernels.numba_cache._lock_saves``): two test
workers compiling two signatures of one function at once could otherwise map one signature
to the other's machine code."""

from __future__ import annotations

import fcntl
import threading

import pytest

pytest.importorskip("numba")

from numba.core import caching  # noqa: E402

from ffnn.kernels import numba_cache  # noqa: E402


def test_a_save_waits_for_the_lock_and_two_keys_keep_their_own_files(tmp_path):
    numba_cache.install()
    stamp = ("stamp", 1)
    first = caching.IndexDataCacheFile(str(tmp_path), "f-1.py311", stamp)
    second = caching.IndexDataCacheFile(str(tmp_path), "f-1.py311", stamp)
    done = threading.Event()
    with open(f"{first._index_path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: (first.save("a", b"code of a"), done.set()))
        worker.start()
        assert not done.wait(0.3)  # held off while another process holds the lock
        fcntl.flock(lock, fcntl.LOCK_UN)
    worker.join(5)
    assert done.is_set()
    second.save("b", b"code of b")
    assert first.load("a") == b"code of a" and second.load("b") == b"code of b"
