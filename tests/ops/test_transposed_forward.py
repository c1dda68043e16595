"""A Linear's forward of few rows onto many outputs computed as (W xᵀ)ᵀ
(``ffnn.ops.matrix.transposed_forward``), eager and in the compiled steps.

The route is taken only where NumPy's BLAS gains from it (float32 on OpenBLAS's AVX-512
cores); the tests turn it on through the BLAS row (``native.TRANSPOSED_FORWARD``), so that
they run on any CPU."""

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn
from ffnn.kernels import native
from ffnn.ops import matrix
from tests.helpers import assert_chain_matches_graph

pytestmark = pytest.mark.skipif(not accel.enabled, reason="the route is the compiled kernels'")


@pytest.fixture
def route_on(monkeypatch):
    """The BLAS row with ``TRANSPOSED_FORWARD`` set and no MKL, wherever the row is read."""
    original = native.blas_functions

    def forced(dtype, norms=False):
        row = original(dtype, norms).copy()
        row[native.TRANSPOSED_FORWARD] = row[native.GEMM] != 0
        row[native.MKL:] = 0  # OpenBLAS's route: MKL's products are not transposed
        row.flags.writeable = False  # as the real row: the same compiled signatures
        return row

    monkeypatch.setattr(native, "blas_functions", forced)
    if native.gemm_addresses() is None:
        pytest.skip("NumPy here does not link scipy-openblas64")


def test_the_rule_takes_few_rows_onto_many_outputs():
    assert matrix.transposed_forward(32, 784, 1024)
    assert matrix.transposed_forward(2, 784, 1024)
    assert not matrix.transposed_forward(64, 784, 1024)  # more rows: a draw or a loss
    assert not matrix.transposed_forward(32, 784, 256)  # outputs < 16x the rows
    assert not matrix.transposed_forward(32, 16, 1024)  # under 2^20 multiply-adds
    assert not matrix.transposed_forward(1, 784, 1024)  # one row: a matrix-vector product


def test_only_float32_on_avx512_cores_takes_it(monkeypatch):
    monkeypatch.setattr(native, "openblas_core", lambda: "skylakex")
    assert native.transposes_forward(np.float32)
    assert not native.transposes_forward(np.float64)
    monkeypatch.setattr(native, "openblas_core", lambda: "haswell")
    assert not native.transposes_forward(np.float32)


def test_eager_forward_is_the_transposed_call_then_the_bias(route_on, rng, monkeypatch):
    """The output is exactly W xᵀ (NumPy's call) transposed, plus b; the gradients those of
    x Wᵀ + b."""
    calls = []
    original = matrix.forward_transposed
    monkeypatch.setattr(matrix, "forward_transposed",
                        lambda x, w: calls.append(x.shape) or original(x, w))
    x_np = rng.standard_normal((32, 300)).astype(np.float32)
    layer = nn.Linear(300, 1024)
    x = ffnn.tensor(x_np, requires_grad=True)
    y = layer(x)
    assert calls == [(32, 300)]
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_array_equal(y.detach().numpy(), (w @ x_np.T).T + b)
    g = rng.standard_normal((32, 1024)).astype(np.float32)
    y.backward(ffnn.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g.astype(np.float64) @ w, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.weight.grad.numpy(), g.T.astype(np.float64) @ x_np,
                               rtol=1e-4, atol=1e-3)


def test_eager_forward_agrees_with_float64(route_on, rng):
    x_np = rng.standard_normal((8, 200)).astype(np.float32)
    layer = nn.Linear(200, 4096)
    y = layer(ffnn.tensor(x_np)).detach().numpy()
    w, b = (p.detach().numpy().astype(np.float64) for p in (layer.weight, layer.bias))
    np.testing.assert_allclose(y, x_np.astype(np.float64) @ w.T + b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["fused", "native"])
def test_compiled_step_agrees_with_eager(route_on, mode, rng, monkeypatch):
    """A first layer of 24 rows onto 512 outputs (the route), a second of 512 onto 10 (not):
    the fused step's, or the native chain's (``native``: the eager step of a Sequential),
    losses and parameters those of the per-layer graph."""
    batches = [(ffnn.tensor(rng.standard_normal((24, 100)).astype(np.float32)),
                ffnn.tensor(rng.integers(0, 10, 24))) for _ in range(3)]
    assert_chain_matches_graph(
        lambda: nn.Sequential(nn.Linear(100, 512), nn.ReLU(), nn.Linear(512, 10)),
        nn.CrossEntropyLoss(), batches, mode, monkeypatch)
