"""``ffnn train`` -> ``eval`` -> ``predict`` -> ``summary`` on CSV files written by the test."""

from __future__ import annotations

import json

import numpy as np

from .conftest import LABELS, read_csv, write_csv


def epoch_rows(path):
    """metrics.csv without its wall-clock column."""
    header, rows = read_csv(path)
    keep = [i for i, name in enumerate(header) if name != "time"]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]


RUN_FILES = {"best.safetensors", "last.safetensors", "metrics.csv", "curves.png", "config.toml",
             "summary.json"}


def test_train_eval_predict_summary(ffnn_cli, tmp_path, run_config, class_data):
    result = ffnn_cli("train", run_config, "--epochs", 8, "--seed", 4)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == RUN_FILES
    header, rows = read_csv(run / "metrics.csv")
    assert len(rows) == 8  # --epochs overrides train.epochs = 6
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(header)
    assert "epochs = 8" in (run / "config.toml").read_text()
    assert "seed = 4" in (run / "config.toml").read_text()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["classes"] == LABELS and summary["epochs"] == 8
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # eval: the features are on scales 0.01..1000 with offsets, so a high accuracy shows the
    # saved standardisation is applied to new data
    result = ffnn_cli("eval", run / "best.safetensors", class_data["test"], "--log-format",
                      "json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["rows"] == 90 and metrics["accuracy"] > 0.9

    out = tmp_path / "pred.csv"
    result = ffnn_cli("predict", run / "best.safetensors", class_data["test"], "-o", out,
                      "--proba")
    assert result.returncode == 0, result.stderr
    header, rows = read_csv(out)
    assert header == ["predicted_animal"] + [f"proba_{c}" for c in LABELS]
    predicted = [r[0] for r in rows]
    assert set(predicted) <= set(LABELS) and len(predicted) == 90
    probs = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert [LABELS[i] for i in probs.argmax(axis=1)] == predicted
    accuracy = np.mean(np.array(predicted) == np.array(class_data["test_labels"]))
    assert accuracy == metrics["accuracy"]  # eval and predict agree

    # predict on features only (no target column), output on stdout
    features_only = write_csv(tmp_path / "new.csv", class_data["X_test"][:5], None)
    result = ffnn_cli("predict", run, features_only)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["predicted_animal", *predicted[:5]]

    result = ffnn_cli("summary", run / "best.safetensors")
    assert result.returncode == 0, result.stderr
    # 4->16->8->3 MLP: (4*16+16) + (16*8+8) + (8*3+3) = 80 + 136 + 27 = 243 parameters
    assert "total parameters: 243" in result.stdout
    assert "[None, 16]" in result.stdout and "[None, 3]" in result.stdout


def test_regression_predictions_in_original_units(ffnn_cli, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = 1000.0 + X @ np.array([300.0, -200.0, 50.0]) + rng.standard_normal(300)
    names = ("x1", "x2", "x3")
    write_csv(tmp_path / "house.csv", X[:240], [repr(float(v)) for v in y[:240]], names, "price")
    write_csv(tmp_path / "new.csv", X[240:], [repr(float(v)) for v in y[240:]], names, "price")
    result = ffnn_cli("train", "--set", f"data.csv='{(tmp_path / 'house.csv').as_posix()}'",
                      "--set", "data.target=price", "--set", "model.hidden_sizes=[32]",
                      "--epochs", 60, "--lr", 0.01, "--out", tmp_path / "run", "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["task"] == "regression"  # detected from the float target
    result = ffnn_cli("predict", tmp_path / "run", tmp_path / "new.csv")
    assert result.returncode == 0, result.stderr
    predicted = np.array([float(v) for v in result.stdout.split()[1:]])
    r2 = 1 - np.sum((predicted - y[240:]) ** 2) / np.sum((y[240:] - y[240:].mean()) ** 2)
    assert r2 > 0.95
    result = ffnn_cli("eval", tmp_path / "run", tmp_path / "new.csv", "--log-format", "json")
    assert abs(json.loads(result.stdout)["r2"] - r2) < 1e-6


def test_log_format_json_prints_one_object_per_epoch(ffnn_cli, tmp_path, run_config):
    result = ffnn_cli("train", run_config, "--epochs", 3, "--log-format", "json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["epoch"] for r in records[:3]] == [1, 2, 3]
    assert all({"loss", "val_loss", "accuracy"} <= set(r) for r in records[:3])
    assert records[3]["event"] == "done" and "accuracy" in records[3]["test"]
    assert len(records) == 4


def test_resume_continues_exactly(ffnn_cli, tmp_path, run_config):
    """3 epochs, then --resume to 6, equals 6 epochs in one go (metrics and weights)."""
    import ffnn

    full = ffnn_cli("train", run_config, "--epochs", 6, "--out", tmp_path / "full", "-q")
    assert full.returncode == 0, full.stderr
    part = ffnn_cli("train", run_config, "--epochs", 3, "--out", tmp_path / "part", "-q")
    assert part.returncode == 0, part.stderr
    resumed = ffnn_cli("train", "--resume", tmp_path / "part", "--epochs", 6, "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert epoch_rows(tmp_path / "part" / "metrics.csv") == \
        epoch_rows(tmp_path / "full" / "metrics.csv")
    a = ffnn.load(tmp_path / "part" / "last.safetensors").model.state_dict()
    b = ffnn.load(tmp_path / "full" / "last.safetensors").model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_resume_after_kill(ffnn_cli, tmp_path, run_config):
    """Kill a run after its first checkpoint; --resume finishes it like an unbroken run.
    Where it stops depends on the machine's speed, so the comparison run is as long as the
    resumed one, whatever epoch the kill landed on."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import ffnn

    from .conftest import ROOT

    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "ffnn", "train", str(run_config), "--epochs",
                             "1000000", "--out", str(out), "-q"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out / "last.safetensors").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed mid-run, not finished
    stopped_at = ffnn.load(out / "last.safetensors").metadata["epoch"]
    assert stopped_at >= 1
    epochs = stopped_at + 3
    resumed = ffnn_cli("train", "--resume", out, "--epochs", epochs, "-q")
    assert resumed.returncode == 0, resumed.stderr
    full = ffnn_cli("train", run_config, "--epochs", epochs, "--out", tmp_path / "full", "-q")
    assert full.returncode == 0, full.stderr
    assert len(epoch_rows(out / "metrics.csv")[1]) == epochs
    assert epoch_rows(out / "metrics.csv") == epoch_rows(tmp_path / "full" / "metrics.csv")
    a = ffnn.load(out / "last.safetensors").model.state_dict()
    b = ffnn.load(tmp_path / "full" / "last.safetensors").model.state_dict()
    for key in b:
        np.testing.assert_array_equal(a[key], b[key])


def test_auto_epochs_and_lr_follow_the_step_budget_on_tables():
    from ffnn.cli._build import resolve_train
    from ffnn.cli.config import TrainConfig

    auto = TrainConfig()
    assert (auto.epochs, auto.lr) == (0, 0.0)
    small = resolve_train(auto, 288, table=True)  # 5 batches: 400 epochs, capped at 200
    assert (small.epochs, small.lr) == (200, 3e-4)
    assert resolve_train(auto, 2160, table=True).epochs == 59  # 34 batches: ceil(2000 / 34)
    assert resolve_train(auto, 10_000, table=True).epochs == 30  # 157 batches: at least 30
    bundled = resolve_train(auto, 288, table=False)
    assert (bundled.epochs, bundled.lr) == (30, 1e-3)
    chosen = resolve_train(TrainConfig(epochs=7, lr=0.01), 288, table=True)
    assert (chosen.epochs, chosen.lr) == (7, 0.01)
