"""The fused softmax attention: forward and hand-written backward against torch's
scaled_dot_product_attention and finite differences, with padding, causal and float masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn.nn import functional as F
from tests.helpers import assert_close, check_op


def _padding_mask(lengths, source):
    """[N, 1, 1, S] boolean: True where the key is a real token (torch's sdpa convention)."""
    return (np.arange(source)[None, :] < np.asarray(lengths)[:, None])[:, None, None, :]


def test_sdpa_with_padding_mask_matches_torch_and_finite_differences():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((3, 2, 5, 4)) for _ in range(3))
    mask = _padding_mask([5, 3, 1], 5)
    check_op(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=lib.from_numpy(mask) if lib is torch else mask), q, k, v)


def test_sdpa_cross_attention_float_bias_and_scale():
    rng = np.random.default_rng(1)
    q = rng.standard_normal((2, 3, 4))
    k = rng.standard_normal((2, 6, 4))
    v = rng.standard_normal((2, 6, 5))  # value width differs from the key width
    bias = rng.standard_normal((3, 6))  # a constant: the mask gets no gradient

    def attention(lib, q, k, v):
        b = torch.from_numpy(bias).to(q.dtype) if lib is torch else bias.astype(q.dtype)
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=b, scale=0.3)

    check_op(attention, q, k, v)


def test_sdpa_causal_matches_torch():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    check_op(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True), q, k, v)


def test_sdpa_dropout_gradient_matches_finite_differences_with_a_fixed_mask():
    rng = np.random.default_rng(3)
    q, k, v = (ffnn.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True) for _ in range(3))

    def fn(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.5,
                                              generator=ffnn.Generator(7))

    first, second = fn(q, k, v).numpy(), fn(q, k, v).numpy()
    np.testing.assert_array_equal(first, second)  # same generator seed → same mask
    plain = F.scaled_dot_product_attention(q, k, v).numpy()
    assert not np.allclose(first, plain)  # the mask did something
    assert ffnn.gradcheck(fn, [q, k, v])


def test_sdpa_skips_gradients_nobody_needs():
    rng = np.random.default_rng(4)
    q = ffnn.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    k, v = (ffnn.tensor(rng.standard_normal((2, 3, 4))) for _ in range(2))
    F.scaled_dot_product_attention(q, k, v).sum().backward()
    assert q.grad is not None and k.grad is None and v.grad is None
    tq = torch.from_numpy(q.numpy()).requires_grad_()
    torch.nn.functional.scaled_dot_product_attention(
        tq, torch.from_numpy(k.numpy()), torch.from_numpy(v.numpy())).sum().backward()
    assert_close(np.asarray(q.grad), tq.grad.numpy())


def test_sdpa_rejects_bad_shapes_and_dropout():
    q = ffnn.randn(2, 3, 4)
    with pytest.raises(ValueError, match=r"key \[\.\.\., S, E\].*key \(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, ffnn.randn(2, 3, 5), ffnn.randn(2, 3, 4))
    with pytest.raises(ValueError, match="dropout_p must be in"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    with pytest.raises(TypeError, match="attn_mask must be boolean or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), dtype=np.int64))
