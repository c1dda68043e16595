"""``ffnn bench --case encode``: the row's columns, its targets and its line in the text
report (no timing is asserted; the embeddings of both libraries must agree)."""

from __future__ import annotations

import json

import pytest

from ffnn.bench import main


def test_encode_case_reports_throughput_ratio_and_agreement(capsys):
    assert main(["--case", "encode", "--json", "--repeat", "small", "--no-memory"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["cases"]
    assert row["case"] == "encode" and row["sentences"] == 8 and row["batch_size"] == 32
    assert row["ffnn_sps"] == pytest.approx(8 / row["ffnn_s"])
    assert row["ratio"] == pytest.approx(row["ffnn_s"] / row["torch_s"])
    assert row["max_abs_diff"] <= 1e-5
    assert row["targets"]["embeddings within 1e-5"] is True
    assert set(row["targets"]) == {"ffnn/torch time <= 1.0", "embeddings within 1e-5"}
