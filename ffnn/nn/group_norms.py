"""Group and instance normalisation, with torch's functional forms (``group_norm``,
``instance_norm``).

GroupNorm: the C channels of x [N, C, *] split into G groups of C/G; each sample's group is
normalised over its channels and positions, y = (x − μ)/√(σ² + ε) (σ² biased), then
y·γ_c + β_c per channel. InstanceNorm1d is the case of one channel per group on [N, C, L]
(or an unbatched [C, L]): each (sample, channel) over its L positions, with optional running
statistics (the mean over the batch of each instance's mean and unbiased variance, blended
with ``momentum``) used in eval mode. Both normalise through ``layer_norm`` on a view whose
last axis holds a group (its op's derivative), the affine map as broadcast tensor ops.
"""

from __future__ import annotations

import numpy as np

from ffnn import dtypes
from ffnn.nn import functional as F
from ffnn.nn.module import Module
from ffnn.nn.normalization import _NormBase, register_norm_state, reset_affine
from ffnn.tensor import Tensor


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """A [C] tensor as [1, C, 1, …] for an input of ``ndim`` axes."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    if weight is not None:
        y = y * _per_channel(weight, y.ndim)
    if bias is not None:
        y = y + _per_channel(bias, y.ndim)
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Each sample's groups of C/G channels normalised over their channels and positions,
    then the per-channel affine map (the module docstring)."""
    if input.ndim < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, channels = input.shape[0], input.shape[1]
    if channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    grouped = input.reshape(n, num_groups, -1)
    normed = F.layer_norm(grouped, (grouped.shape[-1],), eps=eps).reshape(input.shape)
    return _affine(normed, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Each (sample, channel) of x [N, C, *] normalised over its positions (use_input_stats),
    the running statistics updated in place when given; else normalised with them."""
    if input.ndim < 3 and use_input_stats or input.ndim < 2:
        raise ValueError(f"instance_norm: expected input of shape [N, C, L, …]. Received: "
                         f"shape {list(input.shape)}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False normalises with the running "
                             "statistics: pass running_mean and running_var")
        mean, var = _per_channel(running_mean, input.ndim), _per_channel(running_var, input.ndim)
        return _affine((input - mean) / (var + eps).sqrt(), weight, bias)
    positions = int(np.prod(input.shape[2:]))
    if positions <= 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    rows = input.reshape(input.shape[0], input.shape[1], positions)
    if running_mean is not None or running_var is not None:
        _update_running(rows.detach().numpy(), running_mean, running_var, momentum)
    normed = F.layer_norm(rows, (positions,), eps=eps).reshape(input.shape)
    return _affine(normed, weight, bias)


def _update_running(rows: np.ndarray, running_mean, running_var, momentum: float) -> None:
    """running ← (1 − momentum)·running + momentum·(the batch's mean of each instance's
    mean, or of its unbiased variance), in place (torch's ``instance_norm``)."""
    for running, statistic in ((running_mean, rows.mean(-1)), (running_var, rows.var(-1, ddof=1))):
        if running is not None:
            data = running._data if isinstance(running, Tensor) else running
            data[...] = (1 - momentum) * data + momentum * statistic.mean(0)


class GroupNorm(Module):
    """``group_norm`` with a learned per-channel γ (ones) and, unless ``bias=False``, β
    (zeros) when ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups, num_channels, eps, affine)
        register_norm_state(self, num_channels, dtypes.to_dtype(dtype), affine, False, bias)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_NormBase):
    """The instance norms' base (torch's name, for ``isinstance`` checks)."""


class InstanceNorm1d(_InstanceNorm):
    """``instance_norm`` on [N, C, L] or an unbatched [C, L]: γ and (unless ``bias=False``)
    β per channel when ``affine`` (default off), running statistics when
    ``track_running_stats`` (default off; then used in eval mode, as torch's)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        register_norm_state(self, num_features, dtypes.to_dtype(dtype), affine,
                            track_running_stats, bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
        unbatched = input.ndim == 2
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(f"expected input's size at dim={input.ndim - 2} to match "
                             f"num_features ({self.num_features}), but got: {x.shape[1]}.")
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")
