"""``profile(model, input)``: forward and backward time of every layer, printed as a table.

Each module's ``forward`` is wrapped for the duration of the call (the wall time of the call,
children included). The ops a module's forward records in the graph, and that no child
already claimed, are tagged with the module's name; their ``backward`` is timed when the
graph is walked, so a layer's backward time is the time of its own ops plus its children's.
Times are medians over ``repeat`` runs after one warm-up run.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from typing import TextIO

from ffnn.autograd import no_grad
from ffnn.nn.module import Module
from ffnn.tensor import Tensor


def _tag_graph(output, stop_ids: set[int], name: str, backward_times: dict) -> None:
    """Give every untagged op between ``output`` and the tensors in ``stop_ids`` a timed
    backward that adds its seconds to ``backward_times[name]``."""
    if not isinstance(output, Tensor) or output._ctx is None:
        return
    stack, seen = [output], set()
    while stack:
        tensor = stack.pop()
        fn = tensor._ctx
        if fn is None or id(tensor) in stop_ids or id(fn) in seen or hasattr(fn, "_profiled"):
            continue
        seen.add(id(fn))
        fn._profiled = name
        fn.backward = _timed(fn.backward, name, backward_times)
        stack.extend(p for p in fn.parents if p is not None)


def _timed(method, name: str, times: dict):
    def wrapper(grad):
        start = time.perf_counter()
        out = method(grad)
        times[name] += time.perf_counter() - start
        return out

    return wrapper


def _wrap_forward(module: Module, name: str, forward_times: dict, backward_times: dict):
    original = module.forward

    def forward(*args, **kwargs):
        start = time.perf_counter()
        out = original(*args, **kwargs)
        forward_times[name] += time.perf_counter() - start
        inputs = {id(a) for a in args if isinstance(a, Tensor)}
        _tag_graph(out, inputs, name, backward_times)
        return out

    module.__dict__["forward"] = forward


def profile(model: Module, input, target=None, loss_fn=None, repeat: int = 10,
            backward: bool = True, file: TextIO | None = None) -> list[dict]:
    """Time ``model(input)`` (and, with ``backward``, the backward pass) per layer.

    ``loss_fn(output, target)`` gives the scalar to differentiate; without it the backward
    starts from dL/dy = 1 (the sum of the outputs). Gradients the call leaves are reset to
    what they were. Prints a table to ``file`` (default stdout) and returns its rows:
    ``{"name", "type", "depth", "forward_ms", "backward_ms"}`` (a parent's times include its
    children's; the last rows are the loss and the whole step).
    """
    if not isinstance(model, Module):
        raise TypeError(f"profile: model must be an ffnn.nn.Module. Received: "
                        f"{type(model).__name__}")
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise ValueError(f"profile: repeat must be a positive integer. Received: repeat={repeat!r}")
    if not isinstance(input, Tensor):
        input = Tensor._of(input)
    modules = [(name or type(model).__name__, m) for name, m in model.named_modules()]
    saved_grads = [(p, p._grad) for p in model.parameters()]
    for p, _ in saved_grads:
        p._grad = None  # the runs below must not add into the caller's gradients
    runs: list[tuple[dict, dict, float, float, float]] = []
    try:
        for run in range(repeat + 1):
            fwd: dict[str, float] = defaultdict(float)
            bwd: dict[str, float] = defaultdict(float)
            for name, module in modules:
                _wrap_forward(module, name, fwd, bwd)
            try:
                start = time.perf_counter()
                if backward:
                    out = model(input)
                    mid = time.perf_counter()
                    loss = loss_fn(out, target) if loss_fn is not None else out.sum()
                    after_loss = time.perf_counter()
                    _tag_graph(loss, {id(out)}, "loss", bwd)
                    loss.backward()
                else:
                    with no_grad():
                        out = model(input)
                    mid = after_loss = time.perf_counter()
                end = time.perf_counter()
            finally:
                for _, module in modules:
                    module.__dict__.pop("forward", None)
            for p in model.parameters():
                p._grad = None
            if run > 0:  # the first run is a warm-up
                runs.append((fwd, bwd, after_loss - mid, end - start, mid - start))
    finally:
        for p, grad in saved_grads:
            p._grad = grad
    rows = _summarise(modules, runs)
    _print(rows, file if file is not None else sys.stdout, backward)
    return rows


def _summarise(modules, runs) -> list[dict]:
    def med(values):
        return 1e3 * statistics.median(values)

    rows = []
    names = [name for name, _ in modules]
    for name, module in modules:
        depth = 0 if name == names[0] else name.count(".") + 1
        inside = [n for n in names if n == name or n.startswith(name + ".") or name == names[0]]
        rows.append({
            "name": name, "type": type(module).__name__, "depth": depth,
            "forward_ms": med([r[0][name] for r in runs]),
            "backward_ms": med([sum(r[1][n] for n in inside) for r in runs]),
        })
    rows.append({"name": "loss", "type": "", "depth": 0, "forward_ms": med([r[2] for r in runs]),
                 "backward_ms": med([r[1]["loss"] for r in runs])})
    rows.append({"name": "total", "type": "", "depth": 0,
                 "forward_ms": med([r[4] + r[2] for r in runs]),
                 "backward_ms": med([r[3] - r[4] - r[2] for r in runs])})
    return rows


def _print(rows, file: TextIO, backward: bool) -> None:
    width = max(len("  " * r["depth"] + r["name"]) for r in rows) + 2
    head = f"{'layer':<{width}}{'type':<14}{'forward ms':>12}"
    print(head + (f"{'backward ms':>13}" if backward else ""), file=file)
    for r in rows:
        line = f"{'  ' * r['depth'] + r['name']:<{width}}{r['type']:<14}{r['forward_ms']:>12.3f}"
        print(line + (f"{r['backward_ms']:>13.3f}" if backward else ""), file=file)
