"""TransformerDecoderLayer, TransformerDecoder and Transformer against torch: torch's
state_dict (random values, so that a mix-up shows) loaded into ffnn's module, then outputs in
eval (float64, dropout on) and, in training with dropout 0, every gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.nn import Transformer, TransformerDecoder, TransformerDecoderLayer
from tests.helpers import assert_close

E, HEADS, FF = 8, 2, 12
S, T, N = 5, 4, 3


def _randomize(theirs: torch.nn.Module, seed: int) -> None:
    """Every parameter of torch's module drawn anew (LayerNorms off 1 and 0, copies apart)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.3
                    + (1.0 if p.ndim == 1 else 0.0))


def _load(ours: nn.Module, theirs: torch.nn.Module, seed: int = 0) -> None:
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _randomize(theirs, seed)
    ours.load_state_dict(theirs.state_dict())


def _torch_args(args: dict) -> dict:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in args.items()}


def _compare(ours, theirs, inputs: list[np.ndarray], options: dict, rng, grads: bool):
    """ours(*inputs, **options) against theirs; with ``grads``, a backward of a random
    upstream gradient: every input's and parameter's gradient as torch's."""
    xs = [ffnn.tensor(x, requires_grad=grads) for x in inputs]
    txs = [torch.from_numpy(x).requires_grad_(grads) for x in inputs]
    out, tout = ours(*xs, **options), theirs(*txs, **_torch_args(options))
    assert_close(out.numpy(), tout.detach().numpy(), what="output")
    if not grads:
        return
    g = rng.standard_normal(out.shape)
    (out * ffnn.tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    for i, (x, tx) in enumerate(zip(xs, txs)):
        assert_close(np.asarray(x.grad), tx.grad.numpy(), what=f"grad of input {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(np.asarray(p.grad), theirs_params[name].grad.numpy(), what=f"grad {name}")


def _padding(lengths, size):
    """[N, size] boolean, True at padding (torch's key_padding_mask convention)."""
    return np.arange(size)[None, :] >= np.asarray(lengths)[:, None]


def _masks(kind: str = "bool") -> dict:
    """A causal float tgt_mask with float tgt padding; a memory_mask hiding memory position 0
    from odd target positions and the memory padding, both bool or both float (torch warns
    when a layer's two masks differ in kind)."""
    hidden = np.zeros((T, S), dtype=bool)
    hidden[1::2, 0] = True
    memory_pad = _padding([5, 3, 4], S)
    if kind == "float":
        hidden, memory_pad = (np.where(m, -np.inf, 0.0) for m in (hidden, memory_pad))
    return {"tgt_mask": np.triu(np.full((T, T), -np.inf), 1), "memory_mask": hidden,
            "tgt_key_padding_mask": np.where(_padding([4, 2, 3], T), -np.inf, 0.0),
            "memory_key_padding_mask": memory_pad}


def _sequences(rng, batch_first: bool):
    shape = (lambda length: (N, length, E)) if batch_first else (lambda length: (length, N, E))
    return rng.standard_normal(shape(T)), rng.standard_normal(shape(S))


def _layer_pair(dropout: float, **kwargs):
    kwargs = dict(dim_feedforward=FF, dropout=dropout, **kwargs)
    return (TransformerDecoderLayer(E, HEADS, dtype=ffnn.float64, **kwargs),
            torch.nn.TransformerDecoderLayer(E, HEADS, dtype=torch.float64, **kwargs))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch_in_eval(batch_first, norm_first):
    rng = np.random.default_rng(0)
    ours, theirs = _layer_pair(0.1, batch_first=batch_first, norm_first=norm_first)
    _load(ours, theirs)
    ours.eval(), theirs.eval()
    _compare(ours, theirs, list(_sequences(rng, batch_first)), _masks("bool"), rng, False)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_gradients_match_torch_in_training(batch_first, norm_first):
    rng = np.random.default_rng(1)
    ours, theirs = _layer_pair(0.0, batch_first=batch_first, norm_first=norm_first,
                               activation="gelu")
    _load(ours, theirs, seed=1)
    options = {**_masks("float"), "tgt_is_causal": True}
    _compare(ours, theirs, list(_sequences(rng, batch_first)), options, rng, True)


def test_decoder_stacks_deep_copies_and_its_norm_as_torchs():
    rng = np.random.default_rng(2)
    layer, tlayer = _layer_pair(0.0, batch_first=True, norm_first=True)
    ours = TransformerDecoder(layer, 3, norm=nn.LayerNorm(E, dtype=ffnn.float64))
    theirs = torch.nn.TransformerDecoder(tlayer, 3, norm=torch.nn.LayerNorm(
        E, dtype=torch.float64))
    first, second = ours.layers[0].linear1.weight, ours.layers[1].linear1.weight
    assert first is not second and np.array_equal(first.numpy(), second.numpy())
    _load(ours, theirs, seed=2)
    _compare(ours, theirs, list(_sequences(rng, True)), _masks("bool"), rng, True)
    assert "(0-2): 3 x TransformerDecoderLayer(" in repr(ours)


def _transformer_pair(dropout: float, **kwargs):
    kwargs = dict(num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
                  dropout=dropout, **kwargs)
    ours = Transformer(E, HEADS, dtype=ffnn.float64, **kwargs)
    theirs = torch.nn.Transformer(E, HEADS, dtype=torch.float64, **kwargs)
    return ours, theirs


def _transformer_masks() -> dict:
    """The decoder's masks, plus src padding (the memory's, as a program passes it: torch's
    eval fast path zeroes the padded memory) and a src_mask hiding position 1 from 0."""
    masks = _masks("bool")
    src_mask = np.zeros((S, S), dtype=bool)
    src_mask[0, 1] = True
    return {**masks, "src_mask": src_mask,
            "src_key_padding_mask": masks["memory_key_padding_mask"]}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch_in_eval(batch_first, norm_first):
    rng = np.random.default_rng(3)
    ours, theirs = _transformer_pair(0.1, batch_first=batch_first, norm_first=norm_first)
    _load(ours, theirs, seed=3)
    ours.eval(), theirs.eval()
    tgt, src = _sequences(rng, batch_first)
    _compare(ours, theirs, [src, tgt], _transformer_masks(), rng, False)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_gradients_match_torch_in_training(batch_first, norm_first):
    rng = np.random.default_rng(4)
    ours, theirs = _transformer_pair(0.0, batch_first=batch_first, norm_first=norm_first)
    _load(ours, theirs, seed=4)
    tgt, src = _sequences(rng, batch_first)
    mask = Transformer.generate_square_subsequent_mask(T, dtype=ffnn.float64).numpy()
    options = {**_transformer_masks(), "tgt_mask": mask, "tgt_is_causal": True}
    _compare(ours, theirs, [src, tgt], options, rng, True)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_transformer_unbatched_with_one_dimensional_padding_masks():
    rng = np.random.default_rng(5)
    ours, theirs = _transformer_pair(0.0)
    _load(ours, theirs, seed=5)
    options = {"tgt_mask": np.triu(np.full((T, T), -np.inf), 1),
               "src_key_padding_mask": _padding([3], S)[0],
               "memory_key_padding_mask": _padding([3], S)[0],
               "tgt_key_padding_mask": np.where(_padding([3], T)[0], -np.inf, 0.0)}
    _compare(ours, theirs, [rng.standard_normal((S, E)), rng.standard_normal((T, E))],
             options, rng, True)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("activation", ["gelu", "function"])
def test_activation_by_name_or_function_as_torchs(activation):
    rng = np.random.default_rng(6)
    ours, theirs = _transformer_pair(
        0.0, activation=ffnn.nn.functional.gelu if activation == "function" else "gelu")
    if activation == "function":
        theirs = torch.nn.Transformer(E, HEADS, 2, 2, FF, 0.0, torch.nn.functional.gelu,
                                      dtype=torch.float64)
    _load(ours, theirs, seed=6)
    tgt, src = _sequences(rng, False)
    _compare(ours, theirs, [src, tgt], {}, rng, True)


def test_custom_encoder_and_decoder_are_used_and_named_as_torchs():
    rng = np.random.default_rng(7)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(
        E, HEADS, FF, 0.0, dtype=ffnn.float64), 1)
    decoder = TransformerDecoder(TransformerDecoderLayer(E, HEADS, FF, 0.0,
                                                         dtype=ffnn.float64), 1)
    ours = Transformer(E, HEADS, custom_encoder=encoder, custom_decoder=decoder)
    theirs = torch.nn.Transformer(E, HEADS, custom_encoder=torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, HEADS, FF, 0.0, dtype=torch.float64), 1,
        enable_nested_tensor=False), custom_decoder=torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(E, HEADS, FF, 0.0, dtype=torch.float64), 1))
    assert ours.encoder is encoder and ours.decoder is decoder
    _load(ours, theirs, seed=7)
    tgt, src = _sequences(rng, False)
    _compare(ours, theirs, [src, tgt], {}, rng, True)


def test_parameters_are_redrawn_xavier_uniform_and_reproducible():
    """torch re-draws every matrix after building the stacks, so the layer copies differ; the
    same seed gives the same model."""
    ffnn.manual_seed(3)
    model = Transformer(E, HEADS, 2, 2, FF)
    weights = [model.decoder.layers[i].linear1.weight.numpy() for i in range(2)]
    assert not np.array_equal(*weights)
    bound = np.sqrt(6.0 / (E + FF))
    assert np.abs(weights[0]).max() <= bound and np.abs(weights[0]).max() > 0.8 * bound
    ffnn.manual_seed(3)
    again = Transformer(E, HEADS, 2, 2, FF)
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


@pytest.mark.parametrize("size", [0, 1, 4])
def test_generate_square_subsequent_mask_as_torchs(size):
    mask = Transformer.generate_square_subsequent_mask(size)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(size)
    assert mask.dtype == ffnn.float32
    np.testing.assert_array_equal(mask.numpy(), expected.numpy())
    assert Transformer.generate_square_subsequent_mask(size, dtype=ffnn.float64).dtype == \
        ffnn.float64


def test_transformer_saves_and_rebuilds(tmp_path):
    model = Transformer(E, HEADS, 1, 2, FF, dropout=0.0, batch_first=True, norm_first=True)
    ffnn.save(tmp_path / "transformer.safetensors", model)
    loaded = ffnn.load(tmp_path / "transformer.safetensors").model
    assert isinstance(loaded, Transformer) and isinstance(loaded.decoder, TransformerDecoder)
    assert loaded.decoder.layers[1].norm_first and loaded.decoder.num_layers == 2
    rng = np.random.default_rng(8)
    src, tgt = (ffnn.tensor(rng.standard_normal(s).astype(np.float32))
                for s in ((2, S, E), (2, T, E)))
    np.testing.assert_array_equal(loaded(src, tgt).numpy(), model(src, tgt).numpy())


def test_bad_arguments_raise_as_torch():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        TransformerDecoderLayer(6, 4)  # torch: AssertionError from MultiheadAttention
    with pytest.raises(RuntimeError, match="activation"):
        TransformerDecoderLayer(E, HEADS, activation="no such thing")
    with pytest.raises(ValueError, match="num_layers"):
        TransformerDecoder(TransformerDecoderLayer(E, HEADS), 0)
    with pytest.raises(TypeError, match="decoder_layer must be a Module"):
        TransformerDecoder("layer", 2)
    model = Transformer(E, HEADS, 1, 1, FF)
    src, tgt = ffnn.randn(S, N, E), ffnn.randn(T, N, E)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(src, ffnn.randn(T, N + 1, E))
    with pytest.raises(RuntimeError, match="feature number of src and tgt must be equal"):
        model(src, ffnn.randn(T, N, E + 1))
    with pytest.raises(RuntimeError, match="batch number of tgt and memory"):
        model.decoder(tgt, ffnn.randn(S, N + 1, E))
    with pytest.raises(ValueError, match=r"expects query of shape"):
        model.decoder.layers[0](ffnn.randn(T, N, E + 2), src)
