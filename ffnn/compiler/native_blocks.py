"""What a native chain is made of (``ffnn.compiler.native_chain``): its layers read as
blocks, and where each block's arrays lie in the address table and in a call's workspace.

A block is a Linear layer, then at most one norm over its features (layer norm, or batch
norm on the batch's statistics or on its running statistics), one
activation with a ``Pointwise`` formula and one dropout, in that order: the fused step's
layer (``ffnn.compiler._fused_kernel.FIELDS`` table entries each). Its stages write one
array each (the product, the norm's output, the activation's, dropout's), a stage that is
absent reading as the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ffnn import accel
from ffnn.compiler import _fused_kernel as layout
from ffnn.compiler import fused
from ffnn.compiler._chain_kernel import OUTPUT_OFFSET
from ffnn.ops import activations, matrix, norms
from ffnn.ops.activations import PointwiseOp
from ffnn.ops.dropout import DROPOUT, Dropout
from ffnn.ops.shape import FlattenFeatures

ALIGN = 64
"""Bytes each array of the workspace starts on (a cache line)."""
PER_CALL = (norms.BatchNorm, norms.RunningBatchNorm, Dropout)
"""Layers whose options are the call's (running statistics, a dropout's stream), not the
chain's: left out of its signature."""
NORM_KINDS = {norms.LayerNorm: layout.LAYER_NORM, norms.BatchNorm: layout.BATCH_NORM,
              norms.RunningBatchNorm: layout.RUNNING_BATCH_NORM}
"""The kernel's kind of each norm op a block takes."""
_FORWARD_IS_FORMULA = {PointwiseOp.forward, activations.ReLU.forward,
                       activations.GELU.forward}
"""``forward`` methods that compute the op's formula when a gradient is needed (ReLU's own
differs only without one, GELU's checks its option first)."""


@dataclass
class Block:
    """One Linear layer and what follows it; indices into the chain's parameters (None:
    absent) and layers (the norm's and the dropout's, whose options a call gives)."""

    weight: int
    bias: int | None
    norm: type | None = None
    norm_layer: int | None = None
    affine: tuple = (None, None)
    eps: float = 0.0
    activation: tuple | None = None
    dropout_layer: int | None = None

    def stages(self) -> list[list[int]]:
        """The table fields of each array the block writes, in order: the product's (with
        the fields that read it where a stage is absent), the norm's, the activation's,
        dropout's."""
        groups = [[layout.LINEAR_OUT]]
        for field, present in ((layout.PRE, self.norm is not None),
                               (layout.OUTPUT, self.activation is not None),
                               (layout.DROPPED, self.dropout_layer is not None)):
            if present:
                groups.append([field])
            else:
                groups[-1].append(field)
        return groups


def signature(layers: list) -> list:
    """``layers`` without the options a call gives (batch norm's, dropout's)."""
    return [(op, takes, None if op in PER_CALL else options) for op, takes, options in layers]


def read_blocks(layers: list, params: list) -> list[Block] | None:
    """The blocks of ``layers`` ((op class, takes parameters, options) each, after an
    optional Flatten) with ``params`` (the arrays of each layer with parameters: weight and
    bias, None where absent), or None where they are not blocks of one float dtype."""
    dtype = params[0].dtype if params and params[0] is not None else None
    if dtype is None or dtype.char not in "fd" or not all(
            p is None or type(p) is np.ndarray and p.dtype == dtype and p.flags.c_contiguous
            for p in params):
        return None
    blocks, taken, width = [], 0, None
    for index, (op, takes, options) in enumerate(layers):
        if op is FlattenFeatures and index == 0:
            continue
        pair = (taken, taken + 1) if takes else (None, None)
        taken += 2 if takes else 0
        if taken > len(params):
            return None
        if op is matrix.Linear:
            weight = params[pair[0]] if takes else None
            bias = params[pair[1]] if takes else None
            if weight is None or weight.ndim != 2 or width not in (None, weight.shape[1]) or \
                    bias is not None and bias.shape != weight.shape[:1]:
                return None
            width = weight.shape[0]
            blocks.append(Block(pair[0], pair[1] if bias is not None else None))
        elif not blocks or not _follows(blocks[-1], op, takes, options, index, pair, params,
                                        width, dtype):
            return None
    return blocks if blocks and taken == len(params) else None


def leading_blocks(layers: list, params: list) -> tuple[list[Block], int, int] | None:
    """(the blocks, how many of ``layers`` and of ``params`` they take) of the longest
    leading part of ``layers`` that is a chain of blocks (``read_blocks``): a Linear first,
    then layers up to one no block takes (a softmax over the features, a norm after the
    activation), which runs after the chain; None where not even the first block is one."""
    for count in range(len(layers), 0, -1):
        taken = 2 * sum(1 for _, takes, _ in layers[:count] if takes)
        blocks = read_blocks(layers[:count], params[:taken]) if taken <= len(params) else None
        if blocks is not None:
            return blocks, count, taken
    return None


def _follows(block: Block, op: type, takes: bool, options: dict, index: int, pair: tuple,
             params: list, width: int, dtype: np.dtype) -> bool:
    """Whether ``op`` can be the block's next stage; records it there."""
    if block.activation is not None or block.dropout_layer is not None:
        if op is Dropout and block.dropout_layer is None:
            block.dropout_layer = index
            return True
        return False
    if op in NORM_KINDS and block.norm is None and takes:
        gamma = params[pair[0]]
        if gamma is None or gamma.shape != (width,) or (op is norms.LayerNorm and (
                options.get("normalized_ndim") != 1)):
            return False
        beta = params[pair[1]]
        block.norm, block.norm_layer = op, index
        block.affine = (pair[0], pair[1] if beta is not None else None)
        block.eps = float(options.get("eps", 0.0)) if op is norms.LayerNorm else 0.0
        return True
    if op is Dropout:
        block.dropout_layer = index
        return True
    found = formula(op, options, dtype)
    if found is None:
        return False
    block.activation = found
    return True


def formula(op: type, options: dict, dtype: np.dtype):
    """(Pointwise, scalars) of an activation computed by its formula, else None: an op with
    a ``Pointwise`` formula the fused step takes, whose ``forward`` computes it (and accepts
    these options: an invalid one is left to the op to raise)."""
    if not isinstance(op, type) or not issubclass(op, PointwiseOp) or \
            op.forward not in _FORWARD_IS_FORMULA:
        return None
    found = fused.activation_formula(op, options)
    if isinstance(found, str):
        return None
    probe = op()
    probe.needs_input_grad = (True,)
    try:
        probe.forward(np.zeros(1, dtype), **options)
    except (TypeError, ValueError):
        return None
    return found


def template(blocks: list[Block], params: list, dtype: np.dtype, transposed: list,
             entries: list, address) -> tuple[np.ndarray, list]:
    """(the address table without a call's arrays: each block's parameters (a norm without
    γ or β: ones or zeros), transposed-weight scratch, activation entry points and scalars,
    norm kind and layer norm's ε, dropout's entry point; the arrays it points into that its
    caller does not hold already, to be held with it)."""
    table, held = np.zeros(layout.FIELDS * len(blocks), np.int64), []
    drop_entry = DROPOUT.entry(dtype, {"keep": np.bool_})
    for layer, block in enumerate(blocks):
        at = layout.FIELDS * layer
        table[at + layout.WEIGHT] = address(params[block.weight])
        table[at + layout.BIAS] = 0 if block.bias is None else address(params[block.bias])
        scratch = transposed[layer]
        table[at + layout.TRANSPOSED] = address(scratch) if scratch.size else 0
        table[at + layout.SCALARS] = address(entries[layer][0])
        table[at + layout.FORWARD:at + layout.SAVED + 4] = entries[layer][1:]
        for i, kind in enumerate(kept_dtypes(block, dtype)):
            table[at + layout.KEPT_SIZES + i] = kind.itemsize
        table[at + layout.SPLIT_FORWARD:at + layout.SPLIT_BACKWARD + 1] = \
            fused.activation_split_min(block.activation)
        if block.norm is not None:
            width = params[block.weight].shape[0]
            gamma, beta = accel.affine(*(None if i is None else params[i]
                                         for i in block.affine), width, dtype)
            table[at + layout.NORM] = NORM_KINDS[block.norm]
            table[at + layout.GAMMA], table[at + layout.BETA] = address(gamma), address(beta)
            held += [gamma, beta]  # a missing one: ``accel.affine``'s cached ones or zeros
            table[at + layout.EPS] = np.float64(block.eps).view(np.int64)
        if block.dropout_layer is not None:
            table[at + layout.DROP_ENTRY] = drop_entry
    return table, held


def kept_dtypes(block: Block, dtype: np.dtype) -> list[np.dtype]:
    """The dtypes of the values the block's activation keeps for its backward."""
    if block.activation is None:
        return []
    return [np.dtype(kind or dtype) for kind in block.activation[0].kept_dtypes]


def workspace(blocks: list[Block], widths: list[int], n: int,
              dtype: np.dtype) -> tuple[np.ndarray, int, list]:
    """For a batch of ``n`` rows: (rows of (table field, byte offset in the workspace, or
    ``OUTPUT_OFFSET``), the workspace's size in bytes, per block the (offset, dtype, shape)
    of its dropout mask, dropout scale and batch norm mean and variance, None where absent).
    """
    rows, size, arrays = [], 0, []

    def place(fields: list[int], nbytes: int) -> int:
        nonlocal size
        start = size
        rows.extend((field, start) for field in fields)
        size += -(-nbytes // ALIGN) * ALIGN
        return start

    last = len(blocks) - 1
    for layer, (block, width) in enumerate(zip(blocks, widths)):
        at, elements = layout.FIELDS * layer, n * width
        stages = block.stages()
        for stage, fields in enumerate(stages):
            if layer == last and stage == len(stages) - 1:
                rows.extend((at + field, OUTPUT_OFFSET) for field in fields)
            else:
                place([at + field for field in fields], elements * dtype.itemsize)
        for i, kind in enumerate(kept_dtypes(block, dtype)):
            place([at + layout.KEPT + i], elements * kind.itemsize)
        found = {}
        if block.norm is norms.RunningBatchNorm:  # y = a z + c: a and c per feature
            place([at + layout.RUNNING_SCALE], width * dtype.itemsize)
            place([at + layout.RUNNING_SHIFT], width * dtype.itemsize)
            for field in (layout.RSTD, layout.SUM_GX, layout.SUM_G):  # its backward's
                place([at + field], 8 * width)
        elif block.norm is not None:
            batch = block.norm is norms.BatchNorm
            place([at + layout.X_HAT], elements * dtype.itemsize)
            place([at + layout.RSTD], 8 * (width if batch else n))
            if batch:
                found["mean"] = (place([at + layout.MEAN], 8 * width), np.float64, (width,))
                found["var"] = (place([at + layout.VAR], 8 * width), np.float64, (width,))
            place([at + layout.SUM_GX], 8 * width)
            place([at + layout.SUM_G], 8 * width)
        if block.dropout_layer is not None:
            found["keep"] = (place([at + layout.KEEP], elements), np.bool_, (n, width))
            found["scale"] = (place([at + layout.DROP_SCALE], 8), np.float64, (1,))
        arrays.append(found)
    return np.array(rows, np.int64).reshape(-1, 2), max(size, 1), arrays
