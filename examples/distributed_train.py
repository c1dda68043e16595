"""Data-parallel training on several processes: a hand-written loop with ffnn.distributed.

Run it on 2 processes (and compare with 1: the final loss is the same to ~1e-15):

    mpiexec -n 2 python examples/distributed_train.py
    python examples/distributed_train.py

Each rank builds the model, takes rank 0's initial weights, trains on its shard of every
global batch, and averages gradients (weighted by rows) before clipping and the step. Only
rank 0 prints and writes the checkpoint. ``Trainer(..., distributed=True)`` does the same.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import safetensors.numpy

import ffnn
import ffnn.distributed as dist
from ffnn import nn, optim
from ffnn.data import DataLoader, TensorDataset
from ffnn.io.atomic import atomic_write_bytes

GLOBAL_BATCH, EPOCHS = 64, 5


def main() -> None:
    dist.init()  # a note when started without mpiexec; errors on any rank abort every rank
    rank, size = dist.rank(), dist.world_size()

    rng = np.random.default_rng(0)  # the same data on every rank (each reads its shard)
    x = rng.standard_normal((1000, 8)).astype(np.float32)
    y = (np.sin(x[:, :1] * 2) + x[:, 1:2] ** 2).astype(np.float32)
    dataset = TensorDataset(x, y)

    ffnn.manual_seed(rank)  # deliberately different: broadcast_parameters makes them equal
    model = nn.Sequential(nn.Linear(8, 64), nn.GELU(), nn.Linear(64, 1))
    dist.broadcast_parameters(model)
    optimizer = optim.AdamW(model.parameters(), lr=3e-3)
    sampler = dist.DistributedSampler(dataset, batch_size=GLOBAL_BATCH, seed=42)
    loader = DataLoader(dataset, batch_size=sampler.local_batch_size, sampler=sampler)

    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        loss_sum = rows = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            dist.allreduce_gradients(model, weight=xb.shape[0])  # exact global-batch mean
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            loss_sum += loss.item() * xb.shape[0]
            rows += xb.shape[0]
        logs = dist.reduce_metrics({"loss": loss_sum / rows}, weight=rows)  # over all ranks
        if dist.is_main_process():
            print(f"epoch {epoch}  loss {logs['loss']:.6f}  ({size} rank(s))")

    if dist.is_main_process():  # one writer; every rank holds the same weights
        path = os.path.join(tempfile.gettempdir(), "ffnn_distributed_example.safetensors")
        arrays = {k: np.ascontiguousarray(v) for k, v in model.state_dict().items()}
        atomic_write_bytes(path, safetensors.numpy.save(
            arrays, metadata={"epochs": json.dumps(EPOCHS)}))
        print(f"saved {path}")


if __name__ == "__main__":
    main()
