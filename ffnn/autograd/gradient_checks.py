"""torch's ``autograd.gradcheck`` and ``gradgradcheck``: a function's backward (and the
backward of its gradient) against central finite differences, each output projected on a
fixed random weight (``ffnn.gradcheck``'s differences)."""

from __future__ import annotations

import warnings

import numpy as np

from ffnn import autograd
from ffnn.gradcheck import central_differences
from ffnn.tensor import Tensor


class GradcheckError(RuntimeError):
    """A gradient that differs from finite differences (``gradcheck``, ``gradgradcheck``)."""


def gradcheck(func, inputs, *, eps: float = 1e-06, atol: float = 1e-05, rtol: float = 0.001,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """torch's ``autograd.gradcheck``: for every output yₖ of ``func(*inputs)`` and input xᵢ
    that requires grad, ∂⟨yₖ, w⟩/∂xᵢ from the backward against central differences
    (``ffnn.gradcheck``'s check, w a fixed random weight: every direction of yₖ at once).
    True, or ``GradcheckError`` (False with ``raise_exception=False``); inputs should be
    float64. Forward-mode and batched checks are not available (``NotImplementedError``)."""
    if check_forward_ad or check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: ffnn checks the backward only; received "
                                  "check_forward_ad, check_batched_grad or "
                                  "check_batched_forward_grad=True")
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    for i in wrt:
        if inputs[i]._data.dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex.", stacklevel=2)
    outputs = _outputs(func(*inputs)) if check_backward_ad else ()
    for k, out in enumerate(outputs):
        mismatch = _output_mismatch(func, inputs, wrt, k, out, eps, atol, rtol)
        if mismatch is not None:
            if raise_exception:
                raise GradcheckError(mismatch)
            return False
    return True


def _outputs(result) -> tuple:
    return (result,) if isinstance(result, Tensor) else tuple(result)


def _output_mismatch(func, inputs: tuple, wrt: list, k: int, out, eps: float, atol: float,
                     rtol: float) -> str | None:
    """``gradcheck`` of output ``k`` (``out``): None, or what differs."""
    if not isinstance(out, Tensor) or out._data.dtype.kind not in "fc":
        return None
    w = np.random.default_rng(k).standard_normal(out.shape).astype(out._data.dtype)
    tensors = [inputs[i] for i in wrt]
    analytic = autograd.grad(out, tensors, Tensor._make(w, False, None), retain_graph=True,
                    allow_unused=True) if out.requires_grad else (None,) * len(wrt)

    def projected() -> float:
        return float((_outputs(func(*inputs))[k]._data * w).sum().real)

    for i, t, a in zip(wrt, tensors, analytic):
        data = t._data
        t._data = np.array(data, order="C")  # a copy the differences change in place
        try:
            numeric = central_differences(projected, t._data, eps)
        finally:
            t._data = data
        a = np.zeros(t.shape) if a is None else a._data
        if not np.allclose(a, numeric, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(a - numeric)), numeric.shape)
            return (f"Jacobian mismatch for output {k} with respect to input {i}: at index "
                    f"{tuple(int(j) for j in worst)} the backward gave {a[worst]:.10g}, "
                    f"finite differences {numeric[worst]:.10g}")
    return None


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-06, atol: float = 1e-05,
                  rtol: float = 0.001, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """torch's ``autograd.gradgradcheck``: ``gradcheck`` of (x, v) ↦ ∂⟨func(x), v⟩/∂x computed
    with ``create_graph=True``, v being ``grad_outputs`` (random, requiring grad, where None)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outputs = [o for o in _outputs(func(*inputs)) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._make(
            rng.standard_normal(o.shape).astype(o._data.dtype), True, None) for o in outputs)
    grad_outputs = _outputs(grad_outputs)
    n = len(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_derivatives(*args):
        outs = [o for o in _outputs(func(*args[:n])) if o.requires_grad]
        grads = autograd.grad(outs, [args[i] for i in wrt], args[n:], create_graph=True,
                     allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_batched_grad=check_batched_grad)
