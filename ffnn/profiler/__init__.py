"""``ffnn.profiler``: torch's profiler, timing ffnn's ops as torch's times its operators.

    from ffnn.profiler import profile, record_function, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Each op's forward is an event named after the op (``Linear``, ``ReLU``), its backward
``LinearBackward``, an optimizer step ``Optimizer.step#SGD.step``, a ``record_function``
range its name; ``key_averages()`` sums them by name and ``table()`` prints torch's table.
In a training loop, ``schedule`` says which steps (``prof.step()``) are recorded and
``on_trace_ready`` (``tensorboard_trace_handler``) receives each recorded cycle. Timing is
installed only while recording (``ffnn.profiler.recorder``): outside, ffnn runs untouched.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterable
from functools import partial

from ffnn.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from ffnn.profiler.recorder import record_function
from ffnn.profiler.scheduling import ProfilerAction, default_schedule, schedule
from ffnn.profiler.session import (
    ProfilerActivity,
    check_activities,
    check_callable,
    check_flag,
    kineto_available,
    supported_activities,
)
from ffnn.profiler.session import profile as _session

__all__ = ["profile", "schedule", "supported_activities", "tensorboard_trace_handler",
           "ProfilerAction", "ProfilerActivity", "kineto_available", "record_function",
           "EventList", "FunctionEvent", "FunctionEventAvg"]

_A = ProfilerAction
_TRANSITIONS = {  # (previous action, action) → what the profiler does, as torch's action_map
    (_A.NONE, _A.WARMUP): ("prepare",),
    (_A.NONE, _A.RECORD): ("prepare", "start"),
    (_A.NONE, _A.RECORD_AND_SAVE): ("prepare", "start"),
    (_A.WARMUP, _A.NONE): ("warn", "start", "stop"),
    (_A.WARMUP, _A.RECORD): ("start",),
    (_A.WARMUP, _A.RECORD_AND_SAVE): ("start",),
    (_A.RECORD, _A.NONE): ("warn", "stop"),
    (_A.RECORD, _A.WARMUP): ("warn", "stop"),
    (_A.RECORD_AND_SAVE, _A.NONE): ("stop", "ready"),
    (_A.RECORD_AND_SAVE, _A.WARMUP): ("stop", "ready", "prepare"),
    (_A.RECORD_AND_SAVE, _A.RECORD): ("stop", "ready", "prepare", "start"),
    (_A.RECORD_AND_SAVE, _A.RECORD_AND_SAVE): ("stop", "ready", "prepare", "start"),
    (_A.WARMUP, None): ("start", "stop"),
    (_A.RECORD, None): ("stop", "ready"),
    (_A.RECORD_AND_SAVE, None): ("stop", "ready"),
}
_cleared_warned: list[bool] = []


class profile:  # noqa: N801 - torch's name
    """torch's ``torch.profiler.profile``: a context manager (or ``start()`` / ``stop()``)
    recording ffnn's CPU events; ``step()`` marks a training step for ``schedule``."""

    def __init__(self, *, activities: Iterable | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None):
        for name, value in (("record_shapes", record_shapes), ("profile_memory", profile_memory),
                            ("with_stack", with_stack), ("with_flops", with_flops),
                            ("with_modules", with_modules), ("acc_events", acc_events)):
            check_flag("profile", name, value)
        for name, value in (("schedule", schedule), ("on_trace_ready", on_trace_ready),
                            ("custom_trace_id_callback", custom_trace_id_callback)):
            check_callable("profile", name, value)
        if use_cuda is not None:
            check_flag("profile", "use_cuda", use_cuda)
        check_activities(activities, use_cuda)
        self.options = {"record_shapes": record_shapes, "profile_memory": profile_memory,
                        "with_stack": with_stack, "with_flops": with_flops,
                        "with_modules": with_modules, "acc_events": acc_events,
                        "custom_trace_id_callback": custom_trace_id_callback}
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.acc_events, self.execution_trace_observer = acc_events, execution_trace_observer
        self.schedule = schedule or default_schedule
        self.record_steps = schedule is not None  # ProfilerStep#<n> ranges
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.profiler: _session | None = None
        self.step_rec_fn: record_function | None = None
        self._metadata: dict = {}
        self.current_action = self._action(0)

    def _action(self, step: int) -> ProfilerAction:
        action = self.schedule(step)
        if action == ProfilerAction.DEVICE_STOPPED or not isinstance(action, ProfilerAction):
            raise ValueError("profile: schedule must return a ProfilerAction other than "
                             f"DEVICE_STOPPED. Received: {action!r} at step {step}")
        return action

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        if self.execution_trace_observer is not None:
            self.execution_trace_observer.cleanup()

    def start(self) -> None:
        self._transit(ProfilerAction.NONE, self.current_action)
        self._enter_step()

    def stop(self) -> None:
        self._exit_step()
        self._transit(self.current_action, None)

    def step(self) -> None:
        """Mark the start of the next step: the schedule's action for it is taken."""
        self._exit_step()
        previous, action = self.current_action, self._action(self.step_num + 1)
        self.step_num += 1
        self.current_action = action
        self._transit(previous, action)
        self._enter_step()

    def _enter_step(self) -> None:
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _exit_step(self) -> None:
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def _transit(self, previous: ProfilerAction, action: ProfilerAction | None) -> None:
        for name in _TRANSITIONS.get((previous, action), ()):
            if name == "warn":
                warnings.warn(f"Incorrect schedule: {previous.name} followed by "
                              f"{action.name}", stacklevel=3)
            else:
                {"prepare": self.prepare_trace, "start": self.start_trace,
                 "stop": self.stop_trace, "ready": self._trace_ready}[name]()

    def prepare_trace(self) -> None:
        """A new recording for the coming cycle (the last one kept with ``acc_events``)."""
        if self.profiler is not None and not self.acc_events and not _cleared_warned:
            _cleared_warned.append(True)
            warnings.warn("Warning: Profiler clears events at the end of each cycle. Only "
                          "events from the current cycle will be reported. To keep events "
                          "across cycles, set acc_events=True.", stacklevel=2)
        if self.profiler is None or not self.acc_events:
            self.profiler = _session(**self.options)
        self.profiler._prepare_trace()

    def start_trace(self) -> None:
        if self.execution_trace_observer is not None:
            self.execution_trace_observer.start()
        self.profiler._start_trace()

    def stop_trace(self) -> None:
        if self.execution_trace_observer is not None:
            self.execution_trace_observer.stop()
        self.profiler.__exit__(None, None, None)

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _recorded(self) -> _session:
        if self.profiler is None:
            raise RuntimeError("profile: nothing recorded yet (the schedule has not reached "
                               "a recorded step)")
        return self.profiler

    def events(self) -> EventList:
        """The events of the last recorded cycle (of all of them with ``acc_events``)."""
        return self._recorded().function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events averaged by name (and input shapes with ``group_by_input_shape``)."""
        return self._recorded().key_averages(group_by_input_shape, group_by_stack_n,
                                             group_by_overload_name)

    def export_chrome_trace(self, path, use_python_export: bool = False) -> None:
        """Write the last cycle's events to ``path`` as a Chrome trace (gzip for ``.gz``)."""
        self._recorded().export_chrome_trace(path, self._metadata)

    def add_metadata(self, key: str, value: str) -> None:
        """A string entry added to the exported trace."""
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        """An entry, given as JSON text, added to the exported trace."""
        import json  # noqa: PLC0415 - seldom used

        self._metadata[key] = json.loads(value)

    def get_trace_id(self) -> str | None:
        return None if self.profiler is None else self.profiler.trace_id

    def set_custom_trace_id_callback(self, callback: Callable[[], str]) -> None:
        check_callable("set_custom_trace_id_callback", "callback", callback)
        self.options["custom_trace_id_callback"] = callback


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False,
                              use_python_export: bool = False) -> Callable[[profile], None]:
    """An ``on_trace_ready`` that writes each recorded cycle to ``dir_name`` as
    ``<worker_name>.<time in ns>.pt.trace.json`` (``.gz`` with ``use_gzip``), the files
    TensorBoard's profiler plugin reads; ``worker_name`` defaults to ``<host>_<pid>``."""
    if not isinstance(dir_name, (str, os.PathLike)):
        raise TypeError("tensorboard_trace_handler: dir_name must be a path. "
                        f"Received: dir_name={dir_name!r}")
    check_flag("tensorboard_trace_handler", "use_gzip", use_gzip)
    return partial(_write_trace, os.fspath(dir_name), worker_name, use_gzip)


def _write_trace(dir_name: str, worker_name: str | None, use_gzip: bool, prof: profile) -> None:
    import socket  # noqa: PLC0415 - for the host name, when a trace is written

    try:
        os.makedirs(dir_name, exist_ok=True)
    except OSError as error:
        raise RuntimeError("Can't create directory: " + dir_name) from error
    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
    file_name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
    prof.export_chrome_trace(os.path.join(dir_name, file_name))
