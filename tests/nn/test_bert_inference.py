"""The padding-free inference path of BERT (``ffnn.nn.bert_inference``) against the modules'
own forward: per-token hidden states and pooled sentence embeddings, float64 and float32, plain
and LoRA-wrapped models, other activations, and the cases that must fall back."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel
from ffnn.finetune import apply_lora
from ffnn.interop.sentence_encoder import SentenceEncoder
from ffnn.nn.bert_inference import PackedBert
from tests.helpers import assert_close

SMALL = dict(vocab_size=23, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
             intermediate_size=12, max_position_embeddings=40, type_vocab_size=2,
             hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12)
LENGTHS = [7, 3, 30, 1, 5, 7, 28]


def _model(dtype=ffnn.float64, seed=0, **overrides) -> SentenceEncoder:
    rng = np.random.default_rng(seed)
    model = SentenceEncoder(**{**SMALL, **overrides}, dtype=dtype)
    for p in model.parameters():  # larger than the defaults: a harder test
        p.numpy()[...] = rng.standard_normal(p.shape) * 0.5
    return model.eval()


def _batch(seed=1, lengths=LENGTHS, length=32):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, SMALL["vocab_size"], (len(lengths), length))
    mask = (np.arange(length)[None, :] < np.asarray(lengths)[:, None]).astype(np.int64)
    types = rng.integers(0, 2, ids.shape) * mask
    return np.where(mask == 1, ids, 0), mask, types


def _both(model, ids, mask, types=None):
    """(packed path, modules' forward) of the sentence encoder on one batch."""
    with ffnn.no_grad():
        assert PackedBert.of(model) is not None
        fast = model(ffnn.tensor(ids), mask, None if types is None else ffnn.tensor(types))
    reference = model(ffnn.tensor(ids), mask, None if types is None else ffnn.tensor(types))
    assert reference.requires_grad  # the graph was recorded: the modules' path ran
    return fast.numpy(), reference.detach().numpy()


@pytest.fixture(params=[True, False] if accel.available else [False],
                ids=lambda compiled: "compiled" if compiled else "numpy")
def compiled(request, monkeypatch):
    monkeypatch.setattr(accel, "enabled", request.param)


@pytest.mark.parametrize("dtype", [ffnn.float64, ffnn.float32])
@pytest.mark.parametrize("lengths", [LENGTHS, [6, 6, 6]])
def test_packed_hidden_states_equal_the_modules_on_real_tokens(compiled, dtype, lengths):
    model = _model(dtype)
    ids, mask, types = _batch(lengths=lengths)
    with ffnn.no_grad():
        packed, packing = PackedBert.of(model).hidden(ids, mask.sum(axis=1), types)
    hidden = ffnn.nn.bert.BertModel.forward(model, ffnn.tensor(ids), mask, ffnn.tensor(types))
    np.testing.assert_array_equal(packing.lengths, lengths)
    assert packed.dtype == hidden.numpy().dtype
    assert_close(packed, hidden.detach().numpy()[mask == 1], dtype=dtype)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("normalize", [True, False])
def test_packed_sentence_embeddings_equal_the_modules(compiled, pooling, normalize):
    model = _model(pooling=pooling, normalize=normalize)
    ids, mask, types = _batch()
    fast, reference = _both(model, ids, mask, types)
    assert_close(fast, reference)
    fast, reference = _both(model, ids, mask)  # token types default to 0
    assert_close(fast, reference)


def test_lora_wrapped_model_and_another_activation_run_through_their_modules(compiled):
    model = _model(hidden_act="gelu_new")  # tanh GELU: not the fast kernel's
    apply_lora(model, target=["encoder.layer.0.attention.self.query",
                              "encoder.layer.1.intermediate.dense"], r=2)
    rng = np.random.default_rng(3)
    for name, p in model.named_parameters():
        if "lora_B" in name:  # zero at initialisation: give the adapters an effect
            p.numpy()[...] = rng.standard_normal(p.shape)
    model.eval()
    ids, mask, _ = _batch()
    fast, reference = _both(model, ids, mask)
    assert_close(fast, reference)
    merged = ffnn.finetune.merge_lora(model)
    with ffnn.no_grad():
        assert PackedBert.of(merged) is not None
        assert_close(merged(ffnn.tensor(ids), mask).numpy(), reference)


def test_weight_changes_are_seen_by_the_next_call():
    model = _model()
    ids, mask, _ = _batch()
    with ffnn.no_grad():
        before = model(ffnn.tensor(ids), mask).numpy()
    optimizer = ffnn.optim.SGD(model.parameters(), lr=0.5)
    model(ffnn.tensor(ids), mask).sum().backward()
    optimizer.step()
    fast, reference = _both(model, ids, mask)
    assert np.abs(fast - before).max() > 1e-3
    assert_close(fast, reference)


def test_fallbacks_give_the_modules_results():
    model = _model()
    ids, mask, _ = _batch()
    holes = mask.copy()
    holes[0, 2] = 0  # not 1s then 0s: the packed path does not take it
    with ffnn.no_grad():
        out = model(ffnn.tensor(ids), holes).numpy()
    assert_close(out, model(ffnn.tensor(ids), holes).detach().numpy())

    model.train()
    assert PackedBert.of(model) is None  # dropout is active
    model.eval()
    handle = model.encoder.layer[1].intermediate.register_forward_hook(
        lambda module, args, output: output * 2)
    assert PackedBert.of(model) is None  # a hook must run
    with ffnn.no_grad():
        hooked = model(ffnn.tensor(ids), mask).numpy()
    assert_close(hooked, model(ffnn.tensor(ids), mask).detach().numpy())
    handle.remove()
    assert PackedBert.of(model) is not None
    model.encoder.layer[0].attention.add_module("self", ffnn.nn.Identity())
    assert PackedBert.of(model) is None  # not BERT's own module


def test_packed_path_checks_inputs_as_the_modules_do():
    model = _model()
    with ffnn.no_grad(), pytest.raises(ValueError, match="at most max_position_embeddings=40"):
        model(ffnn.tensor(np.ones((1, 41), dtype=np.int64)))
    with ffnn.no_grad(), pytest.raises(TypeError, match="input_ids must be integers"):
        model(ffnn.tensor(np.ones((1, 4))))
    with ffnn.no_grad(), pytest.raises(IndexError, match="index 23 is out of range"):
        model(ffnn.tensor(np.array([[1, 23, 2]])))
