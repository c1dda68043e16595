"""ffnn.utils.checkpoint: gradients through recomputed segments equal ffnn's un-checkpointed
graph and torch's ``torch.utils.checkpoint`` (float64), for both variants; the first run
records no graph, the recomputation replays the generator, and the errors are torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as torch_checkpoint

import ffnn
from ffnn.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential
from tests.helpers import assert_close

RTOL = 1e-12
rng = np.random.default_rng(0)
ARRAYS = [rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5),
          rng.standard_normal((5, 2))]
REENTRANT = pytest.mark.parametrize("use_reentrant", [True, False])
BOTH = pytest.mark.parametrize("lib", [ffnn, torch], ids=["ffnn", "torch"])


def utils_of(lib):
    return torch_checkpoint if lib is torch else ffnn.utils.checkpoint


def block(x, w1, b1, w2, scale):
    """Two layers and a non-tensor argument; two outputs."""
    h = (x @ w1 + b1).tanh()
    return (h @ w2) * scale, (h * h).sum()


def loss_of(outputs):
    y, s = outputs
    return (y * y).sum() + s


def gradients(lib, run, requires=(True, True, True, True)) -> list:
    """The leaves' gradients after ``loss_of(run(lib, *leaves)).backward()``."""
    leaves = [lib.tensor(a, requires_grad=r) for a, r in zip(ARRAYS, requires)]
    loss_of(run(lib, *leaves)).backward()
    return [None if t.grad is None else t.grad.numpy() for t in leaves]


def plain(lib, *leaves):
    return block(*leaves, 0.5)


def checkpointed(use_reentrant: bool):
    def run(lib, *leaves):
        return utils_of(lib).checkpoint(block, *leaves, 0.5, use_reentrant=use_reentrant)

    return run


def assert_all_close(actual: list, expected: list) -> None:
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert (a is None) == (e is None), f"gradient {i}: {a} vs {e}"
        if e is not None:
            assert_close(a, e, rtol=RTOL, what=f"gradient {i}")


@REENTRANT
def test_gradients_equal_the_plain_graph_and_torch(use_reentrant):
    expected = gradients(ffnn, plain)
    assert_all_close(gradients(ffnn, checkpointed(use_reentrant)), expected)
    assert_all_close(gradients(torch, checkpointed(use_reentrant)), expected)


@REENTRANT
def test_first_run_records_no_graph_and_the_backward_recomputes(use_reentrant):
    seen = []

    def layer(x, w):
        h = (x @ w).tanh()
        seen.append(h.requires_grad)
        return h.exp()

    x, w = (ffnn.tensor(a, requires_grad=True) for a in ARRAYS[:2])
    out = checkpoint(layer, x, w, use_reentrant=use_reentrant)
    assert seen == [False]  # no graph inside the first run
    assert all(ctx is None for ctx in out.grad_fn.input_ctxs)  # one node, on the leaves
    out.sum().backward()
    assert seen == [False, True]
    x2, w2 = (ffnn.tensor(a, requires_grad=True) for a in ARRAYS[:2])
    (x2 @ w2).tanh().exp().sum().backward()
    assert_close(x.grad, x2.grad.numpy(), rtol=RTOL)
    assert_close(w.grad, w2.grad.numpy(), rtol=RTOL)


def test_input_without_grad_parameters_with_grad_non_reentrant():
    requires = (False, True, True, True)
    expected = gradients(ffnn, plain, requires)
    assert expected[0] is None
    assert_all_close(gradients(ffnn, checkpointed(False), requires), expected)
    assert_all_close(gradients(torch, checkpointed(False), requires), expected)


@BOTH
def test_input_without_grad_reentrant_gives_no_gradient_as_torch(lib):
    x, w = lib.tensor(ARRAYS[0]), lib.tensor(ARRAYS[1], requires_grad=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = utils_of(lib).checkpoint(lambda x: (x @ w).tanh(), x, use_reentrant=True)
    assert not out.requires_grad


def sequential_pair(p: float):
    """The same network in ffnn and torch (torch's weights copied from ffnn's)."""
    ffnn.manual_seed(1)
    ours = ffnn.nn.Sequential(ffnn.nn.Linear(6, 8), ffnn.nn.Tanh(), ffnn.nn.Dropout(p),
                              ffnn.nn.Linear(8, 8), ffnn.nn.ReLU(), ffnn.nn.Dropout(p),
                              ffnn.nn.Linear(8, 3)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Dropout(p),
                                 torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Dropout(p),
                                 torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for a, b in zip(ours.parameters(), theirs.parameters()):
            b.copy_(torch.from_numpy(a.detach().numpy()))
    return ours, theirs


def run_sequential(lib, model, segments, use_reentrant, preserve=True,
                   parameters=None) -> list:
    """Output, input and parameter gradients, and the generator's next draw afterwards."""
    x = lib.tensor(np.random.default_rng(2).standard_normal((5, 6)), requires_grad=True)
    lib.manual_seed(7)
    if segments is None:
        out = model(x)
    else:
        out = utils_of(lib).checkpoint_sequential(model, segments, x, use_reentrant=use_reentrant,
                                          preserve_rng_state=preserve)
    (out * out).sum().backward()
    after = lib.rand(3).numpy()
    parameters = model.parameters() if parameters is None else parameters
    return [out.detach().numpy(), x.grad.numpy(), *[p.grad.numpy() for p in parameters], after]


@REENTRANT
@pytest.mark.parametrize("segments", [2, 3])
def test_checkpoint_sequential_matches_plain_and_torch(segments, use_reentrant):
    ours, theirs = sequential_pair(0.0)
    expected = run_sequential(ffnn, ours, None, None)[:-1]
    ours.zero_grad(set_to_none=True)
    assert_all_close(run_sequential(ffnn, ours, segments, use_reentrant)[:-1], expected)
    assert_all_close(run_sequential(torch, theirs, segments, use_reentrant)[:-1], expected)


@REENTRANT
@pytest.mark.parametrize("segments", [2, 3])
def test_dropout_draws_the_same_mask_in_the_recomputation(segments, use_reentrant):
    ours, _ = sequential_pair(0.4)
    expected = run_sequential(ffnn, ours, None, None)
    ours.zero_grad(set_to_none=True)
    # the same output, gradients, and the generator where the plain run leaves it
    assert_all_close(run_sequential(ffnn, ours, segments, use_reentrant), expected)
    ours.zero_grad(set_to_none=True)
    unpreserved = run_sequential(ffnn, ours, segments, use_reentrant, preserve=False)
    assert not np.allclose(unpreserved[1], expected[1])  # other masks in the recomputation


@REENTRANT
def test_a_whole_sequential_with_dropout_checkpointed_as_one_segment(use_reentrant):
    """``checkpoint(model, x)``: the first run may take the model's no-grad path, the
    recomputation its training path; both draw the same masks."""
    ours, _ = sequential_pair(0.4)
    expected = run_sequential(ffnn, ours, None, None)
    ours.zero_grad(set_to_none=True)
    got = run_sequential(ffnn, lambda x: checkpoint(ours, x, use_reentrant=use_reentrant),
                         None, None, parameters=ours.parameters())
    assert_all_close(got, expected)


@BOTH
def test_use_reentrant_not_passed_warns_and_is_reentrant_as_torch(lib):
    x, w = lib.tensor(ARRAYS[0]), lib.tensor(ARRAYS[1], requires_grad=True)
    with pytest.warns(UserWarning) as record:
        out = utils_of(lib).checkpoint(lambda x: (x @ w).tanh(), x)
    messages = [str(r.message) for r in record]
    assert any("use_reentrant parameter should be passed" in m for m in messages)
    assert any("None of the inputs have requires_grad" in m for m in messages)
    assert not out.requires_grad  # reentrant: no input needs a gradient
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        utils_of(lib).checkpoint_sequential([lambda t: t * 2, lambda t: t + 1], 2,
                                            x.requires_grad_())


@BOTH
def test_reentrant_refuses_keyword_arguments_and_context_fn_as_torch(lib):
    x, utils = lib.tensor(ARRAYS[0], requires_grad=True), utils_of(lib)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        utils.checkpoint(lambda x, scale: x * scale, x, use_reentrant=True, scale=2.0)
    with pytest.raises(ValueError, match="context_fn"):
        utils.checkpoint(lambda x: x * 2, x, use_reentrant=True, context_fn=lambda: (None, None))
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        utils.checkpoint(lambda x: x * 2, x, use_reentrant=False, determinism_check="all")


def keyword_and_closure_gradients(lib) -> list:
    x, w, a = (lib.tensor(v, requires_grad=True) for v in ARRAYS[:3])
    closed = a * 2.0  # not a leaf: its gradient must reach a

    def fn(x, *, weight, shift=1.0):
        return ((x @ weight) * closed + shift).sin()

    out = utils_of(lib).checkpoint(fn, x, use_reentrant=False, weight=w, shift=0.3)
    (out * out).sum().backward()
    return [t.grad.numpy() for t in (x, w, a)]


def test_keyword_tensor_and_a_closed_over_intermediate_non_reentrant():
    """A tensor passed by keyword and one the function closes over (made by the graph
    outside) get their gradients, as torch's non-reentrant checkpoint gives them."""
    assert_all_close(keyword_and_closure_gradients(ffnn), keyword_and_closure_gradients(torch))


def test_autograd_grad_and_hooks_through_a_non_reentrant_checkpoint():
    calls = []
    ours = [ffnn.tensor(a, requires_grad=True) for a in ARRAYS]
    ours[1].register_hook(lambda g: calls.append(1) or g * 3.0)
    loss = loss_of(checkpoint(block, *ours, 0.5, use_reentrant=False))
    got = ffnn.autograd.grad(loss, [ours[0], ours[1]])
    theirs = [torch.tensor(a, requires_grad=True) for a in ARRAYS]
    theirs[1].register_hook(lambda g: g * 3.0)
    want = torch.autograd.grad(loss_of(block(*theirs, 0.5)), [theirs[0], theirs[1]])
    assert calls == [1]  # the hook ran once, in the outer backward
    assert ours[1].grad is None  # autograd.grad fills no .grad
    assert_all_close([g.numpy() for g in got], [g.numpy() for g in want])


@BOTH
@REENTRANT
def test_changing_an_input_in_place_before_the_backward_raises_as_torch(lib, use_reentrant):
    a = lib.tensor(ARRAYS[2], requires_grad=True)
    x = a * 1.0
    out = utils_of(lib).checkpoint(lambda x: x.exp(), x, use_reentrant=use_reentrant)
    x.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@BOTH
def test_a_recomputation_of_other_shapes_raises_checkpoint_error_as_torch(lib):
    runs = []
    w = lib.tensor(ARRAYS[1], requires_grad=True)

    def fn(x):  # a row more at each run
        runs.append(1)
        return (x[:len(runs) + 1] @ w).tanh()

    out = utils_of(lib).checkpoint(fn, lib.tensor(ARRAYS[0]), use_reentrant=False)
    error = CheckpointError if lib is ffnn else torch_checkpoint.CheckpointError
    with pytest.raises(error, match="Recomputed values .* different metadata"):
        out.sum().backward()


def test_context_fn_wraps_the_first_run_and_the_recomputation():
    events = []

    class Noted:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            events.append(self.name)

        def __exit__(self, *exc):
            events.append("/" + self.name)

    x = ffnn.tensor(ARRAYS[0], requires_grad=True)
    out = checkpoint(lambda x: events.append("run") or x.tanh(), x, use_reentrant=False,
                     context_fn=lambda: (Noted("forward"), Noted("recompute")))
    out.sum().backward()
    assert events == ["forward", "run", "/forward", "recompute", "run", "/recompute"]
    assert_close(x.grad, 1 - np.tanh(ARRAYS[0]) ** 2, rtol=RTOL)


@REENTRANT
def test_tuple_output_with_an_integer_tensor_and_an_input_returned_as_is(use_reentrant):
    x = ffnn.tensor(ARRAYS[2], requires_grad=True)
    count, same, y = checkpoint(lambda x: ((x > 0).long(), x, x.exp()), x,
                                use_reentrant=use_reentrant)
    assert not count.requires_grad and same is not x and same.requires_grad
    (same * 2.0 + y).sum().backward()
    assert_close(x.grad, 2.0 + np.exp(ARRAYS[2]), rtol=RTOL)
    assert x.grad_fn is None  # the argument itself got no graph node


def test_under_no_grad_the_function_runs_once_without_a_graph():
    runs = []
    x = ffnn.tensor(ARRAYS[0], requires_grad=True)
    with ffnn.no_grad():
        out = checkpoint(lambda x: runs.append(1) or x.tanh(), x, use_reentrant=False)
    assert runs == [1] and not out.requires_grad
    assert_close(out, np.tanh(ARRAYS[0]), rtol=RTOL)


def test_checkpoint_sequential_accepts_a_list_and_refuses_unknown_keywords():
    functions = [lambda t: t * 2.0, lambda t: t.sin(), lambda t: t + 1.0, lambda t: t.exp()]
    x = ffnn.tensor(ARRAYS[2], requires_grad=True)
    checkpoint_sequential(functions, 2, x, use_reentrant=False).sum().backward()
    assert_close(x.grad, 2 * np.cos(2 * ARRAYS[2]) * np.exp(np.sin(2 * ARRAYS[2]) + 1),
                 rtol=RTOL)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: depth"):
        checkpoint_sequential(functions, 2, x, use_reentrant=False, depth=3)
