"""Higher-order gradients: the backward pass recorded as a graph (``create_graph=True``).

``autograd.grad(..., create_graph=True)`` and ``backward(create_graph=True)`` walk the graph
as the array engine does (``autograd._propagate``: reverse topological order, an
intermediate's gradient summed over its uses), but each op's input gradients come from its
``backward_graph(grad, *inputs)``: the op's derivative written with tensor operations on
its input tensors. The gradients are then tensors with a graph of their own, and
differentiating them again gives second derivatives: a physics-informed network's
u_xx = d/dx (du/dx), a gradient penalty's d‖∇ₓ D‖/dθ.

A value the array backward reads from what its forward saved (tanh's y) is computed again
from the op's inputs (y = tanh x), so every input must still hold the value the op saw: one
changed in place since raises torch's in-place error. The graph is kept (torch's
``retain_graph`` defaults to ``create_graph``). An op whose backward has no tensor form
raises ``NotImplementedError`` naming it (``Op.backward_graph``).
"""

from __future__ import annotations

from ffnn import autograd


def propagate(root, gradient, wanted: dict | None = None, order: list | None = None,
              targets: tuple | None = None) -> dict:
    """d(root)/d(leaf) · ``gradient`` (a tensor shaped like ``root``) for every leaf that
    needs one, and for the intermediates of ``wanted`` (id(op) → tensor):
    ``{id(tensor): [tensor, gradient tensor]}``, each gradient with its own graph. With
    ``order`` (ops, inputs before outputs, ``root``'s last) the walk stays within them: an
    input made by another op is then taken as a leaf. With ``targets`` (tensors) only the
    gradients on paths to them are computed (``autograd.grad``'s inputs: a physics-informed
    network's du/dx needs no weight's gradient), as torch's engine prunes."""
    if root._ctx is None:
        return {id(root): [root, _through_hooks(root, gradient)]}
    bounded = order is not None
    order = order if bounded else autograd._topological_order(root._ctx)
    masks = None if targets is None else _paths_to(order, targets)
    with autograd.enable_grad():
        return _walk(root, gradient, wanted, order, bounded, masks)


def _paths_to(order: list, targets: tuple) -> dict:
    """id(op) → which of its inputs lead to one of ``targets`` (ops on no such path are
    absent)."""
    target_ids = {id(t) for t in targets}
    leading = {id(t._ctx) for t in targets if t._ctx is not None}
    masks = {}
    for fn in order:  # inputs before outputs
        mask = tuple(bool(need) and parent is not None and (
            id(parent) in target_ids or (parent_fn is not None and id(parent_fn) in leading))
            for parent, parent_fn, need in zip(fn.parents, fn.input_ctxs,
                                                fn.needs_input_grad))
        if any(mask) or id(fn) in leading:
            leading.add(id(fn))
            masks[id(fn)] = mask
    return masks


def _walk(root, gradient, wanted: dict | None, order: list, bounded: bool,
          masks: dict | None = None) -> dict:
    """``propagate``'s walk over ``order`` from the last op back (``masks``: the inputs
    each op is asked for, where pruned)."""
    for fn in order:
        _check_inputs(fn)
    within = {id(fn) for fn in order} if bounded else None
    grads = {id(root._ctx): gradient}
    found: dict[int, list] = {}
    for fn in reversed(order):
        grad = grads.pop(id(fn), None)
        if grad is None or masks is not None and id(fn) not in masks:
            continue
        grad = _through_hooks(fn, grad)
        retained = fn.__dict__.get("retained_by")
        if retained is not None:
            data = grad._data
            retained._grad = data.copy() if retained._grad is None else retained._grad + data
        if wanted is not None and id(fn) in wanted:
            found[id(fn)] = [wanted[id(fn)], grad]
        _pass_on(fn, grad, grads, found, within, None if masks is None else masks[id(fn)])
    for entry in found.values() if not bounded else ():  # a bounded walk's caller runs them
        if entry[0]._ctx is None:
            entry[1] = _through_hooks(entry[0], entry[1])
    return found


def recorded(run) -> tuple[object, list]:
    """``run()``'s result and the ops it applied, in order (for ``propagate``'s ``order``)."""
    ops: list = []
    with autograd.recording(lambda op, inputs, options, out: ops.append(out._ctx)), \
            autograd.enable_grad():
        out = run()
    return out, [op for op in ops if op is not None]


def _pass_on(fn, grad, grads: dict, leaves: dict, within: set | None,
             mask: tuple | None) -> None:
    """``fn.backward_graph`` on ``grad`` (asked only for the inputs ``mask`` names, where
    given), each input's gradient added to what it has received (an op's in ``grads``, a
    leaf's, or an input from outside ``within``'s, in ``leaves``)."""
    needs = fn.needs_input_grad
    if mask is not None:
        fn.needs_input_grad = mask
    try:
        input_grads = autograd.anomaly_mode.checked(fn, fn.backward_graph, grad, *fn.parents) \
            if autograd._anomaly_enabled else fn.backward_graph(grad, *fn.parents)
    finally:
        fn.needs_input_grad = needs
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    for parent, parent_fn, needed, input_grad in zip(fn.parents, fn.input_ctxs,
                                                     mask or needs, input_grads):
        if input_grad is None or not needed:
            continue
        if tuple(input_grad.shape) != tuple(parent.shape) or \
                input_grad.dtype != parent.dtype:
            input_grad = input_grad.to(parent.dtype).reshape(tuple(parent.shape))
        if parent_fn is not None and (within is None or id(parent_fn) in within):
            key = id(parent_fn)
            grads[key] = input_grad if key not in grads else grads[key] + input_grad
            continue
        entry = leaves.get(id(parent))
        if entry is None:
            leaves[id(parent)] = [parent, input_grad]
        else:
            entry[1] = entry[1] + input_grad


def _check_inputs(fn) -> None:
    """torch's in-place error for ``fn``: a saved array, or an input its tensor-form
    backward reads again, changed in place after ``fn`` ran."""
    autograd._check_versions(fn)
    if "reusable" in fn.__dict__:  # a first backward dropped the inputs its tensor form reads
        raise RuntimeError(
            "Trying to backward through the graph a second time with create_graph=True: the "
            f"first backward() freed the inputs of {fn.op_name}. Call backward(retain_graph=True) "
            "the first time.")
    for parent in fn.parents:
        if parent is not None and parent._version_box[1] > fn.tick:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [tensor of shape {list(parent.shape)}, dtype "
                f"{parent.dtype}] used by {fn.op_name}, is at version {parent._version}, changed "
                f"after {fn.op_name} used it (create_graph=True computes the backward from the "
                "inputs). Use an out-of-place op (x = x + y) or .clone() the tensor first."
            )


def _through_hooks(owner, grad):
    """``grad`` through the hooks ``register_hook`` put on ``owner`` (a leaf, or the op that
    made a non-leaf), each given the gradient tensor with its graph."""
    hooks = owner.__dict__.get("_grad_hooks")
    for hook in list(hooks.values()) if hooks else ():
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def store_leaf_grads(entries) -> None:
    """Add each leaf's gradient tensor to its ``.grad`` (``backward(create_graph=True)``):
    ``.grad`` is then that tensor, its graph kept, as torch's."""
    for leaf, grad in entries:
        held = leaf.grad
        total = grad.clone() if held is None else held + grad
        leaf._grad = total._data
        leaf._grad_graph = total
        if "_post_accumulate_grad_hooks" in leaf.__dict__:
            autograd.run_post_accumulate_grad_hooks(leaf)
