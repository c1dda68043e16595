"""``tensor_slots``: the one walk over a module's tensors, against torch's names and order."""

from __future__ import annotations

import numpy as np
import torch

import ffnn
from ffnn import nn
from ffnn.nn.module import tensor_slots


def _pair():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                    torch.nn.ReLU(), torch.nn.Linear(4, 2))
    for m in (model, reference):
        m.register_buffer("scratch", (ffnn if m is model else torch).zeros(2), persistent=False)
    return model, reference


def test_order_and_names_equal_torch():
    model, reference = _pair()
    persistent = [key for key, *_ in tensor_slots(model, persistent_only=True)]
    assert persistent == list(reference.state_dict())
    every = {key for key, *_ in tensor_slots(model)}
    assert every == set(reference.state_dict()) | {"scratch"}
    assert [n for n, _ in model.named_buffers()] == [n for n, _ in reference.named_buffers()]
    assert [n for n, _ in model.named_parameters()] == \
        [n for n, _ in reference.named_parameters()]


def test_each_slot_names_its_owner_and_kind():
    model, _ = _pair()
    for key, owner, name, tensor, is_parameter in tensor_slots(model, "net"):
        assert key.startswith("net.") and key.endswith(name)
        registry = owner._parameters if is_parameter else owner._buffers
        assert registry[name] is tensor
        assert isinstance(tensor, nn.Parameter) == is_parameter


def test_recurse_false_sees_only_the_module_itself():
    model, _ = _pair()
    assert [key for key, *_ in tensor_slots(model, recurse=False)] == ["scratch"]
    assert list(model.named_parameters(recurse=False)) == []


def test_shared_parameter_once_in_named_parameters_once_per_owner_in_state_dict():
    first = nn.Linear(2, 2)
    second = nn.Linear(2, 2)
    second.weight = first.weight
    model = nn.Sequential(first, second)
    tied = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    tied[1].weight = tied[0].weight
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in tied.named_parameters()]
    assert list(model.state_dict()) == list(tied.state_dict())
    assert sum(1 for *_, is_p in tensor_slots(model) if is_p) == 4


def test_to_casts_every_floating_tensor_and_keeps_integer_buffers():
    model, _ = _pair()
    model.to(ffnn.float64)
    for key, _, _, tensor, _ in tensor_slots(model):
        expected = np.int64 if key.endswith("num_batches_tracked") else np.float64
        assert tensor._data.dtype == expected, key
