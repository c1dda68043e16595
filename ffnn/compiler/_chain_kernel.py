"""The numba functions behind ``ffnn.compiler.native_chain``: the forward and the backward of
a chain of blocks (``native_blocks``) as one call each (imported only when such a chain
first runs).

They read the fused step's address table (``_fused_kernel.FIELDS`` per layer) and use its
own parts: the products (NumPy's BLAS from ``BLAS_MIN_PRODUCT`` multiply-adds, loops below),
each activation's generated forward and backward loops through their entry points, the bias
gradient summed over the rows in order. A chain with norms or dropout runs the fused step's
whole ``_forward`` and ``_backward``; ``forward`` and ``backward`` are those without them,
for the plain chains most networks are (half the compile time). The arrays a call writes
lie in one workspace per forward, whose address is added to each array's offset here.
"""

import numba

from ffnn.compiler._fused_kernel import (
    BACKWARD,
    FIELDS,
    GRAD_WEIGHT,
    OUTPUT,
    PRE,
    TRANSPOSED,
    WEIGHT,
    _affine_forward,
    _backward,
    _derive,
    _forward,
    _matrix,
    _product_input,
    _product_weight,
    activate,
    bias_gradient,
)
from ffnn.kernels import numba_cache

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

_jit = numba.njit(error_model="numpy", cache=True)

OUTPUT_OFFSET = -1
"""An offset that stands for the output array (the last layer's h) rather than the
workspace."""


@_jit
def _place(out, work, table, offsets):  # pragma: no cover - compiled
    """Each array's address into ``table``: ``offsets`` holds rows of (field, byte offset
    in ``work``, or ``OUTPUT_OFFSET`` for ``out``)."""
    base, last = work.ctypes.data, out.ctypes.data
    for i in range(offsets.shape[0]):
        table[offsets[i, 0]] = last if offsets[i, 1] == OUTPUT_OFFSET else base + offsets[i, 1]


@_jit
def _gradient_fields(table, fields, addresses):  # pragma: no cover - compiled
    """Each parameter gradient's address into its field of ``table``."""
    for i in range(fields.size):
        table[fields[i]] = addresses[i]


@_jit
def _gradients(grad, table, fields, addresses, current):  # pragma: no cover - compiled
    """``_gradient_fields``, and dL/dout into the flat ``current``."""
    _gradient_fields(table, fields, addresses)
    n, classes = grad.shape
    for i in range(n):
        for j in range(classes):
            current[i * classes + j] = grad[i, j]


@_jit
def forward_normed(x, out, work, table, offsets, dims, blas, split, context,
                   norms):  # pragma: no cover - compiled
    """``forward`` for blocks with norms or dropout (the fused step's ``_forward``; ``norms``
    None where no block has a norm: its code is not compiled then)."""
    _place(out, work, table, offsets)
    _forward(x, table, dims, blas, split, context, norms)


@_jit
def backward_normed(x, grad, table, fields, addresses, dims, current, spare, blas, split,
                    context, stop, norms):  # pragma: no cover - compiled
    """``backward`` for blocks with norms or dropout (the fused step's ``_backward``;
    ``norms`` as ``forward_normed``'s)."""
    _gradients(grad, table, fields, addresses, current)
    _backward(x, table, dims, current, spare, blas, 0.0, split, context, stop, norms)


@_jit
def forward(x, out, work, table, offsets, dims, blas, split, context,
            norms):  # pragma: no cover - compiled
    """out [n, classes] = the chain on x [n, in]: per layer z = source · Wᵀ + b into its
    array ``PRE``, h = f(z) into ``OUTPUT`` (h is z without activation) and the values the
    activation keeps (``_place`` first). ``norms``: unused (the arguments are
    ``forward_normed``'s; this chain has no norm)."""
    _place(out, work, table, offsets)
    n = x.shape[0]
    source = x
    for layer in range(dims.shape[0]):
        at, out_f, in_f = FIELDS * layer, dims[layer, 0], dims[layer, 1]
        w = _matrix(table, at + WEIGHT, out_f, in_f, x)
        z = _matrix(table, at + PRE, n, out_f, x)
        _affine_forward(table, at, blas, split, source, w,
                        _matrix(table, at + TRANSPOSED, in_f, out_f, x), z, x)
        activate(table, at, n * out_f, x.itemsize, split, context)
        source = _matrix(table, at + OUTPUT, n, out_f, x)


@_jit
def backward(x, grad, table, fields, addresses, dims, current, spare, blas, split,
             context, stop, norms):  # pragma: no cover - compiled
    """From g = dL/dout [n, classes]: each layer's dL/dW = gᵀ · source and dL/db = Σᵢ gᵢ
    (g = dL/dz, through the activation's backward) into the arrays at ``addresses`` (their
    ``fields`` of ``table``; a frozen parameter has none), and dL/dsource = g · W for
    every layer above ``stop``, the lowest with a gradient to compute (the layers below it
    are frozen); ``current`` and ``spare`` hold n × the widest layer each; ``norms``:
    unused, as ``forward``'s.
    The last layer reads dL/dout where it lies (C-contiguous, never written): a copy of it into
    ``current`` was a pass on one thread while the other waited ([1024, 784] float32:
    3 MB)."""
    _gradient_fields(table, fields, addresses)
    n, last = grad.shape[0], dims.shape[0] - 1
    for layer in range(last, stop - 1, -1):
        at, out_f, in_f = FIELDS * layer, dims[layer, 0], dims[layer, 1]
        g = grad if layer == last else current[:n * out_f].reshape(n, out_f)
        if table[at + BACKWARD] != 0:
            dz = spare[:n * out_f].reshape(n, out_f)
            _derive(table, at, n * out_f, g, dz, split, context)
            g, current, spare = dz, spare, current
        bias_gradient(table, at, g, x, blas, split)
        source = x if layer == 0 else _matrix(table, at - FIELDS + OUTPUT, n, in_f, x)
        if table[at + GRAD_WEIGHT] != 0:
            _product_weight(blas, split, g, source,
                            _matrix(table, at + GRAD_WEIGHT, out_f, in_f, x))
        if layer > stop:
            w = _matrix(table, at + WEIGHT, out_f, in_f, x)
            _product_input(blas, split, g, w, spare[:n * in_f].reshape(n, in_f))
            current, spare = spare, current


@_jit
def address(array):  # pragma: no cover - compiled
    """The address of ``array``'s first element (a seventh of ``__array_interface__``'s
    cost from Python)."""
    return array.ctypes.data
