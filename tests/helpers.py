"""Shared test helpers: check an op against finite differences and torch; run a layer through
its paces (shape, state_dict round-trip, train/eval, one training step, torch equivalence).

An op is written once for both libraries as ``fn(lib, *tensors)``, where ``lib`` is ``torch``
or ``ffnn`` (``lib.nn.functional`` is ``F`` in both), so the same expression is replayed in
PyTorch and compared value by value and gradient by gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from hypothesis import strategies as st

import ffnn
from ffnn.gradcheck import gradcheck

RTOL = {np.dtype("float64"): 1e-10, np.dtype("float32"): 1e-5}


def assert_close(actual, expected, dtype=np.float64, rtol=None, what="value") -> None:
    """|actual - expected| ≤ rtol · (1 + max|expected|) elementwise (the max over the finite
    entries; infinities and NaNs must match where they are), and equal shapes."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else expected
    scale = 1.0 + (float(finite.max()) if finite.size else 0.0)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def to_torch(array, requires_grad: bool = False) -> torch.Tensor:
    t = torch.from_numpy(np.array(array))
    return t.requires_grad_(requires_grad)


def _inputs(arrays, dtype, lib):
    """Float arrays become grad-requiring leaves of ``dtype``; others stay constants."""
    out = []
    for a in arrays:
        a = np.asarray(a)
        floating = a.dtype.kind == "f"
        if floating:
            a = a.astype(dtype)
        if lib is torch:
            out.append(to_torch(a, floating))
        else:
            out.append(ffnn.tensor(a, requires_grad=floating))
    return out


def check_op(fn: Callable, *arrays: np.ndarray, dtypes=(np.float64, np.float32),
             grad: bool = True, finite_differences: bool = True, rtol32: float | None = None,
             grad_output_seed: int = 0) -> None:
    """Check ``fn(lib, *tensors)`` in ffnn against torch (forward and backward) for each dtype,
    and ffnn's backward against central finite differences in float64.

    Float arrays in ``arrays`` become inputs that require grad; integer arrays (labels,
    indices) are passed as constant tensors. The upstream gradient is a fixed random array.
    """
    for dtype in dtypes:
        dtype = np.dtype(dtype)
        rtol = rtol32 if (dtype == np.float32 and rtol32 is not None) else RTOL[dtype]
        ours_in, theirs_in = _inputs(arrays, dtype, ffnn), _inputs(arrays, dtype, torch)
        ours, theirs = fn(ffnn, *ours_in), fn(torch, *theirs_in)
        expected = theirs.detach().numpy()
        assert ours.dtype == expected.dtype, f"output dtype {ours.dtype} != {expected.dtype}"
        assert_close(ours.data, expected, dtype, rtol, f"forward ({dtype})")
        if not grad:
            continue
        w = np.random.default_rng(grad_output_seed).standard_normal(expected.shape)
        ours.backward(w.astype(dtype))
        theirs.backward(torch.from_numpy(w.astype(dtype)))
        for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
            if not b.requires_grad:
                continue
            assert a.grad is not None, f"input {i}: no gradient"
            assert a.grad.dtype == dtype, f"input {i}: grad dtype {a.grad.dtype}, expected {dtype}"
            assert_close(a.grad, b.grad.numpy(), dtype, rtol, f"grad of input {i} ({dtype})")
    if grad and finite_differences:
        inputs = _inputs(arrays, np.float64, ffnn)
        assert gradcheck(lambda *ts: fn(ffnn, *ts), inputs)


# ----- layers ----------------------------------------------------------------------------
def copy_to_torch(module: ffnn.nn.Module, torch_module: torch.nn.Module) -> None:
    """Load ffnn's state_dict (arrays) into an equivalent torch module."""
    state = {k: torch.from_numpy(np.array(v)) for k, v in module.state_dict().items()}
    torch_module.load_state_dict(state)


def check_layer(make_layer: Callable[[], ffnn.nn.Module], input_shape: Sequence[int],
                output_shape: Sequence[int],
                make_torch: Callable[[], torch.nn.Module] | None = None,
                seed: int = 0) -> None:
    """Run a layer (float64) through: output shape; state_dict round-trip into a fresh layer
    gives the same output; train()/eval() flags; gradients of every parameter with the
    parameter's shape and dtype; one SGD step lowers the loss; torch equivalence (forward and
    every parameter/input gradient, in train and eval mode) when ``make_torch`` is given."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape)
    layer = make_layer().double()
    # perturb parameters away from constant init so round-trips are meaningful
    for p in layer.parameters():
        p.data += 0.1 * rng.standard_normal(p.shape)
    layer.eval()
    out = layer(ffnn.tensor(x))
    assert out.shape == tuple(output_shape)
    assert out.dtype == np.float64

    fresh = make_layer().double()
    fresh.load_state_dict({k: np.array(v) for k, v in layer.state_dict().items()})
    fresh.eval()
    np.testing.assert_array_equal(fresh(ffnn.tensor(x)).data, out.data)

    assert all(not m.training for m in layer.modules())
    layer.train()
    assert all(m.training for m in layer.modules())

    if make_torch is not None:
        reference = make_torch().double()
        copy_to_torch(layer, reference)
        for mode in ("train", "eval"):
            getattr(layer, mode)()
            getattr(reference, mode)()
            xs = ffnn.tensor(x, requires_grad=True)
            xt = to_torch(x, True)
            layer.zero_grad()
            reference.zero_grad()
            ys, yt = layer(xs), reference(xt)
            assert_close(ys.data, yt.detach().numpy(), what=f"forward ({mode})")
            w = rng.standard_normal(ys.shape)
            ys.backward(w)
            yt.backward(torch.from_numpy(w))
            assert_close(xs.grad, xt.grad.numpy(), what=f"input grad ({mode})")
            theirs = dict(reference.named_parameters())
            for name, p in layer.named_parameters():
                assert_close(p.grad, theirs[name].grad.numpy(), what=f"grad of {name} ({mode})")
            for name, b in reference.named_buffers():
                assert_close(layer.state_dict()[name], b.numpy(), what=f"buffer {name} ({mode})")

    params = list(layer.parameters())
    if not params:
        return
    layer.train()
    w = rng.standard_normal(output_shape)

    def loss_value() -> ffnn.Tensor:
        return (layer(ffnn.tensor(x)) * ffnn.tensor(w)).sum()

    layer.zero_grad()
    loss = loss_value()
    loss.backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None, f"{name}: no gradient"
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype, name
    lr = 1e-4
    with ffnn.no_grad():
        for p in params:
            p.data -= lr * p.grad
    assert loss_value().item() < loss.item(), "one SGD step did not lower the loss"


# ----- hypothesis strategies --------------------------------------------------------------
def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 5):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


seeds = st.integers(0, 2**16)


def randn(seed: int, *shape, low: float | None = None) -> np.ndarray:
    """Standard normal float64 array (bounded away from ``low`` in absolute value if given)."""
    a = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        a = np.where(np.abs(a) < low, np.sign(a + 1e-300) * low + a, a)
    return a


def assert_chain_matches_graph(make_model: Callable[[], ffnn.nn.Module], loss_fn,
                               batches: Sequence[tuple], mode: str, monkeypatch,
                               atol: float = 1e-5) -> None:
    """Two copies of ``make_model()`` (same seed) trained by SGD with momentum on ``batches``
    of (x, y) tensors: one through the per-layer graph (the native chain off), the other
    through the native chain (``mode="native"``: the eager step of a Sequential) or the
    fused step (``"fused"``); their losses at each step and their parameters at the end
    agree to rounding."""
    from ffnn.compiler import native_chain

    chain_bytes = native_chain.MAX_BYTES
    models = []
    for _ in range(2):
        ffnn.manual_seed(0)
        models.append(make_model())
    graph, chained = models
    opt_g, opt_c = (ffnn.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in models)
    step = ffnn.compile(chained, loss_fn, opt_c, mode="fused") if mode == "fused" else None
    for x, y in batches:
        monkeypatch.setattr(native_chain, "MAX_BYTES", 0)  # the per-layer graph
        opt_g.zero_grad()
        expected = loss_fn(graph(x), y)
        expected.backward()
        opt_g.step()
        monkeypatch.setattr(native_chain, "MAX_BYTES", chain_bytes)
        if step is not None:
            got = step(x, y)
        else:
            opt_c.zero_grad()
            got = loss_fn(chained(x), y)
            got.backward()
            opt_c.step()
        np.testing.assert_allclose(_number(got), _number(expected), rtol=1e-5)
    for (name, a), (_, b) in zip(graph.named_parameters(), chained.named_parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-4,
                                   atol=atol, err_msg=name)


def without_mkl(monkeypatch) -> None:
    """BLAS rows without Intel MKL's entries (``ffnn.kernels.mkl_products``), wherever
    ``native.blas_functions`` is read: products by OpenBLAS's routes, as on a CPU that is
    not Intel's."""
    from ffnn.kernels import native

    original = native.blas_functions

    def openblas_only(dtype, norms=False):
        row = original(dtype, norms).copy()
        row[native.MKL:] = 0
        row.flags.writeable = False  # as the real row: the same compiled signatures
        return row

    monkeypatch.setattr(native, "blas_functions", openblas_only)


def whole_splits(monkeypatch):
    """A context manager in which every call ``ffnn.kernels.blas_split`` would split runs
    whole (its ``splitter()`` None); the splitter is back after it."""
    import contextlib

    from ffnn.kernels import blas_split

    found = blas_split.splitter()

    @contextlib.contextmanager
    def running_whole():
        monkeypatch.setattr(blas_split, "splitter", lambda: None)
        try:
            yield
        finally:
            monkeypatch.setattr(blas_split, "splitter", lambda: found)

    return running_whole


def loss_and_gradient(lib, name: str, x: np.ndarray, y: np.ndarray) -> tuple:
    """(``lib.nn.functional.<name>(x, y)`` as a float, dL/dx) in ``lib``, ffnn or torch."""
    mine = lib.from_numpy(x).requires_grad_()
    loss = getattr(lib.nn.functional, name)(mine, lib.from_numpy(y))
    loss.backward()
    return float(loss.detach()), mine.grad.numpy()


def _number(value) -> float:
    """A loss as a float: a tensor's item (float() of one that requires grad warns, as
    torch's), a compiled step's float as is."""
    return value.item() if isinstance(value, ffnn.Tensor) else float(value)
