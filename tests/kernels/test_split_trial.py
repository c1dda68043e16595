"""``SplitTrial`` keeps the way (split over OpenBLAS's threads or whole) whose steps took
less time, timed on a clock the test drives, and the optimizer and the fused step run as
it says."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")


@pytest.fixture
def trial_module():
    from ffnn.kernels import split_trial

    return split_trial


class StepClock:
    """A clock read once per call: each call's period, from it to the next call, is the cost
    of its way (``costs[way]``), or ``block_first_cost`` for the first call of a trial's
    block."""

    def __init__(self, costs: dict[bool, float], block_first_cost: float | None = None):
        self.costs, self.block_first_cost = costs, block_first_cost
        self.now, self.trial = 0.0, None

    def __call__(self) -> float:
        return self.now

    def run(self, calls: int) -> list[bool]:
        from ffnn.kernels.split_trial import BLOCK, WARMUP

        ways = []
        for _ in range(calls):
            at = self.trial._calls - WARMUP
            way = self.trial.split()
            first = self.trial.choice is None and at >= 0 and at % BLOCK == 0
            cost = self.block_first_cost if first and self.block_first_cost else \
                self.costs[way]
            self.now += cost
            ways.append(way)
        return ways


def _trial(trial_module, clock):
    trial = trial_module.SplitTrial(clock)
    clock.trial = trial
    return trial


@pytest.mark.parametrize("split_cost, whole_cost, expected", [
    (1.0, 2.0, True), (2.0, 1.0, False), (1.0, 1.0, True), (1.0, 0.97, True),
    (1.0, 0.9, False)])  # whole kept only where it is 5% faster or more
def test_the_faster_way_is_kept(trial_module, split_cost, whole_cost, expected):
    clock = StepClock({True: split_cost, False: whole_cost})
    trial = _trial(trial_module, clock)
    ways = clock.run(trial_module.WARMUP + trial_module.TRIAL + 50)
    warm, block = trial_module.WARMUP, trial_module.BLOCK
    assert ways[:warm] == [True] * warm
    trial_ways = ways[warm:warm + trial_module.TRIAL]
    assert trial_ways == [(i // block) % 2 == 0 for i in range(trial_module.TRIAL)]
    assert trial.choice is expected
    assert ways[warm + trial_module.TRIAL:] == [expected] * 50
    recorded = trial_module.ROUNDS * (block - 1)
    assert [len(trial._periods[w]) for w in (True, False)] == [recorded, recorded]


def test_a_blocks_first_period_is_not_counted(trial_module):
    """The first call of each block pays for the other way's placement: here it costs 100,
    split calls 3, whole calls 2; counted, it would make whole's median 100."""
    clock = StepClock({True: 3.0, False: 2.0}, block_first_cost=100.0)
    trial = _trial(trial_module, clock)
    clock.run(trial_module.WARMUP + trial_module.TRIAL + 1)
    assert trial.choice is False


def test_a_new_trial_after_retry_calls_follows_a_change(trial_module):
    clock = StepClock({True: 1.0, False: 2.0})
    trial = _trial(trial_module, clock)
    clock.run(trial_module.WARMUP + trial_module.TRIAL + 1)
    assert trial.choice is True
    clock.costs = {True: 5.0, False: 2.0}  # e.g. the batch became a row
    ways = clock.run(trial_module.RETRY - 1)
    assert ways == [True] * (trial_module.RETRY - 1) and trial.choice is True
    ways = clock.run(1 + trial_module.TRIAL + 1)
    assert trial.choice is False and ways[-1] is False
    assert False in ways[:trial_module.TRIAL] and True in ways[:trial_module.TRIAL]


class CountingClock(StepClock):
    """A ``StepClock`` that counts its reads."""

    def __init__(self, costs: dict[bool, float]):
        super().__init__(costs)
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def test_no_clock_is_read_while_a_way_is_kept(trial_module):
    """Once chosen, a way is kept for ``RETRY`` calls without a read of the clock (a read
    right after a step's products costs a few µs); the next trial (no warm-up) reads it
    once a call until it chooses, and follows a change as before."""
    clock = CountingClock({True: 1.0, False: 2.0})
    trial = _trial(trial_module, clock)
    clock.run(trial_module.WARMUP + trial_module.TRIAL + 1)
    assert trial.choice is True and clock.reads == trial_module.WARMUP + trial_module.TRIAL + 1
    before = clock.reads
    clock.costs = {True: 5.0, False: 2.0}
    assert clock.run(trial_module.RETRY - 1) == [True] * (trial_module.RETRY - 1)
    assert clock.reads == before
    clock.run(1 + trial_module.TRIAL + 1)  # the trial's TRIAL + 1 calls, then one kept
    assert clock.reads == before + trial_module.TRIAL + 1 and trial.choice is False


def test_choose_passes_rows_that_do_not_split(trial_module):
    from ffnn.kernels import blas_split

    clock = StepClock({True: 1.0, False: 2.0})
    trial = _trial(trial_module, clock)
    one_thread = np.array([11, 12, 1, 4], np.int64)
    assert trial.choose(blas_split.NO_SPLIT) is blas_split.NO_SPLIT
    assert trial.choose(one_thread) is one_thread
    assert trial._calls == 0  # rows without a choice leave the trial as it was
    two = np.array([11, 12, 2, 4], np.int64)
    trial.choice, trial._kept = False, 1
    assert trial.choose(two) is blas_split.NO_SPLIT
    trial.choice = True
    assert trial.choose(two) is two


def _trial_says(trial_module, monkeypatch, way: bool) -> None:
    """Every trial answers ``way``; skips without a splitter of two threads."""
    from ffnn.kernels import blas_split

    found = blas_split.splitter()
    if found is None or found.threads() < 2:
        pytest.skip("no OpenBLAS splitter with two threads here")
    monkeypatch.setattr(trial_module.SplitTrial, "split", lambda self: way)


def _spy_rows(monkeypatch, module, name):
    """The split rows a compiled call received (its second-to-last argument)."""
    seen, original = [], getattr(module, name)

    def spy(*args):
        seen.append(args[-2].copy())
        return original(*args)

    monkeypatch.setattr(module, name, spy)
    return seen


@pytest.mark.skipif(not accel.enabled, reason="the group step runs with the kernels on")
@pytest.mark.parametrize("way", [True, False])
def test_an_optimizer_group_splits_as_its_trial_says(trial_module, monkeypatch, way, rng):
    import ffnn
    from ffnn.optim import multi_tensor

    _trial_says(trial_module, monkeypatch, way)
    seen = _spy_rows(monkeypatch, multi_tensor, "_run")
    param = ffnn.nn.Parameter(ffnn.tensor(rng.standard_normal(accel.SPLIT_MIN + 5)))
    opt = ffnn.optim.Adam([param], lr=1e-2)
    for _ in range(2):
        param.grad = ffnn.tensor(rng.standard_normal(accel.SPLIT_MIN + 5))
        opt.step()
    assert len(seen) == 2
    assert all(bool(row[2] >= 2) is way and bool(row[0] != 0) is way for row in seen)


@pytest.mark.parametrize("way", [True, False])
def test_the_fused_step_splits_as_its_trial_says(trial_module, monkeypatch, way, rng):
    import ffnn
    from ffnn import nn

    _trial_says(trial_module, monkeypatch, way)
    model = nn.Sequential(nn.Linear(400, 200), nn.ReLU(), nn.Linear(200, 3))  # 80,000 weights
    opt = ffnn.optim.SGD(model.parameters(), lr=1e-2)
    step = ffnn.compile(model, nn.CrossEntropyLoss(), opt, mode="fused")
    x, y = rng.standard_normal((2, 400)).astype(np.float32), np.array([0, 2])
    step(x, y)
    assert step.fused is not None and step.compiled
    seen = _spy_rows(monkeypatch, step.fused, "kernel")
    step(x, y)
    assert len(seen) == 1 and bool(seen[0][2] >= 2) is way and bool(seen[0][0] != 0) is way
