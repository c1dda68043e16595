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
from ffnn.train.model_checkpoint import ModelCheckpoint
from ffnn.train.progress import EpochPrinter, ProgressBar
from ffnn.train.strategy import LocalStrategy, Strategy
from ffnn.train.trainer import Trainer

__all__ = [
    "Trainer", "History", "Callback", "CallbackList", "EarlyStopping", "TerminateOnNaN",
    "CSVLogger", "LearningRateMonitor", "ProgressBar", "EpochPrinter", "metrics", "Metric",
    "get_metric", "accuracy", "top_k_accuracy", "precision", "recall", "f1_score",
    "confusion_matrix", "mean_squared_error", "mean_absolute_error", "r2_score",
    "ModelCheckpoint", "Strategy", "LocalStrategy",
]

