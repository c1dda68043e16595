"""A tensor prints as torch prints it (ffnn.tensor_str): the same text for the same values."""

import numpy as np
import pytest
import torch

import ffnn

CASES = {
    "whole_floats": lambda lib: lib.tensor([1.0, 2.0, -3.0]),
    "decimals": lambda lib: lib.tensor([1.5, 2.0, -0.25]),
    "scalar": lambda lib: lib.tensor(0.5),
    "int_scalar": lambda lib: lib.tensor(3),
    "small_values_sci": lambda lib: lib.tensor([1e-5, 1.0]),
    "wide_range_sci": lambda lib: lib.tensor([123456.7, 1.0]),
    "huge_whole_sci": lambda lib: lib.tensor([1e9, 1.0]),
    "nan_inf": lambda lib: lib.tensor([float("nan"), 1.5, float("-inf")]),
    "all_zero": lambda lib: lib.zeros(2, 3),
    "matrix": lambda lib: lib.tensor([[1.23456789, 2.0], [3.0, -4.0]]),
    "ints": lambda lib: lib.tensor([[1, -20], [300, 4]]),
    "bools": lambda lib: lib.tensor([True, False]),
    "float64_shown": lambda lib: lib.tensor([1.0, 2.5], dtype=lib.float64),
    "int32_shown": lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    "requires_grad": lambda lib: lib.zeros(2, requires_grad=True),
    "detached_result": lambda lib: (lib.ones(2, requires_grad=True) * 2).detach(),
    "long_vector_wraps": lambda lib: lib.linspace(0, 1, 40),
    "summarized": lambda lib: lib.arange(2000.0),
    "summarized_matrix": lambda lib: lib.tensor(np.arange(3000).reshape(30, 100)),
    "three_dims": lambda lib: lib.tensor(np.linspace(-2, 2, 24).reshape(2, 3, 4)),
    "empty": lambda lib: lib.zeros(0),
    "empty_matrix": lambda lib: lib.zeros(0, 3),
    "empty_long": lambda lib: lib.zeros(0, dtype=lib.int64),
    "nan_scalar": lambda lib: lib.tensor(float("nan")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_and_str_match_torch(name):
    ours, theirs = CASES[name](ffnn), CASES[name](torch)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)
    assert f"{ours}" == f"{theirs}"


def test_float64_default_dtype_hides_float64_and_shows_float32():
    try:
        for lib in (torch, ffnn):
            lib.set_default_dtype(lib.float64)
        for make in (lambda lib: lib.tensor([0.5, 1.0]),
                     lambda lib: lib.tensor([0.5, 1.0], dtype=lib.float32)):
            assert repr(make(ffnn)) == repr(make(torch))
    finally:
        for lib in (torch, ffnn):
            lib.set_default_dtype(lib.float32)


def test_grad_fn_is_named_in_the_text():
    text = repr(ffnn.ones(2, requires_grad=True) * 2)
    assert text.startswith("tensor([2., 2.], grad_fn=<") and text.endswith(">)")


@pytest.mark.parametrize("call", [
    lambda lib, x: x.max(1), lambda lib, x: lib.min(x, 0), lambda lib, x: x.sort(),
    lambda lib, x: lib.topk(x, 1), lambda lib, x: lib.max(x, 1, keepdim=True),
])
def test_values_and_indices_results_print_as_torch_return_types(call):
    data = [[1.0, 5.0], [3.0, 2.0]]
    ours, theirs = call(ffnn, ffnn.tensor(data)), call(torch, torch.tensor(data))
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    values, indices = ours
    assert values is ours.values and indices is ours[1]


def test_load_state_dict_result_prints_as_torch():
    for strict, keys in ((True, ["weight", "bias"]), (False, ["weight"])):
        texts = []
        for lib in (torch, ffnn):
            layer = lib.nn.Linear(2, 2)
            state = {k: v for k, v in layer.state_dict().items() if k in keys}
            texts.append(str(layer.load_state_dict(state, strict=strict)))
        assert texts[0] == texts[1]


@pytest.mark.parametrize("sci_mode", [True, False])
def test_forced_sci_mode_pads_as_torch(sci_mode):
    """set_printoptions(sci_mode=...) against the notation the values would choose: the
    columns are as wide as the forced notation's texts (torch pads a positive entry)."""
    values = [[0.12573, -0.1321, 0.64042], [100.0, 2.0, -3.0], [1e-6, 2.0, 3.5],
              [float("nan"), 1.0, -2.5]]
    try:
        for lib in (torch, ffnn):
            lib.set_printoptions(sci_mode=sci_mode)
        for row in values:
            assert repr(ffnn.tensor(row)) == repr(torch.tensor(row)), row
    finally:
        for lib in (torch, ffnn):
            lib.set_printoptions(profile="default", sci_mode=None)
