"""More of torch's activations, functional and as modules: Mish, Hardswish, Hardsigmoid,
LogSigmoid, Softsign, Tanhshrink, CELU, Threshold, Hardshrink and Softshrink one op each
(``ffnn.ops.activations_more``, ``ffnn.ops.shrinks``; chain layers too) and GLU one op;
Softmin composed from the ops (so its gradient is the ops')."""

from __future__ import annotations

from ffnn import ops
from ffnn.nn.module import Module
from ffnn.nn.traits import declare
from ffnn.ops import activations_more as _ops
from ffnn.ops import shrinks as _shrinks
from ffnn.tensor import Tensor


def _written(op, input: Tensor, inplace: bool) -> Tensor:
    """``op(input)``, written into ``input`` itself when ``inplace`` (torch's ``inplace=``)."""
    return input._inplace(op) if inplace else op(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = min(x, 0) − log(1 + e^{−|x|}) (one op)."""
    return _ops.LogSigmoid.apply(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · tanh(softplus(x)) (one op; written into ``input`` when ``inplace``)."""
    return _written(ops.mish, input, inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|) (one op)."""
    return _ops.Softsign.apply(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x + 3, 0), 6) / 6 (one op; gradient 0 at ±3, as torch's)."""
    return _written(ops.hardsigmoid, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · min(max(x + 3, 0), 6) / 6 (one op; gradient 0 at -3, dL/dy at 3, as torch's)."""
    return _written(ops.hardswish, input, inplace)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(−x) over ``dim``."""
    from ffnn.nn import functional

    return functional.softmax(-input, dim, _stacklevel + 1, dtype)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^{x/α} − 1)) (one op)."""
    return _written(lambda x: _ops.CELU.apply(x, alpha=alpha), input, inplace)


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh(x) (one op)."""
    return _ops.Tanhshrink.apply(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value`` (one op; NaN passes, as torch's)."""
    return _written(lambda x: _shrinks.Threshold.apply(x, threshold=threshold, value=value),
                    input, inplace)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0 (one op; NaN passes, as torch's)."""
    return _shrinks.Hardshrink.apply(input, lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − λ above λ, x + λ below −λ, 0 between (one op; NaN passes, as torch's)."""
    return _shrinks.Softshrink.apply(input, lambd=lambd)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a ⊗ σ(b), where a and b are the halves of ``input`` along ``dim`` (one op)."""
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} "
                           f"is size {size}")
    return _ops.GLU.apply(input, dim=dim)


def _module(name: str, function, doc: str, params: tuple = (), defaults: tuple = (),
            bare: bool = False, elementwise: bool = True, op: type | None = None,
            inplace: str = ""):
    """A Module class calling ``function(input, **its params)``, printed as torch's
    (``bare``: the values without their names), declared with its params as the checkpoint
    spec (``ffnn.nn.traits``); ``op``: the one op ``function`` applies, when it is one (its
    options the params, by name). ``inplace``: '' when the module takes no ``inplace``,
    'quiet' when it takes it and torch does not print it, 'printed' when torch prints it;
    ``function`` then takes ``inplace`` after the params."""

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
        if inplace:
            self.inplace = bool(kwargs.get("inplace", args[len(params)]
                                           if len(args) > len(params) else False))

    def forward(self, input: Tensor) -> Tensor:
        options = [getattr(self, key) for key in params]
        return function(input, *options, self.inplace) if inplace else function(input, *options)

    def extra_repr(self) -> str:
        text = [("" if bare else f"{key}=") + f"{getattr(self, key)}" for key in params]
        return ", ".join(text + (["inplace=True"] if inplace == "printed" and self.inplace
                                 else []))

    cls = type(name, (Module,), {"__init__": __init__, "forward": forward,
                                 "extra_repr": extra_repr, "__doc__": doc,
                                 "__module__": __name__})
    options = (lambda module: {key: getattr(module, key) for key in params}) if params else None
    return declare(cls, config=params, torch=name, elementwise=elementwise, op=op,
                   op_options=options if op is not None else None)


LogSigmoid = _module("LogSigmoid", logsigmoid, "y = log σ(x).", op=_ops.LogSigmoid)
Mish = _module("Mish", mish, "y = x · tanh(softplus(x)).", op=_ops.Mish, inplace="printed")
Softsign = _module("Softsign", softsign, "y = x / (1 + |x|).", op=_ops.Softsign)
Hardsigmoid = _module("Hardsigmoid", hardsigmoid, "y = min(max(x + 3, 0), 6) / 6.",
                      op=_ops.Hardsigmoid, inplace="quiet")
Hardswish = _module("Hardswish", hardswish, "y = x · min(max(x + 3, 0), 6) / 6.",
                    op=_ops.Hardswish, inplace="quiet")
Tanhshrink = _module("Tanhshrink", tanhshrink, "y = x − tanh(x).", op=_ops.Tanhshrink)
Softmin = _module("Softmin", softmin, "y = softmax(−x) over dim.", ("dim",), (None,),
                  elementwise=False)
CELU = _module("CELU", celu, "y = max(0, x) + min(0, α(e^{x/α} − 1)).", ("alpha",), (1.0,),
               op=_ops.CELU, inplace="printed")
Threshold = _module("Threshold", threshold, "y = x if x > threshold else value.",
                    ("threshold", "value"), (), op=_shrinks.Threshold, inplace="printed")
Hardshrink = _module("Hardshrink", hardshrink, "y = x if |x| > λ else 0.", ("lambd",), (0.5,),
                     bare=True, op=_shrinks.Hardshrink)
Softshrink = _module("Softshrink", softshrink, "y = x ∓ λ outside [−λ, λ], 0 inside.",
                     ("lambd",), (0.5,), bare=True, op=_shrinks.Softshrink)
GLU = _module("GLU", glu, "y = a ⊗ σ(b), the halves of x along dim.", ("dim",), (-1,),
              elementwise=False)
