"""Breast cancer (Wisconsin): a small MLP trained by ffnn's Trainer, scored on a 25% test split.

Split: scikit-learn's ``train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)``;
inputs standardised on the training part. Regularised for 426 training rows: dropout, weight
decay and Gaussian input noise. Run ``python examples/train_breast_cancer.py``.
"""

from __future__ import annotations

import time

import ffnn
from ffnn import nn, optim
from ffnn.data import GaussianNoise, StandardScaler, load_breast_cancer
from ffnn.train import Trainer, accuracy


def train_breast_cancer(seed: int = 0, verbose: int = 0) -> dict:
    """Train on the training split; return {'test_accuracy', 'seconds', 'history'}."""
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    ffnn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(30, 64), nn.Tanh(), nn.Dropout(0.5), nn.Linear(64, 2))
    epochs = 40
    optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=["accuracy"],
                      scheduler=scheduler, seed=seed)
    start = time.perf_counter()
    history = trainer.fit((X_train, y_train), epochs=epochs, batch_size=32,
                          augment=GaussianNoise(0.3), verbose=verbose)
    seconds = time.perf_counter() - start
    return {"test_accuracy": accuracy(y_test, trainer.predict(X_test)), "seconds": seconds,
            "history": history}


if __name__ == "__main__":
    result = train_breast_cancer(verbose=1)
    print(f"breast cancer: test accuracy {result['test_accuracy']:.4f} "
          f"(trained in {result['seconds']:.1f} s)")
