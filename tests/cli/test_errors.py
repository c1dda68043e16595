"""Every user error of the CLI: one line ``ffnn: error: ...`` on stderr, exit status 2, no
traceback (``--debug`` shows it). Most cases call ``ffnn.cli.main`` in-process (fast); the
process-level behaviour is checked with real subprocesses."""

from __future__ import annotations

import pytest

from ffnn.cli import main

from .conftest import blobs, run_ffnn, write_csv


def error_of(capsys, *args) -> str:
    """Run the command; assert exit 2 and one error line; return that line."""
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert status == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("ffnn: error: ")
    return lines[0]


def config(tmp_path, text: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def test_unknown_config_key_suggests_the_closest(capsys, tmp_path):
    line = error_of(capsys, "train", config(tmp_path, "[model]\nhiden_sizes = [8]\n"))
    assert line == ("ffnn: error: unknown config key 'model.hiden_sizes' "
                    "(did you mean 'model.hidden_sizes'?)")
    line = error_of(capsys, "train", config(tmp_path, "epochs = 3\n"))
    assert "unknown config key 'epochs' (did you mean 'train.epochs'?)" in line
    line = error_of(capsys, "train", "--set", "trian.lr=0.1")
    assert "unknown config key 'trian.lr' (did you mean 'train.lr'?)" in line


def test_wrong_type_names_key_type_and_value(capsys, tmp_path):
    line = error_of(capsys, "train", config(tmp_path, '[train]\nepochs = "ten"\n'))
    assert line == ("ffnn: error: config key 'train.epochs' must be an integer. "
                    "Received: train.epochs='ten'")
    line = error_of(capsys, "train", config(tmp_path, "[model]\nhidden_sizes = 8\n"))
    assert "'model.hidden_sizes' must be a list of integers. Received: model.hidden_sizes=8" in line
    line = error_of(capsys, "train", "--lr", "-1")
    assert "config key 'train.lr' must be >= 0.0. Received: train.lr=-1.0" in line
    line = error_of(capsys, "train", "--set", "model.activation=relu6")
    assert "must be one of ['relu', 'gelu'" in line and "Received: model.activation='relu6'" \
        in line
    line = error_of(capsys, "train", config(tmp_path, "[train\nlr = 1\n"))
    assert "invalid TOML" in line


def test_missing_files(capsys, tmp_path):
    missing = tmp_path / "nope.toml"
    assert error_of(capsys, "train", missing) == \
        f"ffnn: error: config file not found: '{missing}'"
    line = error_of(capsys, "train", "--set", f"data.csv='{tmp_path / 'no.csv'}'", "--set",
                    "data.target=y")
    assert "no such file" in line and "no.csv" in line
    line = error_of(capsys, "eval", tmp_path / "model.safetensors", tmp_path / "d.csv")
    assert "checkpoint not found" in line
    line = error_of(capsys, "train", "--resume", tmp_path)
    assert "no run to resume" in line


def test_bad_csv_cells_name_row_and_column(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1\n5,abc,0\n6,7,1\n")
    args = ("train", "--set", f"data.csv='{path}'", "--set", "data.target=y")
    line = error_of(capsys, *args)
    assert "row 3, column 'b'" in line and "'abc'" in line
    assert "data.na_values" in line and "data.categorical" in line
    path.write_text("a,b,y\n1,2,0\n3,,1\n5,6,0\n")
    line = error_of(capsys, *args, "--set", "data.missing=error")
    assert "row 2, column 'b' is empty" in line and "data.missing = 'error'" in line


def test_unknown_target_column(capsys, tmp_path):
    X, y = blobs(20, seed=0)
    path = write_csv(tmp_path / "d.csv", X, y)
    line = error_of(capsys, "train", "--set", f"data.csv='{path}'", "--set",
                    "data.target=animl")
    assert "target column 'animl' not found. Did you mean 'animal'?" in line


@pytest.fixture
def checkpoint(tmp_path, run_config):
    assert main(["train", str(run_config), "--epochs", "1", "-q"]) == 0
    return tmp_path / "run" / "best.safetensors"


def test_checkpoint_feature_count_differs(capsys, tmp_path, checkpoint):
    X, y = blobs(10, seed=5)
    other = write_csv(tmp_path / "three.csv", X[:, :3], y, names=("a", "b", "c"))
    capsys.readouterr()
    line = error_of(capsys, "eval", checkpoint, other)
    assert "was trained on 4 features ['a', 'b', 'c', 'd']" in line
    assert "has 3 feature columns ['a', 'b', 'c']" in line
    line = error_of(capsys, "predict", checkpoint, other)
    assert "was trained on 4 features" in line
    unseen = write_csv(tmp_path / "unseen.csv", X, ["cat"] * 9 + ["yak"])
    line = error_of(capsys, "eval", checkpoint, unseen)
    assert "labels ['yak'] that the model never saw" in line
    no_target = write_csv(tmp_path / "nt.csv", X, None)
    line = error_of(capsys, "eval", checkpoint, no_target)
    assert "has no target column 'animal'" in line


def test_process_exit_status_and_debug(tmp_path):
    bad = config(tmp_path, "[model]\nhiden_sizes = [8]\n")
    result = run_ffnn("train", bad)
    assert result.returncode == 2
    assert result.stderr == ("ffnn: error: unknown config key 'model.hiden_sizes' "
                             "(did you mean 'model.hidden_sizes'?)\n")
    assert result.stdout == ""
    result = run_ffnn("train", bad, "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr
    assert "ConfigError" in result.stderr
    result = run_ffnn("--debug", "eval", tmp_path / "x.safetensors", tmp_path / "x.csv")
    assert "Traceback" in result.stderr and "FileNotFoundError" in result.stderr
