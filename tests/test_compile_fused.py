"""ffnn.compile(mode="fused"): the whole step in one numba call agrees with the eager step
to rounding (float64: 1e-12 relative), writes the optimizer's state in its own layout, and
replays (bit for bit) what it cannot fuse."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim
from ffnn.optim.lr_scheduler import StepLR
from tests._fast_steps import eager_step

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01),
    "nesterov_maximize": lambda p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True,
                                             maximize=True),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
    "adam_decay_amsgrad": lambda p: optim.Adam(p, lr=1e-2, weight_decay=0.1, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "adam_groups": lambda p: (lambda ps: optim.Adam(  # one update variant per parameter
        [{"params": ps[:2], "amsgrad": True, "lr": 0.05}, {"params": ps[2:]}], lr=1e-2))(
        list(p)),
    "rmsprop_centered": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01),
    "nadam": lambda p: optim.NAdam(p, lr=1e-2),
    "adadelta": lambda p: optim.Adadelta(p, lr=0.5),
    "adamax": lambda p: optim.Adamax(p, lr=1e-2, weight_decay=0.05),
    "radam": lambda p: optim.RAdam(p, lr=1e-2, betas=(0.9, 0.9)),  # rectified from step 6
}
ACTIVATIONS = {
    "tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
    "leaky_relu": lambda: nn.LeakyReLU(0.2), "gelu": nn.GELU,
    "gelu_tanh": lambda: nn.GELU("tanh"), "silu": nn.SiLU, "elu": lambda: nn.ELU(0.7),
    "selu": nn.SELU, "softplus": lambda: nn.Softplus(beta=2.0, threshold=1.5),
    "relu6": nn.ReLU6, "hardtanh": lambda: nn.Hardtanh(-0.5, 0.5),
    "hardsigmoid": nn.Hardsigmoid, "hardswish": nn.Hardswish, "mish": nn.Mish,
}


def _model(sizes, activation="tanh", seed=0):
    ffnn.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1]).double()


def _targets(loss: str, n: int, width: int, rng):
    if loss == "mse":
        return nn.MSELoss(), rng.standard_normal((n, width))
    if loss == "cross_entropy":
        return nn.CrossEntropyLoss(reduction="sum"), rng.integers(0, width, n)
    return nn.BCEWithLogitsLoss(), (rng.random((n, width)) > 0.5).astype(np.float64)


def _compare(sizes, activation, optimizer, loss, rng, batches=(8, 8, 8, 3), edit=None,
             dtype=np.float64, rtol=1e-12):
    eager_model, fused_model = (_model(sizes, activation).to(dtype) for _ in range(2))
    opt_e = OPTIMIZERS[optimizer](eager_model.parameters())
    opt_f = OPTIMIZERS[optimizer](fused_model.parameters())
    loss_fn = _targets(loss, 1, sizes[-1], rng)[0]
    step = ffnn.compile(fused_model, loss_fn, opt_f, mode="fused")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, n in enumerate(batches):
            y = _targets(loss, n, sizes[-1], rng)[1]
            if edit is not None:
                edit(i, eager_model, opt_e)
                edit(i, fused_model, opt_f)
            x = ffnn.tensor(rng.standard_normal((n, sizes[0])).astype(dtype))
            y = y.astype(dtype) if y.dtype.kind == "f" else y
            expected = eager_step(eager_model, loss_fn, opt_e, x, ffnn.tensor(y))
            got = step(x, ffnn.tensor(y))
            assert step.fused is not None and step.compiled
            np.testing.assert_allclose(got, expected, rtol=rtol)
    atol = 1e-14 if dtype == np.float64 else 1e-6
    for (name, a), (_, b) in zip(eager_model.named_parameters(), fused_model.named_parameters()):
        np.testing.assert_allclose(b._data, a._data, rtol=rtol, atol=atol, err_msg=name)
        np.testing.assert_allclose(b._grad, a._grad, rtol=rtol * 100, atol=atol, err_msg=name)
    state_e, state_f = opt_e.state_dict(), opt_f.state_dict()
    assert state_e["param_groups"] == state_f["param_groups"]
    assert state_e["state"].keys() == state_f["state"].keys()
    for i, entry in state_e["state"].items():
        assert entry.keys() == state_f["state"][i].keys()
        for key, value in entry.items():
            np.testing.assert_allclose(state_f["state"][i][key], value, rtol=rtol * 100,
                                       atol=atol)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss", ["mse", "cross_entropy", "bce_with_logits"])
def test_fused_agrees_with_eager(optimizer, loss, rng):
    _compare([5, 7, 6, 4], "tanh", optimizer, loss, rng)


def test_radam_fused_agrees_with_eager_once_rectified(rng):
    """RAdam's step takes the rectified form from step 6 (ρₜ > 5): eight steps cover both."""
    _compare([5, 7, 6, 4], "tanh", "radam", "cross_entropy", rng, batches=(8,) * 8)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_fused_activations(activation, rng):
    """Every activation with a formula, through its generated loops' entry points."""
    _compare([3, 6, 2], activation, "adam", "mse", rng)


@pytest.mark.parametrize("activation, optimizer, dtype, rtol", [
    ("gelu", "momentum", np.float64, 1e-12), ("relu", "adam", np.float64, 1e-12),
    ("silu", "rmsprop_centered", np.float64, 1e-12), ("gelu", "momentum", np.float32, 2e-5),
    ("relu", "sgd", np.float32, 2e-5)])
def test_fused_products_through_numpys_blas(activation, optimizer, dtype, rtol, rng):
    """Products of at least BLAS_MIN_PRODUCT multiply-adds call NumPy's own gemm (64 rows:
    40→80 and 80→60 are above it, 60→3 below, so both paths meet in one step). (Not Adam in
    float32: it scales a near-zero gradient to a full step, so the bias gradients' other
    summation order shows as differences of the learning rate's size.)"""
    from ffnn.compiler import _fused_kernel
    from ffnn.kernels import native

    if native.gemm_addresses() is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    assert 64 * 80 * 40 >= _fused_kernel.BLAS_MIN_PRODUCT > 64 * 3 * 60
    _compare([40, 80, 60, 3], activation, optimizer, "cross_entropy", rng, batches=(64,) * 3,
             dtype=dtype, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a, trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
@pytest.mark.parametrize("m, n", [(700, 1), (1, 700), (1, 1), (300, 2)])
def test_fused_products_of_one_column_or_row(m, n, trans_a, trans_b, dtype, rng):
    """The fused step's ``_gemm`` in every orientation: one output column or row is a
    matrix-vector product (gemv, its steps and sizes read from the orientation), the rest
    gemm; each against the float64 product, within float32's or float64's rounding."""
    from ffnn.compiler import _fused_kernel
    from ffnn.kernels import native

    if native.gemm_addresses() is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    product = _fused_kernel._gemm  # a compiled function of its own, callable from Python
    k = _fused_kernel.BLAS_MIN_PRODUCT // (m * n) + 3
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    c = np.full((m, n), np.nan, dtype)
    codes = [native.TRANS if t else native.NO_TRANS for t in (trans_a, trans_b)]
    assert product(native.blas_functions(dtype), *codes, a, b, c, k, False)
    op_a = (a.T if trans_a else a).astype(np.float64)
    op_b = (b.T if trans_b else b).astype(np.float64)
    bound = k * np.finfo(dtype).eps * (np.abs(op_a) @ np.abs(op_b))
    assert np.all(np.abs(c - op_a @ op_b) <= bound)


@pytest.mark.parametrize("sizes, batch", [([40, 600, 1], 64), ([200, 300, 100], 1)])
def test_fused_layers_of_one_output_or_one_row(sizes, batch, rng):
    """A regression head of one output over 64 rows, and every layer on a batch of one
    row, above BLAS's threshold: their products are matrix-vector products."""
    from ffnn.compiler import _fused_kernel
    from ffnn.kernels import native

    if native.gemm_addresses() is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    assert batch * sizes[-2] * sizes[-1] >= _fused_kernel.BLAS_MIN_PRODUCT
    _compare(sizes, "tanh", "momentum", "mse", rng, batches=(batch,) * 3)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_fused_batches_of_a_few_rows(dtype, rtol, rng):
    """Batches of 2-4 rows on layers above BLAS's threshold, and a forward of 9 rows on
    their small weights: the few-rows loops (``ffnn.kernels.few_rows``) in the fused step
    as in the eager one."""
    _compare([70, 130, 66, 5], "silu", "momentum", "cross_entropy", rng,
             batches=(2, 3, 4, 9), dtype=dtype, rtol=rtol)


@pytest.mark.parametrize("sizes, rows", [([20, 24, 4], 4096), ([3, 8, 1], 20000)])
def test_bias_gradients_through_blas(sizes, rows, rng, monkeypatch):
    """A narrow layer's bias gradient of BIAS_BLAS_MIN elements or more is 1ᵀ g through
    NumPy's gemm (gemv), the last layer's here a loop (both paths in one step). The eager
    step here is the per-layer graph (the native chain, which shares the fused step's
    arithmetic, turned off)."""
    from ffnn.compiler import _fused_kernel, native_chain
    from ffnn.kernels import native

    if native.gemm_addresses() is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    assert sizes[1] < _fused_kernel.BIAS_BLAS_WIDTH
    assert rows * sizes[1] >= _fused_kernel.BIAS_BLAS_MIN > rows * sizes[2]
    monkeypatch.setattr(native_chain, "MAX_BYTES", 0)  # the eager step: the per-layer graph
    _compare(sizes, "tanh", "momentum", "mse", rng, batches=(rows, rows))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_sums_over_many_rows_by_parts(dtype, rtol, rng, monkeypatch):
    """[8, 32, 1] on 8192 rows: the first layer's narrow weight gradient, its bias gradient
    and the one-output layer's weight gradient are summed by parts of rows
    (``ffnn.ops.matrix.sums_by_rows``), the last bias gradient not; the fused step agrees
    with the eager per-layer graph, which took the parts (spied) where OpenBLAS has two
    threads or more."""
    from ffnn.compiler import native_chain
    from ffnn.kernels import blas_split
    from ffnn.ops.matrix import sums_by_rows

    rows = 8192
    assert sums_by_rows(rows, 32, 8, True) and sums_by_rows(rows, 1, 32, False)
    assert not sums_by_rows(rows, 1, 1, False)
    taken, original = [], accel.product_over_rows

    def spied(g, x):
        found = original(g, x)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(accel, "product_over_rows", spied)
    monkeypatch.setattr(native_chain, "MAX_BYTES", 0)  # the eager step: the per-layer graph
    _compare([8, 32, 1], "tanh", "momentum", "mse", rng, batches=(rows, rows), dtype=dtype,
             rtol=rtol)
    found = blas_split.splitter()
    if accel.enabled and found is not None and found.threads() >= 2:
        assert taken == [True] * 6  # three sums a step, two steps


@pytest.mark.parametrize("sizes, batch", [([20, 64, 64, 2], 64), ([1, 50, 50, 1], 100),
                                         ([3, 40, 20], 50)])
def test_small_products_in_loops(sizes, batch, rng):
    """Products below BLAS's threshold on more rows than the few-rows loops take: a forward
    onto few outputs as dot products ([64, 64] · [64, 2]ᵀ, [100, 50] · [50, 1]ᵀ), a forward
    from few inputs onto many outputs along the outputs ([50, 3] · [40, 3]ᵀ), and a weight
    gradient of few inputs summed along its outputs ([100, 50]ᵀ[100, 1]): the fused step
    agrees with the eager one."""
    from ffnn.compiler import _fused_kernel

    products = [batch * a * b for a, b in zip(sizes, sizes[1:])]
    assert min(products) < _fused_kernel.BLAS_MIN_PRODUCT and batch > 12
    _compare(sizes, "tanh", "momentum", "mse", rng, batches=(batch, batch))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, out_f, in_f", [(100, 50, 1), (64, 32, 7), (3, 5, 2)])
def test_a_weight_gradient_in_loops_is_the_same_sum_either_way(rows, out_f, in_f, dtype,
                                                               rng):
    """``_summed_rows`` along the inputs (gᵀ x) and along the outputs ((xᵀ g)ᵀ) adds the
    same products in the same order: the same bits, within rounding of the exact sum."""
    from ffnn.compiler import _fused_kernel

    g = rng.standard_normal((rows, out_f)).astype(dtype)
    x = rng.standard_normal((rows, in_f)).astype(dtype)
    along_inputs = np.empty((out_f, in_f), dtype)
    along_outputs = np.empty((in_f, out_f), dtype)
    _fused_kernel._summed_rows(g, x, along_inputs)
    _fused_kernel._summed_rows(x, g, along_outputs)
    np.testing.assert_array_equal(along_inputs, along_outputs.T)
    exact = g.astype(np.float64).T @ x.astype(np.float64)
    bound = rows * np.finfo(dtype).eps * (np.abs(g).T @ np.abs(x))
    assert np.all(np.abs(along_inputs - exact) <= bound)


def test_wide_bias_gradients_through_blas(rng, monkeypatch):
    """A layer's bias gradient of ``BIAS_BLAS_WIDE_MIN`` elements or more, whatever its
    width, is 1ᵀ g through NumPy's gemv (on both threads), the narrower last layer's a loop;
    its bias filled into z before BLAS adds the product (``_affine_forward``, by parts of
    rows from ``SPLIT_MIN`` elements). The eager step here is the per-layer graph."""
    from ffnn.compiler import _fused_kernel, native_chain

    rows, width = 300, 512
    assert rows * width >= _fused_kernel.BIAS_BLAS_WIDE_MIN and width >= \
        _fused_kernel.BIAS_BLAS_WIDTH
    monkeypatch.setattr(native_chain, "MAX_BYTES", 0)  # the eager step: the per-layer graph
    _compare([6, width, 3], "tanh", "momentum", "mse", rng, batches=(rows, rows))


def test_fused_wide_layer_of_one_input(rng):
    """A layer of one input has outer products (inner size 1), which stay loops however
    large: its loop buffers exist even where the layer is above BLAS's threshold."""
    _compare([1, 20000, 2], "tanh", "momentum", "mse", rng, batches=(4, 4))


@pytest.mark.parametrize("optimizer", ["adam", "adagrad", "rmsprop_centered"])
def test_fused_follows_a_scheduler_and_a_loaded_optimizer_state(optimizer, rng):
    """lr changed by a scheduler; the optimizer state replaced by load_state_dict."""
    saved = {}

    def edit(i, model, optimizer):
        if i == 1:
            saved[id(model)] = optimizer.state_dict()
            StepLR(optimizer, step_size=1, gamma=0.5).step()
        if i == 3:
            optimizer.load_state_dict(saved[id(model)])

    _compare([3, 5, 2], "tanh", optimizer, "mse", rng, batches=(6, 6, 6, 6, 6), edit=edit)


@pytest.mark.parametrize("optimizer", ["rmsprop_centered", "adagrad", "adadelta", "adamax",
                                       "nadam", "radam"])
def test_an_optimizers_fused_update_runs_inside_the_kernel(optimizer, rng, monkeypatch):
    """RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam declare their update's kernel
    (``fused_update``): the fused step runs it and never calls ``step()``
    (``test_fused_agrees_with_eager``: the same values as the eager step)."""
    model = _model([3, 5, 2])
    opt = OPTIMIZERS[optimizer](model.parameters())
    step = ffnn.compile(model, nn.MSELoss(), opt, mode="fused")
    monkeypatch.setattr(opt, "step", lambda *args: pytest.fail("step() ran"))
    for _ in range(3):
        step(ffnn.tensor(rng.standard_normal((4, 3))), ffnn.tensor(rng.standard_normal((4, 2))))
    assert step.fused is not None and step.fused.generic
    assert all(state["step"] == 3 for state in opt.state.values())


class _HalvedAdagrad(optim.Adagrad):
    """Adagrad on half the gradient: a subclass whose update is not its parent's kernel."""

    def _update(self, param, grad, state, group, scratch) -> None:
        super()._update(param, grad * 0.5, state, group, scratch)


def test_a_subclass_with_its_own_update_runs_its_own_step(rng):
    OPTIMIZERS["halved_adagrad"] = lambda p: _HalvedAdagrad(p, lr=0.1)
    try:
        _compare([3, 5, 2], "tanh", "halved_adagrad", "mse", rng)
    finally:
        del OPTIMIZERS["halved_adagrad"]


def test_fused_sees_parameters_changed_between_steps(rng):
    def edit(i, model, optimizer):
        with ffnn.no_grad():
            if i == 1:
                model[0].weight.data.mul_(0.5)
            if i == 2:
                model[2].bias.data = ffnn.tensor(np.array([0.3, -0.2]))

    _compare([3, 5, 2], "tanh", "momentum", "mse", rng, edit=edit)


def test_fused_float32_within_rounding(rng):
    eager_model, fused_model = _model([64, 32, 32, 10]).float(), _model([64, 32, 32, 10]).float()
    opt_e, opt_f = (optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
                    for m in (eager_model, fused_model))
    step = ffnn.compile(fused_model, nn.CrossEntropyLoss(), opt_f, mode="fused")
    for _ in range(5):
        x = ffnn.tensor(rng.standard_normal((32, 64)).astype(np.float32))
        y = ffnn.tensor(rng.integers(0, 10, 32))
        expected = eager_step(eager_model, nn.CrossEntropyLoss(), opt_e, x, y)
        np.testing.assert_allclose(step(x, y), expected, rtol=1e-5)
    for a, b in zip(eager_model.parameters(), fused_model.parameters()):
        assert b._data.dtype == np.float32
        np.testing.assert_allclose(b._data, a._data, rtol=1e-4, atol=1e-5)


def test_what_cannot_be_fused_is_replayed_bit_for_bit(rng):
    """Two activations in a row are not in the fused kernel: one warning, then the replay
    (equal to eager)."""
    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.GELU(), nn.Linear(4, 2))

    eager_model, fused_model = make(), make()
    opt_e = optim.Adam(eager_model.parameters(), lr=0.01)
    opt_f = optim.Adam(fused_model.parameters(), lr=0.01)
    with pytest.warns(UserWarning, match=r"mode='fused' cannot take this step \(the chain has "
                                         r"gelu where a Linear layer is expected\); replaying"):
        step = ffnn.compile(fused_model, nn.MSELoss(), opt_f, mode="fused")
    assert step.fused is None and step.compiled
    for _ in range(3):
        x = ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((4, 2)).astype(np.float32))
        assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
    for a, b in zip(eager_model.parameters(), fused_model.parameters()):
        assert np.array_equal(a._data, b._data)


NORMS = {
    "layer_norm": lambda n: nn.LayerNorm(n),
    "layer_norm_no_bias": lambda n: nn.LayerNorm(n, eps=1e-3, bias=False),
    "layer_norm_no_affine": lambda n: nn.LayerNorm(n, elementwise_affine=False),
    "batch_norm": lambda n: nn.BatchNorm1d(n),
    "batch_norm_cumulative": lambda n: nn.BatchNorm1d(n, eps=1e-3, momentum=None),
    "batch_norm_no_affine": lambda n: nn.BatchNorm1d(n, affine=False),
    "batch_norm_untracked": lambda n: nn.BatchNorm1d(n, track_running_stats=False),
}


def _normed_model(sizes, norm, activation="tanh", dtype=np.float64, bias=None):
    """Linear, norm, activation per hidden layer, then a Linear. By default the Linear layers
    before a batch norm have no bias, as usual: the norm takes the mean away, so a bias's
    gradient there is zero but for rounding, which Adam or RMSprop scale to whole steps."""
    ffnn.manual_seed(0)
    layers = []
    bias = not norm.startswith("batch") if bias is None else bias
    for i in range(len(sizes) - 2):
        layers += [nn.Linear(sizes[i], sizes[i + 1], bias=bias), NORMS[norm](sizes[i + 1]),
                   ACTIVATIONS[activation]()]
    model = nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1])).to(dtype)
    with ffnn.no_grad():  # γ, β away from 1, 0, so that a swap of the two would show
        for p in model.parameters():
            if p.ndim == 1:
                p._data += np.asarray(ffnn.randn(*p.shape)._data, p._data.dtype) * 0.3
    return model


def _compare_normed(sizes, norm, optimizer, rng, activation="tanh", dtype=np.float64,
                    rtol=1e-12, batches=(8, 8, 5, 8), bias=None):
    """Fused against eager, step by step: losses, outputs, then every entry of the models'
    state dicts (parameters, running statistics, batches counted) and the optimizers'."""
    eager_model, fused_model = (_normed_model(sizes, norm, activation, dtype, bias)
                                for _ in range(2))
    opt_e = OPTIMIZERS[optimizer](eager_model.parameters())
    opt_f = OPTIMIZERS[optimizer](fused_model.parameters())
    loss_fn = nn.MSELoss()
    step = ffnn.compile(fused_model, loss_fn, opt_f, mode="fused")
    atol = 1e-13 if dtype == np.float64 else 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in batches:
            x = ffnn.tensor(rng.standard_normal((n, sizes[0])).astype(dtype))
            y = ffnn.tensor(rng.standard_normal((n, sizes[-1])).astype(dtype))
            out = eager_model(x)
            expected = loss_fn(out, y)
            opt_e.zero_grad()
            expected.backward()
            opt_e.step()
            np.testing.assert_allclose(step(x, y), float(expected._data), rtol=rtol)
            assert step.fused is not None and step.compiled
            np.testing.assert_allclose(step.output, out._data, rtol=rtol, atol=atol)
    state_e, state_f = eager_model.state_dict(), fused_model.state_dict()
    assert state_e.keys() == state_f.keys()
    for name, value in state_e.items():
        np.testing.assert_allclose(np.asarray(state_f[name]._data), np.asarray(value._data),
                                   rtol=rtol * 100, atol=atol, err_msg=name)
    for a, b in zip(eager_model.parameters(), fused_model.parameters()):
        np.testing.assert_allclose(b._grad, a._grad, rtol=rtol * 100, atol=atol)
    for i, entry in opt_e.state_dict()["state"].items():
        for key, value in entry.items():
            np.testing.assert_allclose(opt_f.state_dict()["state"][i][key], value,
                                       rtol=rtol * 100, atol=atol, err_msg=f"{i} {key}")
    return eager_model, fused_model, step


@pytest.mark.parametrize("norm", sorted(NORMS))
@pytest.mark.parametrize("optimizer", ["adam", "momentum", "rmsprop_centered"])
def test_fused_norms_agree_with_eager(norm, optimizer, rng):
    """A layer or batch norm between a Linear layer and its activation is in the fused
    kernel (the eager ops' own compiled loops): its γ and β are updated with the weights,
    batch norm's running statistics and count follow the eager module's."""
    _compare_normed([5, 7, 6, 3], norm, optimizer, rng)


@pytest.mark.parametrize("norm", ["layer_norm", "batch_norm"])
def test_fused_linear_layers_with_and_without_bias(norm, rng):
    """Linear layers without bias are fused too (before a layer norm here); with a bias
    before a batch norm, its gradient is zero but for rounding, and SGD keeps it small."""
    _compare_normed([5, 7, 6, 3], norm, "momentum", rng, bias=norm == "batch_norm")


@pytest.mark.parametrize("norm", ["layer_norm", "batch_norm"])
def test_fused_norms_in_float32_with_products_through_blas(norm, rng):
    """Float32, 64 rows: products through NumPy's BLAS, statistics in float64."""
    from ffnn.compiler import _fused_kernel

    assert 64 * 80 * 40 >= _fused_kernel.BLAS_MIN_PRODUCT
    _compare_normed([40, 80, 60, 3], norm, "momentum", rng, activation="relu",
                    dtype=np.float32, rtol=2e-5, batches=(64,) * 3)


@pytest.mark.parametrize("norm", ["layer_norm", "batch_norm"])
def test_fused_norms_by_parts_of_rows(norm, rng, monkeypatch):
    """A batch of NORM_PARTS_MIN elements or more: the fused step's norms (batch norm's
    passes, layer norm's forward and backward) run by parts of rows where OpenBLAS has two
    threads or more, as the eager ops' (spied: the fused kernel's own calls are compiled),
    and agree with the eager step."""
    from ffnn import accel
    from ffnn.compiler import native_chain
    from ffnn.kernels import blas_split

    rows = accel.NORM_PARTS_MIN // 40 + 5
    found = blas_split.splitter()
    by_parts = []
    original = accel._norm_parts
    monkeypatch.setattr(native_chain, "MAX_BYTES", 0)  # the eager step: the per-layer graph
    monkeypatch.setattr(accel, "_norm_parts",
                        lambda x: by_parts.append(original(x) is not None) or original(x))
    _compare_normed([8, 40, 3], norm, "adam", rng, batches=(rows, rows))
    if accel.enabled and found is not None and found.threads() >= 2:  # else NumPy's or whole
        assert by_parts and all(by_parts)


@pytest.mark.parametrize("norm", ["layer_norm", "batch_norm"])
def test_fused_norms_read_eps_and_momentum_at_each_step(norm, rng):
    """A norm's ε (and batch norm's momentum) changed between steps: the next fused step
    uses the new values, as the eager module's forward would."""
    eager_model, fused_model = (_normed_model([4, 6, 2], norm) for _ in range(2))
    opt_e, opt_f = (optim.SGD(m.parameters(), lr=0.05) for m in (eager_model, fused_model))
    step = ffnn.compile(fused_model, nn.MSELoss(), opt_f, mode="fused")
    for i in range(3):
        for model in (eager_model, fused_model):
            model[1].eps = (1e-5, 0.5, 3.0)[i]
            if norm == "batch_norm":
                model[1].momentum = (0.1, 0.7, None)[i]
        x, y = ffnn.tensor(rng.standard_normal((8, 4))), ffnn.tensor(rng.standard_normal((8, 2)))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = step(x, y)
        np.testing.assert_allclose(got, eager_step(eager_model, nn.MSELoss(), opt_e, x, y),
                                   rtol=1e-12)
        assert step.fused is not None
    for name, value in eager_model.state_dict().items():
        np.testing.assert_allclose(fused_model.state_dict()[name]._data, value._data,
                                   rtol=1e-12, atol=1e-14, err_msg=name)


def test_a_batch_norm_in_eval_mode_runs_eagerly_then_fused_again(rng):
    """In eval mode a batch norm normalises with its running statistics: that step is not
    fused (nor is a batch of one row); back in training mode it is, and every step agrees
    with eager."""
    eager_model, fused_model, step = _compare_normed([4, 6, 2], "batch_norm", "adam", rng,
                                                     batches=(8, 8))
    opt_e, loss_fn = optim.Adam(eager_model.parameters(), lr=1e-2), nn.MSELoss()
    opt_e.load_state_dict(step.optimizer.state_dict())
    for mode in ("eval", "train"):
        for model in (eager_model, fused_model):
            getattr(model, mode)()
        x, y = ffnn.tensor(rng.standard_normal((8, 4))), ffnn.tensor(rng.standard_normal((8, 2)))
        context = pytest.warns(UserWarning) if mode == "eval" else warnings.catch_warnings()
        with context:
            got = step(x, y)
        np.testing.assert_allclose(got, eager_step(eager_model, loss_fn, opt_e, x, y),
                                   rtol=1e-12)
        assert (step.reason is None) == (mode == "train")
    np.testing.assert_allclose(fused_model[1].running_var._data,
                               eager_model[1].running_var._data, rtol=1e-12)
    assert int(fused_model[1].num_batches_tracked._data) == 3
    counts = (fused_model[1].num_batches_tracked, eager_model[1].num_batches_tracked)
    assert counts[0]._version == counts[1]._version  # each batch counted in place, as eager


def _train_both(models, optimizers, step, rng, batches=3):
    """``batches`` steps of the eager model (``models[0]``) and of ``step`` (the fused one's),
    on the same batches, with their losses compared."""
    loss_fn = nn.MSELoss()
    for _ in range(batches):
        x, y = ffnn.tensor(rng.standard_normal((8, 4))), ffnn.tensor(rng.standard_normal((8, 2)))
        np.testing.assert_allclose(step(x, y), eager_step(models[0], loss_fn, optimizers[0],
                                                          x, y), rtol=1e-12)
        assert step.fused is not None and step.reason is None


def test_batch_norm_running_statistics_follow_buffers_replaced_between_steps(rng):
    """The kernel updates a batch norm's running statistics through their addresses: a
    buffer replaced between steps (an assignment, a ``load_state_dict``) is the one updated
    next, and one of another dtype than the model's (float64 statistics for a float32 model)
    is updated from Python, as eager updates it."""

    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 6, bias=False), nn.BatchNorm1d(6, momentum=0.2),
                             nn.Tanh(), nn.Linear(6, 2)).double()

    models = make(), make()
    optimizers = [optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in models]
    step = ffnn.compile(models[1], nn.MSELoss(), optimizers[1], mode="fused")
    _train_both(models, optimizers, step, rng)
    for model in models:
        model[1].running_mean = ffnn.full((6,), 0.5, dtype=ffnn.float64)
        model[1].running_var = ffnn.full((6,), 2.0, dtype=ffnn.float32)  # updated from Python
    _train_both(models, optimizers, step, rng)
    state = {k: v.clone() for k, v in make().state_dict().items()}
    for model in models:
        model.load_state_dict(state)
    _train_both(models, optimizers, step, rng)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        got, expected = (getattr(m[1], name) for m in models[::-1])
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got._data, expected._data, rtol=1e-12, err_msg=name)
    assert int(models[1][1].num_batches_tracked._data) == 3  # counted again from 0


def test_a_norm_after_the_activation_is_replayed_bit_for_bit(rng):
    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.LayerNorm(4), nn.Linear(4, 2))

    eager_model, fused_model = make(), make()
    opt_e, opt_f = (optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
                    for m in (eager_model, fused_model))
    with pytest.warns(UserWarning, match=r"cannot take this step \(the chain has a LayerNorm "
                                         r"where no Linear layer's norm is expected\)"):
        step = ffnn.compile(fused_model, nn.MSELoss(), opt_f, mode="fused")
    for _ in range(3):
        x = ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((4, 2)).astype(np.float32))
        assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
    assert step.fused is None and step.compiled


def test_a_batch_of_another_dtype_is_replayed(rng):
    model = _model([3, 4, 2])
    step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                        mode="fused")
    x = ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    with pytest.warns(UserWarning, match="cannot take this batch"):
        step(x, ffnn.zeros(4, 2))
    assert step.compiled and step.fused is not None


def test_fused_chain_ending_in_an_activation(rng):
    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.Sigmoid()).double()

    eager_model, fused_model = make(), make()
    opt_e, opt_f = (optim.AdamW(m.parameters(), lr=0.01) for m in (eager_model, fused_model))
    step = ffnn.compile(fused_model, nn.MSELoss(), opt_f, mode="fused")
    for _ in range(4):
        x, y = ffnn.tensor(rng.standard_normal((6, 3))), ffnn.tensor(rng.random((6, 2)))
        np.testing.assert_allclose(step(x, y), eager_step(eager_model, nn.MSELoss(), opt_e,
                                                           x, y), rtol=1e-12)
    assert step.fused is not None
    for a, b in zip(eager_model.parameters(), fused_model.parameters()):
        np.testing.assert_allclose(b._data, a._data, rtol=1e-12, atol=1e-14)


def test_ignored_labels_and_reshaped_parameters_are_replayed(rng):
    """Rows with ignore_index: the replay runs them. Layers given data of other shapes: the
    eager step runs and raises its error. The fused kernel never indexes with either."""
    eager_model, fused_model = _model([3, 4, 3]), _model([3, 4, 3])
    opt_e, opt_f = (optim.SGD(m.parameters(), lr=0.1) for m in (eager_model, fused_model))
    loss_fn = nn.CrossEntropyLoss()
    step = ffnn.compile(fused_model, loss_fn, opt_f, mode="fused")
    x = ffnn.tensor(rng.standard_normal((4, 3)))
    y = ffnn.tensor(np.array([0, -100, 2, 1]))
    with pytest.warns(UserWarning, match="a target is ignore_index"):
        got = step(x, y)
    assert got == eager_step(eager_model, loss_fn, opt_e, x, y)
    for model in (eager_model, fused_model):  # a hidden layer of 5 instead of 4
        model[0].weight.data = ffnn.tensor(np.full((5, 3), 0.1))
        model[0].bias.data = ffnn.tensor(np.zeros(5))
        model[2].weight.data = ffnn.tensor(np.full((3, 5), -0.2))
    x = ffnn.tensor(rng.standard_normal((4, 3)))
    with pytest.warns(UserWarning, match=r"a Linear\(3, 4\) has parameters of other shapes"), \
            pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=3\) got input"):
        step(x, ffnn.tensor(np.array([0, 1, 2, 1])))


def test_an_ignore_index_that_is_a_class_is_ignored(rng):
    """CrossEntropyLoss(ignore_index=2) on three classes: a batch with label 2 is replayed
    (its rows ignored, as the eager step ignores them), one without is fused."""
    eager_model, fused_model = _model([3, 4, 3]), _model([3, 4, 3])
    opt_e, opt_f = (optim.SGD(m.parameters(), lr=0.1) for m in (eager_model, fused_model))
    loss_fn = nn.CrossEntropyLoss(ignore_index=2)
    step = ffnn.compile(fused_model, loss_fn, opt_f, mode="fused")
    for labels in ([0, 2, 1, 2], [0, 1, 1, 0]):
        x, y = ffnn.tensor(rng.standard_normal((4, 3))), ffnn.tensor(np.array(labels))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = step(x, y)
        assert bool(caught) == (2 in labels)
        np.testing.assert_allclose(got, eager_step(eager_model, loss_fn, opt_e, x, y),
                                   rtol=1e-12)


class _LogProbabilities(nn.Module):
    """The tutorials' head: log-softmax of the last layer, trained with NLLLoss."""

    def __init__(self, dim=1):
        super().__init__()
        self.body, self.dim = _model([5, 8, 4], "relu"), dim

    def forward(self, x):
        return ffnn.log_softmax(self.body(x), dim=self.dim)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("form", ["module", "sequential"])
def test_a_closing_log_softmax_with_nll_loss_is_fused(form, reduction, rng):
    """NLL(log softmax z) is the cross-entropy of z: fused as it, the output the log-softmax
    the model returns."""
    def make():
        model = _LogProbabilities()
        return model if form == "module" else nn.Sequential(*model.body, nn.LogSoftmax(dim=1))

    eager_model, fused_model = make(), make()
    opt_e, opt_f = (optim.Adam(m.parameters(), lr=0.01) for m in (eager_model, fused_model))
    loss_fn = nn.NLLLoss(reduction=reduction)
    step = ffnn.compile(fused_model, loss_fn, opt_f, mode="fused")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither replayed nor eager after the first step
        for n in (6, 6, 3, 6):
            x, y = ffnn.tensor(rng.standard_normal((n, 5))), ffnn.tensor(rng.integers(0, 4, n))
            with ffnn.no_grad():
                expected_output = eager_model(x).numpy()
            expected = eager_step(eager_model, loss_fn, opt_e, x, y)
            np.testing.assert_allclose(step(x, y), expected, rtol=1e-12)
            np.testing.assert_allclose(step.output, expected_output, rtol=1e-12, atol=1e-14)
    assert step.fused is not None and step.fused.log_softmax
    for a, b in zip(eager_model.parameters(), fused_model.parameters()):
        np.testing.assert_allclose(a._data, b._data, rtol=1e-10, atol=1e-13)
    with warnings.catch_warnings(record=True) as caught, \
            pytest.raises(ValueError, match="out of range|Target"):
        warnings.simplefilter("always")
        step(ffnn.randn(3, 5).double(), ffnn.tensor(np.array([0, 4, 1])))
    assert [str(w.message).split(": ", 1)[1] for w in caught] == [
        "mode='fused' cannot take this batch (a target is ignore_index or not a class); "
        "replaying", "running the eager step: a class label is out of range"]


@pytest.mark.parametrize("loss_fn, tail, reason", [
    (nn.NLLLoss(weight=ffnn.ones(4, dtype=ffnn.float64)), (),
     "a closing LogSoftmax is fused with NLLLoss() only"),
    (nn.CrossEntropyLoss(), (), "a closing LogSoftmax is fused with NLLLoss() only"),
    (nn.NLLLoss(), (nn.Tanh(),),
     "a LogSoftmax is fused only right after the last Linear, over dim 1")])
def test_a_log_softmax_it_cannot_fuse_is_replayed(loss_fn, tail, reason, rng):
    model = nn.Sequential(*_LogProbabilities().body, *tail, nn.LogSoftmax(dim=1))
    with pytest.warns(UserWarning, match=re.escape(reason)):
        step = ffnn.compile(model, loss_fn, optim.SGD(model.parameters(), lr=0.1),
                            mode="fused")
    assert step.fused is None and step.compiled


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1.0), (np.float32, 1.0),
                                          (np.float32, 200.0)])
def test_bce_on_a_closing_sigmoid_is_fused(dtype, scale, rng):
    """Sigmoid then BCELoss (the binary tutorials' head): the eager op's formulas, logs
    clamped at -100 where the sigmoid saturates to 0 or 1 (``scale`` 200)."""
    def make():
        model = nn.Sequential(*_model([4, 8, 2], "relu"), nn.Sigmoid()).to(dtype)
        with ffnn.no_grad():
            model[2].weight.mul_(scale)
        return model

    eager_model, fused_model = make(), make()
    opt_e, opt_f = (optim.Adam(m.parameters(), lr=0.01) for m in (eager_model, fused_model))
    step = ffnn.compile(fused_model, nn.BCELoss(), opt_f, mode="fused")
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the eager op's log1p(-1)
        warnings.simplefilter("error", UserWarning)  # no replay
        for _ in range(4):
            x = ffnn.tensor(rng.standard_normal((6, 4)).astype(dtype))
            y = ffnn.tensor((rng.random((6, 2)) > 0.5).astype(dtype))
            expected = eager_step(eager_model, nn.BCELoss(), opt_e, x, y)
            np.testing.assert_allclose(step(x, y), expected, rtol=rtol)
    assert step.fused is not None
    for a, b in zip(eager_model.parameters(), fused_model.parameters()):
        np.testing.assert_allclose(a._data, b._data, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("tail, loss_fn, reason", [
    ((nn.Tanh(),), nn.BCELoss(), "BCELoss is fused only after a closing Sigmoid"),
    ((nn.Sigmoid(), nn.Dropout(0.1)), nn.BCELoss(),
     "BCELoss is fused only after a closing Sigmoid"),
    ((nn.Sigmoid(),), nn.BCELoss(weight=ffnn.ones(2, dtype=ffnn.float64)),
     "loss BCELoss with these options is not fused")])
def test_bce_it_cannot_fuse_is_replayed(tail, loss_fn, reason):
    model = nn.Sequential(*_model([4, 8, 2], "relu"), *tail)
    with pytest.warns(UserWarning, match=re.escape(reason)):
        step = ffnn.compile(model, loss_fn, optim.SGD(model.parameters(), lr=0.1),
                            mode="fused")
    assert step.fused is None and step.compiled


@pytest.mark.parametrize("generator, dtype, width, rows", [
    (False, np.float64, 9, 6), (True, np.float64, 9, 6),
    (False, np.float32, 512, 257)])  # float32: masks and products as large as the bench's
# (256 and 257 rows: masks of 65,536 pairs of elements and more, drawn over both threads)
def test_fused_dropout_draws_the_eager_masks(generator, dtype, width, rows, rng):
    """Dropout after a layer's activation (or after the Linear, or at the end): its masks
    are drawn as ``nn.Dropout`` draws them (the same stream, at each step, in layer order),
    so the fused step follows the eager one to rounding through train/eval switches and
    changes of p (0: the identity, 1: all zeros), with batches of two sizes."""
    def model():
        ffnn.manual_seed(0)
        stream = ffnn.Generator().manual_seed(3) if generator else None
        return nn.Sequential(nn.Linear(5, width), nn.ReLU(),
                             nn.Dropout(0.3, generator=stream), nn.Linear(width, 7),
                             nn.Dropout(0.5), nn.Linear(7, 3), nn.Dropout(0.1)).to(dtype)

    eager_model, fused_model = model(), model()
    opt_e, opt_f = (optim.Adam(m.parameters(), lr=1e-2) for m in (eager_model, fused_model))
    loss_fn = nn.MSELoss()
    step = ffnn.compile(fused_model, loss_fn, opt_f, mode="fused")
    tolerance, atol = (1e-12, 1e-14) if dtype == np.float64 else (1e-5, 1e-5)
    edits = {3: lambda m: m.eval(), 4: lambda m: m.train(), 5: lambda m: setattr(m[2], "p", 1.0),
             6: lambda m: setattr(m[4], "p", 0.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(8):
            for m in (eager_model, fused_model):
                edits.get(i, lambda m: None)(m)
            batch = rows - i % 2  # two batch sizes: each its own buffers and masks
            x = ffnn.tensor(rng.standard_normal((batch, 5)).astype(dtype))
            y = ffnn.tensor(rng.standard_normal((batch, 3)).astype(dtype))
            ffnn.manual_seed(10 + i)
            out = eager_model(x)  # the eager step, its output kept
            expected = loss_fn(out, y)
            opt_e.zero_grad()
            expected.backward()
            opt_e.step()
            ffnn.manual_seed(10 + i)
            np.testing.assert_allclose(step(x, y), float(expected._data), rtol=tolerance)
            assert step.fused is not None and step.compiled
            np.testing.assert_allclose(step.output, out._data, rtol=tolerance, atol=atol)
    for a, b in zip(eager_model.parameters(), fused_model.parameters()):
        np.testing.assert_allclose(b._data, a._data, rtol=tolerance, atol=atol)


def test_an_activation_after_dropout_is_replayed(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.2), nn.ReLU(), nn.Linear(4, 2))
    with pytest.warns(UserWarning, match="cannot take this step"):
        step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                            mode="fused")
    assert step.fused is None


@pytest.mark.parametrize("name, make", [
    ("sgd_tensor_lr", lambda p: optim.SGD(p, lr=ffnn.tensor(0.1), momentum=0.9)),
    ("adam_tensor_lr", lambda p: optim.Adam(p, lr=ffnn.tensor(1e-2))),
])
def test_fused_follows_a_scheduler_filling_a_tensor_lr(name, make, rng, monkeypatch):
    """A tensor lr keeps its object as a scheduler fills it: the rows follow its value."""
    monkeypatch.setitem(OPTIMIZERS, name, make)

    def edit(i, model, optimizer):
        if i in (1, 2):
            StepLR(optimizer, step_size=1, gamma=0.5).step()

    _compare([3, 5, 2], "tanh", name, "mse", rng, batches=(6, 6, 6, 6), edit=edit)
