"""A chain of layers in a training step, forward and backward as one compiled call each.

The eager chain node (``ffnn.nn.chain_call``) and the chain step (``ffnn.compiler.chain``:
``ffnn.compile``'s replay, the Trainer) give :class:`NativeChain` the chains it takes:
blocks of a Linear layer, then at most a norm over its features (layer norm, or batch norm
on the batch's statistics, or on its running statistics: eval mode or frozen), an
activation with a ``Pointwise`` formula and a dropout
(``native_blocks``), after an optional ``Flatten()``: the leading blocks of a chain (the
layers after them run one by one), the input needing no gradient (data, as in a training
step; a frozen parameter gets none, and the backward stops below the lowest layer with
one), its workspace at most ``MAX_BYTES``. Per
layer the Python work was a Function, its checks and a kernel call or two, each way; on a
small network it was most of the step. Here the forward is one call
(``_chain_kernel``) writing every array of every block into one workspace made per call
(held by the graph until its backward), the backward one more, writing each parameter's
gradient into an array of its own. Dropout's masks are drawn in Python before the call, as
``nn.Dropout`` draws them (the same stream, in layer order); batch norm's running
statistics are updated in the call as the fused step updates them
(``ffnn.compiler.fused_running``: the kernel folds in the batch's statistics and counts the
batch), or after it by the batch norm op's own function where the kernel cannot take the
buffers.

The arithmetic is the fused step's (``ffnn.compiler._fused_kernel``): NumPy's BLAS for
products from ``BLAS_MIN_PRODUCT`` multiply-adds and loops below, the activations' and
norms' compiled loops, the bias gradient summed over the rows in order, large passes split
over OpenBLAS's threads as the fused step splits them. So the chain agrees
with the per-layer graph to rounding, not bit for bit (the layers' ops call BLAS for small
products too and compute activations of a few hundred elements in NumPy), and the eager step
and its replay, which both run it, compute the same bits.
"""

from __future__ import annotations

import functools
import weakref
from operator import is_
from sys import getrefcount

import numpy as np

from ffnn import accel
from ffnn._malloc import MMAP_THRESHOLD
from ffnn.compiler import _fused_kernel as layout
from ffnn.compiler import fused, native_blocks
from ffnn.compiler.fused_running import RunningStatistics
from ffnn.kernels import blas_split, native
from ffnn.nn.chain_layers import BATCH_NORM_MODULE
from ffnn.ops import norms
from ffnn.ops.dropout import keep_scale
from ffnn.ops.shape import FlattenFeatures

MAX_BYTES = MMAP_THRESHOLD
"""The largest workspace (every block's arrays for one batch) a chain runs natively with:
above it glibc maps the workspace afresh at each call and faults it in page by page
(``ffnn._malloc``), where the per-layer graph's arrays, each smaller, reuse heap memory.
Per layer the Python work is tens of µs each way: on a small network it was most of the
step (64-32-32-10 tanh on 32 rows, Adam: 0.22 -> 0.18 ms a step), and on deep, narrow
networks it stays a large part at thousands of rows (AMD EPYC, 2 threads, float32, eager
steps: 20-20-20-20-20-20-20-1 sigmoid on 4096 rows 2.94-3.05 -> 2.09-2.17 ms;
128-64-32-16-8-1 ReLU on 2048 rows 2.05-2.27 -> 1.55-1.60; 10-100-100-100-1 tanh on 1024
rows 2.02-2.09 -> 1.66-1.83), its large passes split over OpenBLAS's threads as the
per-layer ops' are (``blas_split``)."""
_SIZES_KEPT = 8
"""Batch sizes whose workspace layout and scratch a chain keeps (then it starts again)."""


class NativeChain:
    """The compiled forward and backward of one chain (see the module docstring) for its
    parameters' arrays as they were when it was made: ``fits`` tells whether it still
    holds for a call, ``make`` whether a chain can be run so at all."""

    @classmethod
    def make(cls, layers: list, params: list) -> NativeChain | None:
        """The native chain of the leading ``layers`` ((op class, takes parameters, options)
        each, as the chain node gets them) that make one (``count`` of them: the others run
        after it, one by one) with ``params`` (the arrays of each layer with parameters,
        weight then bias, None where absent), or None where not even the first block is
        one."""
        found = native_blocks.leading_blocks(layers, params) if layers else None
        if found is None:
            return None
        blocks, count, taken = found
        if native.gemm_addresses() is None and \
                max(params[b.weight].size for b in blocks) > fused.LOOPS_ONLY_MAX:
            return None
        chain = cls(layers[:count], params[:taken], blocks)
        chain.count, chain.made_for = count, (native_blocks.signature(layers), list(params))
        return chain

    def __init__(self, layers: list, params: list, blocks: list):
        from ffnn.compiler import _chain_kernel as kernel

        self.signature, self.params, self.blocks = native_blocks.signature(layers), \
            list(params), blocks
        self.count = len(layers)
        """How many of the layers it was made for it runs (the leading ones)."""
        self.made_for = (self.signature, self.params)
        """The signature of all the layers it was made for, and all their parameters."""
        has_norm = any(b.norm is not None for b in blocks)
        normed = has_norm or any(b.dropout_layer is not None for b in blocks)
        self._forward_call = kernel.forward_normed if normed else kernel.forward
        self._backward_call = kernel.backward_normed if normed else kernel.backward
        self._norms = True if has_norm else None
        """The kernels' ``norms``: None compiles no norm's code."""
        self._address = kernel.address
        self.flattens = layers[0][0] is FlattenFeatures
        self.dtype = params[0].dtype
        weights = [params[b.weight] for b in blocks]
        self.dims = np.array([w.shape for w in weights], np.int64)
        self.in_features, self.classes = int(self.dims[0, 1]), int(self.dims[-1, 0])
        self.widest = int(self.dims.max())
        self.largest_weight = int(self.dims.prod(axis=1).max())
        self.split_min = min([accel.SPLIT_MIN, *[min(fused.activation_split_min(b.activation))
                                                 for b in blocks]])
        """The fewest elements of a call its kernels split (an activation's own minimum)."""
        self.batch_norms = any(b.norm is norms.BatchNorm for b in blocks)
        self.running_norms = any(b.norm is norms.RunningBatchNorm for b in blocks)
        """Whether a batch norm normalises with its running statistics (eval mode, or
        frozen by ``ffnn.finetune.freeze``)."""
        self.per_call = self.batch_norms or self.running_norms or any(
            b.dropout_layer is not None for b in blocks)
        """Whether a call gives options of its own (dropout's masks, batch norm's ε and
        running statistics)."""
        self.blas = native.blas_functions(self.dtype, norms=has_norm)
        self.name = layers[-1][0]().op_name  # the graph node's, as the last layer's
        self._kept = self._kept_arrays(layers)
        entries = [fused.activation_entries(b.activation, self.dtype, layout) for b in blocks]
        loops_only = self.blas[native.GEMM] == 0
        self._transposed = [np.empty(w.T.shape if loops_only or w.shape[1] == 1 or
                                     w.size < layout.BLAS_MIN_PRODUCT else (0, 0), self.dtype)
                            for w in weights]
        self._context = np.zeros(blas_split.CONTEXT, np.int64)
        self._template, held = native_blocks.template(blocks, params, self.dtype,
                                                      self._transposed, entries, _address)
        self._held = entries, held  # the activations' scalars, the norms' γ and β: by address
        self._grad_fields = np.array(self._gradient_fields(), np.int64)
        self._layouts: dict[int, tuple] = {}
        self._scratch: dict[int, tuple] = {}
        self._running: dict = {}
        """Block → the ``RunningStatistics`` of its batch norm (``_running_of``)."""
        self._partial: dict = {}
        """Which parameters need a gradient → ``_partial_fields``."""
        self._handed: tuple | None = None
        """The last backward's gradients then a probe, and their addresses
        (``_gradient_arrays``)."""

    def _kept_arrays(self, layers: list) -> list[tuple[int, str]]:
        """(index in ``params``, or -1 for the input and -2 for the output, the name of the
        layer that keeps it) of each array a layer keeps for its backward as the per-layer
        graph keeps it: the input (the first Linear), the weights after the first (their
        dL/dsource), each norm's γ, the output (a last activation reading y)."""
        kept = [(-1, "Linear")] + [(b.weight, "Linear") for b in self.blocks[1:]]
        kept += [(b.affine[0], layers[b.norm_layer][0]().op_name) for b in self.blocks
                 if b.norm is not None]
        last = self.blocks[-1]
        if last.activation is not None and last.dropout_layer is None and \
                "y" in last.activation[0].saved:
            kept.append((-2, self.name))
        return kept

    def _gradient_fields(self) -> list[int]:
        """The table field of each parameter's gradient, in the parameters' order."""
        fields = []
        for layer, block in enumerate(self.blocks):
            at = layout.FIELDS * layer
            fields += [at + layout.GRAD_WEIGHT]
            fields += [] if block.bias is None else [at + layout.GRAD_BIAS]
            fields += [] if block.affine[0] is None else [at + layout.GRAD_GAMMA]
            fields += [] if block.affine[1] is None else [at + layout.GRAD_BETA]
        return fields

    def fits(self, layers: list, params: list) -> bool:
        """Whether this chain was made for these layers and these very parameter arrays."""
        signature, made_params = self.made_for
        return len(params) == len(made_params) and all(map(is_, params, made_params)) and \
            native_blocks.signature(layers) == signature

    def takes(self, x) -> bool:
        """Whether ``x`` is an input it runs: a C-contiguous NumPy array of its dtype, [n,
        in_features] (after a Flatten: [n, ...] of in_features values a row), n > 0 (n > 1
        with a batch norm), its workspace at most ``MAX_BYTES``."""
        if type(x) is not np.ndarray or x.dtype != self.dtype or not x.flags.c_contiguous or \
                x.ndim < 2 or x.shape[0] < 1 or self.batch_norms and x.shape[0] < 2:
            return False
        if self.flattens:
            shaped = x.size == x.shape[0] * self.in_features
        else:
            shaped = x.ndim == 2 and x.shape[1] == self.in_features
        return shaped and self._layout(x.shape[0])[1] <= MAX_BYTES

    def _layout(self, n: int) -> tuple:
        """``native_blocks.workspace`` for a batch of ``n`` rows, made once."""
        found = self._layouts.get(n)
        if found is None:
            if len(self._layouts) >= _SIZES_KEPT:
                self._layouts.clear()
            found = self._layouts[n] = native_blocks.workspace(
                self.blocks, self.dims[:, 0].tolist(), n, self.dtype)
        return found

    def forward(self, x: np.ndarray, layers: list) -> tuple[np.ndarray, tuple]:
        """(the output [n, classes], what ``backward`` reads) for an input it ``takes``;
        ``layers``: the chain's layers with this call's options (each dropout's p and
        stream; each batch norm's module (``BATCH_NORM_MODULE``: its batch counted and its
        running statistics updated here), or its ε, running statistics and momentum, its
        batch counted)."""
        n = x.shape[0]
        x2 = x.reshape(n, self.in_features) if self.flattens else x
        offsets, nbytes, arrays = self._layout(n)
        table, work = self._template.copy(), np.empty(nbytes, np.uint8)
        out = np.empty((n, self.classes), self.dtype)
        statistics = self._call_options(table, work, arrays, layers, n) if self.per_call \
            else ()
        self._forward_call(x2, out, work, table, offsets, self.dims, self.blas,
                           blas_split.split_row(n * self.widest, self.dtype.itemsize,
                                                self.split_min),
                           self._context, self._norms)
        for options, mean, var in statistics:
            norms.update_running(options["running_mean"], options["running_var"], mean, var,
                                 options["momentum"], n)
        return out, (x2, table, work, out, self.params)

    def _call_options(self, table: np.ndarray, work: np.ndarray, arrays: list,
                      layers: list, n: int) -> list:
        """Each dropout's scale into the workspace and its mask's key into ``table`` (the
        kernel draws the mask: ``fused.mask_fields``, the key drawn as ``nn.Dropout`` draws
        its own), each batch norm's ε and running statistics' fields into ``table``; returns
        per batch norm whose statistics are updated from Python (its options, the batch
        mean and variance the call will write)."""
        statistics = []
        for layer, (block, found) in enumerate(zip(self.blocks, arrays)):
            at = layout.FIELDS * layer
            if block.dropout_layer is not None:
                p, rng = (layers[block.dropout_layer][2][key] for key in ("p", "rng"))
                keep, scale = (_view(work, *found[key]) for key in ("keep", "scale"))
                fused.mask_fields(table, at, keep, p, rng, layout)  # drawn in the kernel
                scale[0] = 0.0 if p >= 1 else keep_scale(p, scale.dtype)
            if block.norm is norms.BatchNorm:
                options = layers[block.norm_layer][2]
                module = options.get(BATCH_NORM_MODULE)
                if module is not None:  # counted, and updated by the kernel where it can
                    table[at + layout.EPS] = _bits(module.eps)
                    options = self._running_of(layer, module).prepare(table, n)
                else:
                    table[at + layout.EPS] = _bits(options["eps"])
                if options is not None:
                    statistics.append((options, _view(work, *found["mean"]),
                                       _view(work, *found["var"])))
            elif block.norm is norms.RunningBatchNorm:  # read where they lie, at each call
                options = layers[block.norm_layer][2]
                table[at + layout.EPS] = _bits(options["eps"])
                table[at + layout.RUNNING_MEAN] = self._address(options["running_mean"])
                table[at + layout.RUNNING_VAR] = self._address(options["running_var"])
        return statistics

    def _running_of(self, layer: int, module) -> RunningStatistics:
        """The ``RunningStatistics`` of the batch norm ``module`` in block ``layer``."""
        found = self._running.get(layer)
        if found is None or found.module is not module:
            found = self._running[layer] = RunningStatistics(layer, module, self.dtype, layout)
        return found

    def backward(self, saved: tuple, grad: np.ndarray, needs: tuple | None = None) -> list:
        """Each parameter's gradient (None for an absent one) from dL/dout; ``needs``:
        whether each parameter needs its gradient (None: every one), a frozen one getting
        None, its gradient not computed, nor dL/dsource below the lowest block with one
        (fine-tuning with the first layers frozen)."""
        x2, table, _, out, params = saved
        if needs is not None and all(needs[i] for i, p in enumerate(params) if p is not None):
            needs = None
        fields, stop = self._grad_fields, 0
        if needs is not None:
            fields, stop = self._partial_fields(needs, params)
            if stop < 0:  # nothing to compute
                return [None] * len(params)
        grad = accel.dense(grad, out.shape, self.dtype)
        grads, addresses = self._gradient_arrays(params, needs)
        current, spare = self._scratch_for(x2.shape[0])
        n = x2.shape[0]  # from one row, a weight's gradient is an outer product, split too
        largest = max(n * self.widest, self.largest_weight if n == 1 else 0)
        self._backward_call(x2, grad, table, fields, addresses, self.dims, current,
                            spare, self.blas,
                            blas_split.split_row(largest, self.dtype.itemsize, self.split_min),
                            self._context, stop, self._norms)
        return grads

    def _partial_fields(self, needs: tuple, params: list) -> tuple[np.ndarray, int]:
        """(the gradient fields of the parameters that need one, in order; the lowest block
        with one, -1 for none) for ``needs``, made once per pattern."""
        found = self._partial.get(needs)
        if found is None:
            present = [i for i, p in enumerate(params) if p is not None]
            fields = self._grad_fields[[k for k, i in enumerate(present) if needs[i]]]
            blocks = [layer for layer, block in enumerate(self.blocks)
                      if any(i is not None and needs[i]
                             for i in (block.weight, block.bias, *block.affine))]
            found = self._partial[needs] = (fields, min(blocks, default=-1))
        return found

    def _gradient_arrays(self, params: list, needs: tuple | None) -> tuple[list, np.ndarray]:
        """An array for each parameter's gradient (None for an absent one, or one ``needs``
        says is frozen) and their addresses: the last backward's again where this chain is
        all that holds them (their ``.grad`` set to None since, as ``zero_grad()`` does, no
        view or tensor of them kept anywhere) and they were for the same ``needs``, else new
        ones. The backward writes every element."""
        handed = self._handed
        if handed is not None and handed[3] == needs and not _held_elsewhere(handed[1]):
            return handed[0][:-1], handed[2]
        grads = [None if p is None or needs is not None and not needs[i]
                 else np.empty(p.shape, p.dtype) for i, p in enumerate(params)]
        addresses = np.fromiter([self._address(g) for g in grads if g is not None], np.int64)
        grads.append(np.empty(0))  # the last: a probe, held as the arrays are
        self._handed = grads, [g for g in grads if g is not None], addresses, needs
        return grads[:-1], addresses

    def dropout_scale(self, saved: tuple, layer: int) -> np.ndarray:
        """The keep mask · 1/(1 - p) that the call which returned ``saved`` drew for the
        dropout at index ``layer`` of its layers (its layers computed again as tensors for a
        tensor-form backward multiply by it)."""
        x2, _, work, _, _ = saved
        for block, found in zip(self.blocks, self._layout(x2.shape[0])[2]):
            if block.dropout_layer == layer:
                keep, scale = (_view(work, *found[key]) for key in ("keep", "scale"))
                return keep * scale[0]
        raise ValueError(f"layer {layer} of the chain {self.name!r} is not a dropout")

    def saved_array(self, saved: tuple, array_id: int) -> tuple[np.ndarray, str] | None:
        """(the array with id ``array_id`` or a view of it, the name of the layer that keeps
        it) if a layer keeps it for the backward, as the per-layer graph keeps it."""
        x2, _, _, out, params = saved
        for index, name in self._kept:
            array = x2 if index == -1 else out if index == -2 else params[index]
            if id(array) == array_id or array.base is not None and id(array.base) == array_id:
                return array, name
        return None

    def _scratch_for(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Two flat arrays of n × the widest layer (dL/dh and dL/dz in turn), kept for
        ``_SIZES_KEPT`` batch sizes and at most ``MAX_BYTES`` in all (then made again)."""
        found = self._scratch.get(n)
        if found is None:
            size = n * self.widest
            kept = sum(pair[0].nbytes * 2 for pair in self._scratch.values())
            if len(self._scratch) >= _SIZES_KEPT or \
                    kept + 2 * size * self.dtype.itemsize > MAX_BYTES:
                self._scratch.clear()
            found = self._scratch[n] = (np.empty(size, self.dtype), np.empty(size, self.dtype))
        return found


def _held_elsewhere(arrays: list) -> bool:
    """Whether any of ``arrays`` but the last is referenced from anywhere but this chain's
    two lists: the last is a probe held by the same lists only, counted the same way in
    the same call, so the interpreter's own references (which differ between CPython
    versions) cancel out."""
    counts = list(map(getrefcount, arrays))
    return max(counts) > counts[-1]


def _view(work: np.ndarray, offset: int, dtype, shape: tuple) -> np.ndarray:
    """The array of ``dtype`` and ``shape`` at byte ``offset`` of the workspace."""
    return np.ndarray(shape, dtype, work, offset)


_chains: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Owner → its ``NativeChain``, or the (signature, parameter arrays) found not to make one."""


def chain_for(owner, layers: list, params: list) -> NativeChain | None:
    """``owner``'s native chain of the leading ``layers`` with their ``params``
    (``NativeChain.make``), made again only when the layers' signature or a parameter array
    changed since; None where they make none."""
    found = _chains.get(owner)
    if type(found) is tuple:
        if len(found[1]) == len(params) and all(map(is_, found[1], params)) and \
                native_blocks.signature(layers) == found[0]:
            return None
    elif found is not None and found.fits(layers, params):
        return found
    made = NativeChain.make(layers, params)
    _chains[owner] = made if made is not None else (native_blocks.signature(layers),
                                                    list(params))
    return made


@functools.lru_cache(maxsize=16)
def _bits(value: float) -> int:
    """The bits of ``value`` as a float64, as an int64 (the table's ε)."""
    return int(np.float64(value).view(np.int64))


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]
