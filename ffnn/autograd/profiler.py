"""``ffnn.autograd.profiler``: torch's older profiler API, ``torch.autograd.profiler``.

    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        with torch.autograd.profiler.record_function("forward"):
            model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

The recording itself is ``ffnn.profiler``'s (each cycle of ``ffnn.profiler.profile`` is one
of these ``profile`` objects); this module gives it torch's older import path.
"""

from __future__ import annotations

from ffnn.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from ffnn.profiler.recorder import record_function
from ffnn.profiler.session import (
    ProfilerActivity,
    kineto_available,
    profile,
    supported_activities,
)

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg",
           "ProfilerActivity", "kineto_available", "supported_activities"]
