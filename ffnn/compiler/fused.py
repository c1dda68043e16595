"""``mode="fused"``: the whole step of a small network as one numba call.

Everything the step writes lives in buffers allocated once per batch size (activations,
two gradient buffers, the transposed weights) or in the arrays the eager step would use:
each parameter's own ``_data``, a gradient array per parameter (left in ``p.grad``), and the
optimizer's state arrays, created by the optimizer's own ``_init_state`` and written in
place, so ``optimizer.state_dict()`` is right after fused steps. Python work per call: one
pass over the parameters for the update coefficients (they follow ``param_groups``, so
schedulers work) and the optimizer's ``step`` counters.

The update formulas are the optimizers' (SGD's and the fused Adam of ``ffnn.accel``, with the
coefficients in the parameter's dtype); products and transcendental functions are numba
loops and libm, not BLAS and NumPy, so results agree with the eager step to rounding.
"""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.compiler.capture import Link, LossSpec
from ffnn.ops import activations as _act_ops
from ffnn.ops import losses as _loss_ops
from ffnn.optim.adam import Adam
from ffnn.optim.adamw import AdamW
from ffnn.optim.sgd import SGD

_ACTIVATIONS = {_act_ops.Tanh: 1, _act_ops.ReLU: 2, _act_ops.Sigmoid: 3}
_LOSSES = {_loss_ops.MSELoss: 0, _loss_ops.CrossEntropyIndices: 1,
           _loss_ops.BCEWithLogitsLoss: 2}


def _chain(links: list[Link]):
    """(linear modules, activation codes) or a reason: Linear layers with a bias, each
    followed by at most one supported activation."""
    modules, codes = [], []
    for link in links:
        if link.kind == "linear":
            if link.module.bias is None:
                return None, "a Linear layer without bias"
            modules.append(link.module)
            codes.append(0)
        elif link.op in _ACTIVATIONS and modules and codes[-1] == 0:
            codes[-1] = _ACTIVATIONS[link.op]
        else:
            return None, f"the chain has {link.kind} where a Linear layer is expected"
    return (modules, codes), None


class FusedStep:
    """The fused step of one chain, loss and optimizer; ``build`` checks what it takes."""

    @classmethod
    def build(cls, links: list[Link], loss: LossSpec, optimizer):
        """(FusedStep, None) or (None, the reason it cannot be fused)."""
        if not accel.available:
            return None, "mode='fused' needs numba (pip install numba)"
        chain, reason = _chain(links)
        if reason is not None:
            return None, reason
        if loss.op not in _LOSSES or loss.options.get("label_smoothing", 0.0):
            return None, f"loss {loss.op.__name__} with these options is not fused"
        if type(optimizer) not in (SGD, Adam, AdamW):
            return None, f"optimizer {type(optimizer).__name__} is not fused"
        modules, codes = chain
        params = [p for m in modules for p in (m.weight, m.bias)]
        dtypes = {p._data.dtype for p in params}
        if len(dtypes) != 1 or dtypes.pop().char not in "fd":
            return None, "the parameters are not all float32 or all float64"
        groups = {}
        for group in optimizer.param_groups:
            for param in group["params"]:
                groups[id(param)] = group
        for param in params:
            if not param.requires_grad or id(param) not in groups:
                return None, "a parameter is frozen or not in the optimizer"
            if type(param._data) is not np.ndarray or not param._data.flags.c_contiguous:
                return None, "a parameter is not a C-contiguous NumPy array"
        if isinstance(optimizer, Adam) and len({groups[id(p)]["amsgrad"] for p in params}) > 1:
            return None, "parameter groups disagree on amsgrad"
        return cls(modules, codes, loss, optimizer, [groups[id(p)] for p in params]), None

    def __init__(self, modules, codes, loss: LossSpec, optimizer, groups):
        from ffnn.compiler import _fused_kernel

        self.kernel = _fused_kernel.step
        self.modules, self.codes = modules, np.array(codes, np.int64)
        self.weights = [m.weight for m in modules]
        self.biases = [m.bias for m in modules]
        self.params = self.weights + self.biases
        self.groups = groups
        self.optimizer = optimizer
        self.adam = isinstance(optimizer, Adam)
        self.loss_code = _LOSSES[loss.op]
        self.mean = loss.options["reduction"] == "mean"
        self.dtype = self.weights[0]._data.dtype
        self.in_features = modules[0].in_features
        self.hyper = np.zeros((len(self.params), 8), self.dtype)
        self.transposed = tuple(np.empty(w._data.T.shape, self.dtype) for w in self.weights)
        self.grads = [np.empty_like(p._data) for p in self.params]
        self.buffers: dict[int, tuple] = {}
        self.output = None
        empty = np.zeros(0, self.dtype)
        self._no_float, self._no_index = empty.reshape(0, 0), np.zeros(0, np.int64)

    def _buffers(self, n: int) -> tuple:
        """(activations, two gradient buffers) for a batch of ``n`` rows, made once."""
        found = self.buffers.get(n)
        if found is None:
            width = max(max(m.out_features, m.in_features) for m in self.modules)
            hs = tuple(np.empty((n, m.out_features), self.dtype) for m in self.modules)
            found = (hs, np.empty(n * width, self.dtype), np.empty(n * width, self.dtype))
            self.buffers[n] = found
        return found

    def _coefficients(self) -> tuple:
        """Fill ``hyper`` from the groups and return the state arrays (three tuples each for
        weights and biases), creating missing state as the optimizer would."""
        optimizer, hyper = self.optimizer, self.hyper
        states = []
        for i, (param, group) in enumerate(zip(self.params, self.groups)):
            state = optimizer.state[param]
            data = param._data
            if not state:
                state.update(optimizer._init_state(data, group))
            if self.adam:
                state["step"] += 1
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros_like(data)
                step, lr, decay = state["step"], group["lr"], group["weight_decay"]
                beta1, beta2 = group["betas"]
                decoupled = group["decoupled_weight_decay"]
                hyper[i] = (lr / (1 - beta1**step), (1 - beta2**step) ** 0.5, group["eps"],
                            beta1, beta2, 0.0 if decoupled else decay,
                            1 - (lr * decay if decoupled else 0.0),
                            -1 if group["maximize"] else 1)
                exp_avg_sq = state["exp_avg_sq"]
                states.append((state["exp_avg"], exp_avg_sq,
                               state.get("max_exp_avg_sq", exp_avg_sq)))
            else:
                momentum = group["momentum"]
                first = momentum != 0 and "momentum_buffer" not in state
                if first:
                    state["momentum_buffer"] = np.empty_like(data)
                hyper[i, :7] = (group["lr"], momentum, 1 - group["dampening"],
                                group["weight_decay"], group["nesterov"],
                                -1 if group["maximize"] else 1, first)
                buffer = state.get("momentum_buffer", data)
                states.append((buffer, buffer, buffer))
        layers = len(self.weights)
        return tuple(tuple(s[k] for s in states[part * layers:(part + 1) * layers])
                     for k in range(3) for part in range(2))

    def __call__(self, x, y, optimizer) -> tuple[float | None, str | None]:
        """(loss, None), or (None, a reason) when these arrays cannot take the fused path."""
        if x.dtype != self.dtype or x.ndim != 2:
            return None, f"the input is {x.dtype} of {x.ndim} dims, not 2-D {self.dtype}"
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        for param in self.params:
            data = param._data
            if data.dtype != self.dtype or not data.flags.c_contiguous:
                return None, "a parameter changed dtype or layout"
        n = x.shape[0]
        if self.loss_code == 1:
            y_float, y_index = self._no_float, y.astype(np.int64, copy=False)
        else:
            y_float, y_index = np.ascontiguousarray(y, self.dtype), self._no_index
            if y_float.ndim != 2:
                return None, "the target is not 2-D"
        hs, grad_a, grad_b = self._buffers(n)
        w1, b1, w2, b2, w3, b3 = self._coefficients()
        weights = tuple(p._data for p in self.weights)
        biases = tuple(p._data for p in self.biases)
        layers = len(weights)
        grads = self.grads
        optimizer.zero_grad()
        loss = self.kernel(x, y_float, y_index, weights, biases, self.codes, hs,
                           self.transposed, grad_a, grad_b, tuple(grads[:layers]),
                           tuple(grads[layers:]), self.loss_code, self.mean,
                           1 if self.adam else 0, self.hyper,
                           bool(self.adam and self.groups[0]["amsgrad"]),
                           w1, b1, w2, b2, w3, b3)
        for param, grad in zip(self.params, grads):
            param._grad = grad
        self.output = hs[-1]
        return float(loss), None
