"""nn.Embedding and F.embedding: torch equivalence (forward, scatter-add backward), padding_idx,
from_pretrained, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from tests.helpers import assert_close, check_op


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_matches_torch_with_repeated_indices(padding_idx):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 4))
    indices = np.array([[0, 2, 2, 5], [1, 0, 3, 2]])  # repeats: gradients must add up
    check_op(lambda lib, i, w: lib.nn.functional.embedding(i, w, padding_idx=padding_idx),
             indices, weight, finite_differences=padding_idx is None)  # padding row: no grad


def test_embedding_module_state_dict_and_torch_init_layout():
    ours = nn.Embedding(10, 3, padding_idx=0)
    theirs = torch.nn.Embedding(10, 3, padding_idx=0).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert ours.weight.shape == (10, 3) and ours.weight.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(ours.weight.data[0]), 0)
    theirs.load_state_dict({"weight": torch.from_numpy(np.array(ours.weight.data, np.float64))})
    idx = np.array([3, 0, 9, 3])
    out = ours(ffnn.tensor(idx)).double()
    assert_close(out.data, theirs(torch.from_numpy(idx)).detach().numpy(), np.float32)


def test_embedding_from_pretrained_freezes_by_default():
    table = np.arange(12.0).reshape(4, 3)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    trainable = nn.Embedding.from_pretrained(table, freeze=False)
    out = trainable(ffnn.tensor([1, 1, 3]))
    out.sum().backward()
    np.testing.assert_array_equal(np.asarray(trainable.weight.grad),
                                  [[0, 0, 0], [2, 2, 2], [0, 0, 0], [1, 1, 1]])


def test_embedding_errors_name_the_problem():
    layer = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index 5 is out of range for num_embeddings=5"):
        layer(ffnn.tensor([0, 5]))
    with pytest.raises(TypeError, match="indices must be integers"):
        layer(ffnn.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=7)


def _renormed(lib, **options):
    weights = np.random.default_rng(0).standard_normal((5, 3)) * 2
    layer = lib.nn.Embedding(5, 3, **options)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(weights))
    out = layer(lib.tensor([[0, 2], [2, 4]]))
    (out * lib.arange(12.0, dtype=out.dtype).reshape(2, 2, 3)).sum().backward()
    grad = layer.weight.grad
    return (repr(layer), out.detach().numpy(), layer.weight.detach().numpy(),
            (grad.to_dense() if lib is torch and grad.is_sparse else grad).numpy())


@pytest.mark.parametrize("options", [{"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0},
                                     {"sparse": True}, {"max_norm": 0.5, "padding_idx": 2}])
def test_max_norm_and_sparse_as_torch(options):
    """``max_norm`` rescales the rows looked up, in place (word2vec programs), and
    ``sparse=True`` gives torch's gradient, dense."""
    ours, theirs = _renormed(ffnn, **options), _renormed(torch, **options)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("options", [{"max_norm": 1.0}, {"max_norm": 2.0, "norm_type": 1.0},
                                     {"padding_idx": 0, "sparse": True}])
def test_functional_embedding_takes_torchs_options(options):
    """F.embedding(input, weight, padding_idx, max_norm, norm_type, ..., sparse) as torch's:
    the rows looked up renormed in place, the same output and gradient."""
    weights = np.arange(12.0).reshape(4, 3) / 4
    results = []
    for lib in (torch, ffnn):
        weight = lib.tensor(weights, requires_grad=True)
        with lib.no_grad():
            out = lib.nn.functional.embedding(lib.tensor([[0, 2], [2, 3]]), weight, **options)
        out = lib.nn.functional.embedding(lib.tensor([[0, 2], [2, 3]]), weight, **options)
        (out * lib.arange(12.0, dtype=out.dtype).reshape(2, 2, 3)).sum().backward()
        grad = weight.grad.to_dense() if weight.grad.is_sparse else weight.grad
        results.append([out.detach().numpy(), weight.detach().numpy(), grad.numpy()])
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_max_norm_survives_a_checkpoint(tmp_path):
    layer = nn.Embedding(5, 3, max_norm=1.0, norm_type=1.0)
    path = tmp_path / "embedding.ffnn"
    ffnn.io.save(path, layer)
    loaded = ffnn.io.load(path).model
    assert (loaded.max_norm, loaded.norm_type) == (1.0, 1.0)
