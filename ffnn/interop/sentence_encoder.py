"""A sentence-transformers model (BERT + pooling + normalisation) as an ffnn Module, read from
a model folder: ``config.json``, ``model.safetensors``, ``tokenizer.json`` (through the
``tokenizers`` library), ``modules.json``, ``1_Pooling/config.json`` and
``sentence_bert_config.json``.

    e = Σ_t m_t h_t / max(Σ_t m_t, 1e-9)      (mean over the attention mask m, h [N, L, E])
    e ← e / max(‖e‖₂, 1e-12)                  (when modules.json names Normalize)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ffnn import dtypes, ops
from ffnn.autograd import is_grad_enabled, no_grad
from ffnn.nn.bert import BertModel, _int_tensor
from ffnn.nn.bert_inference import PackedBert
from ffnn.tensor import Tensor

_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_TRANSFORMER = "sentence_transformers.models.Transformer"


def mean_pool(hidden: Tensor, attention_mask: np.ndarray) -> Tensor:
    """Σ_t m_t h_t / max(Σ_t m_t, 1e-9): hidden [N, L, E], mask [N, L] → [N, E]."""
    mask = np.asarray(attention_mask).astype(hidden.numpy().dtype)
    counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    weights = Tensor._of((mask / counts)[:, :, None])
    return ops.sum(hidden * weights, dim=1)


def l2_normalize(x: Tensor, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖₂, eps) along the last axis (torch's F.normalize)."""
    norm = ops.sqrt(ops.sum(x * x, dim=-1, keepdim=True))
    return x / ops.clamp(norm, min=eps)


class SentenceEncoder(BertModel):
    """BERT with sentence-transformers' pooling: ``forward(input_ids, attention_mask)`` →
    sentence embeddings [N, E] (normalised when ``normalize`` is set, as modules.json says);
    ``encode(sentences)`` tokenises raw text. An ordinary Module: train it, wrap it with LoRA,
    save its ``state_dict`` (Hugging Face's key names)."""

    tokenizer_json: str | None = None

    def __init__(self, *, tokenizer_json: str | None = None, max_seq_length: int = 256,
                 pooling: str = "mean", normalize: bool = True, **bert_config):
        super().__init__(**bert_config)
        if pooling not in ("mean", "cls"):
            raise ValueError(f"SentenceEncoder: pooling must be 'mean' or 'cls'. "
                             f"Received: pooling={pooling!r}")
        self.tokenizer_json = tokenizer_json
        self.max_seq_length = int(max_seq_length)
        self.pooling, self.normalize = pooling, bool(normalize)

    @property
    def tokenizer(self):
        """The ``tokenizers.Tokenizer`` built from ``tokenizer_json`` (the text of
        tokenizer.json, saved with the model's spec): no padding, truncation at
        ``max_seq_length``. None without a tokenizer_json."""
        built = self.__dict__.get("_built_tokenizer")
        if built is None and self.tokenizer_json:
            from tokenizers import Tokenizer

            built = Tokenizer.from_str(self.tokenizer_json)
            built.no_padding()
            built.enable_truncation(max_length=self.max_seq_length)
            self.__dict__["_built_tokenizer"] = built
        return built

    def forward(self, input_ids, attention_mask=None, token_type_ids=None,
                normalize: bool | None = None) -> Tensor:
        """Sentence embeddings [N, E]; ``normalize`` overrides the model's own setting.

        Without a graph (``ffnn.no_grad``) in eval mode, the padding-free path of
        ``ffnn.nn.bert_inference`` computes the same embeddings."""
        ids = input_ids.numpy() if isinstance(input_ids, Tensor) else np.asarray(input_ids)
        if attention_mask is None:
            attention_mask = ids != self.config["pad_token_id"]
        mask = np.asarray(attention_mask.numpy() if isinstance(attention_mask, Tensor)
                          else attention_mask)
        normalize = self.normalize if normalize is None else normalize
        if not is_grad_enabled():
            pooled = self._packed_pool(PackedBert.of(self), input_ids, mask, token_type_ids)
            if pooled is not None:
                return Tensor._of(_l2_normalized(pooled) if normalize else pooled)
        hidden = super().forward(input_ids, mask, token_type_ids)
        pooled = mean_pool(hidden, mask) if self.pooling == "mean" else hidden[:, 0]
        return l2_normalize(pooled) if normalize else pooled

    def _packed_pool(self, plan: PackedBert | None, input_ids, mask: np.ndarray,
                     token_type_ids) -> np.ndarray | None:
        """The pooled embeddings [N, E] through ``plan``; None when there is no plan or the
        batch does not fit it (a mask other than 1s then 0s per row, a row without tokens)."""
        input_ids = self._check_input_ids(input_ids).numpy()
        lengths = _prefix_lengths(mask, input_ids.shape)
        if plan is None or lengths is None:
            return None
        if token_type_ids is not None:
            token_type_ids = _int_tensor(token_type_ids, "token_type_ids").numpy()
            if token_type_ids.shape != input_ids.shape:
                return None
        hidden, packing = plan.hidden(input_ids, lengths, token_type_ids)
        if self.pooling == "cls":
            return hidden[packing.starts]
        sums = np.add.reduceat(hidden, packing.starts, axis=0, dtype=np.float64)
        return (sums / lengths[:, None]).astype(hidden.dtype)

    def tokenize(self, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), each [N, L] int64, padded to the longest sentence and
        truncated at ``max_seq_length`` tokens ([CLS] and [SEP] included)."""
        if self.tokenizer is None:
            raise ValueError("SentenceEncoder: no tokenizer; build it with "
                             "load_sentence_encoder() or pass tokenizer_json=")
        sentences = _check_sentences(sentences)
        encodings = self.tokenizer.encode_batch(sentences)
        length = max((len(e.ids) for e in encodings), default=0)
        ids = np.full((len(sentences), length), self.config["pad_token_id"], dtype=np.int64)
        mask = np.zeros((len(sentences), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        return ids, mask

    def encode(self, sentences: str | list[str], batch_size: int = 32,
               normalize_embeddings: bool = True) -> np.ndarray:
        """Embeddings [n, E] (float32 unless the model is float64) of ``sentences``, in their
        order; batches of similar length (sorted by length, as sentence-transformers) to pad
        little. Eval mode, no graph. A single string gives [E]."""
        single = isinstance(sentences, str)
        sentences = _check_sentences([sentences] if single else sentences)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"encode: batch_size must be a positive integer. "
                             f"Received: batch_size={batch_size!r}")
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        normalize = self.normalize or normalize_embeddings
        was_training = self.training
        self.eval()
        chunks = []
        try:
            with no_grad():
                plan = PackedBert.of(self)
                for start in range(0, len(sentences), batch_size):
                    batch = [sentences[i] for i in order[start:start + batch_size]]
                    ids, mask = self.tokenize(batch)
                    pooled = self._packed_pool(plan, ids, mask, None)
                    if pooled is None:
                        chunks.append(self(Tensor._of(ids), mask, normalize=normalize).numpy())
                    else:
                        chunks.append(_l2_normalized(pooled) if normalize else pooled)
        finally:
            self.train(was_training)
        width = self.hidden_size
        stacked = np.concatenate(chunks) if chunks else np.zeros((0, width), np.float32)
        result = np.empty_like(stacked)
        result[order] = stacked
        return result[0] if single else result


def _l2_normalized(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """``l2_normalize`` on an array [N, E] (the norm summed in float64)."""
    norm = np.sqrt(np.einsum("ne,ne->n", x, x, dtype=np.float64))[:, None]
    return (x / np.maximum(norm, eps)).astype(x.dtype)


def _prefix_lengths(mask: np.ndarray, shape: tuple) -> np.ndarray | None:
    """Each row's count of tokens when the mask [N, L] is 1s then 0s on every row (at least
    one 1), else None."""
    if mask.shape != shape or mask.dtype.kind not in "biuf" or mask.size == 0:
        return None
    tokens = mask != 0
    if not ((mask == 0) | (mask == 1)).all() or (tokens[:, 1:] > tokens[:, :-1]).any():
        return None
    lengths = tokens.sum(axis=1)
    return lengths if (lengths > 0).all() else None


def _check_sentences(sentences) -> list[str]:
    if isinstance(sentences, str) or not all(isinstance(s, str) for s in sentences):
        raise TypeError("SentenceEncoder: sentences must be a list of strings. Received: "
                        f"{type(sentences).__name__} holding "
                        f"{sorted({type(s).__name__ for s in sentences})}")
    return list(sentences)


def read_sentence_encoder(folder: str | os.PathLike, dtype=dtypes.float32) -> SentenceEncoder:
    """Build a :class:`SentenceEncoder` from a sentence-transformers model folder.

    Raises FileNotFoundError for a missing file, ValueError for a layout it cannot build
    (no Transformer + Pooling in modules.json, a pooling mode other than mean or CLS, weights
    whose keys or shapes differ from config.json's)."""
    from safetensors import safe_open
    from tokenizers import Tokenizer

    folder = Path(folder)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"load_sentence_encoder: {folder} has no {name}")
    config = _read_json(folder / "config.json")
    modules = _read_json(folder / "modules.json") if (folder / "modules.json").is_file() else [
        {"type": _TRANSFORMER, "path": ""}, {"type": _POOLING, "path": "1_Pooling"}]
    types = [m.get("type") for m in modules]
    if _TRANSFORMER not in types or _POOLING not in types:
        raise ValueError(f"load_sentence_encoder: {folder}/modules.json must name a Transformer "
                         f"and a Pooling module. Received: {types}")
    pooling_dir = folder / modules[types.index(_POOLING)].get("path", "1_Pooling")
    pooling = _pooling_mode(_read_json(pooling_dir / "config.json"))
    st_config = folder / "sentence_bert_config.json"
    max_seq_length = min(
        int(_read_json(st_config).get("max_seq_length", 512)) if st_config.is_file() else 512,
        int(config.get("max_position_embeddings", 512)))

    tokenizer_json = (folder / "tokenizer.json").read_text(encoding="utf-8")
    try:
        Tokenizer.from_str(tokenizer_json)
    except Exception as error:  # the library raises its own Exception type
        raise ValueError(f"load_sentence_encoder: {folder}/tokenizer.json is not a tokenizers "
                         f"file: {error}") from None
    model = SentenceEncoder(tokenizer_json=tokenizer_json, max_seq_length=max_seq_length,
                            pooling=pooling, normalize=_NORMALIZE in types, dtype=dtype,
                            **{k: v for k, v in config.items() if k in _BERT_KEYS})
    expected = model.state_dict()
    with safe_open(str(folder / "model.safetensors"), framework="np") as handle:
        keys = set(handle.keys())
        prefix = _prefix(keys)
        missing = [k for k in expected if prefix + k not in keys]
        if missing:
            raise ValueError(f"load_sentence_encoder: {folder}/model.safetensors lacks "
                             f"{missing[:5]} (of {len(missing)} keys)")
        state = {k: handle.get_tensor(prefix + k).astype(np.dtype(dtype)) for k in expected}
    model.load_state_dict(state)
    return model


_BERT_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
              "intermediate_size", "hidden_act", "hidden_dropout_prob",
              "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
              "layer_norm_eps", "pad_token_id")


def _pooling_mode(config: dict) -> str:
    modes = [k for k, v in config.items() if k.startswith("pooling_mode") and v]
    if modes == ["pooling_mode_mean_tokens"]:
        return "mean"
    if modes == ["pooling_mode_cls_token"]:
        return "cls"
    raise ValueError(f"load_sentence_encoder: only mean or CLS pooling is supported. "
                     f"Received: {modes}")


def _prefix(keys: set[str]) -> str:
    for key in keys:
        if key.endswith("embeddings.word_embeddings.weight"):
            return key[: -len("embeddings.word_embeddings.weight")]
    return ""


def _read_json(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"load_sentence_encoder: no file {path}")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
