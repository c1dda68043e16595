"""What each module of a plain chain is: the one ``ffnn.ops`` Function its ``forward``
applies, with the options it applies it with.

A chain is ``nn.Linear`` layers, element-wise activations and norms that declare their ``op``
(``ffnn.nn.traits``), dropout and batch norm, whose options are read from their modules at
each call, as their ``forward`` reads them, and an ``nn.Flatten()`` first; one written in place
(``inplace=True``) only right after a Linear or a norm (``_KEEPS_NO_OUTPUT``).
``ffnn.compiler.chain`` replays such a chain without the graph; ``ffnn.nn.chain_call`` runs a
``Sequential`` of them as one node of it.
"""

from __future__ import annotations

from ffnn import random as _random
from ffnn.nn import traits
from ffnn.nn.linear import Flatten, Identity, Linear
from ffnn.nn.normalization import BatchNorm1d, Dropout, buffer_of, count_batch
from ffnn.ops import dropout, matrix, norms
from ffnn.ops.shape import FlattenFeatures

BATCH_NORM_MODULE = "batch_norm_module"
"""The option of a batch norm layer: its module, read at each call as ``BatchNorm1d.forward``
reads it (the replay takes it in training mode, where it uses the batch's statistics)."""
DROPOUT_MODULE = "dropout_module"
"""The option of a dropout layer: its module, whose ``p``, ``training`` and ``generator`` are
read at each call as ``nn.Dropout.forward`` reads them (so its masks are the eager step's)."""


_OWN_FORWARD = {kind: kind.forward for kind in (Linear, Identity, BatchNorm1d, Dropout,
                                                 Flatten)}
"""The ``forward`` of each layer taken by its type, as imported: a class whose ``forward``
was replaced since (a monkeypatch) computes something else, and runs itself."""


def hooked_module(module) -> bool:
    """Whether ``module`` has forward hooks (as ``Module.__call__`` looks for them)."""
    attributes = vars(module)
    return "_forward_hooks" in attributes or "_forward_pre_hooks" in attributes


def runs_itself(attributes: dict) -> bool:
    """Whether a module with these instance attributes (``vars``) runs more than its class's
    ``forward``: forward hooks, or a ``forward`` set on the instance (as
    ``ffnn.utils.profile`` times each layer)."""
    return "forward" in attributes or "_forward_hooks" in attributes or \
        "_forward_pre_hooks" in attributes


def own_call(module) -> bool:
    """``runs_itself`` for ``module``; False for an empty slot (None)."""
    return module is not None and runs_itself(vars(module))


def any_own_call(attributes: list) -> bool:
    """``runs_itself`` of any of these modules' attribute dicts: the chain node's check at
    every call (the dicts kept with its plan)."""
    return any(map(runs_itself, attributes))


_KEEPS_NO_OUTPUT = (matrix.Linear, norms.BatchNorm, norms.LayerNorm)
"""Ops whose backward does not read their output: a layer after one of them writing in place
(``ReLU(inplace=True)``) computes what it computes out of place. After another op it could
overwrite what that op saved (the graph reports it, as torch does), so it runs layer by
layer."""


def layer_of(module, after: type | None = None) -> tuple | str | None:
    """(op class, the module when it holds parameters (a Linear, a layer norm) else None,
    options) for one module after a layer of op ``after`` (None: first); None to skip it;
    a reason."""
    kind = type(module)
    if kind in _OWN_FORWARD and kind.forward is not _OWN_FORWARD[kind]:
        return f"{kind.__name__}.forward was replaced"
    if kind is Linear:
        shape = (module.out_features, module.in_features)
        if module.weight._data.shape != shape or (
                module.bias is not None and module.bias._data.shape != shape[:1]):
            return f"a Linear{shape[::-1]} has parameters of other shapes"
        return matrix.Linear, module, {}
    if kind is Identity:
        return None
    if kind is Flatten:  # the chains take it first, on [n, ...] (``flatten_reason``)
        if (module.start_dim, module.end_dim) != (1, -1):
            return (f"Flatten(start_dim={module.start_dim}, end_dim={module.end_dim}) is not "
                    "captured")
        return FlattenFeatures, None, {}
    if kind is BatchNorm1d:  # its options are read at each call, as its forward reads them
        return norms.BatchNorm, module, {BATCH_NORM_MODULE: module}
    if kind is Dropout:  # its options are read at each call (p, train/eval, generator)
        if module.inplace and after not in _KEEPS_NO_OUTPUT:
            return _inplace_reason(module)
        return dropout.Dropout, None, {DROPOUT_MODULE: module}
    declared = traits.of(module)
    if declared is None or declared.op is None:
        return f"module {kind.__name__} is not supported"
    if kind.forward is not traits.declared_forward(declared.cls):
        return f"{kind.__name__}.forward was replaced"
    if getattr(module, "inplace", False) and after not in _KEEPS_NO_OUTPUT:
        return _inplace_reason(module)
    options = declared.op_options(module) if declared.op_options else {}
    if options is None:
        return f"{kind.__name__} with these options is not captured"
    return declared.op, module if vars(module)["_parameters"] else None, options


def _inplace_reason(module) -> str:
    return (f"{type(module).__name__}(inplace=True) is captured only after a Linear or a "
            "norm")


def dropout_options(module) -> dict | None:
    """The dropout op's options for ``module`` now (its generator's stream drawn from, as
    ``F.dropout`` draws), or None when it is the identity (eval mode, p = 0)."""
    if not module.training or module.p == 0.0:
        return None
    return {"p": module.p, "rng": _random.rng(module.generator)}


def batch_statistics(module) -> bool:
    """Whether ``module`` (a BatchNorm1d) normalises with the batch's statistics now."""
    return (module.training and not module.frozen) or not module.track_running_stats


def batch_norm_options(module) -> dict:
    """The batch norm op's options for ``module`` in training mode, after counting the batch
    (``BatchNorm1d.forward``'s steps, ``F.batch_norm``'s momentum)."""
    updates = module.training and not module.frozen and module.track_running_stats
    if updates:
        count_batch(module)
    factor = module.momentum
    if factor is None:  # cumulative moving average
        tracked = module.num_batches_tracked
        factor = 1.0 / float(tracked) if tracked else 0.0
    running = batch_norm_buffers(module) if updates else (None,) * 3
    return {"eps": module.eps, "running_mean": running[0], "running_var": running[1],
            "momentum": factor}


def running_statistics(module) -> tuple:
    """A batch norm's running mean and variance, as arrays (its buffers' own)."""
    mean, var = buffer_of(module, "running_mean"), buffer_of(module, "running_var")
    return getattr(mean, "_data", mean), getattr(var, "_data", var)


def batch_norm_buffers(module) -> tuple:
    """A batch norm's running mean, variance and count, as arrays (its buffers' own)."""
    count = buffer_of(module, "num_batches_tracked")
    return (*running_statistics(module), getattr(count, "_data", count))


def flatten_reason(layers: list) -> str | None:
    """Why the chain ``layers`` (``layer_of``'s, in order) has a Flatten it cannot take: one
    anywhere but first (its input's shape is known only there), or None."""
    if any(layer[0] is FlattenFeatures for layer in layers[1:]):
        return "a Flatten after the first layer is not captured"
    return None
