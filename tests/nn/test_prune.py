"""``nn.utils.prune`` against torch (float64): the same network pruned the same way in both
libraries has the same masks (exactly), state_dict keys, outputs and gradients of the
``*_orig`` parameters; iterative pruning, global pruning, removal, training with a pruned
layer; the random methods by their statistics; errors of torch's types."""

import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401 - torch loads it only when asked

import ffnn
from tests.helpers import assert_close

SIZES = (6, 5, 4, 3)


def _pair():
    """The same Sequential of Linear layers (distinct weights, no ties) in torch and ffnn."""
    def build(lib):
        layers = []
        for fan_in, fan_out in zip(SIZES, SIZES[1:]):
            layers += [lib.nn.Linear(fan_in, fan_out).double(), lib.nn.Tanh()]
        return lib.nn.Sequential(*layers[:-1])

    theirs, ours = build(torch), build(ffnn)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for param in theirs.parameters():
            param.copy_(torch.from_numpy(rng.standard_normal(tuple(param.shape))))
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    return theirs, ours


def _run(lib, net):
    """Output on a fixed batch, and each parameter's gradient of a squared loss."""
    x = lib.tensor(np.random.default_rng(1).standard_normal((7, SIZES[0])))
    net.zero_grad()
    out = net(x)
    (out ** 2).sum().backward()
    return [out.detach().numpy()] + [p.grad.numpy().copy() for p in net.parameters()]


def _assert_same(theirs, ours):
    """State (masks exactly), parameter names, outputs and gradients as torch's."""
    state, mine = theirs.state_dict(), ours.state_dict()
    assert list(mine) == list(state)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for key, value in state.items():
        if key.endswith("_mask"):
            np.testing.assert_array_equal(mine[key].numpy(), value.numpy(), err_msg=key)
        else:
            assert_close(mine[key].numpy(), value.numpy(), what=key)
    for a, b in zip(_run(ffnn, ours), _run(torch, theirs), strict=True):
        assert_close(a, b)


def _prune_both(step):
    theirs, ours = _pair()
    step(torch.nn.utils.prune, theirs)
    step(ffnn.nn.utils.prune, ours)
    return theirs, ours


@pytest.mark.parametrize("amount", [0, 1, 7, 0.3, 0.55, 1.0])
def test_l1_unstructured_matches_torch(amount):
    theirs, ours = _prune_both(lambda prune, net: [prune.l1_unstructured(net[i], "weight", amount)
                                                    for i in (0, 2)])
    _assert_same(theirs, ours)
    mask = ours[0].weight_mask.numpy()
    count = amount if isinstance(amount, int) else round(amount * mask.size)
    assert (mask == 0).sum() == count
    assert np.abs(ours[0].weight_orig.detach().numpy()[mask == 0]).max(initial=0) <= \
        np.abs(ours[0].weight_orig.detach().numpy()[mask == 1]).min(initial=math.inf)
    assert isinstance(ours[0].weight, ffnn.Tensor)
    assert not isinstance(ours[0].weight, ffnn.nn.Parameter)


@pytest.mark.parametrize("n", [1, 2, math.inf, -math.inf, "fro", 3])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_torch(n, dim):
    theirs, ours = _prune_both(
        lambda prune, net: prune.ln_structured(net[0], "weight", amount=0.4, n=n, dim=dim))
    _assert_same(theirs, ours)
    mask = ours[0].weight_mask.numpy()
    other = 1 - (dim % 2)
    assert set(np.unique(mask.sum(axis=other))) <= {0.0, mask.shape[other]}


def test_importance_scores_choose_what_is_pruned():
    scores = np.random.default_rng(2).standard_normal((5, 6))

    def step(prune, net):
        lib = torch if prune is torch.nn.utils.prune else ffnn
        prune.l1_unstructured(net[0], "weight", 9, importance_scores=lib.tensor(scores))
        prune.ln_structured(net[2], "weight", 2, n=1, dim=1,
                            importance_scores=lib.tensor(scores[:4, :5]))

    theirs, ours = _prune_both(step)
    _assert_same(theirs, ours)
    np.testing.assert_array_equal(ours[0].weight_mask.numpy() == 0,
                                  np.abs(scores) <= np.sort(np.abs(scores), axis=None)[8])


def test_iterative_pruning_combines_masks_as_torch():
    def step(prune, net):
        prune.l1_unstructured(net[0], "weight", amount=0.3)
        prune.l1_unstructured(net[0], "weight", amount=0.5)  # half of the remaining 21
        prune.ln_structured(net[0], "weight", amount=1, n=2, dim=0)
        prune.ln_structured(net[0], "weight", amount=0.5, n=1, dim=1)
        prune.l1_unstructured(net[0], "bias", amount=2)
        prune.identity(net[0], "bias")

    theirs, ours = _prune_both(step)
    _assert_same(theirs, ours)
    hooks = list(ours[0]._forward_pre_hooks.values())
    container = next(h for h in hooks if h._tensor_name == "weight")
    assert isinstance(container, ffnn.nn.utils.prune.PruningContainer)
    assert [type(m).__name__ for m in container] == ["L1Unstructured", "L1Unstructured",
                                                    "LnStructured", "LnStructured"]
    mask = ours[0].weight_mask.numpy()
    assert (mask == 0).sum() >= 9 + 11


def test_global_unstructured_matches_torch():
    scores = np.random.default_rng(3).standard_normal((4, 5))

    def step(prune, net):
        lib = torch if prune is torch.nn.utils.prune else ffnn
        pairs = [(net[0], "weight"), (net[2], "weight"), (net[4], "weight"), (net[4], "bias")]
        prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=0.3)
        prune.global_unstructured(pairs[:2], prune.L1Unstructured, amount=10,
                                  importance_scores={(net[2], "weight"): lib.tensor(scores)})

    theirs, ours = _prune_both(step)
    _assert_same(theirs, ours)
    total = sum((ours[i].weight_mask.numpy() == 0).sum() for i in (0, 2, 4))
    assert total + (ours[4].bias_mask.numpy() == 0).sum() == round(0.3 * 65) + 10


def test_custom_from_mask_and_custom_method_match_torch():
    mask = np.random.default_rng(4).random((5, 6)) < 0.5

    class EveryOther:
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    def step(prune, net):
        lib = torch if prune is torch.nn.utils.prune else ffnn
        prune.custom_from_mask(net[0], "weight", mask=lib.tensor(mask))
        prune.l1_unstructured(net[0], "bias", amount=1)
        prune.custom_from_mask(net[0], "bias", mask=lib.tensor([0, 1, 1, 0, 1]))
        method = type("EveryOther", (EveryOther, prune.BasePruningMethod), {})
        method.apply(net[2], "weight")
        method.apply(net[2], "weight")  # on the entries left: every other of those

    theirs, ours = _prune_both(step)
    _assert_same(theirs, ours)
    np.testing.assert_array_equal(ours[0].weight_mask.numpy(), mask)
    assert (ours[0].bias_mask.numpy() == 0).sum() == 1 + 2  # the earlier mask is kept


def test_remove_makes_pruning_permanent():
    def step(prune, net):
        prune.l1_unstructured(net[0], "weight", amount=0.5)
        prune.ln_structured(net[0], "weight", amount=1, n=2, dim=0)
        prune.random_unstructured(net[0], "bias", amount=0)
        prune.remove(net[0], "weight")
        prune.remove(net[0], "bias")

    theirs, ours = _pair()
    orig = ours[0].weight
    ffnn.nn.utils.prune.l1_unstructured(ours[0], "weight", amount=0.5)
    assert ours[0].weight_orig is orig
    theirs, ours = _prune_both(step)
    _assert_same(theirs, ours)
    assert isinstance(ours[0].weight, ffnn.nn.Parameter)
    assert not ffnn.nn.utils.prune.is_pruned(ours)
    assert not hasattr(ours[0], "weight_orig") and not hasattr(ours[0], "weight_mask")
    weight = ours[0].weight.detach().numpy()
    assert (weight == 0).sum() >= 15 and (weight == 0).all(axis=1).sum() == 1


def test_is_pruned_and_state_dict_keys():
    prune = ffnn.nn.utils.prune
    _, ours = _pair()
    assert not prune.is_pruned(ours)
    prune.identity(ours[2], "weight")
    assert prune.is_pruned(ours) and prune.is_pruned(ours[2]) and not prune.is_pruned(ours[0])
    assert list(ours[2].state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert np.all(ours[2].weight_mask.numpy() == 1)
    theirs = torch.nn.utils.prune.l1_unstructured(_pair()[0][2], "weight", amount=8)
    ours[2].load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(7).standard_normal((3, 5))
    assert_close(ours[2](ffnn.tensor(x)).detach().numpy(),
                 theirs(torch.tensor(x)).detach().numpy())  # the mask loaded is used
    prune.remove(ours[2], "weight")
    assert not prune.is_pruned(ours)
    assert list(ours[2].state_dict()) == ["bias", "weight"]


def _sgd(lib, params, lr=0.1, momentum=0.9, weight_decay=0.01):
    """ffnn's SGD; for torch, its update written out (b ← μ b + g + λ w, w ← w - lr b), as
    building a torch optimizer first loads torch's compiler (a second)."""
    if lib is ffnn:
        return ffnn.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    class SGD:
        def __init__(self):
            self.params, self.buffers = list(params), {}

        def zero_grad(self):
            for param in self.params:
                param.grad = None

        @torch.no_grad()
        def step(self):
            for param in self.params:
                d = param.grad + weight_decay * param
                b = self.buffers.get(param)
                self.buffers[param] = d if b is None else momentum * b + d
                param -= lr * self.buffers[param]

    return SGD()


def _train(lib, net):
    prune = lib.nn.utils.prune
    prune.l1_unstructured(net[0], "weight", amount=0.5)
    prune.ln_structured(net[2], "weight", amount=2, n=2, dim=0)
    optimizer = _sgd(lib, net.parameters())
    rng = np.random.default_rng(5)
    for _ in range(4):
        x, y = (lib.tensor(rng.standard_normal(s)) for s in ((8, 6), (8, 3)))
        optimizer.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        optimizer.step()
    net(x)  # the pre-hooks recompute the effective weights
    return net


def test_training_keeps_pruned_entries_zero():
    theirs, ours = _train(torch, _pair()[0]), _pair()[1]
    ours.load_state_dict({k: v.numpy().copy() for k, v in _pair()[0].state_dict().items()})
    _train(ffnn, ours)
    _assert_same(theirs, ours)
    for layer in (ours[0], ours[2]):
        pruned = layer.weight_mask.numpy() == 0
        assert pruned.any() and np.all(layer.weight.detach().numpy()[pruned] == 0)
        assert np.all(layer.weight_orig.detach().numpy()[pruned] != 0)


def test_random_methods_prune_exact_counts_reproducibly():
    prune = ffnn.nn.utils.prune

    def masks(seed):
        ffnn.manual_seed(seed)
        _, net = _pair()
        prune.random_unstructured(net[0], "weight", amount=0.4)
        prune.random_unstructured(net[0], "weight", amount=5)
        prune.random_structured(net[2], "weight", amount=2, dim=1)
        prune.random_structured(net[2], "weight", amount=0.5, dim=1)
        prune.random_structured(net[4], "weight", amount=1, dim=0)
        return [net[i].weight_mask.numpy() for i in (0, 2, 4)]

    first, again, others = masks(0), masks(0), [masks(seed) for seed in range(1, 6)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    for i, mask in enumerate(first):  # each varies with the seed
        assert any(not np.array_equal(mask, other[i]) for other in others)
    assert all(set(np.unique(m)) <= {0.0, 1.0} for m in first)
    assert (first[0] == 0).sum() == 12 + 5
    columns, rows = first[1].sum(axis=0), first[2].sum(axis=1)  # 2 then half of the 3 left
    assert (columns == 0).sum() == 2 + 2 and np.isin(columns, (0, 4)).all()
    assert (rows == 0).sum() == 1 and np.isin(rows, (0, 4)).all()


def test_method_prune_matches_torch():
    t = np.random.default_rng(6).standard_normal((4, 5))
    for method in ("L1Unstructured(7)", "LnStructured(0.5, n=2, dim=1)", "Identity()"):
        found = [eval(f"lib.nn.utils.prune.{method}").prune(lib.tensor(t)).numpy()
                 for lib in (ffnn, torch)]
        np.testing.assert_array_equal(*found)


def _both_raise(error, call, match=None):
    """``call(lib)`` raises ``error`` for torch and for ffnn (with a message matching)."""
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=match):
        call(ffnn)


@pytest.mark.parametrize("amount, error, match", [
    (-1, ValueError, r"non-negative integer. Received: amount=-1"),
    (1.5, ValueError, r"range \[0, 1\].*Received: amount=1.5"),
    ("0.3", TypeError, r"int .*float .*Received: amount='0.3' of type str"),
    (31, ValueError, r"at most the number of units to prune \(30\). Received: amount=31"),
])
def test_bad_amounts_raise_as_torch(amount, error, match):
    _both_raise(error, lambda lib: lib.nn.utils.prune.l1_unstructured(
        lib.nn.Linear(6, 5), "weight", amount), match)


def test_failed_pruning_leaves_the_module_as_it_was():
    prune = ffnn.nn.utils.prune
    layer = ffnn.nn.Linear(6, 5)
    weight = layer.weight
    with pytest.raises(ValueError):
        prune.l1_unstructured(layer, "weight", amount=31)
    assert layer.weight is weight and list(layer.state_dict()) == ["bias", "weight"]
    assert not prune.is_pruned(layer)
    prune.l1_unstructured(layer, "weight", amount=10)
    mask = layer.weight_mask.numpy().copy()
    with pytest.raises(ValueError):
        prune.l1_unstructured(layer, "weight", amount=21)  # 20 left
    np.testing.assert_array_equal(layer.weight_mask.numpy(), mask)
    assert [type(h).__name__ for h in layer._forward_pre_hooks.values()] == ["L1Unstructured"]
    prune.l1_unstructured(layer, "weight", amount=5)
    with pytest.raises(ValueError):
        prune.l1_unstructured(layer, "weight", amount=16)  # 15 left
    (container,) = layer._forward_pre_hooks.values()
    assert len(container) == 2 and (layer.weight_mask.numpy() == 0).sum() == 15


def test_other_errors_raise_as_torch():
    def prune(lib):
        return lib.nn.utils.prune

    def linear(lib):
        return lib.nn.Linear(6, 5)

    _both_raise(ValueError, lambda lib: prune(lib).ln_structured(
        linear(lib), "bias", 1, n=2, dim=0), "multidimensional")
    _both_raise(IndexError, lambda lib: prune(lib).random_structured(linear(lib), "weight", 1, 2))
    _both_raise(RuntimeError, lambda lib: prune(lib).ln_structured(
        linear(lib), "weight", 1, n="nuc", dim=0), "nuc")
    _both_raise(ValueError, lambda lib: prune(lib).remove(linear(lib), "weight"), "pruned")
    _both_raise(AssertionError, lambda lib: prune(lib).l1_unstructured(
        linear(lib), "weight", 1, importance_scores=lib.ones(3, 6)), "same shape")
    _both_raise(TypeError, lambda lib: prune(lib).global_unstructured(
        [(linear(lib), "weight")], prune(lib).LnStructured, amount=1, n=2), "unstructured")
    _both_raise(TypeError, lambda lib: prune(lib).global_unstructured(3, prune(lib).Identity),
                "Iterable")
    _both_raise(TypeError, lambda lib: prune(lib).global_unstructured(
        [(linear(lib), "weight")], prune(lib).Identity, importance_scores=[]), "dict")
    _both_raise(TypeError, lambda lib: prune(lib).BasePruningMethod(), "abstract")
    def container(lib):
        return prune(lib).PruningContainer(prune(lib).Identity.apply(linear(lib), "weight"))

    _both_raise(TypeError, lambda lib: container(lib).add_pruning_method(3), "BasePruningMethod")
    _both_raise(ValueError, lambda lib: container(lib).add_pruning_method(
        prune(lib).Identity.apply(linear(lib), "bias")), "'bias'")
    _both_raise(ValueError, lambda lib: prune(lib).l1_unstructured(
        prune(lib).l1_unstructured(linear(lib), "weight", 1), "weight", 30), "30")


def test_a_layer_whose_pruning_is_removed_is_called_as_one_never_pruned():
    layer = ffnn.nn.Linear(4, 3)
    ffnn.nn.utils.prune.l1_unstructured(layer, "weight", amount=2)
    ffnn.nn.utils.prune.remove(layer, "weight")
    assert "_forward_pre_hooks" not in vars(layer)
    handle = layer.register_forward_pre_hook(lambda module, args: None)
    handle.remove()
    assert "_forward_pre_hooks" not in vars(layer)
