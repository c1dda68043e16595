"""Fixtures for driving the ``ffnn`` command as a user would: a subprocess per call, and CSV
files written by the test (raw features on a large scale, so predictions are only right when
the saved preprocessing is applied)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["cat", "dog", "eel"]


def run_ffnn(*args, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m ffnn ARGS`` in a subprocess (the checkout first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "ffnn", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def ffnn_cli():
    return run_ffnn


def blobs(n: int, seed: int, labels=LABELS) -> tuple[np.ndarray, list[str]]:
    """Well-separated Gaussian classes in 4-D, features scaled to ~1e3 with offsets."""
    rng = np.random.default_rng(seed)
    centers = np.array([[2.5, 0, 0, 0], [0, 2.5, 0, 0], [0, 0, 2.5, 0], [0, 0, 0, 2.5],
                        [2.5, 2.5, 0, 0]])[:len(labels)]
    y = rng.integers(0, len(labels), n)
    X = centers[y] + 0.5 * rng.standard_normal((n, 4))
    X = X * np.array([1000.0, 1.0, 50.0, 0.01]) + np.array([5000.0, -3.0, 100.0, 7.0])
    return X, [labels[i] for i in y]


def write_csv(path: Path, X: np.ndarray, y: list | None, names=("a", "b", "c", "d"),
              target: str = "animal") -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(names) + ([target] if y is not None else []))
        for i, row in enumerate(X):
            writer.writerow([repr(float(v)) for v in row] + ([y[i]] if y is not None else []))
    return path


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture
def class_data(tmp_path) -> dict:
    """train.csv (240 rows) and test.csv (90 rows) with text labels cat/dog/eel."""
    X, y = blobs(240, seed=1)
    Xt, yt = blobs(90, seed=2)
    return {"train": write_csv(tmp_path / "train.csv", X, y),
            "test": write_csv(tmp_path / "test.csv", Xt, yt), "test_labels": yt, "X_test": Xt}


@pytest.fixture
def run_config(tmp_path, class_data) -> Path:
    """A small classification config for class_data (written as a user would)."""
    path = tmp_path / "run.toml"
    path.write_text(f"""
seed = 3
out = "{(tmp_path / 'run').as_posix()}"

[data]
csv = "{class_data['train'].as_posix()}"
target = "animal"

[model]
hidden_sizes = [16, 8]

[train]
epochs = 6
batch_size = 32
lr = 0.01
""")
    return path
