"""ONNX nodes (opset 17) for each ffnn op, for the op-level export (``onnx_trace``).

``CONVERTERS[op class](call) -> value name`` writes the nodes of one recorded op on the
``_Graph`` of ``ffnn.interop.onnx``. An activation's nodes are those its layer declares (the
``onnx`` trait beside the layer), read with the op's options standing in for the layer's
attributes (``LeakyReLU`` op, negative_slope=0.2 → ``nn.LeakyReLU``'s converter with
``m.negative_slope = 0.2``): each ONNX form is written once. A converter that cannot express
its op's options raises ``UnsupportedOp`` with the reason. Comparisons and in-place writes,
which ffnn computes outside its ops, come as ``Compared`` and ``Assigned`` records
(``onnx_trace`` notes them while exporting).

Shapes: a reshape copies the leading dimensions it keeps (ONNX's 0) and infers one (-1), and
an expansion broadcasts, so that a graph made with one batch size serves others; the
exporter checks this by converting a second forward (``onnx_trace``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ffnn import nn
from ffnn.nn import traits
from ffnn.nn.activation import SELU_ALPHA, SELU_SCALE
from ffnn.ops import (
    activations,
    activations_more,
    dropout,
    einsum_op,
    elementwise,
    elementwise_more,
    error_function,
    matrix,
    norms,
    reductions,
    shape,
    shrinks,
)
from ffnn.ops.embedding import Embedding

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class UnsupportedOp(TypeError):
    """An op whose options (or inputs) have no ONNX form here; the message says which."""


@dataclass
class Call:
    """One recorded op being converted: its input value names ('' for an absent input), the
    input tensors, its options and output tensor, a name hint for its nodes, and ``array``,
    which names an array option (a known value's data, a buffer, else a new constant)."""

    g: object
    names: list
    inputs: tuple
    options: dict
    out: object
    hint: str
    array: Callable[[np.ndarray], str]

    @property
    def x(self) -> str:
        return self.names[0]

    def node(self, op_type: str, inputs: list, **attributes) -> str:
        return self.g.node(op_type, inputs, self.hint, **attributes)

    def ints(self, values) -> str:
        """An int64 constant (shapes, axes, indices; a number 0-d)."""
        return self.array(np.asarray(values, dtype=np.int64))

    def scalar(self, value) -> str:
        """A 0-d constant in the output's dtype."""
        return self.array(np.asarray(value, dtype=self.out._data.dtype))

    def ndim(self, index: int = 0) -> int:
        return self.inputs[index]._data.ndim


def _one(op_type: str) -> Callable[[Call], str]:
    """One node of ``op_type`` on the op's inputs, in order."""
    return lambda c: c.node(op_type, list(c.names))


def _as_layer(layer: type) -> Callable[[Call], str]:
    """The converter ``layer`` declares, its attributes read from the op's options."""
    def convert(c: Call) -> str:
        return traits.of(layer).onnx(c.g, SimpleNamespace(**c.options), c.x, c.hint)
    return convert


# ----- arithmetic, activations -------------------------------------------------------------
def _pow_scalar(c: Call) -> str:
    return c.node("Pow", [c.x, c.scalar(c.options["exponent"])])


def _clamp(c: Call) -> str:
    """min(max(x, lo), hi): Clip with scalar bounds, Max / Min with tensors of bounds."""
    lo, hi = c.options.get("lo"), c.options.get("hi")
    if all(np.ndim(b) == 0 for b in (lo, hi) if b is not None):
        return c.node("Clip", [c.x, "" if lo is None else c.scalar(lo),
                               "" if hi is None else c.scalar(hi)])
    y = c.x
    for bound, op_type in ((lo, "Max"), (hi, "Min")):
        if bound is not None:
            y = c.node(op_type, [y, c.array(np.asarray(bound, c.out._data.dtype))])
    return y


def _cast(c: Call) -> str:
    to = c.g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(c.options["dtype"]))
    return c.node("Cast", [c.x], to=to)


def _where(c: Call) -> str:
    condition = np.asarray(c.options["condition"], dtype=bool) if np.ndim(
        c.options["condition"]) == 0 else c.options["condition"]
    return c.node("Where", [c.array(condition), c.names[0], c.names[1]])


def _elu(c: Call) -> str:
    """scale·ELU_α(x): Elu, Selu for SELU's constants, else Elu then Mul."""
    alpha, scale = float(c.options.get("alpha", 1.0)), float(c.options.get("scale", 1.0))
    if scale == 1.0:
        return c.node("Elu", [c.x], alpha=alpha)
    if (alpha, scale) == (SELU_ALPHA, SELU_SCALE):
        return c.node("Selu", [c.x], alpha=alpha, gamma=scale)
    return c.node("Mul", [c.node("Elu", [c.x], alpha=alpha), c.scalar(scale)])


def _prelu(c: Call) -> str:
    """The slopes on axis 1 (the channels): reshaped to [C, 1, …] for a rank > 2 input, as
    ONNX's PRelu broadcasts them from the right."""
    slope, count = c.names[1], c.inputs[1]._data.size
    if c.ndim() > 2 and count > 1:
        slope = c.node("Reshape", [slope, c.ints([count] + [1] * (c.ndim() - 2))])
    return c.node("PRelu", [c.x, slope])


def _dropout(c: Call) -> str:
    if c.options.get("p", 0.5) == 0:
        return c.node("Identity", [c.x])
    raise UnsupportedOp("with p > 0 in eval mode (F.dropout(x, p, training=True) draws masks "
                        "at inference; pass training=self.training)")


ACTIVATION_LAYERS = {
    activations.ReLU: nn.ReLU, activations.LeakyReLU: nn.LeakyReLU,
    activations.Sigmoid: nn.Sigmoid, activations.Tanh: nn.Tanh, activations.GELU: nn.GELU,
    activations.SiLU: nn.SiLU, activations.Softmax: nn.Softmax,
    activations.LogSoftmax: nn.LogSoftmax, activations.Softplus: nn.Softplus,
    activations_more.Hardtanh: nn.Hardtanh, activations_more.Hardsigmoid: nn.Hardsigmoid,
    activations_more.Hardswish: nn.Hardswish, activations_more.Mish: nn.Mish,
    activations_more.LogSigmoid: nn.LogSigmoid, activations_more.Softsign: nn.Softsign,
    activations_more.Tanhshrink: nn.Tanhshrink, activations_more.CELU: nn.CELU,
    activations_more.GLU: nn.GLU, shrinks.Threshold: nn.Threshold,
    shrinks.Hardshrink: nn.Hardshrink, shrinks.Softshrink: nn.Softshrink,
}
"""The activation ops and the layer whose declared ONNX converter writes each (the op's
options are that layer's attribute names)."""


# ----- matrices, norms, lookups ------------------------------------------------------------
def _linear(c: Call) -> str:
    """y = x Wᵀ + b: Gemm (transB) on a 2-D x, else MatMul with Wᵀ then Add."""
    x, weight, bias = c.names
    if c.ndim() == 2:
        return c.node("Gemm", [x, weight] + ([bias] if bias else []), transB=1)
    y = c.node("MatMul", [x, c.node("Transpose", [weight], perm=[1, 0])])
    return c.node("Add", [y, bias]) if bias else y


def _ones_if_absent(c: Call, index: int, shape) -> str:
    return c.names[index] or c.g.const(np.ones(shape), f"{c.hint}_ones",
                                       dtype=c.out._data.dtype)


def _layer_norm(c: Call) -> str:
    k = c.options.get("normalized_ndim", 1)
    scale = _ones_if_absent(c, 1, c.out._data.shape[-k:])
    bias = [c.names[2]] if len(c.names) > 2 and c.names[2] else []
    return c.node("LayerNormalization", [c.x, scale] + bias, axis=-k,
                  epsilon=float(c.options.get("eps", 1e-5)))


def _rms_norm(c: Call) -> str:
    """RMSNorm's declared nodes without the weight, then times the weight (a parameter)."""
    k = c.options.get("normalized_ndim", 1)
    layer = SimpleNamespace(normalized_shape=c.out._data.shape[-k:], weight=None,
                            eps=c.options.get("eps"))
    y = traits.of(nn.RMSNorm).onnx(c.g, layer, c.x, c.hint)
    return c.node("Mul", [y, c.names[1]]) if len(c.names) > 1 and c.names[1] else y


def _running_batch_norm(c: Call) -> str:
    """Eval batch norm over axis 1: γ (x - running_mean)/√(running_var + ε) + β."""
    channels = c.inputs[0]._data.shape[1]
    bias = c.names[2] or c.g.const(np.zeros(channels), f"{c.hint}_zeros",
                                   dtype=c.out._data.dtype)
    return c.node("BatchNormalization",
                  [c.x, _ones_if_absent(c, 1, channels), bias,
                   c.array(c.options["running_mean"]), c.array(c.options["running_var"])],
                  epsilon=float(c.options.get("eps", 1e-5)))


def _embedding(c: Call) -> str:
    return c.node("Gather", [c.names[1], c.x], axis=0)


def _einsum(c: Call) -> str:
    return c.node("Einsum", list(c.names), equation=c.options["equation"].replace(" ", ""))


# ----- reductions ----------------------------------------------------------------------------
def _axes(c: Call) -> list | None:
    dim, ndim = c.options.get("dim"), c.ndim()
    if dim is None:
        return None
    return sorted(d % max(ndim, 1) for d in ((dim,) if np.ndim(dim) == 0 else dim))


def _reduce(op_type: str, axes_as_input: bool = False) -> Callable[[Call], str]:
    """ReduceSum takes its axes as an input (opset 13), the others as an attribute (< 18)."""
    def convert(c: Call) -> str:
        axes, keep = _axes(c), int(bool(c.options.get("keepdim", False)))
        if axes is None:
            return c.node(op_type, [c.x], keepdims=keep)
        if axes_as_input:
            return c.node(op_type, [c.x, c.ints(axes)], keepdims=keep)
        return c.node(op_type, [c.x], axes=axes, keepdims=keep)
    return convert


def _extremum(c: Call) -> str:
    return _reduce("ReduceMax" if c.options.get("largest", True) else "ReduceMin")(c)


def _var(c: Call) -> str:
    """Σ (x - x̄)² / (n - correction) over the axes."""
    axes, data = _axes(c), c.inputs[0]._data
    count = data.size if axes is None else int(np.prod([data.shape[a] for a in axes]))
    mean = c.node("ReduceMean", [c.x], keepdims=1, **({} if axes is None else {"axes": axes}))
    centered = c.node("Sub", [c.x, mean])
    squares = c.node("Mul", [centered, centered])
    total = c.node("ReduceSum", [squares] + ([] if axes is None else [c.ints(axes)]),
                   keepdims=int(bool(c.options.get("keepdim", False))))
    return c.node("Div", [total, c.scalar(count - c.options.get("correction", 1))])


def _norm(c: Call) -> str:
    p = c.options.get("p", 2.0)
    if p not in (1, 2):
        raise UnsupportedOp(f"with p={p} (ReduceL1 and ReduceL2: p = 1 or 2)")
    return _reduce("ReduceL2" if p == 2 else "ReduceL1")(c)


def _cumsum(c: Call) -> str:
    return c.node("CumSum", [c.x, c.ints(c.options.get("dim", 0) % max(c.ndim(), 1))])


# ----- shapes ----------------------------------------------------------------------------------
def reshape_target(before: tuple, after: tuple) -> list:
    """ONNX Reshape's shape for ``before`` → ``after``: the leading dimensions kept copied
    (0), the first other one inferred (-1), so the batch dimension stays free."""
    target, kept = list(after), 0
    while kept < min(len(before), len(after)) and before[kept] == after[kept]:
        target[kept], kept = 0, kept + 1
    if kept < len(target):
        target[kept] = -1
    return target


def _reshape(c: Call) -> str:
    target = reshape_target(c.inputs[0]._data.shape, c.out._data.shape)
    return c.node("Reshape", [c.x, c.ints(target)])


def _permute(c: Call) -> str:
    return c.node("Transpose", [c.x], perm=[d % c.ndim() for d in c.options["dims"]])


def _expand(c: Call) -> str:
    """Broadcast to the output's shape, written with 1 where x already has the size."""
    before, after = c.inputs[0]._data.shape, c.out._data.shape
    offset = len(after) - len(before)
    target = [1 if i >= offset and before[i - offset] == n else n for i, n in enumerate(after)]
    return c.node("Expand", [c.x, c.ints(target)])


def _concatenate(c: Call) -> str:
    return c.node("Concat", list(c.names), axis=c.options.get("dim", 0) % c.ndim())


def _stack(c: Call) -> str:
    axis = c.options.get("dim", 0) % (c.ndim() + 1)
    parts = [c.node("Unsqueeze", [name, c.ints([axis])]) for name in c.names]
    return c.node("Concat", parts, axis=axis)


def _gather(c: Call) -> str:
    return c.node("GatherElements", [c.x, c.array(c.options["index"])],
                  axis=c.options["dim"] % c.ndim())


def _index_parts(index, ndim: int) -> list:
    """x[index]'s parts, an Ellipsis spelled out as full slices; UnsupportedOp for boolean
    masks and for several integer-array indices (or one with integers: NumPy then moves the
    indexed axes first)."""
    parts = list(index) if isinstance(index, tuple) else [index]
    arrays = [p for p in parts if isinstance(p, (np.ndarray, list))]
    if any(np.asarray(p).dtype == bool for p in arrays):
        raise UnsupportedOp("with a boolean mask index")
    if len(arrays) > 1 or arrays and any(isinstance(p, (int, np.integer)) for p in parts):
        raise UnsupportedOp("with several advanced indices (one integer array at most, "
                            "with slices)")
    at = next((i for i, p in enumerate(parts) if p is Ellipsis), None)  # arrays: no ==
    if at is not None:
        used = sum(p is not None for p in parts) - 1
        parts[at:at + 1] = [slice(None)] * (ndim - used)
    return parts


def _getitem(c: Call) -> str:
    """Slices → Slice, integers → Gather (dropping the axis), None → Unsqueeze, one
    integer array → Gather along its axis."""
    y, axis = c.x, 0
    for part in _index_parts(c.options["index"], c.ndim()):
        if part is None:
            y, axis = c.node("Unsqueeze", [y, c.ints([axis])]), axis + 1
        elif isinstance(part, slice):
            if part != slice(None):
                step = 1 if part.step is None else int(part.step)
                start = part.start if part.start is not None else (0 if step > 0 else INT64_MAX)
                stop = part.stop if part.stop is not None else (
                    INT64_MAX if step > 0 else INT64_MIN)
                y = c.node("Slice", [y, c.ints([start]), c.ints([stop]), c.ints([axis]),
                                     c.ints([step])])
            axis += 1
        elif isinstance(part, (int, np.integer)):
            y = c.node("Gather", [y, c.array(np.asarray(part, dtype=np.int64))], axis=axis)
        else:
            part = np.asarray(part)
            y, axis = c.node("Gather", [y, c.array(part)], axis=axis), axis + part.ndim
    return y if y != c.x else c.node("Identity", [y])


# ----- what ffnn computes outside its ops, noted while exporting (``onnx_trace``) ---------------
class Compared:
    """Not an op: the result of a comparison or logical operator of two tensors (ffnn makes
    it outside the graph), noted while exporting. ``onnx_type`` names its node."""

    onnx_type = ""


COMPARISONS = {method: type(onnx_type, (Compared,), {"onnx_type": onnx_type})
               for method, onnx_type in (("__lt__", "Less"), ("__le__", "LessOrEqual"),
                                         ("__gt__", "Greater"), ("__ge__", "GreaterOrEqual"),
                                         ("__eq__", "Equal"), ("__ne__", "NotEqual"),
                                         ("__invert__", "Not"), ("__and__", "And"),
                                         ("__or__", "Or"))}


class Assigned:
    """Not an op: a tensor written in place with the output of the op just applied to it
    (``x += y``, ``x.relu_()``): from here on it is that value."""


def _compared(c: Call) -> str:
    """The node of a comparison, its operands cast to their common dtype first (NumPy's)."""
    kind, dtype = c.options["onnx_type"], np.result_type(*[t._data for t in c.inputs])
    if kind in ("Not", "And", "Or") and dtype != np.dtype(bool):
        raise UnsupportedOp(f"on {dtype} tensors (a bitwise operator)")
    to = c.g.onnx.helper.np_dtype_to_tensor_dtype(dtype)
    names = [name if t._data.dtype == dtype else c.node("Cast", [name], to=to)
             for name, t in zip(c.names, c.inputs)]
    if kind == "NotEqual":
        return c.node("Not", [c.node("Equal", names)])
    return c.node(kind, names)


CONVERTERS: dict[type, Callable[[Call], str]] = {
    **{op: _as_layer(layer) for op, layer in ACTIVATION_LAYERS.items()},
    activations.ELU: _elu, activations.PReLU: _prelu, error_function.Erf: _one("Erf"),
    elementwise.Add: _one("Add"), elementwise.Sub: _one("Sub"), elementwise.Mul: _one("Mul"),
    elementwise.Div: _one("Div"), elementwise.Pow: _one("Pow"), elementwise.Neg: _one("Neg"),
    elementwise.Maximum: _one("Max"), elementwise.Minimum: _one("Min"),
    elementwise.PowScalar: _pow_scalar,
    elementwise.Exp: _one("Exp"), elementwise.Log: _one("Log"), elementwise.Sqrt: _one("Sqrt"),
    elementwise.Abs: _one("Abs"), elementwise.Sin: _one("Sin"), elementwise.Cos: _one("Cos"),
    elementwise_more.Tan: _one("Tan"), elementwise_more.Asin: _one("Asin"),
    elementwise_more.Acos: _one("Acos"), elementwise_more.Atan: _one("Atan"),
    elementwise_more.Asinh: _one("Asinh"), elementwise_more.Acosh: _one("Acosh"),
    elementwise_more.Atanh: _one("Atanh"),
    elementwise.Clamp: _clamp, elementwise.Cast: _cast, elementwise.Clone: _one("Identity"),
    elementwise.Where: _where, dropout.Dropout: _dropout,
    matrix.Linear: _linear, matrix.MatMul: _one("MatMul"), einsum_op.Einsum: _einsum,
    norms.LayerNorm: _layer_norm, norms.RMSNorm: _rms_norm,
    norms.RunningBatchNorm: _running_batch_norm, Embedding: _embedding,
    reductions.Sum: _reduce("ReduceSum", axes_as_input=True),
    reductions.Mean: _reduce("ReduceMean"), reductions.Prod: _reduce("ReduceProd"),
    reductions.Extremum: _extremum, reductions.Var: _var, reductions.Norm: _norm,
    reductions.Cumsum: _cumsum, reductions.LogSumExp: _reduce("ReduceLogSumExp"),
    shape.Reshape: _reshape, shape.FlattenFeatures: lambda c: c.node("Flatten", [c.x], axis=1),
    shape.Permute: _permute, shape.Expand: _expand, shape.GetItem: _getitem,
    shape.Concatenate: _concatenate, shape.Stack: _stack, shape.Gather: _gather,
    **dict.fromkeys(COMPARISONS.values(), _compared), Assigned: lambda c: c.x,
}
"""op class (or a ``Compared`` / ``Assigned`` record of ``onnx_trace``) → converter."""
