"""``bench_distributed``: samples/s of data-parallel training on 1 rank against R ranks.

The case is ``ffn``: a GELU feed-forward block d_model → d_ff → d_model (1024 → 4096 → 1024,
8.4 M parameters), a global batch of ``rows`` random rows, MSE loss, AdamW. Each rank runs one
BLAS thread and takes rows/R of every batch. A step is forward, backward, the gradients'
reduction and the optimizer step, by one of two methods:

* ``allreduce``: ``allreduce_gradients`` then AdamW over all parameters on every rank;
* ``zero``: ``ZeroRedundancyOptimizer(..., optim.AdamW)``: each rank reduces and steps its own
  shard (on one host through shared memory).

Timed steps follow ``warmup`` untimed ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

import numpy as np

LINKS_GBIT = (10, 100)
METHODS = ("allreduce", "zero")


def _worker_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ffnn.distributed _bench-worker")
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--d-model", type=int, default=1024)
    parser.add_argument("--d-ff", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--method", choices=METHODS, default="allreduce")
    return parser.parse_args(argv)


def _setup(args: argparse.Namespace):
    """This rank's (model, optimizer, x, y): rank 0's weights, rows rank::size of the batch."""
    import ffnn
    from ffnn import distributed as dist
    from ffnn import nn, optim

    size, rank = dist.world_size(), dist.rank()
    ffnn.manual_seed(0)
    model = nn.FeedForward(args.d_model, args.d_ff)
    dist.broadcast_parameters(model)
    if args.method == "zero":
        optimizer = dist.ZeroRedundancyOptimizer(model.parameters(), optim.AdamW, lr=1e-4)
    else:
        optimizer = optim.AdamW(model.parameters(), lr=1e-4)
    data = np.random.default_rng(1)
    inputs = data.standard_normal((args.rows, args.d_model), dtype=np.float32)
    targets = data.standard_normal((args.rows, args.d_model), dtype=np.float32)
    x = ffnn.from_numpy(np.ascontiguousarray(inputs[rank::size]))
    y = ffnn.from_numpy(np.ascontiguousarray(targets[rank::size]))
    return model, optimizer, x, y


def _timed_steps(args: argparse.Namespace, model, optimizer, x, y) -> tuple[float, np.ndarray]:
    """Run warm-up then timed steps; (elapsed seconds, [compute, reduce, optimizer] seconds)."""
    from ffnn import distributed as dist
    from ffnn import nn

    loss_fn = nn.MSELoss()
    zero = args.method == "zero"
    phases = np.zeros(3)
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            dist.barrier()
            phases[:] = 0
            start = time.perf_counter()
        t0 = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        t1 = time.perf_counter()
        if zero:
            optimizer.reduce_gradients(weight=x.shape[0])
        else:
            dist.allreduce_gradients(model, weight=x.shape[0])
        t2 = time.perf_counter()
        optimizer.step()
        phases += (t1 - t0, t2 - t1, time.perf_counter() - t2)
    dist.barrier()
    return time.perf_counter() - start, phases


def _worker(argv: Sequence[str] | None = None) -> None:
    """One rank of the benchmark (run under mpiexec); rank 0 prints one JSON line."""
    from ffnn import distributed as dist

    args = _worker_arguments(argv)
    model, optimizer, x, y = _setup(args)
    elapsed, phases = _timed_steps(args, model, optimizer, x, y)
    if dist.rank() == 0:
        params = sum(p._data.size for p in model.parameters())
        print(json.dumps({
            "ranks": dist.world_size(), "method": args.method, "rows": args.rows,
            "steps": args.steps, "samples_per_s": args.rows * args.steps / elapsed,
            "step_ms": 1e3 * elapsed / args.steps,
            "compute_ms": 1e3 * phases[0] / args.steps,
            "reduce_ms": 1e3 * phases[1] / args.steps,
            "optimizer_ms": 1e3 * phases[2] / args.steps,
            "parameters": int(params),
            "bytes_allreduced_per_step": int(params * 4),
        }), flush=True)


def ring_allreduce_seconds(num_bytes: float, ranks: int, gbit_per_s: float) -> float:
    """Wire time of a ring allreduce: each rank sends 2(R-1)/R · bytes over its link."""
    return 2 * (ranks - 1) / ranks * num_bytes * 8 / (gbit_per_s * 1e9)


def bench_distributed(ranks: Sequence[int] = (1, 2), rows: int = 256, steps: int = 10,
                      warmup: int = 2, d_model: int = 1024, d_ff: int = 4096,
                      repeats: int = 1, methods: Sequence[str] = METHODS,
                      timeout: float = 600.0) -> dict:
    """Run the ``ffn`` case under ``mpiexec -n R`` for each R in ``ranks`` (one thread per
    rank) and each of ``methods`` (one rank: plain AdamW, no method) and return ``{"case",
    "rows", "results": [dicts], "speedup": {"R method": ×}, "links": {...}}``; a speedup is
    samples/s over the first rank count's. ``repeats``: run everything in turn that many
    times and keep each one's best run (on a shared machine the best run is the one least
    disturbed by other work)."""
    from ffnn.distributed.launch import run_mpi

    ranks = [int(r) for r in ranks]
    for r in ranks:
        if r < 1 or rows % r:
            raise ValueError(f"bench_distributed: every rank count must be >= 1 and divide "
                             f"rows={rows}. Received: ranks={ranks}")
    methods = list(methods)
    if not methods or any(m not in METHODS for m in methods):
        raise ValueError(f"bench_distributed: methods must be some of {METHODS}. Received: "
                         f"methods={methods}")
    runs = [(r, m) for r in ranks for m in (methods if r > 1 else methods[:1])]
    best: dict[tuple[int, str], dict] = {}
    for _ in range(max(1, int(repeats))):
        for r, method in runs:
            argv = [sys.executable, "-m", "ffnn.distributed", "_bench-worker", "--rows",
                    str(rows), "--d-model", str(d_model), "--d-ff", str(d_ff), "--steps",
                    str(steps), "--warmup", str(warmup), "--method", method]
            done = run_mpi(r, argv, timeout=timeout)
            if done.returncode != 0:
                raise RuntimeError(f"bench_distributed: mpiexec -n {r} failed (exit "
                                   f"{done.returncode}):\n{done.stderr[-4000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if result["ranks"] == 1:
                result["method"] = "-"
            key = (r, method)
            if key not in best or result["samples_per_s"] > best[key]["samples_per_s"]:
                best[key] = result
    results = [best[key] for key in runs]
    base = results[0]["samples_per_s"]
    speedup = {_label(res): res["samples_per_s"] / base for res in results}
    num_bytes = results[0]["bytes_allreduced_per_step"]
    links = {}
    for res in results:
        if res["ranks"] > 1 and res["method"] == "allreduce":
            for gbit in LINKS_GBIT:
                wire = ring_allreduce_seconds(num_bytes, res["ranks"], gbit)
                step = (res["compute_ms"] + res["optimizer_ms"]) / 1e3 + wire
                links[f"{res['ranks']} ranks, {gbit} Gb/s"] = {
                    "allreduce_ms": 1e3 * wire, "samples_per_s": rows / step}
    return {"case": "ffn", "model": f"FeedForward({d_model}, {d_ff})", "rows": rows,
            "results": results, "speedup": speedup, "links": links}


def _label(result: dict) -> str:
    """"1" for one rank, else "R method" (the key of ``speedup``)."""
    return "1" if result["ranks"] == 1 else f"{result['ranks']} {result['method']}"


def best_speedup(report: dict, ranks: int = 2) -> float | None:
    """The largest speedup of ``ranks`` ranks over all methods (None if not measured)."""
    values = [v for k, v in report["speedup"].items() if k.split()[0] == str(ranks)]
    return max(values) if values else None


def format_report(report: dict) -> str:
    """A plain-text table of ``bench_distributed``'s result."""
    lines = [f"case {report['case']}: {report['model']}, {report['rows']} rows per global "
             f"batch, MSE, AdamW, 1 thread per rank",
             f"{'ranks':>5} {'method':>9} {'samples/s':>10} {'step ms':>8} {'compute':>8} "
             f"{'reduce':>7} {'optim':>6} {'speedup':>7}"]
    for res in report["results"]:
        lines.append(f"{res['ranks']:>5} {res['method']:>9} {res['samples_per_s']:>10.1f} "
                     f"{res['step_ms']:>8.1f} {res['compute_ms']:>8.1f} {res['reduce_ms']:>7.1f} "
                     f"{res['optimizer_ms']:>6.1f} {report['speedup'][_label(res)]:>6.2f}x")
    num_bytes = report["results"][0]["bytes_allreduced_per_step"]
    lines.append(f"bytes allreduced per step (allreduce method): {num_bytes:,}")
    for name, est in report["links"].items():
        lines.append(f"estimate across hosts, {name}: allreduce {est['allreduce_ms']:.1f} ms, "
                     f"{est['samples_per_s']:.0f} samples/s")
    return "\n".join(lines)
