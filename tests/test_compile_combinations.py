"""ffnn.compile on networks drawn at random from the features a step can combine (widths,
depth, activation, norm, dropout, bias, a frozen first layer, optimizer, loss, batch size,
dtype): 'fused' agrees with the eager step to rounding and 'replay' bit for bit, over four
steps, whether the step was fused, replayed or ran eagerly. The draws are seeded, so each
run checks the same networks; the oracle is the eager step."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

ACTIVATIONS = ["ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "Softplus",
               "Mish", "Hardswish", "SELU", "Softsign", "LogSigmoid", "ReLU6", None]
OPTIMIZERS = [("SGD", {"lr": 0.05}), ("SGD", {"lr": 0.05, "momentum": 0.9}),
              ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
              ("Adam", {"lr": 1e-2}), ("Adam", {"lr": 1e-2, "amsgrad": True}),
              ("AdamW", {"lr": 1e-2}), ("RMSprop", {"lr": 1e-2}), ("Adagrad", {"lr": 1e-2}),
              ("Adamax", {}), ("NAdam", {}), ("Adadelta", {})]
LOSSES = {"mse": nn.MSELoss, "cross_entropy": nn.CrossEntropyLoss,
          "bce_with_logits": nn.BCEWithLogitsLoss, "l1": nn.L1Loss, "huber": nn.HuberLoss,
          "nll": nn.NLLLoss}
STEPS = 4


def draw(seed: int) -> dict:
    """One network's features. A batch norm follows a Linear without bias (its bias would
    have a gradient of exactly 0, whose rounding an adaptive optimizer scales up to lr) and
    sees at least 8 rows."""
    pick = random.Random(seed)
    depth = pick.randint(1, 4)
    config = {"widths": [pick.choice([1, 2, 3, 5, 8, 17, 33, 64]) for _ in range(depth + 1)],
              "activation": pick.choice(ACTIVATIONS),
              "norm": pick.choice([None, None, "batch", "layer"]),
              "dropout": pick.choice([0.0, 0.0, 0.2]),
              "dtype": pick.choice(["float64", "float32"]),
              "optimizer": pick.choice(OPTIMIZERS), "loss": pick.choice(sorted(LOSSES)),
              "rows": pick.choice([1, 2, 7, 32, 100]), "bias": pick.random() < 0.85,
              "freeze": pick.random() < 0.2}
    if config["loss"] in ("cross_entropy", "nll"):
        config["widths"][-1] = max(config["widths"][-1], 3)
    if config["norm"] == "batch":
        config["rows"] = max(config["rows"], 8)
    return config


def _network(config: dict) -> nn.Sequential:
    ffnn.manual_seed(0)
    widths, layers = config["widths"], []
    for i in range(len(widths) - 1):
        hidden = i < len(widths) - 2
        batch_norm = hidden and config["norm"] == "batch"
        layers.append(nn.Linear(widths[i], widths[i + 1],
                                bias=config["bias"] and not batch_norm))
        if not hidden:
            continue
        if batch_norm:
            layers.append(nn.BatchNorm1d(widths[i + 1]))
        if config["norm"] == "layer":
            layers.append(nn.LayerNorm(widths[i + 1]))
        if config["activation"] is not None:
            layers.append(getattr(nn, config["activation"])())
        if config["dropout"]:
            layers.append(nn.Dropout(config["dropout"]))
    if config["loss"] == "nll":
        layers.append(nn.LogSoftmax(dim=1))
    model = nn.Sequential(*layers).to(getattr(ffnn, config["dtype"]))
    if config["freeze"] and len(widths) > 2:
        model[0].requires_grad_(False)
    return model


def _batches(config: dict) -> list:
    rng = np.random.default_rng(1)
    n, widths, dtype = config["rows"], config["widths"], config["dtype"]
    batches = []
    for _ in range(STEPS):
        x = rng.standard_normal((n, widths[0])).astype(dtype)
        if config["loss"] in ("cross_entropy", "nll"):
            y = rng.integers(0, widths[-1], n)
        elif config["loss"] == "bce_with_logits":
            y = rng.integers(0, 2, (n, widths[-1])).astype(dtype)
        else:
            y = rng.standard_normal((n, widths[-1])).astype(dtype)
        batches.append((ffnn.tensor(x), ffnn.tensor(y)))
    return batches


def _train(config: dict, mode: str | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """The losses of ``STEPS`` steps and the parameters and buffers after them: eagerly
    (``mode`` None) or through ``ffnn.compile(..., mode=mode)``."""
    model = _network(config)
    name, options = config["optimizer"]
    opt = getattr(optim, name)([p for p in model.parameters() if p.requires_grad], **options)
    loss_fn, losses = LOSSES[config["loss"]](), []
    if mode is None:
        for x, y in _batches(config):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # what it cannot capture runs eagerly, warned
            step = ffnn.compile(model, loss_fn, opt, mode=mode)
            losses = [float(step(x, y)) for x, y in _batches(config)]
    arrays = [p.detach().numpy().copy() for p in model.parameters()]
    return np.array(losses), arrays + [b.numpy().copy() for b in model.buffers()]


@pytest.mark.parametrize("seed", range(24))
def test_compiled_steps_follow_the_eager_step(seed):
    config = draw(seed)
    losses, arrays = _train(config, None)
    replayed_losses, replayed = _train(config, "replay")
    np.testing.assert_array_equal(replayed_losses, losses, err_msg=str(config))
    for got, expected in zip(replayed, arrays):
        np.testing.assert_array_equal(got, expected, err_msg=str(config))
    fused_losses, fused = _train(config, "fused")
    rtol = 1e-10 if config["dtype"] == "float64" else 2e-4
    atol = 1e-13 if config["dtype"] == "float64" else 1e-5
    np.testing.assert_allclose(fused_losses, losses, rtol=rtol, atol=atol, err_msg=str(config))
    for got, expected in zip(fused, arrays):
        scale = max(float(np.abs(expected).max(initial=0.0)), 1.0)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol * scale,
                                   err_msg=str(config))
