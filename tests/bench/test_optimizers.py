"""``ffnn.bench.optimizers``: which optax optimizer and arguments each benchmark optimizer
maps to, checked against the hyper-parameters ffnn and PyTorch actually hold, without JAX
(CI does not install it)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import ffnn
from ffnn.bench.optimizers import OPTIMIZERS, optax_optimizer, torch_optimizer
from ffnn.bench.sweep import sweep_specs

# the optax argument that carries each torch hyper-parameter: (torch key, optax key, map)
SAME_MEANING = {
    "SGD": [("momentum", "momentum", lambda m: m or None),
            ("nesterov", "nesterov", lambda n: n or None)],
    "Adam": [("betas", "b1", lambda b: b[0]), ("betas", "b2", lambda b: b[1]),
             ("eps", "eps", float)],
    "AdamW": [("betas", "b1", lambda b: b[0]), ("betas", "b2", lambda b: b[1]),
              ("eps", "eps", float), ("weight_decay", "weight_decay", float)],
    "RMSprop": [("alpha", "decay", float), ("eps", "eps", float)],
    # the JAX peer's own transformation with torch's formula (optax's puts ε under the root)
    "Adagrad": [("eps", "eps", float),
                ("initial_accumulator_value", "initial_accumulator_value", float)],
}
FACTORY = {"SGD": "sgd", "Adam": "adam", "AdamW": "adamw", "RMSprop": "rmsprop",
           "Adagrad": "torch_adagrad"}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optax_arguments_carry_the_hyper_parameters_both_libraries_hold(name):
    cls_name, kwargs = torch_optimizer(name, 0.05)
    factory, optax_kwargs = optax_optimizer(name, 0.05)
    assert factory == FACTORY[cls_name]
    assert optax_kwargs["learning_rate"] == 0.05
    w = ffnn.nn.Parameter(ffnn.zeros(3))
    ffnn_group = getattr(ffnn.optim, cls_name)([w], **kwargs).param_groups[0]
    torch_group = getattr(torch.optim, cls_name)([torch.zeros(3, requires_grad=True)],
                                                 **kwargs).param_groups[0]
    assert ffnn_group["lr"] == torch_group["lr"] == 0.05
    for torch_key, optax_key, convert in SAME_MEANING[cls_name]:
        held = ffnn_group[torch_key]
        assert held == torch_group[torch_key], torch_key
        expected = convert(held)
        assert optax_kwargs.get(optax_key) == expected, (name, optax_key)


def test_the_optimizers_optax_cannot_match_by_default_are_set_explicitly():
    # optax's defaults differ from torch's: ε under the root, decay 0.9, accumulator 0.1
    assert optax_optimizer("rmsprop", 0.01)[1]["eps_in_sqrt"] is False
    assert optax_optimizer("rmsprop", 0.01)[1]["initial_scale"] == 0.0
    assert optax_optimizer("adagrad", 0.01) == (
        "torch_adagrad", {"learning_rate": 0.01, "eps": 1e-10, "initial_accumulator_value": 0.0})
    assert optax_optimizer("adamw", 0.01)[1]["weight_decay"] == 0.01


def test_every_sweep_optimizer_is_mapped_and_an_unknown_one_is_refused():
    assert {spec.optimizer for spec in sweep_specs().values()} == set(OPTIMIZERS)
    assert set(OPTIMIZERS) == {"sgd", "sgd_momentum", "nesterov", "adam", "adamw", "rmsprop",
                               "adagrad"}
    with pytest.raises(ValueError, match=r"optimizer must be one of .*Received: "
                                         r"optimizer='lion'"):
        optax_optimizer("lion", 1e-3)
    with pytest.raises(ValueError, match="Received: optimizer='lion'"):
        torch_optimizer("lion", 1e-3)


def test_the_mapping_and_the_bench_plumbing_import_without_jax():
    code = ("import sys; import ffnn.bench.optimizers, ffnn.bench.steps, ffnn.bench.check, "
            "ffnn.bench.run; print('jax' in sys.modules, 'optax' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
