"""``torch.utils.benchmark`` on ffnn: the statement runs as often as a measurement says, the
statistics are those of its times, the text and table are torch's layout, and the threads
asked for are set during the measurement and put back after."""

from __future__ import annotations

import numpy as np
import pytest
import torch.utils.benchmark as torch_benchmark

import ffnn
from ffnn.utils import benchmark


def _counted(**options):
    state = {"runs": 0, "setups": 0}

    def step():
        state["runs"] += 1

    def prepare():
        state["setups"] += 1

    timer = benchmark.Timer(stmt="step()", setup="prepare()",
                            globals={"step": step, "prepare": prepare}, **options)
    return timer, state


def test_a_measurement_runs_the_statement_as_often_as_it_reports():
    timer, state = _counted(label="count", sub_label="calls", description="plain")
    single = timer.timeit(200)
    assert single.number_per_run == 200 and len(single.raw_times) == 1
    assert state["runs"] == 200 + 2  # a warm-up of max(number // 100, 2) runs first
    state["runs"] = 0
    seen = []
    blocked = timer.blocked_autorange(callback=lambda n, t: seen.append((n, t)),
                                      min_run_time=0.02)
    assert [t for _, t in seen] == blocked.raw_times
    assert sum(blocked.raw_times) >= 0.02
    assert state["runs"] >= blocked.number_per_run * len(blocked.raw_times)


def test_the_statistics_are_those_of_the_times():
    timer, _ = _counted()
    found = timer.blocked_autorange(min_run_time=0.02)
    times = np.array(found.raw_times) / found.number_per_run
    np.testing.assert_allclose(found.times, times)
    q25, q50, q75 = np.quantile(times, [0.25, 0.5, 0.75])
    assert found.median == pytest.approx(q50) and found.mean == pytest.approx(times.mean())
    assert found.iqr == pytest.approx(q75 - q25)
    assert 1 <= found.significant_figures <= 4


def _torchs(found: benchmark.Measurement):
    """torch's Measurement of the same times and task."""
    from torch.utils.benchmark.utils.common import Measurement, TaskSpec

    task = TaskSpec(found.stmt, found.setup, label=found.label, sub_label=found.sub_label,
                    description=found.description, num_threads=found.num_threads)
    return Measurement(found.number_per_run, found.raw_times, task)


@pytest.mark.parametrize("spread", [0.0, 0.5])
def test_the_text_is_torchs_for_the_same_times(spread):
    x = ffnn.ones(64)
    timer = benchmark.Timer("x.sum()", globals={"x": x}, label="reduce", sub_label="ones",
                            description="sum")
    for found in (timer.timeit(100), timer.blocked_autorange(min_run_time=0.01)):
        found = benchmark.Measurement(found.number_per_run, [
            t * (1 + spread * (i % 3)) for i, t in enumerate(found.raw_times)],
            found.task, found.num_threads)
        theirs = _torchs(found)
        assert repr(found).splitlines()[1:] == repr(theirs).splitlines()[1:]
        assert found.median == pytest.approx(theirs.median)
        assert found.iqr == pytest.approx(theirs.iqr) and found.title == theirs.title
        assert found.has_warnings == theirs.has_warnings
        assert found.significant_figures == theirs.significant_figures


@pytest.mark.parametrize("trim", [False, True])
def test_the_table_is_torchs_for_the_same_measurements(trim):
    x, y = ffnn.ones(64), ffnn.ones(4096)
    results = [benchmark.Timer(stmt, globals={"x": x, "y": y}, label=label, sub_label=sub,
                               description=name).blocked_autorange(min_run_time=0.01)
               for label, sub, stmt, name in (
                   ("reduce", "64", "x.sum()", "sum"), ("reduce", "64", "x.mean()", "mean"),
                   ("reduce", "4096", "y.sum()", "sum"), ("reduce", "4096", "y.std()", "std"),
                   ("other", "64", "x + x", "add"))]
    ours = benchmark.Compare(results)
    theirs = torch_benchmark.Compare([_torchs(r) for r in results])
    if trim:
        ours.trim_significant_figures()
        theirs.trim_significant_figures()
    assert str(ours) == str(theirs)
