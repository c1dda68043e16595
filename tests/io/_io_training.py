"""A tiny training run shared by the resume tests and their subprocess (run as a script:
``python _io_training.py DIR EPOCHS [PARK_FILE]`` trains with a ModelCheckpoint in DIR and,
with PARK_FILE, stops mid-epoch 3 to be killed)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

import ffnn  # noqa: E402
from ffnn import nn  # noqa: E402
from ffnn.data import GaussianNoise  # noqa: E402
from ffnn.train import Callback, EarlyStopping, ModelCheckpoint, Trainer  # noqa: E402


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    return (X[:36], y[:36]), (X[36:], y[36:])


class Park(Callback):
    """After the second batch of the third epoch (two epochs checkpointed), creates ``marker``
    and waits to be killed: the kill lands mid-epoch whatever the machine's speed."""

    def __init__(self, marker: str):
        self.marker, self.epoch = Path(marker), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 2 and batch == 1:
            self.marker.touch()
            time.sleep(600)


def trainer(folder=None, park: str | None = None, init_seed: int = 1) -> Trainer:
    ffnn.manual_seed(init_seed)
    model = nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(16, 3))
    optimizer = ffnn.optim.Adam(model.parameters(), lr=0.02)
    scheduler = ffnn.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    callbacks = [EarlyStopping(monitor="val_loss", patience=100)]
    if folder is not None:
        callbacks.insert(0, ModelCheckpoint(folder, keep_last=2))
    if park:
        callbacks.append(Park(park))
    return Trainer(model, "cross_entropy", optimizer, scheduler=scheduler, callbacks=callbacks,
                   metrics=["accuracy"], seed=7)


def fit(t: Trainer, epochs: int, resume_from=None):
    train, val = data()
    kwargs = dict(epochs=epochs, batch_size=8, verbose=0, augment=GaussianNoise(0.1))
    return t.fit(train, val, resume_from=resume_from, **kwargs)


if __name__ == "__main__":
    folder, epochs = sys.argv[1], int(sys.argv[2])
    fit(trainer(folder, sys.argv[3] if len(sys.argv) > 3 else None), epochs)
