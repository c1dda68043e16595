"""``ffnn bench`` and ``ffnn.utils.profile``: the structure of what they print and return.

No timing is asserted (the numbers depend on the machine); only that every case, column and
target is there, that derived columns follow from the measured ones, and that bad input is
refused with a message naming it.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.bench import cases, main, report

SMALL = ["--repeat", "small", "--no-memory", "--no-jax"]


def _json(capsys, argv) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_tiny_has_every_column_and_consistent_ratios(capsys):
    """Every column of a row, the memory columns from fresh processes included."""
    result = _json(capsys, ["--case", "tiny", "--json", "--repeat", "small", "--no-jax"])
    assert result["settings"] == {"threads": result["settings"]["threads"], "dtype": "float32",
                                  "repeat": "small"}
    assert result["machine"]["cores"] >= 1 and result["machine"]["numpy"] == np.__version__
    (row,) = result["cases"]
    assert row["case"] == "tiny"
    for key in ("ffnn_ms", "torch_ms", "matmul_ms", "gflops", "peak_fraction"):
        assert row[key] > 0, key
    assert row["ratio"] == pytest.approx(row["ffnn_ms"] / row["torch_ms"])
    assert row["step_over_matmul"] == pytest.approx(row["ffnn_ms"] / row["matmul_ms"])
    assert row["peak_fraction"] == pytest.approx(1 / row["step_over_matmul"])
    assert row["gflops"] == pytest.approx(row["flops"] / row["ffnn_ms"] / 1e6)
    assert row["ffnn_peak_mib"] >= 0 and row["torch_peak_mib"] >= 0
    assert set(row["targets"]) == {"ffnn/torch <= 0.5", "ffnn/JAX <= 1.0", "compiled/JAX <= 1.0"}
    assert row["targets"]["ffnn/torch <= 0.5"] == (row["ratio"] <= 0.5)
    assert row["jax_ms"] is None and row["targets"]["ffnn/JAX <= 1.0"] is None  # --no-jax
    assert row["compiled_ms"] > 0 and row["compiled_mode"] == "fused"
    assert row["compiled_jax_ratio"] is None and row["targets"]["compiled/JAX <= 1.0"] is None
    assert set(row["samples"]) == {"ffnn", "ffnn_compiled", "torch", "matmul"}
    assert "--no-jax: JAX columns skipped" in result["notes"]


def test_markdown_table_and_targets(capsys):
    assert main(["--case", "mlp", "--markdown", *SMALL]) == 0
    out = capsys.readouterr().out
    assert ("| case | ffnn ms | torch ms | JAX ms | ffnn/torch | ffnn/JAX | compiled ms | "
            "compiled/JAX | step/matmuls |") in out
    assert "| mlp |" in out
    assert "mlp: ffnn/torch <= 0.8:" in out and "mlp: step/matmul <= 1.25:" in out
    assert "mlp: ffnn/JAX <= 1.0: not measured" in out
    assert "mlp: compiled/JAX <= 1.0: not measured" in out


def test_text_output_without_torch_notes_the_skip(capsys):
    assert main(["--case", "tiny", "--no-torch", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "torch columns skipped" in out
    assert "tiny: ffnn/torch <= 0.5: not measured" in out


def test_sklearn_case_reports_fit_time_and_accuracy(capsys):
    result = _json(capsys, ["--case", "sklearn", "--json", *SMALL])
    assert [row["dataset"] for row in result["cases"]] == ["digits", "breast_cancer"]
    for row in result["cases"]:
        assert 0 < row["ffnn_accuracy"] <= 1 and 0 < row["sklearn_accuracy"] <= 1
        assert row["ratio"] == pytest.approx(row["ffnn_fit_s"] / row["sklearn_fit_s"])
        assert row["accuracy_deficit"] == pytest.approx(
            row["sklearn_accuracy"] - row["ffnn_accuracy"])
        assert set(row["targets"]) == {"fit time <= 1/3 of MLPClassifier",
                                       "accuracy >= MLPClassifier"}


def test_bad_threads_is_refused(capsys):
    assert main(["--case", "tiny", "--threads", "0", *SMALL]) == 2
    assert "--threads must be >= 1. Received: --threads=0" in capsys.readouterr().err


def test_unknown_case_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--case", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_python_dash_m_runs():
    done = subprocess.run([sys.executable, "-m", "ffnn.bench", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "--markdown" in done.stdout


def test_matmul_flops_count_what_both_libraries_compute():
    # forward: every layer; backward: dL/dW for every layer, dL/dx for all but the first
    n = 128
    layers = [(784, 512), (512, 256), (256, 10)]
    expected = sum(2 * n * a * b * (2 if i == 0 else 3) for i, (a, b) in enumerate(layers))
    assert cases.matmul_flops(cases.SPECS["mlp"]) == expected
    assert cases.matmul_flops(cases.SPECS["predict"]) == sum(2 * 100_000 * a * b
                                                             for a, b in layers)


def test_both_libraries_start_from_the_same_weights_and_loss():
    import torch

    spec = cases.SPECS["mlp"]
    model, step = cases.build_ffnn(spec)  # ffnn's own initialisation, copied into torch
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    _, torch_step = cases.build_torch(spec, state)
    loss, torch_loss = step(), torch_step()
    assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-5)
    assert isinstance(torch_loss, torch.Tensor)


def test_check_targets_marks_unmeasured_as_none():
    row = {"case": "ffn", "ratio": 0.7, "jax_ratio": None, "compiled_jax_ratio": 0.9,
           "step_over_matmul": 1.3, "compiled_over_matmul": 1.2, "memory_ratio": None}
    assert report.check_targets(row) == {"ffnn/torch <= 0.9": True,
                                         "ffnn/JAX <= 1.0": None,
                                         "compiled/JAX <= 1.0": True,
                                         "step/matmul <= 1.25": False,
                                         "compiled step/matmul <= 1.25": True,
                                         "peak memory <= torch": None}


def test_profile_times_every_layer_forward_and_backward():
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    x = ffnn.randn(4, 6)
    target = ffnn.tensor(np.array([0, 2, 1, 0]))
    model[0].weight.grad = np.full((5, 6), 7.0, np.float32)  # left as it was
    out = io.StringIO()
    rows = ffnn.utils.profile(model, x, target, nn.CrossEntropyLoss(), repeat=2, file=out)
    names = [r["name"] for r in rows]
    assert names == ["Sequential", "0", "1", "2", "loss", "total"]
    for r in rows:
        assert r["forward_ms"] >= 0 and r["backward_ms"] >= 0
    by_name = {r["name"]: r for r in rows}
    # a parent's backward is its children's; the first Linear did some backward work
    assert by_name["Sequential"]["backward_ms"] == pytest.approx(
        sum(by_name[n]["backward_ms"] for n in "012"), rel=1e-9, abs=1e-12)
    assert by_name["0"]["backward_ms"] > 0
    text = out.getvalue()
    assert "forward ms" in text and "backward ms" in text and "Linear" in text
    assert np.all(model[0].weight.grad == 7.0) and model[2].weight.grad is None
    assert "forward" not in model[0].__dict__  # the timing wrappers are removed


def test_profile_inference_only():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    rows = ffnn.utils.profile(model, np.ones((2, 3), np.float32), backward=False, repeat=1,
                              file=io.StringIO())
    assert [r["name"] for r in rows] == ["Sequential", "0", "1", "loss", "total"]


def test_profile_rejects_bad_arguments():
    with pytest.raises(TypeError, match="model must be an ffnn.nn.Module. Received: int"):
        ffnn.utils.profile(3, np.ones(2))
    with pytest.raises(ValueError, match="repeat must be a positive integer. Received: repeat=0"):
        ffnn.utils.profile(nn.Linear(2, 2), np.ones((1, 2), np.float32), repeat=0)


def test_tabular_case_scores_ffnn_and_both_pipelines_on_the_same_rows(capsys):
    """penguins.csv (palmerpenguins, in the test extra): one seed, three epochs."""
    result = _json(capsys, ["--case", "tabular", "--repeat", "small"] + ["--json"])
    (row,) = result["tabular"]
    assert row["dataset"] == "penguins" and row["metric"] == "accuracy"
    assert row["rows"] == 344  # every row has a species
    for key in ("ffnn", "mlp", "hgb"):
        assert 0.5 < row[key] <= 1.0, key  # three species: chance is about 0.44
        assert row[f"{key}_fit_s"] > 0
    assert row["targets"] == {"ffnn >= sklearn MLP": row["ffnn"] >= row["mlp"],
                              "ffnn >= HGB - 0.01": row["ffnn"] >= row["hgb"] - 0.01}


def test_tabular_extra_case_runs_hitters_or_names_the_package(capsys):
    """Hitters.csv (ISLP, installed with --no-deps where present): Salary, a regression whose
    target has 59 gaps; without ISLP the case says what to install."""
    result = _json(capsys, ["--case", "tabular-extra", "--repeat", "small", "--json"])
    if not result["tabular"]:
        assert result["notes"] == ["Hitters skipped: pip install --no-deps ISLP"]
        return
    (row,) = result["tabular"]
    assert row["dataset"] == "Hitters" and row["metric"] == "r2" and row["task"] == "regression"
    assert row["rows"] == 322 - 59  # the rows without a Salary are left out, for all three
    for key in ("ffnn", "mlp", "hgb"):
        assert row[key] <= 1.0 and row[f"{key}_fit_s"] > 0
    assert row["hgb"] > 0.3  # gradient boosting explains a good part of the salaries
