"""``torch.autograd.functional``: products with a function's Jacobian and Hessian, and the
matrices themselves, for f taking tensors and returning tensors.

For y = f(x) with Jacobian J = ∂y/∂x and, for a scalar f, Hessian H = ∂²f/∂x²:
``vjp`` gives vᵀJ (one backward), ``jvp`` J v (the backward of a backward: vᵀJ is linear in
v, so J v = ∂(uᵀJ v)/∂u), ``vhp`` vᵀH and ``hvp`` H v (the backward of the gradient,
``create_graph``; H is symmetric, so both are the same vector), ``jacobian`` J row by row
(one backward per output element) shaped output.shape + input.shape, and ``hessian`` the
Jacobian of the gradient. Inputs are taken as new leaves (the graph behind them is kept only
with ``create_graph``); an input a result does not depend on gets zeros (``strict=True``:
an error), as torch's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ffnn import autograd


def _tuple(value, what: str) -> tuple[tuple, bool]:
    """(value as a tuple of tensors, whether it was a tuple); TypeError naming ``what``."""
    from ffnn.tensor import Tensor  # noqa: PLC0415 - the Tensor module imports autograd

    found = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for item in found:
        if not isinstance(item, Tensor):
            raise TypeError(f"The {what} given to the function must be a Tensor or a tuple of "
                            f"Tensors. Received: {type(item).__name__}")
    return found, isinstance(value, (tuple, list))


def _leaves(inputs: tuple, create_graph: bool) -> tuple:
    """Each input as a leaf needing a gradient; with ``create_graph``, an input that needs
    one stays on its graph (a view of it), so the results can be differentiated further."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad else
                 x.detach().requires_grad_(True) for x in inputs)


def _gradients(outputs: tuple, inputs: tuple, grad_outputs, create_graph: bool,
               strict: bool, what: str) -> tuple:
    """d(Σ outputs · grad_outputs)/d(each input): zeros where an input is not used."""
    found = autograd.grad(outputs, inputs, grad_outputs, retain_graph=True,
                          create_graph=create_graph, allow_unused=True)
    result = []
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode ({what}).")
            g = x.detach() * 0
        result.append(g)
    return tuple(result)


def _vectors(v, like: tuple, what: str) -> tuple:
    """``v`` as one tensor per tensor of ``like``, each of its shape; ones for a single
    element result where ``v`` is None."""
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(f"{what}: v can be omitted only when the function returns "
                               "single-element tensors")
        return tuple(t.detach() * 0 + 1 for t in like)
    found, _ = _tuple(v, "v")
    if len(found) != len(like) or any(a.shape != b.shape for a, b in zip(found, like)):
        raise RuntimeError(f"{what}: v must have the shapes "
                           f"{[tuple(t.shape) for t in like]}. Received: "
                           f"{[tuple(t.shape) for t in found]}")
    return found


def _out(values: tuple, as_tuple: bool, create_graph: bool):
    values = values if create_graph else tuple(v.detach() for v in values)
    return values if as_tuple else values[0]


def _run(func: Callable, inputs, create_graph: bool):
    """(the inputs as leaves, was a tuple; func's outputs, was a tuple)."""
    inputs, inputs_tuple = _tuple(inputs, "inputs")
    inputs = _leaves(inputs, create_graph)
    outputs, outputs_tuple = _tuple(func(*inputs), "outputs")
    return inputs, inputs_tuple, outputs, outputs_tuple


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), vᵀ J): ``v`` shaped as func's outputs (omitted for a scalar)."""
    with autograd.enable_grad():
        inputs, inputs_tuple, outputs, outputs_tuple = _run(func, inputs, create_graph)
        grads = _gradients(outputs, inputs, _vectors(v, outputs, "vjp"), create_graph, strict,
                           "vjp")
    return _out(outputs, outputs_tuple, create_graph), _out(grads, inputs_tuple, create_graph)


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): ``v`` shaped as the inputs (omitted for one single-element
    input); J v = ∂(uᵀJ v)/∂u, the backward of uᵀJ's backward."""
    with autograd.enable_grad():
        inputs, inputs_tuple, outputs, outputs_tuple = _run(func, inputs, create_graph)
        v = _vectors(v, inputs, "jvp")
        probes = tuple((o.detach() * 0).requires_grad_(True) for o in outputs)
        transposed = _gradients(outputs, inputs, probes, True, strict, "jvp")
        used = [(g, w) for g, w in zip(transposed, v) if g.requires_grad]
        if not used:
            products = tuple(o.detach() * 0 for o in outputs)
        else:
            products = _gradients(tuple(g for g, _ in used), probes,
                                  tuple(w for _, w in used), create_graph, False, "jvp")
    return _out(outputs, outputs_tuple, create_graph), _out(products, outputs_tuple,
                                                            create_graph)


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """J = ∂ outputs/∂ inputs, output.shape + input.shape per pair: a tensor, a tuple over
    the inputs or over the outputs, or a tuple of tuples (outputs, then inputs)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError("jacobian: strategy must be 'reverse-mode' or 'forward-mode'. "
                         f"Received: strategy={strategy!r}")
    with autograd.enable_grad():
        inputs, inputs_tuple, outputs, outputs_tuple = _run(func, inputs, create_graph)
        blocks = tuple(_jacobian_of(out, inputs, create_graph, strict) for out in outputs)
    if not create_graph:
        blocks = tuple(tuple(b.detach() for b in row) for row in blocks)
    if outputs_tuple and inputs_tuple:
        return blocks
    if outputs_tuple:
        return tuple(row[0] for row in blocks)
    return blocks[0] if inputs_tuple else blocks[0][0]


def _jacobian_of(output, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """∂ output/∂ each input, one backward per element of ``output``."""
    from ffnn import ops  # noqa: PLC0415 - the ops import autograd

    rows = []
    for k in range(output.numel()):
        picked = np.zeros(output.numel(), dtype=output.dtype)
        picked[k] = 1
        picked = type(output)._make(picked.reshape(tuple(output.shape)), False, None)
        rows.append(_gradients((output,), inputs, (picked,), create_graph, strict,
                               "jacobian") if output.requires_grad else
                    _independent(inputs, strict))
    shapes = [(*output.shape, *x.shape) for x in inputs]
    if not rows:
        return tuple(type(x)._make(np.zeros(shape, x.dtype), False, None)
                     for x, shape in zip(inputs, shapes))
    return tuple(ops.stack([row[j] for row in rows], 0).reshape(shape)
                 for j, shape in enumerate(shapes))


def _independent(inputs: tuple, strict: bool) -> tuple:
    if strict:
        raise RuntimeError("The output of the user-provided function is independent of the "
                           "inputs. This is not allowed in strict mode (jacobian).")
    return tuple(x.detach() * 0 for x in inputs)


def _scalar_output(func: Callable, what: str) -> Callable:
    """``func``, checked to return one single-element tensor."""
    def checked(*inputs):
        out = func(*inputs)
        found, was_tuple = _tuple(out, "outputs")
        if was_tuple or found[0].numel() != 1:
            raise RuntimeError(f"The function given to {what} should return a single Tensor "
                               "containing a single element")
        return found[0]

    return checked


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """H = ∂²f/∂x² for a scalar f: input.shape + input.shape (a tuple of tuples for several
    inputs), the Jacobian of the gradient."""
    scalar = _scalar_output(func, "hessian")
    _, inputs_tuple = _tuple(inputs, "inputs")

    def gradient(*xs):
        found = jacobian(scalar, xs, create_graph=True, strict=strict)
        return found if inputs_tuple else found[0]

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                    strategy=outer_jacobian_strategy)


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(f(inputs), vᵀ H) for a scalar f: the backward of the gradient (``create_graph``)."""
    scalar = _scalar_output(func, "vhp")
    with autograd.enable_grad():
        inputs, inputs_tuple, outputs, _ = _run(scalar, inputs, create_graph)
        v = _vectors(v, inputs, "vhp")
        grads = _gradients(outputs, inputs, None, True, strict, "vhp")
        used = [(g, w, x) for g, w, x in zip(grads, v, inputs) if g.requires_grad]
        products = _gradients(tuple(g for g, _, _ in used), inputs,
                              tuple(w for _, w, _ in used), create_graph, strict,
                              "vhp") if used else tuple(x.detach() * 0 for x in inputs)
    return _out(outputs, False, create_graph), _out(products, inputs_tuple, create_graph)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(f(inputs), H v) for a scalar f: ``vhp``'s vector (H is symmetric)."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
