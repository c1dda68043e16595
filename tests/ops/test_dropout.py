"""The dropout op (ffnn.ops.dropout) through F.dropout: inverted, seeded, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn


def F(lib):  # noqa: N802 - the usual alias
    return lib.nn.functional


def test_dropout_is_inverted_and_seeded():
    x = ffnn.tensor(np.ones((200, 50)), requires_grad=True)
    g1, g2 = ffnn.Generator(5), ffnn.Generator(5)
    y1 = F(ffnn).dropout(x, 0.3, generator=g1)
    y2 = F(ffnn).dropout(x, 0.3, generator=g2)
    np.testing.assert_array_equal(y1.data, y2.data)  # same seed, same mask
    kept = y1.numpy() != 0
    np.testing.assert_allclose(y1.data[kept], 1 / 0.7)  # survivors scaled by 1/(1-p)
    assert abs(kept.mean() - 0.7) < 0.02  # ~4.5 standard errors for 10,000 draws
    assert abs(y1.data.mean() - 1.0) < 0.03  # expected value preserved
    y1.backward(np.ones_like(x.data))
    np.testing.assert_array_equal(x.grad, y1.data)  # gradient goes through the same mask
    y3 = F(ffnn).dropout(x, 0.3, generator=ffnn.Generator(6))
    assert (y3.data != y1.data).any()


def test_dropout_global_seed_and_identity_cases():
    x = ffnn.tensor(np.ones(100))
    ffnn.manual_seed(11)
    a = F(ffnn).dropout(x, 0.5)
    ffnn.manual_seed(11)
    np.testing.assert_array_equal(a.data, F(ffnn).dropout(x, 0.5).data)
    assert F(ffnn).dropout(x, 0.5, training=False) is x
    assert F(ffnn).dropout(x, 0.0) is x
    assert (F(ffnn).dropout(x, 1.0).data == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1. Received: p=1.5"):
        F(ffnn).dropout(x, 1.5)


def test_dropout_dtype_kept():
    for dtype in (np.float32, np.float64):
        x = ffnn.tensor(np.ones(10, dtype), requires_grad=True)
        y = F(ffnn).dropout(x, 0.2)
        y.sum().backward()
        assert y.dtype == dtype and x.grad.dtype == dtype


def test_torch_dropout_expectation_agrees():
    # same statistics as torch's dropout (scale 1/(1-p) on survivors)
    t = torch.nn.functional.dropout(torch.ones(10000, dtype=torch.float64), 0.25)
    f = F(ffnn).dropout(ffnn.tensor(np.ones(10000)), 0.25)
    assert set(np.unique(t.numpy())) == set(np.unique(f.data))


def test_dropout_gradient_matches_finite_differences():
    # the same seed on every call draws the same mask, so the op is a fixed linear map
    x = ffnn.tensor(np.random.default_rng(0).normal(size=(6, 5)), requires_grad=True)
    op = lambda t: F(ffnn).dropout(t, 0.4, generator=ffnn.Generator(3))  # noqa: E731
    assert ffnn.gradcheck(op, (x,))
    mask = op(x).numpy() != 0
    assert 0 < mask.sum() < mask.size  # some kept, some dropped: the check saw both


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_the_keep_mask_keeps_a_fraction_one_minus_p(p):
    """32 random bits per entry compared with round(p·2³²): a Bernoulli(1 - p) mask, the
    same for the same generator state, of any shape (odd sizes use half a 64-bit output)."""
    from ffnn.ops.dropout import keep_mask

    mask = keep_mask(np.random.default_rng(7), (999, 1001), p)
    again = keep_mask(np.random.default_rng(7), (999, 1001), p)
    assert mask.shape == (999, 1001) and mask.dtype == bool
    np.testing.assert_array_equal(mask, again)
    assert abs(mask.mean() - (1 - p)) < 3e-3  # ~6 standard errors for 10⁶ draws
    if p > 0:  # no pattern along either axis: the spread of row and column means is binomial
        rows, columns = mask.mean(axis=1), mask.mean(axis=0)
        assert abs(rows.std() / np.sqrt(p * (1 - p) / 1001) - 1) < 0.15
        assert abs(columns.std() / np.sqrt(p * (1 - p) / 999) - 1) < 0.15


# Vigna's splitmix64.c, seeded with 0: its first four outputs (published reference values)
SPLITMIX64_FROM_ZERO = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F,
                        0xF88BB8A8724C81EC]


def _splitmix64_output(key: int, index: int) -> int:
    """Output ``index`` of SplitMix64 seeded with ``key``, in Python integers: the oracle."""
    z = (key + (index + 1) * 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


def test_splitmix64_gives_the_published_outputs_and_the_formula_past_each_chunk():
    from ffnn.ops.dropout import _CHUNK, splitmix64

    assert splitmix64(0, 4).tolist() == SPLITMIX64_FROM_ZERO
    key = 0xFEDCBA9876543210
    out = splitmix64(key, 2 * _CHUNK + 3)
    for index in (0, 1, _CHUNK - 1, _CHUNK, _CHUNK + 1, 2 * _CHUNK + 2):
        assert int(out[index]) == _splitmix64_output(key, index)


@pytest.fixture(params=[True, False] if ffnn.accel.available else [False],
                ids=lambda compiled: "compiled" if compiled else "numpy")
def compiled(request, monkeypatch):
    monkeypatch.setattr(ffnn.accel, "enabled", request.param)
    return request.param


@pytest.mark.parametrize("size", [1, 2, 7, 4095, 4096, 4097, 70_001, 262_147])  # the last
# split over OpenBLAS's threads where there are two
def test_the_mask_is_splitmix64s_halves_against_the_threshold(compiled, size):
    """Entry 2i is the low half of output i, 2i + 1 its high half, each kept when at least
    round(p·2³²); the key is the generator's next 64-bit draw, and only one is drawn."""
    from ffnn.ops.dropout import keep_mask

    rng = np.random.default_rng(11)
    mask = keep_mask(rng, (size,), 0.3)
    fresh = np.random.default_rng(11).bit_generator
    key = int(fresh.random_raw())
    assert int(rng.bit_generator.random_raw()) == int(fresh.random_raw())  # one draw used
    threshold = round(0.3 * 2**32)
    for j in sorted({0, 1, size // 2, size - 2, size - 1} & set(range(size))):
        half = _splitmix64_output(key, j // 2) >> (32 * (j % 2)) & 0xFFFFFFFF
        assert mask[j] == (half >= threshold)


@pytest.mark.parametrize("shape", [(3,), (5, 7), (64, 129)])
def test_the_mask_written_into_out_is_the_mask_returned(compiled, shape):
    from ffnn.ops.dropout import keep_mask

    out = np.ones(shape, bool)
    got = keep_mask(np.random.default_rng(4), shape, 0.4, out=out)
    assert got is out
    np.testing.assert_array_equal(out, keep_mask(np.random.default_rng(4), shape, 0.4))


@pytest.mark.skipif(not ffnn.accel.available, reason="numba is not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_dropout_equals_the_numpy_reference_bit_for_bit(monkeypatch, dtype):
    x = np.random.default_rng(0).standard_normal((64, 100)).astype(dtype)
    g = np.random.default_rng(1).standard_normal((64, 100)).astype(dtype)
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(ffnn.accel, "enabled", enabled)
        t = ffnn.tensor(x, requires_grad=True)
        y = F(ffnn).dropout(t, 0.35, generator=ffnn.Generator(4))
        y.backward(ffnn.tensor(g))
        results.append((y.numpy(), t.grad.numpy()))
    (y_compiled, grad_compiled), (y_numpy, grad_numpy) = results
    np.testing.assert_array_equal(y_compiled, y_numpy)
    np.testing.assert_array_equal(grad_compiled, grad_numpy)
    assert 0 < (y_numpy == 0).mean() < 1
