"""The case groups measured on shapes the named cases do not cover.

* ``sweep``: every activation × every optimizer on one mid-sized MLP (256-512-512-10,
  batch 256, cross-entropy), then ReLU + Adam with batch norm, with layer norm, with dropout
  and in float64;
* ``shapes``: five networks of other widths, depths and batch sizes (issue 17's table).

Each row is labelled by what sets it apart (``relu adam``, ``2-3-1 tanh b1 sgd``).
"""

from __future__ import annotations

from dataclasses import replace

from ffnn.bench.cases import Spec
from ffnn.bench.layout import ACTIVATIONS
from ffnn.bench.optimizers import OPTIMIZERS

SWEEP_SIZES = (256, 512, 512, 10)
SWEEP_ROWS = 256
SGD_LR = 1e-2
ADAPTIVE_LR = 1e-3
DROPOUT = 0.1


def learning_rate(optimizer: str) -> float:
    """Plain and momentum SGD take 1e-2, the adaptive optimizers 1e-3."""
    return SGD_LR if optimizer in ("sgd", "sgd_momentum", "nesterov") else ADAPTIVE_LR


def sweep_specs() -> dict[str, Spec]:
    """{label: Spec}: 6 activations × 7 optimizers, then the 4 variants of relu + adam."""
    specs = {}
    for activation in ACTIVATIONS:
        for optimizer in OPTIMIZERS:
            specs[f"{activation} {optimizer}"] = Spec(
                SWEEP_SIZES, activation, SWEEP_ROWS, "cross_entropy", optimizer,
                lr=learning_rate(optimizer))
    base = specs["relu adam"]
    specs["relu adam batch_norm"] = replace(base, norm="batch_norm")
    specs["relu adam layer_norm"] = replace(base, norm="layer_norm")
    specs[f"relu adam dropout {DROPOUT:g}"] = replace(base, dropout=DROPOUT)
    specs["relu adam float64"] = replace(base, dtype="float64")
    return specs


def label(spec: Spec) -> str:
    """``784-512-256-10 relu b128 adam``: sizes, activation, batch, optimizer."""
    return (f"{'-'.join(str(s) for s in spec.sizes)} {spec.activation} b{spec.rows} "
            f"{spec.optimizer}")


def shape_specs() -> dict[str, Spec]:
    """{label: Spec}: the five shapes of issue 17."""
    specs = [
        Spec((784, 512, 256, 10), "relu", 128, "cross_entropy", "adam"),
        Spec((1024, 4096, 1024), "gelu", 256, "mse", "adamw"),
        Spec((2, 3, 1), "tanh", 1, "mse", "sgd", lr=SGD_LR),
        Spec((300, 1000, 1000, 1), "silu", 512, "mse", "sgd_momentum", lr=SGD_LR),
        Spec((64, 32, 32, 10), "tanh", 32, "cross_entropy", "adam"),
    ]
    return {label(spec): spec for spec in specs}


GROUPS = {"shapes": shape_specs, "sweep": sweep_specs}

DESCRIPTIONS = {
    "sweep": f"{'-'.join(map(str, SWEEP_SIZES))} MLP, batch {SWEEP_ROWS}, cross-entropy: "
             f"every activation x optimizer, + batch norm, layer norm, dropout, float64",
    "shapes": "five other shapes: widths, depths, batch sizes, activations and optimizers",
    "shape": "networks given with --shape (ffnn.bench.shape_text)",
}
