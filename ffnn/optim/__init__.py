"""``ffnn.optim``: optimizers with ``torch.optim``'s names, options and ``state_dict`` layout.

Each optimizer holds ``param_groups`` + ``state`` and calls a pure, in-place update function
on arrays (``sgd_update``, ``adam_update``, ...); ``lr_scheduler`` changes ``group["lr"]``.
Each update function dispatches (``_dispatch``) to sibling implementations of one formula:
``_single_tensor_*`` (NumPy, the reference), ``_compiled_*`` (a loop generated from the
optimizer's ``*_KERNEL`` description by ``ffnn.kernels``) and, for Adam, ``_blocked_adam``.
``swa_utils``: weight averaging (SWA, EMA) and its schedule.
"""

from ffnn.optim import lr_scheduler
from ffnn.optim.adadelta import Adadelta
from ffnn.optim.adagrad import Adagrad
from ffnn.optim.adam import Adam
from ffnn.optim.adam_variants import Adamax, NAdam, RAdam
from ffnn.optim.adamw import AdamW
from ffnn.optim.asgd import ASGD
from ffnn.optim.lbfgs import LBFGS
from ffnn.optim.optimizer import Optimizer
from ffnn.optim.rmsprop import RMSprop
from ffnn.optim.rprop import Rprop
from ffnn.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "LBFGS",
           "Adamax", "NAdam", "RAdam", "Rprop", "ASGD",
           "lr_scheduler", "swa_utils"]


def __getattr__(name: str):
    """``swa_utils`` at first use (it imports ``ffnn.nn``)."""
    if name == "swa_utils":
        import importlib  # noqa: PLC0415

        return importlib.import_module("ffnn.optim.swa_utils")
    raise AttributeError(f"module 'ffnn.optim' has no attribute {name!r}")
