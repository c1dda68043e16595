"""ffnn: feed-forward neural networks from scratch on NumPy, with PyTorch's names.

``import ffnn as torch`` runs a plain PyTorch MLP program; every derivative is written out by
hand in ``ffnn.ops`` next to its forward formula.
"""

import math

import numpy as np

from ffnn import (
    _malloc,
    autograd,
    determinism,
    functions_aliases,
    functions_arrays,
    functions_compositions,
    functions_linalg,
    functions_math,
    functions_more,
    functions_sampling,
    functions_writes,
    type_promotion,
)
from ffnn.autograd import (
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from ffnn.creation import (
    arange,
    as_tensor,
    asarray,
    cat,
    concat,
    concatenate,
    empty,
    empty_like,
    eye,
    from_numpy,
    frombuffer,
    full,
    full_like,
    is_tensor,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from ffnn.determinism import *  # noqa: F403 - see its __all__
from ffnn.device import device
from ffnn.dtypes import (
    bfloat16,
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from ffnn.environment import (
    get_default_device,
    get_num_threads,
    set_default_device,
    set_default_tensor_type,
    set_flush_denormal,
    set_num_threads,
)
from ffnn.functions import (
    Size,
    add,
    allclose,
    amax,
    amin,
    argmax,
    argmin,
    argsort,
    bmm,
    ceil,
    chunk,
    clone,
    cos,
    cumsum,
    detach,
    div,
    dot,
    eq,
    equal,
    expm1,
    flatten,
    floor,
    floor_divide,
    gather,
    isfinite,
    isinf,
    isnan,
    log1p,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    neg,
    norm,
    numel,
    outer,
    permute,
    pow,
    remainder,
    reshape,
    round,
    set_printoptions,
    sign,
    sin,
    sort,
    split,
    square,
    squeeze,
    std,
    sub,
    sum,
    swapaxes,
    t,
    topk,
    transpose,
    unsqueeze,
    var,
    where,
)
from ffnn.functions_aliases import *  # noqa: F403 - see its __all__
from ffnn.functions_arrays import *  # noqa: F403 - see its __all__
from ffnn.functions_compositions import *  # noqa: F403 - see its __all__
from ffnn.functions_linalg import *  # noqa: F403 - torch.inverse, torch.det … (see its __all__)
from ffnn.functions_math import *  # noqa: F403 - see its __all__
from ffnn.functions_more import *  # noqa: F403 - torch.flip, torch.prod … (see its __all__)
from ffnn.functions_sampling import *  # noqa: F403 - see its __all__
from ffnn.functions_writes import *  # noqa: F403 - see its __all__
from ffnn.gradcheck import gradcheck  # the function, not the module of the same name
from ffnn.memory_format import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)
from ffnn.ops import (
    abs,
    clamp,
    exp,
    log,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    sqrt,
    tanh,
)
from ffnn.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from ffnn.tensor import Tensor
from ffnn.tensor_types import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from ffnn.type_promotion import *  # noqa: F403 - see its __all__

__version__ = "0.1.0"

dtype = np.dtype
"""torch's dtype class: ffnn's dtypes are NumPy's (``isinstance(x.dtype, ffnn.dtype)``)."""

float = float32  # noqa: A001 - torch.float is float32
int = int32  # noqa: A001 - torch.int is int32
bool = bool_  # noqa: A001 - torch.bool
pi, e, inf, nan, newaxis = math.pi, math.e, math.inf, math.nan, None  # torch's constants

__all__ = [
    "Tensor", "tensor", "as_tensor", "asarray", "from_numpy", "frombuffer", "pi", "e", "inf",
    "nan", "newaxis", "zeros", "ones", "full", "zeros_like",
    "ones_like", "eye", "arange", "linspace", "randn", "rand", "randint", "randperm", "cat",
    "concatenate", "stack", "is_tensor", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "is_inference_mode_enabled", "autograd", "dtype",
    "default_generator", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "is_grad_enabled", "manual_seed", "seed", "initial_seed", "Generator", "get_rng_state",
    "set_rng_state",
    "float16", "float32", "float64", "bfloat16", "half", "double", "int32", "int64", "long",
    "bool_",
    "get_default_dtype", "set_default_dtype", "abs", "clamp", "exp", "log", "matmul",
    "maximum", "minimum", "mean", "sqrt", "sum", "sigmoid", "tanh", "relu", "softmax",
    "log_softmax", "gradcheck", "compile", "__version__",
    # torch's spellings of factories, functions, types and the environment
    "empty", "empty_like", "full_like", "rand_like", "randn_like", "randint_like", "normal",
    "concat", "device", "int8", "int16", "short", "uint8", "get_default_device",
    "get_num_threads", "set_default_device", "set_default_tensor_type", "set_flush_denormal",
    "set_num_threads",
    "add", "allclose", "amax", "amin", "argmax", "argmin", "bmm", "chunk", "clone", "cos",
    "detach", "div", "dot", "eq", "equal", "flatten", "isfinite", "isinf", "isnan", "max",
    "min", "mm", "mul", "neg", "norm", "numel", "outer", "permute", "pow", "reshape", "round",
    "sign", "sin", "split", "square", "squeeze", "std", "sub", "swapaxes", "t", "transpose",
    "unsqueeze", "var", "where", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
    "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "Size", "argsort",
    "gather", "set_printoptions", "sort", "topk", "ceil", "cumsum", "expm1", "floor",
    "floor_divide", "log1p", "logsumexp", "remainder", *functions_more.__all__,
    *functions_math.__all__, *functions_sampling.__all__, *functions_arrays.__all__,
    *functions_linalg.__all__, *type_promotion.__all__, *determinism.__all__,
    *functions_writes.__all__, *functions_aliases.__all__, *functions_compositions.__all__,
    "memory_format", "contiguous_format", "preserve_format", "channels_last",
    "channels_last_3d",
]


def __getattr__(name):
    """Lazy submodules and the checkpoint/gradcheck API (so ``import ffnn`` stays light)."""
    import importlib

    if name in {"nn", "optim", "data", "train", "io", "finetune", "interop", "sklearn",
                "distributed", "bench", "explain", "utils", "ops", "cuda", "backends",
                "accelerator", "autograd", "amp", "linalg", "distributions", "func",
                "testing", "special", "jit", "onnx", "profiler"}:
        return importlib.import_module(f"ffnn.{name}")
    if name == "autocast":
        from ffnn.amp import autocast

        return autocast
    if name == "vmap":
        from ffnn.func import vmap

        return vmap
    if name == "compile":  # the function; its package is ffnn.compiler, as torch's
        from ffnn.compiler import compile

        return compile
    if name in {"save", "load", "load_state_dict", "CheckpointError"}:
        from ffnn.io import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'ffnn' has no attribute {name!r}")


def _accept_out() -> None:
    """Give the function forms torch's ``out=`` keyword (see ffnn.out_argument)."""
    from ffnn import out_argument

    for name in out_argument.FUNCTIONS:
        globals()[name] = out_argument.with_out(globals()[name])


_accept_out()


def _accept_numpy_names() -> None:
    """``axis=`` / ``keepdims=`` / ``input=`` … as torch's parser takes them (ffnn.numpy_names)."""
    from ffnn import numpy_names

    numpy_names.accept_in_namespace(globals(), __all__)
    numpy_names.accept_on_class(Tensor)


_accept_numpy_names()

_malloc.tune()  # glibc: steady heap reuse across training steps (ffnn/_malloc.py)
_malloc.align_arrays()  # NumPy's arrays on 64-byte boundaries (ffnn/_aligned_arrays.py)
