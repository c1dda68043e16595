"""One-process behaviour and messages: missing mpi4py, a world of one rank, bad arguments."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import ffnn
import ffnn.distributed as dist
from ffnn import nn
from ffnn.distributed import _mpi, launch


def test_missing_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `import mpi4py` fail
    monkeypatch.setitem(_mpi._state, "MPI", None)
    with pytest.raises(ImportError, match=r"needs mpi4py and an MPI library.*pip install "
                                          r"'ffnn\[mpi\]'.*mpich"):
        dist.rank()
    assert dist.is_available() is False


def test_launched_with_mpi_reads_the_launcher_environment(monkeypatch):
    for name in _mpi._LAUNCHER_SIZE_VARS:
        monkeypatch.delenv(name, raising=False)
    assert not dist.launched_with_mpi()
    monkeypatch.setenv("PMI_SIZE", "1")
    assert not dist.launched_with_mpi()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert dist.launched_with_mpi()


def test_world_of_one_rank(monkeypatch):
    monkeypatch.setitem(_mpi._state, "noted", False)
    with pytest.warns(RuntimeWarning, match="world size is 1.*mpiexec -n N"):
        assert dist.init() == 1
    assert (dist.rank(), dist.world_size(), dist.is_main_process()) == (0, 1, True)
    layer = nn.Linear(3, 2)
    before = layer.weight.numpy().copy()
    dist.broadcast_parameters(layer)
    np.testing.assert_array_equal(layer.weight.data, before)
    layer(ffnn.randn(4, 3)).sum().backward()
    grad = layer.weight.grad.numpy().copy()
    assert dist.allreduce_gradients(layer, weight=4) == 4.0
    np.testing.assert_array_equal(layer.weight.grad, grad)
    assert dist.reduce_metrics({"loss": 2.0}, weight=3) == {"loss": 2.0}
    np.testing.assert_array_equal(dist.all_reduce(np.arange(3), op="max"), np.arange(3))
    assert dist.broadcast_json({"a": [1]}) == {"a": [1]}
    np.testing.assert_array_equal(dist.all_gather_rows(np.ones((2, 3))), np.ones((2, 3)))


@pytest.mark.parametrize("kwargs,message", [
    ({"op": "max"}, "op must be 'mean' or 'sum'. Received: op='max'"),
    ({"weight": -1}, "weight must be a finite number >= 0 .*Received: weight=-1"),
    ({"weight": float("nan")}, "weight must be a finite number >= 0 .*Received: weight=nan"),
    ({"op": "sum", "weight": 2}, "weight applies to op='mean' only. Received: op='sum', "
                                 "weight=2"),
    ({"bucket_cap_mb": 0}, "bucket_cap_mb must be a number > 0. Received: bucket_cap_mb=0"),
])
def test_allreduce_gradients_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dist.allreduce_gradients(nn.Linear(2, 2), **kwargs)


def test_allreduce_gradients_rejects_non_tensors():
    with pytest.raises(TypeError, match="a Module or an iterable of Tensors. Received: an "
                                        "element of type ndarray"):
        dist.allreduce_gradients([np.zeros(2)])


def test_other_bad_arguments():
    with pytest.raises(ValueError, match=r"root must be a rank in \[0, 0\]. Received: root=1"):
        dist.broadcast_parameters(nn.Linear(2, 2), root=1)
    with pytest.raises(ValueError, match="all_reduce: op must be one of .*Received: op='prod'"):
        dist.all_reduce(np.ones(2), op="prod")
    with pytest.raises(TypeError, match="all_reduce: expected numbers. Received: dtype bool"):
        dist.all_reduce(np.ones(2, dtype=bool))
    with pytest.raises(ValueError, match="reduce_metrics: weight must be .*Received: weight=-2"):
        dist.reduce_metrics({"loss": 1.0}, weight=-2)
    with pytest.raises(ValueError, match="num_processes must be a positive integer. Received: "
                                         "num_processes=0"):
        launch.mpiexec_command(0, ["python"])
    with pytest.raises(ValueError, match=r"must be >= 1 and divide rows=6. Received: ranks=\[4\]"):
        dist.bench_distributed(ranks=[4], rows=6)


def test_missing_mpiexec_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mpiexec not found next to .*pip install"):
        launch.find_mpiexec()


def test_trainer_rejects_a_non_distributed_sampler(monkeypatch):
    from ffnn.data import DataLoader, TensorDataset
    from ffnn.train import Trainer

    monkeypatch.setitem(_mpi._state, "noted", True)
    model = nn.Linear(2, 1)
    trainer = Trainer(model, "mse", ffnn.optim.SGD(model.parameters(), lr=0.1),
                      distributed=True)
    data = TensorDataset(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32))
    loader = DataLoader(data, batch_size=2, sampler=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="use ffnn.distributed.DistributedSampler.*Received: "
                                         "sampler="):
        trainer.fit(loader, verbose=0)
