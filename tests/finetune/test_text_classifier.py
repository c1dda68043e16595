"""Text classification on a sentence encoder: the classifier's input handling, LoRA on the
attention and FFN projections, full and adapter-only checkpoints, merging — on a small
random-weights encoder that uses the real all-MiniLM-L6-v2 tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn.finetune import LoRALinear, merge_lora
from ffnn.finetune.text import (
    TextClassifier,
    apply_text_lora,
    init_bert_weights,
    tokenize_texts,
)
from ffnn.interop import pretrained
from ffnn.interop.sentence_encoder import SentenceEncoder

TEXTS = ["A gripping, beautifully acted film.", "Dull.", "I wanted my two hours back!!!",
         "Not bad at all — funny, warm and smart 😀"]


@pytest.fixture
def encoder():
    folder = pretrained.minilm_dir()
    tokenizer_json = (folder / "tokenizer.json").read_text(encoding="utf-8")
    model = SentenceEncoder(tokenizer_json=tokenizer_json, max_seq_length=16, vocab_size=30522,
                            hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=12, max_position_embeddings=16)
    return init_bert_weights(model, std=0.5)


def _logits(model, ids):
    model.eval()
    with ffnn.no_grad():
        return model(ffnn.tensor(ids)).numpy()


def test_classifier_takes_float_ids_and_ignores_padding_columns(encoder):
    model = TextClassifier(encoder, 3)
    ids = tokenize_texts(encoder, TEXTS)
    assert ids.dtype == np.int64 and ids.shape[1] <= 16 and (ids[:, 0] == 101).all()
    wide = np.pad(ids, ((0, 0), (0, 5)))
    logits = _logits(model, ids)
    np.testing.assert_array_equal(_logits(model, wide.astype(np.float32)), logits)
    pooled = encoder(ffnn.tensor(ids), ids != 0, normalize=False).numpy()
    expected = pooled @ model.head.weight.numpy().T + model.head.bias.numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="whole numbers"):
        model(ffnn.tensor(ids + 0.5))
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        TextClassifier(encoder, 1)


def test_lora_targets_every_attention_and_ffn_projection(encoder):
    model = apply_text_lora(TextClassifier(encoder, 2), r=2)
    adapters = [n for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    assert len(adapters) == 2 * 6
    assert "encoder.encoder.layer.1.attention.self.value" in adapters
    assert "encoder.encoder.layer.0.output.dense" in adapters
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"{n}.lora_{k}" for n in adapters for k in "AB"} | {
        "head.weight", "head.bias"}
    ids = tokenize_texts(encoder, TEXTS)
    ffnn.nn.functional.cross_entropy(model(ffnn.tensor(ids)), ffnn.tensor(
        np.array([0, 1, 1, 0]))).backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if n in trainable)
    assert all(p.grad is None for n, p in model.named_parameters() if n not in trainable)


def _adapted(encoder):
    model = apply_text_lora(TextClassifier(encoder, 2), r=2)
    rng = np.random.default_rng(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:  # a trained adapter is not zero
            p.numpy()[...] = rng.standard_normal(p.shape) * 0.3
    return model


def test_full_checkpoint_rebuilds_the_model_and_its_tokenizer(encoder, tmp_path):
    model = _adapted(encoder)
    path = tmp_path / "text.safetensors"
    ffnn.save(path, model)
    loaded = ffnn.load(path).model
    assert isinstance(loaded, TextClassifier)
    ids = tokenize_texts(loaded.encoder, TEXTS)
    np.testing.assert_array_equal(ids, tokenize_texts(encoder, TEXTS))
    np.testing.assert_array_equal(_logits(loaded, ids), _logits(model, ids))


def test_adapter_checkpoint_and_merged_model_equal_the_adapted_one(encoder, tmp_path):
    base_state = {k: np.array(v) for k, v in encoder.state_dict().items()}
    model = _adapted(encoder)
    ids = tokenize_texts(encoder, TEXTS)
    expected = _logits(model, ids)
    path = tmp_path / "adapters.safetensors"
    head = {k: np.array(v) for k, v in model.head.state_dict().items()}
    ffnn.save(path, model, adapters_only=True, metadata={"head": head})
    fresh = SentenceEncoder(tokenizer_json=encoder.tokenizer_json, max_seq_length=16,
                            **{**encoder.config})
    fresh.load_state_dict(base_state)
    base = TextClassifier(fresh, 2)
    checkpoint = ffnn.load(path, model=base)
    base.head.load_state_dict(checkpoint.metadata["head"])
    np.testing.assert_allclose(_logits(checkpoint.model, ids), expected, rtol=0, atol=1e-6)
    merged = merge_lora(model)
    assert not any(isinstance(m, LoRALinear) for m in merged.modules())
    assert np.abs(_logits(merged, ids) - expected).max() <= 1e-5
