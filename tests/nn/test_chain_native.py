"""The native chain (ffnn.compiler.native_chain): a Sequential of Linear layers, norms,
activations and dropout, run in a training step as one compiled forward and one compiled
backward, gives what the per-layer graph gives to rounding (dropout's masks and batch norm's
running statistics too, batch norms on running statistics, frozen parameters, layers after
the leading blocks), what torch gives in float64 and what finite differences give; it steps
aside where it cannot run (the input needs a gradient, not even one block first, no
compiled kernels), and an array changed in place after the chain kept it is reported as the
per-layer graph reports it."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn
from ffnn.compiler import native_chain
from ffnn.gradcheck import central_differences
from ffnn.nn import chain_call

pytestmark = pytest.mark.skipif(not accel.enabled, reason="the native chain needs numba")

MODELS = {
    "tanh": (lambda: nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)), (5, 6)),
    "every activation": (lambda: nn.Sequential(
        nn.Linear(7, 8), nn.ReLU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 6), nn.SiLU(),
        nn.Linear(6, 6), nn.LeakyReLU(0.2), nn.Linear(6, 5), nn.Sigmoid(), nn.Linear(5, 4),
        nn.ELU(), nn.Identity(), nn.Linear(4, 4), nn.GELU(approximate="tanh"),
        nn.Linear(4, 4), nn.Softplus(beta=2.0), nn.Linear(4, 3), nn.Mish(),
        nn.Linear(3, 2)), (9, 7)),
    "torch's other element-wise activations": (lambda: nn.Sequential(
        nn.Linear(7, 8), nn.CELU(0.7), nn.Linear(8, 8), nn.Softsign(), nn.Linear(8, 8),
        nn.Tanhshrink(), nn.Linear(8, 8), nn.LogSigmoid(), nn.Linear(8, 8),
        nn.Threshold(0.1, -0.5), nn.Linear(8, 8), nn.Hardshrink(0.2), nn.Linear(8, 6),
        nn.Softshrink(0.1), nn.Linear(6, 6), nn.SELU(), nn.Linear(6, 2)), (9, 7)),
    "regression head, one row": (lambda: nn.Sequential(
        nn.Linear(3, 8), nn.Sigmoid(), nn.Linear(8, 1)), (1, 3)),
    "no biases, activation last": (lambda: nn.Sequential(
        nn.Linear(4, 6, bias=False), nn.ReLU(inplace=True), nn.Linear(6, 2, bias=False),
        nn.Tanh()), (5, 4)),
    "flatten first": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Hardswish(),
                                            nn.Linear(8, 3)), (4, 3, 4)),
    "BLAS products": (lambda: nn.Sequential(nn.Linear(64, 256), nn.SiLU(), nn.Linear(256, 10)),
                      (96, 64)),
    "products on one BLAS thread": (lambda: nn.Sequential(
        nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)),
        (64, 64)),
    "a few rows": (lambda: nn.Sequential(  # the few-rows loops (ffnn.kernels.few_rows)
        nn.Linear(70, 130), nn.GELU(), nn.Linear(130, 66), nn.Tanh(), nn.Linear(66, 3)),
        (3, 70)),
    "a forward of ten rows": (lambda: nn.Sequential(  # few_rows.narrow: x Wᵀ by the loops
        nn.Linear(70, 130), nn.SiLU(), nn.Linear(130, 1)), (10, 70)),
    "one input feature": (lambda: nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1)),
                          (7, 1)),
    "layer norm, dropout": (lambda: nn.Sequential(
        nn.Linear(6, 16, bias=False), nn.LayerNorm(16), nn.GELU(approximate="tanh"),
        nn.Dropout(0.3), nn.Linear(16, 16), nn.LayerNorm(16, bias=False), nn.Linear(16, 3),
        nn.Dropout(0.5)), (5, 6)),
    "batch norm": (lambda: nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8),
        nn.BatchNorm1d(8, momentum=None), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 3),
        nn.BatchNorm1d(3, track_running_stats=False)), (7, 6)),
    "softmax last": (lambda: nn.Sequential(  # the leading blocks native, then the softmax
        nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4), nn.Softmax(dim=1)), (5, 6)),
    "log softmax after dropout": (lambda: nn.Sequential(
        nn.Linear(6, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 4), nn.LogSoftmax(dim=-1)),
        (5, 6)),
    "a norm after the activation, then more layers": (lambda: nn.Sequential(
        nn.Linear(6, 8), nn.Dropout(0.2), nn.SiLU(), nn.LayerNorm(8), nn.Linear(8, 8),
        nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.4), nn.Linear(8, 3)), (7, 6)),
    "in place after a Linear or a norm": (lambda: nn.Sequential(
        nn.Linear(6, 8), nn.ReLU(inplace=True), nn.Linear(8, 8), nn.LayerNorm(8),
        nn.SiLU(inplace=True), nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ELU(inplace=True),
        nn.Linear(8, 4), nn.Dropout(0.4, inplace=True)), (6, 6)),
}
TOLERANCES = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-13)}


def _step(make, shape, dtype, seed=0, per_layer=False, monkeypatch=None):
    """(output, each parameter's grad and then each buffer, whether the native chain ran)
    of a forward and a backward of ``make()`` (two forwards where it has batch norms: their
    running statistics move twice)."""
    ffnn.manual_seed(seed)
    model = make().to(dtype)
    x = ffnn.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))
    if per_layer:
        monkeypatch.setattr(chain_call, "call", lambda *a: None)
    if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        model(x)
    out = model(x)
    ran = out.grad_fn is not None and "native" in vars(out.grad_fn)
    weights = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype)
    (out * ffnn.tensor(weights)).sum().backward()
    if per_layer:
        monkeypatch.undo()
    arrays = [p.grad.numpy().copy() for p in model.parameters()]
    arrays += [b.numpy().copy() for b in model.buffers()]
    return out.detach().numpy(), arrays, ran


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(MODELS))
def test_it_runs_and_agrees_with_the_per_layer_graph(name, dtype, monkeypatch):
    make, shape = MODELS[name]
    out, grads, ran = _step(make, shape, dtype)
    ref_out, ref_grads, ref_ran = _step(make, shape, dtype, per_layer=True,
                                        monkeypatch=monkeypatch)
    assert ran and not ref_ran
    np.testing.assert_allclose(out, ref_out, **TOLERANCES[dtype])
    assert len(grads) == len(ref_grads)
    for mine, theirs in zip(grads, ref_grads):
        assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
        if mine.dtype.kind == "i":  # a batch norm's count
            np.testing.assert_array_equal(mine, theirs)
        else:
            np.testing.assert_allclose(mine, theirs, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype, scale", [("float32", 5e-5), ("float64", 1e-12)])
def test_a_large_batch_split_over_threads_agrees_with_the_per_layer_graph(dtype, scale,
                                                                          monkeypatch):
    """4,100 rows: the activations, layer norm's rows, batch norm's passes and the weight
    gradients by parts of rows over OpenBLAS's threads (where it has two), as the per-layer
    ops split theirs. Some sums run in another order (the first layer's output is its bias
    plus the product, the per-layer graph's the product plus the bias), so each array
    agrees within ``scale`` times its largest value; a part of the rows lost or counted
    twice is off by a fraction of it (the bias before the batch norm left out: its gradient
    is zero but for rounding)."""
    def make():
        return nn.Sequential(nn.Linear(8, 64), nn.LayerNorm(64), nn.Tanh(),
                             nn.Linear(64, 32, bias=False), nn.BatchNorm1d(32), nn.SiLU(),
                             nn.Dropout(0.1), nn.Linear(32, 1))

    out, grads, ran = _step(make, (4100, 8), dtype)
    ref_out, ref_grads, ref_ran = _step(make, (4100, 8), dtype, per_layer=True,
                                        monkeypatch=monkeypatch)
    assert ran and not ref_ran
    for mine, theirs in zip([out] + grads, [ref_out] + ref_grads):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=scale * np.abs(theirs).max())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_on_one_blas_thread_give_its_threads_back(dtype):
    """A chain whose products of few rows run on one BLAS thread
    (``ffnn.ops.matrix.one_thread_product``) leaves OpenBLAS with the threads it had."""
    from ffnn.kernels.native import thread_functions

    found = thread_functions()
    if found is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    setter, getter = found
    before = getter()
    setter(2)
    try:
        _, _, ran = _step(MODELS["products on one BLAS thread"][0], (64, 64), dtype)
        assert ran and getter() == 2
    finally:
        setter(before)


def test_it_agrees_with_torch_in_float64():
    torch = pytest.importorskip("torch")
    ffnn.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 16), nn.GELU(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 2)).double()
    reference = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.GELU(),
                                    torch.nn.Linear(16, 16), torch.nn.Tanh(),
                                    torch.nn.Linear(16, 2)).double()
    with torch.no_grad():
        for theirs, mine in zip(reference.parameters(), model.parameters()):
            theirs.copy_(torch.from_numpy(mine.numpy()))
    x = np.random.default_rng(4).standard_normal((11, 5))
    target = np.random.default_rng(5).standard_normal((11, 2))
    out = model(ffnn.tensor(x))
    assert "native" in vars(out.grad_fn)
    nn.MSELoss()(out, ffnn.tensor(target)).backward()
    expected = reference(torch.from_numpy(x))
    torch.nn.MSELoss()(expected, torch.from_numpy(target)).backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for mine, theirs in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_it_agrees_with_finite_differences():
    """dL/dW and dL/db of every layer against central differences of the loss (float64)."""
    ffnn.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 4), nn.Sigmoid(),
                          nn.Linear(4, 2)).double()
    x = ffnn.tensor(np.random.default_rng(2).standard_normal((6, 3)))
    target = ffnn.tensor(np.random.default_rng(3).standard_normal((6, 2)))
    loss = nn.MSELoss()(model(x), target)
    loss.backward()

    def value() -> float:
        with ffnn.no_grad():
            return float(nn.MSELoss()(model(x), target))

    for param in model.parameters():
        numeric = central_differences(value, param._data)
        np.testing.assert_allclose(param.grad.numpy(), numeric, rtol=1e-6, atol=1e-9)


def _ran(model, x) -> bool:
    """Whether a forward and backward of ``model`` on ``x`` ran the native chain."""
    out = model(x)
    ran = out.grad_fn is not None and "native" in vars(out.grad_fn)
    out.sum().backward()
    return ran


def test_it_steps_aside_where_it_cannot_run(monkeypatch):
    x = ffnn.randn(5, 3)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Dropout(0.5),
                          nn.Linear(4, 2))
    assert _ran(model, x)
    model[1].eval()
    assert _ran(model, x)  # batch norm on its running statistics: y = a z + c
    model[1].train()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        model(ffnn.randn(1, 3))  # one row: the batch norm's own error
    assert not _ran(model, ffnn.randn(5, 3, requires_grad=True))  # dL/dx is wanted
    assert not _ran(model, ffnn.randn(3, 5).T)  # not C-contiguous
    plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    assert _ran(plain, x) and not _ran(plain, ffnn.randn(2, 5, 3))  # [N, L, features]
    chain = native_chain._chains[model]
    monkeypatch.setattr(native_chain, "MAX_BYTES", chain._layout(50)[1])
    assert _ran(model, ffnn.randn(50, 3)) and not _ran(model, ffnn.randn(200, 3))  # workspace
    assert not _ran(nn.Sequential(nn.Tanh(), nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
                    x)  # no Linear first: not even one block
    monkeypatch.setattr(accel, "enabled", False)
    assert not _ran(model, x)


FROZEN = {  # which parameters (by their index in model.parameters()) are frozen
    "the first layer": (0, 1), "a bias": (3,), "the first two layers, a norm's γ": (0, 1, 2,
                                                                                     3, 4),
    "all but the last layer": (0, 1, 2, 3, 4, 5, 6, 7), "the last layer": (8, 9)}


@pytest.mark.parametrize("frozen", list(FROZEN))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_frozen_parameters_get_no_gradient_and_the_others_the_graph_s(frozen, dtype,
                                                                      monkeypatch):
    """Fine-tuning with some parameters frozen (``requires_grad_(False)``): the native
    chain still runs, computes no gradient for them (``.grad`` stays None) and stops below
    the lowest layer with one; the others get what the per-layer graph gives, two steps
    in a row (the gradient arrays made again when which parameters train changes)."""
    def make():
        ffnn.manual_seed(6)
        return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.LayerNorm(8),
                             nn.ReLU(), nn.Linear(8, 6), nn.GELU(), nn.Linear(8 - 2, 3),
                             nn.Softmax(dim=1)).to(dtype)

    found = []
    for per_layer in (False, True):
        model = make()
        params = list(model.parameters())
        for index in FROZEN[frozen]:
            params[index].requires_grad_(False)
        if per_layer:
            monkeypatch.setattr(chain_call, "call", lambda *a: None)
        grads = []
        for seed in range(2):
            x = ffnn.tensor(np.random.default_rng(seed).standard_normal((7, 5)).astype(dtype))
            out = model(x)
            assert ("native" in vars(out.grad_fn)) == (not per_layer)
            (out * ffnn.tensor(np.arange(21.0).reshape(7, 3).astype(dtype))).sum().backward()
            grads.append([None if p.grad is None else p.grad.numpy().copy() for p in params])
            if seed == 0:
                params[-1].requires_grad_(not params[-1].requires_grad)
        monkeypatch.undo()
        found.append(grads)
    for mine, theirs in zip(found[0], found[1]):
        for a, b in zip(mine, theirs):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, **TOLERANCES[dtype])
    assert all(found[0][0][i] is None for i in FROZEN[frozen])


@pytest.mark.parametrize("trained", ["the head", "a Linear before a frozen norm"])
def test_a_frozen_backbone_with_batch_norms_trains_natively(trained, monkeypatch):
    """``ffnn.finetune.freeze`` on the blocks (Linear, batch norm on its running
    statistics, ReLU) below the trained layers: the native chain runs the whole forward and
    a backward that stops below the lowest trained layer (through a frozen norm's y = a z +
    c where a trained Linear lies before it): the per-layer graph's gradients, the
    statistics untouched."""
    from ffnn.finetune import freeze, unfreeze

    found = []
    for per_layer in (False, True):
        blocks = list(_on_running_statistics("float64", frozen=True))[:8]  # no last norm
        model = nn.Sequential(*blocks).train()  # the norms frozen: running statistics
        freeze(model)
        unfreeze(model, 7) if trained == "the head" else unfreeze(model, 3, 7)
        buffers = [b.numpy().copy() for b in model.buffers()]
        if per_layer:
            monkeypatch.setattr(chain_call, "call", lambda *a: None)
        ffnn.manual_seed(3)  # dropout (train mode) draws the same masks each time
        out = model(ffnn.tensor(np.random.default_rng(4).standard_normal((6, 6))))
        native = "native" in vars(out.grad_fn)
        (out * ffnn.tensor(np.linspace(-1, 1, 18).reshape(6, 3))).sum().backward()
        monkeypatch.undo()
        assert native == (not per_layer)
        found.append([None if p.grad is None else p.grad.numpy() for p in model.parameters()])
        for before, after in zip(buffers, model.buffers()):
            np.testing.assert_array_equal(before, after.numpy())
    for mine, theirs in zip(*found):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-13)


def test_scratch_kept_for_several_batch_sizes_stays_within_the_limit(monkeypatch):
    """Each batch size's backward scratch is kept for the next step of that size, all of
    it together at most ``MAX_BYTES`` (older sizes' dropped first), and the chain still runs
    and agrees with the per-layer graph."""
    def make():
        return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 2))

    model = make()
    assert _ran(model, ffnn.randn(8, 3))
    chain = native_chain._chains[model]
    monkeypatch.setattr(native_chain, "MAX_BYTES", 2 * chain._layout(100)[1])
    for rows in (100, 90, 80, 70, 100):
        assert _ran(model, ffnn.randn(rows, 3))
        kept = sum(a.nbytes + b.nbytes for a, b in chain._scratch.values())
        assert 0 < kept <= native_chain.MAX_BYTES
    assert len(chain._scratch) < 5  # sizes dropped on the way
    out, grads, ran = _step(make, (90, 3), "float32")
    ref_out, ref_grads, _ = _step(make, (90, 3), "float32", per_layer=True,
                                  monkeypatch=monkeypatch)
    assert ran
    for mine, theirs in zip([out] + grads, [ref_out] + ref_grads):
        np.testing.assert_allclose(mine, theirs, **TOLERANCES["float32"])


def test_new_parameter_arrays_and_batch_sizes_are_taken(monkeypatch):
    """A parameter given another array, batches of other sizes in turn: each call is the
    per-layer graph's to rounding."""
    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).double()

    model, reference = make(), make()
    rng = np.random.default_rng(0)
    for rows in (5, 1, 9, 5):
        if rows == 9:
            for m in (model, reference):
                m[2].weight.data = ffnn.tensor(np.full((3, 8), 0.25))
        x = ffnn.tensor(rng.standard_normal((rows, 4)))
        for m in (model, reference):
            m.zero_grad()
        assert _ran(model, x)
        with monkeypatch.context() as patch:
            patch.setattr(chain_call, "call", lambda *a: None)
            assert not _ran(reference, x)
        for mine, theirs in zip(model.parameters(), reference.parameters()):
            np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12,
                                       atol=1e-14)


@pytest.mark.parametrize("change, layer", [
    ("input", "Linear"), ("second weight", "Linear"), ("output", "Sigmoid"),
    ("norm weight", "LayerNorm")])
def test_an_array_it_kept_and_changed_in_place_is_reported(change, layer):
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 2),
                          nn.Sigmoid())
    x = ffnn.randn(5, 3)
    out = model(x)
    assert "native" in vars(out.grad_fn)
    with ffnn.no_grad():
        {"input": x, "second weight": model[3].weight, "output": out,
         "norm weight": model[1].weight}[change].mul_(2)
    with pytest.raises(RuntimeError, match=f"modified by an inplace operation.*used by {layer}"):
        out.sum().backward()


def test_a_changed_first_weight_or_last_output_it_does_not_read_is_not_reported():
    """The first layer's weight (no dL/dx is computed) and a last ReLU's output (its
    backward reads its mask) are not kept: changing them is no error, as per layer."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.ReLU())
    out = model(ffnn.randn(5, 3))
    with ffnn.no_grad():
        model[0].weight.mul_(2)
        out.mul_(2)
    out.sum().backward()
    assert model[0].weight.grad is not None


def test_retain_graph_and_autograd_grad():
    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2))
    out = model(ffnn.randn(6, 3))
    assert "native" in vars(out.grad_fn)
    loss = (out * out).sum()
    loss.backward(retain_graph=True)
    first = model[0].weight.grad.numpy().copy()
    loss.backward()
    np.testing.assert_array_equal(model[0].weight.grad.numpy(), 2 * first)
    out = model(ffnn.randn(6, 3))
    (dw,) = ffnn.autograd.grad((out * out).sum(), [model[2].weight])
    assert dw.shape == (2, 4) and model[2].weight.grad.shape == (2, 4)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)),
    lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))],
    ids=["native", "a norm after the activation"])
def test_a_loaded_state_dict_is_taken(make, monkeypatch):
    """``load_state_dict`` gives the batch norm new buffer arrays (and the layers new
    parameter arrays): the next steps use them, native or not, as the per-layer graph."""
    def seeded():
        ffnn.manual_seed(0)
        return make()

    model, reference = seeded(), seeded()
    state = {name: value * 0.5 for name, value in make().state_dict().items()
             if not name.endswith("num_batches_tracked")}
    rng = np.random.default_rng(0)
    for step in range(3):
        if step == 1:
            for m in (model, reference):
                m.load_state_dict(state, strict=False)
        x = ffnn.tensor(rng.standard_normal((6, 3)).astype(np.float32))
        model(x).sum().backward()
        with monkeypatch.context() as patch:
            patch.setattr(chain_call, "call", lambda *a: None)
            reference(x).sum().backward()
    for mine, theirs in zip([*model.parameters(), *model.buffers()],
                            [*reference.parameters(), *reference.buffers()]):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)


def _training_loop_parts(dtype="float32"):
    """A model on the native chain, its input and SGD over its parameters."""
    ffnn.manual_seed(3)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).to(dtype)
    x = ffnn.tensor(np.random.default_rng(3).standard_normal((5, 6)).astype(dtype))
    return model, x, ffnn.optim.SGD(model.parameters(), lr=0.1)


def _backward(model, x, scale=1.0):
    out = model(x)
    assert "native" in vars(out.grad_fn)
    (out * out * scale).sum().backward()


def test_a_training_loop_s_gradient_arrays_are_reused_once_nobody_holds_them():
    """After ``zero_grad()`` the last backward's gradient arrays are held by the chain alone:
    the next backward writes into them (no new arrays, no new addresses)."""
    model, x, opt = _training_loop_parts()
    _backward(model, x)
    chain = native_chain._chains[model]
    handed = chain._handed
    for _ in range(3):  # (a name bound to one of the arrays here would hold it: only bools)
        opt.step()
        opt.zero_grad()
        _backward(model, x)
        reused = chain._handed is handed
        assert reused
        taken = all(p.grad.numpy() is g for p, g in zip(model.parameters(), handed[0]))
        assert taken


@pytest.mark.parametrize("held", ["the grad tensor", "a view of it", "its array",
                                  "autograd.grad's result"])
def test_a_gradient_someone_still_holds_is_never_written_again(held):
    """A gradient kept by the user (the tensor, a view, the NumPy array, or a result of
    ``autograd.grad``) keeps its values: the next backward writes new arrays, and those
    hold what the per-layer graph computes."""
    model, x, opt = _training_loop_parts("float64")
    first = model[0].weight
    if held == "autograd.grad's result":
        out = model(x)
        kept = ffnn.autograd.grad((out * out).sum(), [first])[0]
    else:
        _backward(model, x)
        kept = {"the grad tensor": first.grad, "a view of it": first.grad[1:3],
                "its array": first.grad.numpy()}[held]
    values = np.array(kept.numpy() if hasattr(kept, "numpy") else kept, copy=True)
    opt.zero_grad()
    _backward(model, x, scale=3.0)
    now = kept.numpy() if hasattr(kept, "numpy") else kept
    np.testing.assert_array_equal(now, values)
    expected = model[0].weight.grad.numpy().copy()
    opt.zero_grad()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chain_call, "call", lambda *a: None)
        (model(x) * model(x) * 3.0).sum().backward()
    np.testing.assert_allclose(expected, model[0].weight.grad.numpy(), rtol=1e-12)


def test_gradients_accumulated_without_zero_grad_are_the_sums():
    """``zero_grad(set_to_none=False)`` keeps each ``.grad`` (the chain's arrays of the
    first backward): later backwards add into them, never overwrite them, and each sum is
    the per-layer graph's."""
    model, x, opt = _training_loop_parts("float64")
    for scale in (1.0, 2.0, 0.5):
        _backward(model, x, scale)
    ours = [p.grad.numpy().copy() for p in model.parameters()]
    opt.zero_grad(set_to_none=False)
    _backward(model, x, 1.0)
    _backward(model, x, 1.0)
    twice = [p.grad.numpy().copy() for p in model.parameters()]
    opt.zero_grad()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chain_call, "call", lambda *a: None)
        for scale in (1.0, 2.0, 0.5):
            (model(x) * model(x) * scale).sum().backward()
    for mine, theirs, double in zip(ours, [p.grad.numpy() for p in model.parameters()],
                                    twice, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
        np.testing.assert_allclose(double, theirs / 3.5 * 2, rtol=1e-12)


@pytest.mark.parametrize("last", [[], [nn.Sigmoid()]], ids=["a Linear last", "an activation"])
def test_the_gradient_it_is_given_is_read_where_it_lies_and_left_as_it_was(last, monkeypatch):
    """The backward reads dL/dout in place (no copy): the caller's array is unchanged after
    it, and the parameters' gradients are the per-layer graph's."""
    grads = []
    g = np.random.default_rng(5).standard_normal((7, 3)).astype(np.float32)
    for chain_bytes in (native_chain.MAX_BYTES, 0):
        monkeypatch.setattr(native_chain, "MAX_BYTES", chain_bytes)
        ffnn.manual_seed(1)
        model = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3), *last)
        out = model(ffnn.randn(7, 5))
        assert ("native" in vars(out.grad_fn)) == (chain_bytes > 0)
        given = g.copy()
        out.backward(ffnn.from_numpy(given))
        np.testing.assert_array_equal(given, g)
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    for native, graph in zip(*grads):
        np.testing.assert_allclose(native, graph, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("buffers", ["the layers' dtype", "float64", "not contiguous"])
def test_running_statistics_are_updated_as_each_layer_updates_them(buffers, monkeypatch):
    """Batch norms in training mode, three steps: the native chain's kernel folds the
    batch's statistics into running statistics of the layers' dtype and counts the batch
    (its version moved, as ``count_batch`` moves it); other buffers (float64, a strided
    view) are updated from Python; either way what the per-layer graph leaves."""
    found = []
    for per_layer in (False, True):
        ffnn.manual_seed(2)
        model = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 4),
                              nn.BatchNorm1d(4, momentum=None), nn.Linear(4, 2))
        for norm in (model[1], model[4]):
            if buffers == "float64":
                norm.running_var = ffnn.tensor(norm.running_var.numpy().astype(np.float64))
            elif buffers == "not contiguous":
                norm.running_mean = ffnn.tensor(np.zeros(2 * norm.num_features,
                                                         np.float32))[::2]
        if per_layer:
            monkeypatch.setattr(chain_call, "call", lambda *a: None)
        runs = []
        for seed in range(3):
            x = ffnn.tensor(np.random.default_rng(seed).standard_normal((8, 5))
                            .astype(np.float32))
            out = model(x)
            runs.append(out.grad_fn is not None and "native" in vars(out.grad_fn))
            out.sum().backward()
        monkeypatch.undo()
        assert runs == [not per_layer] * 3
        found.append([(b.numpy().copy(), b._version) for b in model.buffers()])
    for (native, _), (graph, _) in zip(*found):
        np.testing.assert_allclose(native, graph, rtol=1e-6, atol=1e-7)
        assert native.dtype == graph.dtype
    counts = [b for b in found[0] if b[0].dtype.kind == "i"]
    assert [int(c[0]) for c in counts] == [3, 3]
    assert [c[1] for c in counts] == [c[1] for c in found[1] if c[0].dtype.kind == "i"]


def _without_gradients(make, shape, dtype, seed, per_layer, monkeypatch, mode="train"):
    """(each output, each buffer after) of two forwards of ``make()`` under ``no_grad`` in
    ``mode``, each layer's own forward where ``per_layer``; and how often a native chain
    forward ran."""
    ffnn.manual_seed(seed)
    model = make().to(dtype)
    getattr(model, mode)()
    x = ffnn.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))
    outs, runs = _counting_native_forwards(lambda: [model(x) for _ in range(2)], per_layer,
                                           monkeypatch)
    assert all(not out.requires_grad and out.grad_fn is None for out in outs)
    return [o.numpy().copy() for o in outs] + [b.numpy() for b in model.buffers()], runs


def _counting_native_forwards(forwards, per_layer: bool, monkeypatch) -> tuple:
    """(what ``forwards()`` returns under ``no_grad``, how many native chain forwards ran
    in it), each layer's own forward where ``per_layer``."""
    runs = []
    forward = native_chain.NativeChain.forward
    monkeypatch.setattr(native_chain.NativeChain, "forward",
                        lambda self, *a: runs.append(1) or forward(self, *a))
    if per_layer:
        monkeypatch.setattr(chain_call, "infer", lambda *a: None)
    with ffnn.no_grad():
        found = forwards()
    monkeypatch.undo()
    return found, len(runs)


@pytest.mark.parametrize("p", [0.3, 0.5, 1.0])
@pytest.mark.parametrize("rows, width", [(5, 7), (257, 512)])  # odd; split over the threads
def test_the_kernels_dropout_mask_is_nn_dropouts_bit_for_bit(rows, width, p, monkeypatch):
    """The native chain draws dropout's keep mask in its kernel from the key ``nn.Dropout``
    draws (``fused.mask_fields``): behind a Linear layer whose product is exact (identity
    weight, zero bias) each output is x · m / (1 - p) bit for bit as the layers' own forwards
    give it, an odd number of elements and masks split over OpenBLAS's threads alike, the
    generator left where theirs leaves it (p = 1: no draw); eight calls, so that a last odd
    element left undrawn would show."""
    calls = 8
    model = nn.Sequential(nn.Linear(width, width), nn.Dropout(p))
    with ffnn.no_grad():
        model[0].weight.copy_(ffnn.eye(width))
        model[0].bias.zero_()
    x = ffnn.tensor(np.random.default_rng(3).uniform(0.5, 1.5, (rows, width)).astype(np.float32))

    def outputs(per_layer: bool) -> tuple[list, int]:
        ffnn.manual_seed(5)
        return _counting_native_forwards(
            lambda: [model(x).numpy().copy() for _ in range(calls)] + [ffnn.rand(2).numpy()],
            per_layer, monkeypatch)

    got, runs = outputs(False)
    expected, per_layer_runs = outputs(True)
    assert runs == calls and per_layer_runs == 0
    for found, wanted in zip(got, expected):
        np.testing.assert_array_equal(found, wanted)
    dropped = np.mean(got[0] == 0)
    if p == 1:
        assert dropped == 1.0
    else:  # about p of the elements, and another mask at each call
        assert abs(dropped - p) < (0.02 if rows * width > 1000 else 0.3)
        assert not np.array_equal(*got[:2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_forward_without_gradients_runs_as_one_native_call(name, dtype, monkeypatch):
    """Under ``no_grad`` (an evaluation, a prediction) a chain runs as one native forward
    (``chain_call.infer``): each output what the layers' own forwards give, to rounding
    (dropout's masks and batch norm's running statistics in training mode too, drawn and
    moved as theirs), twice in a row, a fresh array each time."""
    make, shape = MODELS[name]
    got, runs = _without_gradients(make, shape, dtype, 4, False, monkeypatch)
    expected, per_layer_runs = _without_gradients(make, shape, dtype, 4, True, monkeypatch)
    assert runs == 2 and per_layer_runs == 0
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, **TOLERANCES[dtype])
    assert not np.shares_memory(got[0], got[1])


def _on_running_statistics(dtype: str, frozen: bool = False):
    """A chain with batch norms on running statistics far from 0 and 1 (eval mode, or
    frozen in train mode: ``ffnn.finetune.freeze``), γ and β far from 1 and 0, one of them
    last, another with its own ε."""
    ffnn.manual_seed(5)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8),
                          nn.BatchNorm1d(8, eps=0.3), nn.Tanh(), nn.Dropout(0.3),
                          nn.Linear(8, 3), nn.BatchNorm1d(3)).to(dtype)
    rng = np.random.default_rng(6)
    for norm in (m for m in model.modules() if isinstance(m, nn.BatchNorm1d)):
        width = norm.num_features
        norm.running_mean.copy_(ffnn.tensor(3 * rng.standard_normal(width)))
        norm.running_var.copy_(ffnn.tensor(rng.uniform(0.05, 6.0, width)))
        with ffnn.no_grad():
            norm.weight.copy_(ffnn.tensor(rng.uniform(-2.0, 2.0, width)))
            norm.bias.copy_(ffnn.tensor(rng.standard_normal(width)))
        norm.frozen = frozen
    return model.train() if frozen else model.eval()


def _evaluated(model, x, per_layer: bool, monkeypatch) -> tuple[np.ndarray, int]:
    """(``model(x)`` under ``no_grad``, how many native chain forwards ran); dropout (in
    train mode) draws from the same stream each time."""
    ffnn.manual_seed(11)
    return _counting_native_forwards(lambda: model(x).numpy().copy(), per_layer, monkeypatch)


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("rows", [1, 2, 37])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norms_on_running_statistics_run_in_the_forward_without_gradients(
        dtype, rows, frozen, monkeypatch):
    """Batch norms on their running statistics (y = a z + c per feature, ``RunningBatchNorm``)
    run in the native forward of an evaluation, from one row: what the layers' own
    forwards give, to rounding, the statistics left as they were; the statistics changed in
    place and arrays put in their place are read at the next call."""
    model = _on_running_statistics(dtype, frozen)
    x = ffnn.tensor(np.random.default_rng(7).standard_normal((rows, 6)).astype(dtype))
    buffers = [b.numpy().copy() for b in model.buffers()]
    got, runs = _evaluated(model, x, False, monkeypatch)
    expected, per_layer_runs = _evaluated(model, x, True, monkeypatch)
    assert runs == 1 and per_layer_runs == 0
    np.testing.assert_allclose(got, expected, **TOLERANCES[dtype])
    for before, after in zip(buffers, model.buffers()):
        np.testing.assert_array_equal(before, after.numpy())
    model[4].running_var.mul_(4.0)  # in place
    model[8].load_state_dict({k: v * 2 for k, v in model[8].state_dict().items()})
    model[8].running_mean = ffnn.tensor(np.linspace(-1, 1, 3).astype(dtype))  # a new array
    got, runs = _evaluated(model, x, False, monkeypatch)
    expected, _ = _evaluated(model, x, True, monkeypatch)
    assert runs == 1
    np.testing.assert_allclose(got, expected, **TOLERANCES[dtype])


def test_batch_norms_on_running_statistics_agree_with_torch():
    """The same chain in torch (float64, eval mode), every value to 1e-12."""
    torch = pytest.importorskip("torch")
    model = _on_running_statistics("float64")
    reference = _torch_twin(torch, model)
    x = np.random.default_rng(8).standard_normal((9, 6))
    with ffnn.no_grad():
        out = model(ffnn.tensor(x))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norms_on_running_statistics_train_in_the_native_chain(dtype, monkeypatch):
    """With gradients (a model trained in eval mode, or fine-tuned with its batch norms
    frozen): dL/dz = a g through each norm, dL/dγ = Σ g x̂, dL/dβ = Σ g, what the per-layer
    graph gives, to rounding; and in float64 what torch gives."""
    found = []
    for per_layer in (False, True):
        model = _on_running_statistics(dtype)
        if per_layer:
            monkeypatch.setattr(chain_call, "call", lambda *a: None)
        out = model(ffnn.tensor(np.random.default_rng(4).standard_normal((9, 6)).astype(dtype)))
        assert ("native" in vars(out.grad_fn)) == (not per_layer)
        (out * ffnn.tensor(np.linspace(-2, 1, 27).reshape(9, 3).astype(dtype))).sum().backward()
        monkeypatch.undo()
        found.append([out.detach().numpy()] + [p.grad.numpy() for p in model.parameters()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, **TOLERANCES[dtype])
    torch = pytest.importorskip("torch")
    if dtype == "float64":
        reference = _torch_twin(torch, _on_running_statistics(dtype))
        x = torch.from_numpy(np.random.default_rng(4).standard_normal((9, 6)))
        (reference(x) * torch.from_numpy(np.linspace(-2, 1, 27).reshape(9, 3))).sum().backward()
        for mine, theirs in zip(found[0][1:], reference.parameters()):
            np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def _torch_twin(torch, model):
    """``_on_running_statistics``'s chain in torch (eval mode), with ``model``'s state."""
    twin = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
        torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8, eps=0.3), torch.nn.Tanh(),
        torch.nn.Dropout(0.3), torch.nn.Linear(8, 3), torch.nn.BatchNorm1d(3)).double().eval()
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in model.state_dict().items()})
    return twin


def test_a_forward_without_gradients_steps_aside_where_it_cannot_run(monkeypatch):
    """Running statistics of another dtype than the layers', an input of one row of
    features (1-D), and the numba kernels off: the layers run one by one, with the same
    values."""
    model = _on_running_statistics("float32")
    model[1].running_var = ffnn.tensor(model[1].running_var.numpy().astype(np.float64))
    x = ffnn.tensor(np.random.default_rng(9).standard_normal((5, 6)).astype(np.float32))
    got, runs = _evaluated(model, x, False, monkeypatch)
    expected, _ = _evaluated(model, x, True, monkeypatch)
    assert runs == 0
    np.testing.assert_array_equal(got, expected)
    model = MODELS["tanh"][0]().double()
    with ffnn.no_grad():
        one_row = model(ffnn.tensor(np.ones(6)))
        assert one_row.shape == (3,)
        monkeypatch.setattr(accel, "enabled", False)
        np.testing.assert_allclose(model(ffnn.ones(2, 6).double()).numpy()[0],
                                   one_row.numpy(), rtol=1e-12)
