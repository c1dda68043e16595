"""What the Trainer needs to know about a loss: its task and how outputs become probabilities."""

from __future__ import annotations

import numpy as np

from ffnn.nn import traits


def get_loss(loss):
    """A loss module from a declared loss name ('cross_entropy', 'mse', ...; see
    ``ffnn.nn.traits``) or the callable itself."""
    if isinstance(loss, str):
        import ffnn.nn  # noqa: F401 - the losses declare their names on import

        if traits.lookup("loss", loss) is None:
            raise ValueError(f"Trainer: unknown loss name; known names: "
                             f"{sorted(traits.names('loss', aliases=True))}. "
                             f"Received: loss={loss!r}")
        return traits.make("loss", loss, "Trainer")
    if not callable(loss):
        raise TypeError(f"Trainer: loss must be a callable loss(output, target) or a name. "
                        f"Received: loss={loss!r} ({type(loss).__name__})")
    return loss


def loss_task(loss) -> str | None:
    """'multiclass' (softmax/NLL losses), 'binary' (BCE losses) or None (regression or a
    loss that declares no task), as the loss's class declares."""
    declared = traits.of(loss)
    task = declared.task if declared is not None else None
    return None if task == "regression" else task


def probabilities(loss, outputs: np.ndarray) -> np.ndarray:
    """Model outputs -> class probabilities, as the loss declares: softmax (cross-entropy),
    exp (NLL on log-probabilities), σ (BCE with logits), unchanged (BCE on probabilities)."""
    declared = traits.of(loss)
    if declared is None or declared.probabilities is None:
        known = [t.cls.__name__ for t in traits.all_traits("loss") if t.probabilities]
        raise TypeError(f"predict_proba needs a classification loss ({', '.join(known)}). "
                        f"Received: loss {type(loss).__name__}")
    return declared.probabilities(np.asarray(outputs, dtype=np.float64))


def labels(probs: np.ndarray) -> np.ndarray:
    """Class labels from probabilities: argmax of [n, k>1], p > 0.5 of [n] / [n, 1]."""
    if probs.ndim == 2 and probs.shape[1] > 1:
        return probs.argmax(axis=1)
    return (probs.reshape(probs.shape[0]) > 0.5).astype(np.int64)
