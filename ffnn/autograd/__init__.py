"""The computational graph: ``Op`` (one differentiable primitive) and the backward pass.

Every primitive is an :class:`Op` subclass with ``forward(*arrays, **options) -> array`` and
``backward(grad_output) -> tuple of input gradients`` written right under it. Calling
``SomeOp.apply(*tensors)`` runs the forward on the tensors' arrays and, when any input needs a
gradient and grad mode is on, records the op instance as the output's ``_ctx``. Each op keeps
the graph nodes of its inputs as they were when it ran (``input_ctxs``), so changing a tensor
in place later does not rewire the graph behind it; arrays an op saved are checked against
their tensor's version counter before its backward runs (torch's in-place error).

The user-facing pieces with torch's names are here too: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, ``inference_mode``, ``grad`` and (from ``ffnn.custom_function``)
``Function`` for ``class MyOp(torch.autograd.Function)`` with ``forward(ctx, …)``.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ffnn import region_gradient
from ffnn.errors import RuntimeValueError

_grad_enabled = True
_clock = [0]  # ticks at every in-place change of a tensor (see bump_version)
_recorder = None
"""Called as ``_recorder(op class, inputs, options, output)`` after each ``Op.apply`` while
``recording`` is on (``ffnn.compiler.trace`` reads a model's forward so)."""
_anomaly_enabled = False
"""Anomaly detection (``anomaly_mode``) on: read once per op by the forward and the backward."""


def is_grad_enabled() -> bool:
    return _grad_enabled


_inference = False
"""Inside ``inference_mode()`` (``is_inference_mode_enabled``)."""


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode()`` (on) is in force."""
    return _inference


def mark_inference_tensors(on: bool) -> None:
    """While an ``inference_mode()`` is on, every tensor made is an inference tensor
    (``Tensor.is_inference()``): ``Tensor._make`` is swapped for its marking twin, so that
    the fast path checks nothing outside inference mode."""
    from ffnn.tensor import Tensor

    Tensor._make = Tensor.__dict__["_make_in_inference"] if on else Tensor._plain_make


class _GradMode:
    """Context manager and decorator that sets grad mode to ``self.mode`` inside; as torch's,
    usable with or without parentheses (``@no_grad()`` and ``@no_grad``)."""

    mode = False

    def __new__(cls, func=None, *args, **kwargs):
        self = super().__new__(cls)
        if callable(func) and cls in (no_grad, enable_grad):
            return self(func)
        return self

    def __enter__(self):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn):
        return _decorated(fn, type(self))


def _decorated(fn, context):
    """``fn`` run inside ``context()``; a generator function's body runs inside it at each
    resume, its caller's code between them outside (torch's decorators on generators)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with context():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with context():
                            gen.close()
                        raise
                    except BaseException as error:
                        with context():
                            response = gen.throw(error)
                    else:
                        with context():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with context():
            return fn(*args, **kwargs)

    return wrapper


class recording:
    """``with recording(callback):`` calls ``callback(op class, inputs, options, output)``
    after every op applied inside (one at a time: nesting raises)."""

    def __init__(self, callback):
        self.callback = callback

    def __enter__(self):
        global _recorder
        if _recorder is not None:
            raise RuntimeError("recording: another recording is on")
        _recorder = self.callback

    def __exit__(self, *exc):
        global _recorder
        _recorder = None


class no_grad(_GradMode):
    """Record no graph inside: outputs need no gradient (context manager or decorator)."""

    mode = False


class enable_grad(_GradMode):
    """Record the graph inside, also within ``no_grad`` (context manager or decorator)."""

    mode = True


class inference_mode(_GradMode):
    """As torch's ``inference_mode(mode=True)``: here the same as ``no_grad`` when on."""

    def __init__(self, mode: bool = True):
        self.disable = bool(mode)

    def __enter__(self):
        global _grad_enabled, _inference
        self.prev, self.prev_inference = _grad_enabled, _inference
        if self.disable:
            _grad_enabled = False
        _inference = self.disable
        mark_inference_tensors(_inference)

    def __exit__(self, *exc):
        global _grad_enabled, _inference
        _grad_enabled, _inference = self.prev, self.prev_inference
        mark_inference_tensors(_inference)

    def __call__(self, fn):
        disable = self.disable
        return _decorated(fn, lambda: inference_mode(disable))


class set_grad_enabled(_GradMode):
    """Turn graph recording on or off, as a context manager or a plain call."""

    def __init__(self, mode: bool):
        global _grad_enabled
        self.mode = bool(mode)
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn):
        global _grad_enabled
        _grad_enabled = self.prev  # as a decorator it changes nothing until fn runs
        mode = self.mode
        return _decorated(fn, lambda: set_grad_enabled(mode))


class Op:
    """One differentiable primitive. Subclasses define ``forward`` and ``backward`` side by side.

    In ``forward`` an op saves on ``self`` what its backward needs; ``self.needs_input_grad``
    (one bool per positional input) lets the backward skip gradients nobody asked for.
    ``backward(grad_output)`` returns one gradient (or None) per positional input, each of
    that input's shape. It must not modify ``grad_output`` in place. An op whose output is a
    view of its first input's memory sets ``view_op = True``.
    """

    freed = False
    view_op = False
    regional = False
    """True for an op with ``backward_region`` (see ``ffnn.region_gradient``)."""
    may_save_nothing = False
    """True for an op whose backward may need no saved array (an addition, a sum, a view):
    a backward frees it only where it saved one (``free``); the others clear at once."""
    parents: tuple = ()
    input_ctxs: tuple = ()

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward_graph(self, grad, *inputs):
        """``backward`` as tensor operations on ``grad`` (a tensor) and the op's input tensors
        (``inputs``; its options in ``self.options``), so that the gradients have a graph
        (``create_graph=True``, ``ffnn.graph_backward``): one tensor or None per input."""
        raise NotImplementedError(
            f"create_graph=True: the gradient of {self.op_name} cannot be differentiated again in "
            "ffnn (its backward has no tensor form); higher-order gradients go through "
            "Linear, matmul, einsum, element-wise arithmetic and functions, the activations, "
            "softmax, sums, products, means, variances, 2-norms, extrema, cumulative sums "
            "and products, shape ops, indexing, gather / scatter_add, embeddings, dropout, "
            "the layer, RMS and batch norms, the regression and classification losses and "
            "the linear-algebra solves and inverses"
        )

    def backward_region(self, grad_output):
        """For an op of one input whose gradient is zero but in regions: that gradient as a
        ``region_gradient.Region`` (added up lazily by the engine), or None to run
        ``backward``. Called only where ``regional`` is set."""
        return None

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on tensors (``None`` allowed for absent optional inputs)."""
        fn = cls()
        if _grad_enabled:
            for t in inputs:  # a view whose base changed in place since: its graph again
                if t is not None and t._view_of is not None and \
                        t._version_box[0] != t._view_seen:
                    _regenerate(t)
        # under no_grad nothing needs a gradient, so forward saves nothing for a backward
        needs = tuple([_grad_enabled and t is not None and t.requires_grad for t in inputs])
        fn.needs_input_grad = needs
        try:
            data = fn.forward(*[None if t is None else t._data for t in inputs], **options)
        except ValueError as error:  # NumPy's (or an op's) ValueError is torch's RuntimeError
            if isinstance(error, (RuntimeError, IndexError)):  # already torch's type
                raise
            raise RuntimeValueError(str(error)) from error
        requires_grad = any(needs)
        out = _tensor.Tensor._make(data, requires_grad, fn if requires_grad else None)
        if cls.view_op and _may_share_memory(data, inputs[0]._data):
            out._version_box = inputs[0]._version_box
            out._view_of, out._view_made = (inputs[0], None), (cls, options)
            out._view_seen = out._version_box[0]
        if requires_grad:
            fn.options = options
            fn.parents = inputs
            fn.input_ctxs = tuple([None if t is None else t._ctx for t in inputs])
            fn.tick, fn.output = _clock[0], (out._version_box, id(data))
            if _anomaly_enabled:
                fn.created_at = anomaly_mode.forward_stack()
        if _recorder is not None:
            _recorder(cls, inputs, options, out)
        return out

    def free(self) -> None:
        """Drop saved arrays and graph edges; a later backward through here raises. An op
        that saved no array (an addition, a sum, a reshape) stays usable, as torch's node
        without saved tensors: it drops only its non-leaf inputs (their ops keep the edges)."""
        state = self.__dict__
        if self.may_save_nothing and "parents" in state and not self.saves_tensors():
            self.parents = tuple(None if p is None or p._ctx is not None else p
                                 for p in self.parents)
            self.reusable = True
            return
        state.clear()
        self.freed = True

    def saves_tensors(self) -> bool:
        """Whether the op kept an array (or anything not plainly metadata) for its backward:
        torch's saved tensors, which a backward frees."""
        for key, value in self.__dict__.items():
            if key not in _GRAPH_STATE and not _is_metadata(value):
                return True
        return not _is_metadata(self.__dict__.get("options"))

    @property
    def op_name(self) -> str:
        """ffnn's name for the op (its class), as its messages and ``ffnn explain`` use it."""
        return type(self).__name__

    def name(self) -> str:
        """torch's name for this node (``MulBackward0``; ``torch_nodes``)."""
        return torch_nodes.torch_name(self)

    @property
    def next_functions(self) -> tuple:
        """torch's edges of this node: (the node of each input, 0) — an ``AccumulateGrad``
        for a leaf, None for an input without a gradient (``torch_nodes``)."""
        return torch_nodes.next_functions(self)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def changed_saved_tensors(self) -> list:
        """(version counter, array) of each tensor this op saved and that was changed in
        place after it ran (``_check_versions`` raises for them)."""
        found = [(counter, _saved(self, array_id)) for counter, array_id in _changed_since(self)]
        return [(counter, array) for counter, array in found if array is not None]


def _regenerate(view) -> None:
    """The graph of ``view`` taken again from its base, which changed in place after the view
    was taken (torch regenerates a view's ``grad_fn`` so): the view's values are the base's
    new ones already (shared memory), and now so is its gradient's path (``y.mul_(2)``
    after ``v = y[:2]``: dv/dx through the multiplication)."""
    base = view._view_of[0]
    if base._view_of is not None and base._version_box[0] != base._view_seen:
        _regenerate(base)
    view._view_seen = view._version_box[0]
    if base.requires_grad:
        cls, options = view._view_made
        fresh = cls.apply(base, **options)
        view._ctx, view.requires_grad = fresh._ctx, fresh.requires_grad


def _may_share_memory(a, b) -> bool:
    return a is b or (getattr(a, "base", None) is not None and (a.base is b or a.base is b.base))


def _saved(fn: Op, array_id: int):
    """The array with id ``array_id`` (or a view of it) if ``fn`` kept it for its backward."""
    for value in fn.__dict__.values():
        base = getattr(value, "base", None)
        if id(value) == array_id or base is not None and id(base) == array_id:
            return value
    return None


def _changed_since(fn: Op) -> list:
    """(version counter, id of the array) of each input and of the output of ``fn`` changed
    in place after ``fn`` ran. ``_clock`` ticks at every in-place change, so this costs one
    comparison per tensor; the op keeps the tick of its run and the id of its output's
    array, never the output itself (it would live as long as the graph)."""
    tick, changed = fn.tick, []
    for t in fn.parents:
        if t is not None and t._version_box[1] > tick:
            changed.append((t._version_box, id(t._data)))
            if t._data.base is not None:  # a view: the op may have saved its base
                changed.append((t._version_box, id(t._data.base)))
    if fn.output[0][1] > tick:
        changed.append(fn.output)
    return changed


def _check_versions(fn: Op) -> None:
    """torch's error for an array that ``fn`` saved and that was changed in place since."""
    for counter, array in fn.changed_saved_tensors():
        what = f"tensor of shape {list(array.shape)}, dtype {array.dtype}"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{what}] used by {fn.op_name}, is at version {counter[0]}, "
            f"changed after {fn.op_name} saved it. Use an out-of-place op (x = x + y) or "
            ".clone() the tensor first."
        )


def bump_version(tensor) -> None:
    """Record an in-place change of ``tensor``: its count (torch's ``_version``) and the
    clock's new tick."""
    _clock[0] += 1
    box = tensor._version_box
    box[0], box[1] = box[0] + 1, _clock[0]


_GRAPH_STATE = frozenset({"options", "parents", "input_ctxs", "tick", "output",
                          "needs_input_grad", "created_at", "_grad_hooks", "retained_by"})
"""An op's attributes that are its place in the graph, not what its backward saved."""

_METADATA = (bool, int, float, complex, str, bytes, slice, range, type, np.dtype, np.generic,
             type(None), type(Ellipsis))


def _is_metadata(value) -> bool:
    """Whether ``value`` holds no array: numbers, shapes, dtypes, slices, and containers of
    them (anything else counts as a saved tensor)."""
    if isinstance(value, (tuple, list, frozenset)):
        return all(map(_is_metadata, value))
    if isinstance(value, dict):
        return all(map(_is_metadata, value.values()))
    return isinstance(value, _METADATA)


def _topological_order(root_fn: Op) -> list:
    """Op nodes reachable from ``root_fn``, inputs before outputs (iterative DFS)."""
    order, visited, stack = [], set(), [(root_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        if fn.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved values were "
                "freed by the first backward(). Call backward(retain_graph=True) the first "
                "time if you need to backward twice."
            )
        stack.append((fn, True))
        for parent_fn in fn.input_ctxs:
            if parent_fn is not None and id(parent_fn) not in visited:
                stack.append((parent_fn, False))
    return order


def _propagate(root, gradient, retain_graph: bool, wanted: dict | None = None) -> dict:
    """Walk the graph once in reverse topological order from ``root`` and return the gradient
    reaching each leaf, ``{id(leaf): [leaf, grad]}``. An intermediate's gradient is the sum
    over its uses (so reused intermediates and diamonds are right) and is dropped once passed
    on. ``wanted`` maps id(op) → tensor for intermediates whose gradient is also returned
    (``autograd.grad``). Unless ``retain_graph``, each op's saved arrays are freed."""
    if root._ctx is None:  # backward on a leaf: its gradient is the given one
        return {id(root): [root, run_grad_hooks(root, gradient)]}
    order = _topological_order(root._ctx)
    now = _clock[0]
    for fn in order:
        if fn.tick != now:  # something changed in place since fn ran: was it fn's?
            _check_versions(fn)
    grads = {id(root._ctx): gradient}
    leaves: dict[int, list] = {}  # id(leaf) → [leaf, the sum of its gradients]
    found: dict[int, list] = {}  # the wanted intermediates' entries
    owned: set[int] = set()  # arrays in grads or leaves the engine made (region_gradient)
    for fn in reversed(order):
        grad = grads.pop(id(fn), None)
        if grad is not None:
            state = fn.__dict__
            if owned or type(grad) is region_gradient.Region or "_grad_hooks" in state or \
                    "retained_by" in state:
                grad = _received(fn, grad, owned)
            if wanted is not None and id(fn) in wanted:
                found[id(fn)] = [wanted[id(fn)], grad]
            _pass_on(fn, grad, grads, leaves, owned)
        if not retain_graph:
            fn.free()
    for entry in leaves.values():
        leaf, grad = entry
        if owned or type(grad) is region_gradient.Region:
            entry[1] = grad = region_gradient.dense(grad, owned)
        if leaf._ctx is None and "_grad_hooks" in leaf.__dict__:
            entry[1] = run_grad_hooks(leaf, grad)
    if found:
        found.update(leaves)
        return found
    return leaves


def _received(fn: Op, grad, owned: set):
    """The gradient reaching ``fn``'s output, written out (a ``Region``) and through its
    hooks, and kept in the tensor that ``retain_grad()`` was called on."""
    if owned or type(grad) is region_gradient.Region:
        grad = region_gradient.dense(grad, owned)
    state = fn.__dict__
    if "_grad_hooks" in state:
        grad = run_grad_hooks(fn, grad)
    retained = state.get("retained_by")
    if retained is not None:
        retained._grad = grad.copy() if retained._grad is None else retained._grad + grad
    return grad


def _pass_on(fn: Op, grad, grads: dict, leaves: dict, owned: set) -> None:
    """Run ``fn``'s backward on ``grad`` and add each input's gradient to what it has
    received: an op's in ``grads``, a leaf's in its entry of ``leaves`` ([leaf, sum])."""
    if _anomaly_enabled:  # every gradient checked (so written out: no regions)
        input_grads = anomaly_mode.checked(fn, fn.backward, grad)
    else:
        region = fn.backward_region(grad) if fn.regional else None
        input_grads = (region,) if region is not None else fn.backward(grad)
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    edges = zip(fn.parents, fn.input_ctxs, fn.needs_input_grad, input_grads)
    for parent, parent_fn, needed, input_grad in edges:
        if input_grad is None or not needed:
            continue
        if parent_fn is not None:
            key = id(parent_fn)
            if key in grads:
                region_gradient.add(grads, key, input_grad, owned)
            else:  # its first gradient: region_gradient.add's first case
                grads[key] = input_grad
            continue
        entry = leaves.get(id(parent))
        if entry is None:
            leaves[id(parent)] = [parent, input_grad]
        else:  # a leaf used again: its sum, as an op's
            entry[1] = region_gradient.summed(entry[1], input_grad, owned)


def run_grad_hooks(owner, grad):
    """``grad`` passed through the hooks ``Tensor.register_hook`` put on ``owner`` (a leaf
    tensor, or the op that made a non-leaf); a hook returning a tensor replaces it."""
    hooks = owner.__dict__.get("_grad_hooks")
    if not hooks:
        return grad
    for hook in list(hooks.values()):
        result = hook(_tensor.Tensor._make(grad, False, None))
        if result is not None:
            grad = result._data if isinstance(result, _tensor.Tensor) else result
    return grad


def run_backward(root, gradient, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) · gradient into ``leaf.grad`` for every leaf that needs it."""
    _store_leaf_grads(_propagate(root, gradient, retain_graph).values(), gradient)


def _store_leaf_grads(entries, root_gradient) -> None:
    """Add each leaf's gradient to its ``.grad``; every ``.grad`` owns its own memory."""
    handed_out = {id(root_gradient)}
    for leaf, grad in entries:
        data = leaf._data
        if grad.dtype != data.dtype or grad.shape != data.shape:
            grad = _shaped_like(grad, leaf)
        if leaf._grad is None:
            if grad.base is not None or id(grad) in handed_out or not grad.flags.writeable:
                grad = grad.copy()
            handed_out.add(id(grad))
            leaf._grad = grad
        elif "_grad_graph" in leaf.__dict__:  # from backward(create_graph=True): its own
            del leaf._grad_graph
            leaf._grad = leaf._grad + grad
        else:
            leaf._grad += grad
        if "_post_accumulate_grad_hooks" in leaf.__dict__:
            run_post_accumulate_grad_hooks(leaf)


def run_post_accumulate_grad_hooks(leaf) -> None:
    """The hooks ``Tensor.register_post_accumulate_grad_hook`` put on ``leaf``, each called
    with the leaf once its ``.grad`` holds this backward's gradient; each must return None."""
    for hook in list(leaf.__dict__.get("_post_accumulate_grad_hooks", {}).values()):
        if hook(leaf) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _shaped_like(grad, tensor):
    if grad.dtype != tensor._data.dtype:
        grad = grad.astype(tensor._data.dtype)
    if grad.shape != tensor._data.shape:
        grad = grad.reshape(tensor._data.shape)
    return grad


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool = False,
         is_grads_batched: bool = False, materialize_grads: bool = False):
    """d(Σ outputs · grad_outputs)/d(input) for each input, as torch's ``autograd.grad``;
    the inputs' ``.grad`` are left untouched. Returns a tuple of tensors (None if unused).
    ``is_grads_batched``: each grad_output's first dim is a batch of vectors, one gradient
    each (stacked). ``only_inputs`` is torch's deprecated flag (ignored, as torch's)."""
    from ffnn.tensor import Tensor  # noqa: PLC0415 - the Tensor module imports this one

    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", stacklevel=2)
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    wanted = {id(t._ctx): t for t in inputs if t._ctx is not None}
    found = _graph_gradients(outputs, grad_outputs, wanted, inputs) if create_graph else \
        _gradients(outputs, grad_outputs, wanted, retain_graph)
    result = []
    for t in inputs:
        value = found.get(id(t))
        if value is None and not (allow_unused or materialize_grads):
            raise RuntimeError(
                "One of the differentiated Tensors appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        if value is None:
            result.append(Tensor._make(t._data * 0, False, None) if materialize_grads else None)
        elif create_graph:  # a broadcast view (a sum's gradient) made a tensor of its own
            result.append(value if value._data.flags.writeable else value.clone())
        else:
            result.append(Tensor._make(_shaped_like(value, t), False, None))
    return tuple(result)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads) -> tuple:
    """``grad`` for each vector of the batched ``grad_outputs`` (their first dim), stacked:
    what torch computes with vmap, by one backward a vector."""
    from ffnn import ops  # noqa: PLC0415 - ops import the Tensor, which imports this module
    from ffnn.tensor import Tensor  # noqa: PLC0415

    batched = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    if not batched or any(g is None for g in batched):
        raise RuntimeError("autograd.grad: is_grads_batched=True needs every grad_output "
                           "given, with the batch as its first dim")
    rows = batched[0].shape[0]
    per_row = [grad(outputs, inputs, [g[i] for g in batched],
                    retain_graph=True if i < rows - 1 else retain_graph,
                    create_graph=create_graph, allow_unused=allow_unused,
                    materialize_grads=materialize_grads) for i in range(rows)]
    return tuple(None if parts[0] is None else ops.stack(list(parts), 0)
                 for parts in zip(*per_row))


def _gradients(outputs, grad_outputs, wanted: dict, retain_graph: bool | None) -> dict:
    """``grad``'s sums over the outputs, as arrays: id(input) → gradient."""
    found: dict[int, object] = {}
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        keep = retain_graph if retain_graph is not None else False
        gradient = out._initial_gradient(g)
        for tensor, value in _propagate(out, gradient, keep or i < len(outputs) - 1,
                                        wanted).values():
            key = id(tensor)
            found[key] = value if key not in found else found[key] + value
    return found


def _graph_gradients(outputs, grad_outputs, wanted: dict, inputs: tuple) -> dict:
    """``grad``'s sums over the outputs with ``create_graph``: id(input) → a gradient tensor
    with its own graph (``ffnn.graph_backward``; the graph is kept)."""
    from ffnn import graph_backward  # noqa: PLC0415 - needed only for higher-order gradients

    found: dict[int, object] = {}
    for out, g in zip(outputs, grad_outputs):
        for tensor, value in graph_backward.propagate(out, out._gradient_tensor(g), wanted,
                                                      targets=inputs).values():
            key = id(tensor)
            found[key] = value if key not in found else found[key] + value
    return found


class _Roots(Op):
    """The joint start of a backward from several tensors: d(Σₖ ⟨tensorₖ, gradₖ⟩)/d(tensorₖ)
    = gradₖ, so one walk of the graph serves them all (each hook runs once, on the sum)."""

    def backward(self, grad_output):
        return self.gradients

    def backward_graph(self, grad, *inputs):
        return self.gradients


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """torch's ``autograd.backward``: add Σₖ d(tensorₖ)/d(leaf) · grad_tensorsₖ to the ``.grad``
    of every leaf (of ``inputs`` only, where given); ``tensors``: a tensor or a sequence,
    ``grad_tensors`` one gradient (or None for a one-element tensor) each."""
    Tensor = _tensor.Tensor
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    grads = grad_tensors if grad_tensors is not None else grad_variables
    grads = (None,) * len(tensors) if grads is None else \
        (grads,) if isinstance(grads, Tensor) else tuple(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    if len(tensors) == 1:
        tensors[0].backward(grads[0], retain_graph, create_graph, inputs)
        return
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
    node = _Roots()
    node.parents, node.input_ctxs = tensors, tuple([t._ctx for t in tensors])
    node.needs_input_grad = (True,) * len(tensors)
    node.tick, node.output = _clock[0], ([0, 0], 0)
    # views of the given arrays: a leaf's .grad never shares memory with one (see
    # _store_leaf_grads)
    node.gradients = tuple([t._gradient_tensor(g) if create_graph else
                            t._initial_gradient(g).view() for t, g in zip(tensors, grads)])
    root = Tensor._make(np.ones((), dtype=np.float64), True, node)
    root.backward(None, retain_graph, create_graph, inputs)


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802
    """torch's old ``autograd.Variable``: since torch 0.4 simply a tensor."""
    from ffnn.creation import as_tensor  # noqa: PLC0415

    out = as_tensor(data)
    return out.requires_grad_(requires_grad) if requires_grad else out


from ffnn import tensor as _tensor  # noqa: E402 - Tensor is defined there and imports this module
from ffnn.autograd import anomaly_mode, functional, torch_nodes  # noqa: E402,F401 - torch's submodules
from ffnn.autograd.anomaly_mode import (  # noqa: E402,F401 - torch's names
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from ffnn.autograd.gradient_checks import (  # noqa: E402,F401 - torch's names
    GradcheckError,
    gradcheck,
    gradgradcheck,
)
from ffnn.custom_function import Function, FunctionCtx  # noqa: E402,F401 - torch's public name


def __getattr__(name: str):
    """torch's submodules ``forward_ad`` and ``profiler``, imported at their first use."""
    if name in ("forward_ad", "profiler"):
        import importlib

        return importlib.import_module(f"ffnn.autograd.{name}")
    raise AttributeError(f"module 'ffnn.autograd' has no attribute {name!r}")
