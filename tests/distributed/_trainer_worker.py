"""``Trainer(..., distributed=True)`` under mpiexec (or in one process, for the reference).

argv: CONFIG_JSON OUT_FOLDER. Every rank writes OUT/rank{r}.safetensors (final weights;
metadata "history": the History dict). A callback marked ``main_process_only`` writes
OUT/callback_rank{r}.txt, and a CSVLogger writes OUT/log.csv, on rank 0 only; with
``checkpoint`` (a folder) a ModelCheckpoint saves there, and ``resume`` starts from it.
"""

from __future__ import annotations

import json
import os
import sys

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)),
                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]

import _common  # noqa: E402
import numpy as np  # noqa: E402
import safetensors.numpy  # noqa: E402

import ffnn.distributed as dist  # noqa: E402
from ffnn.train import Callback, CSVLogger, ModelCheckpoint, Trainer  # noqa: E402


class RankFile(Callback):
    main_process_only = True

    def __init__(self, folder: str):
        self.folder = folder

    def on_train_end(self, logs=None):
        with open(os.path.join(self.folder, f"callback_rank{dist.rank()}.txt"), "w") as handle:
            handle.write("written")


def run(cfg: dict, out: str) -> tuple[dict, dict]:
    x, y = _common.make_data(cfg)
    model = _common.build_model(cfg, cfg["init_seed"] + dist.rank())
    if cfg["kind"] == "syncbn":
        model = dist.convert_sync_batchnorm(model)
    callbacks = [RankFile(out), CSVLogger(os.path.join(out, "log.csv"))]
    if cfg["checkpoint"]:  # a folder: last.safetensors after every epoch (rank 0)
        callbacks.append(ModelCheckpoint(cfg["checkpoint"]))
    trainer = Trainer(model, "mse", _common.make_optimizer(model, cfg), metrics=["mae", "r2"],
                      grad_clip=_common.MAX_NORM, seed=cfg["seed"], distributed=True,
                      callbacks=callbacks)
    resume = os.path.join(cfg["checkpoint"], "last.safetensors") if cfg["resume"] else None
    history = trainer.fit((x, y), val=(x[:10], y[:10]), epochs=cfg["epochs"],
                          batch_size=cfg["batch_size"], verbose=0, resume_from=resume)
    weights = {k: np.array(v) for k, v in model.state_dict().items()}
    return weights, history.history


def main() -> None:
    cfg, out = json.loads(sys.argv[1]), sys.argv[2]
    weights, history = run(cfg, out)
    with open(os.path.join(out, f"rank{dist.rank()}.safetensors"), "wb") as handle:
        handle.write(safetensors.numpy.save(
            {k: np.ascontiguousarray(v) for k, v in weights.items()},
            metadata={"info": json.dumps(history)}))


if __name__ == "__main__":
    main()
