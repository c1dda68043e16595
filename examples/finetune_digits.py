"""Fine-tuning on real data: learn digits 5-9 from a few examples, reusing a network pretrained
on digits 0-4.

1. Pretrain an MLP on digits 0-4 (all their training rows).
2. Keep 10% of the training rows of digits 5-9, and learn them three ways:
   * frozen body + new head: only a fresh output layer trains;
   * full fine-tuning with discriminative learning rates (the head fastest);
   * LoRA (r=4) on the hidden layers, plus the new head;
   and compare with the same network trained from scratch on those few rows.
3. Print a table: method, test accuracy on 5-9, trainable parameters, time.

Run: ``python examples/finetune_digits.py`` (needs scikit-learn for the data set).
"""

from __future__ import annotations

import copy
import time

import numpy as np

import ffnn
from ffnn import finetune, nn
from ffnn.data import StandardScaler, load_digits, train_test_split
from ffnn.train import Trainer


def digits_split(seed: int = 0, fraction: float = 0.1) -> dict:
    """Stratified train/test split; the 0-4 training rows, 10% of the 5-9 training rows."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=seed)
    old, new = y_train < 5, y_train >= 5
    X_new, _, y_new, _ = train_test_split(X_train[new], y_train[new], test_size=1 - fraction,
                                          stratify=y_train[new], random_state=seed)
    scaler = StandardScaler().fit(X_train[old])  # preprocessing of the pretrained model
    test = y_test >= 5
    return {"pretrain": (scaler.transform(X_train[old]), y_train[old]),
            "few": (scaler.transform(X_new), y_new - 5),
            "test": (scaler.transform(X_test[test]), y_test[test] - 5),
            "scaler": scaler}


def mlp(seed: int) -> nn.Sequential:
    ffnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 5))


def train(model, params, data, epochs: int, seed: int, lr: float = 1e-3) -> Trainer:
    optimizer = ffnn.optim.Adam(params, lr=lr)
    trainer = Trainer(model, "cross_entropy", optimizer, metrics=["accuracy"], seed=seed)
    trainer.fit(data, epochs=epochs, batch_size=16, verbose=0)
    return trainer


def accuracy(trainer: Trainer, data) -> float:
    X, y = data
    return float(np.mean(trainer.predict(X) == y))


def run(seed: int = 0, fraction: float = 0.1, epochs: int = 60) -> list[dict]:
    """Pretrain, then the three fine-tuning methods and the scratch baseline; one row each."""
    data = digits_split(seed, fraction)
    pretrained = mlp(seed)
    train(pretrained, pretrained.parameters(), data["pretrain"], epochs=20, seed=seed)
    rows = []

    def report(method: str, model, trainer, start: float) -> None:
        rows.append({"method": method, "accuracy": accuracy(trainer, data["test"]),
                     "trainable": finetune.count_parameters(model, trainable_only=True),
                     "seconds": time.perf_counter() - start})

    start = time.perf_counter()
    scratch = mlp(seed + 1)
    report("from scratch", scratch,
           train(scratch, scratch.parameters(), data["few"], epochs, seed), start)

    start = time.perf_counter()
    frozen = finetune.replace_head(copy.deepcopy(pretrained), 5)
    finetune.freeze(frozen)
    finetune.unfreeze(frozen, -1)
    report("frozen body + new head", frozen,
           train(frozen, finetune.trainable_parameters(frozen), data["few"], epochs, seed,
                 lr=3e-3), start)

    start = time.perf_counter()
    full = finetune.replace_head(copy.deepcopy(pretrained), 5)
    groups = finetune.layerwise_lr_groups(full, base_lr=3e-3, decay=0.3)
    report("full fine-tuning, layer-wise lr", full,
           train(full, groups, data["few"], epochs, seed), start)

    start = time.perf_counter()
    lora = finetune.replace_head(copy.deepcopy(pretrained), 5)
    finetune.apply_lora(lora, "all-linear", r=4, alpha=8)
    finetune.unfreeze(lora, -1)
    report("LoRA r=4 + new head", lora,
           train(lora, finetune.trainable_parameters(lora), data["few"], epochs, seed,
                 lr=3e-3), start)
    return rows


def main() -> None:
    rows = run()
    print(f"{'method':<34}{'test acc (5-9)':>15}{'trainable':>11}{'time (s)':>10}")
    for row in rows:
        print(f"{row['method']:<34}{row['accuracy']:>15.3f}{row['trainable']:>11,}"
              f"{row['seconds']:>10.2f}")


if __name__ == "__main__":
    main()
