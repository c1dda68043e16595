"""torch's ``torch.nn.modules`` path (``from torch.nn.modules.loss import _WeightedLoss``,
``isinstance(m, nn.modules.batchnorm._BatchNorm)``): each of torch's submodule names here is
``ffnn.nn`` itself, so every layer, loss and base class is found under any of them and is
ffnn's own class."""

import sys

from ffnn import nn as _nn
from ffnn.nn import *  # noqa: F403 - the layers under torch.nn.modules's path too
from ffnn.nn import __all__ as _layers

SUBMODULES = (
    "module", "linear", "activation", "loss", "container", "batchnorm", "normalization",
    "dropout", "sparse", "transformer", "flatten", "distance", "padding", "instancenorm",
)
"""torch's names for the files of ``torch.nn.modules`` that hold what ffnn has."""

for _name in SUBMODULES:
    sys.modules[f"{__name__}.{_name}"] = _nn
    globals()[_name] = _nn

__all__ = [*_layers, *SUBMODULES]
