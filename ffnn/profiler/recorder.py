"""Timing calls while a profile records, and nothing at all while none does.

``start(collector)`` swaps timed wrappers in for the functions every call of interest goes
through, and ``stop`` puts the originals back (the very objects: ``Op.apply`` is then what
it was, so a program that is not profiled pays nothing):

- ``Op.apply``: one event per op forward, named after the op class (``Linear``); a
  ``Sequential`` of plain layers run as one node is one ``Sequential`` event;
- ``autograd._pass_on`` and ``graph_backward._pass_on`` (``create_graph``): one
  ``<Op>Backward`` event per op whose backward runs (with ``create_graph`` the ops of its
  tensor-form backward are its children);
- ``autograd.Function.apply``: one event per user ``Function`` call, named after its class;
- ``chain_call.infer``: a ``Sequential`` run without gradients as one native call;
- each optimizer class's own ``step`` and ``zero_grad``: ``Optimizer.step#SGD.step``.

Calls made inside a call or a ``record_function`` range are its children (one stack of
open events per thread). A function bound before the profile started (a compiled step, a
cached ``optimizer.step``) keeps calling the original and is not timed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from time import perf_counter_ns

from ffnn.profiler.events import FunctionEvent

_active: Collector | None = None
"""The collector of the profile that records now (one at a time)."""
_originals: list[tuple[object, str, object]] = []
"""(owner, attribute, original) of each swapped function, in the order swapped."""


class Collector:
    """The events of one recording, in call order, with each thread's open ones."""

    def __init__(self, record_shapes: bool = False, profile_memory: bool = False):
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.events: list[FunctionEvent] = []
        self._open: dict[int, list[FunctionEvent]] = {}

    def open(self, name: str, category: str, inputs: tuple = ()) -> FunctionEvent:
        """A started event, the child of the innermost open event of this thread."""
        thread = threading.get_ident()
        stack = self._open.setdefault(thread, [])
        parent = stack[-1] if stack else None
        shapes = [list(getattr(value, "shape", ())) for value in inputs] \
            if self.record_shapes else []
        event = FunctionEvent(len(self.events), name, thread, category, shapes, parent)
        if parent is not None:
            parent.cpu_children.append(event)
        self.events.append(event)
        stack.append(event)
        event.start_ns = perf_counter_ns()
        return event

    def close(self, event: FunctionEvent, nbytes: int = 0) -> None:
        """End ``event`` (once), its call having allocated ``nbytes``."""
        end = perf_counter_ns()
        if event.end_ns:
            return
        event.end_ns, event.own_bytes = end, nbytes
        stack = self._open.get(event.thread, [])
        if stack and stack[-1] is event:
            stack.pop()
        elif event in stack:  # ranges closed out of order
            stack.remove(event)

    def finish(self) -> None:
        """End the events still open (a range the profile stopped inside) and add up each
        event's memory with its children's."""
        end = perf_counter_ns()
        for stack in self._open.values():
            for event in stack:
                event.end_ns = end
        self._open.clear()
        for event in reversed(self.events):  # children after their parents
            event.cpu_memory_usage = event.own_bytes + sum(
                child.cpu_memory_usage for child in event.cpu_children)


def start(collector: Collector) -> None:
    """Record into ``collector``: swap in the timed functions. Raises RuntimeError while
    another profile records."""
    global _active
    if _active is not None:
        raise RuntimeError("profile: another profiler is already recording; ffnn records "
                           "one profile at a time (stop the other one first)")
    _active = collector
    try:
        for owner, attribute, make in _targets():
            original = vars(owner)[attribute]
            _originals.append((owner, attribute, original))
            setattr(owner, attribute, make(original))
    except BaseException:
        stop(collector)
        raise


def stop(collector: Collector) -> None:
    """Put the original functions back and close ``collector``'s recording."""
    global _active
    if _active is not collector:
        return
    while _originals:
        owner, attribute, original = _originals.pop()
        setattr(owner, attribute, original)
    _active = None
    collector.finish()


def _targets() -> Iterator[tuple[object, str, Callable]]:
    """(owner, attribute, wrapper maker) of each function timed while recording."""
    from ffnn import autograd, graph_backward  # noqa: PLC0415 - loaded after this module
    from ffnn.nn import chain_call  # noqa: PLC0415
    from ffnn.optim.optimizer import Optimizer  # noqa: PLC0415

    yield autograd.Op, "apply", _timed_op_apply
    yield autograd.Function, "apply", _timed_function_apply
    yield autograd, "_pass_on", _timed_backward
    yield graph_backward, "_pass_on", _timed_backward
    yield chain_call, "infer", _timed_inference
    for cls in _subclasses(Optimizer):
        for method in ("step", "zero_grad"):
            if method in vars(cls):
                yield cls, method, _timed_optimizer_call


def _subclasses(cls: type) -> list[type]:
    found, pending = [], [cls]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(current.__subclasses__())
    return found


def op_name(op_class: type) -> str:
    """An op's event name: its class's own ``label`` where it has one (``SequentialChain``:
    ``Sequential``), else the class name."""
    return vars(op_class).get("label") or op_class.__name__


def _root(array):
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def output_bytes(out, inputs: tuple) -> int:
    """Bytes of the arrays of ``out`` (a tensor or a tuple of them) that are not views of
    an input's memory."""
    taken = {id(_root(getattr(value, "_data", None))) for value in inputs}
    total = 0
    for tensor in out if isinstance(out, (tuple, list)) else (out,):
        data = getattr(tensor, "_data", None)
        if data is not None and id(_root(data)) not in taken:
            total += data.nbytes
    return total


def _timed(run: Callable, name: str, category: str, inputs: tuple, measure: Callable | None):
    """``run()`` as one event of ``_active`` (``measure(result)``: the bytes it took)."""
    collector = _active
    if collector is None:  # the profile stopped while this call was on its way
        return run()
    event = collector.open(name, category, inputs)
    try:
        result = run()
    except BaseException:
        collector.close(event)
        raise
    collector.close(event, measure(result) if measure and collector.profile_memory else 0)
    return result


def _timed_op_apply(original: classmethod) -> classmethod:
    apply = original.__func__

    def timed_apply(cls, *inputs, **options):
        return _timed(lambda: apply(cls, *inputs, **options), op_name(cls), "cpu_op", inputs,
                      lambda out: output_bytes(out, inputs))

    return classmethod(functools.wraps(apply)(timed_apply))


_timed_function_apply = _timed_op_apply  # a user ``Function``: named after its class


def _gradient_bytes(fn) -> int:
    """Bytes of the gradients ``fn``'s backward hands on: one per input that needs one."""
    return sum(parent._data.nbytes for parent, needed in zip(fn.parents, fn.needs_input_grad)
               if needed and parent is not None)


def _timed_backward(original: Callable) -> Callable:
    @functools.wraps(original)
    def timed_pass_on(fn, grad, *rest):
        function = vars(fn).get("function")  # the node of a user ``Function``: its class
        name = op_name(function if isinstance(function, type) else type(fn)) + "Backward"
        return _timed(lambda: original(fn, grad, *rest), name, "cpu_op", (grad,),
                      lambda _: _gradient_bytes(fn))

    return timed_pass_on


def _timed_inference(original: Callable) -> Callable:
    """``chain_call.infer``: an event when it ran the Sequential as one native call (it
    applies no op), none when the layers then run one by one."""

    @functools.wraps(original)
    def timed_infer(sequential, input):
        collector, start = _active, perf_counter_ns()
        out = original(sequential, input)
        if out is not None and collector is not None:
            event = collector.open("Sequential", "cpu_op", (input,))
            event.start_ns = start
            collector.close(event, output_bytes(out, (input,)) if collector.profile_memory
                            else 0)
        return out

    return timed_infer


def _timed_optimizer_call(original: Callable) -> Callable:
    method = original.__name__

    @functools.wraps(original)
    def timed_call(self, *args, **kwargs):
        name = f"Optimizer.{method}#{type(self).__name__}.{method}"
        return _timed(lambda: original(self, *args, **kwargs), name, "user_annotation", (),
                      None)

    return timed_call


class record_function:  # noqa: N801 - torch's name
    """A named range of the profile (``with record_function("forward"):`` or as a
    decorator); the calls inside are its children. Records nothing when no profile does."""

    def __init__(self, name: str, args: str | None = None):
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str. "
                            f"Received: name={name!r} of type {type(name).__name__}")
        if args is not None and not isinstance(args, str):
            raise TypeError(f"record_function: args must be None or a str. "
                            f"Received: args={args!r} of type {type(args).__name__}")
        self.name, self.args = name, args
        self._event: FunctionEvent | None = None
        self._collector: Collector | None = None

    def __enter__(self) -> record_function:
        self._collector = _active
        if self._collector is not None:
            self._event = self._collector.open(self.name, "user_annotation")
        return self

    def __exit__(self, *exc) -> None:
        if self._event is not None:
            self._collector.close(self._event)
        self._event = self._collector = None

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper
