"""Higher-order gradients (``create_graph=True``, ``ffnn.graph_backward``): second and third
derivatives through every op with a tensor-form backward, against torch (float64) and
against finite differences of ffnn's own first derivatives; a physics-informed network's
u_xx; a gradient penalty through ``backward(create_graph=True)``; the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel
from tests.helpers import assert_close


def _leaves(lib, arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


def _second_order(lib, fn, arrays):
    """d/d(leaves) of Σ (d fn/d leaves)², the first gradients made with create_graph."""
    leaves = _leaves(lib, arrays)
    first = lib.autograd.grad(fn(lib, *leaves), leaves, create_graph=True)
    penalty = sum((g * g).sum() for g in first)
    return [g.detach().numpy() for g in first], [
        g.detach().numpy() for g in lib.autograd.grad(penalty, leaves)]


def _against_torch(fn, *arrays):
    ours, theirs = _second_order(ffnn, fn, arrays), _second_order(torch, fn, arrays)
    for order, (a, b) in enumerate(zip(ours, theirs), start=1):
        for mine, torch_value in zip(a, b):
            assert_close(mine, torch_value, what=f"order {order}")


ACTIVATIONS = {
    "tanh": lambda lib, z: z.tanh(),
    "sigmoid": lambda lib, z: z.sigmoid(),
    "gelu": lambda lib, z: lib.nn.functional.gelu(z),
    "gelu_tanh": lambda lib, z: lib.nn.functional.gelu(z, approximate="tanh"),
    "silu": lambda lib, z: lib.nn.functional.silu(z),
    "elu": lambda lib, z: lib.nn.functional.elu(z, 0.8),
    "selu": lambda lib, z: lib.nn.functional.selu(z),
    "softplus": lambda lib, z: lib.nn.functional.softplus(z, beta=2.0),
    "mish": lambda lib, z: lib.nn.functional.mish(z),
    "logsigmoid": lambda lib, z: lib.nn.functional.logsigmoid(z),
    "softsign": lambda lib, z: lib.nn.functional.softsign(z),
    "tanhshrink": lambda lib, z: lib.nn.functional.tanhshrink(z),
    "hardswish": lambda lib, z: lib.nn.functional.hardswish(z),
    "relu": lambda lib, z: lib.nn.functional.relu(z),
    "leaky_relu": lambda lib, z: lib.nn.functional.leaky_relu(z, 0.1),
    "hardtanh": lambda lib, z: lib.nn.functional.hardtanh(z, -0.5, 0.5),
    "softshrink": lambda lib, z: lib.nn.functional.softshrink(z, 0.3),
    "erf": lambda lib, z: lib.erf(z),
    "softmax": lambda lib, z: lib.nn.functional.softmax(z, dim=1),
    "log_softmax": lambda lib, z: lib.nn.functional.log_softmax(z, dim=0),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_second_derivatives_of_a_two_layer_network_match_torch(name):
    rng = np.random.default_rng(3)
    act = ACTIVATIONS[name]

    def fn(lib, x, w1, b1, w2):
        h = act(lib, lib.nn.functional.linear(x, w1, b1))
        return (h @ w2.T).pow(2).sum() + (h.mean(0) * h.sum(1, keepdim=True).cos()).sum()

    _against_torch(fn, rng.standard_normal((6, 3)), 0.7 * rng.standard_normal((5, 3)),
                   0.2 * rng.standard_normal(5), 0.5 * rng.standard_normal((2, 5)))


def test_shape_ops_indexing_and_batched_products_match_torch():
    rng = np.random.default_rng(4)

    def fn(lib, a, b, v):
        y = (a @ b).sin().permute(2, 0, 1).reshape(5, 6)[1:4] ** 3
        joined = lib.cat([y, y[:, :2] * 2], dim=1).sum()
        stacked = lib.stack([a[0, 1], v], dim=1).exp().sum()
        return joined + stacked + (a @ v).tanh().sum() + (v @ v) * 0.3 + a[:, [0, 2]].sum()

    _against_torch(fn, rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)),
                   rng.standard_normal(4))


@pytest.mark.parametrize("slopes", [1, 4], ids=["one_slope", "per_channel"])
def test_prelu_and_glu_second_derivatives_match_torch(slopes):
    """PReLU's slope learned (its second derivatives in x and a mix: ∂²/∂x∂a = g where
    x < 0), on [n, c, l] and [n, c] inputs; GLU on either axis."""
    rng = np.random.default_rng(11)

    def fn(lib, x, x2, a):
        prelu = lib.nn.functional.prelu
        glu = lib.nn.functional.glu(x2 * x2.sum(1, keepdim=True), dim=1).tanh().sum()
        return prelu(x, a).pow(3).sum() + prelu(x2, a).sin().sum() + glu + \
            lib.nn.functional.glu(x2.T.exp()).pow(2).sum()

    _against_torch(fn, rng.standard_normal((5, 4, 3)), rng.standard_normal((6, 4)),
                   rng.uniform(0.1, 0.4, slopes))


def test_extrema_cumsum_erfc_and_einsum_second_derivatives_match_torch():
    """max / min along a dim (the first extreme index), amax over two axes and a full max
    (ties split), cumsum, erfc, einsum with a letter summed alone."""
    rng = np.random.default_rng(12)

    def fn(lib, a, b):
        tied = lib.cat([a, a[:, :1]], dim=1)  # a repeated column: ties
        extrema = tied.max(1).values.pow(3).sum() + a.min(0)[0].exp().sum() + \
            tied.amax(dim=(0, 1)).pow(2) + tied.max().sin() + a.amin(1, keepdim=True).pow(2).sum()
        return extrema + a.cumsum(1).pow(2).sum() + lib.erfc(a * b.T).pow(2).sum() + \
            lib.einsum("ij,kj->ik", a.exp(), b.T.tanh()).pow(2).sum() + \
            lib.einsum("ij,jk->i", a, b).sin().sum()

    _against_torch(fn, rng.standard_normal((3, 4)), rng.standard_normal((4, 3)))


def test_gather_and_scatter_add_second_derivatives_match_torch():
    """gather (a DQN's Q(s, a), an index picked twice), scatter_add and index_add."""
    rng = np.random.default_rng(13)
    index = np.array([[0, 2, 2], [1, 1, 0]])

    def fn(lib, q, src):
        picked = q.gather(1, lib.tensor(index)).pow(3).sum()
        added = lib.zeros(2, 4, dtype=q.dtype).scatter_add(1, lib.tensor(index), src * q[:, :3])
        rows = q.index_add(0, lib.tensor([1, 1]), src[:, :1].expand(2, 4) * 2)
        return picked + added.sin().sum() + rows.pow(2).sum()

    _against_torch(fn, rng.standard_normal((2, 4)), rng.standard_normal((2, 3)))


def test_prod_and_embedding_second_derivatives_match_torch():
    """prod over a dim, over all and with keepdim, with zero entries (the products of the
    others); embeddings with a padding row and a repeated index."""
    rng = np.random.default_rng(14)
    x = rng.uniform(0.5, 1.5, (3, 4))
    x[1, 2] = x[2, 0] = x[2, 3] = 0.0

    def products(lib, a):
        return a.prod(1).pow(2).sum() + a.prod().sin() + a.prod(0, keepdim=True).exp().sum()

    def embeddings(lib, w):
        index = lib.tensor([[1, 3, 3], [0, 2, 1]])
        padded = lib.nn.functional.embedding(index, w, padding_idx=3)
        return (padded.sin() * padded).sum() + (lib.nn.functional.embedding(index, w) ** 3).sum()

    _against_torch(products, x)
    _against_torch(embeddings, rng.standard_normal((4, 3)))


def test_broadcasting_arithmetic_and_element_wise_functions_match_torch():
    rng = np.random.default_rng(5)

    def fn(lib, p, q):
        mixed = p / q + p ** q - (p * q).sqrt().log() + p.expand(3, 4).clamp(0.7, 1.5) * q.abs()
        return mixed.sum() + lib.where(p > 1, p * p, -p).sum() + (p - q).expm1().log1p().sum()

    _against_torch(fn, rng.uniform(0.5, 2, (3, 1)), rng.uniform(0.5, 2, (1, 4)))


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_losses_second_derivatives_match_torch(loss, reduction):
    rng = np.random.default_rng(6)
    target = rng.standard_normal((4, 3))

    def fn(lib, x):
        return getattr(lib.nn.functional, loss)(x.tanh() * 3, lib.tensor(target),
                                                reduction=reduction)

    _against_torch(fn, rng.standard_normal((4, 3)))


_TARGETS = np.array([1, 3, 0, 2, 3])
_WEIGHTS = np.array([0.5, 1.5, 1.0, 2.0])
_BINARY = (np.arange(20).reshape(5, 4) % 3 == 0).astype(float)
_SOFT = np.full((5, 4), 0.1) + 0.6 * np.eye(4)[_TARGETS]
CLASSIFICATION_AND_NORMS = {
    "cross_entropy": lambda lib, F, z: F.cross_entropy(z, lib.tensor(_TARGETS)),
    "cross_entropy_weighted_smoothed": lambda lib, F, z: F.cross_entropy(
        z, lib.tensor(_TARGETS), weight=lib.tensor(_WEIGHTS), label_smoothing=0.2),
    "cross_entropy_ignored_rows": lambda lib, F, z: 0.7 * F.cross_entropy(
        z, lib.tensor([0, -100, 2, 3, 1]), reduction="none").sum(),
    "cross_entropy_soft_labels": lambda lib, F, z: F.cross_entropy(
        z, lib.tensor(_SOFT), label_smoothing=0.1),
    "nll_loss": lambda lib, F, z: F.nll_loss(F.log_softmax(z, 1), lib.tensor(_TARGETS),
                                             weight=lib.tensor(_WEIGHTS), reduction="sum"),
    "bce_with_logits": lambda lib, F, z: F.binary_cross_entropy_with_logits(
        z, lib.tensor(_BINARY), pos_weight=lib.tensor(_WEIGHTS)),
    "bce": lambda lib, F, z: F.binary_cross_entropy(z.sigmoid(), lib.tensor(_BINARY),
                                                    weight=lib.tensor(_WEIGHTS)),
    "layer_norm": lambda lib, F, z: F.layer_norm(
        z, (4,), lib.tensor(_WEIGHTS), lib.tensor(_WEIGHTS / 4)).pow(3).sum(),
    "rms_norm": lambda lib, F, z: F.rms_norm(z, (4,), lib.tensor(_WEIGHTS), eps=1e-6).pow(3).sum(),
    "batch_norm": lambda lib, F, z: F.batch_norm(
        z, None, None, lib.tensor(_WEIGHTS), lib.tensor(_WEIGHTS / 4), training=True).pow(3).sum(),
    "batch_norm_eval": lambda lib, F, z: F.batch_norm(
        z, lib.tensor(_WEIGHTS / 8), lib.tensor(_WEIGHTS), lib.tensor(_WEIGHTS),
        lib.tensor(_WEIGHTS / 4), training=False).pow(3).sum(),
    "var_and_norm": lambda lib, F, z: z.var(1).pow(2).sum() + z.var().sqrt()
    + z.norm(dim=1).pow(3).sum() + z.norm(),
}


@pytest.mark.parametrize("name", CLASSIFICATION_AND_NORMS)
def test_classification_losses_and_norms_second_derivatives_match_torch(name):
    rng = np.random.default_rng(9)
    case = CLASSIFICATION_AND_NORMS[name]

    def fn(lib, x, w):
        return case(lib, lib.nn.functional, (x @ w).tanh() * 2)

    _against_torch(fn, rng.standard_normal((5, 4)), 0.6 * rng.standard_normal((4, 4)))


def _penalties(lib):
    """A Sequential with batch and layer norms: d/dθ of ‖du/dx‖² (its input needing a
    gradient: the layers one by one) and of ‖dL/dθ‖² (``backward(create_graph=True)``: the
    native chain), each parameter's as its sum of squares."""
    rng = np.random.default_rng(10)
    nn = lib.nn
    net = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 6),
                        nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 1)).double()
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    x = lib.tensor(rng.standard_normal((8, 3)), requires_grad=True)
    (du,) = lib.autograd.grad(net(x).sum(), x, create_graph=True)
    params = list(net.parameters())
    found = lib.autograd.grad((du**2).sum(), params, allow_unused=True)
    net(lib.tensor(rng.standard_normal((8, 3)))).pow(2).mean().backward(create_graph=True)
    found += lib.autograd.grad(sum(p.grad.pow(2).sum() for p in params), params)
    return np.array([0.0 if g is None else float((g * g).sum()) for g in found]), \
        net[1].running_mean.detach().numpy()


def test_a_sequential_with_norms_gives_torchs_second_derivatives():
    (ours, ours_running), (theirs, theirs_running) = _penalties(ffnn), _penalties(torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-20)  # exact zeros: ~1e-32
    np.testing.assert_allclose(ours_running, theirs_running, rtol=1e-12)  # counted once each


def _dropout_penalty(norm: bool, one_by_one: bool) -> list[np.ndarray]:
    """d/dθ of Σ ‖dL/dθ‖² for a Sequential with two dropouts (and a batch norm), its input
    needing no gradient: the native chain, or its layers one by one (a forward hook), the
    same seed drawing the same masks."""
    nn = ffnn.nn
    ffnn.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8) if norm else nn.Identity(),
                        nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 8), nn.SiLU(),
                        nn.Dropout(0.5), nn.Linear(8, 1)).double()
    if one_by_one:
        net[4].register_forward_hook(lambda *args: None)
    x = ffnn.tensor(np.random.default_rng(3).standard_normal((6, 4)))
    ffnn.manual_seed(1)
    out = net(x)
    assert ("native" in vars(out.grad_fn)) != one_by_one
    out.pow(2).mean().backward(create_graph=True)
    params = list(net.parameters())
    found = ffnn.autograd.grad(sum((p.grad**2).sum() for p in params), params)
    return [g.numpy() for g in found]


@pytest.mark.skipif(not accel.enabled, reason="the native chain needs numba")
@pytest.mark.parametrize("norm", [False, True], ids=["plain", "batch_norm"])
def test_a_native_chains_dropout_is_differentiated_again_with_its_mask(norm):
    native, one_by_one = _dropout_penalty(norm, False), _dropout_penalty(norm, True)
    for ours, layered in zip(native, one_by_one):
        assert_close(ours, layered, what="second derivative")


THIRD_ORDER = {
    "tanh": lambda lib, z: z.tanh(),
    "sigmoid": lambda lib, z: z.sigmoid(),
    "silu": lambda lib, z: lib.nn.functional.silu(z),
    "gelu": lambda lib, z: lib.nn.functional.gelu(z),
    "softplus": lambda lib, z: lib.nn.functional.softplus(z, beta=2.0, threshold=3.0),
    "mish": lambda lib, z: lib.nn.functional.mish(z),
    "elu": lambda lib, z: lib.nn.functional.elu(z),
}


def _third_derivatives(lib, name, x: np.ndarray):
    t = lib.tensor(x, requires_grad=True)
    weights = lib.tensor(np.linspace(0.5, 1.5, x.size))
    derivatives, value = [], (THIRD_ORDER[name](lib, t) * weights).sum()
    for order in range(3):
        (value,) = lib.autograd.grad(value.sum() if order else value, t, create_graph=order < 2)
        derivatives.append(value.detach().numpy())
    return derivatives


@pytest.mark.parametrize("size", [6, 600])  # the NumPy references; the compiled loops
@pytest.mark.parametrize("name", THIRD_ORDER)
def test_third_derivatives_of_the_activations_match_torch(name, size):
    x = np.linspace(-4, 4, size) + 0.01
    for order, (mine, torch_value) in enumerate(
            zip(_third_derivatives(ffnn, name, x), _third_derivatives(torch, name, x)), 1):
        assert_close(mine, torch_value, what=f"{name}, order {order}")


def test_third_derivative_matches_the_closed_form():
    s = ffnn.tensor([0.7, -0.3, 1.9], dtype=ffnn.float64, requires_grad=True)
    (g1,) = ffnn.autograd.grad(s.sin().sum(), s, create_graph=True)
    (g2,) = ffnn.autograd.grad(g1.sum(), s, create_graph=True)
    (g3,) = ffnn.autograd.grad(g2.sum(), s)
    x = s.detach().numpy()
    assert_close(g1, np.cos(x))
    assert_close(g2, -np.sin(x))
    assert_close(g3, -np.cos(x))
    assert g1.requires_grad and g2.requires_grad and not g3.requires_grad


def _input_gradient(net, x: np.ndarray) -> np.ndarray:
    """du/dx (summed over the outputs) by the ordinary backward."""
    t = ffnn.tensor(x, requires_grad=True)
    net(t).sum().backward()
    return t.grad.numpy().copy()


@pytest.mark.parametrize("activation", [ffnn.nn.Tanh, ffnn.nn.SiLU, ffnn.nn.GELU])
def test_a_sequentials_second_input_derivative_matches_finite_differences(activation):
    ffnn.manual_seed(0)
    net = ffnn.nn.Sequential(ffnn.nn.Linear(2, 16), activation(), ffnn.nn.Linear(16, 16),
                             activation(), ffnn.nn.Linear(16, 1)).double()
    x = np.random.default_rng(7).standard_normal((5, 2))
    t = ffnn.tensor(x, requires_grad=True)
    u = net(t)
    (du,) = ffnn.autograd.grad(u, t, ffnn.ones_like(u), create_graph=True)
    (d2,) = ffnn.autograd.grad(du[:, 0], t, ffnn.ones_like(du[:, 0]))
    step = 1e-6  # central differences of the first derivative along x₀
    shift = np.zeros_like(x)
    shift[:, 0] = step
    expected = (_input_gradient(net, x + shift) - _input_gradient(net, x - shift)) / (2 * step)
    np.testing.assert_allclose(d2.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_a_physics_informed_network_fits_u_xx_equal_to_minus_pi_squared_sin():
    """u'' = -π² sin(πx) on [0, 1], u(0) = u(1) = 0: the solution is sin(πx)."""
    ffnn.manual_seed(0)
    net = ffnn.nn.Sequential(ffnn.nn.Linear(1, 20), ffnn.nn.Tanh(), ffnn.nn.Linear(20, 20),
                             ffnn.nn.Tanh(), ffnn.nn.Linear(20, 1)).double()
    x = ffnn.linspace(0, 1, 40, dtype=ffnn.float64).reshape(-1, 1).requires_grad_(True)
    ends = ffnn.tensor([[0.0], [1.0]], dtype=ffnn.float64)
    optimizer = ffnn.optim.LBFGS(net.parameters(), lr=1, max_iter=200)

    def closure():
        optimizer.zero_grad()
        u = net(x)
        (du,) = ffnn.autograd.grad(u, x, ffnn.ones_like(u), create_graph=True)
        (d2u,) = ffnn.autograd.grad(du, x, ffnn.ones_like(du), create_graph=True)
        residual = d2u + np.pi**2 * (np.pi * x).sin()
        loss = residual.pow(2).mean() + net(ends).pow(2).sum()
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    probe = np.linspace(0.05, 0.95, 7).reshape(-1, 1)
    with ffnn.no_grad():
        found = net(ffnn.tensor(probe)).numpy()
    np.testing.assert_allclose(found, np.sin(np.pi * probe), atol=1e-3)


def _gradient_penalty(lib, arrays):
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(arrays[0]))
        layer.bias.copy_(lib.tensor(arrays[1]))
    layer(lib.tensor(arrays[2])).tanh().pow(2).mean().backward(create_graph=True)
    assert layer.weight.grad.requires_grad
    first = layer.weight.grad.detach().numpy().copy()
    penalty = layer.weight.grad.pow(2).sum() + layer.bias.grad.pow(2).sum()
    return first, [g.numpy() for g in lib.autograd.grad(penalty, [layer.weight, layer.bias])]


def test_backward_with_create_graph_gives_grads_with_a_graph_as_torch():
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal((5, 3))]
    (ours, ours_second), (theirs, theirs_second) = (_gradient_penalty(ffnn, arrays),
                                                    _gradient_penalty(torch, arrays))
    assert_close(ours, theirs)
    for mine, torch_value in zip(ours_second, theirs_second):
        assert_close(mine, torch_value)


def test_zeroing_a_grad_in_place_drops_its_graph():
    w = ffnn.tensor([1.0, 2.0], dtype=ffnn.float64, requires_grad=True)
    (w * w).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    ffnn.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert not w.grad.requires_grad
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])


def test_an_op_without_a_tensor_form_backward_names_itself():
    x = ffnn.randn(5, 3, requires_grad=True)
    with pytest.raises(NotImplementedError, match="gradient of ScaledDotProductAttention"):
        attention = ffnn.nn.functional.scaled_dot_product_attention(x[None], x[None], x[None])
        ffnn.autograd.grad(attention.pow(2).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="picks an element twice"):
        ffnn.autograd.grad(x[[0, 0, 1]].pow(2).sum(), x, create_graph=True)


def test_an_input_changed_in_place_after_use_raises_torchs_error():
    x = ffnn.tensor([0.5, 1.5], dtype=ffnn.float64, requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()  # Mul saved y; the tensor-form backward reads it again
    with ffnn.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ffnn.autograd.grad(z, x, create_graph=True)
