"""Text in the CLI: ``ffnn finetune minilm ft.toml`` with a ``[text]`` table fine-tunes the
pretrained sentence encoder (with a new classification head) on a CSV text column;
``ffnn eval`` / ``ffnn predict`` then read raw text rows (a CSV with that column, or a .txt
file with one text per line). The token ids are the model's inputs; the tokenizer travels
inside the checkpoint, so prediction needs nothing but the file."""

from __future__ import annotations

import csv
import os

import numpy as np

from ffnn.cli._common import CLIError, Printer
from ffnn.cli._data import Prepared, _split

MINILM = "minilm"


def read_text_csv(path: str, column: str, target: str | None, need_target: bool):
    """(texts, labels or None) from a CSV with a header row; CLIError naming what is missing."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file not found: {path!r}")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [c.strip() for c in (reader.fieldnames or [])]
        if column not in header:
            raise CLIError(f"{path} has no text column {column!r}. Columns: {header}")
        if need_target and target not in header:
            raise CLIError(f"{path} has no target column {target!r}. Columns: {header}")
        reader.fieldnames = header
        rows = [row for row in reader if any((v or "").strip() for v in row.values())]
    texts = [row[column] or "" for row in rows]
    labels = [(row[target] or "").strip() for row in rows] if target in header else None
    return texts, labels


def read_texts(path: str, column: str) -> list[str]:
    """Raw text rows: a ``.txt`` file (one text per non-empty line) or a CSV's column."""
    if path.endswith(".txt"):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"data file not found: {path!r}")
        with open(path, encoding="utf-8-sig") as handle:
            return [line.rstrip("\n") for line in handle if line.strip()]
    return read_text_csv(path, column, None, need_target=False)[0]


def token_matrix(encoder, texts: list[str], max_length: int) -> np.ndarray:
    """Token ids as float32 [N, max_length] (pad id 0): the array the Trainer hands on."""
    from ffnn.finetune.text import tokenize_texts

    if not texts:
        raise CLIError("no text rows to read")
    ids = tokenize_texts(encoder, texts, max_length)
    out = np.zeros((len(texts), max_length), dtype=np.float32)
    out[:, :ids.shape[1]] = ids
    return out


def load_encoder(name: str, column: str):
    """The sentence encoder CHECKPOINT names, for a fine-tune on text ``column``."""
    from ffnn.interop.pretrained import load_sentence_encoder

    if name == MINILM:
        return load_sentence_encoder()
    expected = (f"with text.column set ({column!r}), CHECKPOINT is '{MINILM}' (the installed "
                "all-MiniLM-L6-v2) or a sentence-transformers model folder")
    if not os.path.isdir(name):
        raise CLIError(f"{expected}. Received: {name!r}")
    if not os.path.isfile(os.path.join(name, "config.json")):
        mlp = " (an ffnn run folder: fine-tune it without text.column)" if os.path.isfile(
            os.path.join(name, "best.safetensors")) else ""
        raise CLIError(f"{expected}; {name} has no config.json{mlp}. Received: {name!r}")
    return load_sentence_encoder(name)


def prepare_text(cfg, encoder) -> Prepared:
    """Texts → token ids, labels → class indices, stratified test / validation splits."""
    data, text = cfg.data, cfg.text
    if not data.csv or not data.target:
        raise CLIError("a [text] fine-tune needs data.csv and data.target (the label column)")
    if data.task == "regression":
        raise CLIError("a [text] fine-tune trains a classifier; data.task = 'regression' is "
                       "not supported")
    texts, labels = read_text_csv(data.csv, text.column, data.target, need_target=True)
    classes = sorted(set(labels))
    if data.classes:
        keep = [i for i, label in enumerate(labels) if label in data.classes]
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        classes = [c for c in classes if c in data.classes]
    if len(classes) < 2:
        raise CLIError(f"{data.csv}: column {data.target!r} needs at least 2 classes. "
                       f"Received: {classes}")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    X = token_matrix(encoder, texts, text.max_length)
    X_rest, X_test, y_rest, y_test = _split(X, y, data.test_split, True, cfg.seed)
    X_train, X_val, y_train, y_val = _split(X_rest, y_rest, data.val_split, True, cfg.seed + 1)
    if data.rows_per_class:
        keep = np.sort(np.concatenate([np.flatnonzero(y_train == c)[:data.rows_per_class]
                                       for c in range(len(classes))]))
        X_train, y_train = X_train[keep], y_train[keep]
    pre = {"features": [text.column], "target": data.target, "task": "classification",
           "classes": classes, "x_scaler": None, "y_scaler": None,
           "text": {"column": text.column, "max_length": text.max_length}}
    return Prepared(X_train, y_train, X_val, y_val, X_test, y_test, pre)


def adapt_text(model, ft) -> list[str]:
    """The [finetune] keys for a text classifier: lora_rank (adapters on every attention and
    FFN projection), freeze = body (head only), else every parameter trains."""
    from ffnn.cli.finetune import check_lora_rank
    from ffnn.finetune import freeze, unfreeze
    from ffnn.finetune.text import apply_text_lora, text_lora_targets

    if ft.widen or ft.deepen:
        raise CLIError("finetune.widen / finetune.deepen apply to MLPs, not to a text encoder")
    if ft.lora_rank:
        check_lora_rank([model.get_submodule(n) for n in text_lora_targets(model)],
                        ft.lora_rank, "attention and FFN projections")
        apply_text_lora(model, r=ft.lora_rank, alpha=ft.lora_alpha)
        return [f"LoRA rank {ft.lora_rank} on the attention and FFN projections; new head"]
    if ft.freeze == "body":
        freeze(model)
        unfreeze(model, model.head)
        return ["froze the encoder; training the new head only"]
    return ["training every parameter of the encoder and the new head"]


def finetune_text(checkpoint: str, cfg, printer: Printer):
    """Fine-tune the sentence encoder ``checkpoint`` as ``cfg`` says: (RunResult, Prepared)."""
    import dataclasses

    import ffnn
    from ffnn.cli import _run
    from ffnn.cli.config import to_toml
    from ffnn.cli.finetune import say_adaptation
    from ffnn.finetune.text import TextClassifier

    ffnn.manual_seed(cfg.seed)
    encoder = load_encoder(checkpoint, cfg.text.column)
    data = prepare_text(cfg, encoder)
    model = TextClassifier(encoder, len(data.preprocessing["classes"]))
    model.train()
    done = adapt_text(model, cfg.finetune)
    say_adaptation(printer, model, done, f"{data.X_train.shape[0]} texts", cfg.out)
    result = _run.fit(model, data, cfg.train, cfg.augment, cfg.seed, cfg.out, printer,
                      config_text=to_toml(cfg),
                      extra_meta={"config": dataclasses.asdict(cfg),
                                  "base_checkpoint": str(checkpoint)})
    return result, data


def read_new_texts(path: str, pre: dict, model, checkpoint: str, need_target: bool):
    """(token ids, class indices or None, None) for ``ffnn eval`` / ``ffnn predict`` (the
    texts' rows are their order: blank lines are skipped)."""
    column = pre["text"]["column"]
    if need_target:
        texts, labels = read_text_csv(path, column, pre["target"], need_target=True)
        index = {c: i for i, c in enumerate(pre["classes"])}
        unknown = sorted(set(labels) - set(index))
        if unknown:
            raise CLIError(f"{path}: target column {pre['target']!r} holds labels "
                           f"{unknown[:5]} that the model in {checkpoint} never saw; known "
                           f"labels: {pre['classes']}")
        y = np.array([index[label] for label in labels], dtype=np.int64)
    else:
        texts, y = read_texts(path, column), None
    return token_matrix(model.encoder, texts, pre["text"]["max_length"]), y, None
