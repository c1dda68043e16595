"""One recording: torch's ``autograd.profiler.profile`` (also what each cycle of
``ffnn.profiler.profile`` records into), and ``ProfilerActivity``.

    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

ffnn runs on the CPU, so CPU events are all there is: asking for a device warns, as torch
without that device does, and records the CPU alone (with ``use_cpu=False`` nothing is
left: RuntimeError, torch's "No activities specified for the profiler").
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable, Iterable

from ffnn.profiler import recorder, report
from ffnn.profiler.events import EventList, FunctionEventAvg


class ProfilerActivity(enum.Enum):
    """What a profile records: torch's activity groups (ffnn has the CPU's)."""

    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


def supported_activities() -> set[ProfilerActivity]:
    """The activities ffnn records: the CPU's."""
    return {ProfilerActivity.CPU}


def kineto_available() -> bool:
    """Whether ``ffnn.profiler.profile`` (torch's Kineto profiler API) works: it does."""
    return True


def without_device(device: str) -> None:
    """torch's warning for a device it cannot profile: its events are left out."""
    name = device.upper()
    warnings.warn(f"{name} is not available, disabling {name} profiling", stacklevel=4)


def check_flag(owner: str, name: str, value) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool. "
                        f"Received: {name}={value!r} of type {type(value).__name__}")


def check_callable(owner: str, name: str, value) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{owner}: {name} must be None or callable. "
                        f"Received: {name}={value!r} of type {type(value).__name__}")


def _check_device(use_cuda: bool, use_device: str | None) -> None:
    """torch's warnings for ``use_cuda`` (deprecated) and a device to profile."""
    if use_cuda:
        warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                      "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=3)
        use_device = "cuda"
    if use_device is not None and not isinstance(use_device, str):
        raise TypeError(f"profile: use_device must be None or a str ('cuda', 'xpu', …). "
                        f"Received: use_device={use_device!r}")
    if use_device is not None:
        without_device(use_device)


class profile:  # noqa: N801 - torch's name
    """Record the ops, backward passes, optimizer steps and ``record_function`` ranges run
    inside (context manager). ``record_shapes``: keep each op's input shapes;
    ``profile_memory``: the bytes of its outputs. ``with_stack``, ``with_flops``,
    ``with_modules`` and the Kineto options are accepted and record nothing more here."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config=None, acc_events: bool = False,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None,
                 activity_filters: dict | None = None):
        for name, value in (("enabled", enabled), ("use_cuda", use_cuda),
                            ("record_shapes", record_shapes), ("with_flops", with_flops),
                            ("profile_memory", profile_memory), ("with_stack", with_stack),
                            ("with_modules", with_modules), ("use_kineto", use_kineto),
                            ("use_cpu", use_cpu), ("acc_events", acc_events)):
            check_flag("profile", name, value)
        check_callable("profile", "custom_trace_id_callback", custom_trace_id_callback)
        self.enabled = enabled
        _check_device(use_cuda, use_device)
        if not use_cpu:
            raise RuntimeError("No activities specified for the profiler: use_cpu=False and "
                               "ffnn has no device to profile (its ops run on the CPU)")
        self.use_device = None
        self.record_shapes = record_shapes or with_flops
        self.profile_memory, self.with_flops = profile_memory, with_flops
        self.with_stack, self.with_modules = with_stack, with_modules
        self.acc_events, self.custom_trace_id_callback = acc_events, custom_trace_id_callback
        self.entered, self.trace_id = False, ""
        self._collector: recorder.Collector | None = None
        self._function_events: EventList | None = None

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._prepare_trace()
        self._start_trace()
        return self

    def _prepare_trace(self) -> None:
        """A new trace id (``custom_trace_id_callback()`` where given)."""
        import uuid  # noqa: PLC0415 - imported when a profile starts, not with ffnn

        self.entered = True
        self.trace_id = self.custom_trace_id_callback() if self.custom_trace_id_callback \
            else f"{uuid.uuid4().int:032X}"

    def _start_trace(self) -> None:
        """Start timing (a new recording, or the last one continued with ``acc_events``)."""
        self.entered = True
        if self._collector is None or not self.acc_events:
            self._collector = recorder.Collector(self.record_shapes, self.profile_memory)
        self._function_events = None
        recorder.start(self._collector)

    def __exit__(self, *exc) -> bool:
        if self.enabled and self._collector is not None:
            recorder.stop(self._collector)
        return False

    @property
    def function_events(self) -> EventList:
        """The recorded events (``FunctionEvent``), in call order."""
        if self._function_events is None:
            events = self._collector.events if self._collector is not None else ()
            self._function_events = EventList(
                events, profile_memory=self.profile_memory, with_flops=self.with_flops,
                record_shapes=self.record_shapes)
        return self._function_events

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        """The events' table (one row per call; ``key_averages().table()`` averages)."""
        return self.function_events.table(sort_by, row_limit, max_src_column_width,
                                          max_name_column_width, max_shapes_column_width,
                                          header, top_level_events_only)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events averaged by name (and input shapes with ``group_by_input_shape``)."""
        check_flag("key_averages", "group_by_input_shape", group_by_input_shape)
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                 group_by_overload_name)

    def total_average(self) -> FunctionEventAvg:
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of every event's self CPU time (µs): the time recorded."""
        return self.function_events.self_cpu_time_total

    def export_chrome_trace(self, path, metadata: dict | None = None,
                            use_python_export: bool = False) -> None:
        """Write the events to ``path`` as a Chrome trace (JSON; gzip for ``.gz``)."""
        report.write_chrome_trace(self.function_events, path, record_shapes=self.record_shapes,
                                  profile_memory=self.profile_memory,
                                  metadata={"trace_id": self.trace_id, **(metadata or {})})

    def __str__(self) -> str:
        return str(self.function_events)

    def __repr__(self) -> str:
        return repr(self.function_events)


def check_activities(activities: Iterable | None, use_cuda: bool | None) -> None:
    """Check the activities asked for (torch's ``activities`` list, each a
    ``ProfilerActivity`` or a dict of one to event names; None: the supported ones, and
    ``use_cuda`` adds or removes CUDA): a device warns that it is left out, as torch does
    without it, and without the CPU nothing is left (RuntimeError)."""
    if activities is None:
        chosen = supported_activities()
    else:
        if isinstance(activities, (str, ProfilerActivity)) or \
                not isinstance(activities, Iterable):
            raise TypeError("profile: activities must be a list of ProfilerActivity. "
                            f"Received: activities={activities!r}")
        chosen = set()
        for item in activities:
            keys = list(item) if isinstance(item, dict) else [item]
            for key in keys:
                if not isinstance(key, ProfilerActivity):
                    raise TypeError("profile: each activity must be a ProfilerActivity (or a "
                                    f"dict of one to event names). Received: {key!r}")
                if key in chosen:
                    raise ValueError(f"Activity {key} specified more than once")
                chosen.add(key)
    if use_cuda is not None:
        warnings.warn("`use_cuda` is deprecated, use `activities` argument instead",
                      FutureWarning, stacklevel=3)
        (chosen.add if use_cuda else chosen.discard)(ProfilerActivity.CUDA)
    if not chosen:
        raise RuntimeError("No valid profiler activities found: activities is empty")
    for activity in sorted(chosen - supported_activities(), key=lambda a: a.value):
        without_device(activity.name)
    if ProfilerActivity.CPU not in chosen:
        raise RuntimeError("No activities specified for the profiler: ffnn records CPU events "
                           "only (its ops run on the CPU). Received: activities="
                           f"{sorted(chosen, key=lambda a: a.value)}")
