"""``ffnn.utils``: tools for users of the library (``profile``: time per layer) and torch's
paths to the data tools (``ffnn.utils.data``), activation checkpointing
(``ffnn.utils.checkpoint``), TensorBoard logging (``ffnn.utils.tensorboard``) and timing
(``ffnn.utils.benchmark``), each imported at its first use."""

import importlib

from ffnn.utils.profile import profile

_SUBMODULES = ("data", "checkpoint", "tensorboard", "benchmark")

__all__ = ["profile", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"ffnn.utils.{name}")
    raise AttributeError(f"module 'ffnn.utils' has no attribute {name!r}")
