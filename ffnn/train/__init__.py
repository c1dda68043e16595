"""``ffnn.train``: the ``Trainer`` loop, ``History``, Keras-style callbacks and metrics."""

from ffnn.train import metrics
from ffnn.train.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    LearningRateMonitor,
    TerminateOnNaN,
)
from ffnn.train.history import History
from ffnn.train.metrics import (
    Metric,
    accuracy,
    confusion_matrix,
    f1_score,
    get_metric,
    mean_absolute_error,
    mean_squared_error,
    precision,
    r2_score,
    recall,
    top_k_accuracy,
)
from ffnn.train.progress import EpochPrinter, ProgressBar
from ffnn.train.trainer import Trainer

__all__ = [
    "Trainer", "History", "Callback", "CallbackList", "EarlyStopping", "TerminateOnNaN",
    "CSVLogger", "LearningRateMonitor", "ProgressBar", "EpochPrinter", "metrics", "Metric",
    "get_metric", "accuracy", "top_k_accuracy", "precision", "recall", "f1_score",
    "confusion_matrix", "mean_squared_error", "mean_absolute_error", "r2_score",
    "ModelCheckpoint",
]


def __getattr__(name):
    """``ModelCheckpoint`` lives with the checkpoint format in ``ffnn.io``; importing it
    lazily keeps ``ffnn.train`` free of a cycle with ``ffnn.io.resume``."""
    if name == "ModelCheckpoint":
        from ffnn.io.model_checkpoint import ModelCheckpoint

        return ModelCheckpoint
    raise AttributeError(f"module 'ffnn.train' has no attribute {name!r}")
