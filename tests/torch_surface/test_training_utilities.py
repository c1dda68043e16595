"""Training utilities as learners use them, against torch: a DataLoader keeps its data's
integer dtypes, the norm layers' ``reset_parameters``, a child registered twice listed once,
``gaussian_nll_loss`` of a float variance, ``scheduler.step(epoch)``, and an Optimizer
subclass that keeps tensors resumed from its state_dict."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ffnn


def _batch_dtypes(lib):
    from_tensors = lib.utils.data.TensorDataset(
        lib.tensor([[200], [100]], dtype=lib.uint8), lib.tensor([1, 0], dtype=lib.int32))
    xb, yb = next(iter(lib.utils.data.DataLoader(from_tensors, batch_size=2)))
    samples = [(np.int16(3), np.array([1, 2], dtype=np.int8)), (np.int16(4), np.zeros(2, np.int8))]
    a, b = lib.utils.data.default_collate(samples)
    return [str(t.dtype).replace("torch.", "") for t in (xb, yb, a, b)], (xb + 100).tolist()


def test_a_loader_keeps_integer_dtypes_as_torch():
    """uint8 images stay uint8 (their + 100 wraps, as torch's), int32 labels int32."""
    assert _batch_dtypes(ffnn) == _batch_dtypes(torch)


def _reset(lib):
    nn = lib.nn
    layers = [nn.BatchNorm1d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3), nn.PReLU(3, init=0.1),
              nn.InstanceNorm1d(3, affine=True), nn.RMSNorm(3)]
    with lib.no_grad():
        for layer in layers:
            for param in layer.parameters():
                param.fill_(5.0)
    layers[0].train()
    layers[0](lib.arange(6.0).view(2, 3))  # running statistics moved
    for layer in layers:
        layer.reset_parameters()
    values = [[p.tolist() for p in layer.parameters()] for layer in layers]
    stats = [layers[0].running_mean.tolist(), layers[0].running_var.tolist(),
             int(layers[0].num_batches_tracked)]
    bag = nn.EmbeddingBag(4, 2, padding_idx=1)
    bag.reset_parameters()
    return values, stats, bag.weight[1].tolist()


def test_norm_layers_reset_their_parameters_as_torch():
    assert _reset(ffnn) == _reset(torch)


def test_a_child_registered_twice_is_listed_once_as_torch():
    for lib in (ffnn, torch):
        shared = lib.nn.Linear(2, 2)
        model = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        assert [name for name, _ in model.named_children()] == ["0", "1"]
        assert len(list(model.children())) == 2


def _shared_net():
    ffnn.manual_seed(0)
    shared = ffnn.nn.Linear(2, 2)
    return ffnn.nn.Sequential(shared, ffnn.nn.ReLU(), shared)


def test_a_shared_layer_converts_at_every_position():
    """to_torch of Sequential(lin, relu, lin) runs lin twice, as the ffnn model does."""
    model = _shared_net()
    converted = ffnn.interop.torch.to_torch(model)
    assert len(converted) == 3
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    np.testing.assert_allclose(converted(torch.from_numpy(x)).detach().numpy(),
                               model(ffnn.from_numpy(x)).detach().numpy(), rtol=1e-6)


def _gaussian(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    y = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    flat = lib.nn.functional.gaussian_nll_loss(x[0], y[0], 0.5)
    table = lib.nn.functional.gaussian_nll_loss(x, y, 0.3)
    per_column = lib.nn.GaussianNLLLoss()(x, y, lib.full((1, 3), 0.3))
    (flat + table + per_column).backward()
    return ([str(flat.dtype).replace("torch.", "")],
            [t.item() for t in (flat, table, per_column)], x.grad.numpy())


def test_gaussian_nll_loss_of_a_float_variance_as_torch():
    ours, theirs = _gaussian(ffnn), _gaussian(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)  # float32 round-off, any CPU
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-7)


def _stepped_at_epochs(lib):
    param = lib.nn.Parameter(lib.ones(2))
    rates = []
    for make in (lambda o: lib.optim.lr_scheduler.StepLR(o, 2, 0.5),
                 lambda o: lib.optim.lr_scheduler.CosineAnnealingLR(o, 10),
                 lambda o: lib.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1))):
        optimizer = lib.optim.SGD([param], lr=1.0)
        scheduler = make(optimizer)
        for epoch in (3, 5, 6):
            optimizer.step()
            scheduler.step(epoch)
            rates.append((round(scheduler.get_last_lr()[0], 10), scheduler.last_epoch))
    plateau = lib.optim.lr_scheduler.ReduceLROnPlateau(lib.optim.SGD([param], lr=1.0),
                                                       patience=0)
    for epoch, metric in ((5, 1.0), (7, 2.0)):
        plateau.step(metric, epoch)
        rates.append((plateau.get_last_lr()[0], plateau.last_epoch))
    return rates


def test_scheduler_step_with_an_epoch_as_torch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = _stepped_at_epochs(ffnn)
    assert any("epoch parameter" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours == _stepped_at_epochs(torch)


def _resumed(lib):
    class MySGD(lib.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9):
            super().__init__(params, {"lr": lr, "momentum": momentum})

        @lib.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = lib.zeros_like(p)
                    state["buf"].mul_(group["momentum"]).add_(p.grad)
                    p.add_(state["buf"], alpha=-group["lr"])

    w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
    first = MySGD([w])
    for _ in range(3):
        first.zero_grad()
        (w ** 2).sum().backward()
        first.step()
    saved = {k: v for k, v in first.state_dict().items()}
    w2 = lib.nn.Parameter(w.detach().clone())
    second = MySGD([w2])
    second.load_state_dict(saved)
    del first
    second.zero_grad()
    (w2 ** 2).sum().backward()
    second.step()
    return w2.detach().numpy(), type(second.state[w2]["buf"]).__name__


def test_an_optimizer_subclass_keeping_tensors_resumes_as_torch():
    (ours, kind), (theirs, torch_kind) = _resumed(ffnn), _resumed(torch)
    assert kind == torch_kind
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("name", ["BatchNorm1d", "LayerNorm", "GroupNorm", "PReLU",
                                  "RMSNorm", "EmbeddingBag", "InstanceNorm1d"])
def test_every_layer_torch_resets_has_reset_parameters(name):
    assert callable(getattr(getattr(ffnn.nn, name), "reset_parameters", None))


def _mistakes(lib):
    """What torch says to a learner's mistakes: a buffer over a parameter, random floats
    into an integer tensor, ``.grad`` of an intermediate, KLDivLoss's 'mean'."""
    outcomes = []
    for attempt in (lambda: lib.nn.Linear(2, 2).register_buffer("weight", lib.zeros(2)),
                    lambda: lib.nn.init.normal_(lib.zeros(3, dtype=lib.int64)),
                    lambda: lib.nn.init.kaiming_uniform_(lib.zeros(3, 3, dtype=lib.int64))):
        try:
            attempt()
            outcomes.append("ran")
        except (KeyError, NotImplementedError) as error:
            outcomes.append(type(error).__name__)
    x = lib.ones(2, requires_grad=True)
    h = x * 2
    h.sum().backward()
    for read in (lambda: h.grad, lambda: lib.nn.KLDivLoss()(lib.zeros(2, 2), lib.ones(2, 2))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read()
        outcomes.append(sorted({str(w.message)[:20] for w in caught}))
    return outcomes


def test_a_learners_mistakes_get_torchs_errors_and_warnings():
    assert _mistakes(ffnn) == _mistakes(torch)


def test_loss_modules_print_as_torchs():
    for name, kwargs in (("MSELoss", {"reduction": "sum"}), ("HuberLoss", {"delta": 2.0}),
                         ("CrossEntropyLoss", {"label_smoothing": 0.1})):
        assert repr(getattr(ffnn.nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))


def _sampled(lib):
    data = lib.utils.data
    dataset = data.TensorDataset(lib.arange(10.0).view(5, 2), lib.arange(5))
    batches = data.BatchSampler(data.SequentialSampler(dataset), batch_size=2, drop_last=False)
    out = [(x.tolist(), y.tolist()) for x, y in data.DataLoader(dataset, sampler=batches,
                                                                 batch_size=None)]
    return out + [(x.tolist(), y.tolist()) for x, y in data.DataLoader(dataset, sampler=[4, 0],
                                                                        batch_size=None)]


def test_a_batch_sampler_as_the_sampler_of_an_unbatched_loader_as_torch():
    assert _sampled(ffnn) == _sampled(torch)


def _read_through_overrides(lib):
    """A TensorDataset subclass whose ``__getitem__`` changes the sample, and a dataset with
    torch's batched ``__getitems__`` (also under a Subset and a shuffled loader)."""
    data = lib.utils.data

    class Noisy(data.TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return x * 100 + index, y

    class Batched(data.Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 7

        def __getitem__(self, index):
            return index

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [{"i": i, "square": i * i} for i in indices]

    noisy = Noisy(lib.arange(8.0).view(4, 2), lib.arange(4))
    batched = Batched()
    out = [[(x.tolist(), y.tolist()) for x, y in data.DataLoader(noisy, batch_size=3)],
           [x.tolist() for x, _ in data.DataLoader(data.Subset(noisy, [3, 0]), batch_size=2)]]
    out.append([b["square"].tolist() for b in data.DataLoader(batched, batch_size=3)])
    subset = data.Subset(batched, [6, 2, 4, 1])
    lib.manual_seed(0)
    out.append([b["i"].tolist() for b in data.DataLoader(subset, batch_size=3, shuffle=True)])
    return out + [batched.calls]


def test_a_loader_reads_a_datasets_own_getitem_and_getitems_as_torch():
    assert _read_through_overrides(ffnn) == _read_through_overrides(torch)
