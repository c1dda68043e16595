"""``ffnn.bench.distributed``: 1 and 2 ranks, samples/s (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ffnn.bench.distributed import best_speedup, format_report, ring_allreduce_seconds
from ffnn.distributed import bench_distributed

ROOT = str(Path(__file__).resolve().parents[2])


def test_bench_distributed_reports_both_rank_counts_and_methods():
    report = bench_distributed(ranks=(1, 2), rows=8, steps=2, warmup=1, d_model=16, d_ff=32,
                               timeout=60)
    assert report["case"] == "ffn" and report["rows"] == 8
    assert [(r["ranks"], r["method"]) for r in report["results"]] == [
        (1, "-"), (2, "allreduce"), (2, "zero")]
    params = 16 * 32 + 32 + 32 * 16 + 16
    for result in report["results"]:
        assert result["parameters"] == params
        assert result["bytes_allreduced_per_step"] == 4 * params
        assert result["samples_per_s"] > 0
    assert report["speedup"]["1"] == 1.0
    assert set(report["speedup"]) == {"1", "2 allreduce", "2 zero"}
    assert best_speedup(report) == max(report["speedup"]["2 allreduce"],
                                       report["speedup"]["2 zero"])
    assert set(report["links"]) == {"2 ranks, 10 Gb/s", "2 ranks, 100 Gb/s"}
    text = format_report(report)
    assert "allreduce" in text and "zero" in text


def test_bench_distributed_rejects_unknown_methods():
    with pytest.raises(ValueError, match="methods must be some of"):
        bench_distributed(methods=("ring",))


def test_ring_allreduce_estimate():
    # 2 ranks send 2·(1/2)·bytes each: 1.25e9 bytes at 10 Gb/s take one second
    assert ring_allreduce_seconds(1.25e9, 2, 10) == pytest.approx(1.0)
    assert ring_allreduce_seconds(1.25e9, 4, 100) == pytest.approx(0.15)


def test_python_m_ffnn_distributed_bench_prints_a_table():
    done = subprocess.run([sys.executable, "-m", "ffnn.distributed", "bench", "--rows", "4",
                           "--steps", "1", "--warmup", "0", "--d-model", "8", "--d-ff", "8"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "samples/s" in done.stdout
    assert "bytes allreduced per step (allreduce method): 576" in done.stdout
