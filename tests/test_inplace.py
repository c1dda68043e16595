"""Torch's tensor semantics: ``.data`` and ``.grad`` are tensors, in-place ops change memory,
leaf and version-counter errors, index assignment in and out of the graph. Each behaviour is
replayed in torch and compared (values, gradients, and which programs raise)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close


def _leaves(lib, *arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def _both(fn, *arrays):
    """Run ``fn(lib, *leaves)`` (it returns a scalar) in both libraries, backward, and compare
    the result and every leaf gradient."""
    results = []
    for lib in (ffnn, torch):
        leaves = _leaves(lib, *arrays)
        out = fn(lib, *leaves)
        out.backward()
        results.append((out.item(), [None if t.grad is None else t.grad.numpy() for t in leaves]))
    (ours, our_grads), (theirs, their_grads) = results
    assert ours == pytest.approx(theirs, rel=1e-10)
    for a, b in zip(our_grads, their_grads):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a, b)


def _both_raise(fn, *arrays):
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError):
            fn(lib, *_leaves(lib, *arrays)).backward()


# ----- the tutorials' manual update loop ------------------------------------------------------
@pytest.mark.parametrize("style", ["isub", "data_sub_", "data_isub", "data_assign"])
def test_manual_update_loop_trains_exactly_as_torch(style):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    w1, w2 = rng.standard_normal((3, 5)), rng.standard_normal((5, 1))
    curves = {}
    for lib in (ffnn, torch):
        a, b = _leaves(lib, w1, w2)
        xs, ys = lib.tensor(x), lib.tensor(y)
        losses = []
        for _ in range(25):
            loss = ((xs @ a).clamp(min=0) @ b - ys).pow(2).sum()
            losses.append(loss.item())
            loss.backward()
            for p in (a, b):
                if style == "isub":
                    with lib.no_grad():
                        p -= 1e-3 * p.grad
                elif style == "data_sub_":
                    p.data.sub_(1e-3 * p.grad.data)
                elif style == "data_isub":
                    p.data -= 1e-3 * p.grad.data
                else:
                    p.data = p.data - 1e-3 * p.grad.data
                p.grad.zero_()
        curves[lib.__name__] = losses, a.detach().numpy()
    assert curves["ffnn"][0][-1] < 0.5 * curves["ffnn"][0][0], "the loop must train"
    assert_close(curves["ffnn"][0], curves["torch"][0])
    assert_close(curves["ffnn"][1], curves["torch"][1])


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    w = ffnn.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, ffnn.Tensor) and not d.requires_grad and d.grad_fn is None
    d[0] = 5.0
    d.mul_(2)
    assert w.tolist() == [10.0, 4.0] and w.requires_grad
    w.data = ffnn.tensor([7.0, 8.0, 9.0])  # torch allows a new shape through .data
    assert w.shape == (3,) and w.requires_grad
    assert np.shares_memory(w.numpy(), w.data.numpy()) and np.shares_memory(w.detach(), w)


def test_grad_is_a_tensor_and_accumulates_in_place():
    w = ffnn.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    g = w.grad
    assert isinstance(g, ffnn.Tensor) and g.tolist() == [2.0, 4.0]
    (w * 3).sum().backward()
    assert g.tolist() == [5.0, 7.0], "accumulated into the same memory, as torch"
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
    w.grad = None
    assert w.grad is None
    with pytest.raises(RuntimeError, match="different size"):
        w.grad = ffnn.zeros(3)
    with pytest.raises(RuntimeError, match="different type"):
        w.grad = ffnn.zeros(2, dtype=ffnn.float64)


# ----- errors torch raises ---------------------------------------------------------------
def test_in_place_on_a_leaf_that_requires_grad_raises_as_torch():
    for lib in (ffnn, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        for change in (lambda t: t.add_(1), lambda t: t.__iadd__(1), lambda t: t.zero_(),
                       lambda t: t.__setitem__(0, 3.0)):
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                change(w)
        with lib.no_grad():  # allowed there: that is how parameters are updated
            w.add_(1)
        assert w.tolist() == [2.0, 3.0]


def test_version_counter_catches_a_saved_tensor_changed_in_place():
    a = np.array([0.5, -1.0, 2.0])

    def exp_then_change_output(lib, x):
        y = x.exp()  # exp saves its output
        y.add_(1)
        return y.sum()

    def product_then_change_input(lib, x):
        h = x * 1.0
        z = h * h  # mul saves both inputs
        h.mul_(2)
        return z.sum()

    def sigmoid_then_change_output(lib, x):
        s = x.sigmoid()
        s.mul_(3)
        return s.sum()

    for fn in (exp_then_change_output, product_then_change_input, sigmoid_then_change_output):
        _both_raise(fn, a)
    x = ffnn.tensor(a, requires_grad=True)
    y = x.exp()
    y += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version 1, "
                                           "changed after Exp saved it"):
        y.sum().backward()


def test_dtype_and_shape_rules_of_in_place_ops():
    for lib in (ffnn, torch):
        i = lib.tensor([1, 2])
        with pytest.raises(RuntimeError, match="result type Float can't be cast"):
            i += lib.tensor([0.5, 0.5])
        small = lib.zeros(3)
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            small += lib.ones(2, 3)
        f = lib.zeros(2)
        f += lib.tensor([1.5, 2.5], dtype=lib.float64)  # float32 keeps its dtype
        assert str(f.dtype).endswith("float32") and f.tolist() == [1.5, 2.5]


# ----- in-place ops inside the graph: torch's gradients ---------------------------------
def test_in_place_ops_on_intermediates_give_torch_gradients():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)

    def fn(lib, x, w, b):
        h = x @ w
        h += b
        h.mul_(2.0)
        h.sub_(b, alpha=0.5)
        h.div_(1.5)
        h.clamp_(-1.5, 3.0)
        h.relu_()
        return (h * h).sum()

    _both(fn, x, w, b)


def test_an_intermediate_changed_after_its_use_keeps_the_old_gradient_path():
    def fn(lib, x):
        a = x * 2.0
        b = a + 3.0  # add saves nothing: changing a afterwards is allowed
        a.mul_(5.0)
        return (b * b).sum() + a.sum()

    _both(fn, np.array([0.3, -1.2]))


def test_buffer_accumulating_parameters_becomes_part_of_the_graph():
    def fn(lib, w, v):
        acc = lib.zeros(3, dtype=lib.float64)
        acc += w * 2.0
        acc.addcmul_(v, w, value=0.5)
        return (acc * acc).sum()

    _both(fn, np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -0.5]))


@pytest.mark.parametrize("case", ["setitem", "iadd_slice", "view_mul_", "masked_fill_",
                                  "copy_"])
def test_index_assignment_and_index_views_in_the_graph(case):
    rng = np.random.default_rng(2)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def fn(lib, x, v):
        y = x * 1.5
        if case == "setitem":
            y[1] = v
        elif case == "iadd_slice":
            y[:, 0] += v[:3]
        elif case == "view_mul_":
            row = y[2]
            row.mul_(v)
        elif case == "masked_fill_":
            y.masked_fill_(y > 0.5, 0.0)
        else:
            y[0].copy_(v * 2.0)
        return (y * y.exp()).sum()

    _both(fn, x, v)


VIEW_CHANGES = {
    "view(-1).mul_": lambda y: y.view(-1).mul_(3.0),
    "t().sigmoid_": lambda y: y.t().sigmoid_(),
    "unsqueeze(0)[0, 1] =": lambda y: y.unsqueeze(0).__setitem__((0, 1), 5.0),
    "permute(1, 0)[0].exp_": lambda y: y.permute(1, 0)[0].exp_(),
    "reshape(-1)[mask] = 0": lambda y: y.reshape(-1).__setitem__(y.reshape(-1) > 1, 0.0),
}


@pytest.mark.parametrize("change", sorted(VIEW_CHANGES))
def test_in_place_on_a_reshaped_or_permuted_view_reaches_its_base_as_torch(change):
    """The base of a view made by view / reshape / t / permute takes the view's in-place
    change into its graph (``ffnn.ops.shape.ViewBase``)."""
    def fn(lib, x):
        y = x * 2.0
        VIEW_CHANGES[change](y)
        return (y * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)).sum()

    _both(fn, np.arange(6.0).reshape(2, 3) / 5)


VIEWS_TAKEN_BEFORE = {
    "y[:2] then y.mul_": (lambda y: y[0], lambda y: y.mul_(2.0)),
    "y.t() then y.exp_": (lambda y: y.t(), lambda y: y.exp_()),
    "y[:, 1] then y[0].zero_": (lambda y: y[:, 1], lambda y: y[0].zero_()),
    "y.view(-1) then a sibling changed": (lambda y: y.view(-1), lambda y: y[1].sigmoid_()),
}


@pytest.mark.parametrize("case", sorted(VIEWS_TAKEN_BEFORE))
def test_a_view_taken_before_its_base_changed_gets_the_changed_graph_as_torch(case):
    """A view's gradient follows its base's in-place change made after the view was taken
    (torch regenerates the view's grad_fn; ``autograd._regenerate``)."""
    take, change = VIEWS_TAKEN_BEFORE[case]

    def fn(lib, x):
        y = x * 1.5
        view = take(y)
        change(y)
        return (view * 3.0).sum() + (y ** 2).sum()

    _both(fn, np.arange(6.0).reshape(2, 3) / 5)


def test_in_place_on_an_expanded_view_in_the_graph_is_refused():
    x = ffnn.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError):
        (x * 2.0).expand(2, 2).mul_(3.0)


def test_no_grad_index_assignment_and_fills_write_memory():
    t = ffnn.zeros(2, 3)
    row = t[0]
    row += 1  # a view: the base sees it
    t[1, 2] = 7
    assert t.tolist() == [[1, 1, 1], [0, 0, 7]]
    t.fill_(2.5)
    assert t.tolist() == [[2.5] * 3] * 2
    ffnn.manual_seed(0)
    n = ffnn.empty(1000).normal_(3.0, 0.5) if hasattr(ffnn, "empty") else \
        ffnn.zeros(1000).normal_(3.0, 0.5)
    assert abs(n.mean().item() - 3.0) < 0.1 and abs(n.std().item() - 0.5) < 0.05
    u = ffnn.zeros(1000).uniform_(-2, -1)
    assert -2 <= u.min().item() and u.max().item() <= -1


@pytest.mark.parametrize("module", ["ReLU", "LeakyReLU", "SiLU"])
def test_inplace_activation_modules_match_torch(module):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 4))

    def fn(lib, x, w):
        h = x @ w
        out = getattr(lib.nn, module)(inplace=True)(h)
        assert out is h  # the module returns its input, changed
        return (h * h).sum()

    _both(fn, x, w)


# ----- bad input to tensors -------------------------------------------------------------------
def test_strings_and_python_objects_are_refused_as_torch_does():
    with pytest.raises(TypeError, match="strings .*encode text or categories as numbers"):
        ffnn.tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="Python objects .*DataFrame"):
        ffnn.tensor(np.array([1.0, "x", None], dtype=object))
    with pytest.raises(TypeError, match="strings"):
        ffnn.tensor(["1.5", "2"], dtype=ffnn.float32)
    with pytest.raises(TypeError):
        torch.tensor(np.array([1.0, "x", None], dtype=object))


@pytest.mark.parametrize("call", [
    lambda t: t.sum(dim=2), lambda t: t.mean(dim=-3), lambda t: t.sum(dim=(0, 5)),
    lambda t: t.unsqueeze(4), lambda t: t.squeeze(2), lambda t: t.flatten(0, 3),
    lambda t: t.transpose(0, 2), lambda t: t.var(dim=2),
])
def test_a_dim_out_of_range_is_torch_index_error(call):
    for lib in (ffnn, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            call(lib.ones(2, 3))
