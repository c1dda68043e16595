"""Optional compiled kernels (numba): the element-wise passes that dominate a step, each
fused into one vectorised loop. The pure-NumPy code in ``ffnn.ops`` and ``ffnn.optim``
stays the reference and the fallback; these kernels compute the same formulas.

Why: NumPy runs one pass per ufunc. Adam is a dozen passes over seven arrays (0.6 ms for the
535k parameters of the 784-512-256-10 MLP, 12 ms for 8.4M); fused, 0.2 ms and 4 ms. The
loops are single-threaded on purpose: between two matrix products OpenBLAS's threads are
still spinning, and a threaded kernel fighting them made whole steps 2–4× slower here.
Numbers: ``docs/benchmarks.md``.

Used when numba imports and the environment does not set ``FFNN_ACCEL=0``; ``enabled`` can
also be switched at run time (the tests run both paths). Kernels compile on first use per
dtype and are cached on disk; numba itself is imported only then.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

available = importlib.util.find_spec("numba") is not None
enabled = available and os.environ.get("FFNN_ACCEL", "1") != "0"


_loaded: list = []


def _kernels():
    """The compiled kernels (``ffnn._kernels``), importing numba on first use."""
    if not _loaded:
        from ffnn import _kernels

        _loaded.append(_kernels)
    return _loaded[0]


MIN_SIZE = 1 << 12
"""Below this many elements NumPy's few passes are as quick as a kernel call."""


def usable(*arrays, min_size: int | None = None) -> bool:
    """True when the kernels should take these arrays: enabled, at least ``min_size``
    (default ``MIN_SIZE``) elements, and ``compatible``."""
    if not enabled or arrays[0].size < (MIN_SIZE if min_size is None else min_size):
        return False
    return compatible(*arrays)


def compatible(*arrays) -> bool:
    """True when a kernel can take these arrays: NumPy, C-contiguous, one float dtype
    (float32 or float64). Says nothing of whether numba is installed or enabled."""
    dtype = arrays[0].dtype
    if dtype.char not in "fd":  # float32, float64
        return False
    for a in arrays:  # a plain loop: this runs several times per training step
        if type(a) is not np.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return False
    return True


def warm_up() -> None:
    """Compile (or load from the disk cache) every kernel for float32 and float64 now, rather
    than on the first step that needs it."""
    if not enabled:
        return
    for dtype in (np.float32, np.float64):
        a = np.zeros(4, dtype)
        adam(a, a.copy(), a.copy(), a.copy(), None, step_size=0.0, bias_correction2_sqrt=1.0,
             eps=1.0, beta1=0.9, beta2=0.9, weight_decay=0.0, decoupled_lr_decay=0.0,
             maximize=False)
        adam(a, a.copy(), a.copy(), a.copy(), a.copy(), step_size=0.0,
             bias_correction2_sqrt=1.0, eps=1.0, beta1=0.9, beta2=0.9, weight_decay=0.0,
             decoupled_lr_decay=0.0, maximize=False)
        gelu_backward(a, a, gelu_forward(a)[1])
        relu_backward(a, relu_forward(a)[1])
        add_scale(a, a, a.copy(), 0.5)
        labels = np.zeros(2, np.int64)
        cross_entropy_backward(cross_entropy_forward(a.reshape(2, 2), labels)[1], labels, 1.0)


def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step_size: float,
         bias_correction2_sqrt: float, eps: float, beta1: float, beta2: float,
         weight_decay: float, decoupled_lr_decay: float, maximize: bool) -> None:
    """The Adam/AdamW update of ``ffnn.optim.adam.adam_update`` in one fused pass:
    p ← p·(1 - lr·λ_decoupled); g = ±grad + λ_coupled·p; m ← m + (1-β₁)(g - m);
    v ← β₂v + (1-β₂)g²; p ← p - step_size · m / (√v̂ / √(1-β₂ᵗ) + ε)."""
    amsgrad = max_exp_avg_sq is not None
    coefficients = np.array((step_size, bias_correction2_sqrt, eps, beta1, beta2, weight_decay,
                             1 - decoupled_lr_decay, -1 if maximize else 1), param.dtype)
    _kernels().adam(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq),
                    _flat(max_exp_avg_sq if amsgrad else exp_avg_sq), coefficients, amsgrad)


def _flat(array: np.ndarray) -> np.ndarray:
    """The 1-D view of a C-contiguous array (itself when already 1-D)."""
    return array if array.ndim == 1 else array.reshape(-1)


def add_scale(a: np.ndarray, b: np.ndarray, out: np.ndarray, scale: float) -> None:
    """out ← (a + b) · scale in one pass (two ranks' gradients averaged, scale ½); ``out``
    may be ``a``. Alone NumPy's two passes are as fast; between two ranks sharing the memory
    bus, one pass saves ~0.5 ms on 4M values."""
    _kernels().add_scale(_flat(a), _flat(b), _flat(out), out.dtype.type(scale))


def cross_entropy_forward(x: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """(Σᵢ -log softmax(xᵢ)[yᵢ], log softmax(x)) for logits [n, c] and int64 class indices,
    in one pass over each row (a row's max is subtracted before exp, as the NumPy path)."""
    logp = np.empty_like(x)
    total = _kernels().cross_entropy_forward(x, target, logp)
    return total, logp


def cross_entropy_backward(logp: np.ndarray, target: np.ndarray, scale: float) -> np.ndarray:
    """dL/dx = scale · (softmax(x) - one_hot(y)) from the saved log-probabilities."""
    out = np.empty_like(logp)
    _kernels().cross_entropy_backward(logp, target, logp.dtype.type(scale), out)
    return out


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x · [x > 0], [x > 0]) in one pass; the mask is kept for the backward."""
    y, mask = np.empty_like(x), np.empty(x.shape, np.bool_)
    _kernels().relu_forward(x.reshape(-1), y.reshape(-1), mask.reshape(-1))
    return y, mask


def relu_backward(grad: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """dL/dx = dL/dy · [x > 0] in one pass."""
    out = np.empty_like(grad)
    _kernels().relu_backward(grad.reshape(-1), mask.reshape(-1), out.reshape(-1))
    return out


def gelu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x Φ(x), Φ(x)) with Φ(x) = ½ erfc(-x/√2), in one pass (float64: libm's erfc;
    float32: a fit accurate to float32's precision, 1.2e-7 relative, with an exp written to
    vectorise — 5× faster)."""
    y, cdf = np.empty_like(x), np.empty_like(x)
    k = _kernels()
    kernel = k.gelu_forward_float32 if x.dtype == np.float32 else k.gelu_forward
    kernel(x.reshape(-1), y.reshape(-1), cdf.reshape(-1))
    return y, cdf


def gelu_backward(grad: np.ndarray, x: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """dL/dx = dL/dy · (Φ(x) + x φ(x)), in one pass (float32: φ through the vectorising exp,
    computed in float64)."""
    out = np.empty_like(x)
    k = _kernels()
    kernel = k.gelu_backward_float32 if x.dtype == np.float32 else k.gelu_backward
    kernel(grad.reshape(-1), x.reshape(-1), cdf.reshape(-1), out.reshape(-1))
    return out
