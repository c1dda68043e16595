"""The ``encode`` case: sentences per second of all-MiniLM-L6-v2's ``encode`` in ffnn and in
sentence-transformers, on the same varied sentences, threads and batch size (timed in
alternation, median of the rounds; both timings include tokenisation), the largest difference
between their embeddings, and how many of the batches' token positions are padding
(sentence-transformers computes them; ffnn's ``encode`` skips them)."""

from __future__ import annotations

import os

import numpy as np

from ffnn.bench.report import TARGETS
from ffnn.bench.sentences import varied_sentences
from ffnn.bench.timing import interleaved

DESCRIPTION = ("all-MiniLM-L6-v2 encode() of varied sentences, batch 32: ffnn vs "
               "sentence-transformers")


def bench_encode(count: int = 128, batch_size: int = 32, rounds: int = 3,
                 use_torch: bool = True) -> dict:
    """A result row: ``ffnn_sps`` / ``torch_sps`` sentences per second, ``ratio`` = ffnn time
    / torch time, ``max_abs_diff`` between the two libraries' normalised embeddings."""
    from ffnn.interop.pretrained import load_sentence_encoder, minilm_dir

    sentences = varied_sentences(count, seed=0, long_every=32)
    ours = load_sentence_encoder()
    fns = {"ffnn": lambda: ours.encode(sentences, batch_size=batch_size)}
    theirs = None
    if use_torch:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        theirs = SentenceTransformer(str(minilm_dir()), device="cpu")
        fns["torch"] = lambda: theirs.encode(sentences, batch_size=batch_size,
                                             normalize_embeddings=True)
    times = interleaved(fns, warmup=1, rounds=rounds, steps=1)
    tokens, padded = _token_counts(ours, sentences, batch_size)
    row = {"case": "encode", "description": DESCRIPTION, "sentences": count,
           "batch_size": batch_size, "rounds": rounds, "tokens": tokens,
           "padded_tokens": padded,
           "ffnn_s": times["ffnn"]["median_s"], "ffnn_sps": count / times["ffnn"]["median_s"],
           "torch_s": None, "torch_sps": None, "ratio": None, "max_abs_diff": None}
    if theirs is not None:
        torch_s = times["torch"]["median_s"]
        diff = np.abs(fns["ffnn"]() - fns["torch"]()).max()
        row.update(torch_s=torch_s, torch_sps=count / torch_s,
                   ratio=times["ffnn"]["median_s"] / torch_s, max_abs_diff=float(diff))
    return row


def _token_counts(model, sentences: list[str], batch_size: int) -> tuple[int, int]:
    """(real tokens, token positions of the batches padded to their longest sentence), with
    the batches ``encode`` makes (sorted by length, as sentence-transformers)."""
    order = np.argsort([-len(s) for s in sentences], kind="stable")
    tokens = padded = 0
    for start in range(0, len(sentences), batch_size):
        _, mask = model.tokenize([sentences[i] for i in order[start:start + batch_size]])
        tokens += int(mask.sum())
        padded += mask.size
    return tokens, padded


def encode_line(row: dict) -> str:
    """The report's line: rates, the ratio against its target, agreement, padding."""
    text = (f"encode ({row['sentences']} varied sentences, batch {row['batch_size']}, median of "
            f"{row['rounds']}): ffnn {row['ffnn_sps']:.1f} sentences/s")
    if row.get("torch_sps") is not None:
        limit = next(limit for metric, limit, _ in TARGETS["encode"] if metric == "ratio")
        verdict = "met" if row["ratio"] <= limit else "NOT met"
        text += (f", sentence-transformers {row['torch_sps']:.1f} sentences/s, ffnn/torch time "
                 f"{row['ratio']:.2f} (target <= {limit:.1f}: {verdict}), max |difference| "
                 f"{row['max_abs_diff']:.1e}")
    if row.get("padded_tokens"):
        text += (f"; {row['tokens']} real tokens in {row['padded_tokens']} padded positions "
                 f"(ffnn computes only the real ones)")
    return text
