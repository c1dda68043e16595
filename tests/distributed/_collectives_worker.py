"""Exercise the collectives under mpiexec; every rank writes OUT/rank{r}.json with what it got.

argv: OUT_FOLDER. The test (test_collectives.py) checks the values.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import numpy as np  # noqa: E402

import ffnn.distributed as dist  # noqa: E402
from ffnn import nn  # noqa: E402
from ffnn.distributed import collectives  # noqa: E402


def _error(fn) -> str:
    try:
        fn()
    except ValueError as error:
        return str(error)
    return ""


class _Holder(nn.Module):
    """Three parameters, one float32 (two dtypes, so two flat arrays per segment)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(np.zeros(3))
        self.b = nn.Parameter(np.zeros(3, dtype=np.float32))
        self.c = nn.Parameter(np.zeros(2))


def _random_gradients_both_ways(rank: int) -> list:
    """Random gradients (one missing on rank 1) reduced through shared memory (a Module)
    and through messages (a list of its parameters), three steps in a row: the largest
    relative difference, and every rank's shared result (summed) to compare across ranks."""
    holder, rng, largest, sums = _Holder(), np.random.default_rng(rank), 0.0, []
    params = list(holder.parameters())
    for _ in range(3):
        grads = [rng.standard_normal(p.shape).astype(p.numpy().dtype) for p in params]
        results = []
        for target in (holder, params):
            for param, grad in zip(params, grads):
                param.grad = None if rank == 1 and param is holder.c else grad.copy()
            dist.allreduce_gradients(target, weight=rank + 0.5)
            results.append([p.grad.numpy().astype(np.float64) for p in params])
        for shared, messages in zip(*results):
            largest = max(largest, float(np.max(np.abs(shared - messages) / np.abs(messages))))
        sums.append(float(sum(np.sum(g) for g in results[0])))
    return [largest, sums]


def main() -> None:
    out = sys.argv[1]
    rank, size = dist.rank(), dist.world_size()
    got: dict = {"rank": rank, "size": size}
    mine = np.array([rank + 1.0, 10.0 * (rank + 1)])
    for op in ("sum", "mean", "max", "min"):
        got[f"all_reduce_{op}"] = dist.all_reduce(mine, op=op).tolist()
    got["all_reduce_int"] = dist.all_reduce(np.array(rank + 1, dtype=np.int64)).tolist()
    got["broadcast_json"] = dist.broadcast_json({"from": rank, "text": "é" * rank})
    got["metrics"] = dist.reduce_metrics({"loss": float(rank + 1), "acc": 0.5}, weight=rank + 1)

    # gradients: a has grad (rank+1) everywhere; b has a grad on rank 0 only; c on no rank
    a, b, c = (nn.Parameter(np.zeros(3)) for _ in range(3))
    a.grad = np.full(3, rank + 1.0)
    if rank == 0:
        b.grad = np.array([1.0, 2.0, 3.0])
    got["total_weight"] = dist.allreduce_gradients([a, b, c], weight=rank + 1)
    got["weighted"] = [a.grad.tolist(), b.grad.tolist(), c.grad is None]
    a.grad = np.full(3, rank + 1.0)
    b.grad = None
    dist.allreduce_gradients([a, b, c], op="sum", bucket_cap_mb=1e-5)  # 1-element pieces
    got["sum"] = [a.grad.tolist(), b.grad is None]
    a.grad = np.full(3, rank + 1.0)
    got["plain_total"] = dist.allreduce_gradients([a, b, c])
    got["plain"] = a.grad.tolist()

    # the same through a Module: its buffers are kept, so on one host through shared memory
    holder = _Holder()
    holder.a.grad = np.full(3, rank + 1.0)
    if rank == 0:
        holder.b.grad = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    got["shared_total_weight"] = dist.allreduce_gradients(holder, weight=rank + 1)
    got["shared_weighted"] = [holder.a.grad.tolist(), holder.b.grad.tolist(),
                              str(holder.b.grad.dtype), holder.c.grad is None]
    holder.a.grad = np.full(3, rank + 1.0)
    holder.b.grad = None
    dist.allreduce_gradients(holder, op="sum")
    got["shared_sum"] = [holder.a.grad.tolist(), holder.b.grad is None]
    got["shared_window"] = collectives._buffers[holder].shared is not None
    holder.c.requires_grad_(False)  # other parameters: the old window given back, a new one
    holder.a.grad = np.full(3, rank + 1.0)
    dist.allreduce_gradients(holder)
    got["shared_after_freeze"] = [holder.a.grad.tolist(),
                                  len(collectives._buffers[holder].params)]
    got["shared_random"] = _random_gradients_both_ways(rank)

    # broadcast_parameters: rank 0's weights and buffers everywhere
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    for param in model.parameters():
        param.data[...] = rank + 1
    model[1].running_mean[...] = rank + 5
    model[1].num_batches_tracked[...] = rank + 7
    dist.broadcast_parameters(model)
    got["broadcast"] = [float(p.numpy().ravel()[0]) for p in model.parameters()] + [
        float(model[1].running_mean[0]), int(model[1].num_batches_tracked)]

    # a different model on one rank: a clear error on every rank, no hang
    other = nn.Linear(2, 3 + (rank == size - 1))
    got["mismatch"] = _error(lambda: dist.broadcast_parameters(other))
    got["mismatch_grads"] = _error(lambda: dist.allreduce_gradients(other))
    got["metric_names"] = _error(lambda: dist.reduce_metrics({f"m{rank % 2}": 1.0}))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as handle:
        json.dump(got, handle)


if __name__ == "__main__":
    main()
