"""ParameterList and ParameterDict against torch: registration, naming, printing, training."""

import numpy as np
import pytest
import torch

import ffnn


def _build(lib):
    class Poly(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.coefs = lib.nn.ParameterList(
                [lib.nn.Parameter(lib.tensor(v)) for v in (0.3, -0.2, 0.1)])
            self.coefs.append(lib.tensor(0.05))
            self.extra = lib.nn.ParameterDict({"scale": lib.nn.Parameter(lib.ones(1))})
            self.extra["shift"] = lib.zeros(1)
            self.head = lib.nn.Linear(1, 1)

        def forward(self, x):
            out = sum(c * x ** k for k, c in enumerate(self.coefs))
            out = out * self.extra["scale"] + self.extra["shift"]
            return self.head(out.unsqueeze(1)).squeeze(1)

    model = Poly()
    with lib.no_grad():
        model.head.weight.fill_(0.7)
        model.head.bias.fill_(-0.1)
    return model


def test_registered_named_printed_and_trained_as_torch():
    ours, theirs = _build(ffnn), _build(torch)
    assert repr(ours) == repr(theirs)
    assert repr(ours.coefs) == repr(theirs.coefs) and repr(ours.extra) == repr(theirs.extra)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(ours.coefs) == 4 and isinstance(ours.coefs[3], ffnn.nn.Parameter)
    assert list(ours.extra.keys()) == ["scale", "shift"] and "shift" in ours.extra
    x = np.linspace(-1, 1, 20)
    losses = {}
    for lib, model in ((ffnn, ours), (torch, theirs)):
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        target = lib.tensor(np.sin(3 * x), dtype=lib.float32)
        for _ in range(5):
            optimizer.zero_grad()
            loss = ((model(lib.tensor(x, dtype=lib.float32)) - target) ** 2).mean()
            loss.backward()
            optimizer.step()
        losses[lib.__name__] = (loss.item(), [p.item() for p in model.coefs])
    np.testing.assert_allclose(losses["ffnn"][0], losses["torch"][0], rtol=1e-5)
    np.testing.assert_allclose(losses["ffnn"][1], losses["torch"][1], rtol=1e-5)


def test_list_and_dict_operations():
    plist = ffnn.nn.ParameterList([ffnn.nn.Parameter(ffnn.ones(2)) for _ in range(3)])
    plist += [ffnn.zeros(1)]
    assert len(plist) == 4 and len(plist[1:3]) == 2 and plist[-1].shape == (1,)
    assert len(list(plist.parameters())) == 4
    with pytest.raises(IndexError, match="out of range"):
        plist[4]
    pdict = ffnn.nn.ParameterDict([("a", ffnn.ones(1)), ("b", ffnn.ones(2))])
    popped = pdict.pop("a")
    assert popped.shape == (1,) and list(pdict) == ["b"] and pdict.get("a") is None
    assert [n for n, _ in pdict.named_parameters()] == ["b"]


def _dict_edits(lib):
    nn = lib.nn
    pd = nn.ParameterDict({"b": nn.Parameter(lib.ones(1)), "a": nn.Parameter(lib.zeros(2))})
    pd.update({"d": nn.Parameter(lib.ones(3)), "c": nn.Parameter(lib.zeros(4))})
    pd.update([("z", nn.Parameter(lib.ones(5))), ("y", nn.Parameter(lib.ones(6)))])
    kept = pd.setdefault("y", nn.Parameter(lib.ones(9))).shape[0]
    added = pd.setdefault("x", nn.Parameter(lib.ones(7))).shape[0]
    last = pd.popitem()[0]
    merged = pd | nn.ParameterDict({"m": nn.Parameter(lib.ones(1))})
    copied = pd.copy()
    order = (list(pd.keys()), [p.shape[0] for p in pd.parameters()], kept, added, last,
             list(merged.keys()), list(copied.keys()), copied["a"] is pd["a"],
             list(pd.fromkeys(["q", "r"]).keys()))
    pd.clear()
    return order, len(pd)


def test_parameter_dict_orders_and_edits_as_torch():
    """A plain dict is taken in sorted key order (so ``parameters()`` and ``state_dict``
    follow torch's order), pairs and OrderedDicts in theirs; setdefault, popitem, |, copy,
    fromkeys and clear as torch's."""
    assert _dict_edits(ffnn) == _dict_edits(torch)
