"""Normalisation layers' ops: batch norm (batch statistics in training, running statistics
in eval mode), layer norm, RMS norm.

Each is fused: the backward reuses x̂ and 1/σ from the forward instead of differentiating
through mean and variance op by op. Batch and layer norm run their compiled kernels
(``ffnn.accel``) at any size: NumPy's reference takes ten passes, each a call (~45 µs on a
[16, 50] batch, the kernel ~4 µs).
"""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.elementwise import constant_like


class BatchNorm(Op):
    """Batch statistics over every axis but the channel axis 1 (input [N, C] or [N, C, L]):
    x̂ = (x - μ_B) / √(σ²_B + ε),  y = γ x̂ + β;
    dL/dx = γ/(m√(σ²_B+ε)) · (m·g - Σg - x̂ Σ(g x̂)),  dL/dγ = Σ g x̂,  dL/dβ = Σ g
    (m = number of values per channel). The forward also returns the batch mean and biased
    variance, and updates ``running_mean``/``running_var`` in place when given:
    r ← (1 - momentum) r + momentum · batch statistic (unbiased variance, as torch)."""

    def forward(self, x, weight=None, bias=None, eps=1e-5, running_mean=None, running_var=None,
                momentum=0.1):
        count = x.size // x.shape[1]
        self.compiled = x.ndim == 2 and accel.usable(
            x, *[a for a in (weight, bias) if a is not None], min_size=1)
        if self.compiled:  # [N, C]: one compiled pass per statistic (ffnn.accel), float64
            y, self.x_hat, mean, var, self.rstd = accel.batch_norm_forward(x, weight, bias, eps)
            self.weight = weight
        else:
            axes = (0,) if x.ndim == 2 else (0,) + tuple(range(2, x.ndim))
            shape = (1, -1) + (1,) * (x.ndim - 2)
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            rstd = 1 / xp(x).sqrt(var + eps)
            x_hat = centered * rstd
            self.axes, self.shape, self.x_hat, self.rstd, self.weight = (axes, shape, x_hat,
                                                                         rstd, weight)
            y = x_hat * weight.reshape(shape) if weight is not None else x_hat
            y = _apart((y + bias.reshape(shape) if bias is not None else y)
                       .astype(x.dtype, copy=False), x_hat)
        self.count = count
        update_running(running_mean, running_var, mean.reshape(-1), var.reshape(-1), momentum,
                       count)
        return y

    def backward(self, grad):
        if self.compiled:
            grad = accel.dense(grad, self.x_hat.shape, self.x_hat.dtype)
            grad_x, grad_w, grad_b = accel.batch_norm_backward(
                grad, self.x_hat, self.rstd, self.weight, self.needs_input_grad[0])
        else:
            x_hat, axes = self.x_hat, self.axes
            gamma = self.weight.reshape(self.shape) if self.weight is not None else 1
            sum_g = grad.sum(axis=axes, keepdims=True)
            sum_gx = (grad * x_hat).sum(axis=axes, keepdims=True)
            grad_x = None
            if self.needs_input_grad[0]:
                grad_x = (gamma * self.rstd / self.count) * (self.count * grad - sum_g
                                                             - x_hat * sum_gx)
            grad_w, grad_b = sum_gx.reshape(-1), sum_g.reshape(-1)
        return (grad_x, grad_w if self.needs_input_grad[1] else None,
                grad_b if self.needs_input_grad[2] else None)

    def backward_graph(self, grad, x, weight=None, bias=None):
        """The backward's formula on tensors, the batch's x̂ and 1/σ computed again from x."""
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        centered = x - x.mean(dim=axes, keepdim=True)
        rstd = ((centered * centered).mean(dim=axes, keepdim=True)
                + self.options.get("eps", 1e-5)) ** -0.5
        x_hat = centered * rstd
        g_hat = grad * weight.reshape(shape) if weight is not None else grad
        grad_x = rstd * (g_hat - g_hat.mean(dim=axes, keepdim=True)
                         - x_hat * (g_hat * x_hat).mean(dim=axes, keepdim=True))
        return (grad_x, (grad * x_hat).sum(dim=axes) if weight is not None else None,
                grad.sum(dim=axes) if bias is not None else None)


class RunningBatchNorm(Op):
    """Batch norm in eval mode: the running statistics are constants, so per channel (axis
    1) y = a x + c with a = γ/√(σ²_run + ε) and c = β - μ_run a (torch's CPU kernel's form,
    in the parameters' dtype): one product and one sum a value instead of a pass per tensor
    op ([4096, 400] float32: 2.9 ms as four ops, 1.0 as this one).
    dL/dx = a g,  dL/dγ = Σ g (x - μ_run)/√(σ²_run + ε),  dL/dβ = Σ g."""

    def forward(self, x, weight, bias, running_mean, running_var, eps=1e-5):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        rstd = 1 / xp(x).sqrt(running_var + running_var.dtype.type(eps))
        scale = rstd if weight is None else rstd * weight
        shift = -running_mean * scale if bias is None else bias - running_mean * scale
        a, c = scale.reshape(shape), shift.reshape(shape)
        y = x * a
        y += c
        self.a = a
        if self.needs_input_grad[1]:
            self.x, self.mean, self.rstd = x, running_mean.reshape(shape), rstd.reshape(shape)
        return y.astype(x.dtype, copy=False)

    def backward(self, grad):
        axes = (0,) + tuple(range(2, grad.ndim))
        needs = self.needs_input_grad
        grad_x = grad * self.a if needs[0] else None
        grad_w = ((grad * ((self.x - self.mean) * self.rstd)).sum(axis=axes)
                  if needs[1] else None)
        grad_b = grad.sum(axis=axes) if needs[2] else None
        return grad_x, grad_w, grad_b

    def backward_graph(self, grad, x, weight=None, bias=None):
        axes = (0,) + tuple(range(2, grad.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        options = self.options
        rstd = 1 / np.sqrt(options["running_var"] + options.get("eps", 1e-5))
        rstd = constant_like(x, rstd.reshape(shape))
        scale = rstd if weight is None else rstd * weight.reshape(shape)
        grad_w = None
        if weight is not None:
            mean = constant_like(x, options["running_mean"].reshape(shape))
            grad_w = (grad * ((x - mean) * rstd)).sum(dim=axes)
        return (grad * scale, grad_w, grad.sum(dim=axes) if bias is not None else None)


def _apart(y, x_hat):
    """``y``, or a copy where it is the saved x̂ itself (a norm without γ and β): a layer
    after it may write into its output in place (``ReLU(inplace=True)``), as after torch's
    norms, which keep x̂ apart."""
    return y.copy() if y is x_hat else y


def update_running(running_mean, running_var, mean, var, momentum: float, count: int) -> None:
    """r ← (1 - momentum) r + momentum · statistic, in place, for each running statistic
    given (the variance unbiased: var · count/(count - 1), as torch). With the compiled
    kernels and float64 batch statistics (the compiled forward's), one call per statistic,
    rounded as NumPy's two in-place steps (four NumPy calls cost ~6 µs on a small layer); the
    two in one call where both are there."""
    if running_mean is not None and running_var is not None and \
            mean.dtype == var.dtype == np.float64 and \
            accel.usable(running_mean, running_var, min_size=1):
        accel.update_running_pair(running_mean, mean, running_var, var,
                                  running_mean.dtype.type(1 - momentum), momentum,
                                  momentum * count / (count - 1))
        return
    if running_mean is not None:
        _update(running_mean, mean, momentum, momentum)
    if running_var is not None:
        _update(running_var, var, momentum, momentum * count / (count - 1))


def _update(running, batch, momentum: float, factor: float) -> None:
    """running ← (1 - momentum) running + factor · batch, in place."""
    if batch.dtype == np.float64 and accel.usable(running, min_size=1):
        keep = running.dtype.type(1 - momentum)  # the weak Python float NumPy casts
        accel.update_running(running, batch, keep, factor)
    else:
        running *= 1 - momentum
        running += factor * batch


class LayerNorm(Op):
    """Normalise over the last k axes (``normalized_shape``):
    x̂ = (x - μ)/√(σ² + ε),  y = x̂ γ + β;
    dL/dx = (1/σ̃)(ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = g γ,  dL/dγ = Σ g x̂,  dL/dβ = Σ g."""

    def forward(self, x, weight=None, bias=None, normalized_ndim=1, eps=1e-5):
        self.compiled = normalized_ndim == 1 and x.ndim > 1 and accel.usable(
            x, *[a for a in (weight, bias) if a is not None], min_size=1)
        if self.compiled:  # one compiled pass per row (ffnn.accel), float64 statistics
            x2 = x.reshape(-1, x.shape[-1])
            y, self.x_hat, self.rstd = accel.layer_norm_forward(x2, weight, bias, eps)
            self.weight, self.shape = weight, x.shape
            return y.reshape(x.shape)
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        self.rstd = 1 / xp(x).sqrt(var + eps)
        self.x_hat = centered * self.rstd
        self.axes, self.weight = axes, weight
        y = self.x_hat * weight if weight is not None else self.x_hat
        return _apart((y + bias if bias is not None else y).astype(x.dtype, copy=False),
                      self.x_hat)

    def backward(self, grad):
        if self.compiled:
            return self._compiled_backward(grad)
        x_hat, axes = self.x_hat, self.axes
        batch_axes = tuple(range(grad.ndim - len(axes)))
        g_hat = grad * self.weight if self.weight is not None else grad
        grad_x = None
        if self.needs_input_grad[0]:
            grad_x = self.rstd * (
                g_hat
                - g_hat.mean(axis=axes, keepdims=True)
                - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True)
            )
        grad_w = (grad * x_hat).sum(axis=batch_axes) if self.needs_input_grad[1] else None
        grad_b = grad.sum(axis=batch_axes) if self.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b

    def _compiled_backward(self, grad):
        """The backward of the compiled forward: the same formulas, one pass per row."""
        x_hat = self.x_hat
        g2 = accel.dense(grad, self.shape, x_hat.dtype).reshape(x_hat.shape)
        need_x, need_w, need_b = self.needs_input_grad
        grad_x, grad_w, grad_b = accel.layer_norm_backward(g2, x_hat, self.rstd, self.weight,
                                                           need_x)
        return (grad_x.reshape(self.shape) if need_x else None, grad_w if need_w else None,
                grad_b if need_b else None)

    def backward_graph(self, grad, x, weight=None, bias=None):
        """The backward's formula on tensors, x̂ and 1/σ̃ computed again from x."""
        axes = tuple(range(x.ndim - self.options.get("normalized_ndim", 1), x.ndim))
        centered = x - x.mean(dim=axes, keepdim=True)
        rstd = ((centered * centered).mean(dim=axes, keepdim=True)
                + self.options.get("eps", 1e-5)) ** -0.5
        x_hat = centered * rstd
        batch = tuple(range(grad.ndim - len(axes)))
        g_hat = grad * weight if weight is not None else grad
        grad_x = rstd * (g_hat - g_hat.mean(dim=axes, keepdim=True)
                         - x_hat * (g_hat * x_hat).mean(dim=axes, keepdim=True))
        return (grad_x, (grad * x_hat).sum(dim=batch) if weight is not None else None,
                grad.sum(dim=batch) if bias is not None else None)


class RMSNorm(Op):
    """x̂ = x / √(mean(x²) + ε),  y = x̂ γ;
    dL/dx = (1/rms)(ĝ - x̂ mean(ĝ x̂)) with ĝ = g γ,  dL/dγ = Σ g x̂."""

    def forward(self, x, weight=None, normalized_ndim=1, eps=None):
        m = xp(x)
        if eps is None:
            eps = float(m.finfo(x.dtype).eps)
        axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        self.rrms = 1 / m.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
        self.x_hat = x * self.rrms
        self.axes, self.weight = axes, weight
        y = self.x_hat * weight if weight is not None else self.x_hat
        return _apart(y.astype(x.dtype, copy=False), self.x_hat)

    def backward(self, grad):
        x_hat, axes = self.x_hat, self.axes
        batch_axes = tuple(range(grad.ndim - len(axes)))
        g_hat = grad * self.weight if self.weight is not None else grad
        grad_x = None
        if self.needs_input_grad[0]:
            grad_x = self.rrms * (g_hat - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))
        grad_w = (grad * x_hat).sum(axis=batch_axes) if self.needs_input_grad[1] else None
        return grad_x, grad_w

    def backward_graph(self, grad, x, weight=None):
        axes = tuple(range(x.ndim - self.options.get("normalized_ndim", 1), x.ndim))
        eps = self.options.get("eps")
        eps = float(np.finfo(x.dtype).eps) if eps is None else eps
        rrms = ((x * x).mean(dim=axes, keepdim=True) + eps) ** -0.5
        x_hat = x * rrms
        g_hat = grad * weight if weight is not None else grad
        grad_x = rrms * (g_hat - x_hat * (g_hat * x_hat).mean(dim=axes, keepdim=True))
        batch = tuple(range(grad.ndim - len(axes)))
        return grad_x, (grad * x_hat).sum(dim=batch) if weight is not None else None
