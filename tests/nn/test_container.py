"""Sequential: order, indexing, slicing, len, append, insert, deletion, repr like torch's
(ModuleList's too, runs of equal children folded)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from tests.helpers import check_layer


def test_repr_like_torch():
    ours = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2, bias=False))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 2, bias=False))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make", [
    lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.Linear(2, 3)]
                             + [nn.Linear(2, 3)]),
    lambda nn: nn.ModuleList(),
    lambda nn: nn.ModuleList([nn.Sequential(nn.Linear(2, 2), nn.Tanh())] * 2 + [nn.Tanh()]),
    lambda nn: nn.Sequential(nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)]), nn.ReLU())])
def test_module_list_repr_folds_runs_of_equal_children_as_torchs(make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_indexing_slicing_len_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and s[0] is layers[0] and s[-1] is layers[2]
    head = s[1:]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is layers[1]
    assert list(head._modules) == ["1", "2"]  # torch keeps the original names on slices
    s.append(nn.Sigmoid())
    assert len(s) == 4 and list(s._modules) == ["0", "1", "2", "3"]
    assert list(s) == [*layers, s[3]]
    with pytest.raises(IndexError, match="index 4 is out of range for Sequential of length 4"):
        s[4]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is layers[2]
    s.insert(0, nn.Identity())
    assert isinstance(s[0], nn.Identity) and len(s) == 4


def test_forward_in_order_and_named_children():
    s = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in s.named_children()] == ["fc", "act"]
    x = ffnn.tensor(np.ones((1, 2), np.float32))
    np.testing.assert_array_equal(s(x).data, np.maximum(s.fc(x).data, 0))


def test_rejects_non_modules():
    with pytest.raises(TypeError, match="Module at position 1. Received: function"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_layer_check_with_torch():
    def make():
        return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))

    def make_torch():
        return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))

    check_layer(make, (4, 3), (4, 2), make_torch)


def test_module_list_and_dict_register():
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    md = nn.ModuleDict({"a": nn.Linear(1, 2)})
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(md.state_dict()) == ["a.weight", "a.bias"] and "a" in md


def test_large_inference_runs_in_row_blocks_with_the_same_result(monkeypatch):
    """Under no_grad a Sequential of row-wise layers runs a big batch in blocks of rows; the
    output equals the layer-by-layer result, and non-row-wise models are not blocked."""
    import numpy as np

    import ffnn
    from ffnn import nn

    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.BatchNorm1d(32), nn.GELU(), nn.Dropout(0.3),
                          nn.Sequential(nn.Linear(32, 16), nn.LayerNorm(16)), nn.Tanh(),
                          nn.Linear(16, 4), nn.LogSoftmax(dim=1))
    model[1].running_mean[:] = 0.5
    model.eval()
    x = ffnn.randn(1000, 6)
    blocks = []
    original = nn.Linear.forward

    def counting(self, input):
        blocks.append(input.shape[0])
        return original(self, input)

    monkeypatch.setattr(nn.Linear, "forward", counting)
    monkeypatch.setattr(nn.Sequential, "inference_block_rows", 128)
    with ffnn.no_grad():
        blocked = model(x).numpy()
    assert max(blocks) == 128 and len(blocks) == 3 * 8  # 8 blocks through 3 Linear layers
    expected = x
    with ffnn.no_grad():
        for layer in [model[0], model[1], model[2], model[3], model[4][0], model[4][1],
                      model[5], model[6], model[7]]:
            expected = layer(expected)
    np.testing.assert_allclose(blocked, expected.numpy(), rtol=1e-6, atol=1e-6)

    blocks.clear()
    model.train()  # Dropout and BatchNorm now mix rows or draw masks: no blocking
    with ffnn.no_grad():
        model(x)
    assert blocks[0] == 1000
    blocks.clear()
    model.eval()
    model(x)  # gradients recorded: no blocking
    assert blocks[0] == 1000


def test_an_array_takes_the_path_of_a_tensor_of_the_same_values():
    """A Sequential of plain layers given a NumPy array computes what it computes for the
    tensor of those values, bit for bit (the array is made a constant tensor first, as its
    first layer would make it; the per-layer path rounded its products otherwise), and a
    compiled step given the array is the eager step given it."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6))
    labels = ffnn.tensor(rng.integers(0, 3, 8))
    results = []
    for make_input in (lambda a: a, ffnn.tensor):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        loss = nn.CrossEntropyLoss()(model(make_input(x)), labels)
        loss.backward()
        results.append([loss.item()] + [p.grad.numpy().copy() for p in model.parameters()])
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1:], results[1][1:], strict=True):
        assert np.array_equal(a, b)
    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    step = ffnn.compile(model, nn.CrossEntropyLoss(), ffnn.optim.SGD(model.parameters(), lr=0.1))
    assert step(x, labels) == results[0][0]


def _list_edits(lib):
    """A fine-tuning program's edits of a ModuleList, a ModuleDict and a Sequential."""
    nn = lib.nn
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml[0] = nn.Linear(2, 3)
    del ml[1]
    ml += [nn.Tanh(), nn.Sigmoid()]
    ml.insert(0, nn.ReLU())
    popped = [ml.pop(0), ml.pop(-1)]
    joined = ml + nn.ModuleList([nn.ELU()])
    md = nn.ModuleDict({"a": nn.ReLU()})
    md.update({"c": nn.Tanh(), "b": nn.ReLU()})
    md.update([("z", nn.ReLU())])
    popped.append(md.pop("a"))
    del md["c"]
    seq = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.ELU())
    popped += [seq.pop(1), seq.pop(-1)]
    names = lambda modules: [type(m).__name__ for m in modules]  # noqa: E731
    result = (names(ml), list(ml._modules), names(joined), list(md.keys()), names(seq),
              list(seq._modules), names(popped), ml[0].weight.shape[0])
    md.clear()
    return result, len(md)


def test_module_list_dict_and_sequential_edits_as_torch():
    assert _list_edits(ffnn) == _list_edits(torch)
    with pytest.raises(IndexError, match="out of range for ModuleList of length 1"):
        nn.ModuleList([nn.ReLU()])[3] = nn.Tanh()
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        nn.ModuleDict().update([("a", nn.ReLU(), 1)])
