"""ONNX converters (opset 17) of the activations beyond ReLU, GELU, SiLU, tanh, sigmoid and
LeakyReLU (those are declared beside their modules): one standard node where ONNX has the
function (Elu, Selu, Celu, Softplus, Softsign, HardSigmoid, HardSwish, Clip, PRelu, Shrink),
else the few nodes of its formula.

Where torch's formula and the ONNX node part ways, the note says by how much: Softplus's
linear part above ``threshold`` (log(1 + eᶻ)/β there differs from x by less than e^{-20}/β).
"""

from __future__ import annotations

from ffnn.nn.activation import (
    ELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    Hardtanh,
    PReLU,
    ReLU6,
    Softplus,
)
from ffnn.nn.activation_more import (
    CELU,
    GLU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    LogSigmoid,
    Mish,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from ffnn.nn.traits import declare, onnx_node


def _elu(g, m, x, path):
    return g.node("Elu", [x], path, alpha=float(m.alpha))


def _selu(g, m, x, path):
    return g.node("Selu", [x], path, alpha=SELU_ALPHA, gamma=SELU_SCALE)


def _celu(g, m, x, path):
    return g.node("Celu", [x], path, alpha=float(m.alpha))


def _softplus_of(g, x, path, beta: float = 1.0):
    """log(1 + e^{βx})/β."""
    if beta == 1.0:
        return g.node("Softplus", [x], path)
    scaled = g.node("Softplus", [g.node("Mul", [x, g.scalar(beta)], path)], path)
    return g.node("Div", [scaled, g.scalar(beta)], path)


def _softplus(g, m, x, path):
    return _softplus_of(g, x, path, float(m.beta))


def _mish(g, m, x, path):
    """x·tanh(softplus(x)) (ONNX's Mish node is opset 18)."""
    return g.node("Mul", [x, g.node("Tanh", [_softplus_of(g, x, path)], path)], path)


def _clip(g, m, x, path):
    """Hardtanh and ReLU6: min(max(x, min_val), max_val)."""
    return g.node("Clip", [x, g.scalar(float(m.min_val)), g.scalar(float(m.max_val))], path)


def _prelu(g, m, x, path):
    """The slopes broadcast along the last axis: the channels of an [n, features] input."""
    return g.node("PRelu", [x, g.const(m.weight._data, f"{path}.weight")], path)


def _log_sigmoid(g, m, x, path):
    """log σ(x) = -softplus(-x)."""
    return g.node("Neg", [_softplus_of(g, g.node("Neg", [x], path), path)], path)


def _tanhshrink(g, m, x, path):
    return g.node("Sub", [x, g.node("Tanh", [x], path)], path)


def _threshold(g, m, x, path):
    """value where x ≤ threshold, else x (NaN kept, as torch's)."""
    at_most = g.node("LessOrEqual", [x, g.scalar(float(m.threshold))], path)
    return g.node("Where", [at_most, g.scalar(float(m.value)), x], path)


def _shrink(bias_is_lambd: bool):
    """Hardshrink (bias 0) and Softshrink (bias λ): ONNX's Shrink."""
    def convert(g, m, x, path):
        lambd = float(m.lambd)
        return g.node("Shrink", [x], path, lambd=lambd, bias=lambd if bias_is_lambd else 0.0)
    return convert


def _softmin(g, m, x, path):
    """softmax(-x) over ``dim`` (None: 1, as Softmax's export)."""
    return g.node("Softmax", [g.node("Neg", [x], path)], path,
                  axis=1 if m.dim is None else int(m.dim))


def _glu(g, m, x, path):
    """a·σ(b), [a, b] the halves of x along ``dim`` (Split into two equal parts)."""
    first, second = g.name(f"{path}_a"), g.name(f"{path}_b")
    g.nodes.append(g.onnx.helper.make_node("Split", [x], [first, second], name=first,
                                           axis=int(m.dim)))
    return g.node("Mul", [first, g.node("Sigmoid", [second], path)], path)


for _cls, _convert in ((ELU, _elu), (SELU, _selu), (CELU, _celu), (Softplus, _softplus),
                       (Softsign, onnx_node("Softsign")), (Mish, _mish),
                       (Hardsigmoid, onnx_node("HardSigmoid", alpha=1 / 6, beta=0.5)),
                       (Hardswish, onnx_node("HardSwish")), (Hardtanh, _clip), (ReLU6, _clip),
                       (PReLU, _prelu), (LogSigmoid, _log_sigmoid), (Tanhshrink, _tanhshrink),
                       (Threshold, _threshold), (Hardshrink, _shrink(False)),
                       (Softshrink, _shrink(True)), (Softmin, _softmin), (GLU, _glu)):
    declare(_cls, onnx=_convert)
