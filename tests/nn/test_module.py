"""Module: registration, names equal to torch's, state_dict, load_state_dict (and its
errors), train/eval, zero_grad, dtype casts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from tests.helpers import assert_close, copy_to_torch


class Net(nn.Module):
    def __init__(self, lib_nn):
        super().__init__() if lib_nn is nn else None
        self.fc1 = lib_nn.Linear(4, 8)
        self.bn = lib_nn.BatchNorm1d(8)
        self.act = lib_nn.ReLU()
        self.head = lib_nn.Sequential(lib_nn.Linear(8, 6), lib_nn.Tanh(), lib_nn.Linear(6, 3))

    def forward(self, x):
        return self.head(self.act(self.bn(self.fc1(x))))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        Net.__init__(self, torch.nn)

    forward = Net.forward


def models():
    return Net(nn), TorchNet()


def test_names_equal_torch():
    ours, theirs = models()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.children())) == 4 and len(list(ours.parameters())) == 8
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k in ours_sd:
        assert ours_sd[k].shape == tuple(theirs_sd[k].shape), k


def test_registration_by_attribute():
    m = nn.Module()
    m.w = nn.Parameter(np.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("stat", np.zeros(3))
    m.plain = 5
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m.state_dict()) == ["w", "stat", "sub.weight", "sub.bias"]
    m.w = None
    assert "w" not in m.state_dict()
    with pytest.raises(TypeError, match="cannot assign ndarray as parameter 'w'"):
        m.w = np.ones(2)
    del m.sub
    assert "sub.weight" not in m.state_dict()


def test_assignment_before_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_state_dict_is_live_and_load_copies_in_place():
    m = nn.Linear(3, 2)
    sd = m.state_dict()
    assert sd["weight"].numpy() is m.weight.numpy() and not sd["weight"].requires_grad
    weight_array = m.weight.numpy()
    m.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.ones(2)})
    assert m.weight.numpy() is weight_array and (weight_array == 0).all()
    assert m.weight.dtype == np.float32


def test_load_torch_state_dict_gives_identical_outputs():
    ours, theirs = models()
    with torch.no_grad():  # non-trivial running statistics
        theirs.bn.running_mean.uniform_(-1, 1)
        theirs.bn.running_var.uniform_(0.5, 2)
        theirs.bn.num_batches_tracked.fill_(7)
    ours.load_state_dict(theirs.state_dict())
    assert int(ours.bn.num_batches_tracked) == 7
    ours.double().eval()
    theirs.double().eval()
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert_close(ours(ffnn.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy())
    ours.train()
    theirs.train()
    assert_close(ours(ffnn.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy())
    assert_close(ours.bn.running_mean, theirs.bn.running_mean.numpy())
    assert_close(ours.bn.running_var, theirs.bn.running_var.numpy())


def test_ffnn_state_dict_loads_into_torch():
    ours, theirs = models()
    copy_to_torch(ours, theirs)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    assert_close(ours(ffnn.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(),
                 np.float32)


def test_load_state_dict_strict_lists_every_problem():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    sd = {k: np.array(v) for k, v in m.state_dict().items()}
    del sd["0.bias"], sd["2.weight"]
    sd["0.weight"] = np.zeros((4, 2))
    sd["extra.weight"] = np.zeros(1)
    sd["2.scale"] = np.zeros(1)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Sequential" in message
    assert "0.weight: expected shape (3, 2), got (4, 2)" in message
    assert "missing keys '0.bias', '2.weight'" in message
    assert "unexpected keys 'extra.weight', '2.scale'" in message


def test_load_state_dict_non_strict_reports_but_still_rejects_shapes():
    m = nn.Linear(2, 3)
    result = m.load_state_dict({"weight": np.ones((3, 2)), "junk": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["junk"]
    assert (m.weight.data == 1).all()
    with pytest.raises(RuntimeError, match=r"weight: expected shape \(3, 2\), got \(2, 3\)"):
        m.load_state_dict({"weight": np.ones((2, 3))}, strict=False)


def test_train_eval_flags_propagate():
    m, _ = models()
    assert m.training and m.head[1].training
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())


def test_zero_grad():
    m = nn.Linear(2, 2)
    m(ffnn.ones(3, 2)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert (m.weight.grad == 0).all() and (m.bias.grad == 0).all()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_dtype_casts():
    m, _ = models()
    m.double()
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m.bn.running_mean.dtype == np.float64 and m.bn.num_batches_tracked.dtype == np.int64
    m.float()
    assert all(p.dtype == np.float32 for p in m.parameters())
    m.to(ffnn.float64)
    assert m.fc1.weight.dtype == np.float64
    m.to(dtype=torch.float32)
    assert m.fc1.weight.dtype == np.float32
    m.to("cpu")
    assert m.fc1.weight.dtype == np.float32
    out = m.double()(ffnn.tensor(np.ones((2, 4))))
    assert out.dtype == np.float64


def test_apply_and_requires_grad_():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    m.apply(lambda mod: nn.init.zeros_(mod.weight) if isinstance(mod, nn.Linear) else None)
    assert all((lin.weight.data == 0).all() for lin in m)
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_shared_parameters_listed_once_like_torch():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, shared)
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]


def test_load_state_dict_of_a_non_mapping_is_a_type_error():
    with pytest.raises(TypeError, match=r"Expected state_dict to be dict-like.*Received: "
                                        r"state_dict of type list"):
        nn.Linear(2, 3).load_state_dict([np.zeros((3, 2)), np.zeros(3)])


def test_train_mode_and_buffer_names_are_checked_as_torch():
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.Linear(2, 1).train("x")
    with pytest.raises(KeyError, match=r"without '\.'"):
        nn.Module().register_buffer("a.b", ffnn.zeros(1))


def test_state_dict_keyword_forms_match_torch():
    """``keep_vars`` (the parameters themselves), ``destination`` (filled and returned),
    ``prefix`` (prepended as given) and the old positional form (with torch's warning)."""
    from collections import OrderedDict

    ours, theirs = Net(nn), TorchNet()
    for model in (ours, theirs):
        kept = model.state_dict(keep_vars=True)
        assert kept["fc1.weight"] is model.fc1.weight and kept["fc1.weight"].requires_grad
        assert not model.state_dict()["fc1.weight"].requires_grad
        destination = OrderedDict(first=1)
        assert model.state_dict(destination=destination, prefix="net.") is destination
    assert list(ours.state_dict(destination=OrderedDict(), prefix="net.")) == \
        list(theirs.state_dict(destination=OrderedDict(), prefix="net."))
    assert list(ours.state_dict(prefix="m")) == list(theirs.state_dict(prefix="m"))
    for model in (ours, theirs):
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            old_form = model.state_dict(None, "p.", True)
        assert old_form["p.fc1.weight"] is model.fc1.weight


def test_load_state_dict_assign_takes_the_values_themselves_as_torch():
    """``assign=True``: the given tensors become the parameters (their memory and dtype, the
    module's ``requires_grad``) and buffers; without it, copies in the module's dtype."""
    values = {k: np.random.default_rng(0).standard_normal(v.shape) for k, v in
              TorchNet().state_dict().items() if v.dtype == torch.float32}
    ours, theirs = Net(nn), TorchNet()
    ours.fc1.weight.requires_grad_(False)
    theirs.fc1.weight.requires_grad_(False)
    given_ours = {k: ffnn.tensor(v) for k, v in values.items()}
    given_theirs = {k: torch.tensor(v) for k, v in values.items()}
    ours.load_state_dict(given_ours, strict=False, assign=True)
    theirs.load_state_dict(given_theirs, strict=False, assign=True)
    for (name, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters(),
                                        strict=True):
        assert mine.dtype == ffnn.float64 and other.dtype == torch.float64, name
        assert mine.requires_grad == other.requires_grad, name
        assert isinstance(mine, nn.Parameter) and np.shares_memory(mine._data,
                                                                   given_ours[name]._data)
    assert ours.bn.running_mean is given_ours["bn.running_mean"]
    x = np.random.default_rng(1).standard_normal((5, 4))
    ours.eval(), theirs.eval()
    assert_close(ours(ffnn.tensor(x)).detach().numpy(),
                 theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
