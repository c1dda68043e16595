"""Bad input never damages a file and never passes silently: for every command and a battery
of bad arguments, exit status 2, one line on stderr, no traceback, and every file in the
working folder byte-identical afterwards (an existing run folder stays resumable). In-process
(``ffnn.cli.main``), so the whole battery takes seconds."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import ffnn
from ffnn.cli import main

from .conftest import blobs, write_csv

CONFIG = """\
seed = 3
out = "run"

[data]
csv = "train.csv"
target = "animal"

[model]
hidden_sizes = [8]

[train]
epochs = 2
batch_size = 32
lr = 0.01
"""

RUN = "run"
BEST = "run/best.safetensors"

BAD = {
    "train": [
        ["train", "missing.toml"],
        ["train", "run.toml", "--set", "augment.shift=2"],  # 3 features: not an image
        ["train", "run.toml", "--set", "train.monitor=val_acuracy"],
        ["train", "run.toml", "--set", "train.monitor=r2"],  # a regression metric
        ["train", "run.toml", "--lr", "inf"],
        ["train", "run.toml", "--lr", "-1"],
        ["train", "run.toml", "--epochs", "x"],
        ["train", "run.toml", "--set", "model.hiden_sizes=[3]"],
        ["train", "run.toml", "--set", "data.target=weight"],
        ["train", "run.toml", "--set", "data.csv=missing.csv"],
        ["train", "run.toml", "--set", "train.plateau_patience=-1"],
        ["train", "run.toml", "--set", "augment.mixup=0.2", "--set", "data.task=regression"],
        ["train", "--resume", RUN, "--set", "augment.shift=2"],
        ["train", "--resume", RUN, "--set", "train.monitor=accuracyy"],
        ["train", "--resume", "nowhere"],
        ["train", "--resume", "ftrun"],  # a finetune run: was "unknown config key 'finetune'"
        ["train", "--resume", RUN, "--seed", "5"],
        ["train", "--resume", RUN, "--epochs", "1"],  # fewer than done: config was rewritten
        ["train", "--resume", RUN, "--set", "data.csv=test.csv"],  # was other data, exit 0
        ["train", "--resume", RUN, "--set", "model.hidden_sizes=[4]"],
        ["train", "run.toml", "--resume", RUN],
        ["train", "run.toml", "--out", "train.csv"],
        ["train", "folder"],  # a folder given as the config
        ["train", "latin1.toml"],  # not UTF-8
        ["train", "broken.toml"],
        ["train", "run.toml", "--set", 'train.lr="abc"'],
        ["train", "run.toml", "--set", "model.hidden_sizes=[0]"],
        ["train", "run.toml", "--set", 'model.activation="swish"'],
        ["train", "run.toml", "--set", "train.batch_size=0"],
        ["train", "run.toml", "--set", "data.csv=ragged.csv"],  # pandas dropped the extra cell
        ["train", "run.toml", "--set", "data.csv=header.csv"],
        ["train", "run.toml", "--set", "data.csv=folder"],
        ["train", "run.toml", "--set", "data.csv=gap.csv", "--set", "data.missing=drop"],
        ["train", "run.toml", "--set", "data.target=a", "--set", "data.task=classification"],
        ["train", "run.toml", "--set", "data.target=a", "--set", "data.task=regression",
         "--set", 'data.classes=["cat"]'],
        # one typo in a numeric target: was a regression turned into 100-class classification
        ["train", "run.toml", "--set", "data.csv=typo.csv", "--set", "data.target=a"],
        ["train", "run.toml", "--set", "data.csv=target_only.csv"],  # was a traceback
        ["train", "run.toml", "--set", "data.csv=inf.csv"],  # inf was taken for a gap
        ["train", "run.toml", "--seed", "99999999999999999999999"],  # was a traceback
        ["train", "run.toml", "--out", ""],  # was the default run folder, silently
        ["train", "run.toml", "--set", 'data.features=["a", "a", "b"]'],  # was "no data rows"
        ["train", "run.toml", "--set", 'data.categorical=["nope"]'],  # named a class
        ["train", "run.toml", "--epochs", "99999999999999999999"],  # was accepted: a hang
        # beyond float32: was an overflow warning and an error naming StandardScaler
        ["train", "run.toml", "--set", "data.csv=hugetarget.csv", "--set", "data.target=a"],
        # outliers in a feature: was trained on, every other value of it scaled to one number
        ["train", "run.toml", "--set", "data.csv=outlier.csv"],
    ],
    "finetune": [
        ["finetune", BEST, "missing.toml"],
        ["finetune", "nowhere.safetensors", "run.toml"],
        ["finetune", BEST, "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", RUN, "--set", "augment.shift=3"],
        ["finetune", BEST, "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", RUN, "--set", "finetune.widen=[2]"],
        ["finetune", BEST, "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", RUN, "--set", "train.monitor=val_los"],
        ["finetune", BEST, "--set", "data.csv=ragged.csv", "--set", "data.target=animal",
         "--out", RUN],
        # was accepted: 100,000 layers built (a hang); a rank far above the layers' widths
        ["finetune", BEST, "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", "ft", "--set", "finetune.deepen=100000"],
        ["finetune", BEST, "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", "ft", "--set", "finetune.lora_rank=100000"],
        ["finetune", RUN, "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", "ft", "--set", "text.column=a"],  # named load_sentence_encoder
        ["finetune", "minilm", "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", "ft"],  # was "checkpoint not found: 'minilm'"
        # its own run folder: was best/last.safetensors overwritten
        ["finetune", RUN, "--set", "data.csv=train.csv", "--set", "data.target=animal",
         "--out", RUN, "--epochs", "1"],
    ],
    "eval": [
        ["eval", BEST, "missing.csv"],
        ["eval", "nowhere.safetensors", "test.csv"],
        ["eval", "run.toml", "test.csv"],
        ["eval", BEST, "features.csv"],  # no target column
        ["eval", "."],
        ["eval", BEST, "header.csv"],  # no data rows: was exit 0 with NumPy warnings
        ["eval", BEST, "ragged.csv"],
        ["eval", BEST, "unseen.csv"],
        ["eval", BEST, "inf.csv"],  # was imputed silently
        ["eval", "nan.safetensors", "test.csv"],  # was a NaN loss, exit 0
        # corrupt or edited metadata, each was accepted: a phantom class in the confusion
        # matrix, a NaN median imputed, a divide-by-zero warning blaming the data, a class
        # name nobody checked
        ["eval", "classes3.safetensors", "test.csv"],
        ["eval", "median_nan.safetensors", "test.csv"],
        ["eval", "std0.safetensors", "test.csv"],
        ["eval", "class_os.safetensors", "test.csv"],
        ["eval", "reg", "hugetarget.csv"],  # was "r2: nan mse: inf" and RuntimeWarnings
        ["eval", "huge.safetensors", "test.csv"],  # outputs overflow: was a NaN loss, exit 0
    ],
    "predict": [
        ["predict", BEST, "test.csv", "-o", "test.csv"],  # its own input
        ["predict", BEST, "test.csv", "-o", BEST],  # its own checkpoint
        ["predict", RUN, "test.csv", "-o", BEST],  # the checkpoint of the run folder given
        ["predict", BEST, "test.csv", "-o", "nowhere/predictions.csv"],
        ["predict", BEST, "test.csv", "-o", RUN],  # a folder
        ["predict", BEST, "test.csv", "--proba", "--output"],
        ["predict", BEST, "missing.csv", "-o", "predictions.csv"],
        ["predict", BEST, "header.csv", "-o", "predictions.csv"],  # was an empty file, exit 0
        ["predict", BEST, "huge.csv", "-o", "predictions.csv"],  # was NumPy overflow warnings
        ["predict", BEST, "test.csv", "-o", ""],  # was a raw error naming a temp file
        ["predict", BEST, "inf.csv", "-o", "predictions.csv"],  # was imputed silently
        ["predict", "classes3.safetensors", "test.csv", "--proba"],  # was a malformed CSV
        ["predict", "huge.safetensors", "test.csv", "--proba"],  # was 'nan' probabilities
    ],
    "summary": [
        ["summary", "nowhere.safetensors"],
        ["summary", "test.csv"],
        ["summary", "."],
    ],
    "export": [
        ["export", BEST, "--onnx", BEST],
        ["export", "nowhere.safetensors", "--onnx", "model.onnx"],
        ["export", BEST, "--onnx", "nowhere/model.onnx"],
        ["export", BEST],
    ],
    "explain": [
        ["explain", "--x", "a,b"],
        ["explain", "--lr", "-1"],
        ["explain", "--lr", "inf"],
        ["explain", "--config", "missing.toml"],
        ["explain", "--activation", "swish"],
        ["explain", "--w1", "1,2;3"],
        ["explain", "--format", "pdf"],
        ["explain", "--config", "folder"],  # was '[Errno 21] Is a directory'
        ["explain", "--config", "explain.toml"],  # lr = "fast": was a traceback
        ["explain", "--config", "latin1.toml"],
        ["explain", "--x", "1e308,1e308"],  # was RuntimeWarnings and "a gradient is wrong"
        ["explain", "--lr", "1e308"],  # was RuntimeWarnings and "after the step: nan"
        ["explain", "--w2", "1e160,1,1"],
    ],
    "init-config": [
        ["init-config", "-o", "run.toml"],  # exists, no --force
        ["init-config", "-o", "nowhere/run.toml"],
        ["init-config", "--force", "-o", RUN],
        ["init-config", "-o", RUN],  # a folder: suggested --force
        ["init-config", "-o", ""],
    ],
    "bench": [
        ["bench", "--case", "nope"],
        ["bench", "--threads", "0"],
        ["bench", "--repeat"],
    ],
    "demo": [
        ["demo", "--rows-per-class", "0"],
        ["demo", "--out", ""],  # wrote finetune.toml into the working folder
    ],
    "ffnn": [
        ["nope"],
        ["--nope"],
    ],
}
CASES = [args for group in BAD.values() for args in group]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A user's folder: train.csv, test.csv, features.csv, run.toml and a trained run/."""
    folder = tmp_path_factory.mktemp("work")
    names = ("a", "b", "c")  # 3 features: not a square image, so augment.shift is refused
    X, y = blobs(120, seed=1)
    write_csv(folder / "train.csv", X[:, :3], y, names)
    Xt, yt = blobs(30, seed=2)
    write_csv(folder / "test.csv", Xt[:, :3], yt, names)
    write_csv(folder / "features.csv", X[:5, :3], None, names)
    (folder / "run.toml").write_text(CONFIG)
    rows = (folder / "train.csv").read_text().splitlines()
    (folder / "ragged.csv").write_text("\n".join([*rows[:5], rows[5] + ",1.5", *rows[6:]]))
    (folder / "header.csv").write_text(rows[0] + "\n")
    (folder / "gap.csv").write_text("\n".join(  # column b empty in every row
        [rows[0], *(",".join([r.split(",")[0], "", *r.split(",")[2:]]) for r in rows[1:])]))
    (folder / "huge.csv").write_text("\n".join([rows[0], "1e300," + rows[1].split(",", 1)[1]]))
    (folder / "typo.csv").write_text("\n".join([*rows[:3], "abc," + rows[3].split(",", 1)[1],
                                                *rows[4:]]))
    (folder / "inf.csv").write_text("\n".join([*rows[:3], "inf," + rows[3].split(",", 1)[1],
                                               *rows[4:]]))
    (folder / "hugetarget.csv").write_text("\n".join([*rows[:3], "1e300," + rows[3].split(
        ",", 1)[1], *rows[4:]]))
    (folder / "outlier.csv").write_text("\n".join(  # rows 1-12 of column a: 1e100
        [rows[0], *("1e100," + r.split(",", 1)[1] for r in rows[1:13]), *rows[13:]]))
    (folder / "outlier1.csv").write_text("\n".join([*rows[:3], "1e100," + rows[3].split(
        ",", 1)[1], *rows[4:]]))  # one, in a row the split leaves out of training
    (folder / "gone.csv").write_text("\n".join(  # row 2's target missing, row 3 beyond train's
        [rows[0], rows[1], rows[2].rsplit(",", 1)[0] + ",", "1e300," + rows[3].split(",", 1)[1],
         *rows[4:]]))
    (folder / "target_only.csv").write_text("\n".join(r.rsplit(",", 1)[1] for r in rows))
    write_csv(folder / "unseen.csv", Xt[:4, :3], ["unicorn"] * 4, names)
    (folder / "folder").mkdir()
    (folder / "latin1.toml").write_bytes("seed = 1  # \xe9t\xe9\n".encode("latin-1"))
    (folder / "broken.toml").write_text("[train\nepochs = ")
    (folder / "explain.toml").write_text('lr = "fast"\n')
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["train", "run.toml", "-q"]) == 0
        assert main(["train", "run.toml", "-q", "--set", "data.target=a", "--out", "reg"]) == 0
        assert main(["finetune", BEST, "--set", "data.csv=train.csv", "--set",
                     "data.target=animal", "--epochs", "1", "--out", "ftrun", "-q"]) == 0
    finally:
        os.chdir(cwd)
    _diverged_copy(folder / BEST, folder / "nan.safetensors")
    _diverged_copy(folder / BEST, folder / "huge.safetensors", 3e38)
    for name, edit in EDITS.items():
        _edited_copy(folder / BEST, folder / f"{name}.safetensors", edit)
    return folder


def _diverged_copy(source: Path, target: Path, value: float = float("nan")) -> None:
    """A checkpoint like ``source`` (its metadata and checksum valid) whose first weight
    holds a NaN, as a run that diverged could leave (or ``value`` in every weight of its
    first layer)."""
    from ffnn.io.checkpoint import save_checkpoint

    loaded = ffnn.load(source)
    with ffnn.no_grad():
        first = next(loaded.model.parameters())
        if value != value:
            first[0, 0] = value
        else:
            first.fill_(value)
    save_checkpoint(target, loaded.model, metadata=loaded.metadata)


def _numeric_column(meta: dict) -> dict:
    return meta["metadata"]["preprocessing"]["tabular"]["columns"][0]


EDITS = {  # name -> an edit of a checkpoint's metadata that no training writes
    "classes3": lambda meta: meta["metadata"]["preprocessing"]["classes"].append("yak"),
    "median_nan": lambda meta: _numeric_column(meta).update(median=float("nan")),
    "std0": lambda meta: _numeric_column(meta).update(std=0.0),
    "class_os": lambda meta: meta["model"].update({"class": "os.system"}),
}


def _edited_copy(source: Path, target: Path, edit) -> None:
    """A copy of the checkpoint ``source`` with ``edit(meta)`` applied to its metadata and a
    valid checksum (as a hand edit, or a buggy writer, would leave it)."""
    from ffnn.io.safefile import read_file, write_file

    tensors, meta = read_file(source)
    edit(meta)
    write_file(target, tensors, meta)


def test_corrupt_metadata_names_the_checkpoint_and_the_field(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["eval", "classes3.safetensors", "test.csv"], capsys)
    assert "classes3.safetensors is corrupt or was edited" in err
    assert "preprocessing.classes must list one distinct label per output of the model " \
        "(3 outputs)" in err and "'yak'" in err
    _, err = _run(["predict", "std0.safetensors", "test.csv"], capsys)
    assert "preprocessing.tabular column 'a' std must be positive" in err
    assert "too far from the training data" not in err
    _, err = _run(["eval", "median_nan.safetensors", "test.csv"], capsys)
    assert "tabular column 'a' median must be finite" in err
    _, err = _run(["summary", "class_os.safetensors"], capsys)
    assert "the model class 'os.system' is not the Sequential" in err


def test_outliers_that_flatten_a_feature_name_row_and_column(workdir, capsys, monkeypatch):
    import re

    from ffnn.data.table import TableError
    from ffnn.data.tabular import TabularPreprocessor

    monkeypatch.chdir(workdir)
    _, err = _run(["train", "run.toml", "--set", "data.csv=outlier.csv"], capsys)
    found = re.search(r"outlier.csv: row (\d+), column 'a' holds 1e\+100, an outlier that sets "
                      r"the column's scale \(std .*\) while its middle half spans", err)
    assert found and 1 <= int(found.group(1)) <= 12, err  # one of the rows holding it
    x = np.concatenate([np.linspace(0.0, 1.0, 20), [1e308]])
    with pytest.raises(TableError, match="row 21, column 'x' holds 1e.308, an outlier"):
        TabularPreprocessor().fit({"x": x})
    x[-1] = 2.0
    TabularPreprocessor().fit({"x": x * 1e300})  # a column all on the scale of 1e300 is fine


def test_errors_name_the_file_row_not_the_row_within_a_split(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["train", "run.toml", "--set", "data.csv=outlier1.csv"], capsys)
    assert "outlier1.csv: row 3, column 'a': value 1e+100 is too far from the training " \
        "data" in err  # was row 21: its place among the validation rows
    _, err = _run(["eval", BEST, "gone.csv"], capsys)  # row 2 is left out (no target)
    assert "gone.csv: row 3, column 'a': value 1e+300 is too far" in err


@pytest.mark.parametrize("args, message", [
    (["--b1", "1,2"], "explain: b1 has 2 values but W1 has shape (3, 2): b1 needs 3"),  # was W1
    (["--b2", "1,2"], "explain: b2 has 2 values but W2 has shape (1, 3): b2 needs 1"),
    (["--w1", ";;"], "rows separated by ';'. Received: --w1 ';;'"),  # was --w1 ''
    (["--x", "1e308,1e308"], "explain: x is too large: the forward or backward pass"),
    (["--w2", "1e160,1,1"], "explain: W2 is too large"),
    (["--lr", "1e308"], "explain: lr is too large: the SGD step overflows float64"),
])
def test_explain_names_the_argument_at_fault(args, message, capsys):
    status, err = _run(["explain", *args], capsys)
    assert status == 2 and message in err, err


def test_eval_names_a_target_beyond_float32(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["eval", "reg", "hugetarget.csv"], capsys)
    assert "hugetarget.csv: target column 'a' holds 1e+300 in row 3, beyond float32's range" \
        in err


def test_bounds_name_the_key(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["train", "run.toml", "--epochs", "99999999999999999999"], capsys)
    assert "config key 'train.epochs' must be >= 0 and <= 1000000" in err
    ft = ["finetune", BEST, "--set", "data.csv=train.csv", "--set", "data.target=animal",
          "--out", "ft", "--set"]
    _, err = _run([*ft, "finetune.deepen=100000"], capsys)
    assert "config key 'finetune.deepen' must be >= 0 and <= 100" in err
    _, err = _run([*ft, "finetune.lora_rank=4"], capsys)  # the hidden layer: 3 → 8
    assert "finetune.lora_rank must be at most 3, the smallest width of the hidden Linear " \
        "layers it adapts (3→8)" in err and "Received: finetune.lora_rank=4" in err


FT = ["--set", "data.csv=train.csv", "--set", "data.target=animal", "--out", "ft"]


@pytest.mark.parametrize("args, message", [
    (["finetune", RUN, *FT, "--set", "text.column=a"],
     "with text.column set ('a'), CHECKPOINT is 'minilm' (the installed all-MiniLM-L6-v2) or a "
     "sentence-transformers model folder; run has no config.json (an ffnn run folder: "
     "fine-tune it without text.column)"),
    (["finetune", "minilm", *FT], "'minilm' is a sentence encoder: it fine-tunes on a CSV text "
     "column, so set text.column"),
    (["init-config", "-o", RUN], "-o run is a folder; give the path of the TOML file to write"),
    (["train", "--resume", "ftrun"], "ftrun is a run of ffnn finetune"),
])
def test_messages_name_what_the_user_gave(args, message, workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    status, err = _run(args, capsys)
    assert status == 2 and message in err and "load_sentence_encoder" not in err, err


def test_outputs_that_overflow_name_the_row(workdir, capsys, monkeypatch):
    import re

    monkeypatch.chdir(workdir)
    for command in ("eval", "predict"):
        _, err = _run([command, "huge.safetensors", "test.csv"], capsys)
        assert re.search(r"test.csv: row \d+: the model's output overflows float32 \(not "
                         r"finite\); its largest scaled input is column '[abc]' = ", err), err


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(args: list[str], capsys) -> tuple[int, str]:
    try:
        status = main(args)
    except SystemExit as exit_:  # argparse
        status = exit_.code
    return status, capsys.readouterr().err


def test_the_battery_covers_every_command():
    from ffnn.cli import build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert commands <= set(BAD)


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a) for a in CASES])
def test_bad_input_exits_2_with_one_line_and_changes_no_file(args, workdir, capsys,
                                                            monkeypatch):
    monkeypatch.chdir(workdir)
    before = _hashes(workdir)
    with warnings.catch_warnings(record=True) as caught:  # a user would see them on stderr
        warnings.simplefilter("always")
        status, err = _run(args, capsys)
    assert not caught, [str(w.message) for w in caught]
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and "error:" in lines[0], err
    assert "Traceback" not in err
    assert _hashes(workdir) == before


def test_the_run_folder_still_resumes_after_the_battery(workdir, capsys, monkeypatch):
    """(The `train into an existing run folder` case of the issue: config.toml untouched.)"""
    monkeypatch.chdir(workdir)
    for args in BAD["train"]:
        _run(args, capsys)
    status, err = _run(["train", "--resume", RUN, "--epochs", "3", "-q"], capsys)
    assert status == 0, err
    assert ffnn.load(workdir / "run" / "last.safetensors").metadata["epoch"] == 3


def test_an_empty_column_is_named_when_no_row_is_left(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["train", "run.toml", "--set", "data.csv=gap.csv", "--set",
                   "data.missing=drop"], capsys)
    assert "these columns are empty in every row: ['b']" in err


def test_resume_names_what_cannot_change(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["train", "--resume", RUN, "--set", "data.csv=test.csv"], capsys)
    assert "data.csv cannot change when resuming" in err and "Received: data.csv='test.csv'" in err
    _, err = _run(["train", "--resume", RUN, "--epochs", "1"], capsys)
    done = ffnn.load(workdir / BEST.replace("best", "last")).metadata["epoch"]
    assert f"has already trained {done} epochs" in err and "train.epochs=1" in err


def test_monitor_typo_names_the_key_and_suggests(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["train", "run.toml", "--set", "train.monitor=val_acuracy"], capsys)
    assert "train.monitor" in err and "did you mean 'val_accuracy'" in err


def test_predict_onto_its_input_says_so(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["predict", BEST, "test.csv", "-o", "test.csv"], capsys)
    assert "-o test.csv is the input CSV this command reads" in err
    os.link(workdir / "test.csv", workdir / "same.csv")  # the same file by another name
    try:
        before = (workdir / "test.csv").read_bytes()
        status, err = _run(["predict", BEST, "test.csv", "-o", "same.csv"], capsys)
        assert status == 2 and "is the input CSV" in err
        assert (workdir / "test.csv").read_bytes() == before
    finally:
        os.unlink(workdir / "same.csv")


@pytest.mark.parametrize("args", [["predict", BEST, "test.csv", "-o", "nowhere/p.csv"],
                                  ["export", BEST, "--onnx", "nowhere/model.onnx"],
                                  ["init-config", "-o", "nowhere/run.toml"]])
def test_a_missing_output_folder_is_named(args, workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(args, capsys)
    assert "the folder 'nowhere' does not exist" in err and ".tmp" not in err


def test_ffnn_save_names_the_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere' does not exist"):
        ffnn.save(tmp_path / "nowhere" / "model.safetensors", ffnn.nn.Linear(2, 1))
    assert not (tmp_path / "nowhere").exists()


def test_summary_best_epoch_follows_train_monitor(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    for monitor in ("val_accuracy", "loss"):
        out = f"best_{monitor}"
        status, err = _run(["train", "run.toml", "--epochs", "6", "--out", out, "-q",
                            "--set", f"train.monitor={monitor}"], capsys)
        assert status == 0, err
        summary = json.loads((workdir / out / "summary.json").read_text())
        values = np.array(summary_history(workdir / out, monitor))
        pick = np.argmax if monitor.endswith("accuracy") else np.argmin
        assert summary["monitor"] == monitor
        assert summary["best_epoch"] == int(pick(values)) + 1
        best = ffnn.load(workdir / out / "best.safetensors")
        assert best.metadata["epoch"] == summary["best_epoch"]


def summary_history(run: Path, key: str) -> list[float]:
    from .conftest import read_csv

    header, rows = read_csv(run / "metrics.csv")
    return [float(r[header.index(key)]) for r in rows]


def test_divergence_is_one_warning_line_not_numpy_warnings(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    status, err = _run(["train", "run.toml", "--set", "train.optimizer=sgd", "--lr", "1e30",
                        "--out", "diverged", "-q"], capsys)
    assert status == 0, err
    lines = err.splitlines()
    assert lines and all(line.startswith("ffnn: warning: training diverged: the loss became")
                         for line in lines), err
    assert "RuntimeWarning" not in err and "overflow" not in err and "smaller train.lr" in err


def test_plateau_patience_is_its_own_key():
    from ffnn.cli._build import build_scheduler
    from ffnn.cli.config import TrainConfig

    optimizer = ffnn.optim.SGD([ffnn.nn.Parameter(np.zeros(2))], lr=0.1)
    for patience, step_size in ((3, 10), (0, 2)):
        train = TrainConfig(schedule="plateau", plateau_patience=patience, step_size=step_size)
        scheduler, interval = build_scheduler(train, optimizer, 5)
        assert scheduler.patience == patience and interval == "epoch"


def test_a_monitor_not_logged_lists_what_is(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    _, err = _run(["train", "run.toml", "--set", "train.monitor=val_acuracy"], capsys)
    assert "'val_accuracy'" in err and "val_val" not in err
