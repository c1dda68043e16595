"""A batch norm's running statistics in the fused step: updated by the kernel, in its forward,
right after the batch's mean and variance (``_fused_kernel._update_running``).

``BatchNorm1d`` in training mode counts the batch and folds the batch's statistics into its
running mean and variance at each call. Done from Python after the kernel, that was two calls
and a dozen lookups per batch norm (~10 µs), as much as the rest of a small network's step.
Here each batch norm's fields in the kernel's table say where its buffers are and what
factors to use; Python only checks, each step, that the buffers are the ones the table names
(a ``load_state_dict`` or an assignment may replace them) and writes the factors when the
momentum or the batch size changes. Buffers the kernel cannot take (another dtype, not
contiguous) are updated from Python as before: ``prepare`` returns their options.
"""

from __future__ import annotations

from operator import is_not

import numpy as np

from ffnn import autograd
from ffnn.nn.chain_layers import batch_norm_buffers, batch_norm_options
from ffnn.nn.normalization import buffer_of


class RunningStatistics:
    """The fields of one batch norm (``module``, of layer ``layer``) in the fused step's
    table: its running mean and variance, 1 - momentum, the two factors, its batch count."""

    def __init__(self, layer: int, module, dtype: np.dtype, kernel):
        self.module, self.dtype = module, dtype
        self._fields = kernel.FIELDS * layer + np.array(
            [kernel.RUNNING_MEAN, kernel.RUNNING_VAR, kernel.RUNNING_KEEP,
             kernel.RUNNING_FACTORS, kernel.BATCHES])
        self.keep, self.factors = np.zeros(1, dtype), np.zeros(2)
        self._seen: tuple = (None,) * 3
        self._addresses = np.zeros(5, np.int64)  # the fields' values while the buffers last
        self._written: tuple = ()  # (momentum, rows) the factors are for

    def prepare(self, table: np.ndarray, rows: int) -> dict | None:
        """This step's fields in ``table`` for a batch of ``rows``: the kernel updates the
        running statistics (None), or they are not updated this step (eval, frozen, not
        tracked: None), or the kernel cannot take the buffers: their fields are 0 and the
        op's options (the batch counted) are returned for the caller's update."""
        module = self.module
        if not (module.training and not module.frozen and module.track_running_stats):
            table[self._fields[0]] = 0
            return None
        arrays = batch_norm_buffers(module)
        if any(map(is_not, arrays, self._seen)):
            self._seen = arrays
            self._addresses[:] = self._addresses_of(arrays)
        if self._addresses[0] == 0:
            table[self._fields[0]] = 0
            return batch_norm_options(module)
        momentum = module.momentum
        if momentum is None:  # cumulative average: 1/count, the count after this batch
            momentum = 1.0 / (int(np.asarray(arrays[2]).reshape(-1)[0]) + 1)
        if self._written != (momentum, rows):
            self._written = (momentum, rows)
            self.keep[0] = 1 - momentum
            self.factors[:] = momentum, momentum * rows / (rows - 1)
        table[self._fields] = self._addresses
        if self._addresses[4]:
            # as ``count_batch``: the kernel adds one
            autograd.bump_version(buffer_of(module, "num_batches_tracked"))
        else:
            module.num_batches_tracked += 1
        return None

    def _addresses_of(self, arrays: tuple) -> list:
        """The fields for these buffers: running mean and variance of the step's dtype and
        contiguous (else all 0: updated from Python); the count an int64 array the kernel
        adds to (else 0: counted from Python)."""
        mean, var, count = arrays
        width = self.module.num_features
        if not all(type(a) is np.ndarray and a.dtype == self.dtype and a.shape == (width,)
                   and a.flags.c_contiguous and a.flags.writeable for a in (mean, var)):
            return [0] * 5
        counted = type(count) is np.ndarray and count.dtype == np.int64 and \
            count.size == 1 and count.flags.writeable
        return [a.__array_interface__["data"][0] for a in (mean, var, self.keep, self.factors)] \
            + [count.__array_interface__["data"][0] if counted else 0]
