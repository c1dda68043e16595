"""ffnn: feed-forward neural networks from scratch on NumPy, with PyTorch's names.

``import ffnn as torch`` runs a plain PyTorch MLP program; every derivative is written out by
hand in ``ffnn.ops`` next to its forward formula.
"""

from ffnn import autograd
from ffnn.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from ffnn.creation import (
    arange,
    as_tensor,
    cat,
    concatenate,
    eye,
    from_numpy,
    full,
    is_tensor,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from ffnn.dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int32,
    int64,
    long,
    set_default_dtype,
)
from ffnn.gradcheck import gradcheck  # the function, not the module of the same name
from ffnn.ops import (
    abs,
    clamp,
    exp,
    log,
    log_softmax,
    matmul,
    maximum,
    mean,
    minimum,
    relu,
    sigmoid,
    softmax,
    sqrt,
    sum,
    tanh,
)
from ffnn.random import Generator, get_rng_state, manual_seed, seed, set_rng_state
from ffnn.tensor import Tensor

__version__ = "0.1.0"

float = float32  # noqa: A001 - torch.float is float32

__all__ = [
    "Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "zeros_like",
    "ones_like", "eye", "arange", "linspace", "randn", "rand", "randint", "randperm", "cat",
    "concatenate", "stack", "is_tensor", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "autograd",
    "is_grad_enabled", "manual_seed", "seed", "Generator", "get_rng_state", "set_rng_state",
    "float16", "float32", "float64", "half", "double", "int32", "int64", "long", "bool_",
    "get_default_dtype", "set_default_dtype", "abs", "clamp", "exp", "log", "matmul",
    "maximum", "minimum", "mean", "sqrt", "sum", "sigmoid", "tanh", "relu", "softmax",
    "log_softmax", "gradcheck", "__version__",
]


def __getattr__(name):
    """Lazy submodules and the checkpoint/gradcheck API (so ``import ffnn`` stays light)."""
    import importlib

    if name in {"nn", "optim", "data", "train", "io", "finetune", "interop", "sklearn",
                "distributed", "bench", "explain", "utils", "ops"}:
        return importlib.import_module(f"ffnn.{name}")
    if name in {"save", "load", "load_state_dict", "CheckpointError"}:
        from ffnn.io import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'ffnn' has no attribute {name!r}")
