"""One library's side of the bench, in a process of its own: ``python -m ffnn.bench.peer
LIBRARY THREADS``.

Each library (ffnn, ffnn_compiled: ffnn's step through ``ffnn.compile``, torch, jax, and
matmul: NumPy's products alone) is timed in its own
process, so that XLA's thread pool and OpenBLAS's never share one. The process speaks JSON
lines: it first writes ``{"ready": true, "library", "version"}`` (or ``{"unavailable":
reason}`` and exits), then answers each request on stdin with one line:

* ``{"op": "build", "spec": {...}, "seed": s}`` → ``{"ok": true}``: build the case's step;
* ``{"op": "time", "warmup": w, "steps": k}`` → ``{"samples": [seconds, …]}``: w untimed
  calls, then k timed ones;
* ``{"op": "losses", "spec": {...}, "steps": k}`` → ``{"losses": [...]}``: the losses of k
  steps from the case's initial weights (``--check`` sends float64 specs);
* ``{"op": "quit"}`` → exit.

A request that fails is answered ``{"error": message}`` and the process keeps serving.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import IO

from ffnn.bench import layout
from ffnn.bench.cases import (
    Spec,
    build_ffnn,
    build_ffnn_compiled,
    build_matmul,
    build_torch,
    make_data,
)

LIBRARIES = ("ffnn", "ffnn_compiled", "torch", "jax", "matmul")


def _version(library: str) -> str:
    """The library's version; raises ImportError when it is not installed."""
    if library == "jax":
        import jax
        import optax

        return f"{jax.__version__} (optax {optax.__version__})"
    if library == "torch":
        import torch

        return torch.__version__
    import numpy

    if library in ("ffnn", "ffnn_compiled"):
        import ffnn

        return ffnn.__version__
    return f"numpy {numpy.__version__}"


def build_step(library: str, spec: Spec, seed: int = 0) -> Callable[[], object]:
    """The case's step in ``library``, from the shared initial weights (``layout``)."""
    if library == "matmul":
        return build_matmul(spec, seed)
    state = layout.init_state(spec.plan(), spec.dtype, seed)
    if library == "ffnn":
        return build_ffnn(spec, seed, state)[1]
    if library == "ffnn_compiled":
        return build_ffnn_compiled(spec, seed, state)[1]
    if library == "torch":
        return build_torch(spec, state, seed)[1]
    if library == "jax":
        from ffnn.bench.jax_step import build_jax

        return build_jax(spec, state, *make_data(spec, seed), seed)
    raise ValueError(f"library must be one of {LIBRARIES}. Received: library={library!r}")


def _loss_value(loss) -> float:
    return float(loss.item()) if hasattr(loss, "item") else float(loss)


def pin_threads(library: str, threads: int) -> None:
    """Run on ``threads`` CPUs with ``threads`` BLAS/intra-op threads (before the library's
    first computation)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        if threads < len(cpus):
            os.sched_setaffinity(0, cpus[:threads])
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        pass
    if library == "torch":
        import torch

        torch.set_num_threads(threads)
    elif library == "jax":
        from ffnn.bench.jax_step import enable_float64

        enable_float64()
    else:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=threads)
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            pass


def handle(library: str, request: dict, current: dict) -> dict:
    """The answer to one request; ``current`` holds the built step between requests."""
    op = request.get("op")
    if op == "build":
        current["step"] = build_step(library, Spec.from_dict(request["spec"]),
                                     int(request.get("seed", 0)))
        return {"ok": True}
    if op == "time":
        step = current.get("step")
        if step is None:
            return {"error": "time before build"}
        for _ in range(int(request["warmup"])):
            step()
        clock, samples = time.perf_counter, []
        for _ in range(int(request["steps"])):
            start = clock()
            step()
            samples.append(clock() - start)
        return {"samples": samples}
    if op == "losses":
        step = build_step(library, Spec.from_dict(request["spec"]), int(request.get("seed", 0)))
        return {"losses": [_loss_value(step()) for _ in range(int(request["steps"]))]}
    return {"error": f"unknown op {op!r}; expected build, time, losses or quit"}


def serve(library: str, threads: int, stdin: IO[str], stdout: IO[str]) -> int:
    """Answer requests from ``stdin`` on ``stdout`` until ``quit`` or end of input."""

    def send(message: dict) -> None:
        stdout.write(json.dumps(message) + "\n")
        stdout.flush()

    try:
        version = _version(library)
    except ImportError as err:
        hint = "; pip install 'ffnn[jax]'" if library == "jax" else ""
        send({"unavailable": f"{library} not installed ({err}){hint}"})
        return 0
    pin_threads(library, threads)
    send({"ready": True, "library": library, "version": version})
    current: dict = {}
    for line in stdin:
        request = json.loads(line)
        if request.get("op") == "quit":
            break
        try:
            send(handle(library, request, current))
        except Exception as err:  # noqa: BLE001 - reported to the parent, which decides
            send({"error": f"{type(err).__name__}: {err}"})
    return 0


if __name__ == "__main__":
    name, n_threads = sys.argv[1], int(sys.argv[2])
    if name not in LIBRARIES:
        print(f"ffnn.bench.peer: library must be one of {LIBRARIES}. Received: {name!r}",
              file=sys.stderr)
        raise SystemExit(2)
    # the protocol keeps the real stdout; anything a library prints goes to stderr
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    raise SystemExit(serve(name, n_threads, sys.stdin, protocol))
