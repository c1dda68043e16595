"""What a profile holds: timed calls (``FunctionEvent``), their averages by key
(``FunctionEventAvg``) and the list of either (``EventList``), with torch's attribute names.

An event is one call: an op's forward (named after the op, ``Linear``), its backward
(``LinearBackward``), a ``record_function`` range or an optimizer step
(``Optimizer.step#SGD.step``). Its children are the calls made inside it, so
self time = total time − Σ children's total times. Memory: bytes its output(s) took
(``profile_memory``), ``cpu_memory_usage`` with its children's, ``self_cpu_memory_usage``
without. Times are in microseconds, as torch reports them; kept in nanoseconds
(``time.perf_counter_ns``) so that a self time is never below zero by rounding.
"""

from __future__ import annotations

from collections.abc import Iterable

from ffnn.profiler import report

STEP_PREFIX = "ProfilerStep#"
"""``profile.step()``'s ranges, ``ProfilerStep#3``: averaged together as ``ProfilerStep*``."""


class Interval:
    """A call's start and end, in microseconds."""

    def __init__(self, start: float, end: float):
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start


class _FormattedTimes:
    """``cpu_time`` (the mean of a call) and the ``*_str`` forms the table prints."""

    @property
    def cpu_time(self) -> float:
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    device_time = 0.0

    @property
    def cpu_time_str(self) -> str:
        return report.format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return report.format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return report.format_time(self.self_cpu_time_total)


class FunctionEvent(_FormattedTimes):
    """One timed call. ``category``: ``cpu_op`` for an op (forward or backward),
    ``user_annotation`` for a ``record_function`` range or an optimizer call."""

    count = 1
    node_id = -1
    is_async = False
    is_remote = False
    is_legacy = False
    overload_name = ""
    flops = 0
    use_device = None
    device_time_total = self_device_time_total = 0
    device_memory_usage = self_device_memory_usage = 0

    def __init__(self, id: int, name: str, thread: int, category: str, input_shapes: list,
                 cpu_parent: FunctionEvent | None = None):
        self.id, self.trace_name, self.thread = id, name, thread
        self.name = "ProfilerStep*" if name.startswith(STEP_PREFIX) else name
        self.category = category
        self.is_user_annotation = category == "user_annotation"
        self.input_shapes = input_shapes
        self.cpu_parent, self.cpu_children = cpu_parent, []
        self.stack: list = []
        self.start_ns = self.end_ns = 0
        self.own_bytes = self.cpu_memory_usage = 0

    @property
    def key(self) -> str:
        return self.name

    @property
    def time_range(self) -> Interval:
        return Interval(self.start_ns / 1000, self.end_ns / 1000)

    @property
    def cpu_time_total(self) -> float:
        return (self.end_ns - self.start_ns) / 1000

    @property
    def self_cpu_time_total(self) -> float:
        children = sum(child.end_ns - child.start_ns for child in self.cpu_children)
        return (self.end_ns - self.start_ns - children) / 1000

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_str} "
                f"start_us={self.time_range.start} end_us={self.time_range.end} "
                f"cpu_children={[child.id for child in self.cpu_children]} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_FormattedTimes):
    """The sums of the events of one key (``count`` calls); ``cpu_time`` is their mean."""

    is_async = False
    is_remote = False
    node_id = -1
    use_device = None
    device_time_total = self_device_time_total = 0
    device_memory_usage = self_device_memory_usage = 0

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.input_shapes: list | str | None = None
        self.stack: list = []
        self.overload_name = ""
        self.flops = 0
        self.is_user_annotation = False
        self.cpu_parent = self.cpu_children = None

    def add(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        """Add ``other``'s sums (the first event added gives the key, shapes and parent)."""
        if self.key is None:
            self.key, self.input_shapes, self.stack = other.key, other.input_shapes, other.stack
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent, self.cpu_children = other.cpu_parent, other.cpu_children
        elif other.key != self.key:
            raise ValueError(f"FunctionEventAvg.add: key {other.key!r} is not this average's "
                             f"key {self.key!r}")
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        return self

    __iadd__ = add

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of events or averages, printed by ``table`` and averaged by ``key_averages``."""

    def __init__(self, events: Iterable = (), *, use_device: str | None = None,
                 profile_memory: bool = False, with_flops: bool = False,
                 record_shapes: bool = False):
        super().__init__(events)
        self._use_device, self._profile_memory = use_device, profile_memory
        self._with_flops, self._record_shapes = with_flops, record_shapes

    def _like(self, events: Iterable) -> EventList:
        return EventList(events, use_device=self._use_device,
                         profile_memory=self._profile_memory, with_flops=self._with_flops,
                         record_shapes=self._record_shapes)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(event.self_cpu_time_total for event in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """torch's table: one row per event (sorted by the attribute ``sort_by``, largest
        first), at most ``row_limit`` rows (-1: all), and the total self CPU time."""
        return report.table(self, sort_by=sort_by, row_limit=row_limit,
                            max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width, header=header,
                            top_level_events_only=top_level_events_only, time_unit=time_unit,
                            profile_memory=self._profile_memory)

    def __str__(self) -> str:
        return self.table()

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """One ``FunctionEventAvg`` per key (name), in order of first call; with
        ``group_by_input_shapes`` one per (name, input shapes)."""
        stats: dict[tuple, FunctionEventAvg] = {}
        for event in self:
            key = (event.key, event.is_user_annotation,
                   str(event.input_shapes) if group_by_input_shapes else "",
                   tuple(event.stack[:group_by_stack_n]))
            stats.setdefault(key, FunctionEventAvg()).add(event)
        averages = self._like(stats.values())
        for average in averages:
            average.stack = average.stack[:group_by_stack_n]
            if not group_by_input_shapes:
                average.input_shapes = ""
        return averages

    def total_average(self) -> FunctionEventAvg:
        """All events summed into one average with key ``Total``."""
        total = FunctionEventAvg()
        for event in self:
            total.key = None
            total.add(event)
        total.key = "Total"
        return total

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as a Chrome trace (``chrome://tracing``, Perfetto) to ``path``."""
        report.write_chrome_trace(self, path, record_shapes=self._record_shapes,
                                  profile_memory=self._profile_memory)
