"""``import ffnn`` gives NumPy an allocator (``ffnn._aligned_arrays``) that starts every array
on a 64-byte boundary, and is otherwise NumPy's: the same values, zeros where asked, contents
kept by a resize, freed blocks reused by arrays of their size, arrays freed by the allocator
that made them, a clean exit. Each check runs in a fresh process (the allocator is
process-wide)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

glibc = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None
pytestmark = pytest.mark.skipif(
    not glibc or importlib.util.find_spec("numba") is None,
    reason="glibc's allocator and the compiled kernels (numba, llvmlite) only")


def _run(code: str, tuning: str = "1", accel: str = "1") -> list[str]:
    env = dict(os.environ, FFNN_MALLOC_TUNING=tuning, FFNN_ACCEL=accel)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_import_installs_it_and_the_switches_leave_numpy_as_it_is():
    code = """
        import sys
        import numpy as np
        import ffnn
        from ffnn import _malloc
        core = getattr(np, "_core", None) or np.core
        print(_malloc.aligned, core.multiarray.get_handler_name(), "llvmlite" in sys.modules)
    """
    assert _run(code) == ["True", "ffnn_aligned_64", "True"]
    assert _run(code, tuning="0") == ["False", "default_allocator", "False"]
    assert _run(code, accel="0") == ["False", "default_allocator", "False"]  # no LLVM loaded


def test_same_sized_arrays_in_a_row_are_aligned_where_the_heap_places_them():
    # glibc alone puts such a run 16 bytes apart modulo 4096 (its chunk headers)
    code = """
        import numpy as np
        import ffnn
        kept = []
        offsets = set()
        for size in (1, 100, 4096, 5000, 1 << 16, 3 << 20, 5 << 20, 40 << 20):
            for make in (np.empty, np.zeros, np.ones):
                for _ in range(3):
                    kept.append(make(size, np.uint8))
                    offsets.add(kept[-1].ctypes.data % 64)
        for array in kept:  # and they are NumPy's own arrays: freed through the allocator
            array.fill(7)
        print(*sorted(offsets))
    """
    assert _run(code) == ["0"]


def test_zeros_are_zero_on_memory_given_back_dirty():
    code = """
        import numpy as np
        import ffnn
        for size in (100, 4096, 1 << 20, 5 << 20, 40 << 20):
            dirty = [np.full(size, 255, np.uint8) for _ in range(4)]
            del dirty
            fresh = [np.zeros(size, np.uint8) for _ in range(4)]
            print(all(int(a.max()) == 0 for a in fresh))
    """
    assert _run(code) == ["True"] * 5


def test_a_freed_block_is_reused_by_the_next_array_of_its_size():
    # aligned_alloc asks glibc for more than it returns, so a block it freed was too small
    # for the next array of the same size: the heap grew by 16 MiB a step (48 MiB here)
    code = """
        import numpy as np
        import ffnn

        def peak_mib():
            with open("/proc/self/status") as status:
                found = [line for line in status if line.startswith("VmHWM")]
            return int(found[0].split()[1]) // 1024

        kept, a = [], np.ones(4 << 20, np.float32)
        before = peak_mib()
        for i in range(30):
            kept.append(np.ones(1000 + i, np.float32))  # between the large blocks
            b = np.ones(4 << 20, np.float32)           # 16 MiB, while a is alive
            del a
            a = b
        print(peak_mib() - before)
    """
    assert int(_run(code)[0]) < 32  # the second 16 MiB array only


def test_a_freed_large_block_is_kept_for_the_next_array_of_its_size():
    # glibc maps a block of 32 MiB and more on its own and unmaps it when freed: without the
    # kept blocks each new array's pages are faulted in again (20 steps x 2 arrays x 40 MiB:
    # thousands of faults with 4 KiB pages, 800 with 2 MiB ones)
    code = """
        import resource
        import numpy as np
        import ffnn
        from ffnn import _aligned_arrays as aligned

        def step(size):
            a = np.empty(size, np.uint8); a.fill(1)
            b = np.empty(size, np.uint8); b.fill(2)
            return int(a[-1]) + int(b[0])

        for size in (40 << 20, 100 << 20):
            for _ in range(aligned.STEADY):  # a size kept once malloc is asked for it so often
                step(size)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            sums = {step(size) for _ in range(20)}
            print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, *sums)
    """
    first, second = _run(code), _run(code, tuning="0")
    for kept, unmapped in ((first[0:2], second[0:2]), (first[2:4], second[2:4])):
        assert kept[1] == unmapped[1] == "3"
        assert int(kept[0]) < 100 < 400 < int(unmapped[0])


def test_one_off_arrays_are_given_back_and_the_kept_blocks_are_bounded():
    code = """
        import numpy as np
        import ffnn
        from ffnn import _aligned_arrays as aligned

        def resident_mib():
            with open("/proc/self/status") as status:
                found = [line for line in status if line.startswith("VmRSS")]
            return int(found[0].split()[1]) // 1024

        before = resident_mib()
        for _ in range(aligned.STEADY - 1):  # temporaries, as a model's construction makes
            once = np.full(60 << 20, 1, np.uint8)
            del once
        given_back = resident_mib() - before
        arrays = [np.full(33 << 20, 9, np.uint8) for _ in range(24)]  # 792 MiB, then freed
        del arrays
        kept = resident_mib() - before
        fresh = [np.zeros(33 << 20, np.uint8) for _ in range(4)]
        print(given_back, kept, aligned.KEPT_BYTES >> 20, max(int(a.max()) for a in fresh))
    """
    given_back, kept, bound, largest = (int(word) for word in _run(code))
    assert given_back < 8 and 300 < kept <= bound + 8 and largest == 0


def test_threads_sharing_the_kept_blocks_never_share_a_block():
    # threads started in a copy of the main thread's context allocate through it too
    code = """
        import contextvars
        import threading
        import numpy as np
        import ffnn

        failures = []

        def churn(value):
            for i in range(40):
                size = (33 + i % 3) << 20
                a = np.full(size, value, np.uint8)
                b = np.full(size, value + 100, np.uint8)
                if a.ctypes.data % 64 or int(a.min()) != value or int(b.max()) != value + 100:
                    failures.append(value)

        threads = [threading.Thread(target=contextvars.copy_context().run, args=(churn, v))
                   for v in range(1, 5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(len(failures))
    """
    assert _run(code) == ["0"]


def test_resize_keeps_the_contents_and_lands_aligned():
    code = """
        import numpy as np
        import ffnn
        a = np.arange(3000, dtype=np.float64)        # 24 KB
        a.resize(300_000, refcheck=False)           # 2.4 MB: realloc, data moved to a boundary
        b = np.arange(700_000, dtype=np.float64)    # 5.6 MB
        b.resize(1000, refcheck=False)              # shrunk
        c = np.arange(5_000_000, dtype=np.float64)  # 40 MB: a block glibc maps
        c.resize(6_000_000, refcheck=False)         # 48 MB: remapped, the block's size kept
        head = bool((c[:5_000_000] == np.arange(5_000_000)).all())
        del c
        d = np.full(6_000_000, 3.0)                 # the resized block, kept, reused
        print(bool((a[:3000] == np.arange(3000)).all()), int(a[3000:].max()),
              a.ctypes.data % 64, bool((b == np.arange(1000)).all()), b.ctypes.data % 64,
              head, float(d.sum()), d.ctypes.data % 64)
    """
    assert _run(code) == ["True", "0", "0", "True", "0", "True", "18000000.0", "0"]


def test_arrays_of_other_threads_and_arrays_alive_at_exit():
    # a new thread starts in an empty context: NumPy's default allocator there; each array
    # is freed by the allocator that made it, here or at the interpreter's exit
    code = """
        import threading
        import numpy as np
        import ffnn
        made = []
        thread = threading.Thread(target=lambda: made.append(np.ones(1 << 20)))
        thread.start(); thread.join()
        core = getattr(np, "_core", None) or np.core
        here = np.ones(1 << 20)
        print(core.multiarray.get_handler_name(made[0]), core.multiarray.get_handler_name(here))
        del made[0]
        KEPT = [np.ones(n) for n in (10, 1 << 12, 1 << 20, 5 << 20)]
    """
    assert _run(code) == ["default_allocator", "ffnn_aligned_64"]
