"""Timing: pinned thread counts, warm-up, interleaved rounds, medians.

On a shared machine the load changes from second to second, so the contenders are measured
in alternation (A, B, C, A, B, C, …: ``rounds`` blocks of ``steps`` calls each) and each
reports the median of its per-call times; a burst of load hits all of them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager

REPEATS = {
    # name: (warm-up calls, rounds, calls per round) per case kind
    "small": {"mlp": (1, 2, 2), "ffn": (1, 2, 1), "tiny": (5, 2, 20), "predict": (1, 1, 1)},
    "quick": {"mlp": (2, 3, 5), "ffn": (1, 3, 2), "tiny": (20, 3, 100), "predict": (1, 3, 1)},
    "default": {"mlp": (5, 7, 15), "ffn": (2, 7, 4), "tiny": (200, 7, 500),
                "predict": (1, 5, 1)},
    "large": {"mlp": (10, 15, 30), "ffn": (3, 15, 6), "tiny": (500, 15, 2000),
              "predict": (2, 9, 2)},
}


@contextmanager
def pinned_threads(n: int):
    """Limit NumPy's BLAS and PyTorch (if imported) to ``n`` threads."""
    import sys

    limiter = None
    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=n)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
        if torch is not None:
            torch.set_num_threads(previous)


def interleaved(fns: dict[str, Callable[[], object]], warmup: int, rounds: int,
                steps: int) -> dict[str, dict[str, float]]:
    """Median, min and count of per-call seconds for each callable, measured in alternation."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    clock = time.perf_counter
    for _ in range(rounds):
        for name, fn in fns.items():
            out = samples[name]
            for _ in range(steps):
                start = clock()
                fn()
                out.append(clock() - start)
    return {name: {"median_s": statistics.median(values), "min_s": min(values),
                   "samples": len(values)}
            for name, values in samples.items()}
