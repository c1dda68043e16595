"""``linspace`` and ``logspace`` against torch's CPU kernels, to the bit: the first half
counted from start, the second from end, each point one fused multiply-add in the dtype."""

import numpy as np
import pytest
import torch

import ffnn

_RNG = np.random.default_rng(54)
ENDS = [(0, 1), (-1, 1), (0, 10), (3.7, -2.2), (0.1, 0.9), (-5, 17.3), (1e-3, 1e3),
        (-np.pi, np.pi), (2, 2), (1e10, -1e-10)] + [
    tuple(float(v) for v in _RNG.normal(0, 10.0 ** _RNG.integers(-3, 4), 2)) for _ in range(12)]
STEPS = (0, 1, 2, 3, 5, 7, 10, 11, 16, 17, 33, 50, 65, 100, 101, 1000, 4097)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_is_torchs_to_the_bit(dtype):
    for start, end in ENDS:
        for steps in STEPS:
            ours = ffnn.linspace(start, end, steps, dtype=getattr(ffnn, dtype)).numpy()
            theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{start}, {end}, {steps}")


@pytest.mark.parametrize("dtype", ["float16", "int64", "int32", "uint8"])
def test_linspace_of_other_dtypes_is_torchs(dtype):
    for start, end in [(0, 1), (0, 10), (3.7, 25.2), (0.1, 0.9), (17.3, 5), (2, 2)]:
        for steps in (1, 2, 3, 7, 10, 11, 33, 100):
            ours = ffnn.linspace(start, end, steps, dtype=getattr(ffnn, dtype)).numpy()
            theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{start}, {end}, {steps}")


def test_linspace_default_dtype_and_a_large_count():
    ours, theirs = ffnn.linspace(-3, 7, 100_000), torch.linspace(-3, 7, 100_000)
    assert ours.dtype == ffnn.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_logspace_is_torchs():
    """float64 and integer points to the bit; float32 within a few ulps (torch counts
    float32 exponents in float32 and takes its own power, neither reproduced here)."""
    for start, end in [(0, 1), (-1, 1), (0, 3), (3.7, -2.2), (-5, 2), (0.5, -0.25), (-10, 10)]:
        for steps in (1, 2, 3, 5, 10, 11, 17, 50, 101):
            for base in (10.0, 2.0, np.e, 0.5, 3):
                for dtype in ("float64", "int64", "float32"):
                    ours = ffnn.logspace(start, end, steps, base=base,
                                         dtype=getattr(ffnn, dtype)).numpy()
                    theirs = torch.logspace(start, end, steps, base=base,
                                            dtype=getattr(torch, dtype)).numpy()
                    if dtype == "float32":
                        np.testing.assert_array_max_ulp(ours, theirs, maxulp=8)
                    else:
                        np.testing.assert_array_equal(ours, theirs, err_msg=f"{start}, {end}, "
                                                      f"{steps}, {base}, {dtype}")


@pytest.mark.parametrize("name", ["linspace", "logspace"])
def test_bool_dtype_is_refused_as_torch(name):
    for lib in (ffnn, torch):
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            getattr(lib, name)(0, 1, 3, dtype=lib.bool)
