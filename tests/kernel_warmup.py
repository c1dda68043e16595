"""The suite's workers share the first compile of ffnn's kernels instead of each doing all of it.

On a fresh checkout numba's disk cache is empty, and the training engine's kernels (the chain
a ``Sequential`` runs as one node, the fused step of ``ffnn.compile``, the norms' loops) take
one to two minutes per dtype to compile on a 2-core machine. Each xdist worker would compile
both dtypes where its first tests need them, at the same time as the other, and so would the
``ffnn`` subprocesses the CLI tests start. Instead, before its first test, worker *i* compiles
the kernels of one dtype (``DTYPES[i % 2]``) by training a few small networks that cover them,
and writes them to the cache; the other dtype's are then loaded from the cache, not compiled
again. With a warm cache this takes a few seconds; tests are the same either way.
"""

from __future__ import annotations

import os
import warnings

DTYPES = ("float32", "float64")


def _networks(dtype: str):
    from ffnn.bench.cases import Spec

    return [Spec((6, 8, 3), "tanh", 8, "cross_entropy", "adam", dtype=dtype),
            Spec((6, 8, 1), "relu", 8, "mse", "sgd", dtype=dtype),
            Spec((6, 8, 3), "relu", 8, "cross_entropy", "adam", norm="batch_norm", dtype=dtype),
            Spec((6, 8, 3), "relu", 8, "cross_entropy", "adam", norm="layer_norm", dropout=0.1,
                 dtype=dtype)]


def compile_for_worker() -> None:
    """Compile one dtype's share of the kernels in an xdist worker (nothing elsewhere, or
    where ffnn runs on NumPy alone)."""
    from ffnn import accel

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not accel.enabled:
        return
    from ffnn.bench import cases, layout

    dtype = DTYPES[int(worker[2:]) % len(DTYPES)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for spec in _networks(dtype):
                state = layout.init_state(spec.plan(), dtype)
                for build in (cases.build_ffnn, cases.build_ffnn_compiled):
                    step = build(spec, state=state)[1]
                    step()
                    step()
    except Exception as error:  # noqa: BLE001 - the tests that need these kernels report it
        warnings.warn(f"the kernels' warm-up stopped ({type(error).__name__}: {error}); the "
                      "tests compile what they need", stacklevel=1)
