"""Diabetes progression (regression): an MLP trained by ffnn's Trainer, R² on a 25% test split.

Split: scikit-learn's ``train_test_split(X, y, test_size=0.25, random_state=0)`` (not
stratified: the target is continuous). Inputs and target standardised on the training part;
332 training rows call for a small, strongly regularised network (dropout, weight decay,
input noise). Run ``python examples/train_diabetes.py``.
"""

from __future__ import annotations

import time

import ffnn
from ffnn import nn, optim
from ffnn.data import GaussianNoise, StandardScaler, load_diabetes
from ffnn.train import Trainer, r2_score


def train_diabetes(seed: int = 0, verbose: int = 0) -> dict:
    """Train on the training split; return {'test_r2', 'seconds', 'history'}."""
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    x_scaler, y_scaler = StandardScaler().fit(X_train), StandardScaler().fit(y_train)
    X_train, X_test = x_scaler.transform(X_train), x_scaler.transform(X_test)

    ffnn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Dropout(0.5), nn.Linear(16, 1))
    epochs = 50
    optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    trainer = Trainer(model, nn.MSELoss(), optimizer, metrics=["r2"], scheduler=scheduler,
                      seed=seed)
    start = time.perf_counter()
    history = trainer.fit((X_train, y_scaler.transform(y_train)), epochs=epochs, batch_size=32,
                          augment=GaussianNoise(0.3), verbose=verbose)
    seconds = time.perf_counter() - start
    prediction = y_scaler.inverse_transform(trainer.predict(X_test)[:, 0])
    return {"test_r2": r2_score(y_test, prediction), "seconds": seconds, "history": history}


if __name__ == "__main__":
    result = train_diabetes(verbose=1)
    print(f"diabetes: test R² {result['test_r2']:.4f} (trained in {result['seconds']:.1f} s)")
