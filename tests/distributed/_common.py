"""Shared by the mpiexec worker and the tests: data, model, optimizer, checkpoint files, and
the single-process reference run that the distributed runs must reproduce."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import safetensors.numpy

import ffnn
from ffnn import nn, optim
from ffnn.io.atomic import atomic_write_bytes

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "_worker.py")
ROOT = os.path.dirname(os.path.dirname(HERE))
IN_FEATURES, HIDDEN, OUT_FEATURES = 5, 16, 3
LR, MAX_NORM = 0.05, 0.5


def config(**changes) -> dict:
    """A run: model kind (mlp, bn = BatchNorm1d with local statistics, syncbn), dtype, data
    size n, global batch_size, epochs, ranks, seeds, drop_last; ``weighted``: combine
    gradients weighted by each rank's rows (False: the plain average over ranks); ``zero``:
    None (allreduce_gradients + a plain optimizer), "shared" or "messages"
    (ZeroRedundancyOptimizer with or without shared memory); ``groups``: two parameter
    groups with their own options; ``optimizer``: the ffnn.optim class name."""
    base = {"kind": "mlp", "dtype": "float64", "n": 48, "batch_size": 8, "epochs": 2,
            "ranks": 2, "seed": 5, "init_seed": 11, "drop_last": False, "fail_rank": None,
            "fail_step": None, "checkpoint": None, "checkpoint_every": 3, "resume": False,
            "weighted": True, "zero": None, "groups": False, "optimizer": "Adam",
            "replace_data": False}
    base.update(changes)
    return base


def make_data(cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((cfg["n"], IN_FEATURES)) * 2 + 1
    w = rng.standard_normal((IN_FEATURES, OUT_FEATURES))
    y = np.tanh(x @ w) + 0.1 * rng.standard_normal((cfg["n"], OUT_FEATURES))
    return x.astype(cfg["dtype"]), y.astype(cfg["dtype"])


def build_model(cfg: dict, init_seed: int) -> nn.Module:
    ffnn.manual_seed(init_seed)
    norm = cfg["kind"] in ("bn", "syncbn")
    # no bias before a batch norm: its gradient is 0 up to rounding, which Adam would amplify
    layers = [nn.Linear(IN_FEATURES, HIDDEN, bias=not norm, dtype=cfg["dtype"])]
    if norm:
        layers.append(nn.BatchNorm1d(HIDDEN, dtype=cfg["dtype"]))
    layers += [nn.Tanh(), nn.Linear(HIDDEN, OUT_FEATURES, dtype=cfg["dtype"])]
    return nn.Sequential(*layers)


def make_optimizer(model: nn.Module, cfg: dict) -> optim.Optimizer:
    """``cfg["optimizer"]`` over one group, or two (weights with decay, the rest at LR/2);
    with ``cfg["zero"]``, sharded over the ranks by ZeroRedundancyOptimizer."""
    params = list(model.parameters())
    if cfg["groups"]:
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        rest = [p for p in params if all(p is not w for w in weights)]
        params = [{"params": weights, "weight_decay": 0.01}, {"params": rest, "lr": LR / 2}]
    optimizer_class = getattr(optim, cfg["optimizer"])
    if cfg["zero"]:
        import ffnn.distributed as dist

        return dist.ZeroRedundancyOptimizer(params, optimizer_class,
                                            shared_memory=cfg["zero"] == "shared", lr=LR)
    return optimizer_class(params, lr=LR)


def tail_kept(cfg: dict) -> bool:
    """The documented rule: a short last batch is kept when every rank gets a sample."""
    tail = cfg["n"] % cfg["batch_size"]
    return tail > 0 and not cfg["drop_last"] and tail >= cfg["ranks"]


def global_batches(cfg: dict, epoch: int) -> list[np.ndarray]:
    """What one process would take: the documented order, cut into batches of batch_size."""
    n, b = cfg["n"], cfg["batch_size"]
    order = np.random.default_rng([cfg["seed"], epoch]).permutation(n)
    used = (n // b) * b + (n % b if tail_kept(cfg) else 0)
    return [order[i:i + b] for i in range(0, used, b)]


def train_step(model, optimizer, x, y) -> float:
    """Loss (mean over rows), backward, clip the global norm, step. Returns the loss."""
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(ffnn.from_numpy(x)), ffnn.from_numpy(y))
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
    optimizer.step()
    return loss.item()


def reference_run(cfg: dict) -> tuple[dict, list[float]]:
    """One process, whole global batches: (final state_dict copies, per-epoch mean loss)."""
    x, y = make_data(cfg)
    model = build_model(cfg, cfg["init_seed"])
    optimizer = make_optimizer(model, dict(cfg, zero=None))
    losses = []
    for epoch in range(cfg["epochs"]):
        total = count = 0.0
        for idx in global_batches(cfg, epoch):
            total += train_step(model, optimizer, x[idx], y[idx]) * len(idx)
            count += len(idx)
        losses.append(total / count)
    return {k: np.array(v) for k, v in model.state_dict().items()}, losses


def save_checkpoint(path: str, model, optimizer, position: dict) -> None:
    """Model and optimizer arrays in safetensors, the rest as JSON metadata; atomic."""
    arrays = {f"model.{k}": np.ascontiguousarray(v) for k, v in model.state_dict().items()}
    state = optimizer.state_dict()
    plain = {"param_groups": state["param_groups"], "state": {}}
    for index, values in state["state"].items():
        plain["state"][str(index)] = {}
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                arrays[f"optim.{index}.{key}"] = np.ascontiguousarray(value)
            else:
                plain["state"][str(index)][key] = value
    metadata = {"optimizer": json.dumps(plain), "position": json.dumps(position)}
    atomic_write_bytes(path, safetensors.numpy.save(arrays, metadata=metadata))


def load_checkpoint(path: str, model, optimizer) -> dict:
    """Restore model and optimizer from ``save_checkpoint``; returns the saved position."""
    from safetensors import safe_open

    with safe_open(path, "np") as handle:
        metadata = handle.metadata()
        arrays = {key: handle.get_tensor(key) for key in handle.keys()}
    model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model.")})
    plain = json.loads(metadata["optimizer"])
    for key, value in arrays.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            plain["state"].setdefault(index, {})[name] = value
    optimizer.load_state_dict(plain)
    return json.loads(metadata["position"])


def read_rank_outputs(folder: str, ranks: int) -> list[tuple[dict, dict]]:
    """Each rank's (final weights, info) written by the worker."""
    outputs = []
    for r in range(ranks):
        path = os.path.join(folder, f"rank{r}.safetensors")
        from safetensors import safe_open

        with safe_open(path, "np") as handle:
            info = json.loads(handle.metadata()["info"])
            weights = {key: handle.get_tensor(key) for key in handle.keys()}
        outputs.append((weights, info))
    return outputs


def worker_argv(cfg: dict, out: str) -> list[str]:
    return [sys.executable, WORKER, json.dumps(cfg), out]


def launch(cfg: dict, out: str, timeout: float = 30.0):
    """mpiexec -n cfg['ranks'] the worker (one BLAS thread per rank); a hang fails by timeout."""
    from ffnn.distributed.launch import run_mpi

    return run_mpi(cfg["ranks"], worker_argv(cfg, out), timeout=timeout, cwd=ROOT)


def max_relative_error(weights: dict, reference: dict) -> float:
    """max over arrays of max|w - ref| / max(max|ref|, 1e-30)."""
    assert set(weights) == set(reference), (sorted(weights), sorted(reference))
    return max(float(np.max(np.abs(weights[k].astype(np.float64) - reference[k]))
                     / max(float(np.max(np.abs(reference[k]))), 1e-30)) for k in reference)
