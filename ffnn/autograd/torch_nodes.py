"""ffnn's graph nodes as torch shows them: their names, as ``grad_fn.name()`` and a tensor's
printout give them (``tensor([2., 2.], grad_fn=<MulBackward0>)``), and their edges,
``grad_fn.next_functions`` (an autograd tutorial walks them from the loss down).

torch names a node after the ATen function whose backward it is, with an overload number
(``SumBackward0`` for a full sum, ``SumBackward1`` over dims); ffnn's ops are fewer and
broader (one ``GetItem`` for slicing, selecting and advanced indexing), so a few names are
read from the node's options and inputs. The default is the op's name + ``Backward0``
(``Exp`` → ``ExpBackward0``); ``RENAMED`` lists the ops whose torch name differs, and a
custom ``autograd.Function``'s node is ``<its class>Backward``, as torch's.
"""

from __future__ import annotations

from collections.abc import Callable

RENAMED = {
    "ReLU": "ReluBackward0", "GELU": "GeluBackward0", "SiLU": "SiluBackward0",
    "LeakyReLU": "LeakyReluBackward0", "ELU": "EluBackward0", "GLU": "GluBackward0",
    "PReLU": "PreluKernelBackward0", "PowScalar": "PowBackward0", "Pow": "PowBackward1",
    "Clamp": "ClampBackward1", "Norm": "LinalgVectorNormBackward0",
    "LogSumExp": "LogsumexpBackward0", "Log1p": "Log1PBackward0",
    "Permute": "PermuteBackward0", "Reshape": "ViewBackward0", "Concatenate": "CatBackward0",
    "Cast": "ToCopyBackward0", "Einsum": "ViewBackward0", "SetItem": "CopySlices",
    "CrossEntropyIndices": "NllLossBackward0", "CrossEntropyProbs": "DivBackward1",
    "NLLLoss": "NllLossBackward0", "MSELoss": "MseLossBackward0", "L1Loss": "MeanBackward0",
    "BCELoss": "BinaryCrossEntropyBackward0",
    "BCEWithLogitsLoss": "BinaryCrossEntropyWithLogitsBackward0",
    "Dropout": "MulBackward0", "LayerNorm": "NativeLayerNormBackward0",
    "BatchNorm": "NativeBatchNormBackward0", "Linear": "AddmmBackward0",
}
"""ffnn's op name → torch's node name, where it is not the op's name + ``Backward0``."""


def _input_dims(fn) -> tuple:
    """The number of dimensions of each input the node still holds (None where freed)."""
    return tuple(None if p is None else p.ndim for p in fn.__dict__.get("parents", ()))


def _over_dims(base: str) -> Callable:
    """``SumBackward0`` over every element, ``SumBackward1`` over given dims."""
    return lambda fn, options: f"{base}Backward{0 if options.get('dim') is None else 1}"


def _extremum(fn, options) -> str:
    """max()/min() of every element: ``MaxBackward1``; over a dim: ``MaxBackward0``."""
    base = "Max" if options.get("largest", True) else "Min"
    return f"{base}Backward{1 if options.get('dim') is None else 0}"


def _linear(fn, options) -> str:
    """x Wᵀ + b of a matrix: ``AddmmBackward0``; without b: ``MmBackward0``; of a batch of
    matrices: ``ViewBackward0`` (torch flattens and views back). A fused chain's node named
    after its last layer, a Linear, has that layer's W and b last among its inputs and
    records its output's dimensions (``out_ndim``)."""
    parents = fn.__dict__.get("parents", ())
    if type(fn).__name__ == "Linear":  # (x, W, b), b None without a bias
        padded = tuple(parents) + (None, None, None)
        x, bias = padded[0], padded[2]
        ndim = 2 if x is None else x.ndim
    else:
        bias, ndim = (parents[-1] if parents else None), fn.__dict__.get("out_ndim", 2)
    if ndim > 2:
        return "ViewBackward0"
    return "MmBackward0" if bias is None else "AddmmBackward0"


_PRODUCTS = {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0"}


def _matmul(fn, options) -> str:
    """a @ b: ``MmBackward0``, ``MvBackward0``, ``DotBackward0`` by the operands' dims,
    ``UnsafeViewBackward0`` for batches."""
    dims = _input_dims(fn)
    return _PRODUCTS.get(dims, "UnsafeViewBackward0" if len(dims) == 2 and None not in dims
                         and max(dims) > 2 else "MmBackward0")


def _get_item(fn, options) -> str:
    """x[i]: ``SelectBackward0``; x[a:b]: ``SliceBackward0``; x[tensor]: ``IndexBackward0``."""
    index = options.get("index")
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(p, int) for p in parts):
        return "SelectBackward0"
    if all(isinstance(p, (int, slice)) or p is Ellipsis or p is None for p in parts):
        return "SliceBackward0"
    return "IndexBackward0"


RULES: dict[str, Callable] = {
    "Sum": _over_dims("Sum"), "Mean": _over_dims("Mean"), "Extremum": _extremum,
    "Linear": _linear, "MatMul": _matmul, "GetItem": _get_item,
}
"""ffnn's op name → a function of (node, its options) giving torch's name."""


def _function_node(fn):
    """The node torch shows for ``fn``: for one output of a multi-output custom
    ``autograd.Function`` (ffnn's ``_Unpack`` of their packed values), the Function's own
    node, as every output of it has that one ``grad_fn`` in torch; else ``fn``."""
    if fn.op_name == "_Unpack":
        ctxs = fn.__dict__.get("input_ctxs", ())
        if ctxs and ctxs[0] is not None:
            return ctxs[0]
    return fn


def torch_name(fn) -> str:
    """torch's name for the node ``fn`` (an ``Op`` of a graph)."""
    fn = _function_node(fn)
    function = fn.__dict__.get("function")
    if isinstance(function, type):  # a custom autograd.Function
        return f"{function.__name__}Backward"
    name = fn.op_name
    rule = RULES.get(name)
    if rule is not None:
        return rule(fn, fn.__dict__.get("options") or {})
    return RENAMED.get(name, f"{name}Backward0")


class AccumulateGrad:
    """The node a leaf that requires grad is reached by (torch's): ``variable`` is the leaf,
    whose ``.grad`` the backward accumulates into; it has no further edges."""

    next_functions: tuple = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def next_functions(fn) -> tuple:
    """((node, 0) or (None, 0)) per input of ``fn``: the input's own node, an
    ``AccumulateGrad`` for a leaf that requires grad, None for an input without a gradient
    (a constant, data) and for what a backward has freed."""
    state = _function_node(fn).__dict__
    parents, ctxs = state.get("parents", ()), state.get("input_ctxs", ())
    edges = []
    for i, parent in enumerate(parents):
        ctx = ctxs[i] if i < len(ctxs) else None
        if ctx is not None:
            edges.append((ctx, 0))
        elif parent is not None and parent.requires_grad and parent._ctx is None:
            edges.append((AccumulateGrad(parent), 0))
        else:
            edges.append((None, 0))
    return tuple(edges)
