"""``ffnn.tensor_extras``: the CPU answers (device, pinning, sharing, layout), the conjugate
transposes of real tensors, ``split_with_sizes``, ``vdot`` and the legacy ``new``, against
torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

VALUES = np.arange(24.0).reshape(2, 3, 4) / 7


def _both(make):
    return make(ffnn, ffnn.tensor(VALUES)), make(torch, torch.tensor(VALUES))


@pytest.mark.parametrize("name, make", [
    ("where", lambda lib, x: (x.get_device(), x.is_pinned(), x.is_shared(), x.is_inference(),
                              x.is_sparse, repr(x.layout), repr(lib.strided),
                              x.share_memory_() is x)),
    ("H", lambda lib, x: x[0].H.numpy().tolist()),
    ("mH", lambda lib, x: x.mH.numpy().tolist()),
    ("adjoint", lambda lib, x: lib.adjoint(x).numpy().tolist()),
    ("split_with_sizes", lambda lib, x: [p.numpy().tolist()
                                         for p in x.split_with_sizes([1, 3], dim=2)]),
    ("split_with_sizes function", lambda lib, x: [
        p.shape[1] for p in lib.split_with_sizes(x, [2, 1], dim=1)]),
    ("vdot", lambda lib, x: lib.vdot(x[0, 0], x[1, 2]).item()),
    ("new shape", lambda lib, x: (tuple(x.new(2, 5).shape), str(x.new(2, 5).dtype)[-7:])),
    ("new size", lambda lib, x: tuple(x.new(lib.Size([4, 1])).shape)),
    ("new data", lambda lib, x: (x.new([1, 2]).numpy().tolist(), str(x.new((3,)).dtype)[-7:])),
    ("new empty", lambda lib, x: tuple(x.new().shape)),
])
def test_extras_match_torch(name, make):
    ours, theirs = _both(make)
    assert ours == theirs


def test_their_errors_are_torchs():
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError, match="only supported on matrices"):
            _ = lib.ones(2, 2, 2).H
        with pytest.raises(RuntimeError, match="split_sizes to sum exactly to 4"):
            lib.ones(2, 4).split_with_sizes([1, 2], dim=1)
