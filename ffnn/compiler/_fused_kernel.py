"""The numba function behind ``mode="fused"``: forward, loss, backward and the optimizer
update of a Linear/activation chain in one call (imported only when a fused step is built).

The arrays reach it as a table of addresses (one int64 array) rather than as tuples of
arrays: numba unboxes every array argument at every call, which for a small network costs
more than the step's arithmetic.

Products are loops ordered so that the innermost one runs over contiguous memory and
vectorises without reassociating sums: each output element is summed over k in order.
"""

import math

import numba
from numba.core import types
from numba.extending import intrinsic

from ffnn.kernels.elementwise import scalar_helper

_tanh_fast, _exp_small = scalar_helper("tanh_fast_f32"), scalar_helper("exp_small_f32")

_jit = numba.njit(error_model="numpy", cache=True)
_inlined = numba.njit(error_model="numpy", cache=True, inline="always")  # parts of ``step``

IDENTITY, TANH, RELU, SIGMOID = 0, 1, 2, 3
MSE, CROSS_ENTROPY, BCE_WITH_LOGITS = 0, 1, 2


@_jit
def _activate(h, code):  # pragma: no cover - compiled
    """h ← f(h) in place on one row. For float32 rows tanh and exp are the vectorising
    float32 scalar functions the generated kernels use (``ffnn.ops.special_float32``); for
    float64 rows, libm's."""
    zero, one = h.dtype.type(0), h.dtype.type(1)
    single = h.itemsize == 4
    for o in range(h.size):
        z = h[o]
        if code == TANH:
            h[o] = _tanh_fast(z) if single else math.tanh(z)
        elif code == RELU:
            h[o] = z * (z > zero)
        elif code == SIGMOID:
            e = _exp_small(-abs(z)) if single else math.exp(-abs(z))
            h[o] = one / (one + e) if z >= zero else e / (one + e)


@_jit
def _derive(g, h, code):  # pragma: no cover - compiled
    """g ← g · f'(z) in place on one row, from the activation's output h."""
    zero, one = h.dtype.type(0), h.dtype.type(1)
    for o in range(g.size):
        y = h[o]
        if code == TANH:
            g[o] = g[o] * (one - y * y)
        elif code == RELU:
            g[o] = g[o] * (y > zero)
        elif code == SIGMOID:
            g[o] = g[o] * y * (one - y)


@_jit
def _loss(out, y_float, y_index, code, mean, g):  # pragma: no cover - compiled
    """The loss of ``out`` [n, c] (float64) and dL/dout into ``g`` [n, c]."""
    n, c = out.shape
    total = 0.0
    one = out.dtype.type(1)
    count = n * c if code != CROSS_ENTROPY else n
    scale = out.dtype.type(1.0 / count) if mean else one
    for i in range(n):
        row, grow = out[i], g[i]
        if code == MSE:
            for j in range(c):
                d = row[j] - y_float[i, j]
                total += d * d
                grow[j] = (d + d) * scale
        elif code == BCE_WITH_LOGITS:
            for j in range(c):
                x, t = row[j], y_float[i, j]
                e = math.exp(-abs(x))
                total += (one - t) * x + (math.log1p(e) + max(-x, out.dtype.type(0)))
                s = one / (one + e) if x >= 0 else e / (one + e)
                grow[j] = (s - t) * scale
        else:
            top = row[0]
            for j in range(1, c):
                top = max(top, row[j])
            s = 0.0
            for j in range(c):
                s += math.exp(row[j] - top)
            log_s = math.log(s)
            k = y_index[i]
            total -= (row[k] - top) - log_s
            for j in range(c):
                grow[j] = math.exp((row[j] - top) - log_s) * scale
            grow[k] -= scale
    return total / count if mean else total


@_jit
def _sgd(p, g, buf, h):  # pragma: no cover - compiled
    """h = (lr, momentum, 1 - dampening, weight_decay, nesterov, sign, first_step) in float64,
    rounded to p's dtype as NumPy rounds a Python float against an array."""
    kind = p.dtype.type
    lr, momentum, undamped, decay = kind(h[0]), kind(h[1]), kind(h[2]), kind(h[3])
    nesterov, sign, first = h[4], kind(h[5]), h[6]
    for i in range(p.size):
        gi = p[i] * decay + sign * g[i] if decay != 0 else sign * g[i]
        if momentum != 0:
            b = gi if first != 0 else buf[i] * momentum + gi * undamped
            buf[i] = b
            gi = gi + b * momentum if nesterov != 0 else b
        p[i] = p[i] + gi * -lr


@_jit
def _adam(p, g, m, v, vmax, h, step, amsgrad):  # pragma: no cover - compiled
    """h = (lr, β₁, β₂, eps, coupled decay, 1 - lr·decoupled decay, sign) in float64; the
    coefficients are rounded to p's dtype as ``ffnn.accel.adam`` rounds them."""
    lr, b1, b2 = h[0], h[1], h[2]
    kind = p.dtype.type
    step_size = kind(lr / (1 - math.pow(b1, step)))
    bc2_sqrt = kind(math.pow(1 - math.pow(b2, step), 0.5))
    eps, beta1, beta2, decay, factor, sign = kind(h[3]), kind(b1), kind(b2), kind(h[4]), \
        kind(h[5]), kind(h[6])
    one = kind(1)
    for i in range(p.size):
        pi = p[i] * factor
        gi = sign * g[i] + decay * pi
        mi = m[i] + (one - beta1) * (gi - m[i])
        vi = v[i] * beta2 + (one - beta2) * (gi * gi)
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(vmax[i], vi)
            vmax[i] = vi
        p[i] = pi - step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps))


@intrinsic
def _pointer(typingctx, address, like):  # pragma: no cover - compiled
    """The address (an integer) as a pointer to ``like``'s dtype."""
    if not isinstance(like, types.Array):
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

    return types.CPointer(like.dtype)(address, like), codegen


@_jit
def _matrix(table, k, rows, cols, like):  # pragma: no cover - compiled
    return numba.carray(_pointer(table[k], like), (rows, cols))


@_jit
def _vector(table, k, size, like):  # pragma: no cover - compiled
    return numba.carray(_pointer(table[k], like), size)


FIELDS = 12
"""Addresses per layer in the table: weight, bias, their gradients, three state arrays each
(interleaved: weight, bias), activations [n, out], transposed weight [in, out]; after the
layers, the two flat gradient buffers."""


@_inlined
def _forward(x, table, dims, codes):  # pragma: no cover - compiled
    """Each layer's activations h = f(source · Wᵀ + b) into its buffer; the last h."""
    layers, n = dims.shape[0], x.shape[0]
    source = x
    for layer in range(layers):
        base, out_f, in_f = FIELDS * layer, dims[layer, 0], dims[layer, 1]
        w = _matrix(table, base, out_f, in_f, x)
        b = _vector(table, base + 1, out_f, x)
        h = _matrix(table, base + 10, n, out_f, x)
        wt = _matrix(table, base + 11, in_f, out_f, x)
        for o in range(out_f):
            for k in range(in_f):
                wt[k, o] = w[o, k]
        for i in range(n):
            row, srow = h[i], source[i]
            row[:] = 0
            for k in range(in_f):
                xv = srow[k]
                wrow = wt[k]
                for o in range(out_f):
                    row[o] += xv * wrow[o]
            for o in range(out_f):
                row[o] += b[o]
            _activate(row, codes[layer])
        source = h
    return source


@_inlined
def _backward(x, table, dims, codes, current, spare):  # pragma: no cover - compiled
    """From dL/dh of the last layer in ``current``: dL/dW = gᵀ · source, dL/db = Σᵢ gᵢ into
    each gradient buffer, dL/dsource = g · W into the other of ``current``/``spare``."""
    layers, n = dims.shape[0], x.shape[0]
    for layer in range(layers - 1, -1, -1):
        base, out_f, in_f = FIELDS * layer, dims[layer, 0], dims[layer, 1]
        w = _matrix(table, base, out_f, in_f, x)
        h = _matrix(table, base + 10, n, out_f, x)
        g = current[:n * out_f].reshape(n, out_f)
        for i in range(n):
            _derive(g[i], h[i], codes[layer])
        source = x if layer == 0 else _matrix(table, base - FIELDS + 10, n, in_f, x)
        gw = _matrix(table, base + 2, out_f, in_f, x)
        gb = _vector(table, base + 3, out_f, x)
        gw[:] = 0
        gb[:] = 0
        for i in range(n):
            grow, srow = g[i], source[i]
            for o in range(out_f):
                gv = grow[o]
                gb[o] += gv
                gwrow = gw[o]
                for k in range(in_f):
                    gwrow[k] += gv * srow[k]
        if layer > 0:
            gx = spare[:n * in_f].reshape(n, in_f)
            for i in range(n):
                xrow, grow = gx[i], g[i]
                xrow[:] = 0
                for o in range(out_f):
                    gv = grow[o]
                    wrow = w[o]
                    for k in range(in_f):
                        xrow[k] += gv * wrow[k]
            current, spare = spare, current


@_inlined
def _update(x, table, dims, adam, hyper, steps, amsgrad):  # pragma: no cover - compiled
    """The optimizer's update of every weight and bias from its gradient buffer."""
    layers = dims.shape[0]
    for layer in range(layers):
        base = FIELDS * layer
        for is_bias in range(2):
            size = dims[layer, 0] * (1 if is_bias else dims[layer, 1])
            p = _vector(table, base + is_bias, size, x)
            gp = _vector(table, base + 2 + is_bias, size, x)
            s1 = _vector(table, base + 4 + is_bias, size, x)
            s2 = _vector(table, base + 6 + is_bias, size, x)
            s3 = _vector(table, base + 8 + is_bias, size, x)
            index = layers * is_bias + layer
            if adam:
                _adam(p, gp, s1, s2, s3, hyper[index], steps[index], amsgrad)
            else:
                _sgd(p, gp, s1, hyper[index])


@_jit
def step(x, y_float, y_index, table, dims, codes, loss_code, mean, adam, hyper, steps,
         amsgrad):  # pragma: no cover - compiled
    """One training step of the chain on ``x`` [n, in]; ``table``: the addresses of every
    array (``FIELDS`` per layer, see above), kept alive by the caller; ``dims[l]`` =
    (out, in) of layer l; ``hyper[l]`` / ``hyper[L + l]`` the update coefficients of
    weight / bias l (``steps``: their Adam step counts). Returns the loss."""
    layers = dims.shape[0]
    n = x.shape[0]
    width = 0
    for layer in range(layers):
        width = max(width, dims[layer, 0], dims[layer, 1])
    grad_a = _vector(table, FIELDS * layers, n * width, x)
    grad_b = _vector(table, FIELDS * layers + 1, n * width, x)
    out = _forward(x, table, dims, codes)
    c = dims[layers - 1, 0]
    loss = _loss(out, y_float, y_index, loss_code, mean, grad_a[:n * c].reshape(n, c))
    _backward(x, table, dims, codes, grad_a, grad_b)
    _update(x, table, dims, adam, hyper, steps, amsgrad)
    return loss


@_jit
def classes_ok(y_index, classes):  # pragma: no cover - compiled
    """Whether every class index is in [0, classes) (one pass, no temporaries)."""
    for i in range(y_index.size):
        if y_index[i] < 0 or y_index[i] >= classes:
            return False
    return True
