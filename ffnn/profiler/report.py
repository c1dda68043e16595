"""A profile written out: torch's text table (``key_averages().table()``) and a Chrome trace
(``export_chrome_trace``: the JSON that ``chrome://tracing``, Perfetto and TensorBoard's
profiler plugin read, shaped as torch's Kineto trace)."""

from __future__ import annotations

import os

SORT_KEYS = ("cpu_time", "cpu_time_total", "self_cpu_time_total", "cpu_memory_usage",
             "self_cpu_memory_usage", "count", "cuda_time", "cuda_time_total",
             "self_cuda_time_total", "cuda_memory_usage", "self_cuda_memory_usage",
             "xpu_time", "xpu_time_total", "self_xpu_time_total", "device_time",
             "device_time_total", "self_device_time_total", "device_memory_usage",
             "self_device_memory_usage")
"""``table(sort_by=…)``'s keys: an event's attributes (cuda/xpu read as the device's)."""
_WIDTH, _SPACING = 12, 2
_UNITS = {"s": 1e6, "ms": 1e3, "us": 1.0}


def format_time(time_us: float, unit: str | None = None) -> str:
    """``1.234s``, ``5.678ms`` or ``9.012us``, as torch prints a time (or in ``unit``)."""
    if unit is None:
        unit = "s" if time_us >= 1e6 else "ms" if time_us >= 1e3 else "us"
    return f"{time_us / _UNITS[unit]:.3f}{unit}"


def format_time_share(time_us: float, total_us: float) -> str:
    return "NaN" if total_us == 0 else f"{time_us * 100.0 / total_us:.2f}%"


def format_memory(nbytes: int) -> str:
    """``1.50 KB``, ``2.00 MB``, ``17 B``: as torch prints a size."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _check_table_arguments(sort_by, row_limit, time_unit) -> None:
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise ValueError(f"table: sort_by must be None or one of {', '.join(SORT_KEYS)}. "
                         f"Received: sort_by={sort_by!r}")
    if isinstance(row_limit, bool) or not isinstance(row_limit, int):
        raise TypeError(f"table: row_limit must be an int (-1 for all rows). "
                        f"Received: row_limit={row_limit!r}")
    if time_unit is not None and time_unit not in _UNITS:
        raise ValueError(f"table: time_unit must be None, 's', 'ms' or 'us'. "
                         f"Received: time_unit={time_unit!r}")


def _columns(events, profile_memory: bool, name_width: int, shapes_width: int) -> list:
    """(header, width) of each column, as torch's table has them for CPU events."""
    columns = [("Name", name_width)] + [(h, _WIDTH) for h in (
        "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg")]
    if profile_memory:
        columns += [("CPU Mem", _WIDTH), ("Self CPU Mem", _WIDTH)]
    columns.append(("# of Calls", _WIDTH))
    if any(event.input_shapes is not None and len(event.input_shapes) > 0 for event in events):
        columns.append(("Input Shapes", shapes_width))
    return columns


def _row(event, total_us: float, memory: bool, shapes_width: int | None, time_unit,
         max_name_width: int | None) -> list:
    """One event's row of the table (``shapes_width``: None without the shapes column)."""
    name = event.key
    if max_name_width is not None and len(name) >= max_name_width - 3:
        name = name[:max_name_width - 3] + "..."
    values = [name, format_time_share(event.self_cpu_time_total, total_us),
              format_time(event.self_cpu_time_total, time_unit),
              format_time_share(event.cpu_time_total, total_us) if not event.is_async else 0,
              format_time(event.cpu_time_total, time_unit), format_time(event.cpu_time, time_unit)]
    if memory:
        values += [format_memory(event.cpu_memory_usage),
                   format_memory(event.self_cpu_memory_usage)]
    values.append(event.count)
    if shapes_width is not None:
        values.append(str(event.input_shapes)[:shapes_width])
    return values


def table(events, sort_by: str | None = None, row_limit: int = 100,
          max_name_column_width: int | None = 55, max_shapes_column_width: int | None = 80,
          header: str | None = None, top_level_events_only: bool = False,
          time_unit: str | None = None, profile_memory: bool = False) -> str:
    """torch's table of ``events`` (see ``EventList.table``): Name, Self CPU %, Self CPU,
    CPU total %, CPU total, CPU time avg, [CPU Mem, Self CPU Mem], # of Calls,
    [Input Shapes]; then ``Self CPU time total: …``. The percentages are of that total."""
    _check_table_arguments(sort_by, row_limit, time_unit)
    if len(events) == 0:
        return ""
    if sort_by is not None:
        attribute = sort_by.replace("cuda", "device").replace("xpu", "device")
        events = sorted(events, key=lambda event: getattr(event, attribute), reverse=True)
    name_width = max(len(event.key) for event in events) + 4
    shapes_width = max(len(str(event.input_shapes)) for event in events) + 4
    columns = _columns(events, profile_memory,
                       min(name_width, max_name_column_width or name_width),
                       min(shapes_width, max_shapes_column_width or shapes_width))
    row_format = "".join("{:>" + str(width) + "}" + " " * _SPACING for _, width in columns)
    separator = "".join("-" * width + " " * _SPACING for _, width in columns)
    line_length = sum(width + _SPACING for _, width in columns) - _SPACING
    total_us = sum(event.self_cpu_time_total for event in events)
    shapes = columns[-1][1] if columns[-1][0] == "Input Shapes" else None
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [separator, row_format.format(*[name for name, _ in columns]), separator]
    shown = 0
    for event in events:
        if shown == row_limit:
            break
        if top_level_events_only and event.cpu_parent is not None:
            continue
        shown += 1
        lines.append(row_format.format(*_row(event, total_us, profile_memory, shapes, time_unit,
                                             max_name_column_width)))
    lines += [separator, f"Self CPU time total: {format_time(total_us, time_unit)}"]
    return "\n".join(lines) + "\n"


def _trace_events(events, record_shapes: bool, profile_memory: bool) -> list:
    """The Chrome trace's ``traceEvents``: one complete event ("X") per call, and with
    ``profile_memory`` an instant ``[memory]`` event per allocating call."""
    pid = os.getpid()
    trace: list = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                    "args": {"name": "python"}}]
    for index, event in enumerate(events):
        args: dict = {"Ev Idx": index}
        if record_shapes:
            args["Input Dims"] = event.input_shapes
        start = event.time_range.start
        trace.append({"ph": "X", "cat": event.category, "name": event.trace_name, "pid": pid,
                      "tid": event.thread, "ts": start, "dur": event.cpu_time_total,
                      "args": args})
        if profile_memory and event.own_bytes:
            trace.append({"ph": "i", "cat": "cpu_instant_event", "s": "t", "name": "[memory]",
                          "pid": pid, "tid": event.thread, "ts": event.time_range.end,
                          "args": {"Bytes": event.own_bytes, "Ev Idx": index}})
    return trace


def write_chrome_trace(events, path, *, record_shapes: bool = False,
                       profile_memory: bool = False, metadata: dict | None = None) -> None:
    """Write ``events`` to ``path`` as torch's Kineto trace JSON (gzip-compressed when the
    path ends in ``.gz``): ``{"schemaVersion": 1, …, "traceEvents": [...]}``."""
    import gzip  # noqa: PLC0415 - imported when a trace is written, not with ffnn
    import json  # noqa: PLC0415

    path = os.fspath(path)
    document = {"schemaVersion": 1, "deviceProperties": [], **(metadata or {}),
                "displayTimeUnit": "ms",
                "traceEvents": _trace_events(events, record_shapes, profile_memory),
                "traceName": path}
    if record_shapes:
        document["record_shapes"] = 1
    if profile_memory:
        document["profile_memory"] = 1
    text = json.dumps(document)
    if path.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as file:
            file.write(text)
    else:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
