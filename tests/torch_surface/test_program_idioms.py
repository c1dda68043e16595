"""Idioms met in PyTorch programs, against torch: the random seeds (``seed()``,
``initial_seed()``, ``random.fork_rng``), ``autograd.grad``'s ``only_inputs`` and
``is_grads_batched``, a module's hook registries read before any hook, ``Module.type``,
softmax's ``dtype=`` in every form, ``nn.utils.rnn.pad_sequence`` in a ``collate_fn``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn


def _seeds(lib):
    lib.manual_seed(5)
    first = lib.initial_seed()
    fresh = lib.seed()
    generator = lib.Generator()
    generator.manual_seed(3)
    own = generator.initial_seed()
    drawn = generator.seed()
    lib.manual_seed(1)
    with lib.random.fork_rng():
        lib.rand(5)
    after_fork = lib.rand(2)
    lib.manual_seed(1)
    plain = lib.rand(2)
    return (first, type(fresh), fresh == lib.initial_seed(), own, drawn == generator.initial_seed(),
            after_fork.tolist() == plain.tolist())


def test_seeds_and_fork_rng_as_torch():
    assert _seeds(ffnn) == _seeds(torch)


def _gradients(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x ** 2
    plain = lib.autograd.grad((x * 2).sum(), x, only_inputs=True)[0]
    rows = lib.autograd.grad(y, x, lib.eye(3), is_grads_batched=True)[0]  # the Jacobian
    z = lib.tensor([0.5, -1.0], requires_grad=True)
    pair = (x[:2] * z).sum()
    batched = lib.autograd.grad(pair, (x, z), lib.tensor([1.0, 2.0]), is_grads_batched=True,
                                retain_graph=True)
    return [plain.tolist(), rows.tolist(), [g.tolist() for g in batched]]


def test_autograd_grad_flags_as_torch():
    assert _gradients(ffnn) == _gradients(torch)
    x = ffnn.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="only_inputs argument is deprecated"):
        ffnn.autograd.grad((x * 2).sum(), x, only_inputs=False)


def _hook_registries(lib):
    layer = lib.nn.Linear(3, 2)
    sizes = [len(layer._forward_hooks), len(layer._forward_pre_hooks),
             len(layer._backward_hooks)]
    handle = layer.register_forward_hook(lambda *args: None)
    sizes.append(len(layer._forward_hooks))
    handle.remove()
    layer._forward_hooks.clear()  # "remove every hook", as programs write it
    sizes.append(len(layer._forward_hooks))
    return sizes, str(layer.type(lib.float64).weight.dtype)[-7:]


def test_hook_registries_and_type_as_torch():
    assert _hook_registries(ffnn) == _hook_registries(torch)


SOFTMAX_FORMS = {
    "function": lambda lib, x: lib.softmax(x, dim=1, dtype=lib.float64),
    "method": lambda lib, x: x.softmax(1, dtype=lib.float64),
    "log function": lambda lib, x: lib.log_softmax(x, 1, dtype=lib.float64),
    "log method": lambda lib, x: x.log_softmax(dim=1, dtype=lib.float64),
}


@pytest.mark.parametrize("form", sorted(SOFTMAX_FORMS))
def test_softmax_dtype_in_every_form(form):
    values = np.array([[1.0, 2.0, 0.5]], np.float32)
    results = []
    for lib in (ffnn, torch):
        out = SOFTMAX_FORMS[form](lib, lib.tensor(values))
        results.append((str(out.dtype)[-7:], out.numpy()))
    assert results[0][0] == results[1][0] == "float64"
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-14)


@pytest.mark.parametrize("options", [{}, {"batch_first": True, "padding_value": -1.0},
                                     {"padding_side": "left"}])
def test_pad_sequence_in_a_collate_fn_as_torch(options):
    """Sequences of 3, 1 and 2 steps of 2 features: padded, stacked, differentiable, and
    cut back by ``unpad_sequence``."""
    values = [np.arange(6.0).reshape(3, 2), np.array([[7.0, 8.0]]), np.ones((2, 2))]
    results = []
    for lib in (ffnn, torch):
        rnn = lib.nn.utils.rnn
        seqs = [lib.tensor(v, requires_grad=True) for v in values]
        padded = rnn.pad_sequence(seqs, **options)
        weights = lib.arange(float(padded.numel())).reshape(tuple(padded.shape))
        (padded * weights).sum().backward()
        back = rnn.unpad_sequence(rnn.pad_sequence(seqs, batch_first=True), lib.tensor([3, 1, 2]),
                                  batch_first=True)
        results.append((padded.tolist(), [s.grad.tolist() for s in seqs],
                        [b.tolist() for b in back]))
    assert results[0] == results[1]


def test_pad_sequence_refuses_sequences_of_other_trailing_shapes():
    with pytest.raises(RuntimeError, match="trailing shape"):
        ffnn.nn.utils.rnn.pad_sequence([ffnn.ones(2, 3), ffnn.ones(2, 4)])


QUIET = {
    "f1 guarded by where": lambda lib: lib.where(
        lib.tensor([0.0, 0.5]) + lib.tensor([0.0, 1.0]) > 0,
        2 * lib.tensor([0.0, 0.5]) * lib.tensor([0.0, 1.0]) / (lib.tensor([0.0, 0.5])
                                                               + lib.tensor([0.0, 1.0])),
        lib.zeros(2)),
    "log of 0 and -1": lambda lib: lib.log(lib.tensor([0.0, -1.0])),
    "log2 and log10 of 0": lambda lib: lib.cat([lib.tensor([0.0]).log2(),
                                                lib.tensor([0.0]).log10()]),
    "sqrt of -1": lambda lib: lib.tensor([-1.0, 4.0]).sqrt(),
    "division by 0": lambda lib: lib.tensor([1.0, -1.0, 0.0]) / 0,
    "power overflow": lambda lib: lib.tensor([1e30], dtype=lib.float32) ** 2,
    "fractional power of a negative": lambda lib: lib.tensor([-8.0]) ** 0.3,
    "log1p of -1": lambda lib: lib.tensor([-1.0, -2.0]).log1p(),
}


@pytest.mark.parametrize("name", sorted(QUIET))
def test_infinities_and_nans_come_without_numpy_warnings_as_torch(name):
    """torch gives inf and nan silently; so do ffnn's ops that make them from finite values
    (forward and backward), with torch's values."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = QUIET[name](ffnn)
        for make in (lambda x: x.log(), lambda x: x.sqrt(), lambda x: 1 / x,
                     lambda x: x ** 0.5, lambda x: x.log1p()):
            leaf = ffnn.tensor([0.0, 1.0, -1.0], requires_grad=True)
            make(leaf).sum().backward()
    np.testing.assert_array_equal(ours.numpy(), QUIET[name](torch).numpy())


def _activations_in_place(lib):
    nn = lib.nn
    modules = [nn.SiLU(inplace=True), nn.ELU(0.5, inplace=True), nn.SELU(inplace=True),
               nn.LeakyReLU(0.1, inplace=True), nn.Mish(inplace=True), nn.CELU(0.5, True),
               nn.Threshold(0.1, 2.0, True), nn.Hardswish(inplace=True),
               nn.Hardsigmoid(True), nn.SELU(), nn.Mish()]
    written = []
    for module in modules:
        x = lib.tensor([-1.0, 0.05, 2.0], dtype=lib.float64)
        module(x)
        written.append(x.tolist())
    return [repr(m) for m in modules], written


def test_activations_inplace_print_and_write_as_torch():
    """``inplace=True`` is printed where torch prints it, and writes the input."""
    ours, theirs = _activations_in_place(ffnn), _activations_in_place(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-14)


def test_einsum_sublists_and_cat_axis_as_torch():
    a_values, c_values = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    results = []
    for lib in (ffnn, torch):
        a, c = lib.tensor(a_values), lib.tensor(c_values)
        results.append([lib.einsum(a, [0, 1], a, [0, 1], [0]).tolist(),
                        lib.einsum(a, [0, 1], c, [1, 2]).tolist(),
                        lib.einsum(a, [Ellipsis, 1], [Ellipsis]).tolist(),
                        lib.einsum("ij,jk", [a, c]).tolist(),
                        tuple(lib.concatenate([a, a], axis=1).shape),
                        tuple(lib.cat([a, a], axis=0).shape)])
    assert results[0] == results[1]


def _legacy_constructor(lib):
    import pandas as pd

    labels = np.array([0, 1, 1, 1])
    return [str(lib.Tensor(np.zeros((2, 2))).dtype)[-7:], str(lib.Tensor(labels).dtype)[-7:],
            str(lib.Tensor(np.array([True])).dtype)[-7:], lib.Tensor([True, False]).tolist(),
            str(lib.Tensor(lib.ones(2, dtype=lib.float64)).dtype)[-7:],
            lib.Tensor(labels).view(-1, 1).mean().item(),
            str(lib.tensor(pd.Series([1.0, 2.0])).dtype)[-7:],
            str(lib.tensor(pd.Series([1, 2])).dtype)[-5:], tuple(lib.Tensor(2, 3).shape)]


def test_the_legacy_constructor_makes_default_floats_as_torch():
    """``torch.Tensor(X_train)`` of sklearn's float64 features or int labels is float32 (a
    tensor keeps its dtype); ``torch.tensor`` of a pandas Series keeps the Series' dtype."""
    assert _legacy_constructor(ffnn) == _legacy_constructor(torch)


def test_the_mean_of_integers_is_torchs_error_not_a_truncated_value():
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError, match="could not infer output dtype"):
            lib.tensor([0, 1, 1]).mean()
        assert lib.tensor([0, 1, 1]).mean(dtype=lib.float32).item() == pytest.approx(2 / 3)


def _loader_attributes(lib):
    data = lib.utils.data
    split = data.random_split(range(10), [5, 5], generator=lib.Generator().manual_seed(0))
    shuffled = data.DataLoader(range(10), batch_size=3, shuffle=True)
    ordered = data.DataLoader(range(10), batch_size=4, drop_last=True)

    class Every(data.Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    custom = data.DataLoader(range(10), batch_size=2, sampler=Every(10))
    return [sorted(split[0].indices + split[1].indices), type(split[0].indices).__name__,
            data.Subset(range(10), [1, 3]).indices,
            type(shuffled.sampler).__name__, len(shuffled.sampler), len(shuffled.batch_sampler),
            type(ordered.sampler).__name__, list(ordered.sampler), len(ordered.batch_sampler),
            [b.tolist() for b in custom], len(custom.sampler)]


def test_data_loader_samplers_and_subset_indices_as_torch():
    """``len(loader.sampler)`` (the per-sample average of the Udacity programs), the
    default samplers, ``Sampler[int]`` subclasses, and ``random_split``'s index lists."""
    import torch.utils.data  # noqa: F401

    import ffnn.utils.data  # noqa: F401 - lib.utils.data below

    assert _loader_attributes(ffnn) == _loader_attributes(torch)


def test_load_takes_torchs_keyword(tmp_path):
    path = tmp_path / "state.pt"
    ffnn.save({"w": ffnn.ones(2)}, path)
    assert ffnn.load(f=path)["w"].tolist() == [1.0, 1.0]


def _unbatched(lib):
    data = lib.utils.data

    class Batches(data.IterableDataset):  # a stream that yields ready batches
        def __iter__(self):
            for i in range(3):
                yield np.full((2, 2), i, np.float32), np.array([i, i])

    samples = [(np.ones(2) * i, i) for i in range(3)]
    plain = data.DataLoader(samples, batch_size=None)
    stream = data.DataLoader(Batches(), batch_size=None)

    def described(item):
        return [(type(v).__name__, str(v.dtype).replace("torch.", ""), v.tolist())
                if hasattr(v, "dtype")
                else (type(v).__name__, v) for v in item]

    return ([described(s) for s in plain], len(plain), plain.batch_sampler,
            [described(s) for s in stream],
            described(data.default_convert((np.int32(3), np.ones(1), "s"))))


def test_a_data_loader_without_batching_gives_samples_as_torch():
    """``batch_size=None``: the samples (or a stream's ready batches) one by one, arrays made
    tensors of their own dtype (``default_convert``), numbers left as they are."""
    import torch.utils.data  # noqa: F401

    import ffnn.utils.data  # noqa: F401 - lib.utils.data below

    assert _unbatched(ffnn) == _unbatched(torch)
