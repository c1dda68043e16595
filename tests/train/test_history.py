"""History: contents after fit, JSON round-trip, and the PNG plot."""

from __future__ import annotations

import json
import math

import pytest

from ffnn.train import History
from tests.train.conftest import make_trainer


def test_fit_logs_every_epoch(blobs):
    X, y = blobs
    trainer = make_trainer(metrics=["accuracy", "f1"])
    history = trainer.fit((X[:90], y[:90]), (X[90:], y[90:]), epochs=4, batch_size=16, verbose=0)
    assert history is trainer.history
    assert history.epoch == [0, 1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy",
                                    "val_f1", "lr"}
    assert all(len(v) == 4 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["lr"] == [0.01] * 4
    assert len(history.times) == 4 and all(t > 0 for t in history.times)
    # the last val_ values are what evaluate() reports on the same data
    final = trainer.evaluate((X[90:], y[90:]))
    assert final["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)
    assert final["accuracy"] == history["val_accuracy"][-1]


def test_json_round_trip(blobs):
    X, y = blobs
    history = make_trainer(metrics=["accuracy"]).fit((X, y), validation_split=0.25, epochs=3,
                                                     verbose=0)
    text = json.dumps(history.to_dict())
    again = History.from_dict(json.loads(text))
    assert again.history == history.history
    assert again.epoch == history.epoch and again.times == history.times


def test_record_pads_missing_names_with_nan():
    history = History()
    history.record(0, {"loss": 1.0})
    history.record(1, {"loss": 0.5, "val_loss": 0.7})
    assert history["loss"] == [1.0, 0.5]
    assert math.isnan(history["val_loss"][0]) and history["val_loss"][1] == 0.7


def test_from_dict_rejects_ragged_lists():
    with pytest.raises(ValueError, match="one value per epoch \\(2\\)"):
        History.from_dict({"history": {"loss": [1.0]}, "epoch": [0, 1]})
    with pytest.raises(ValueError, match="missing keys \\['epoch'\\]"):
        History.from_dict({"history": {}})


def test_plot_writes_a_png(blobs, tmp_path):
    X, y = blobs
    history = make_trainer(metrics=["accuracy"]).fit((X, y), validation_split=0.25, epochs=3,
                                                     verbose=0)
    path = history.plot(tmp_path / "curves.png")
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temp file left


def test_plot_of_empty_history_fails(tmp_path):
    with pytest.raises(ValueError, match="no epoch recorded"):
        History().plot(tmp_path / "x.png")
