"""FeatureAlphaDropout, Buffer, MultiLabelMarginLoss, TripletMarginWithDistanceLoss,
init.sparse_ and DataParallel against torch (float64 values and gradients where they are
deterministic; the structure and torch's constants where they are random), plus errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.nn import (
    Buffer,
    DataParallel,
    FeatureAlphaDropout,
    MultiLabelMarginLoss,
    TripletMarginWithDistanceLoss,
)
from ffnn.nn.functional import (
    feature_alpha_dropout,
    multilabel_margin_loss,
    triplet_margin_with_distance_loss,
)
from ffnn.nn.init import sparse, sparse_
from tests.helpers import assert_close


# ----- FeatureAlphaDropout ----------------------------------------------------------------
def _channel_maps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """(kept [N, C], slope a, offset b of the kept channels, value of the dropped ones) read
    off an output y of x [N, C, L]: each channel is a·x + b or one constant."""
    kept = np.ptp(y, axis=2) > 1e-12
    slope = (y[kept][:, 1] - y[kept][:, 0]) / (x[kept][:, 1] - x[kept][:, 0])
    offset = y[kept][:, 0] - slope * x[kept][:, 0]
    dropped = y[~kept][:, 0]
    assert np.ptp(slope) < 1e-12 and np.ptp(offset) < 1e-12 and np.ptp(dropped) < 1e-12
    return kept, slope[0], offset[0], dropped[0]


def test_feature_alpha_dropout_drops_whole_channels_with_torchs_affine_map():
    p = 0.3
    x = np.random.default_rng(0).standard_normal((40, 10, 6))
    xo, xt = ffnn.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    out = FeatureAlphaDropout(p)(xo)
    tout = torch.nn.FeatureAlphaDropout(p)(xt)
    kept, a, b, dropped = _channel_maps(x, out.numpy())
    tkept, ta, tb, tdropped = _channel_maps(x, tout.detach().numpy())
    assert_close([a, b, dropped], [ta, tb, tdropped], what="a, b and the dropped value")
    assert abs(kept.mean() - (1 - p)) < 0.1 and abs(tkept.mean() - (1 - p)) < 0.1
    out.sum().backward()
    tout.sum().backward()
    grad, tgrad = np.asarray(xo.grad), xt.grad.numpy()
    np.testing.assert_allclose(grad, np.where(kept[:, :, None], a, 0.0) + 0 * x, rtol=1e-12)
    np.testing.assert_allclose(tgrad, np.where(tkept[:, :, None], ta, 0.0) + 0 * x, rtol=1e-12)


def test_feature_alpha_dropout_edges_as_torchs():
    x = ffnn.randn(4, 3, 2)
    assert feature_alpha_dropout(x, 0.5, training=False) is x
    assert FeatureAlphaDropout(0.0)(x) is x
    layer = FeatureAlphaDropout(0.4).eval()
    assert layer(x) is x
    np.testing.assert_array_equal(feature_alpha_dropout(x, 1.0, True).numpy(),
                                  np.zeros((4, 3, 2), np.float32))
    assert repr(FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))
    first = feature_alpha_dropout(x, 0.5, True, generator=ffnn.Generator().manual_seed(1))
    again = feature_alpha_dropout(x, 0.5, True, generator=ffnn.Generator().manual_seed(1))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        feature_alpha_dropout(ffnn.randn(5), 0.5, True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        FeatureAlphaDropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        feature_alpha_dropout(x, -0.1, True)


# ----- Buffer -----------------------------------------------------------------------------


def test_buffer_is_a_marked_tensor_sharing_memory_as_torchs():
    x = ffnn.ones(3, requires_grad=True)
    b, tb = Buffer(x, persistent=False), torch.nn.Buffer(torch.ones(3, requires_grad=True),
                                                          persistent=False)
    assert type(b) is ffnn.Tensor and type(tb) is torch.Tensor
    assert isinstance(b, Buffer) and isinstance(tb, torch.nn.Buffer)
    assert not isinstance(x, Buffer) and not isinstance(torch.ones(1), torch.nn.Buffer)
    assert b.persistent is tb.persistent is False and Buffer(x).persistent is True
    assert b.requires_grad and tb.requires_grad and b.is_leaf
    b.numpy()[0] = 5.0
    assert x.detach().numpy()[0] == 5.0  # detached, sharing memory
    assert Buffer().shape == (0,) and Buffer([1.0, 2.0]).dtype == ffnn.float32


def test_assigning_a_buffer_registers_it_as_torchs():
    ours, theirs = nn.Module(), torch.nn.Module()
    for module, lib, buffer in ((ours, ffnn, Buffer), (theirs, torch, torch.nn.Buffer)):
        module.b = buffer(lib.ones(2), persistent=False)
        module.c = buffer(lib.zeros(3))
        module.c = lib.ones(3)  # a plain tensor replacing a buffer stays one
        module.p = (nn.Parameter if lib is ffnn else torch.nn.Parameter)(lib.ones(1))
        with pytest.raises(TypeError, match="parameter 'p'"):
            module.p = buffer(lib.ones(1))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["p", "c"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert ours._non_persistent_buffers_set == theirs._non_persistent_buffers_set == {"b"}
    ours.b, theirs.b = Buffer(ffnn.ones(2)), torch.nn.Buffer(torch.ones(2))  # persistent now
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["p", "b", "c"]
    assert ours._non_persistent_buffers_set == theirs._non_persistent_buffers_set == set()


# ----- MultiLabelMarginLoss ---------------------------------------------------------------
def _multilabel_case(rng, batch: int = 6, classes: int = 5):
    """Scores and targets: a random prefix of class indices (one row full, one listing a
    class twice, one empty), then -1 and anything after it."""
    target = np.stack([rng.permutation(classes) for _ in range(batch)])
    stops = rng.integers(0, classes, batch)
    stops[0] = classes
    target[1, 1] = target[1, 0]
    stops[1] = max(stops[1], 2)
    for row, stop in enumerate(stops):
        if stop < classes:
            target[row, stop] = -1
    return rng.standard_normal((batch, classes)), target


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss_matches_torch(reduction):
    x, target = _multilabel_case(np.random.default_rng(1))
    xo, xt = ffnn.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    loss = MultiLabelMarginLoss(reduction=reduction)(xo, ffnn.tensor(target))
    tloss = torch.nn.MultiLabelMarginLoss(reduction=reduction)(xt, torch.from_numpy(target))
    assert_close(loss.numpy(), tloss.detach().numpy())
    g = np.random.default_rng(2).standard_normal(loss.shape)
    (loss * ffnn.tensor(g)).sum().backward()
    (tloss * torch.from_numpy(g)).sum().backward()
    assert_close(np.asarray(xo.grad), xt.grad.numpy(), what="input grad")


def test_multilabel_margin_loss_one_sample_and_torchs_example():
    x, target = np.array([0.1, 0.2, 0.4, 0.8]), np.array([3, 0, -1, 1])
    ours = multilabel_margin_loss(ffnn.tensor(x), target, reduction="none")
    theirs = torch.nn.functional.multilabel_margin_loss(
        torch.from_numpy(x), torch.from_numpy(target), reduction="none")
    assert ours.shape == theirs.shape == ()
    assert_close(ours.numpy(), theirs.numpy())
    assert math.isclose(float(ours), 0.85, rel_tol=1e-12)


def test_multilabel_margin_loss_rejects_what_torch_rejects():
    x = ffnn.randn(2, 4)
    for bad, message in ((np.zeros((1, 4), np.int64), "inconsistent target size"),
                         (np.array([[4, 0, -1, 1], [0] * 4]), r"in \[-1, 4\)"),
                         (np.array([[-2, 0, -1, 1], [0] * 4]), r"in \[-1, 4\)"),
                         (np.zeros((2, 4)), "integer target")):
        with pytest.raises(RuntimeError, match=message):
            multilabel_margin_loss(x, bad)
        with pytest.raises(RuntimeError):
            torch.nn.functional.multilabel_margin_loss(torch.zeros(2, 4), torch.from_numpy(bad))
    with pytest.raises(RuntimeError, match="non-empty vector or matrix"):
        multilabel_margin_loss(ffnn.randn(2, 3, 4), np.zeros((2, 3, 4), np.int64))
    with pytest.raises(ValueError, match="reduction"):
        MultiLabelMarginLoss(reduction="average")


# ----- TripletMarginWithDistanceLoss ------------------------------------------------------
def _cosine_distance(lib):
    return lambda a, b: 1.0 - lib.nn.functional.cosine_similarity(a, b)


def _triplets(rng) -> list[np.ndarray]:
    """Anchors, positives near them, negatives near them (odd rows: a loss) or opposite
    (even rows: none), so that both sides of the hinge are tested."""
    anchor = rng.standard_normal((8, 4))
    positive = anchor + 0.2 * rng.standard_normal((8, 4))
    negative = anchor + 0.4 * rng.standard_normal((8, 4))
    negative[::2] = -anchor[::2] + 0.2 * rng.standard_normal((4, 4))
    return [anchor, positive, negative]


def test_the_triplets_fall_on_both_sides_of_the_hinge():
    for distance in (None, _cosine_distance(torch)):
        loss = torch.nn.functional.triplet_margin_with_distance_loss(
            *map(torch.from_numpy, _triplets(np.random.default_rng(3))),
            distance_function=distance, margin=0.7, reduction="none")
        assert (loss[::2] == 0).all() and (loss[1::2] > 0).all()


@pytest.mark.parametrize("distance", ["default", "cosine"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_triplet_margin_with_distance_loss_matches_torch(distance, swap, reduction):
    arrays = _triplets(np.random.default_rng(3))
    rng = np.random.default_rng(4)
    ours_in = [ffnn.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.from_numpy(a).requires_grad_() for a in arrays]
    options = dict(margin=0.7, swap=swap, reduction=reduction)
    ours = TripletMarginWithDistanceLoss(
        distance_function=None if distance == "default" else _cosine_distance(ffnn), **options)
    theirs = torch.nn.TripletMarginWithDistanceLoss(
        distance_function=None if distance == "default" else _cosine_distance(torch), **options)
    loss, tloss = ours(*ours_in), theirs(*theirs_in)
    assert_close(loss.numpy(), tloss.detach().numpy())
    g = rng.standard_normal(loss.shape)
    (loss * ffnn.tensor(g)).sum().backward()
    (tloss * torch.from_numpy(g)).sum().backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        assert_close(np.asarray(a.grad), b.grad.numpy(), what=f"grad of input {i}")


def test_triplet_margin_with_distance_loss_functional_sum_and_errors():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((5, 3)) for _ in range(3)]
    ours = triplet_margin_with_distance_loss(*map(ffnn.tensor, arrays), reduction="sum")
    theirs = torch.nn.functional.triplet_margin_with_distance_loss(
        *map(torch.from_numpy, arrays), reduction="sum")
    assert_close(ours.numpy(), theirs.numpy())
    assert repr(TripletMarginWithDistanceLoss()) == repr(torch.nn.TripletMarginWithDistanceLoss())
    a = ffnn.randn(5, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(ValueError, match="greater than 0"):
        triplet_margin_with_distance_loss(a, a, a, margin=-1.0)
    with pytest.raises(ValueError, match="reduction"):
        triplet_margin_with_distance_loss(a, a, a, reduction="avg")
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        triplet_margin_with_distance_loss(a, a, ffnn.randn(3))
    with pytest.raises(TypeError):
        triplet_margin_with_distance_loss(a, a, a, None)  # keyword-only, as torch's


# ----- init.sparse_ -----------------------------------------------------------------------
def test_sparse_zeroes_as_many_entries_per_column_as_torch():
    ours, theirs = ffnn.empty(400, 30), torch.empty(400, 30)
    sparse_(ours, 0.23, std=0.5)
    torch.nn.init.sparse_(theirs, 0.23, std=0.5)
    zeros, tzeros = (ours.numpy() == 0).sum(0), (theirs.numpy() == 0).sum(0)
    np.testing.assert_array_equal(zeros, tzeros)
    assert (zeros == math.ceil(0.23 * 400)).all()
    assert abs(ours.numpy()[ours.numpy() != 0].std() - 0.5) < 0.02
    assert len({tuple(np.flatnonzero(c == 0)) for c in ours.numpy().T}) > 1  # rows vary


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_draws_torchs_numbers(dtype):
    """The normals from the generator given, each column's randperm from the global one."""
    out = []
    for lib in (ffnn, torch):
        lib.manual_seed(4)
        first = lib.empty(9, 5, dtype=getattr(lib, dtype))
        assert lib.nn.init.sparse_(first, 0.4, std=0.1) is first
        second = lib.nn.init.sparse_(lib.empty(6, 3, dtype=getattr(lib, dtype)), 0.5,
                                     generator=lib.Generator().manual_seed(2))
        out.append([first.numpy(), second.numpy(), lib.rand(2).numpy()])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)  # normals: float32 ulps
        np.testing.assert_array_equal(ours == 0, theirs == 0)


def test_sparse_rejects_what_torch_rejects():
    first = ffnn.empty(6, 4)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        sparse_(ffnn.empty(3), 0.1)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        torch.nn.init.sparse_(torch.empty(3), 0.1)
    with pytest.raises(ValueError, match="sparsity"):
        sparse_(ffnn.empty(3, 2), 1.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sparse(first, 0.1)
        torch.nn.init.sparse(torch.empty(2, 2), 0.1)
    assert [w.category for w in caught] == [FutureWarning] * 2
    assert str(caught[0].message) == str(caught[1].message)


# ----- DataParallel -----------------------------------------------------------------------
def test_data_parallel_on_the_cpu_calls_its_module_as_torchs():
    theirs = torch.nn.DataParallel(torch.nn.Sequential(
        torch.nn.Linear(3, 4, dtype=torch.float64), torch.nn.Tanh()))
    inner = nn.Sequential(nn.Linear(3, 4, dtype=ffnn.float64), nn.Tanh())
    ours = DataParallel(inner, device_ids=[0, 1], dim=0)
    assert ours.module is inner and ours.device_ids == theirs.device_ids == []
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.0.weight",
                                                                    "module.0.bias"]
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(5).standard_normal((2, 3))
    assert_close(ours(ffnn.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy())
    assert repr(ours).replace("float64", "") == repr(theirs).replace("float64", "")
    assert DataParallel(lambda a, scale=1: a * scale)(2, scale=3) == 6
