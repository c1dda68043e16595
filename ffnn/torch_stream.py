"""torch's CPU random numbers: the same seed gives the same draws as PyTorch.

torch's CPU generator is a Mersenne Twister (MT19937) seeded as ``std::mt19937`` is (the
seed's low 32 bits); ffnn's :class:`~ffnn.random.Generator` holds NumPy's MT19937 seeded the
same way, so ``bits.random_raw()`` gives torch's 32-bit draws, and these functions turn them
into values as torch's kernels do (``ATen/core/TransformationHelper.h``,
``DistributionsHelper.h``, ``native/cpu/DistributionTemplates.h``):

- a 64-bit draw is two 32-bit ones, the first its high half;
- uniform on [a, b): ``x = (draw & (2ᵈ - 1)) · 2⁻ᵈ`` with d the mantissa bits of the dtype
  or float32, the wider (24 from a 32-bit draw for float16 and float32, 53 from a 64-bit one
  for float64), then ``x · (b - a) + a`` in that precision, rounded to the dtype, a value
  rounded up to b made a;
- normal: from 16 elements on, every element is first a uniform on [0, 1), then each block
  of 16 is 8 Box–Muller pairs (u1 = 1 - xⱼ, u2 = xⱼ₊₈: r = √(-2 log u1), θ = 2π u2,
  xⱼ = r cos θ · σ + μ, xⱼ₊₈ = r sin θ · σ + μ), and a partial last block is 16 fresh
  uniforms for the last 16 elements; below 16 (and for a non-contiguous tensor), pairs of
  float64 uniforms (u1, u2):
  r = √(-2 log1p(-u2)), θ = 2π u1, r cos θ now and r sin θ kept for the next sample;
- integers on [low, low + range): ``draw % range + low`` (a 64-bit draw from a range of 2³²);
  ``random_()`` of int64: a 64-bit draw modulo 2⁶³;
- ``randperm(n)``: 0..n-1, then for each i < n - 1 a swap of i with i + (draw % (n - i));
- ``cauchy_``, ``geometric_``, ``exponential_`` and ``log_normal_``: a float64 uniform (or
  normal, one after another) per element, transformed in float64;
- an in-place fill visits the tensor's elements in memory order (``in_memory_order``).

Integers and uniform values are torch's bit for bit; normal values to within an ulp or two
of the transcendental functions (torch's own differ between its AVX2 and AVX-512 builds).
A generator restored from a state of another bit generator (an older ffnn checkpoint) draws
with NumPy's methods instead (``exact``).
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import random as _random

TWO_PI = 2.0 * math.pi
CHUNK = 1 << 18
"""Elements drawn and transformed at a time (a multiple of 16): the 64-bit temporaries of a
chunk stay a few MiB, so initialising a large layer needs little beyond its own array."""
SWAPS_IN_PYTHON = 256
"""Above this many, ``randperm``'s swaps run compiled (``ffnn.kernels.permutation``)."""


def in_memory_order(array: np.ndarray, draw, *alongside: np.ndarray) -> np.ndarray:
    """``draw(shape, *alongside)``'s values (drawn in C order) laid out in ``array``'s memory
    order: torch's in-place fills visit a tensor's elements as they lie in memory (its
    TensorIterator orders the dimensions by stride), so a transposed tensor gets the values
    of its contiguous original, transposed. ``alongside``: arrays broadcast to ``array``'s
    shape that go with each element (bernoulli_'s probabilities), reordered alike."""
    axes = memory_axes(array)
    if axes is None:
        return draw(array.shape, *alongside)
    shape = tuple(array.shape[a] for a in axes)
    values = draw(shape, *(np.broadcast_to(x, array.shape).transpose(axes) for x in alongside))
    return values.transpose(np.argsort(axes))


def memory_axes(array: np.ndarray) -> list[int] | None:
    """``array``'s axes from the largest stride to the smallest (the order its elements lie
    in memory), or None where that is their own order."""
    if array.flags.c_contiguous:
        return None
    axes = sorted(range(array.ndim), key=lambda a: -abs(array.strides[a]) if array.shape[a] > 1
                  else 0)  # axes of length 1 last: they order nothing
    long = [a for a in axes if array.shape[a] > 1]
    return None if long == sorted(long) else axes


def bits_of(generator: _random.Generator | None) -> np.random.BitGenerator:
    """The bit generator to draw from: ``generator``'s, or the global one's."""
    return _random.rng(generator).bit_generator


def exact(generator: _random.Generator | None) -> bool:
    """Whether ``generator`` (None: the global one) draws torch's numbers."""
    return isinstance(bits_of(generator), np.random.MT19937)


def random32(bits: np.random.BitGenerator, n: int) -> np.ndarray:
    """``n`` 32-bit draws (uint64)."""
    return bits.random_raw(n) if n else np.zeros(0, np.uint64)


def random64(bits: np.random.BitGenerator, n: int) -> np.ndarray:
    """``n`` 64-bit draws (uint64), each two 32-bit ones, the first the high half."""
    raw = random32(bits, 2 * n)
    return (raw[0::2] << np.uint64(32)) | raw[1::2]


def _unit(bits, n: int, dtype: np.dtype) -> np.ndarray:
    """``n`` uniforms on [0, 1) of ``dtype`` from 32-bit draws (64-bit for float64)."""
    digits = np.finfo(dtype).nmant + 1
    raw = random64(bits, n) if dtype == np.float64 else random32(bits, n)
    mask = np.uint64((1 << digits) - 1)
    scale = np.float64(2.0 ** -digits)
    return ((raw & mask).astype(np.float64) * scale).astype(dtype)


def uniform(generator, shape: tuple, dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """torch's ``uniform_(low, high)`` of a tensor of ``shape`` and float ``dtype``."""
    dtype = np.dtype(dtype)
    if not exact(generator):
        return _random.rng(generator).uniform(low, high, shape).astype(dtype)
    n = math.prod(shape)
    work = np.dtype(np.float32 if dtype.itemsize < 4 else dtype)
    bits, out = bits_of(generator), np.empty(n, work)
    a, b = work.type(low), work.type(high)
    wraps = _reaches(work, a, b)
    for start in range(0, n, CHUNK):
        part = out[start:start + CHUNK]
        part[:] = _fma(_unit(bits, part.size, work), b - a, a, work)
        if wraps:
            part[part == b] = a
    values = out.astype(dtype, copy=False)
    if dtype != work:
        values[values == dtype.type(high)] = dtype.type(low)
    return values.reshape(shape)


def _reaches(work: np.dtype, a, b) -> bool:
    """Whether x·(b - a) + a of the largest uniform x (1 - 2⁻ᵈ) rounds up to b in ``work``:
    only then has ``uniform`` values to make a (most ranges never get there)."""
    largest = 1.0 - 2.0 ** -(np.finfo(work).nmant + 1)
    if work != np.float64:  # the float64 product is exact, one rounding to ``work``
        return bool(work.type(largest * float(b - a) + float(a)) >= b)
    return bool(_fma(np.array([largest]), b - a, a, work)[0] >= b)


def _fma(x: np.ndarray, y, z, work: np.dtype) -> np.ndarray:
    """x·y + z rounded once, as the compiled kernels' fused multiply-add: float32 through
    float64 (the product is exact there), float64 by Dekker's exact product and a compensated
    sum."""
    if work != np.float64:
        return (x.astype(np.float64) * np.float64(y) + np.float64(z)).astype(work)
    product, error = _two_product(x, np.float64(y))
    total = product + z
    back = total - product
    return total + (((product - (total - back)) + (z - back)) + error)


def _two_product(p: np.ndarray, q: np.float64) -> tuple:
    """(p·q rounded, its rounding error), exactly (Dekker's splitting)."""
    product = p * q
    split = 134217729.0  # 2^27 + 1

    def halves(v):
        c = split * v
        high = c - (c - v)
        return high, v - high

    (ph, pl), (qh, ql) = halves(p), halves(q)
    return product, ((ph * qh - product) + ph * ql + pl * qh) + pl * ql


def normal(generator, shape: tuple, dtype, mean: float = 0.0, std: float = 1.0,
           serial: bool = False) -> np.ndarray:
    """torch's ``normal_(mean, std)`` of a tensor of ``shape`` and float ``dtype``; ``serial``:
    of a non-contiguous tensor, whose normals torch draws one after another (as below 16
    elements)."""
    dtype = np.dtype(dtype)
    if not exact(generator):
        return _random.rng(generator).normal(mean, std, shape).astype(dtype)
    n = math.prod(shape)
    if n < 16 or serial:
        values = _normal_pairs(generator, n)
        return (values * std + mean).astype(dtype).reshape(shape)
    work = np.dtype(np.float32 if dtype.itemsize < 4 else dtype)
    bits, data = bits_of(generator), np.empty(n, work)
    for start in range(0, n, CHUNK):  # every uniform first, in order
        data[start:start + CHUNK] = _unit(bits, min(CHUNK, n - start), work)
    whole = n - n % 16
    for start in range(0, whole, CHUNK):
        part = data[start:min(start + CHUNK, whole)]
        part[:] = _box_muller(part.reshape(-1, 16), work, mean, std).reshape(-1)
    if n % 16:
        data[n - 16:] = _box_muller(_unit(bits, 16, work).reshape(1, 16), work, mean,
                                    std).reshape(-1)
    return data.astype(dtype, copy=False).reshape(shape)


def _box_muller(blocks: np.ndarray, work: np.dtype, mean: float, std: float) -> np.ndarray:
    """Blocks [k, 16] of uniforms to normals: the pairs (j, j + 8) of each block, in
    ``work`` precision (θ = 2π·u2 rounded from float64, as torch's double constant makes it;
    the functions are NumPy's in ``work``, within an ulp or two of the C library's)."""
    one = work.type(1)
    radius = np.sqrt(work.type(-2) * np.log(one - blocks[:, :8]))
    theta = (TWO_PI * blocks[:, 8:].astype(np.float64)).astype(work)
    out = np.empty_like(blocks)
    scale, shift = work.type(std), work.type(mean)
    out[:, :8] = _fma(radius * np.cos(theta), scale, shift, work)
    out[:, 8:] = _fma(radius * np.sin(theta), scale, shift, work)
    return out


def _normal_pairs(generator, n: int) -> np.ndarray:
    """``n`` standard normals (float64) one after another, torch's
    ``normal_distribution<double>``: the generator's kept normal first, then Box–Muller pairs
    of float64 uniforms, the second of the last pair kept on the generator when one is
    left over."""
    gen = generator or _random.default_generator
    out = np.empty(n)
    start = 0
    if n and gen.normal_cache is not None:
        out[0], gen.normal_cache, start = gen.normal_cache, None, 1
    pairs = (n - start + 1) // 2
    u = unit64(bits_of(generator), 2 * pairs).reshape(pairs, 2)
    radius = np.sqrt(-2.0 * np.log1p(-u[:, 1]))
    theta = TWO_PI * u[:, 0]
    both = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1).reshape(-1)
    out[start:] = both[:n - start]
    if (n - start) % 2:
        gen.normal_cache = float(both[-1])
    return out


def box_muller_pair(u1: float, u2: float) -> tuple[float, float]:
    """One pair of ``_normal_pairs`` from Python floats: (r cos θ, r sin θ),
    r = √(-2·log1p(-u2)), θ = 2π·u1."""
    radius = math.sqrt(-2.0 * math.log1p(-u2))
    theta = TWO_PI * u1
    return radius * math.cos(theta), radius * math.sin(theta)


def unit64(bits: np.random.BitGenerator, n: int) -> np.ndarray:
    """``n`` float64 uniforms on [0, 1), 53 bits of a 64-bit draw each (torch's
    ``uniform_real_distribution<double>``)."""
    return _unit(bits, n, np.dtype(np.float64))


def integers(generator, shape: tuple, dtype, low: int, high: int) -> np.ndarray:
    """torch's ``random_(low, high)`` / ``randint(low, high)``: integers on [low, high)."""
    dtype = np.dtype(dtype)
    if not exact(generator):
        return _random.rng(generator).integers(low, int(high) - 1, size=shape,
                                               endpoint=True).astype(dtype)
    n, span = math.prod(shape), int(high) - int(low)
    wide = span >= 1 << 32 and (dtype == np.int64 or dtype.kind == "f")
    bits = bits_of(generator)
    raw = random64(bits, n) if wide else random32(bits, n)
    values = (raw % np.uint64(span)).astype(np.int64) + np.int64(low) if span < 1 << 63 else \
        np.array([int(v) % span + int(low) for v in raw.tolist()], dtype=np.int64)
    return values.astype(dtype).reshape(shape)


def random_int64(generator) -> int:
    """torch's ``torch.empty((), dtype=torch.int64).random_(generator=...)``: a 64-bit draw
    modulo 2⁶³ (how torch's DataLoader and RandomSampler seed their epochs)."""
    if not exact(generator):
        return int(_random.rng(generator).integers(2**63 - 1))
    return int(random64(bits_of(generator), 1)[0] % np.uint64(1 << 63))


def categories(generator, weights: np.ndarray, count: int) -> np.ndarray | None:
    """torch's ``multinomial(weights, count, replacement=True)`` of rows [R, K] (float32 or
    float64): per row the running sums of the weights in their dtype, divided by the total,
    the last made 1; per sample a float64 uniform u and the first category whose sum is at
    least u. None where the generator does not draw torch's numbers."""
    if not exact(generator) or weights.dtype not in (np.float32, np.float64):
        return None
    bits = bits_of(generator)
    out = np.empty((weights.shape[0], count), np.int64)
    for row, w in enumerate(weights):
        sums = np.cumsum(w, dtype=w.dtype)
        sums = sums / sums[-1]
        sums[-1] = 1
        out[row] = np.searchsorted(sums.astype(np.float64), _unit(bits, count, np.dtype(
            np.float64)), side="left")
    return out


def exponentials(generator, shape: tuple, dtype, rate: float = 1.0) -> np.ndarray | None:
    """torch's serial ``exponential_(rate)``: -1/rate · log(1 - u) of float64 uniforms u, in
    ``dtype``. None where the generator does not draw torch's numbers."""
    if not exact(generator):
        return None
    u = unit64(bits_of(generator), math.prod(shape))
    return (-1.0 / rate * np.log(1.0 - u)).astype(dtype).reshape(shape)


def cauchys(generator, shape: tuple, dtype, median: float, sigma: float) -> np.ndarray:
    """torch's ``cauchy_(median, sigma)``: median + σ·tan(π(u - ½)) of float64 uniforms u,
    in ``dtype``."""
    if not exact(generator):
        return (median + sigma * _random.rng(generator).standard_cauchy(shape)).astype(dtype)
    u = unit64(bits_of(generator), math.prod(shape))
    return (median + sigma * np.tan(math.pi * (u - 0.5))).astype(dtype).reshape(shape)


def geometrics(generator, shape: tuple, dtype, p: float) -> np.ndarray:
    """torch's ``geometric_(p)``: ⌈log u / log(1 - p)⌉ of float64 uniforms u, in ``dtype``."""
    if not exact(generator):
        return _random.rng(generator).geometric(p, shape).astype(dtype)
    u = unit64(bits_of(generator), math.prod(shape))
    with np.errstate(divide="ignore"):
        trials = np.ceil(np.log(u) / math.log(1.0 - p))
    return trials.astype(dtype).reshape(shape)


def log_normals(generator, shape: tuple, dtype, mean: float, std: float) -> np.ndarray:
    """torch's ``log_normal_(mean, std)``: exp(x·std + mean) of normals x drawn one after
    another (``normal_distribution<double>``), in ``dtype``."""
    if not exact(generator):
        return _random.rng(generator).lognormal(mean, std, shape).astype(dtype)
    x = _normal_pairs(generator, math.prod(shape))
    return np.exp(x * std + mean).astype(dtype).reshape(shape)


def bernoulli_bits(bits: np.random.BitGenerator, n: int, p: float) -> np.ndarray:
    """torch's ``bernoulli_(p)`` (a number p) as bools: a float64 uniform u per element,
    true where u < p (dropout's keep mask is ``bernoulli_(1 - p)``)."""
    raw = random64(bits, n) & np.uint64((1 << 53) - 1)
    return raw < np.uint64(math.ceil(p * 2.0**53))


def bernoulli(generator, shape: tuple, p) -> np.ndarray:
    """torch's ``bernoulli_(p)`` as bools of ``shape``: a number p, or float64 probabilities
    (an array), against float64 uniforms, other probabilities against float32 ones (24 bits
    of a 32-bit draw), element by element, true where u < p."""
    n = math.prod(shape)
    if not exact(generator):
        return _random.rng(generator).random(shape) < p
    if not isinstance(p, np.ndarray):  # a number
        return bernoulli_bits(bits_of(generator), n, float(p)).reshape(shape)
    width = np.dtype(np.float64 if p.dtype == np.float64 else np.float32)
    return _unit(bits_of(generator), n, width).reshape(shape) < p.astype(width)


def skip_permutation(generator, n: int) -> None:
    """Move on as ``randperm(n)`` would, computing nothing (torch's RandomSampler draws one
    permutation more than it uses: ``randperm(n)[:0]`` after the whole ones)."""
    if exact(generator) and n > 1:
        random32(bits_of(generator), n - 1)


def permutation(generator, n: int) -> np.ndarray:
    """torch's ``randperm(n)`` (int64)."""
    if not exact(generator):
        return _random.rng(generator).permutation(n).astype(np.int64)
    if n < 2:
        return np.arange(n, dtype=np.int64)
    offsets = (random32(bits_of(generator), n - 1) %
               np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
    from ffnn import accel

    if accel.enabled and n > SWAPS_IN_PYTHON:
        from ffnn.kernels.permutation import swaps

        return swaps(offsets)
    order = list(range(n))
    for i, z in enumerate(offsets.tolist()):
        j = i + z
        order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)
