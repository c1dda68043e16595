"""ffnn.nn.utils against torch.nn.utils: gradient clipping by norm (2, 1, 3, inf) and by value,
flat parameter vectors, the L1 penalty's gradient, and weight-decay parameter groups."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.nn.parameter import Parameter
from ffnn.nn.utils import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    decay_param_groups,
    get_total_norm,
    l1_penalty,
    parameters_to_vector,
    vector_to_parameters,
)

SHAPES = [(3, 4), (4,), (2, 2, 3)]


def _grad_array(p):
    return None if p.grad is None else p.grad.numpy()


def _pairs(scale: float = 1.0, dtype=np.float64, with_missing_grad: bool = True):
    rng = np.random.default_rng(7)
    values = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [(scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
    ours = [Parameter(v.copy()) for v in values]
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    for i, (p, t, g) in enumerate(zip(ours, theirs, grads)):
        if with_missing_grad and i == 1:
            continue  # a parameter without gradient is ignored by both
        p.grad, t.grad = g.copy(), torch.from_numpy(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pairs(scale=2.0)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, ffnn.Tensor) and total.ndim == 0
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)
    clipped = max_norm < expected.item()
    assert clipped == (max_norm == 0.5), "one case clips, the other leaves the gradients alone"


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_total_norm_then_clipping_in_two_calls_as_torchs(norm_type):
    """torch 2.6's split of clip_grad_norm_: get_total_norm of the gradients, then
    clip_grads_with_norm_ with that norm (or another)."""
    ours, theirs = _pairs(scale=2.0)
    total = get_total_norm([p.grad for p in ours if p.grad is not None], norm_type)
    expected = torch.nn.utils.get_total_norm([t.grad for t in theirs if t.grad is not None],
                                             norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    clip_grads_with_norm_(ours, 0.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, expected)
    for p, t in zip(ours, theirs):
        if t.grad is not None:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert get_total_norm([]).item() == 0.0
    with pytest.raises(RuntimeError, match="non-finite"):
        get_total_norm([ffnn.tensor([1.0, np.inf])], error_if_nonfinite=True)


def test_the_deprecated_name_warns_and_clips():
    ours, theirs = _pairs(scale=2.0)
    with pytest.warns(FutureWarning, match="deprecated in favor of"):
        total = clip_grad_norm(ours, 0.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)


def test_clip_grad_norm_clips_in_place_and_keeps_float32():
    ours, theirs = _pairs(scale=3.0, dtype=np.float32)
    arrays = [_grad_array(p) for p in ours]
    total = clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.dtype == np.float32
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    for p, t, array in zip(ours, theirs, arrays):
        assert _grad_array(p) is array
        if array is not None:
            assert array.dtype == np.float32
            np.testing.assert_allclose(array, t.grad.numpy(), rtol=1e-5, atol=1e-7)
    kept = [g.astype(np.float64) for g in arrays if g is not None]
    new_norm = np.sqrt(sum(float((g**2).sum()) for g in kept))
    assert new_norm == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_of_a_single_tensor_and_of_no_gradients():
    p = Parameter(np.array([3.0, 4.0]))
    p.grad = np.array([3.0, 4.0])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad, np.array([3.0, 4.0]) / (5.0 + 1e-6))
    q = Parameter(np.zeros(2))
    assert clip_grad_norm_([q], 1.0).item() == 0.0


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_clip_grad_norm_error_if_nonfinite(bad):
    ours, _ = _pairs()
    ours[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(ours, 1.0)  # without the flag: returns the non-finite norm
    assert not math.isfinite(total.item())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(max_norm=-1.0), "max_norm must be a number >= 0. Received: max_norm=-1.0"),
        (dict(max_norm=1.0, norm_type=0), "norm_type must be a positive number or inf. "
                                          "Received: norm_type=0"),
        (dict(max_norm=1.0, norm_type="fro"), "Received: norm_type='fro'"),
    ],
)
def test_clip_grad_norm_rejects_bad_arguments(kwargs, message):
    ours, _ = _pairs()
    with pytest.raises(ValueError, match=message):
        clip_grad_norm_(ours, **kwargs)


def test_clip_grad_value_matches_torch():
    ours, theirs = _pairs(scale=2.0)
    arrays = [_grad_array(p) for p in ours]
    assert clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t, array in zip(ours, theirs, arrays):
        assert _grad_array(p) is array
        if t.grad is not None:
            np.testing.assert_array_equal(p.grad, t.grad.numpy())
            assert np.abs(p.grad).max() == 0.7
    with pytest.raises(ValueError, match="clip_value must be a number >= 0. Received: "
                                         "clip_value=-0.1"):
        clip_grad_value_(ours, -0.1)
    with pytest.raises(TypeError, match="parameters must be Tensors. Received: an element of "
                                        "type ndarray"):
        clip_grad_value_([np.zeros(2)], 1.0)


def test_parameters_to_vector_and_back_match_torch():
    ours, theirs = _pairs()
    vec = parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.numpy(), expected.detach().numpy())
    arrays = [p.numpy() for p in ours]
    new = np.arange(vec.shape[0], dtype=np.float64)
    vector_to_parameters(ffnn.tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new), theirs)
    for p, t, array in zip(ours, theirs, arrays):
        assert p.numpy() is array, "copied in place: references to the arrays stay valid"
        np.testing.assert_array_equal(p.data, t.detach().numpy())


def test_parameters_to_vector_is_differentiable():
    ours, _ = _pairs()
    for p in ours:
        p.grad = None
    weights = np.arange(sum(p.numpy().size for p in ours), dtype=np.float64)
    (parameters_to_vector(ours) * ffnn.tensor(weights)).sum().backward()
    offset = 0
    for p in ours:
        expected = weights[offset:offset + p.numpy().size].reshape(p.shape)
        np.testing.assert_array_equal(p.grad, expected)
        offset += p.numpy().size


def test_vector_to_parameters_rejects_bad_vectors():
    ours, _ = _pairs()
    with pytest.raises(TypeError, match="expected an ffnn Tensor for vec. Received: ndarray"):
        vector_to_parameters(np.zeros(31), ours)
    with pytest.raises(ValueError, match=r"vec must be 1-D with 28 elements .* Received: vec "
                                         r"of shape \(27,\)"):
        vector_to_parameters(ffnn.zeros(27, dtype=ffnn.float64), ours)


def test_l1_penalty_value_and_gradient_is_the_sign_of_the_weights():
    ours, theirs = _pairs(with_missing_grad=False)
    for p in ours:
        p.grad = None
    penalty = l1_penalty(ours)
    expected = sum(t.abs().sum() for t in theirs)
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-12)
    (penalty * 0.5).backward()
    for p in ours:
        np.testing.assert_array_equal(p.grad, 0.5 * np.sign(p.data))
    assert l1_penalty([]).item() == 0.0


def test_decay_param_groups_splits_weights_from_biases_and_norms():
    model = nn.Sequential(
        nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 8, bias=False),
        nn.BatchNorm1d(8), nn.Linear(8, 2), nn.RMSNorm(2),
    )
    decayed, plain = decay_param_groups(model, 0.1)
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert [id(p) for p in decayed["params"]] == [
        id(model[0].weight), id(model[3].weight), id(model[5].weight)]
    names = {id(p): n for n, p in model.named_parameters()}
    assert sorted(names[id(p)] for p in plain["params"]) == sorted(
        ["0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.bias", "6.weight"])
    optimizer = ffnn.optim.AdamW([decayed, plain], lr=1e-3)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]


def test_decay_param_groups_excludes_2d_parameters_of_norm_modules():
    model = nn.Sequential(nn.Linear(6, 6), nn.LayerNorm((2, 3)))
    decayed, plain = decay_param_groups(model, 0.01)
    assert model[1].weight.ndim == 2
    assert [id(p) for p in decayed["params"]] == [id(model[0].weight)]
    assert {id(model[1].weight), id(model[1].bias)} <= {id(p) for p in plain["params"]}


def test_decay_param_groups_rejects_bad_arguments():
    with pytest.raises(ValueError, match="weight_decay must be a number >= 0. Received: "
                                         "weight_decay=-1"):
        decay_param_groups(nn.Linear(2, 2), -1)
    with pytest.raises(TypeError, match="model must be an nn.Module. Received: list"):
        decay_param_groups([], 0.1)


def test_clip_grad_value_takes_torchs_foreach():
    grads = []
    for lib in (ffnn, torch):
        p = lib.nn.Parameter(lib.ones(3))
        p.grad = lib.tensor([3.0, -4.0, 0.1])
        lib.nn.utils.clip_grad_value_([p], 0.2, foreach=True)
        grads.append(p.grad.tolist())
    assert grads[0] == grads[1]
