"""Fine-tuning on real data: learn digits 5-9 from a few examples, reusing a network pretrained
on digits 0-4.

1. One fixed stratified split of the 8x8 digits (25% test). Pretrain an MLP 64-512-5 on all
   training rows of digits 0-4, with random ±1 px shifts and Gaussian noise.
2. Keep 10% of the training rows of digits 5-9 (≈67 rows, stratified; which rows depends on
   the seed) and learn them four ways, each with its own learning rate and epochs:
   * from scratch: the same network, freshly initialised (the baseline);
   * frozen body + new head: only a fresh output layer trains;
   * full fine-tuning with discriminative learning rates (head 3e-3, hidden layer 0.3x that);
   * LoRA (r=4) on the hidden layer, plus the new head.
3. Print a table: method, test accuracy on 5-9 (mean and range over seeds), trainable
   parameters, time.

What it shows (10 seeds, see tests/finetune/test_digits.py): on this data the transfer
methods only *tie* with training from scratch (all ≈0.95-0.96, within the seed spread of
≈±0.02). Ten rows per class of 8x8 digits are already enough for a from-scratch MLP (0.96;
all 672 rows give 0.98), and features learnt on 0-4 separate 5-9 no better than a random
ReLU layer does.

Run: ``python examples/finetune_digits.py`` (needs scikit-learn for the data set).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable

import numpy as np

import ffnn
from ffnn import finetune, nn
from ffnn.data import Compose, GaussianNoise, RandomShift, load_digits, train_test_split
from ffnn.train import Trainer

HIDDEN = 512
PRETRAIN_AUGMENT = Compose([RandomShift((8, 8), max_shift=1), GaussianNoise(0.1)])
FINETUNE_AUGMENT = GaussianNoise(0.1)  # shifts hurt every method on 67 rows (centred test set)


def digits_split(seed: int = 0, fraction: float = 0.1) -> dict:
    """Fixed stratified 75/25 split (pixels scaled to [0, 1]); the 0-4 rows for pretraining and
    a seed-dependent stratified ``fraction`` of the 5-9 training rows. Labels 5-9 become 0-4."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    old, new = y_train < 5, y_train >= 5
    X_few, _, y_few, _ = train_test_split(X_train[new], y_train[new], test_size=1 - fraction,
                                          stratify=y_train[new], random_state=seed)
    return {"pretrain": (X_train[old], y_train[old]),
            "pretrain_test": (X_test[y_test < 5], y_test[y_test < 5]),
            "few": (X_few, y_few - 5),
            "test": (X_test[y_test >= 5], y_test[y_test >= 5] - 5)}


def mlp(seed: int) -> nn.Sequential:
    """64 → 512 (ReLU, dropout 0.2) → 5 logits."""
    ffnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Dropout(0.2), nn.Linear(HIDDEN, 5))


def fit(model, params, data, epochs: int, seed: int, lr: float, augment) -> Trainer:
    trainer = Trainer(model, "cross_entropy", ffnn.optim.Adam(params, lr=lr), seed=seed)
    trainer.fit(data, epochs=epochs, batch_size=16, augment=augment, verbose=0)
    return trainer


def accuracy(model, data) -> float:
    X, y = data
    model.eval()
    with ffnn.no_grad():
        return float(np.mean(model(ffnn.tensor(X)).numpy().argmax(axis=1) == y))


def pretrain(data: dict, seed: int) -> nn.Sequential:
    model = mlp(seed)
    fit(model, model.parameters(), data["pretrain"], epochs=30, seed=seed, lr=1e-3,
        augment=PRETRAIN_AUGMENT)
    return model


# Each method: pretrained model, seed -> (model to train, optimizer params, lr, epochs).
# The learning rates and epochs are each method's best on a small grid (lr 1e-3/3e-3/1e-2,
# 50/100 epochs); scratch does best with 1e-3 for 50 epochs.
def from_scratch(pretrained, seed):
    model = mlp(seed + 100)
    return model, model.parameters(), 1e-3, 50


def frozen_body(pretrained, seed):
    model = finetune.replace_head(copy.deepcopy(pretrained), 5)
    finetune.freeze(model)
    finetune.unfreeze(model, -1)
    return model, finetune.trainable_parameters(model), 3e-3, 100


def full_finetuning(pretrained, seed):
    model = finetune.replace_head(copy.deepcopy(pretrained), 5)
    return model, finetune.layerwise_lr_groups(model, base_lr=3e-3, decay=0.3), 3e-3, 100


def lora(pretrained, seed):
    model = finetune.replace_head(copy.deepcopy(pretrained), 5)
    finetune.apply_lora(model, "all-linear", r=4, alpha=8)
    finetune.unfreeze(model, -1)
    return model, finetune.trainable_parameters(model), 3e-3, 100


METHODS: dict[str, Callable] = {
    "from scratch": from_scratch,
    "frozen body + new head": frozen_body,
    "full fine-tuning, layer-wise lr": full_finetuning,
    "LoRA r=4 + new head": lora,
}


def one_thread():
    """BLAS on one thread: these matrices are small, and threads only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def run(seed: int = 0, fraction: float = 0.1) -> dict:
    """Pretrain on 0-4, then every method on the few 5-9 rows.

    Returns ``{"pretrained", "pretrain_accuracy", "rows"}``; a row is ``{"method",
    "accuracy", "trainable", "seconds", "model"}``.
    """
    with one_thread():
        data = digits_split(seed, fraction)
        pretrained = pretrain(data, seed)
        rows = []
        for method, make in METHODS.items():
            start = time.perf_counter()
            model, params, lr, epochs = make(pretrained, seed)
            trainable = finetune.count_parameters(model, trainable_only=True)
            fit(model, params, data["few"], epochs, seed, lr, FINETUNE_AUGMENT)
            rows.append({"method": method, "accuracy": accuracy(model, data["test"]),
                         "trainable": trainable, "seconds": time.perf_counter() - start,
                         "model": model})
        return {"pretrained": pretrained,
                "pretrain_accuracy": accuracy(pretrained, data["pretrain_test"]),
                "rows": rows}


def main(seeds: range = range(5)) -> None:
    results = [run(seed) for seed in seeds]
    print(f"pretrained on 0-4: test accuracy on 0-4 "
          f"{np.mean([r['pretrain_accuracy'] for r in results]):.3f}; "
          f"5-9 learnt from 10% of their rows, {len(results)} seeds")
    print(f"{'method':<34}{'test acc (5-9)':>15}{'min-max':>13}{'trainable':>11}"
          f"{'time (s)':>10}")
    for k, method in enumerate(METHODS):
        rows = [r["rows"][k] for r in results]
        acc = [row["accuracy"] for row in rows]
        print(f"{method:<34}{np.mean(acc):>15.3f}{f'{min(acc):.3f}-{max(acc):.3f}':>13}"
              f"{rows[0]['trainable']:>11,}{np.mean([row['seconds'] for row in rows]):>10.2f}")


if __name__ == "__main__":
    main()
