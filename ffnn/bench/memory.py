"""Peak memory of a case, per library, measured in a fresh process.

PyTorch's CPU allocations are invisible to ``tracemalloc``, so both libraries are measured
the same way: a new Python process imports the library, resets the kernel's resident-set
high-water mark (``echo 5 > /proc/self/clear_refs``, Linux), notes the resident size, builds
the case (model, data, optimizer) and runs a few steps (after a warm-up on the ``tiny`` case,
so that code each library loads lazily on its first step is not counted); the peak is
``VmHWM`` minus that baseline — everything the case itself made resident. Where
``clear_refs`` is not available the baseline is ``ru_maxrss`` after the imports instead.

Run as ``python -m ffnn.bench.memory CASE LIBRARY THREADS STEPS``; prints one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:  # pragma: no cover - not Linux, or not permitted
        return False


def _max_rss_kib() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure_here(case: str, library: str, threads: int, steps: int) -> dict:
    """Build and run ``case`` in this process and return its peak resident memory."""
    import numpy  # noqa: F401

    from ffnn.bench import cases
    from ffnn.bench.timing import pinned_threads

    if library == "torch":
        import torch  # noqa: F401
    spec = cases.SPECS[case]
    with pinned_threads(threads):
        # load what each library loads lazily on its first step, so that it is not counted
        warm = cases.build_torch if library == "torch" else cases.build_ffnn
        args = (cases.SPECS["tiny"], None) if library == "torch" else (cases.SPECS["tiny"],)
        for _ in range(2):
            warm(*args)[1]()
        if library == "ffnn":  # ffnn's compiled kernels load on first use, like torch's code
            from ffnn import accel

            accel.warm_up()
        if _reset_peak() and _status_kib("VmHWM") is not None:
            method, base = "VmHWM", _status_kib("VmRSS")
        else:  # pragma: no cover - not Linux
            method, base = "ru_maxrss", _max_rss_kib()
        if library == "torch":
            step = cases.build_torch(spec, None)[1]
        else:
            step = cases.build_ffnn(spec)[1]
        for _ in range(steps):
            step()
        peak = _status_kib("VmHWM") if method == "VmHWM" else _max_rss_kib()
    return {"case": case, "library": library, "peak_mib": (peak - base) / 1024,
            "method": method}


def peak_memory(case: str, library: str, threads: int, steps: int = 3,
                timeout: float = 600.0) -> dict:
    """:func:`measure_here` in a fresh ``python -m ffnn.bench.memory`` process."""
    argv = [sys.executable, "-m", "ffnn.bench.memory", case, library, str(threads), str(steps)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"memory measurement of {case}/{library} failed:\n"
                           f"{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    case_name, lib, n_threads, n_steps = sys.argv[1:5]
    print(json.dumps(measure_here(case_name, lib, int(n_threads), int(n_steps))))
