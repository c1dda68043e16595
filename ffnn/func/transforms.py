"""``torch.func``'s transforms of a function into its derivatives: ``grad``,
``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd`` and ``hessian``, on arguments that
are tensors or nested tuples, lists and dicts of them (a model's parameters as a dict, for
``functional_call``).

Each differentiated argument enters as a fresh node (a leaf copy, or x·1 where it already
has a graph), the function runs with gradients on, and ``autograd.grad`` gives the
derivative: with a graph where an argument had one, so the transforms nest
(``grad(grad(f))`` is f'') and compose with ``vmap``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ffnn import autograd
from ffnn.autograd import enable_grad
from ffnn.autograd import functional as _functional
from ffnn.func import pytree
from ffnn.tensor import Tensor


def _argnums(argnums, count: int) -> tuple[tuple[int, ...], bool]:
    single = isinstance(argnums, int)
    found = (argnums,) if single else tuple(argnums)
    for i in found:
        if not isinstance(i, int) or not -count <= i < count:
            raise RuntimeError(f"Got argnums={argnums}, but only {count} positional inputs")
    return tuple(i % count for i in found), single


def _entered(leaves: list) -> tuple[list, bool]:
    """Each tensor as a node to differentiate at; whether any had a graph already."""
    nested = any(t.requires_grad for t in leaves)
    return [t * 1 if t.requires_grad else t.detach().requires_grad_() for t in leaves], nested


def _split_aux(result, has_aux: bool, name: str):
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{name}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return result


def _on_a_graph(args) -> bool:
    """Whether a tensor among ``args`` needs a gradient: the transform then runs inside
    another one (``jacrev(jacrev(f, argnums=1), argnums=0)``: the outer one differentiates
    the inner's result by an argument the inner one does not), so it keeps a graph."""
    return any(t.requires_grad for t in pytree.flatten(list(args))[0])


def _call_with_nodes(func: Callable, args: tuple, kwargs: dict, argnums: tuple) -> tuple:
    """(func's result, per argnum its (leaves, spec, nodes), whether nested)."""
    nested = _on_a_graph(args)
    args, parts = list(args), []
    for i in argnums:
        leaves, spec = pytree.flatten(args[i])
        nodes, deeper = _entered(leaves)
        nested |= deeper
        args[i] = pytree.unflatten(nodes, spec)
        parts.append((spec, nodes))
    return func(*args, **kwargs), parts, nested


def grad_and_value(func: Callable, argnums: int | tuple = 0, has_aux: bool = False
                   ) -> Callable:
    """(∂f/∂args[argnums], f(args)) for a scalar f, shaped as the arguments."""
    def wrapper(*args, **kwargs):
        indices, single = _argnums(argnums, len(args))
        with enable_grad():
            result, parts, nested = _call_with_nodes(func, args, kwargs, indices)
            output, aux = _split_aux(result, has_aux, "grad_and_value")
            if not isinstance(output, Tensor) or output.numel() != 1:
                what = f"tensor with {output.ndim} dims" if isinstance(output, Tensor) else \
                    type(output).__name__
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got {what}. Maybe you wanted to use the "
                                   "vjp or jacrev APIs instead?")
            nodes = [n for _, found in parts for n in found]
            grads = autograd.grad(output, nodes, create_graph=nested, allow_unused=True,
                                  materialize_grads=True) if nodes else ()
        shaped, at = [], 0
        for spec, found in parts:
            shaped.append(pytree.unflatten(list(grads[at:at + len(found)]), spec))
            at += len(found)
        gradient = shaped[0] if single else tuple(shaped)
        value = output if nested else output.detach()
        return (gradient, (value, aux)) if has_aux else (gradient, value)
    return wrapper


def grad(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """∂f/∂args[argnums] for a scalar f (with ``has_aux``: (gradient, aux))."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return wrapper


def vjp(func: Callable, *primals, has_aux: bool = False):
    """(f(primals), vjp_fn): vjp_fn(cotangents) = the cotangents times ∂f/∂primals, a tuple
    with one entry per primal, shaped as it."""
    with enable_grad():
        result, parts, nested = _call_with_nodes(func, primals, {}, tuple(range(len(primals))))
        output, aux = _split_aux(result, has_aux, "vjp")
    outputs, _ = pytree.flatten(output)

    def vjp_fn(cotangents):
        vectors, _ = pytree.flatten(cotangents)
        nodes = [n for _, found in parts for n in found]
        grads = autograd.grad(outputs, nodes, vectors, retain_graph=True, create_graph=nested,
                              allow_unused=True, materialize_grads=True)
        shaped, at = [], 0
        for spec, found in parts:
            shaped.append(pytree.unflatten(list(grads[at:at + len(found)]), spec))
            at += len(found)
        return tuple(shaped)

    value = output if nested else pytree.unflatten([t.detach() for t in outputs],
                                                   pytree.flatten(output)[1])
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False,
        has_aux: bool = False):
    """(f(primals), ∂f/∂primals · tangents) for tensor primals (``autograd.functional.jvp``)."""
    if has_aux:
        raise NotImplementedError("jvp(has_aux=True) is not supported by ffnn")
    return _functional.jvp(func, tuple(primals), tuple(tangents), strict=strict)


def jacrev(func: Callable, argnums: int | tuple = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """∂f/∂args[argnums]: output.shape + input.shape per pair of an output tensor and an input
    tensor, nested as the output's structure around the input's (a dict of parameters gives a
    dict; several argnums a tuple over them), as torch's."""
    if has_aux:
        raise NotImplementedError("jacrev(has_aux=True) is not supported by ffnn")

    def wrapper(*args):
        indices, single = _argnums(argnums, len(args))
        chosen = args[indices[0]] if single else tuple(args[i] for i in indices)
        leaves, in_spec = pytree.flatten(chosen)
        out_spec = []

        def of(*nodes):
            full = list(args)
            picked = pytree.unflatten(list(nodes), in_spec)
            for i, value in zip(indices, [picked] if single else picked):
                full[i] = value
            outputs, spec = pytree.flatten(func(*full))
            out_spec[:] = [spec]
            return tuple(outputs)

        rows = _functional.jacobian(of, tuple(leaves), create_graph=_on_a_graph(args))
        return pytree.unflatten([pytree.unflatten(list(row), in_spec) for row in rows],
                                out_spec[0])
    return wrapper


def jacfwd(func: Callable, argnums: int | tuple = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """``jacrev``'s Jacobian (computed by reverse mode here: the same values)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func: Callable, argnums: int | tuple = 0) -> Callable:
    """∂²f/∂args[argnums]² as torch's ``jacfwd(jacrev(func, argnums), argnums)``: for a
    tensor argument output.shape + input.shape + input.shape; for a dict of parameters (or
    several argnums) nested by the argument's structure twice, as torch's."""
    return jacfwd(jacrev(func, argnums), argnums)


__all__: list[Any] = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]
