"""Weight initialisation, in place, with torch's formulas. Randomness comes from ``generator``
(an ``ffnn.Generator``) or, by default, the global seed (``ffnn.manual_seed``).

fan_in / fan_out of a weight [out, in, *k] are in·k and out·k; gain(relu) = √2,
gain(leaky_relu, a) = √(2/(1+a²)), gain(tanh) = 5/3, gain(linear/sigmoid) = 1, gain(selu) = 3/4.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ffnn import autograd, torch_stream


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch's table, see the module docstring)."""
    linear = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear:
        return 1  # an int, as torch's
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is not None and (isinstance(param, bool)
                                  or not isinstance(param, (int, float))):
            raise ValueError(f"negative_slope {param} not a valid number")
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity. Received: {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(
            "fan in and fan out need a tensor with at least 2 dimensions. Received: shape "
            f"{tuple(shape)}"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    """fan_in or fan_out of ``tensor`` by ``mode`` (torch's private helper, which
    initialisation code of others calls)."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out'. Received: mode={mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    tensor._data[...] = values.astype(tensor._data.dtype, copy=False)
    return tensor


def _floating(tensor, kernel: str):
    """torch's NotImplementedError for random floats drawn into an integer or bool tensor
    (their cast would truncate N(0, σ²) draws to zeros)."""
    if tensor._data.dtype.kind != "f":
        from ffnn.tensor_inplace import _torch_name

        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_torch_name(tensor._data.dtype)}'")


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with U(a, b)."""
    _floating(tensor, "check_uniform_bounds")
    return _fill(tensor, torch_stream.uniform(generator, tensor.shape, tensor._data.dtype, a, b))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with N(mean, std²)."""
    _floating(tensor, "normal_kernel_cpu")
    return _fill(tensor, torch_stream.normal(generator, tensor.shape, tensor._data.dtype, mean,
                                             std))


def constant_(tensor, val: float):
    tensor._data[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    if tensor.ndim != 2:
        raise ValueError(f"eye_ needs a 2-D tensor. Received: shape {tuple(tensor.shape)}")
    tensor._data[...] = np.eye(*tensor.shape, dtype=tensor._data.dtype)
    return tensor


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(-b, b) with b = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, σ²) with σ = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """U(-b, b) with b = gain · √(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """N(0, σ²) with σ = gain / √fan."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    """N(mean, std²) truncated to [a, b], drawn as torch draws it: where the interval holds
    more than 30% of the mass, normals redrawn where outside; else uniform candidates on
    [a, b] accepted with probability pdf(x)/pdf(mode) (log u < log-density), redrawn until
    all are."""
    _floating(tensor, "normal_kernel_cpu")

    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    with autograd.no_grad():
        if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
            return _redrawn_normals(tensor, mean, std, a, b, generator)
        return _accepted_uniforms(tensor, mean, std, a, b, generator)


def _redrawn_normals(tensor, mean: float, std: float, a: float, b: float, generator):
    """trunc_normal_ by rejection: normals, those outside [a, b] (as the dtype holds them)
    drawn again, a whole tensor of fresh normals at a time."""
    low, high = (float(tensor._data.dtype.type(v)) for v in (a, b))
    result = tensor.normal_(mean, std, generator=generator)
    while True:
        outside = (result < low) | (result > high)
        if not outside.any():
            break
        fresh = type(tensor)._of(np.empty_like(tensor._data))
        fresh.normal_(mean, std, generator=generator)
        result = _where(outside, fresh, result)
    if result is not tensor:
        tensor.copy_(result)
    return tensor


def _accepted_uniforms(tensor, mean: float, std: float, a: float, b: float, generator):
    """trunc_normal_ of a narrow interval: uniform candidates accepted where log u is at
    most their log-density over the mode's, the others drawn again (torch's order)."""
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def log_density(x):
        return x.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)

    make = type(tensor)._of
    candidates, accept = make(np.empty_like(tensor._data)), make(np.empty_like(tensor._data))
    tensor.uniform_(a, b, generator=generator)
    candidates.copy_(tensor)
    pending = accept.uniform_(generator=generator).log_().gt(log_density(candidates))
    result = tensor
    while pending.any():
        candidates.uniform_(a, b, generator=generator)
        result = _where(pending, candidates, result)
        log_density(candidates)
        pending = _where(pending, accept.uniform_(generator=generator).log_().gt(candidates),
                         pending)
    if result is not tensor:
        tensor.copy_(result)
    return tensor


def _where(condition, x, y):
    from ffnn.functions import where

    return where(condition, x, y)


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """A (semi-)orthogonal matrix, times ``gain``: Q of the QR decomposition of a standard
    normal [rows, cols] matrix (rows = dim 0, cols = the rest), with R's diagonal made
    positive; the transpose's Q when rows < cols."""
    _floating(tensor, "normal_kernel_cpu")
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported. "
                         f"Received: shape {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows if rows else 0
    flat = torch_stream.normal(generator, (rows, cols), tensor._data.dtype).astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def _deprecated(new):
    """torch's old name (``xavier_uniform``) of an init function: warns, then calls ``new``."""
    old = new.__name__[:-1]

    def old_form(*args, **kwargs):
        import warnings

        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    old_form.__name__ = old_form.__qualname__ = old
    old_form.__doc__ = f"Deprecated spelling of ``{new.__name__}``."
    return old_form


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)


from ffnn.nn.init_more import sparse, sparse_  # noqa: E402,F401 - torch's names
