"""``ffnn bench --case encode``: the row's columns, its targets and its line in the text
report (no timing is asserted; the embeddings of both libraries must agree)."""

from __future__ import annotations

import json

import pytest

from ffnn.bench import main
from ffnn.bench.encode import encode_line


def test_encode_case_reports_throughput_ratio_and_agreement(capsys):
    assert main(["--case", "encode", "--json", "--repeat", "small", "--no-memory"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["cases"]
    assert row["case"] == "encode" and row["sentences"] == 8 and row["batch_size"] == 32
    assert row["ffnn_sps"] == pytest.approx(8 / row["ffnn_s"])
    assert row["ratio"] == pytest.approx(row["ffnn_s"] / row["torch_s"])
    assert row["max_abs_diff"] <= 1e-5
    assert row["targets"]["embeddings within 1e-5"] is True
    assert set(row["targets"]) == {"ffnn/torch time <= 1.0", "embeddings within 1e-5"}
    assert 0 < row["tokens"] <= row["padded_tokens"]


def test_encode_line_says_whether_the_ratio_meets_its_target():
    row = {"sentences": 8, "batch_size": 32, "rounds": 1, "ffnn_sps": 40.0, "torch_sps": 20.0,
           "ratio": 0.5, "max_abs_diff": 2e-7, "tokens": 90, "padded_tokens": 160}
    line = encode_line(row)
    assert "ffnn/torch time 0.50 (target <= 1.0: met)" in line
    assert "90 real tokens in 160 padded positions" in line
    assert "(target <= 1.0: NOT met)" in encode_line({**row, "ratio": 1.25})
