"""From config to objects: the MLP, the optimizer, the schedule, the augmentation."""

from __future__ import annotations

import dataclasses
import math

from ffnn.cli.config import AugmentConfig, ModelConfig, TrainConfig
from ffnn.nn import traits

EPOCHS, LR = 30, 1e-3
"""``train.epochs`` / ``train.lr`` when left at 0 (auto), for bundled data sets."""
TABLE_STEPS, TABLE_EPOCHS, TABLE_LR = 2000, (30, 200), 3e-4
"""… and for CSV tables: about ``TABLE_STEPS`` optimizer steps (epochs within
``TABLE_EPOCHS``) at ``TABLE_LR``; the validation rows pick the best epoch."""


def resolve_train(train: TrainConfig, rows: int, table: bool) -> TrainConfig:
    """``train`` with its automatic values (0) filled in for ``rows`` training rows.

    A CSV table trains for ceil(TABLE_STEPS / ceil(rows / batch_size)) epochs, clipped to
    TABLE_EPOCHS, at lr TABLE_LR: a budget in steps, so that a 300-row table gets as many
    updates as a 10,000-row one (epochs alone would give it 5 steps each), and the lower lr
    keeps the validation curve smooth enough for the best epoch to be worth keeping.
    """
    epochs, lr = train.epochs, train.lr
    if not lr:
        lr = TABLE_LR if table else LR
    if not epochs:
        epochs = EPOCHS
        if table:
            steps = -(-max(int(rows), 1) // train.batch_size)
            epochs = min(TABLE_EPOCHS[1], max(TABLE_EPOCHS[0], -(-TABLE_STEPS // steps)))
    return dataclasses.replace(train, epochs=epochs, lr=lr)


def build_mlp(model: ModelConfig, in_features: int, out_features: int):
    """Sequential(Linear, [BatchNorm1d|LayerNorm], activation, [Dropout], ..., Linear)."""
    from ffnn.nn.mlp import build_mlp as mlp

    net = mlp(in_features, model.hidden_sizes, out_features,
              lambda: traits.make("activation", model.activation, "model.activation"),
              norm=None if model.norm == "none" else model.norm, dropout=model.dropout)
    if model.init != "default":
        initialise(net, model.init, model.activation)
    return net


def build_model(model: ModelConfig, preprocessing: dict, in_features: int, out_features: int,
                augment: AugmentConfig | None = None):
    """An MLP, or a TabularModel (embeddings → the MLP) when the table has embedded columns."""
    tabular = preprocessing.get("tabular")
    if tabular is None:
        return build_mlp(model, in_features, out_features)
    from ffnn import nn
    from ffnn.data.tabular import TabularPreprocessor

    columns = TabularPreprocessor.from_state_dict(tabular)
    if not columns.cardinalities:
        return build_mlp(model, in_features, out_features)
    if augment is not None and (augment.noise or augment.mixup):
        embedded = [c["name"] for c in tabular["columns"] if c.get("encoding") == "embedding"]
        raise ValueError(f"augment.noise and augment.mixup change continuous inputs; columns "
                         f"{embedded} are category indices (embeddings). Raise data.onehot_max "
                         "to one-hot them, or turn the augmentation off")
    mlp = build_mlp(model, columns.num_continuous + sum(columns.embedding_dims), out_features)
    return nn.TabularModel(columns.num_continuous, columns.cardinalities,
                           columns.embedding_dims, mlp)


def initialise(net, scheme: str, activation: str) -> None:
    """Re-initialise every Linear weight with ``scheme`` (biases to zero); Kaiming schemes
    use the gain the activation declares (``relu``'s when it declares none)."""
    from ffnn import nn
    from ffnn.nn import init

    found = traits.lookup("activation", activation)
    nonlinearity = (found[0].gain if found else None) or "relu"
    for module in net.modules():
        if isinstance(module, nn.Linear):
            if scheme.startswith("kaiming"):
                getattr(init, scheme + "_")(module.weight, nonlinearity=nonlinearity)
            else:
                getattr(init, scheme + "_")(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)


def build_optimizer(train: TrainConfig, params):
    """The optimizer of ``train.optimizer`` over ``params`` (tensors or param groups); under
    mpiexec with ``train.shard_optimizer``, sharded over the ranks."""
    from ffnn import optim

    options = {"lr": train.lr, "weight_decay": train.weight_decay}
    if train.optimizer in ("sgd", "rmsprop"):
        options["momentum"] = train.momentum
    cls = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
           "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}[train.optimizer]
    if train.shard_optimizer:
        from ffnn.distributed import launched_with_mpi

        if launched_with_mpi():
            from ffnn.distributed import ZeroRedundancyOptimizer

            return ZeroRedundancyOptimizer(params, cls, **options)
    return cls(params, **options)


def build_scheduler(train: TrainConfig, optimizer, steps_per_epoch: int):
    """(scheduler or None, interval 'epoch' | 'batch')."""
    from ffnn.optim import lr_scheduler as s

    kind = train.schedule
    if kind == "none":
        return None, "epoch"
    if kind == "step":
        return s.StepLR(optimizer, step_size=train.step_size, gamma=train.gamma), "epoch"
    if kind == "exponential":
        return s.ExponentialLR(optimizer, gamma=train.gamma), "epoch"
    if kind == "cosine":
        return s.CosineAnnealingLR(optimizer, T_max=train.epochs), "epoch"
    if kind == "plateau":
        return s.ReduceLROnPlateau(optimizer, factor=train.gamma,
                                   patience=train.plateau_patience), "epoch"
    return s.OneCycleLR(optimizer, max_lr=train.lr, epochs=train.epochs,
                        steps_per_epoch=steps_per_epoch), "batch"


def build_augment(augment: AugmentConfig, n_features: int, num_classes: int | None):
    """A Compose of the configured augmentations, or None."""
    from ffnn.data import Compose, GaussianNoise, Mixup, RandomShift

    transforms = []
    if augment.shift:
        side = int(math.isqrt(n_features))
        if side * side != n_features:
            raise ValueError(f"augment.shift needs square images; {n_features} features are "
                             "not a square number of pixels. Received: augment.shift="
                             f"{augment.shift}")
        transforms.append(RandomShift((side, side), augment.shift))
    if augment.noise:
        transforms.append(GaussianNoise(augment.noise))
    if augment.mixup:
        if num_classes is None:
            raise ValueError("augment.mixup needs a classification task. Received: "
                             f"augment.mixup={augment.mixup}")
        transforms.append(Mixup(augment.mixup, num_classes))
    return Compose(transforms) if transforms else None


def loss_and_metrics(task: str):
    """Cross-entropy + accuracy for classification, MSE + mae + r2 for regression."""
    if task == "classification":
        return "cross_entropy", ["accuracy"]
    return "mse", ["mae", "r2"]
