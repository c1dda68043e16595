"""Synchronised batch norm: batch statistics over the global batch, across all ranks.

By default each rank's ``BatchNorm1d`` normalises with its own shard's statistics (no
communication; running statistics then differ between ranks and rank 0's are saved).
``convert_sync_batchnorm(model)`` swaps every ``BatchNorm1d`` for ``SyncBatchNorm1d``, whose
training forward and backward use sums over all ranks, so R ranks compute exactly what one
process computes on the whole batch.
"""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.distributed._mpi import comm, mpi
from ffnn.nn.module import Module
from ffnn.nn.normalization import BatchNorm1d
from ffnn.tensor import Tensor


def _sum_over_ranks(array: np.ndarray) -> np.ndarray:
    """Σ over ranks of a float64 vector (in place; a no-op on one rank)."""
    world = comm()
    if world.Get_size() > 1:
        world.Allreduce(mpi().IN_PLACE, array, op=mpi().SUM)
    return array


class SyncBatchNorm(Op):
    """Batch norm with global statistics: with M values per channel over all ranks,
    μ = Σx/M,  σ² = Σ(x-μ)²/M,  x̂ = (x-μ)/√(σ²+ε),  y = γ x̂ + β;
    dL/dx = γ/(M√(σ²+ε)) · (M g - Σg - x̂ Σ(g x̂)), with Σ over all ranks; dL/dγ, dL/dβ are the
    local sums Σ g x̂, Σ g (allreduce_gradients combines them like any gradient).

    Ranks weight their loss by their rows n_r (a mean over their own rows, combined with
    weight=n_r), so the global sums in dL/dx are taken as (1/n_r) Σ_r' n_r' Σ_local: exact for
    shards of any sizes, and the plain sums for equal shards."""

    def forward(self, x, weight=None, bias=None, eps=1e-5, running_mean=None, running_var=None,
                momentum=0.1):
        m = xp(x)
        axes = (0,) if x.ndim == 2 else (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        channels = x.shape[1]
        local_count = x.size // channels
        sums = np.empty(channels + 1)
        sums[:channels] = x.sum(axis=axes, dtype=np.float64)
        sums[channels] = local_count
        _sum_over_ranks(sums)
        count = int(sums[channels])
        mean = (sums[:channels] / count).astype(x.dtype).reshape(shape)
        centered = x - mean
        squares = (centered * centered).sum(axis=axes, dtype=np.float64)
        var = (_sum_over_ranks(squares) / count).astype(x.dtype)
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all "
                             f"ranks when training. Received: {count}")
        rstd = (1 / m.sqrt(var + eps)).reshape(shape)
        x_hat = centered * rstd
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += (momentum * count / (count - 1)) * var
        self.axes, self.x_hat, self.rstd, self.weight = axes, x_hat, rstd, weight
        self.shape, self.count, self.rows = shape, count, x.shape[0]
        y = x_hat * weight.reshape(shape) if weight is not None else x_hat
        return (y + bias.reshape(shape) if bias is not None else y).astype(x.dtype, copy=False)

    def backward(self, grad):
        x_hat, axes, channels = self.x_hat, self.axes, self.x_hat.shape[1]
        sum_g = grad.sum(axis=axes)
        sum_gx = (grad * x_hat).sum(axis=axes)
        grad_x = None
        if self.needs_input_grad[0]:
            sums = np.empty(2 * channels)
            sums[:channels], sums[channels:] = sum_g, sum_gx
            sums *= self.rows
            _sum_over_ranks(sums)
            sums /= self.rows
            global_g = sums[:channels].astype(grad.dtype).reshape(self.shape)
            global_gx = sums[channels:].astype(grad.dtype).reshape(self.shape)
            gamma = self.weight.reshape(self.shape) if self.weight is not None else 1
            grad_x = (gamma * self.rstd / self.count) * (
                self.count * grad - global_g - x_hat * global_gx)
        grad_w = sum_gx if self.needs_input_grad[1] else None
        grad_b = sum_g if self.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class SyncBatchNorm1d(BatchNorm1d):
    """``BatchNorm1d`` whose training statistics span the global batch on all ranks (same
    arguments, parameters and buffers); eval uses the running statistics, as BatchNorm1d.
    Every rank must call it the same number of times (each call is a collective)."""

    def forward(self, input: Tensor) -> Tensor:
        if not (self.training or not self.track_running_stats):
            return super().forward(input)
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm1d(num_features={self.num_features}) expects input of shape "
                f"[N, {self.num_features}] or [N, {self.num_features}, L]. Received: shape "
                f"{tuple(input.shape)}")
        factor = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        track = self.training and self.track_running_stats
        return SyncBatchNorm.apply(
            input, self.weight, self.bias, eps=self.eps,
            running_mean=self.running_mean if track else None,
            running_var=self.running_var if track else None, momentum=factor)


def convert_sync_batchnorm(model: Module) -> Module:
    """Replace every ``BatchNorm1d`` in ``model`` by a ``SyncBatchNorm1d`` that shares its
    parameters and buffers (so optimizers and state_dict keys are unchanged). Returns the
    model (a new module when ``model`` itself is a BatchNorm1d)."""
    if not isinstance(model, Module):
        raise TypeError(f"convert_sync_batchnorm: expected an ffnn.nn.Module. Received: "
                        f"{type(model).__name__}")
    if isinstance(model, BatchNorm1d) and not isinstance(model, SyncBatchNorm1d):
        return _synced(model)
    for module in list(model.modules()):
        for name, child in list(module._modules.items()):
            if isinstance(child, BatchNorm1d) and not isinstance(child, SyncBatchNorm1d):
                module._modules[name] = _synced(child)
    return model


def _synced(bn: BatchNorm1d) -> SyncBatchNorm1d:
    sync = SyncBatchNorm1d(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                           track_running_stats=bn.track_running_stats)
    for name, param in bn._parameters.items():
        sync._parameters[name] = param
    for name, buffer in bn._buffers.items():
        sync._buffers[name] = buffer
    sync.training = bn.training
    return sync
