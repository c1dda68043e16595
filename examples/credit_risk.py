"""Credit risk: who will default on their credit-card debt? A real table with a text column
and gaps, through ``read_table`` → ``TabularPreprocessor`` → ``TabularModel`` → ONNX.

Data: ISLP's ``Default`` (10,000 card holders: ``default`` Yes/No, ``student`` Yes/No,
``balance``, ``income``; ``pip install --no-deps ISLP``, only its CSV is read). The file has
no gaps, so this script blanks 8 % of ``income`` and 3 % of ``student`` cells at random (a
fixed seed), as an application form left half filled would. Split: a stratified 25 % test set.
The preprocessing is fitted on the training rows only: income's gaps take the training
median and an ``income_na`` indicator; ``student`` becomes a learned 2-wide embedding
(``onehot_max=0`` here, to show the layer; the CLI would one-hot a 2-category column), with
its own "missing" row. Run ``python examples/credit_risk.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

import numpy as np

import ffnn
from ffnn import nn, optim
from ffnn.data import TabularPreprocessor, read_table, train_test_split
from ffnn.train import Trainer, accuracy


def default_csv() -> str:
    from ffnn.bench.tabular import data_file

    path = data_file("ISLP", "Default.csv")
    if path is None:
        raise SystemExit("this example reads ISLP's Default.csv: pip install --no-deps ISLP")
    return path


def with_gaps(table: dict, seed: int = 0) -> dict:
    """A copy with 8 % of income and 3 % of student cells blanked (missing at random)."""
    rng = np.random.default_rng(seed)
    table = {name: values.copy() for name, values in table.items()}
    table["income"][rng.random(table["income"].shape[0]) < 0.08] = np.nan
    table["student"][rng.random(table["student"].shape[0]) < 0.03] = None
    return table


def credit_risk(seed: int = 0, epochs: int = 30, verbose: int = 0) -> dict:
    """Train and score; returns test accuracy, defaulters caught, the baseline, seconds."""
    table = with_gaps(read_table(default_csv()))
    labels = table.pop("default")
    classes = sorted(set(labels.tolist()))  # ['No', 'Yes']
    y = np.array([classes.index(v) for v in labels.tolist()], dtype=np.int64)
    rows = np.arange(y.shape[0])
    train_rows, test_rows, y_train, y_test = train_test_split(rows, y, test_size=0.25,
                                                              stratify=y, random_state=seed)

    pre = TabularPreprocessor(onehot_max=0).fit(table, rows=train_rows)
    X_train = pre.transform(table, rows=train_rows)
    X_test = pre.transform(table, rows=test_rows)
    print(pre, "| filled in the test rows:", pre.filled)

    ffnn.manual_seed(seed)
    model = nn.TabularModel.from_preprocessor(pre, hidden_sizes=(32, 16), out_features=2)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                      metrics=["accuracy"], seed=seed)
    start = time.perf_counter()
    trainer.fit((X_train, y_train), epochs=epochs, batch_size=64, verbose=verbose)
    seconds = time.perf_counter() - start
    predicted = np.asarray(trainer.predict(X_test))
    defaulters = y_test == 1
    result = {"test_accuracy": accuracy(y_test, predicted),
              "baseline_accuracy": float(np.mean(y_test == 0)),  # "nobody defaults"
              "defaulters_caught": float(np.mean(predicted[defaulters] == 1)),
              "seconds": seconds}

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "credit.safetensors")
        ffnn.save(path, model, metadata={"preprocessing": pre.state_dict(),
                                         "classes": classes})
        loaded = ffnn.load(path)
        again = TabularPreprocessor.from_state_dict(loaded.metadata["preprocessing"])
        assert json.dumps(again.state_dict()) == json.dumps(pre.state_dict())
        result["onnx_max_difference"] = _onnx_check(model, X_test, folder)
    return result


def _onnx_check(model, X: np.ndarray, folder: str) -> float | None:
    """Largest |onnxruntime - ffnn| over the test rows (None without onnxruntime)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    from ffnn.interop.onnx import export

    model.eval()
    path = export(model, os.path.join(folder, "credit.onnx"), X[:1])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with ffnn.no_grad():
        ours = model(ffnn.tensor(X)).numpy()
    return float(np.abs(session.run(None, {"input": X})[0] - ours).max())


if __name__ == "__main__":
    r = credit_risk(verbose=0)
    print(f"credit risk: test accuracy {r['test_accuracy']:.4f} (everyone 'No': "
          f"{r['baseline_accuracy']:.4f}); defaulters caught {r['defaulters_caught']:.2%}; "
          f"trained in {r['seconds']:.1f} s; ONNX vs ffnn max |diff| "
          f"{r['onnx_max_difference']:.1e}")
