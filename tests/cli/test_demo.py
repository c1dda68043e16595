"""``ffnn demo --fast``: the whole tour runs offline and writes the run folder."""

from __future__ import annotations

import json
import re

import ffnn

from .conftest import read_csv, run_ffnn


def test_demo_fast(tmp_path):
    out = tmp_path / "demo"
    result = run_ffnn("demo", "--fast", "--out", out)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert {p.name for p in out.iterdir()} == {
        "best.safetensors", "last.safetensors", "metrics.csv", "curves.png", "config.toml",
        "summary.json", "finetune.toml"}
    summary = json.loads((out / "summary.json").read_text())
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", text).group(1))
    assert abs(accuracy - summary["test"]["accuracy"]) < 1e-4
    assert accuracy > 0.8  # 3 epochs on the digits 0-4 already separate them
    assert "confusion matrix" in text
    assert len(read_csv(out / "metrics.csv")[1]) == 3
    for method in ("from scratch", "new head, frozen body", "LoRA r=4", "full fine-tuning"):
        assert re.search(re.escape(method) + r".*\s0\.\d{3}\s", text), method
    assert "Try next:" in text and "ffnn finetune" in text
    # the checkpoint is a normal ffnn checkpoint with the preprocessing record
    loaded = ffnn.load(out / "best.safetensors")
    assert loaded.metadata["preprocessing"]["classes"] == ["0", "1", "2", "3", "4"]
    # the written fine-tuning config is a valid `ffnn finetune` config
    ft = run_ffnn("finetune", out / "best.safetensors", out / "finetune.toml", "--epochs", 2,
                  "--out", tmp_path / "ft", "-q")
    assert ft.returncode == 0, ft.stderr
    assert "test accuracy" in ft.stdout


def test_demo_log_format_json(tmp_path):
    result = run_ffnn("demo", "--fast", "--out", tmp_path / "demo", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    final = records[-1]
    assert final["event"] == "demo"
    assert set(final["finetune"]) == {"scratch", "head", "lora", "full"}
    assert [r["epoch"] for r in records if "epoch" in r and "event" not in r] == [1, 2, 3]
