"""--version, --help with examples, init-config, export and bench delegation."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import ffnn
from ffnn.cli import config, main

from .conftest import run_ffnn

COMMANDS = ["demo", "train", "finetune", "eval", "predict", "summary", "explain", "export",
            "init-config"]


def test_version_and_help():
    result = run_ffnn("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"ffnn {ffnn.__version__}"
    text = run_ffnn("--help").stdout
    assert all(command in text for command in COMMANDS + ["bench"])


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_has_examples(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"ffnn {command}" in text.split("examples:")[1]


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "commands" in capsys.readouterr().out


def test_init_config_is_commented_and_parses_to_the_defaults(tmp_path, capsys):
    assert main(["init-config"]) == 0
    text = capsys.readouterr().out
    assert text.count("#") > 10
    path = tmp_path / "run.toml"
    path.write_text(text)
    assert config.load(path) == config.Config()
    assert main(["init-config", "--finetune", "-o", str(tmp_path / "ft.toml")]) == 0
    assert config.load(tmp_path / "ft.toml", config.FinetuneConfig) == config.FinetuneConfig()
    capsys.readouterr()
    assert main(["init-config", "-o", str(tmp_path / "ft.toml")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_config_without_a_file_is_the_defaults_with_the_overrides(tmp_path):
    assert config.load(None) == config.Config()
    cfg = config.load(None, overrides={"train.epochs": 3, "model.hidden_sizes": [5]})
    assert (cfg.train.epochs, cfg.model.hidden_sizes) == (3, [5])
    assert cfg.data == config.Config().data
    (tmp_path / "run.toml").write_text("[train]\nepochs = 7\nlr = 0.5\n")
    from_file = config.load(tmp_path / "run.toml", overrides={"train.epochs": 3})
    assert (from_file.train.epochs, from_file.train.lr) == (3, 0.5)


def test_export_onnx_matches_the_model(tmp_path, run_config):
    import onnxruntime

    assert main(["train", str(run_config), "--epochs", "1", "-q"]) == 0
    checkpoint = tmp_path / "run" / "best.safetensors"
    result = run_ffnn("export", checkpoint, "--onnx", tmp_path / "model.onnx")
    assert result.returncode == 0, result.stderr
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    model = ffnn.load(checkpoint).model.eval()
    np.testing.assert_allclose(got, model(ffnn.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_bench_delegates_its_arguments(monkeypatch):
    seen = []
    fake = types.ModuleType("ffnn.bench")
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "ffnn.bench", fake)
    assert main(["bench", "--quick", "--only", "mlp"]) == 0
    assert seen == [["--quick", "--only", "mlp"]]


def test_model_optimizer_and_augment_keys_are_used(tmp_path, run_config, capsys):
    """Norms, dropout, init, SGD + one-cycle, clipping, L1, mixup and noise in one run."""
    keys = ["model.norm=batch", "model.dropout=0.1", "model.init=xavier_uniform",
            "train.optimizer=sgd", "train.schedule=onecycle", "train.grad_clip=1.0",
            "train.l1=1e-4", "augment.mixup=0.2", "augment.noise=0.05"]
    args = ["train", str(run_config), "--epochs", "2", "-q"]
    for key in keys:
        args += ["--set", key]
    assert main(args) == 0, capsys.readouterr().err
    loaded = ffnn.load(tmp_path / "run" / "last.safetensors")
    assert [type(m).__name__ for m in loaded.model][:4] == ["Linear", "BatchNorm1d", "ReLU",
                                                            "Dropout"]
    resolved = config.load(tmp_path / "run" / "config.toml")
    assert resolved.train.schedule == "onecycle" and resolved.augment.mixup == 0.2
    lrs = np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True)["lr"]
    assert lrs[0] < 0.01  # one-cycle starts at max_lr / 25
