"""``History``: what ``Trainer.fit`` logged per epoch, as in Keras (``history.history['loss']``).

``history`` maps each logged name ('loss', metric names, 'val_loss', 'val_<metric>', 'lr') to
one value per epoch; ``epoch`` lists the (0-based) epoch indices; ``times`` the wall-clock
seconds of each epoch (kept apart so that two runs with one seed have equal ``history``).
"""

from __future__ import annotations

import math
import os

from ffnn.io.atomic import atomic_write_bytes


class History:
    """Per-epoch logs: ``history`` (name -> list of floats), ``epoch``, ``times``."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.times: list[float] = []

    def record(self, epoch: int, logs: dict[str, float], time: float | None = None) -> None:
        """Append one epoch's logs; a name missing at some epochs is padded with NaN."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        self.times.append(float("nan") if time is None else float(time))
        history = self.history
        for key, value in logs.items():
            values = history.get(key)
            if values is None:
                values = history[key] = [math.nan] * n
            values.append(float(value))
        if len(history) != len(logs):  # a name not logged this epoch: NaN
            for values in history.values():
                if len(values) == n:
                    values.append(math.nan)

    def __len__(self) -> int:
        return len(self.epoch)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    # ----- checkpoints ----------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-able copy (NaN is kept as float NaN; ``json`` writes it as ``NaN``)."""
        return {"history": {k: list(v) for k, v in self.history.items()},
                "epoch": list(self.epoch), "times": list(self.times)}

    @classmethod
    def from_dict(cls, state: dict) -> History:
        """Rebuild from :meth:`to_dict`; raises ValueError when the lengths disagree."""
        missing = {"history", "epoch"} - set(state)
        if missing:
            raise ValueError(f"History.from_dict: missing keys {sorted(missing)}. "
                             f"Received: keys {sorted(state)}")
        history = cls()
        history.epoch = [int(e) for e in state["epoch"]]
        n = len(history.epoch)
        history.times = [float(t) for t in state.get("times", [math.nan] * n)]
        history.history = {str(k): [float(x) for x in v] for k, v in state["history"].items()}
        bad = {k: len(v) for k, v in history.history.items() if len(v) != n}
        if bad or len(history.times) != n:
            raise ValueError(f"History.from_dict: every list needs one value per epoch ({n}). "
                             f"Received: lengths {bad or {'times': len(history.times)}}")
        return history

    # ----- plots ----------------------------------------------------------------------
    def plot(self, path: str | os.PathLike, dpi: int = 100) -> str:
        """Write a PNG with one panel per quantity (loss, then each metric, then lr):
        training curve against the ``val_`` curve. Needs matplotlib (Agg backend)."""
        if not self.epoch:
            raise ValueError("History.plot: nothing to plot (no epoch recorded yet)")
        try:
            from matplotlib.figure import Figure  # no pyplot: PNG rendered by Agg, no GUI
        except ImportError as err:
            raise ImportError("History.plot needs matplotlib: pip install ffnn[all]") from err
        names = [k for k in self.history if not k.startswith("val_")]
        names += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in names]
        names.sort(key=lambda k: (k != "loss", k == "lr"))
        figure = Figure(figsize=(4.5 * len(names), 3.5), dpi=dpi)
        epochs = [e + 1 for e in self.epoch]
        for i, name in enumerate(names):
            axes = figure.add_subplot(1, len(names), i + 1)
            if name in self.history:
                label = "learning rate" if name == "lr" else "train"
                axes.plot(epochs, self.history[name], marker=".", label=label)
            if "val_" + name in self.history:
                axes.plot(epochs, self.history["val_" + name], marker=".", label="validation")
            axes.set_title(name)
            axes.set_xlabel("epoch")
            if name == "lr" or (name == "loss" and _positive(self.history.get(name))):
                axes.set_yscale("log")
            axes.grid(alpha=0.3)
            axes.legend()
        figure.tight_layout()
        import io

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        atomic_write_bytes(path, buffer.getvalue())
        return os.fspath(path)


def _positive(values) -> bool:
    return bool(values) and all(v > 0 for v in values if not math.isnan(v))
