"""``ffnn demo``: train an MLP on the bundled digits, then fine-tune it to new classes.

Part 1 trains on the digits 0-4 (all rows), prints the test accuracy and confusion matrix and
writes the run folder. Part 2 adapts that model to a new task, the digits 5-9, from only a few
labelled rows per class, and compares four ways to do it on the same held-out rows: training
from scratch, a new head on the frozen body, LoRA, and full fine-tuning. Offline; well under
a minute on two cores (``fast=True``: a few epochs, for tests).
"""

from __future__ import annotations

import os
import time

from ffnn.cli.config import (
    AugmentConfig,
    Config,
    DataConfig,
    FinetuneConfig,
    FinetuneSection,
    ModelConfig,
    TrainConfig,
    to_toml,
)

OLD_CLASSES = ["0", "1", "2", "3", "4"]
NEW_CLASSES = ["5", "6", "7", "8", "9"]


def pretrain_config(out: str, fast: bool) -> Config:
    """Part 1: an MLP 64-128-64-5 on the digits 0-4, Adam, cosine schedule."""
    return Config(
        seed=0, out=out,
        data=DataConfig(name="digits", classes=list(OLD_CLASSES)),
        model=ModelConfig(hidden_sizes=[128, 64], activation="relu", dropout=0.1),
        train=TrainConfig(epochs=3 if fast else 30, batch_size=32, optimizer="adam", lr=2e-3,
                          weight_decay=1e-4, schedule="cosine"),
        augment=AugmentConfig(),
    )


def finetune_config(method: str, rows_per_class: int, fast: bool, out: str = "") -> \
        FinetuneConfig:
    """Part 2: the digits 5-9 from ``rows_per_class`` training rows each."""
    section = {"scratch": FinetuneSection(new_head="yes"),
               "head": FinetuneSection(new_head="yes", freeze="body"),
               "lora": FinetuneSection(new_head="yes", lora_rank=4, lora_alpha=8.0),
               "full": FinetuneSection(new_head="yes")}[method]
    return FinetuneConfig(
        seed=0, out=out,
        data=DataConfig(name="digits", classes=list(NEW_CLASSES), rows_per_class=rows_per_class),
        train=TrainConfig(epochs=3 if fast else 60, batch_size=16, optimizer="adam", lr=3e-3),
        finetune=section,
    )


METHODS = [
    ("scratch", "from scratch (same MLP, random weights)"),
    ("head", "new head, frozen body"),
    ("lora", "LoRA r=4 + new head"),
    ("full", "full fine-tuning + new head"),
]


def run(out: str = "runs/demo", fast: bool = False, rows_per_class: int = 10,
        printer=None) -> dict:
    """Run the demo; returns {"test_accuracy": ..., "finetune": {method: accuracy}, ...}."""
    from ffnn.cli._common import Printer, table
    from ffnn.cli.finetune import finetune_config as run_finetune
    from ffnn.cli.train import report, train_config

    printer = printer or Printer(None)
    quiet = _Quiet(printer)
    start = time.perf_counter()
    say = printer.say
    say("ffnn demo — part 1: train an MLP on the handwritten digits 0-4 (8x8 pixels, "
        "standardised)")
    cfg = pretrain_config(out, fast)
    say(f"model: 64 -> {' -> '.join(map(str, cfg.model.hidden_sizes))} -> 5, ReLU, dropout "
        f"{cfg.model.dropout}; Adam lr {cfg.train.lr}, cosine schedule, {cfg.train.epochs} "
        "epochs\n")
    result, data = train_config(cfg, printer)
    report(result, data.preprocessing, printer, out)
    checkpoint = os.path.join(out, "best.safetensors")

    say(f"\nffnn demo — part 2: a new task, the digits 5-9, from only {rows_per_class} "
        "labelled rows per class")
    lora_cfg = finetune_config("lora", rows_per_class, fast)
    from ffnn.cli._run import write_text

    write_text(os.path.join(out, "finetune.toml"),
               to_toml(_with_out(lora_cfg, os.path.join(out, "finetune"))))
    rows, scores = [], {}
    for method, label in METHODS:
        ft_cfg = finetune_config(method, rows_per_class, fast)
        t0 = time.perf_counter()
        if method == "scratch":
            ft_result, ft_data, trainable = _scratch(cfg, ft_cfg, quiet)
        else:
            ft_result, ft_data = run_finetune(checkpoint, ft_cfg, quiet)
            trainable = ft_result.summary["parameters"]["trainable"]
        accuracy = ft_result.test["accuracy"]
        scores[method] = accuracy
        rows.append([label, f"{trainable:,}", f"{accuracy:.3f}",
                     f"{time.perf_counter() - t0:.1f}"])
    say(f"trained on {ft_data.X_train.shape[0]} rows, tested on {ft_data.X_test.shape[0]} "
        "held-out rows of the digits 5-9\n")
    say(table(rows, ["method", "trainable params", "test accuracy", "seconds"]))
    seconds = time.perf_counter() - start
    payload = {"event": "demo", "out": out, "test_accuracy": result.test["accuracy"],
               "finetune": scores, "seconds": round(seconds, 2)}
    printer.result(_next_steps(out, seconds), payload)
    return payload


def _with_out(cfg, out: str):
    import dataclasses

    return dataclasses.replace(cfg, out=out)


def _scratch(pre_cfg: Config, ft_cfg: FinetuneConfig, printer):
    """The baseline: the same architecture from random weights on the few rows."""
    import ffnn
    from ffnn.cli import _build, _run
    from ffnn.cli._data import prepare

    ffnn.manual_seed(ft_cfg.seed)
    data = prepare(ft_cfg.data, ft_cfg.seed)
    model = _build.build_mlp(pre_cfg.model, data.X_train.shape[1], data.num_outputs)
    result = _run.fit(model, data, ft_cfg.train, ft_cfg.augment, ft_cfg.seed, None, printer)
    return result, data, result.summary["parameters"]["trainable"]


class _Quiet:
    """A printer for the comparison runs: nothing but errors."""

    def __init__(self, printer):
        self.quiet, self.json = True, False

    def say(self, text: str = "") -> None:
        pass

    def result(self, text: str, payload=None) -> None:
        pass

    def event(self, payload) -> None:
        pass


def _next_steps(out: str, seconds: float) -> str:
    ckpt = os.path.join(out, "best.safetensors")
    steps = [
        (f"ffnn summary {ckpt}", "layers, output shapes, parameter counts"),
        (f"ffnn finetune {ckpt} {os.path.join(out, 'finetune.toml')}",
         "the LoRA fine-tune as a run folder"),
        (f"ffnn train {os.path.join(out, 'config.toml')} --epochs 50 --out runs/longer",
         "part 1 again, longer"),
        ("ffnn init-config > my.toml", "your own data: set data.csv and data.target"),
        ("ffnn explain --graph", "backpropagation, number by number"),
        ("ffnn COMMAND --help", "options and examples of every command"),
    ]
    width = max(len(cmd) for cmd, _ in steps) + 2
    lines = [f"  {cmd:<{width}}# {what}" for cmd, what in steps]
    return f"\ndemo finished in {seconds:.1f} s. Try next:\n" + "\n".join(lines)
