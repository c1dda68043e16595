"""Estimator ↔ ffnn checkpoint: ``est.to_checkpoint(path)`` / ``FFNNClassifier.from_checkpoint``.

The file is an ordinary ``ffnn.save`` checkpoint — the network (``model_``), the input scaler
and, under ``metadata["sklearn"]``, the estimator's parameters and fitted attributes — so
``ffnn.load(path).model`` can be fine-tuned with ffnn, saved again with the same ``metadata``
and ``scaler``, and read back as an estimator. The optimizer state is not saved: the first
``partial_fit`` after loading starts a fresh optimizer.
"""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np

FITTED_FIELDS = ("n_features_in_", "n_outputs_", "n_layers_", "n_iter_", "t_", "loss_curve_",
                 "best_loss_", "validation_scores_", "best_validation_score_")


def _plain_params(estimator) -> dict:
    """``get_params()`` as JSON-able values (dtype as its name; a RandomState as None)."""
    params = estimator.get_params(deep=False)
    params["dtype"] = np.dtype(params["dtype"]).name
    if not (params["random_state"] is None or isinstance(params["random_state"], Integral)):
        params["random_state"] = None
    sizes = params["hidden_layer_sizes"]
    params["hidden_layer_sizes"] = [int(s) for s in np.atleast_1d(sizes)]
    return params


def to_checkpoint(estimator, path: str | os.PathLike) -> None:
    """Write a fitted estimator to ``path`` with ``ffnn.save`` (atomic, no pickle)."""
    from sklearn.utils.validation import check_is_fitted

    import ffnn

    check_is_fitted(estimator, "model_")
    info = {"estimator": type(estimator).__name__, "params": _plain_params(estimator),
            "epoch": estimator._epoch, "learning_rate": estimator._learning_rate}
    for name in FITTED_FIELDS:
        info[name.rstrip("_")] = getattr(estimator, name, None)
    if hasattr(estimator, "feature_names_in_"):
        info["feature_names_in"] = [str(n) for n in estimator.feature_names_in_]
    if hasattr(estimator, "classes_"):
        classes = estimator.classes_
        info["classes"] = classes.tolist()
        info["classes_dtype"] = classes.dtype.str
        info["multilabel"] = estimator._multilabel
        info["label_dtype"] = getattr(estimator, "_label_dtype", np.dtype(np.int64)).str
    else:
        info["y_1d"] = estimator._y_1d
    ffnn.save(path, estimator.model_, scaler=estimator.scaler_, metadata={"sklearn": info})


def from_checkpoint(cls, path: str | os.PathLike):
    """Rebuild a fitted estimator of class ``cls`` from a checkpoint written by
    :func:`to_checkpoint` (or re-saved by ffnn with the same metadata).

    Raises ``ffnn.CheckpointError`` for an unreadable file and ValueError when it holds no
    estimator metadata or one of another class.
    """
    import ffnn

    checkpoint = ffnn.load(path)
    info = checkpoint.metadata.get("sklearn") if isinstance(checkpoint.metadata, dict) else None
    if not isinstance(info, dict) or "estimator" not in info:
        raise ValueError(f"{os.fspath(path)!r} holds no scikit-learn estimator metadata (write "
                         "it with estimator.to_checkpoint(path), or re-save the ffnn model "
                         "with metadata=checkpoint.metadata)")
    if info["estimator"] != cls.__name__:
        raise ValueError(f"{os.fspath(path)!r} holds a {info['estimator']}, not a "
                         f"{cls.__name__}; use {info['estimator']}.from_checkpoint(path)")
    params = dict(info["params"])
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = cls(**params)
    model = checkpoint.model
    estimator.model_ = model.to(np.dtype(params["dtype"]))
    estimator.scaler_ = checkpoint.scaler
    for name in FITTED_FIELDS:
        value = info.get(name.rstrip("_"))
        setattr(estimator, name, list(value) if isinstance(value, (list, tuple)) else value)
    if info.get("feature_names_in") is not None:
        estimator.feature_names_in_ = np.asarray(info["feature_names_in"], dtype=object)
    if "classes" in info:
        dtype = np.dtype(info["classes_dtype"])
        estimator.classes_ = np.asarray(info["classes"], dtype=dtype)
        estimator._multilabel = bool(info["multilabel"])
        estimator._stratify = not estimator._multilabel
        estimator._label_dtype = np.dtype(info["label_dtype"])
    else:
        estimator._y_1d = bool(info["y_1d"])
    estimator._epoch = int(info.get("epoch") or 0)
    estimator._learning_rate = float(info.get("learning_rate") or params["learning_rate_init"])
    estimator._no_improvement_count = 0
    estimator._optimizer = None
    return estimator
