"""``tensor.shape`` / ``size()`` as torch.Size, and the ``out=`` keyword of the function
forms, against torch."""

import numpy as np
import pytest
import torch

import ffnn


def test_shape_and_size_print_and_behave_as_torch_size():
    for lib in (torch, ffnn):
        x = lib.zeros(2, 3, 4)
        assert isinstance(x.shape, lib.Size) and isinstance(x.size(), lib.Size)
    ours, theirs = ffnn.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    for f in (lambda x: x.shape, lambda x: x.size(), lambda x: x.shape[1:],
              lambda x: x.shape + (5,), lambda x: x.flatten(1).size()):
        assert repr(f(ours)) == repr(f(theirs))
        assert str(f(ours)) == str(f(theirs))
        assert f"{f(ours)}" == f"{f(theirs)}"
    assert ours.shape == (2, 3, 4) and ours.size(-1) == 4 and ours.shape.numel() == 24
    assert type(ours.shape[0]) is int
    assert ffnn.zeros(ours.shape).shape == ours.shape
    assert ours.view(ours.size(0), -1).shape == ffnn.Size([2, 12])


@pytest.mark.filterwarnings("ignore:An output with one or more elements was resized")
@pytest.mark.parametrize("call", [
    lambda lib, a, b, out: lib.matmul(a, b.T, out=out),
    lambda lib, a, b, out: lib.mul(a, b, out=out),
    lambda lib, a, b, out: lib.add(a, b, alpha=2, out=out),
    lambda lib, a, b, out: lib.sub(a, b, out=out),
    lambda lib, a, b, out: lib.div(a, b + 3, out=out),
    lambda lib, a, b, out: lib.exp(a, out=out),
    lambda lib, a, b, out: lib.sum(a, 1, out=out),
    lambda lib, a, b, out: lib.cat([a, b], out=out),
    lambda lib, a, b, out: lib.clamp(a, -0.5, 0.5, out=out),
])
def test_out_writes_into_the_given_tensor_and_returns_it(call, rng):
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    results = {}
    for lib in (torch, ffnn):
        out = lib.full((3, 3), 7.0, dtype=lib.float64)
        kept = out
        with torch.no_grad():
            returned = call(lib, lib.tensor(a), lib.tensor(b), out)
        assert returned is kept
        results[lib.__name__] = (tuple(out.shape), out.numpy().copy())
    assert results["ffnn"][0] == results["torch"][0]
    np.testing.assert_allclose(results["ffnn"][1], results["torch"][1], rtol=1e-12)


def test_out_shares_memory_when_the_shape_matches_and_refuses_autograd():
    out = ffnn.zeros(2, 2)
    alias = out.numpy()
    ffnn.mul(ffnn.ones(2, 2), 3.0, out=out)
    assert np.all(alias == 3.0)
    a = ffnn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        ffnn.mul(a, a, out=ffnn.empty(2))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        ffnn.add(ffnn.ones(2), 1, out=np.zeros(2))


@pytest.mark.parametrize("call", [
    lambda lib, a: lib.linalg.norm(a),
    lambda lib, a: lib.linalg.norm(a, "fro"),
    lambda lib, a: lib.linalg.norm(a, dim=1),
    lambda lib, a: lib.linalg.norm(a, 1, dim=0, keepdim=True),
    lambda lib, a: lib.linalg.vector_norm(a, 3),
    lambda lib, a: lib.linalg.vector_norm(a, float("inf"), dim=1),
    lambda lib, a: lib.linalg.vector_norm(a, -float("inf")),
])
def test_linalg_norms_values_and_gradients(call, rng):
    a = rng.standard_normal((3, 4))
    grads = {}
    for lib in (torch, ffnn):
        x = lib.tensor(a, requires_grad=True)
        value = call(lib, x)
        value.sum().backward()
        grads[lib.__name__] = (value.detach().numpy(), x.grad.numpy())
    np.testing.assert_allclose(grads["ffnn"][0], grads["torch"][0], rtol=1e-10)
    np.testing.assert_allclose(grads["ffnn"][1], grads["torch"][1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf"), -float("inf"), 0, "fro"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (0, True), ((0, 1), False)])
def test_tensor_norm_at_zero_vectors_and_ties_is_torch_s(p, dim, keepdim, rng):
    """Tensor.norm / torch.norm for every p, with a row and a column of zeros (the gradient of
    a zero vector's norm is torch's 0, not 0/0 = NaN), exact zeros elsewhere and ties of |x|."""
    a = rng.standard_normal((4, 5))
    a[1] = 0.0
    a[:, 2] = 0.0
    a[3, 0], a[3, 4] = 1.5, -1.5
    if dim == 0:
        a[:, 3] = 0.0
    results = []
    for lib in (torch, ffnn):
        x = lib.tensor(a, requires_grad=True)
        value = lib.norm(x, p, dim, keepdim) if dim is not None else x.norm(p)
        value.backward(lib.tensor(np.linspace(0.5, 1.5, value.numel()).reshape(value.shape)))
        grad = x.grad.numpy() if x.grad is not None else np.zeros_like(a)  # torch's p=0: None
        results.append((value.detach().numpy(), grad))
    (ours, our_grad), (theirs, their_grad) = results[1], results[0]
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert np.isfinite(our_grad).all()
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-10, atol=1e-12)


def test_norm_gradient_agrees_with_finite_differences(rng):
    a = rng.standard_normal((3, 4))
    for p in (2, 1.5, 3):
        x = ffnn.tensor(a, requires_grad=True)
        x.norm(p, dim=1).sum().backward()
        numeric = np.zeros_like(a)
        for index in np.ndindex(*a.shape):
            for sign in (1, -1):
                b = a.copy()
                b[index] += sign * 1e-6
                numeric[index] += sign * (np.abs(b) ** p).sum(1).__pow__(1 / p).sum() / 2e-6
        np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_linalg_zero_norm_counts_nonzero_entries():
    a = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    for dim in (None, 1):
        expected = torch.linalg.vector_norm(torch.tensor(a), 0, dim=dim).numpy()
        np.testing.assert_array_equal(ffnn.linalg.vector_norm(ffnn.tensor(a), 0, dim=dim).numpy(),
                                      expected)

