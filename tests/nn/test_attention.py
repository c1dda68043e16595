"""MultiheadAttention and TransformerEncoderLayer against torch (float64, 3-D inputs with
padding masks, forward and every gradient), plus finite differences and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from tests.helpers import assert_close


def _load_into_torch(ours: nn.Module, theirs: torch.nn.Module) -> None:
    state = {k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def _compare_grads(ours: nn.Module, theirs: torch.nn.Module) -> None:
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(np.asarray(p.grad), theirs_params[name].grad.numpy(), what=f"grad {name}")


def _compare_step(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, rng,
                  **options) -> None:
    """Forward with ``options`` (NumPy masks, given to torch as tensors), then a backward of
    a random upstream gradient: output, input gradient and every parameter's as torch's."""
    xo, xt = ffnn.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    out = ours(xo, **options)
    tout = theirs(xt, **{k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                         for k, v in options.items()})
    assert_close(out.numpy(), tout.detach().numpy(), what="output")
    g = rng.standard_normal(out.shape)
    (out * ffnn.tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    assert_close(np.asarray(xo.grad), xt.grad.numpy(), what="input grad")
    _compare_grads(ours, theirs)


def _padding(lengths, source):
    """[N, S] boolean, True at padding (torch's key_padding_mask convention)."""
    return np.arange(source)[None, :] >= np.asarray(lengths)[:, None]


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_self_attention_matches_torch_with_padding(batch_first, need_weights):
    rng = np.random.default_rng(0)
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=ffnn.float64)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=torch.float64)
    _load_into_torch(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    pad = _padding([5, 2, 4], 5)
    xo, xt = ffnn.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    out, w = ours(xo, xo, xo, key_padding_mask=pad, need_weights=need_weights)
    tout, tw = theirs(xt, xt, xt, key_padding_mask=torch.from_numpy(pad),
                      need_weights=need_weights)
    assert_close(out.numpy(), tout.detach().numpy(), what="output")
    g = rng.standard_normal(out.shape)
    loss, tloss = (out * ffnn.tensor(g)).sum(), (tout * torch.from_numpy(g)).sum()
    if need_weights:
        assert_close(w.numpy(), tw.detach().numpy(), what="weights")
        gw = rng.standard_normal(w.shape)
        loss, tloss = loss + (w * ffnn.tensor(gw)).sum(), tloss + (tw * torch.from_numpy(gw)).sum()
    else:
        assert w is None and tw is None
    loss.backward()
    tloss.backward()
    assert_close(np.asarray(xo.grad), xt.grad.numpy(), what="input grad")
    _compare_grads(ours, theirs)


def test_multihead_cross_attention_with_attn_mask_and_per_head_weights():
    rng = np.random.default_rng(1)
    ours = nn.MultiheadAttention(6, 3, batch_first=True, dtype=ffnn.float64)
    theirs = torch.nn.MultiheadAttention(6, 3, batch_first=True, dtype=torch.float64)
    _load_into_torch(ours, theirs)
    q, k, v = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 6)), \
        rng.standard_normal((2, 5, 6))
    attn_mask = rng.standard_normal((4, 5))  # float: added to the scores
    pad = np.where(_padding([5, 3], 5), -np.inf, 0.0)  # float padding mask, as torch wants
    ins = [ffnn.tensor(a, requires_grad=True) for a in (q, k, v)]
    tins = [torch.from_numpy(a).requires_grad_() for a in (q, k, v)]
    out, w = ours(*ins, key_padding_mask=pad, attn_mask=attn_mask, average_attn_weights=False)
    tout, tw = theirs(*tins, key_padding_mask=torch.from_numpy(pad),
                      attn_mask=torch.from_numpy(attn_mask), average_attn_weights=False)
    assert w.shape == (2, 3, 4, 5)
    assert_close(w.numpy(), tw.detach().numpy(), what="per-head weights")
    (out.sum() + (w * w).sum()).backward()
    (tout.sum() + (tw * tw).sum()).backward()
    for a, b in zip(ins, tins):
        assert_close(np.asarray(a.grad), b.grad.numpy(), what="input grad")
    _compare_grads(ours, theirs)


def test_multihead_attention_unbatched_and_boolean_attn_mask():
    rng = np.random.default_rng(2)
    ours = nn.MultiheadAttention(4, 1, dtype=ffnn.float64)
    theirs = torch.nn.MultiheadAttention(4, 1, dtype=torch.float64)
    _load_into_torch(ours, theirs)
    x = rng.standard_normal((3, 4))
    causal = np.triu(np.ones((3, 3), dtype=bool), 1)  # True: may not attend
    out, w = ours(ffnn.tensor(x), ffnn.tensor(x), ffnn.tensor(x), attn_mask=causal)
    tout, tw = theirs(*(torch.from_numpy(x),) * 3, attn_mask=torch.from_numpy(causal))
    assert out.shape == (3, 4) and w.shape == (3, 3)
    assert_close(out.numpy(), tout.detach().numpy())
    assert_close(w.numpy(), tw.detach().numpy())


def test_multihead_attention_finite_differences():
    rng = np.random.default_rng(3)
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=ffnn.float64)
    x = ffnn.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    pad = _padding([3, 2], 3)

    def fn(x, *params):
        out, w = mha(x, x, x, key_padding_mask=pad)
        return out.sum() + (w * w).sum()

    assert ffnn.gradcheck(fn, [x, *mha.parameters()])


def test_multihead_attention_errors_name_the_argument():
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    x = ffnn.randn(2, 3, 4)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match=r"expects query of shape \[N, L, E\].*\(2, 3, 5\)"):
        mha(ffnn.randn(2, 3, 5), x, x)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \[N, S\]"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha(x, x, x, attn_mask=np.zeros((2, 2), dtype=bool))


@pytest.mark.parametrize("norm_first, activation", [(False, "gelu"), (True, "gelu"),
                                                    (False, "function")])
def test_transformer_encoder_layer_matches_torch_with_padding(norm_first, activation):
    """activation "function": torch's ``activation=F.gelu`` (a function, not a module)."""
    rng = np.random.default_rng(4)
    kwargs = dict(dim_feedforward=12, dropout=0.0, batch_first=True, norm_first=norm_first)
    function = activation == "function"
    ours = nn.TransformerEncoderLayer(
        8, 2, activation=nn.functional.gelu if function else "gelu", dtype=ffnn.float64,
        **kwargs)
    theirs = torch.nn.TransformerEncoderLayer(
        8, 2, activation=torch.nn.functional.gelu if function else "gelu",
        dtype=torch.float64, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _load_into_torch(ours, theirs)
    _compare_step(ours, theirs, rng.standard_normal((3, 5, 8)), rng,
                  src_key_padding_mask=_padding([5, 1, 3], 5))


def test_attention_layers_save_and_rebuild_from_their_spec(tmp_path):
    rng = np.random.default_rng(5)
    model = nn.Sequential(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                                     batch_first=True, norm_first=True))
    path = tmp_path / "layer.safetensors"
    ffnn.save(path, model)
    loaded = ffnn.load(path).model
    assert isinstance(loaded[0], nn.TransformerEncoderLayer) and loaded[0].norm_first
    assert isinstance(loaded[0].self_attn, nn.MultiheadAttention)
    x = ffnn.tensor(rng.standard_normal((2, 3, 8)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("masks", ["padding", "causal"])
def test_transformer_encoder_stacks_copies_as_torchs(masks):
    """Three copies of one layer and a final norm, trained in turn (train mode, dropout 0:
    torch's nested-tensor fast path is eval's): outputs and every gradient as torch's; the
    copies start equal and are separate parameters."""
    rng = np.random.default_rng(6)
    kwargs = dict(dim_feedforward=12, dropout=0.0, batch_first=True)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dtype=ffnn.float64, **kwargs),
                                 3, norm=nn.LayerNorm(8, dtype=ffnn.float64))
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, dtype=torch.float64, **kwargs), 3,
        norm=torch.nn.LayerNorm(8, dtype=torch.float64), enable_nested_tensor=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    first, second = ours.layers[0].linear1.weight, ours.layers[1].linear1.weight
    assert first is not second and np.array_equal(first.numpy(), second.numpy())
    for p in ours.parameters():  # the copies apart, so that a mix-up shows
        p.data[...] = rng.standard_normal(p.shape) * 0.3 + (1.0 if p.ndim == 1 else 0.0)
    _load_into_torch(ours, theirs)
    options = ({"src_key_padding_mask": _padding([5, 2, 4], 5)} if masks == "padding" else
               {"mask": np.triu(np.full((5, 5), -np.inf), 1), "is_causal": True})
    _compare_step(ours, theirs, rng.standard_normal((3, 5, 8)), rng, **options)
    assert "(0-2): 3 x TransformerEncoderLayer(" in repr(ours)


@pytest.mark.parametrize("norm", [None, "layer norm"])
def test_transformer_encoder_saves_and_rebuilds(norm, tmp_path):
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                             batch_first=True), 2,
                                  norm=nn.LayerNorm(8) if norm else None)
    with ffnn.no_grad():
        for p in model.parameters():
            p.add_(ffnn.tensor(np.random.default_rng(8).standard_normal(p.shape) * 0.1))
    ffnn.save(tmp_path / "encoder.safetensors", model)
    loaded = ffnn.load(tmp_path / "encoder.safetensors").model
    assert isinstance(loaded, nn.TransformerEncoder) and loaded.num_layers == 2
    assert (loaded.norm is None) == (norm is None)
    x = ffnn.tensor(np.random.default_rng(7).standard_normal((2, 3, 8)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 0)


NESTED_CASES = {
    "eval, no grad, right-padded": dict(train=False, grad=False, pad=[5, 2, 4]),
    "float padding mask": dict(train=False, grad=False, pad=[5, 2, 4], float_mask=True),
    "grad enabled": dict(train=False, grad=True, pad=[5, 2, 4]),
    "train mode": dict(train=True, grad=False, pad=[5, 2, 4]),
    "padding on the left": dict(train=False, grad=False, pad=[5, 2, 4], left=True),
    "an attention mask too": dict(train=False, grad=False, pad=[5, 2, 4], causal=True),
    "pre-norm layer": dict(train=False, grad=False, pad=[5, 2, 4], norm_first=True),
    "odd head count": dict(train=False, grad=False, pad=[5, 2, 4], heads=1),
}


def _encoder_output(lib, x, case, state=None):
    """A 2-layer encoder with a final norm run on ``x`` as ``case`` says; (output, warnings)."""
    import warnings

    kwargs = dict(dim_feedforward=12, dropout=0.0, batch_first=True, dtype=lib.float64,
                  norm_first=case.get("norm_first", False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = lib.nn.TransformerEncoder(
            lib.nn.TransformerEncoderLayer(8, case.get("heads", 2), **kwargs), 2,
            norm=lib.nn.LayerNorm(8, dtype=lib.float64))
    if state is not None:
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    model.train(case["train"])
    pad = _padding(case["pad"], 5)
    if case.get("left"):
        pad = pad[:, ::-1].copy()
    mask = np.where(pad, -np.inf, 0.0) if case.get("float_mask") else pad
    options = {"src_key_padding_mask": lib.tensor(mask)}
    if case.get("causal"):
        options["mask"] = lib.tensor(np.triu(np.full((5, 5), -np.inf), 1))
    with lib.set_grad_enabled(case["grad"]):
        out = model(lib.tensor(x), **options)
    messages = [str(w.message) for w in caught if "enable_nested_tensor" in str(w.message)]
    return out.detach().numpy(), messages, model


@pytest.mark.parametrize("case", NESTED_CASES.values(), ids=list(NESTED_CASES))
def test_transformer_encoder_zeros_padding_where_torchs_nested_path_does(case):
    """torch's encoder, in eval mode without gradients, runs a right-padded batch as a nested
    tensor and writes zeros at the padded positions (then the final norm); elsewhere, and at
    every real position, the layers' values. ffnn's as torch's in each case, warnings too."""
    x = np.random.default_rng(9).standard_normal((3, 5, 8))
    ours, our_warnings, model = _encoder_output(ffnn, x, case)
    state = {k: np.array(v) for k, v in model.state_dict().items()}
    theirs, their_warnings, _ = _encoder_output(torch, x, case, state)
    assert_close(ours, theirs, what="encoder output")
    assert our_warnings == their_warnings
