"""``torch.utils.benchmark``: ``Timer`` runs a statement (with its setup and globals) as
``timeit`` does, on the threads asked for, and gives ``Measurement``s (median, IQR, mean,
torch's text); ``Compare`` prints several as one table (rows: sub-labels, columns:
descriptions, one table per label). Python statements only (``language='python'``)."""

from __future__ import annotations

import contextlib
import math
import timeit as _timeit
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Timer", "Measurement", "Compare", "select_unit"]

_UNITS = ((1e-9, "ns"), (1e-6, "us"), (1e-3, "ms"), (1.0, "s"))
_UNIT_NAMES = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}


def select_unit(seconds: float) -> tuple[str, float]:
    """(the unit to print ``seconds`` in, its size in seconds): the largest unit ≤ the time."""
    unit, scale = "ns", 1e-9
    for size, name in _UNITS:
        if seconds >= size:
            unit, scale = name, size
    return unit, scale


class Measurement:
    """``raw_times``: seconds of each block of ``number_per_run`` runs; ``times`` per run."""

    def __init__(self, number_per_run: int, raw_times: list[float], task: dict,
                 num_threads: int):
        self.number_per_run, self.raw_times = number_per_run, list(raw_times)
        self.task, self.num_threads = task, num_threads
        self.times = [t / number_per_run for t in self.raw_times]
        self.stmt, self.setup = task["stmt"], task["setup"]
        self.label, self.sub_label = task["label"], task["sub_label"]
        self.description, self.env = task["description"], task["env"]
        p25, self.median, p75 = np.quantile(self.times, [0.25, 0.5, 0.75])
        self._p25, self._p75 = float(p25), float(p75)
        self.median, self.mean = float(self.median), float(np.mean(self.times))
        self.iqr = self._p75 - self._p25

    @property
    def title(self) -> str:
        """``label: sub_label`` (the statement where there is no label), as torch's."""
        head = self.label if self.label is not None else self.stmt
        return head + (f": {self.sub_label}" if self.sub_label else "")

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    @property
    def has_warnings(self) -> bool:
        """Whether the IQR is 10% of the median or more (torch's threshold)."""
        return self._warning is not None

    @property
    def _warning(self) -> str | None:
        spread = self.iqr / self.median if self.median > 0 else 0.0
        if spread < 0.1:
            return None
        reason = ("This suggests significant environmental influence." if spread >= 0.25 else
                  "This could indicate system fluctuation.")
        return (f"  WARNING: Interquartile range is {100 * spread:.1f}% of the median "
                f"measurement.\n           {reason}")

    @property
    def significant_figures(self) -> int:
        """How many digits of the median the spread of the middle half supports (1-4)."""
        middle = sorted(self.times)[len(self.times) // 4: math.ceil(3 * len(self.times) / 4)]
        spread = max(1.645 * float(np.std(middle)) / math.sqrt(len(middle)), 25e-9)
        return min(max(int(math.floor(math.log10(self.median / spread))), 1), 4)

    def __repr__(self) -> str:
        n = len(self.times)
        unit, scale = select_unit(self.median)
        lines = [f"<{type(self).__module__}.Measurement object at {hex(id(self))}>", self.title]
        if self.description:
            lines.append(self.description)
        if self.setup.strip() not in ("", "pass"):
            lines.append(f"setup: {self.setup}")
        lines.append(f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}")
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._p25 / scale:.2f} to "
                         f"{self._p75 / scale:.2f})")
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {self.num_threads} "
                     f"thread{'s' if self.num_threads > 1 else ''}")
        if self._warning is not None:
            lines.append(self._warning)
        return "\n".join(lines)


def _text(value) -> str:
    """A statement as text: itself, or a callable's name."""
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))


class Timer:
    """``stmt`` timed after ``setup`` (strings of Python, or callables), in ``globals``, on
    ``num_threads`` threads (ffnn's and BLAS's, put back after)."""

    def __init__(self, stmt: str | Callable = "pass", setup: str | Callable = "pass",
                 global_setup: str = "", timer: Callable[[], float] = _timeit.default_timer,
                 globals: dict[str, Any] | None = None, label: str | None = None,  # noqa: A002
                 sub_label: str | None = None, description: str | None = None,
                 env: str | None = None, num_threads: int = 1, language: str = "python"):
        if str(language).lower().split(".")[-1] not in ("python", "py"):
            raise ValueError(f"Timer: only Python statements are timed. Received: "
                             f"language={language!r}")
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: num_threads must be a positive int. Received: "
                             f"{num_threads!r}")
        self._timer = _timeit.Timer(stmt, setup if not global_setup else
                                    f"{global_setup}\n{setup}", timer, globals or {})
        self._task = {"stmt": _text(stmt), "setup": _text(setup), "label": label,
                      "sub_label": sub_label, "description": description, "env": env}
        self._num_threads = num_threads

    def _run(self, number: int) -> float:
        return self._timer.timeit(number)

    @contextlib.contextmanager
    def _threads(self):
        """ffnn's (and BLAS's) threads set to ``num_threads`` inside, put back after."""
        from ffnn.environment import get_num_threads, set_num_threads

        previous = get_num_threads()
        set_num_threads(self._num_threads)
        try:
            yield
        finally:
            set_num_threads(previous)

    def _measurement(self, number: int, times: list[float]) -> Measurement:
        return Measurement(number, times, self._task, self._num_threads)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of ``number`` runs (after a warm-up of a few)."""
        with self._threads():
            self._run(max(number // 100, 2))
            return self._measurement(number, [self._run(number)])

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: ×10 until a block takes a thousandth of ``min_run_time`` and the
        timer's own overhead is at most 10⁻⁴ of it (as torch's estimate)."""
        overhead = float(np.median([self._run(0) for _ in range(5)]))
        number = 1
        while True:
            taken = self._run(number)
            if (overhead <= 1e-4 * taken and taken >= min_run_time / 1000) or \
                    taken > min_run_time or number >= 10 ** 9:
                return number
            number *= 10

    def blocked_autorange(self, callback: Callable | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Blocks of a size found first, until they add up to ``min_run_time`` seconds."""
        with self._threads():
            number, times = self._block_size(min_run_time), []
            while sum(times) < min_run_time:
                times.append(self._run(number))
                if callback is not None:
                    callback(number, times[-1])
        return self._measurement(number, times)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback: Callable | None = None
                           ) -> Measurement:
        """Blocks until the IQR is within ``threshold`` of the median (after at least
        ``min_run_time`` seconds) or ``max_run_time`` seconds have gone."""
        with self._threads():
            number, times = self._block_size(min_run_time), []
            while sum(times) < max_run_time:
                times.append(self._run(number))
                if callback is not None:
                    callback(number, times[-1])
                if sum(times) >= min_run_time and len(times) >= 3:
                    found = self._measurement(number, times)
                    if found.iqr <= threshold * found.median:
                        break
        return self._measurement(number, times)

    def autorange(self, callback: Callable | None = None) -> tuple[int, float]:
        """``timeit.Timer.autorange``: (runs, seconds) of a block of at least 0.2 s."""
        return self._timer.autorange(callback)


from ffnn.utils.benchmark.compare import Compare  # noqa: E402 - it imports Measurement
