"""BatchNorm across ranks: local statistics by default, synchronised on request."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.distributed import SyncBatchNorm1d, convert_sync_batchnorm

from ._common import (
    MAX_NORM,
    build_model,
    config,
    global_batches,
    launch,
    make_data,
    make_optimizer,
    max_relative_error,
    read_rank_outputs,
    reference_run,
)


@pytest.mark.parametrize("ranks,n,batch_size", [(2, 48, 8), (3, 52, 12)])
def test_sync_batchnorm_matches_one_process_with_plain_batchnorm(ranks, n, batch_size, tmp_path):
    """SyncBatchNorm1d on R ranks = BatchNorm1d on the whole batch in one process (weights
    and running statistics), also with the uneven 2/1/1 last batch on 3 ranks."""
    cfg = config(kind="syncbn", ranks=ranks, n=n, batch_size=batch_size)
    done = launch(cfg, str(tmp_path))
    assert done.returncode == 0, done.stderr
    outputs = read_rank_outputs(str(tmp_path), ranks)
    reference, losses = reference_run(cfg)  # kind syncbn builds a plain BatchNorm1d here
    assert "1.running_mean" in reference
    for weights, info in outputs:
        assert max_relative_error(weights, reference) <= 1e-10
        np.testing.assert_allclose(info["losses"], losses, rtol=1e-10)


def _local_batchnorm_reference(cfg: dict) -> dict:
    """R replicas in one process, each normalising its own shard; gradients combined
    weighted by rows; rank 0's replica is returned (its running statistics)."""
    x, y = make_data(cfg)
    ranks = cfg["ranks"]
    models = [build_model(cfg, cfg["init_seed"]) for _ in range(ranks)]
    optimizers = [make_optimizer(m, dict(cfg, zero=None)) for m in models]
    for epoch in range(cfg["epochs"]):
        for idx in global_batches(cfg, epoch):
            grads = None
            for model, optimizer, r in zip(models, optimizers, range(ranks)):
                shard = idx[r::ranks]
                optimizer.zero_grad()
                loss = nn.functional.mse_loss(model(ffnn.from_numpy(x[shard])),
                                              ffnn.from_numpy(y[shard]))
                loss.backward()
                weighted = [p.grad * len(shard) / len(idx) for p in model.parameters()]
                grads = weighted if grads is None else [g + w for g, w in zip(grads, weighted)]
            for model, optimizer in zip(models, optimizers):
                for param, grad in zip(model.parameters(), grads):
                    param.grad = grad.numpy().copy()
                nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
                optimizer.step()
    return {k: np.array(v) for k, v in models[0].state_dict().items()}


def test_plain_batchnorm_uses_local_statistics(tmp_path):
    """Default BatchNorm1d under 2 ranks: each rank normalises with its own shard's
    statistics; the parameters stay identical, the running statistics are each rank's own."""
    cfg = config(kind="bn")
    done = launch(cfg, str(tmp_path))
    assert done.returncode == 0, done.stderr
    (rank0, _), (rank1, _) = read_rank_outputs(str(tmp_path), 2)
    assert max_relative_error(rank0, _local_batchnorm_reference(cfg)) <= 1e-10
    for key in ("0.weight", "1.weight", "1.bias", "3.weight"):
        np.testing.assert_array_equal(rank0[key], rank1[key])
    assert not np.allclose(rank0["1.running_mean"], rank1["1.running_mean"])
    # and it is not the synchronised result
    assert max_relative_error(rank0, reference_run(cfg)[0]) > 1e-6


@pytest.mark.parametrize("shape", [(6, 4), (5, 3, 7)])
def test_sync_batchnorm_in_one_process_matches_torch(shape):
    """World size 1: forward, input/weight/bias gradients and running stats equal torch's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    g = rng.standard_normal(shape)
    channels = shape[1]
    layer = SyncBatchNorm1d(channels, momentum=0.3, dtype="float64")
    layer.weight.data[:] = rng.standard_normal(channels)
    layer.bias.data[:] = rng.standard_normal(channels)
    reference = torch.nn.BatchNorm1d(channels, momentum=0.3, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        reference.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    xf = ffnn.tensor(x, requires_grad=True)
    out = layer(xf)
    out.backward(ffnn.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    out_t = reference(xt)
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xf.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.running_mean, reference.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, reference.running_var.numpy(), rtol=1e-12)
    layer.eval()
    reference.eval()
    np.testing.assert_allclose(layer(ffnn.tensor(x)).data,
                               reference(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)


def test_sync_batchnorm_gradcheck():
    """Finite differences (float64) for the fused forward/backward, world size 1."""
    rng = np.random.default_rng(3)
    layer = SyncBatchNorm1d(3, dtype="float64")
    layer.weight.data[:] = rng.standard_normal(3)
    x = ffnn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert ffnn.gradcheck(lambda t: layer(t) * ffnn.tensor(np.arange(15.0).reshape(5, 3)), (x,))


def test_convert_sync_batchnorm_shares_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(),
                          nn.Sequential(nn.BatchNorm1d(4)))
    params_before = list(model.parameters())
    keys_before = list(model.state_dict())
    mean_before = model[1].running_mean
    converted = convert_sync_batchnorm(model)
    assert converted is model
    assert isinstance(model[1], SyncBatchNorm1d) and isinstance(model[3][0], SyncBatchNorm1d)
    assert all(a is b for a, b in zip(model.parameters(), params_before))
    assert list(model.state_dict()) == keys_before
    assert model[1].running_mean is mean_before
    single = convert_sync_batchnorm(nn.BatchNorm1d(2, momentum=None, eps=1e-3))
    assert isinstance(single, SyncBatchNorm1d)
    assert (single.momentum, single.eps) == (None, 1e-3)


def test_convert_sync_batchnorm_rejects_non_modules():
    with pytest.raises(TypeError, match="expected an ffnn.nn.Module. Received: list"):
        convert_sync_batchnorm([nn.BatchNorm1d(2)])


def test_sync_batchnorm_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"expects input of shape \[N, 4\].*Received: shape"):
        SyncBatchNorm1d(4)(ffnn.randn(3, 5))
