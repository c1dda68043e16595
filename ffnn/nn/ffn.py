"""The transformer feed-forward layer: ``FeedForward`` (GELU MLP), gated variants ``SwiGLU`` and
``GEGLU``, and ``ResidualFFN``, the sub-layer with its residual connection and norm.

These blocks compose ``Linear``, activations, dropout and norms; their gradients come from
those ops, so nothing here re-derives a derivative.
"""

from __future__ import annotations

from ffnn.nn import traits
from ffnn.nn.activation import GELU
from ffnn.nn.linear import Linear, _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout, LayerNorm, RMSNorm
from ffnn.tensor import Tensor


def make_activation(activation: str | Module, where: str = "FeedForward") -> Module:
    """The activation module for a declared activation name or alias (``relu``, ``gelu``,
    ``gelu_tanh``, ``silu``, ``swish``, ``tanh``, ``sigmoid``, ``leaky_relu`` …; see
    ``ffnn.nn.traits``); a ``Module`` is returned as is. Raises ValueError on an unknown name."""
    if isinstance(activation, Module):
        return activation
    found = traits.lookup("activation", activation.lower()) \
        if isinstance(activation, str) else None
    if found is None:
        raise ValueError(
            f"{where}: activation must be a Module or one of "
            f"{sorted(traits.names('activation', aliases=True))}. Received: "
            f"activation={activation!r}"
        )
    entry, preset = found
    return entry.cls(**preset)


def _check_features(block: Module, input: Tensor) -> Tensor:
    if not isinstance(input, Tensor):
        input = Tensor._of(input)
    if input.ndim == 0 or input.shape[-1] != block.d_model:
        raise ValueError(
            f"{type(block).__name__}(d_model={block.d_model}) expects input of shape "
            f"[..., {block.d_model}]. Received: shape {tuple(input.shape)}"
        )
    return input


def _check_dropout(where: str, name: str, p: float) -> None:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: {name} must be a float in [0, 1]. Received: {name}={p!r}")


class FeedForward(Module):
    """y = fc2(dropout(act(fc1(x)))), x [..., d_model] → y [..., d_model].

    fc1: W₁ [d_ff, d_model], b₁ [d_ff]; fc2: W₂ [d_model, d_ff], b₂ [d_model] (torch layouts).
    ``activation``: a name (``'gelu'``, ``'relu'``, ``'silu'``, ``'gelu_tanh'`` …) or a Module.
    """

    def __init__(self, d_model: int, d_ff: int, activation: str | Module = "gelu",
                 dropout: float = 0.0, bias: bool = True, dtype=None, generator=None):
        super().__init__()
        _check_positive_int("FeedForward", d_model=d_model, d_ff=d_ff)
        _check_dropout("FeedForward", "dropout", dropout)
        self.d_model, self.d_ff = int(d_model), int(d_ff)
        self.fc1 = Linear(d_model, d_ff, bias=bias, dtype=dtype, generator=generator)
        self.activation = make_activation(activation, "FeedForward")
        self.dropout = Dropout(dropout)
        self.fc2 = Linear(d_ff, d_model, bias=bias, dtype=dtype, generator=generator)

    def forward(self, input: Tensor) -> Tensor:
        input = _check_features(self, input)
        return self.fc2(self.dropout(self.activation(self.fc1(input))))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, d_ff={self.d_ff}"


class GatedFeedForward(Module):
    """y = down_proj(dropout(act(gate_proj(x)) ⊙ up_proj(x))), x [..., d_model].

    gate_proj, up_proj: [d_ff, d_model]; down_proj: [d_model, d_ff] — the parameter names of
    LLaMA's MLP, so its state_dicts load unchanged. ``SwiGLU`` (act = SiLU) and ``GEGLU``
    (act = GELU) are this block with the activation fixed.
    """

    def __init__(self, d_model: int, d_ff: int, activation: str | Module = "silu",
                 bias: bool = False, dropout: float = 0.0, dtype=None, generator=None):
        super().__init__()
        where = type(self).__name__
        _check_positive_int(where, d_model=d_model, d_ff=d_ff)
        _check_dropout(where, "dropout", dropout)
        self.d_model, self.d_ff = int(d_model), int(d_ff)
        self.gate_proj = Linear(d_model, d_ff, bias=bias, dtype=dtype, generator=generator)
        self.up_proj = Linear(d_model, d_ff, bias=bias, dtype=dtype, generator=generator)
        self.down_proj = Linear(d_ff, d_model, bias=bias, dtype=dtype, generator=generator)
        self.activation = make_activation(activation, where)
        self.dropout = Dropout(dropout)

    def forward(self, input: Tensor) -> Tensor:
        input = _check_features(self, input)
        hidden = self.activation(self.gate_proj(input)) * self.up_proj(input)
        return self.down_proj(self.dropout(hidden))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, d_ff={self.d_ff}"


class SwiGLU(GatedFeedForward):
    """y = down_proj(silu(gate_proj(x)) ⊙ up_proj(x)) — LLaMA's MLP (no biases by default)."""

    def __init__(self, d_model: int, d_ff: int, bias: bool = False, dropout: float = 0.0,
                 dtype=None, generator=None):
        super().__init__(d_model, d_ff, "silu", bias, dropout, dtype, generator)


class GEGLU(GatedFeedForward):
    """y = down_proj(gelu(gate_proj(x)) ⊙ up_proj(x)) (Shazeer 2020; ``approximate='tanh'``
    for the tanh GELU)."""

    def __init__(self, d_model: int, d_ff: int, bias: bool = False, dropout: float = 0.0,
                 approximate: str = "none", dtype=None, generator=None):
        super().__init__(d_model, d_ff, GELU(approximate), bias, dropout, dtype, generator)


_FFN_KINDS = ("mlp", "swiglu", "geglu")


class ResidualFFN(Module):
    """The transformer FFN sub-layer with its residual connection and norm, x [..., d_model]:

    post-norm (BERT):     y = norm(x + dropout(ffn(x)))
    pre-norm (GPT/LLaMA): y = x + dropout(ffn(norm(x)))

    ``ffn``: ``'mlp'`` (``FeedForward`` with ``activation`` and inner ``ffn_dropout``),
    ``'swiglu'`` or ``'geglu'``; ``norm``: ``'layer'`` (LayerNorm) or ``'rms'`` (RMSNorm), with
    ``eps``. Children: ``ffn``, ``norm``, ``dropout`` (state_dict keys ``ffn.fc1.weight``,
    ``norm.weight`` …).
    """

    def __init__(self, d_model: int, d_ff: int, norm: str = "layer", position: str = "post",
                 activation: str | Module = "gelu", dropout: float = 0.0, bias: bool = True,
                 eps: float = 1e-5, ffn: str = "mlp", ffn_dropout: float = 0.0, dtype=None,
                 generator=None):
        super().__init__()
        _check_positive_int("ResidualFFN", d_model=d_model, d_ff=d_ff)
        _check_dropout("ResidualFFN", "dropout", dropout)
        if norm not in ("layer", "rms"):
            raise ValueError(f"ResidualFFN: norm must be 'layer' or 'rms'. Received: norm={norm!r}")
        if position not in ("pre", "post"):
            raise ValueError(
                f"ResidualFFN: position must be 'pre' or 'post'. Received: position={position!r}"
            )
        if ffn not in _FFN_KINDS:
            raise ValueError(f"ResidualFFN: ffn must be one of {_FFN_KINDS}. Received: ffn={ffn!r}")
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps <= 0:
            raise ValueError(f"ResidualFFN: eps must be a positive float. Received: eps={eps!r}")
        self.d_model, self.d_ff = int(d_model), int(d_ff)
        self.norm_type, self.position, self.ffn_type, self.eps = norm, position, ffn, float(eps)
        if ffn == "mlp":
            self.ffn = FeedForward(d_model, d_ff, activation, ffn_dropout, bias, dtype, generator)
        else:
            gated = SwiGLU if ffn == "swiglu" else GEGLU
            self.ffn = gated(d_model, d_ff, bias=bias, dropout=ffn_dropout, dtype=dtype,
                             generator=generator)
        if norm == "layer":
            self.norm = LayerNorm(d_model, eps=eps, dtype=dtype)
        else:
            self.norm = RMSNorm(d_model, eps=eps, dtype=dtype)
        self.dropout = Dropout(dropout)

    def forward(self, input: Tensor) -> Tensor:
        input = _check_features(self, input)
        if self.position == "post":
            return self.norm(input + self.dropout(self.ffn(input)))
        return input + self.dropout(self.ffn(self.norm(input)))

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, d_ff={self.d_ff}, norm={self.norm_type!r}, "
                f"position={self.position!r}, eps={self.eps}")


# ----- traits: spec (attributes + children), ONNX -------------------------------------------
def _onnx_feed_forward(g, m, x, path):
    """fc2(act(fc1(x)))."""
    h = g.convert(m.fc1, x, f"{path}.fc1")
    h = g.convert(m.activation, h, f"{path}.activation")
    return g.convert(m.fc2, h, f"{path}.fc2")


def _onnx_gated(g, m, x, path):
    """down_proj(act(gate_proj(x)) ⊙ up_proj(x))."""
    gate = g.convert(m.activation, g.convert(m.gate_proj, x, f"{path}.gate_proj"),
                     f"{path}.activation")
    hidden = g.node("Mul", [gate, g.convert(m.up_proj, x, f"{path}.up_proj")], path)
    return g.convert(m.down_proj, hidden, f"{path}.down_proj")


def _onnx_residual(g, m, x, path):
    """post: norm(x + ffn(x)); pre: x + ffn(norm(x))."""
    if m.position == "post":
        return g.convert(m.norm, g.node("Add", [x, g.convert(m.ffn, x, f"{path}.ffn")], path),
                         f"{path}.norm")
    normed = g.convert(m.norm, x, f"{path}.norm")
    return g.node("Add", [x, g.convert(m.ffn, normed, f"{path}.ffn")], path)


for _cls, _onnx in ((FeedForward, _onnx_feed_forward), (GatedFeedForward, _onnx_gated),
                    (SwiGLU, _onnx_gated), (GEGLU, _onnx_gated)):
    traits.declare(_cls, config=("d_model", "d_ff"), from_config=traits.restore(_cls),
                   onnx=_onnx)
del _cls, _onnx
traits.declare(ResidualFFN, config=("d_model", "d_ff", "norm_type", "position", "ffn_type", "eps"),
               from_config=traits.restore(ResidualFFN), onnx=_onnx_residual)
