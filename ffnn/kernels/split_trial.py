"""``SplitTrial``: whether a call made once a training step splits its element-wise work over
OpenBLAS's threads, decided by timing whole steps both ways.

A split gives the same values, bit for bit (``blas_split``), so only speed decides, and the
speed is not the call's own: the part run on the other core leaves its arrays in that
core's cache, and when the step's products run on this core alone (a batch of a row or
two) they fetch them back. AMD EPYC, 2 threads, 784-256-10 ReLU, SGD: one row, the eager
step 0.31 ms split against 0.19 whole (the compiled step 0.23 against 0.09); eight rows,
where OpenBLAS's threads share the products, 0.34-0.40 split against 0.41-0.51 whole.
Which way wins depends on the batch, the layer widths and the machine's caches, so the
caller asks at each call (``choose``) and the trial times the steps:

- ``WARMUP`` calls split, unrecorded (compiling, first allocations);
- blocks of ``BLOCK`` calls split, then whole, ``ROUNDS`` times; a call's period, the
  time to the next call (its update and the forward and backward after it), is recorded
  for its way, but for the first call of a block, whose update found the arrays where the
  other way left them;
- whole is kept for ``RETRY`` calls where its median period is at least ``MARGIN`` below
  split's (split, the default before the trial, wherever the two are close: a machine
  shared with others can differ by a few percent between two blocks), else split; then
  the blocks again (the batch, and with it the better way, may have changed).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from ffnn.kernels.blas_split import NO_SPLIT

WARMUP, BLOCK, ROUNDS, RETRY, MARGIN = 2, 4, 2, 2000, 0.05
TRIAL = 2 * BLOCK * ROUNDS
"""Calls of one trial, after the warm-up."""


class SplitTrial:
    """The way (split or whole) of each call of one recurring call site."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._calls = 0  # calls of the current trial, warm-up included
        self._kept = 0  # calls since the way was chosen
        self._last = 0.0  # when the last call came
        self._recorded: bool | None = None  # the last call's way, where its period counts
        self._periods: dict[bool, list[float]] = {True: [], False: []}
        self.choice: bool | None = None  # the chosen way (True: split); None during a trial

    def choose(self, split: np.ndarray) -> np.ndarray:
        """``split`` (a ``blas_split.split_row``) or ``NO_SPLIT`` for this call; a row that
        does not split leaves the trial as it is."""
        if split[0] == 0 or split[2] < 2:
            return split
        return split if self.split() else NO_SPLIT

    def split(self) -> bool:
        """Whether this call splits (recording the last call's period, where it counts).
        While a way is kept, no clock is read (right after a step's products a read takes
        a few µs)."""
        if self.choice is not None:
            self._kept += 1
            if self._kept <= RETRY:
                return self.choice
            self._calls, self.choice = WARMUP, None
            self._periods = {True: [], False: []}
        now = self._clock()
        if self._recorded is not None:
            self._periods[self._recorded].append(now - self._last)
            self._recorded = None
        self._last = now
        at = self._calls - WARMUP
        self._calls += 1
        if at < 0:
            return True
        if at == TRIAL:
            self.choice = statistics.median(self._periods[False]) > \
                (1 - MARGIN) * statistics.median(self._periods[True])
            self._kept = 1
            return self.choice
        way = (at // BLOCK) % 2 == 0
        if at % BLOCK:
            self._recorded = way
        return way
