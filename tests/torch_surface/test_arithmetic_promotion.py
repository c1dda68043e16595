"""The arithmetic operators' result dtypes and values against torch's: a 0-d tensor counts
only by a higher category than a tensor with dimensions (a float32 batch divided by a
float64 0-d tensor stays float32), bools become integers with integer numbers (a mask times
2 counts), integer tensors keep their width with Python integers; and the methods around
them (``add(alpha=)``, ``sum(dtype=)``, ``cumsum`` of bools, ``contiguous``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

EXPRESSIONS = {
    "float32 batch / float64 0-d": lambda lib: lib.ones(4, 3) / lib.tensor(np.sqrt(3.0)),
    "float64 0-d * float32 batch": lambda lib: lib.tensor(np.float64(0.5)) * lib.ones(2, 2),
    "float32 batch - float64 from_numpy 0-d": lambda lib: lib.ones(3) - lib.from_numpy(
        np.array(0.25)),
    "float16 batch * float64 0-d": lambda lib: lib.ones(2, dtype=lib.float16) * lib.tensor(2.0,
                                                                                          dtype=lib.float64),
    "int32 batch + int64 0-d": lambda lib: lib.tensor([1, 2], dtype=lib.int32) + lib.tensor(3),
    "int32 batch + python int": lambda lib: 3 + lib.tensor([1, 2], dtype=lib.int32),
    "int64 batch * float32 0-d": lambda lib: lib.arange(3) * lib.tensor(1.5),
    "int64 0-d + python float": lambda lib: lib.tensor(3) + 2.5,
    "float64 0-d + float32 0-d": lambda lib: lib.tensor(1.0, dtype=lib.float64) + lib.tensor(
        2.0),
    "bool mask * 2": lambda lib: lib.tensor([True, False, True]) * 2,
    "2 * bool mask": lambda lib: 2 * lib.tensor([True, False, True]),
    "bool mask + 1": lambda lib: lib.tensor([True, False, True]) + 1,
    "bool mask * 0.5": lambda lib: lib.tensor([True, False, True]) * 0.5,
    "bool compare + 0": lambda lib: (lib.arange(4) > 1) + 0,
    "bool mask * float32 batch": lambda lib: lib.tensor([True, False]) * lib.ones(2),
    "bool mask + bool mask": lambda lib: lib.tensor([True, False]) + lib.tensor([True, True]),
    "uint8 batch + int8 batch": lambda lib: lib.tensor([200], dtype=lib.uint8) + lib.tensor(
        [-1], dtype=lib.int8),
    "where float32 or float64 0-d": lambda lib: lib.where(lib.tensor([True, False]),
                                                          lib.ones(2), lib.tensor(5.0,
                                                                                  dtype=lib.float64)),
    "maximum float32 and float64 0-d": lambda lib: lib.maximum(lib.ones(2), lib.tensor(
        3.0, dtype=lib.float64)),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_result_dtypes_and_values_match_torch(name):
    ours, theirs = EXPRESSIONS[name](ffnn), EXPRESSIONS[name](torch)
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_float64_scalar_tensor_leaves_a_float32_layers_output_float32():
    """Data scaled by a 0-d float64 tensor (``torch.tensor(np.sqrt(3.0))``) still goes
    through a float32 layer in float32; the scalar's gradient is float64, as torch's."""
    grads = []
    for lib in (ffnn, torch):
        lib.manual_seed(0)
        scale = lib.tensor(np.sqrt(3.0), requires_grad=True)
        out = lib.nn.Linear(3, 1)(lib.ones(4, 3) / scale)
        assert str(out.dtype).endswith("float32")
        out.sum().backward()
        grads.append(str(scale.grad.dtype).replace("torch.", ""))
    assert grads == ["float64", "float64"]


def _methods(lib):
    x = lib.arange(6.0).reshape(2, 3)
    copy = x.t().contiguous()
    copy.zero_()
    mask = lib.tensor([True, False, True])
    return [x.numpy().tolist(), x.t().contiguous().is_contiguous(),
            lib.ones(2).add(lib.ones(2), alpha=3).tolist(),
            lib.ones(2).sub(lib.ones(2), alpha=3).tolist(),
            mask.sum(dtype=lib.float32).item(), mask.float().mean(dtype=lib.float64).item(),
            mask.cumsum(0).tolist(), str(mask.cumsum(0).dtype).replace("torch.", ""),
            str(lib.cumsum(lib.tensor([1, 2], dtype=lib.int32), 0).dtype).replace("torch.", ""),
            str(lib.ones(2).cumsum(0, dtype=lib.float64).dtype).replace("torch.", "")]


def test_add_alpha_sum_dtype_cumsum_and_contiguous_as_torch():
    assert _methods(ffnn) == _methods(torch)


_POW_OPERANDS = {
    "bool": lambda lib: lib.tensor([True, False]),
    "bool 0-d": lambda lib: lib.tensor(True),
    "int64": lambda lib: lib.tensor([2, 3]),
    "int32": lambda lib: lib.tensor([2, 3], dtype=lib.int32),
    "uint8": lambda lib: lib.tensor([2, 3], dtype=lib.uint8),
    "float32": lambda lib: lib.tensor([2.0, 3.0]),
    "float64 0-d": lambda lib: lib.tensor(2.0, dtype=lib.float64),
    "True": lambda lib: True,
    "False": lambda lib: False,
    "2": lambda lib: 2,
    "0.5": lambda lib: 0.5,
}
_POW_PAIRS = [(a, b) for a in _POW_OPERANDS for b in _POW_OPERANDS
              if not (a[0].isdigit() or a in ("True", "False"))
              or not (b[0].isdigit() or b in ("True", "False"))]


def _pow_outcome(lib, base, exponent):
    try:
        out = _POW_OPERANDS[base](lib) ** _POW_OPERANDS[exponent](lib)
    except (RuntimeError, NotImplementedError) as error:
        return type(error).__name__, str(error)
    return str(out.dtype).replace("torch.", ""), np.asarray(out.tolist()).tolist()


def test_pow_dtypes_values_and_errors_match_torch():
    """Every pair of the table: a mask ** True stays a bool mask, bool ** a bool tensor is
    torch's NotImplementedError, integers keep their width, and so on."""
    for base, exponent in _POW_PAIRS:
        ours, theirs = _pow_outcome(ffnn, base, exponent), _pow_outcome(torch, base, exponent)
        assert ours[0] == theirs[0], (base, exponent)
        if ours[0] in ("float32", "float64"):  # torch's x ** 0.5 is not always sqrt's last bit
            np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-15)
        else:
            assert ours[1] == theirs[1], (base, exponent)


@pytest.mark.parametrize("expression", [
    lambda lib: lib.tensor([True]) - lib.tensor([False]),
    lambda lib: lib.tensor([True]) - lib.tensor([1]),
    lambda lib: lib.tensor([1.5]) - lib.tensor([True]),
    lambda lib: lib.tensor([1.5]) - True,
    lambda lib: 1 - lib.tensor([True]),
    lambda lib: lib.tensor([1.5]).sub(lib.tensor([True]), alpha=2),
    lambda lib: -lib.tensor([True, False]),
])
def test_subtracting_or_negating_a_mask_raises_torchs_error(expression):
    messages = []
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError) as caught:
            expression(lib)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
