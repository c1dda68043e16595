"""FeedForward, SwiGLU, GEGLU and ResidualFFN against the same computation in torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ffnn
from ffnn import nn

TOL = {np.float64: 1e-10, np.float32: 1e-5}


def _torch_ffn(kind, p, x, activation="gelu", prefix=""):
    """The FFN computation in torch from a dict of torch parameters ``p``."""
    def lin(name, h):
        return TF.linear(h, p[f"{prefix}{name}.weight"], p.get(f"{prefix}{name}.bias"))

    if kind == "mlp":
        act = {"gelu": TF.gelu, "relu": TF.relu, "silu": TF.silu,
               "gelu_tanh": lambda h: TF.gelu(h, approximate="tanh")}[activation]
        return lin("fc2", act(lin("fc1", x)))
    act = TF.silu if kind == "swiglu" else TF.gelu
    return lin("down_proj", act(lin("gate_proj", x)) * lin("up_proj", x))


def _torch_residual(block, p, x):
    kind = block.ffn_type
    d = block.d_model

    def norm(h):
        if block.norm_type == "layer":
            return TF.layer_norm(h, (d,), p["norm.weight"], p["norm.bias"], block.eps)
        return TF.rms_norm(h, (d,), p["norm.weight"], block.eps)

    if block.position == "post":
        return norm(x + _torch_ffn(kind, p, x, prefix="ffn."))
    return x + _torch_ffn(kind, p, norm(x), prefix="ffn.")


def _compare(module, torch_fn, dtype, shape=(3, 5, 8)):
    """Forward and backward (input and every parameter) of ffnn vs torch, relative error."""
    module.to(dtype)
    rng = np.random.default_rng(7)
    x_np = rng.standard_normal(shape).astype(dtype)
    # Perturb the norm weights so they are not all ones (a wrong γ would go unnoticed).
    for name, param in module.named_parameters():
        if name.startswith("norm."):
            param.data[...] = rng.standard_normal(param.shape).astype(dtype)
    x = ffnn.tensor(x_np, requires_grad=True)
    y = module(x)
    upstream = rng.standard_normal(y.shape).astype(dtype)
    (y * ffnn.tensor(upstream)).sum().backward()

    tp = {k: torch.tensor(v.numpy().copy(), requires_grad=True)
          for k, v in module.state_dict().items()}
    tx = torch.tensor(x_np, requires_grad=True)
    ty = torch_fn(tp, tx)
    (ty * torch.tensor(upstream)).sum().backward()

    tol = TOL[dtype]

    def close(ours, theirs, what):
        theirs = theirs.detach().numpy()
        assert ours.dtype == theirs.dtype, what
        err = np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30)
        assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"

    assert y.shape == tuple(shape)
    close(y.data, ty, "output")
    close(x.grad, tx.grad, "grad input")
    for name, param in module.named_parameters():
        close(param.grad, tp[name].grad, f"grad {name}")


DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["gelu", "relu", "silu", "gelu_tanh"])
def test_feedforward_matches_torch_3d(dtype, activation):
    block = nn.FeedForward(8, 32, activation=activation)
    _compare(block, lambda p, x: _torch_ffn("mlp", p, x, activation), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_feedforward_without_bias_and_2d_input(dtype):
    block = nn.FeedForward(8, 16, bias=False)
    assert [n for n, _ in block.named_parameters()] == ["fc1.weight", "fc2.weight"]
    _compare(block, lambda p, x: _torch_ffn("mlp", p, x), dtype, shape=(6, 8))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,kind", [(nn.SwiGLU, "swiglu"), (nn.GEGLU, "geglu")])
def test_gated_matches_torch_3d(dtype, cls, kind):
    block = cls(8, 24)
    assert all(p.ndim == 2 for p in block.parameters())  # no biases by default
    _compare(block, lambda p, x: _torch_ffn(kind, p, x), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm", ["layer", "rms"])
@pytest.mark.parametrize("position", ["pre", "post"])
@pytest.mark.parametrize("ffn", ["mlp", "swiglu"])
def test_residual_ffn_matches_torch_3d(dtype, norm, position, ffn):
    block = nn.ResidualFFN(8, 16, norm=norm, position=position, ffn=ffn, eps=1e-6)
    _compare(block, lambda p, x: _torch_residual(block, p, x), dtype)


def test_swiglu_loads_llama_state_dict():
    """A LLaMA-style MLP built in torch: its state_dict loads into SwiGLU unchanged."""

    class LlamaMLP(torch.nn.Module):
        def __init__(self, hidden, intermediate):
            super().__init__()
            self.gate_proj = torch.nn.Linear(hidden, intermediate, bias=False)
            self.up_proj = torch.nn.Linear(hidden, intermediate, bias=False)
            self.down_proj = torch.nn.Linear(intermediate, hidden, bias=False)

        def forward(self, x):
            return self.down_proj(TF.silu(self.gate_proj(x)) * self.up_proj(x))

    reference = LlamaMLP(16, 44).double()
    block = nn.SwiGLU(16, 44, dtype=ffnn.float64)
    block.load_state_dict(reference.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 7, 16))
    expected = reference(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(block(ffnn.tensor(x)).data, expected, rtol=1e-10, atol=1e-12)


def test_dropout_is_active_in_training_and_off_in_eval():
    block = nn.ResidualFFN(8, 16, dropout=0.5)
    x = ffnn.randn(4, 8)
    block.eval()
    np.testing.assert_array_equal(block(x).data, block(x).data)
    block.train()
    assert not np.allclose(block(x).data, block(x).data)


def test_modules_accept_an_activation_module():
    block = nn.FeedForward(4, 8, activation=nn.Tanh())
    h = np.tanh(block.fc1(ffnn.ones(1, 4)).data)
    expected = h @ block.fc2.weight.data.T + block.fc2.bias.data
    np.testing.assert_allclose(block(ffnn.ones(1, 4)).data, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: nn.FeedForward(0, 8), "d_model must be a positive integer. Received: d_model=0"),
        (lambda: nn.FeedForward(4, 2.5), "d_ff must be a positive integer. Received: d_ff=2.5"),
        (lambda: nn.FeedForward(4, 8, activation="softplus"),
         "activation must be a Module or one of"),
        (lambda: nn.FeedForward(4, 8, dropout=1.5), "Received: dropout=1.5"),
        (lambda: nn.SwiGLU(-1, 8), "SwiGLU: d_model must be a positive integer"),
        (lambda: nn.ResidualFFN(4, 8, norm="batch"), "norm must be 'layer' or 'rms'"),
        (lambda: nn.ResidualFFN(4, 8, position="middle"), "Received: position='middle'"),
        (lambda: nn.ResidualFFN(4, 8, ffn="moe"), "Received: ffn='moe'"),
        (lambda: nn.ResidualFFN(4, 8, eps=0), "eps must be a positive float. Received: eps=0"),
    ],
)
def test_bad_arguments_are_rejected(build, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


@pytest.mark.parametrize("block", [nn.FeedForward(8, 16), nn.SwiGLU(8, 16), nn.GEGLU(8, 16),
                                   nn.ResidualFFN(8, 16)])
def test_wrong_feature_size_names_the_block(block):
    name = type(block).__name__
    with pytest.raises(ValueError, match=rf"{name}\(d_model=8\) expects input of shape "
                                         r"\[\.\.\., 8\]\. Received: shape \(2, 3, 5\)"):
        block(ffnn.randn(2, 3, 5))
