"""ZeroRedundancyOptimizer in a world of one rank (it is its optimizer class, unchanged), the
owner rule, and the messages of bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ffnn
import ffnn.distributed as dist
from ffnn import nn, optim
from ffnn.distributed.zero import partition


def _model() -> nn.Module:
    ffnn.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 6, dtype="float64"), nn.ReLU(),
                         nn.Linear(6, 2, dtype="float64"))


def _groups(model):
    weights = [model[0].weight, model[2].weight]
    return [{"params": weights, "weight_decay": 0.1}, {"params": [model[0].bias, model[2].bias],
                                                       "lr": 0.005}]


def _steps(model, optimizer, steps: int = 5, clip=None) -> None:
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = ffnn.from_numpy(rng.standard_normal((8, 4)))
        optimizer.zero_grad()
        (model(x) ** 2).mean().backward()
        if clip is not None:
            clip(model)
        optimizer.step()


def test_one_rank_is_the_optimizer_class_itself():
    plain_model, zero_model = _model(), _model()
    plain = optim.AdamW(_groups(plain_model), lr=0.01)
    zero = dist.ZeroRedundancyOptimizer(_groups(zero_model), optim.AdamW, lr=0.01)
    assert zero.mode == "local" and zero.owners == [0, 0, 0, 0]
    _steps(plain_model, plain, clip=lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.1))
    _steps(zero_model, zero, clip=lambda m: zero.clip_grad_norm_(0.1))
    for a, b in zip(plain_model.parameters(), zero_model.parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-13, atol=1e-15)
    saved, expected = zero.state_dict(), plain.state_dict()
    assert saved["param_groups"] == expected["param_groups"]
    for index, values in expected["state"].items():
        for key, value in values.items():
            np.testing.assert_allclose(saved["state"][index][key], value, rtol=1e-12)


def test_state_dict_round_trip_and_a_scheduler():
    model = _model()
    zero = dist.ZeroRedundancyOptimizer(_groups(model), optim.Adam, lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(zero, step_size=2, gamma=0.5)
    for _ in range(3):
        _steps(model, zero, steps=1)
        scheduler.step()
    assert [g["lr"] for g in zero.param_groups] == [0.005, 0.0025]
    copy = _model()
    copy.load_state_dict(model.state_dict())
    restored = dist.ZeroRedundancyOptimizer(_groups(copy), optim.Adam, lr=0.01)
    restored.load_state_dict(zero.state_dict())
    _steps(model, zero, steps=2)
    _steps(copy, restored, steps=2)
    for a, b in zip(model.parameters(), copy.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_partition_gives_the_largest_first_to_the_least_loaded_rank():
    # group 1: 10 -> r0; 7 (first) -> r1; 7 -> r1 (7 < 10); 3 -> r0 (10 < 14)
    # group 2 continues the loads (13, 14): 5 -> r0
    assert partition([[10, 3, 7, 7], [5]], 2) == [0, 0, 1, 1, 0]
    assert partition([[4, 4, 4]], 3) == [0, 1, 2]
    assert partition([[4]], 3) == [0]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(1, 1000), min_size=1, max_size=6), min_size=1,
                max_size=3), st.integers(1, 5))
def test_partition_is_balanced(groups, ranks):
    owners = partition(groups, ranks)
    sizes = [s for g in groups for s in g]
    assert len(owners) == len(sizes) and all(0 <= o < ranks for o in owners)
    loads = [sum(s for s, o in zip(sizes, owners) if o == r) for r in range(ranks)]
    # greedy largest-first within each group: no rank exceeds another by more than the
    # largest parameter
    assert max(loads) - min(loads) <= max(sizes)


def test_bad_arguments_are_named():
    model = _model()
    with pytest.raises(TypeError, match=r"optimizer_class must be an ffnn.optim.Optimizer "
                                        r"subclass.*Received: optimizer_class='adam'"):
        dist.ZeroRedundancyOptimizer(model.parameters(), "adam", lr=0.1)
    with pytest.raises(ValueError, match=r"shared_memory must be None, True or False. "
                                         r"Received: shared_memory='yes'"):
        dist.ZeroRedundancyOptimizer(model.parameters(), optim.SGD, shared_memory="yes", lr=1)
    with pytest.raises(ValueError, match="Invalid learning rate"):  # the class's own check
        dist.ZeroRedundancyOptimizer(model.parameters(), optim.SGD, lr=-1.0)
    zero = dist.ZeroRedundancyOptimizer(model.parameters(), optim.SGD, lr=0.1)
    with pytest.raises(NotImplementedError, match="groups cannot be added afterwards"):
        zero.add_param_group({"params": [nn.Parameter(np.zeros(2))]})
    with pytest.raises(ValueError, match=r"weight must be a finite number >= 0.*weight=-1"):
        zero.reduce_gradients(weight=-1)
    with pytest.raises(ValueError, match=r"root must be a rank in \[0, 0\]. Received: root=1"):
        zero.consolidate_state_dict(to=1)
    with pytest.raises(ValueError, match=r"groups have \[1\] parameters, this optimizer's "
                                         r"\[4\]"):
        zero.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]})
