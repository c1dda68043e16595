"""``ffnn.func`` against ``torch.func`` (float64): functional_call (tied weights, buffers,
gradients to the given tensors, the module left as it was), grad / grad_and_value (argnums,
dict arguments, has_aux, nested for second derivatives), per-sample gradients with
vmap(grad(...)), vjp, jvp, jacrev, jacfwd, hessian; and ``testing.assert_close``."""

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))


def _model(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Tanh(),
                            lib.nn.Linear(4, 2)).double()
    with lib.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(lib.tensor(np.cos(np.arange(p.numel()) + i).reshape(tuple(p.shape))))
    return net


def _params(lib, net, shift: float = 0.1) -> dict:
    return {k: (v.detach() + shift).requires_grad_() for k, v in net.named_parameters()}


def _numpy(tree):
    if isinstance(tree, dict):
        return {k: _numpy(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return [_numpy(v) for v in tree]
    return tree.detach().numpy()


def _same(ours, theirs) -> None:
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            _same(ours[key], theirs[key])
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert_close(ours, theirs)


def _functional_call(lib):
    net = _model(lib)
    before = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    params = _params(lib, net)
    buffers = {"1.running_mean": lib.zeros(4, dtype=lib.float64) + 0.5}
    out = lib.func.functional_call(net, (params, buffers), (lib.tensor(X),))
    (out ** 2).sum().backward()
    after = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    assert all(np.array_equal(before[k], after[k])
               for k in before if k.endswith(("weight", "bias")))
    assert all(p.grad is None for p in net.parameters())
    return [out, *(p.grad for p in params.values()), buffers["1.running_mean"]]


def test_functional_call_matches_torch_and_leaves_the_module_as_it_was():
    _same(_numpy(_functional_call(ffnn)), _numpy(_functional_call(torch)))


def test_functional_call_ties_shared_weights_and_checks_strict_keys():
    for lib in (ffnn, torch):
        first = lib.nn.Linear(2, 2, bias=False).double()
        net = lib.nn.Sequential(first, lib.nn.Tanh(), first)
        out = lib.func.functional_call(net, {"0.weight": lib.eye(2, dtype=lib.float64)},
                                       lib.ones(1, 2, dtype=lib.float64))
        assert_close(out.detach().numpy(), np.tanh(np.ones((1, 2))))  # both uses replaced
        with pytest.raises(RuntimeError, match="Missing key\\(s\\): .0.weight., .2.weight."):
            lib.func.functional_call(net, {}, lib.ones(1, 2, dtype=lib.float64), strict=True)


def _loss(lib):
    net = _model(lib)
    net.eval()

    def loss(params, x, y):
        return ((lib.func.functional_call(net, params, (x,)) - y) ** 2).mean()
    return net, loss


def _gradients(lib):
    net, loss = _loss(lib)
    params = {k: v.detach() for k, v in net.named_parameters()}
    x, y = lib.tensor(X), lib.tensor(Y)
    grads = lib.func.grad(loss)(params, x, y)
    both = lib.func.grad_and_value(loss, argnums=(0, 1))(params, x, y)
    with_aux = lib.func.grad(lambda p, x, y: (loss(p, x, y), x.sum()), has_aux=True)(
        params, x, y)
    per_sample = lib.func.vmap(lib.func.grad(
        lambda p, xi, yi: loss(p, xi.unsqueeze(0), yi.unsqueeze(0))), in_dims=(None, 0, 0))(
        params, x, y)
    return [grads, list(both[0]), both[1], list(with_aux), per_sample]


def test_grad_and_per_sample_gradients_match_torch():
    ours, theirs = _gradients(ffnn), _gradients(torch)
    _same(_numpy(ours), _numpy(theirs))
    assert ours[4]["0.weight"].shape == (6, 4, 3)  # one gradient per example


def _derivatives(lib):
    x = lib.tensor(np.linspace(-1, 2, 5))

    def f(t):
        return (t.sin() * t.exp()).sum()

    def g(t, s):
        return (t * s).tanh()

    second = lib.func.grad(lib.func.grad(lambda t: t.sin() * t ** 3))(
        lib.tensor(0.7, dtype=lib.float64))
    output, vjp_fn = lib.func.vjp(g, x, x * 2)
    jvp_out = lib.func.jvp(g, (x, x * 2), (x.cos(), x.sin()))
    return [second, output, *vjp_fn(x.cos()), *jvp_out, lib.func.jacrev(g)(x, x * 2),
            lib.func.jacfwd(g, argnums=1)(x, x * 2), lib.func.hessian(f)(x),
            lib.func.vmap(g, in_dims=(0, None), out_dims=1)(x.reshape(5, 1) * x, x)]


def test_vjp_jvp_jacobians_hessian_nested_grad_and_vmap_match_torch():
    _same(_numpy(_derivatives(ffnn)), _numpy(_derivatives(torch)))


def _jacobians_of_trees(lib):
    """jacrev over a dict of parameters (the neural tangent kernel recipe), over several
    argnums, and of a tuple of outputs: the output's structure around the input's."""
    net = _model(lib).eval()
    params = {k: v.detach() for k, v in net.named_parameters()}
    x = lib.tensor(X[:2])

    def outputs(p, inputs):
        out = lib.func.functional_call(net, p, (inputs,))
        return out, out.sum(1)

    by_params = lib.func.jacrev(lambda p, inputs: outputs(p, inputs)[0])(params, x)
    both = lib.func.jacrev(outputs, argnums=(0, 1))(params, x)
    per_example = lib.func.vmap(lib.func.jacrev(lambda p, row: outputs(p, row[None])[1]),
                                in_dims=(None, 0))(params, x)
    listed = lib.func.jacrev(lambda ws: (ws[0] * ws[1]).sin())([x[0], x[1]])
    return [by_params, [[both[0][0], both[0][1]], [both[1][0], both[1][1]]], per_example,
            list(listed)]


def test_jacrev_of_dicts_lists_and_tuples_matches_torch():
    _same(_numpy(_jacobians_of_trees(ffnn)), _numpy(_jacobians_of_trees(torch)))


def _second_derivatives_of_trees(lib):
    """hessian over a dict of parameters and over two argnums, and mixed second derivatives
    by nesting transforms over different arguments (the inner one's graph must be kept for
    an argument it does not differentiate by)."""
    net = _model(lib).eval()
    params = {k: v.detach() for k, v in net.named_parameters()}
    x = lib.tensor(X[:2])

    def loss(p, inputs):
        return (lib.func.functional_call(net, p, (inputs,)) ** 2).sum()

    by_params = lib.func.hessian(loss)(params, x)
    a, b = lib.tensor([1.0, 2.0], dtype=lib.float64), lib.tensor([0.5, -0.5], dtype=lib.float64)

    def k(u, v):
        return (u * v.exp()).sum() * (u ** 2).sum()

    both = lib.func.hessian(k, argnums=(0, 1))(a, b)
    mixed = lib.func.jacrev(lib.func.jacrev(k, argnums=1), argnums=0)(a, b)
    mixed_grad = lib.func.grad(lambda u, v: lib.func.grad(k, argnums=1)(u, v).sum())(a, b)
    return [[by_params[m][n] for m in params for n in params],
            [[both[0][0], both[0][1]], [both[1][0], both[1][1]]], mixed, mixed_grad]


def test_hessian_of_dicts_and_argnums_and_mixed_derivatives_match_torch():
    """hessian(f)(params) raised 'must be a Tensor or a tuple of Tensors'; a jacrev nested
    over another argument gave zeros (the inner jacobian was detached)."""
    _same(_numpy(_second_derivatives_of_trees(ffnn)),
          _numpy(_second_derivatives_of_trees(torch)))


def test_func_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar"):
        ffnn.func.grad(lambda t: t * 2)(ffnn.ones(3))
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        ffnn.func.vmap(lambda a, b: a + b)(ffnn.ones(3), ffnn.ones(4))
    with pytest.raises(ValueError, match="at least one input must be mapped"):
        ffnn.func.vmap(lambda a: a, in_dims=None)(ffnn.ones(3))
    assert ffnn.vmap is ffnn.func.vmap


def test_assert_close_passes_within_tolerance_and_fails_with_torchs_messages():
    ffnn.testing.assert_close(ffnn.tensor([1.0, 2.0]), ffnn.tensor([1.0, 2.0 + 1e-6]))
    ffnn.testing.assert_close({"a": [ffnn.tensor(1.0), 2]}, {"a": [ffnn.tensor(1.0), 2]})
    cases = [(lambda lib: (lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1.0, 2.0, 3.001]))),
             (lambda lib: (lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64))),
             (lambda lib: (lib.ones(2), lib.ones(3))),
             (lambda lib: (lib.tensor([[1, 2], [3, 4]]), lib.tensor([[1, 2], [3, 5]])))]
    for case in cases:
        messages = []
        for lib in (ffnn, torch):
            with pytest.raises(AssertionError) as caught:
                lib.testing.assert_close(*case(lib))
            messages.append(str(caught.value).splitlines()[:3])
        assert messages[0] == messages[1]
    with pytest.raises(AssertionError, match="custom"):
        ffnn.testing.assert_close(ffnn.ones(2), ffnn.zeros(2), msg="custom")
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        ffnn.testing.assert_close(ffnn.ones(2), ffnn.ones(2), rtol=0.1)
