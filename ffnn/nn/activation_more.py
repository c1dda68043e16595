"""More of torch's activations, functional and as modules: Mish, Hardswish and Hardsigmoid
one op each (``ffnn.ops.activations_more``, chain layers too); LogSigmoid, Softsign, Softmin,
CELU, Tanhshrink, Threshold, Hardshrink, Softshrink and GLU composed from the ops (so their
gradients are the ops')."""

from __future__ import annotations

from ffnn import ops
from ffnn.nn.module import Module
from ffnn.nn.traits import declare
from ffnn.ops import activations_more as _ops
from ffnn.tensor import Tensor


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x)."""
    return -ops.softplus(-input, 1.0, 20.0)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · tanh(softplus(x)) (one op)."""
    return ops.mish(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (1 + ops.abs(input))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x + 3, 0), 6) / 6 (one op; gradient 0 at ±3, as torch's)."""
    return ops.hardsigmoid(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · min(max(x + 3, 0), 6) / 6 (one op; gradient 0 at -3, dL/dy at 3, as torch's)."""
    return ops.hardswish(input)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(−x) over ``dim``."""
    from ffnn.nn import functional

    return functional.softmax(-input, dim, _stacklevel + 1, dtype)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^{x/α} − 1))."""
    return ops.elu(input / alpha, 1.0, 1.0) * alpha if alpha != 1.0 else ops.elu(input, 1.0, 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh(x)."""
    return input - ops.tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``."""
    return ops.where(input > threshold, input, value)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0."""
    return ops.where(ops.abs(input) > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − λ above λ, x + λ below −λ, 0 between."""
    return ops.where(input > lambd, input - lambd, ops.where(input < -lambd, input + lambd, 0.0))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a ⊗ σ(b), where a and b are the halves of ``input`` along ``dim``."""
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} "
                           f"is size {size}")
    a, b = input.chunk(2, dim)
    return a * ops.sigmoid(b)


def _module(name: str, function, doc: str, params: tuple = (), defaults: tuple = (),
            bare: bool = False, elementwise: bool = True, op: type | None = None):
    """A Module class calling ``function(input, **its params)``, printed as torch's
    (``bare``: the values without their names), declared with its params as the checkpoint
    spec (``ffnn.nn.traits``); ``op``: the one op ``function`` applies, when it is one."""

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        values = dict(zip(params, defaults))
        values.update(zip(params, args))
        unknown = set(kwargs) - set(params) - {"inplace"}
        if unknown:
            raise TypeError(f"{name}() got unexpected keyword arguments {sorted(unknown)}")
        values.update({k: v for k, v in kwargs.items() if k in params})
        for key in params:
            setattr(self, key, values[key])

    def forward(self, input: Tensor) -> Tensor:
        return function(input, *(getattr(self, key) for key in params))

    def extra_repr(self) -> str:
        return ", ".join(("" if bare else f"{key}=") + f"{getattr(self, key)}" for key in params)

    cls = type(name, (Module,), {"__init__": __init__, "forward": forward,
                                 "extra_repr": extra_repr, "__doc__": doc,
                                 "__module__": __name__})
    return declare(cls, config=params, torch=name, elementwise=elementwise, op=op)


LogSigmoid = _module("LogSigmoid", logsigmoid, "y = log σ(x).")
Mish = _module("Mish", mish, "y = x · tanh(softplus(x)).", op=_ops.Mish)
Softsign = _module("Softsign", softsign, "y = x / (1 + |x|).")
Hardsigmoid = _module("Hardsigmoid", hardsigmoid, "y = min(max(x + 3, 0), 6) / 6.",
                      op=_ops.Hardsigmoid)
Hardswish = _module("Hardswish", hardswish, "y = x · min(max(x + 3, 0), 6) / 6.",
                    op=_ops.Hardswish)
Tanhshrink = _module("Tanhshrink", tanhshrink, "y = x − tanh(x).")
Softmin = _module("Softmin", softmin, "y = softmax(−x) over dim.", ("dim",), (None,),
                  elementwise=False)
CELU = _module("CELU", celu, "y = max(0, x) + min(0, α(e^{x/α} − 1)).", ("alpha",), (1.0,))
Threshold = _module("Threshold", threshold, "y = x if x > threshold else value.",
                    ("threshold", "value"), ())
Hardshrink = _module("Hardshrink", hardshrink, "y = x if |x| > λ else 0.", ("lambd",), (0.5,),
                     bare=True)
Softshrink = _module("Softshrink", softshrink, "y = x ∓ λ outside [−λ, λ], 0 inside.",
                     ("lambd",), (0.5,), bare=True)
GLU = _module("GLU", glu, "y = a ⊗ σ(b), the halves of x along dim.", ("dim",), (-1,),
              elementwise=False)
