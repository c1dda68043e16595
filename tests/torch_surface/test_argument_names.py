"""torch's argument names, against torch: every keyword its functions and tensor methods
declare (read from torch's own type stubs) is taken by ffnn's of the same name; NumPy's
spellings (``axis``, ``keepdims``, ``x``) as torch's parser takes them; reductions over a
list, a tuple or no dims; ``tensordot``; memory formats; NumPy ufuncs of tensors."""

from __future__ import annotations

import ast
import inspect
import pathlib

import numpy as np
import pytest
import torch

import ffnn

IGNORED = {"out", "names", "memory_format", "layout", "device", "pin_memory",
           "requires_grad", "generator", "dtype"}
"""Keywords not about the values (ffnn takes most of them elsewhere; named tensors: none)."""

NOT_TAKEN = {
    ("torch", "mm"): {"out_dtype"}, ("torch", "bmm"): {"out_dtype"},  # low-precision GPU
    ("torch", "from_numpy"): {"ndarray"}, ("torch", "set_num_threads"): {"num"},  # positional
    ("torch", "isin"): {"element", "test_element"},  # the scalar overloads' names
    ("torch", "result_type"): {"other", "scalar", "scalar1", "scalar2", "tensor"},
    ("torch", "triangular_solve"): {"input"}, ("Tensor", "expand"): {"implicit"},
    ("Tensor", "requires_grad_"): {"mode"},  # torch's stub; torch itself refuses mode=
}
"""Known gaps, each for a stated reason; the test fails on any other."""


def _stub_keywords(stub: str, cls: str | None = None) -> dict[str, set[str]]:
    """{name: keywords of any overload} of the public functions in one of torch's stubs."""
    tree = ast.parse((pathlib.Path(torch.__file__).parent / "_C" / stub).read_text())
    body = tree.body
    if cls is not None:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    found: dict[str, set[str]] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            args = node.args.args + node.args.kwonlyargs
            found.setdefault(node.name, set()).update(a.arg for a in args if a.arg != "self")
    return found


def _taken(fn) -> set[str] | None:
    """Keywords ``fn`` takes (None: any, through ``**kwargs``)."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return named | set(getattr(fn, "numpy_names", {}))


@pytest.mark.parametrize(("owner", "stub", "cls"), [
    ("torch", "_VariableFunctions.pyi", None), ("Tensor", "__init__.pyi", "TensorBase")])
def test_every_keyword_of_torchs_stubs_is_taken(owner, stub, cls):
    namespace = ffnn if owner == "torch" else ffnn.Tensor
    missing = {}
    for name, keywords in _stub_keywords(stub, cls).items():
        fn = getattr(namespace, name, None)
        if not callable(fn) or isinstance(fn, type):
            continue
        taken = _taken(fn)
        if taken is None:
            continue
        gap = keywords - IGNORED - taken - NOT_TAKEN.get((owner, name), set())
        if gap:
            missing[name] = sorted(gap)
    assert not missing


def _calls(lib):
    x = lib.arange(6.0).view(2, 3) - 2
    v = lib.tensor([1.0, 2.0, 3.0])
    return {
        "sum": x.sum(axis=1, keepdims=True), "mean": lib.mean(x, axis=0, keepdims=True),
        "amax": x.amax(axis=1, keepdims=True), "argmax": x.argmax(axis=1, keepdims=True),
        "softmax": lib.softmax(x, axis=1), "cumsum": x.cumsum(axis=1),
        "stack": lib.stack([x, x], axis=1), "exp": lib.exp(input=x), "relu": lib.relu(x=x),
        "matmul": lib.matmul(input=x, other=x.T), "maximum": lib.maximum(input=x, other=v),
        "max": lib.max(x, other=v), "min": x.min(other=v), "dot": lib.dot(v, tensor=v),
        "mm": x.mm(mat2=x.T), "swapaxes": lib.swapaxes(x, axis0=0, axis1=1),
        "linear": lib.nn.functional.linear(input=x, weight=x), "view": x.view(size=(3, 2)),
        "reshape": x.reshape(shape=(3, 2)), "expand": x[:1].expand(size=(2, 3)),
        "repeat": x.repeat(repeats=(1, 2)), "tile": x.tile(dims=(2,)),
        "permute": x.permute(dims=(1, 0)), "flip": lib.flip(x, dims=[0, 1]),
        "new_zeros": x.new_zeros(size=(2,)), "sum_to_size": x.sum_to_size(size=(1, 3)),
        "copy_": lib.zeros(2, 3).copy_(other=x), "true_divide": lib.true_divide(input=x, other=2),
        "diff": v.diff(prepend=lib.zeros(1), append=lib.ones(2)),
        "hsplit": x.hsplit(indices=[1])[1], "tensor_split": x.tensor_split(sections=2, dim=1)[0],
        "repeat_interleave": v.repeat_interleave(2, output_size=6),
        "squeeze": lib.ones(1, 2, 1).squeeze((0, 2)),
        "squeeze_list": lib.ones(1, 2, 1, 1).squeeze([0, -1]),
        "logsumexp": lib.logsumexp(x, dim=(0, 1)),
        "logsumexp_kept": x.logsumexp([-1], keepdim=True),
        "count_nonzero": lib.count_nonzero(x, dim=[0, 1]), "any": (x > 0).any(dim=(0, 1)),
        "all": (x > 0).all(dim=[1]), "nanmean": x.nanmean(dim=[1], keepdim=True),
        "tensordot": lib.tensordot(x, x, dims=([1], [1])),
        "clone": x.clone(memory_format=lib.contiguous_format),
    }


def test_keyword_spellings_as_torch():
    ours, theirs = _calls(ffnn), _calls(torch)
    for key, value in theirs.items():
        mine = ours[key]
        assert tuple(mine.shape) == tuple(value.shape), key
        assert str(mine.dtype).replace("torch.", "") == str(value.dtype).replace("torch.", ""), key
        np.testing.assert_allclose(np.asarray(mine.tolist(), float),
                                   np.asarray(value.tolist(), float), rtol=1e-6, err_msg=key)


def test_a_spelling_given_twice_raises():
    with pytest.raises(TypeError):
        ffnn.ones(2, 3).sum(1, keepdim=True, keepdims=True)
    with pytest.raises(TypeError):
        ffnn.ones(2, 3).view((3, 2), size=(3, 2))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "norm", "std", "var",
                                  "nansum", "nanmean", "count_nonzero", "std_mean",
                                  "var_mean", "any", "all"])
@pytest.mark.parametrize("dims", [[], ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_over_no_dims_as_torch(name, dims, keepdim):
    """torch reduces over every axis for dim=[] (any/all: over none)."""
    def run(lib):
        x = lib.arange(6.0, dtype=lib.float64).view(2, 3) - 1
        kwargs = {} if name == "count_nonzero" else {"keepdim": keepdim}
        out = getattr(lib, name)(x, dim=dims, **kwargs)
        return [(tuple(t.shape), np.asarray(t.tolist(), float))
                for t in (out if isinstance(out, tuple) else (out,))]

    ours, theirs = run(ffnn), run(torch)
    assert [shape for shape, _ in ours] == [shape for shape, _ in theirs]
    for (_, mine), (_, value) in zip(ours, theirs):
        np.testing.assert_allclose(mine, value, rtol=1e-12)


def test_logsumexp_over_several_dims_and_its_gradient_as_torch():
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor(values, requires_grad=True)
        y = lib.logsumexp(x, dim=(0, -1))
        (y * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        results.append((y.tolist(), x.grad.tolist()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_tensordot_and_its_gradients_as_torch():
    rng = np.random.default_rng(1)
    a_values, b_values = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 5))
    for dims in (0, 1, ([1, 2], [1, 0]), [[1], [1]]):
        results = []
        for lib in (ffnn, torch):
            a = lib.tensor(a_values, requires_grad=True)
            b = lib.tensor(b_values, requires_grad=True)
            y = lib.tensordot(a, b, dims=dims)
            (y * y).sum().backward()
            results.append([y.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
        for mine, theirs in zip(*results):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="contracted dimensions"):
        ffnn.tensordot(ffnn.ones(2, 3), ffnn.ones(4, 3), dims=1)


def test_flip_and_squeeze_refuse_what_torch_refuses():
    x = ffnn.ones(1, 2, 1)
    with pytest.raises(IndexError):
        x.flip(3)  # was read modulo the rank
    with pytest.raises(RuntimeError, match="multiple times"):
        x.flip(0, -3)
    with pytest.raises(RuntimeError, match="multiple times"):
        x.squeeze((0, 0))


@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")  # torch's own wrap
def test_numpy_ufuncs_of_a_tensor_give_tensors_as_torchs():
    values = [1.0, float("nan"), -2.0]
    for fn in (np.exp, np.isnan, lambda t: np.maximum(t, 0), lambda t: np.round(t, 1)):
        mine, theirs = fn(ffnn.tensor(values)), fn(torch.tensor(values))
        assert isinstance(mine, ffnn.Tensor)
        assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
