"""One rank of a small data-parallel training run (started by the tests under mpiexec).

argv: CONFIG_JSON OUT_FOLDER. Every rank writes OUT_FOLDER/rank{r}.safetensors (its final
weights; metadata "info": per-epoch losses reduced across ranks, its sample count). Rank 0
alone writes the checkpoint (every ``checkpoint_every`` steps); ``fail_rank`` raises an
error on that rank at global step ``fail_step``; ``resume`` restarts from the checkpoint.
"""

from __future__ import annotations

import json
import os
import sys

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)),
                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]

import _common  # noqa: E402
import numpy as np  # noqa: E402
import safetensors.numpy  # noqa: E402

import ffnn  # noqa: E402
import ffnn.distributed as dist  # noqa: E402
from ffnn import nn  # noqa: E402
from ffnn.data import DataLoader, TensorDataset  # noqa: E402


def main() -> None:
    cfg, out = json.loads(sys.argv[1]), sys.argv[2]
    rank, size = dist.rank(), dist.world_size()
    assert size == cfg["ranks"], (size, cfg["ranks"])
    x, y = _common.make_data(cfg)
    # different initial weights on every rank: broadcast_parameters must make them rank 0's
    model = _common.build_model(cfg, cfg["init_seed"] + rank)
    if cfg["kind"] == "syncbn":
        model = dist.convert_sync_batchnorm(model)
    dist.broadcast_parameters(model)
    optimizer = _common.make_optimizer(model, cfg)
    if cfg["replace_data"]:  # the mistake ZeroRedundancyOptimizer must refuse
        model.double()
    dataset = TensorDataset(ffnn.from_numpy(x), ffnn.from_numpy(y))
    sampler = dist.DistributedSampler(dataset, cfg["batch_size"], seed=cfg["seed"],
                                      drop_last=cfg["drop_last"])
    loader = DataLoader(dataset, batch_size=sampler.local_batch_size, sampler=sampler)
    start_epoch, step, losses = 0, 0, []
    if cfg["resume"]:
        position = _common.load_checkpoint(cfg["checkpoint"], model, optimizer)
        start_epoch, step, losses = position["epoch"], position["step"], position["losses"]
        loader.load_state_dict({"generator": None, "batch_index": position["batch"],
                                "epoch": start_epoch})
    for epoch in range(start_epoch, cfg["epochs"]):
        sampler.set_epoch(epoch)
        total = count = 0.0
        skip = 0
        if cfg["resume"] and epoch == start_epoch:
            skip = position["batch"]
            if rank == 0:  # the checkpoint holds the sums over all ranks so far
                total, count = position["total"], position["count"]
        for batch_index, (xb, yb) in enumerate(loader, start=skip):
            if rank == cfg["fail_rank"] and step == cfg["fail_step"]:
                raise RuntimeError(f"injected failure on rank {rank} at step {step}")
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            weight = xb.shape[0] if cfg["weighted"] else None
            if cfg["zero"]:
                optimizer.reduce_gradients(weight=weight)
                optimizer.clip_grad_norm_(_common.MAX_NORM)
            else:
                dist.allreduce_gradients(model, weight=weight)
                nn.utils.clip_grad_norm_(model.parameters(), _common.MAX_NORM)
            optimizer.step()
            total += loss.item() * xb.shape[0]
            count += xb.shape[0]
            step += 1
            if cfg["checkpoint"] and step % cfg["checkpoint_every"] == 0:
                sums = dist.all_reduce(np.array([total, count]))  # a collective: all ranks
                if cfg["zero"]:  # the optimizer's shards, gathered on rank 0 (all ranks)
                    optimizer.consolidate_state_dict(to=0)
                if dist.is_main_process():
                    _common.save_checkpoint(cfg["checkpoint"], model, optimizer, {
                        "epoch": epoch, "batch": batch_index + 1, "step": step,
                        "losses": losses, "total": float(sums[0]), "count": float(sums[1]),
                        "written_by_rank": rank})
        losses.append(dist.reduce_metrics({"loss": total / count}, weight=count)["loss"])
    info = {"losses": losses, "rank": rank, "samples_last_epoch": count,
            "batches_last_epoch": len(loader)}
    arrays = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    with open(os.path.join(out, f"rank{rank}.safetensors"), "wb") as handle:
        handle.write(safetensors.numpy.save(arrays, metadata={"info": json.dumps(info)}))


if __name__ == "__main__":
    main()
