"""The transformer feed-forward layer: ``FeedForward`` (GELU MLP), gated variants ``SwiGLU`` and
``GEGLU``, and ``ResidualFFN``, the sub-layer with its residual connection and norm.

These blocks compose ``Linear``, activations, dropout and norms; their gradients come from
those ops, so nothing here re-derives a derivative.
"""

from __future__ import annotations

from ffnn.nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Tanh
from ffnn.nn.linear import Linear, _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout, LayerNorm, RMSNorm
from ffnn.tensor import Tensor

_ACTIVATIONS = {
    "relu": ReLU,
    "gelu": GELU,
    "gelu_tanh": lambda: GELU(approximate="tanh"),
    "silu": SiLU,
    "swish": SiLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "leaky_relu": LeakyReLU,
}


def make_activation(activation: str | Module, where: str = "FeedForward") -> Module:
    """The activation module for a name in ``relu, gelu, gelu_tanh, silu, swish, tanh, sigmoid,
    leaky_relu`` (a ``Module`` is returned as is). Raises ValueError on an unknown name."""
    if isinstance(activation, Module):
        return activation
    if not isinstance(activation, str) or activation.lower() not in _ACTIVATIONS:
        raise ValueError(
            f"{where}: activation must be a Module or one of {sorted(_ACTIVATIONS)}. "
            f"Received: activation={activation!r}"
        )
    return _ACTIVATIONS[activation.lower()]()


def _check_features(block: Module, input: Tensor) -> Tensor:
    if not isinstance(input, Tensor):
        input = Tensor(input)
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
