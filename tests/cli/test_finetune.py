"""``ffnn finetune CHECKPOINT CONFIG.toml``: freeze, LoRA, new head, widen, deepen and
layer-wise learning rates, driven by config keys."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ffnn

from .conftest import blobs, run_ffnn, write_csv

NEW = ["fox", "gnu"]


@pytest.fixture
def base(tmp_path, run_config):
    result = run_ffnn("train", run_config, "--epochs", 4, "-q")
    assert result.returncode == 0, result.stderr
    return tmp_path / "run" / "best.safetensors"


def new_task(tmp_path, text: str):
    X, y = blobs(120, seed=7, labels=NEW)
    data = write_csv(tmp_path / "new.csv", X, y)
    path = tmp_path / "ft.toml"
    path.write_text(f"""out = "{(tmp_path / 'ft').as_posix()}"
[data]
csv = "{data.as_posix()}"
target = "animal"
[train]
epochs = 40
lr = 0.01
[finetune]
{text}
""")
    return path


def summary(tmp_path) -> dict:
    return json.loads((tmp_path / "ft" / "summary.json").read_text())


def test_new_head_on_frozen_body(tmp_path, base):
    result = run_ffnn("finetune", base, new_task(tmp_path, 'freeze = "body"'))
    assert result.returncode == 0, result.stderr
    assert "new output layer (2 outputs)" in result.stdout
    s = summary(tmp_path)
    assert s["classes"] == NEW
    assert s["parameters"] == {"trainable": 8 * 2 + 2, "total": 80 + 136 + 18}
    # the frozen body is bit-identical to the base model's
    before = ffnn.load(base).model.state_dict()
    after = ffnn.load(tmp_path / "ft" / "best.safetensors").model.state_dict()
    for key in ("0.weight", "0.bias", "2.weight", "2.bias"):
        np.testing.assert_array_equal(before[key], after[key])
    assert s["test"]["accuracy"] > 0.8
    result = run_ffnn("summary", tmp_path / "ft" / "best.safetensors")
    assert "trainable parameters: 18" in result.stdout


def test_lora_with_layerwise_lr(tmp_path, base):
    cfg = new_task(tmp_path, "lora_rank = 2\nlora_alpha = 4.0\nlayer_lr_decay = 0.5")
    result = run_ffnn("finetune", base, cfg)
    assert result.returncode == 0, result.stderr
    s = summary(tmp_path)
    # LoRA A [2, in] and B [out, 2] on both hidden layers (4->16, 16->8), plus the new head
    lora = 2 * 4 + 16 * 2 + 2 * 16 + 8 * 2
    assert s["parameters"]["trainable"] == lora + 8 * 2 + 2
    model = ffnn.load(tmp_path / "ft" / "best.safetensors").model
    assert type(model[0]).__name__ == "LoRALinear"
    assert s["test"]["accuracy"] > 0.8
    result = run_ffnn("eval", tmp_path / "ft" / "best.safetensors", tmp_path / "new.csv")
    assert result.returncode == 0, result.stderr


def test_widen_and_deepen(tmp_path, base):
    cfg = new_task(tmp_path, 'widen = [24, 12]\ndeepen = 1\nnew_head = "yes"')
    result = run_ffnn("finetune", base, cfg, "--epochs", 3)
    assert result.returncode == 0, result.stderr
    model = ffnn.load(tmp_path / "ft" / "best.safetensors").model
    widths = [m.out_features for m in model if type(m).__name__ == "Linear"]
    assert widths == [24, 12, 12, 2]
    result = run_ffnn("finetune", base, new_task(tmp_path, "widen = [24]"))
    assert result.returncode == 2
    assert "finetune.widen needs one size per hidden layer (2)" in result.stderr


def test_same_classes_keep_the_head(tmp_path, base, class_data):
    cfg = tmp_path / "more.toml"
    cfg.write_text(f"""out = "{(tmp_path / 'ft').as_posix()}"
[data]
csv = "{class_data['test'].as_posix()}"
target = "animal"
[train]
epochs = 2
""")
    result = run_ffnn("finetune", base, cfg)
    assert result.returncode == 0, result.stderr
    assert "new output layer" not in result.stdout
    other = new_task(tmp_path, 'new_head = "no"')
    result = run_ffnn("finetune", base, other)
    assert result.returncode == 2
    assert "the model has 3 outputs but the data needs 2" in result.stderr
