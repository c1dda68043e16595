"""Large kernel calls split over OpenBLAS's threads compute what the whole call computes, bit
for bit: an optimizer's multi-tensor update and an activation's forward and backward."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn import accel
from tests.helpers import whole_splits

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SIZE = max(accel.SPLIT_MIN, accel.PYTHON_SPLIT_MIN) + 37  # odd: parts differ in length


@pytest.fixture
def blas_split():
    from ffnn.kernels import blas_split

    return blas_split


@pytest.fixture(autouse=True)
def trial_splits(monkeypatch):
    """Calls that ask a ``SplitTrial`` split (the trial's timing is tested on its own)."""
    if accel.available:
        from ffnn.kernels.split_trial import SplitTrial

        monkeypatch.setattr(SplitTrial, "split", lambda self: True)


@pytest.fixture
def whole(blas_split, monkeypatch):
    """Switch every call to whole (``splitter()`` None) inside a ``with whole():``."""
    return whole_splits(monkeypatch)


def test_numpys_openblas_is_split(blas_split):
    """NumPy 2's wheels bundle OpenBLAS ≥ 0.3.27: the splitter is found and, with two
    threads, its probe passes (where NumPy links another BLAS there is nothing to find)."""
    from ffnn.kernels.native import numpy_openblas

    found = numpy_openblas()
    if found is None:
        assert blas_split.splitter() is None
        return
    library, prefix = found
    import ctypes

    config = getattr(library, f"{prefix}openblas_get_config{'64_' if prefix else ''}")
    config.restype = ctypes.c_char_p
    if blas_split.MIN_VERSION <= blas_split._version(config()) < blas_split.MAX_VERSION:
        made = blas_split.splitter()
        assert made is not None
        if made._threads() >= 2 and blas_split._usable_cpus() >= 2:
            assert made.threads() >= 2 and made.verified


def test_openblas_thread_count_is_read_at_every_call(blas_split):
    """``blas_threads`` (OpenBLAS's function called from compiled code) is what its ctypes
    function says, under a ``threadpoolctl`` limit and after it; ``threads`` follows the
    limit at the next call (more parts than OpenBLAS has threads would wait for a worker
    that is not there)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    found = _two_threads(blas_split)
    assert found._threads_address is not None
    before = found._threads()
    assert found.blas_threads() == before
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert found._threads() == 1 and found.blas_threads() == 1 and found.threads() == 1
        assert blas_split.split_row(1 << 30, 4)[2] == 1
    assert found.blas_threads() == before and found.threads() == min(before, found.cpus())


def test_the_cpus_are_read_again_within_affinity_calls(blas_split, monkeypatch):
    """The process's CPUs (a system call) are read once in ``AFFINITY_CALLS`` calls of
    ``threads``: a change is seen within that many calls."""
    found = _two_threads(blas_split)
    reads = []

    def usable() -> int:
        reads.append(1)
        return 1 if len(reads) > 1 else 2

    monkeypatch.setattr(blas_split, "_usable_cpus", usable)
    monkeypatch.setattr(found, "_cpus_age", blas_split.AFFINITY_CALLS)  # both restored after
    monkeypatch.setattr(found, "_cpus", found._cpus)
    counts = [found.threads() for _ in range(blas_split.AFFINITY_CALLS + 1)]
    assert len(reads) == 2
    assert counts[:blas_split.AFFINITY_CALLS] == [2] * blas_split.AFFINITY_CALLS
    assert counts[-1] == 1


def test_the_probe_refuses_parts_that_land_elsewhere(blas_split):
    """A routine whose parts do not start where ``_chunk`` reads them (here: read as if
    each advanced 4 bytes an element, not 8) fails the probe, its writes inside the probe's
    room; so would an OpenBLAS whose conventions moved."""
    from numba import carray, cfunc

    from ffnn.kernels.native import address_as_pointer, call_entry

    found = _two_threads(blas_split)

    @cfunc(blas_split._CHUNK)
    def misplaced(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
        start = a // 4
        row = carray(address_as_pointer(c, np.int64), blas_split.CONTEXT)
        call_entry(row[0], m, row[1] + start * row[8], row[2] + start * row[9], 0, 0, 0, 0,
                   row[7])
        return 0

    wrong = blas_split.Splitter(found.split_address, lambda: 2)
    wrong.chunk_address = misplaced.address
    assert blas_split._probe(found, 2)
    assert not blas_split._probe(wrong, 2)


def _two_threads(blas_split):
    found = blas_split.splitter()
    if found is None or found.threads() < 2:
        pytest.skip("no OpenBLAS splitter with two threads here")
    return found


@pytest.mark.parametrize("name, options", [
    ("Adam", {"lr": 1e-2}), ("AdamW", {"lr": 1e-2, "amsgrad": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("RMSprop", {"lr": 1e-3})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_update_is_the_whole_update(blas_split, whole, name, options, dtype, rng):
    import ffnn
    from ffnn import optim

    _two_threads(blas_split)
    start = rng.standard_normal(SIZE).astype(dtype)
    grads = [rng.standard_normal(SIZE).astype(dtype) for _ in range(3)]
    results = []
    for split in (True, False):
        param = ffnn.nn.Parameter(ffnn.tensor(start.copy()))
        opt = getattr(optim, name)([param], **options)
        for grad in grads:
            param.grad = ffnn.tensor(grad)
            if split:
                opt.step()
            else:
                with whole():
                    opt.step()
        results.append(param.detach().numpy().copy())
    assert not np.array_equal(results[0], start)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("formula", ["RELU", "TANH", "SILU", "GELU_ERF", "LEAKY_RELU"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [SIZE, accel.SPLIT_MIN + 37])  # a tanh's forward splits there
def test_split_activation_is_the_whole_activation(blas_split, whole, formula, dtype, size,
                                                  rng):
    from ffnn.ops import activations

    _two_threads(blas_split)
    pointwise = getattr(activations, formula)
    scalars = {name: 0.02 for name in pointwise.scalars}
    x = (rng.standard_normal(size) * 3).astype(dtype)
    grad = rng.standard_normal(size).astype(dtype)
    y, saved = pointwise.forward(x, **scalars)
    dx = pointwise.backward(grad, saved, **scalars)
    with whole():
        y_whole, saved_whole = pointwise.forward(x, **scalars)
        dx_whole = pointwise.backward(grad, saved_whole, **scalars)
    np.testing.assert_array_equal(y, y_whole)
    for a, b in zip(saved, saved_whole):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dx, dx_whole)


def test_one_thread_or_a_small_array_runs_whole(blas_split, monkeypatch):
    """``run_arrays`` declines (runs nothing) below ``PYTHON_SPLIT_MIN`` and with one BLAS
    thread."""
    found = _two_threads(blas_split)
    entry = 1  # never called: a call would crash
    small = [np.zeros(accel.PYTHON_SPLIT_MIN - 1)]
    assert not blas_split.run_arrays(entry, small, np.zeros(1))
    monkeypatch.setattr(found, "threads", lambda: 1)
    assert not blas_split.run_arrays(entry, [np.zeros(SIZE)], np.zeros(1))


def test_switched_off_by_the_environment(blas_split, monkeypatch):
    monkeypatch.setenv("FFNN_BLAS_SPLIT", "0")
    assert blas_split.splitter.__wrapped__() is None


@pytest.mark.parametrize("size", [2 * accel.SPLIT_MIN, 2 * accel.SPLIT_MIN + 1, 1_000_003])
def test_split_keep_mask_is_the_whole_mask(blas_split, whole, size):
    """Dropout's keep mask drawn in parts (each from its own first pair of SplitMix64's
    outputs, the odd last entry after them) is the mask drawn whole, bit for bit."""
    _two_threads(blas_split)
    split, entire = np.ones(size + 8, bool), np.ones(size + 8, bool)
    accel.keep_mask(0xFEDCBA9876543210, 3 << 30, split[:size])
    with whole():
        accel.keep_mask(0xFEDCBA9876543210, 3 << 30, entire[:size])
    np.testing.assert_array_equal(split, entire)
    assert 0.2 < split[:size].mean() < 0.3 and split[size:].all()  # none written past the end


@pytest.mark.skipif(not accel.enabled, reason="the op takes its kernels only when enabled")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_dropout_is_the_whole_dropout(blas_split, whole, monkeypatch, dtype, rng):
    """The eager dropout op (the per-layer graph's: batches past the native chain) applies
    its mask forward and backward split over the threads from ``PYTHON_SPLIT_MIN``
    elements, the whole calls' values bit for bit."""
    import ffnn
    from ffnn.nn import functional as F

    _two_threads(blas_split)
    splits, run_arrays = [], blas_split.run_arrays
    monkeypatch.setattr(blas_split, "run_arrays",
                        lambda *a, **k: splits.append(run_arrays(*a, **k)) or splits[-1])
    x_np = rng.standard_normal((SIZE // 100 + 1, 100)).astype(dtype)
    g = rng.standard_normal(x_np.shape).astype(dtype)

    def run():
        generator = ffnn.Generator(0)  # on a PCG64 stream (a Trainer's): the kernel's mask
        generator.set_state({"seed": 3, "bit_generator": np.random.PCG64(3).state})
        x = ffnn.from_numpy(x_np).requires_grad_()
        y = F.dropout(x, 0.3, training=True, generator=generator)
        y.backward(ffnn.from_numpy(g))
        return y.detach().numpy(), x.grad.numpy()

    split = run()
    assert splits == [True] * 3  # the mask drawn, the forward, the backward
    with whole():
        entire = run()
    for a, b in zip(split, entire):
        np.testing.assert_array_equal(a, b)
    kept = split[0] != 0
    np.testing.assert_array_equal(split[0][kept], (x_np * dtype(1 / 0.7))[kept])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(SIZE // 64 + 1, 64), (37, 7919)])
def test_split_softmax_rows_are_the_whole_rows(blas_split, whole, dtype, shape, rng):
    """Softmax and log softmax over rows, forward and backward, split by rows (an odd number
    of them; long ones) are the whole calls' results, bit for bit."""
    _two_threads(blas_split)
    x, g = (rng.standard_normal(shape).astype(dtype) * 4 for _ in range(2))

    def run():
        y = accel.softmax_last(x)
        log_y, prob = accel.log_softmax_last(x, keep=True)
        return (y, accel.softmax_backward_last(y, g), log_y, prob,
                accel.log_softmax_backward_last(prob, g))

    split = run()
    with whole():
        entire = run()
    for a, b in zip(split, entire):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(split[0].sum(axis=1), 1.0, rtol=1e-5)


def test_softmax_entry_points_compile_on_first_use():
    """Importing the kernels compiles no softmax entry point (each compiles all four row
    kernels); asking for one compiles that one only, and another name is still an
    AttributeError."""
    import subprocess
    import sys

    program = (
        "import ffnn._kernels as k\n"
        "assert not {'softmax_part_f32', 'softmax_part_f64'} & set(vars(k))\n"
        "assert k.softmax_part_f64.address and 'softmax_part_f32' not in vars(k)\n"
        "assert k.softmax_part_f64 is vars(k)['softmax_part_f64']\n"
        "try:\n    k.softmax_part_f16\nexcept AttributeError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "has no attribute 'softmax_part_f16'" in done.stdout


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_split_layer_norm_is_the_whole_layer_norm(blas_split, whole, dtype, affine, rng):
    """Layer norm's forward split by rows (an odd number of them; γ and β whole in every
    part) gives the whole call's y, x̂ and 1/σ, bit for bit."""
    _two_threads(blas_split)
    rows, cols = accel.LAYER_NORM_SPLIT_MIN // 96 + 3, 96
    x = (rng.standard_normal((rows, cols)) * 3 + 1).astype(dtype)
    weight, bias = ((rng.standard_normal(cols).astype(dtype) for _ in range(2)) if affine
                    else (None, None))
    split = accel.layer_norm_forward(x, weight, bias, 1e-5)
    with whole():
        entire = accel.layer_norm_forward(x, weight, bias, 1e-5)
    for a, b in zip(split, entire):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(split[1].mean(axis=1), 0.0, atol=1e-5)


@pytest.mark.parametrize("activation, optimizer, dropout", [
    ("ReLU", "Adam", 0.0), ("SiLU", "SGD", 0.0), ("LeakyReLU", "RMSprop", 0.0),
    ("GELU", "AdamW", 0.0), ("Tanh", "Adam", 0.25)])
def test_split_fused_step_is_the_whole_fused_step(blas_split, whole, activation, optimizer,
                                                   dropout, rng):
    """``ffnn.compile(mode="fused")`` with activations and parameters above ``SPLIT_MIN``
    (a bool mask kept by ReLU and leaky ReLU, a float slope by SiLU and GELU; dropout's bool
    mask, forward and backward): the same parameters, optimizer states and losses split or
    whole. (No sum over the rows here is split by parts of rows, which rounds otherwise
    than one gemm: ``sums_by_rows``.)"""
    import ffnn
    from ffnn import nn, optim
    from ffnn.ops.matrix import sums_by_rows

    _two_threads(blas_split)
    rows, width, hidden = 500, 500, 600  # activations and first weight 300,000
    assert min(rows * hidden, width * hidden) >= max(accel.SPLIT_MIN, accel.PYTHON_SPLIT_MIN)
    assert not any(sums_by_rows(rows, out_f, in_f, False)
                   for out_f, in_f in ((hidden, width), (1, hidden), (10, hidden), (1, 10)))
    x = rng.standard_normal((rows, width)).astype(np.float32)
    y = rng.integers(0, 10, rows)
    options = {"momentum": 0.9} if optimizer == "SGD" else {}
    results = []
    for split in (True, False):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(width, hidden), getattr(nn, activation)(),
                              *[nn.Dropout(dropout)] * (dropout > 0), nn.Linear(hidden, 10))
        opt = getattr(optim, optimizer)(model.parameters(), lr=1e-2, **options)
        step = ffnn.compile(model, nn.CrossEntropyLoss(), opt, mode="fused")
        losses = []
        for _ in range(3):
            if split:
                losses.append(step(x, y))
            else:
                with whole():
                    losses.append(step(x, y))
        assert step.fused is not None and step.compiled
        states = [a.copy() for s in opt.state.values() for a in s.values()
                  if isinstance(a, np.ndarray)]
        results.append((losses, [p.detach().numpy().copy() for p in model.parameters()],
                        states))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1] + results[0][2], results[1][1] + results[1][2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="Linux only")
@pytest.mark.parametrize("limit", [1, 2])
def test_one_cpu_runs_whole_and_returns(limit):
    """A process on one CPU, with OpenBLAS loaded there (so it has no worker thread) and
    limited to ``limit`` threads: calls run whole, and return (a split there would wait
    forever for a worker that does not exist)."""
    import subprocess
    import sys

    program = (
        "import os; os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])\n"
        "import numpy as np\n"
        "from threadpoolctl import threadpool_limits\n"
        f"threadpool_limits(limits={limit})\n"
        "import ffnn, ffnn.nn.functional as F\n"
        "from ffnn.kernels import blas_split\n"
        "x = ffnn.randn(512, 300, requires_grad=True)\n"
        "F.silu(x).sum().backward()\n"
        "found = blas_split.splitter()\n"
        "print(found is None or found.threads())\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] in ("True", "1")


def test_split_calls_from_several_threads_at_once(blas_split, whole, rng):
    """Four Python threads splitting at once (OpenBLAS queues their parts on its one pool):
    each gets the values of the whole call, and every call returns."""
    from concurrent.futures import ThreadPoolExecutor

    from ffnn.ops import activations

    _two_threads(blas_split)
    pointwise = activations.SILU
    inputs = [rng.standard_normal(SIZE).astype(np.float32) for _ in range(4)]
    with whole():
        expected = [pointwise.forward(x)[0] for x in inputs]

    def work(index):
        return [pointwise.forward(inputs[index])[0] for _ in range(20)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4), timeout=120))
    for index, found in enumerate(results):
        for y in found:
            np.testing.assert_array_equal(y, expected[index])


_CHAINS_ON = pytest.mark.skipif(not accel.enabled, reason="native chains need the kernels on")


@_CHAINS_ON
@pytest.mark.parametrize("op, forward_costly, backward_costly", [
    ("ReLU", False, False), ("LeakyReLU", False, False), ("Tanh", True, False),
    ("Sigmoid", True, False), ("GELU", True, False), ("SiLU", True, False)])
def test_costly_activations_split_from_fewer_elements(op, forward_costly, backward_costly):
    """A compiled activation whose formula has an exp, tanh or Φ splits from
    ``COSTLY_SPLIT_MIN`` elements, the others from ``SPLIT_MIN``: the forward and backward
    each by its own formula (tanh's backward is 1 - y², GELU's and SiLU's multiply by the
    slope their forward kept), and a chain of them asks for a split row from its smallest
    minimum."""
    from ffnn import nn
    from ffnn.compiler import _fused_kernel as layout
    from ffnn.compiler import native_chain
    from ffnn.ops import activations

    pointwise = getattr(activations, op)().formula()[0]
    expected = tuple(accel.COSTLY_SPLIT_MIN if costly else accel.SPLIT_MIN
                     for costly in (forward_costly, backward_costly))
    assert pointwise.compiled_split_min == expected
    model = nn.Sequential(nn.Linear(8, 16), getattr(nn, op)(), nn.Linear(16, 2))
    x = np.zeros((4, 8), np.float32)
    model(_tensor(x))
    chain = native_chain._chains[model]
    assert chain.split_min == min(expected)
    at = layout.FIELDS * 0
    assert tuple(chain._template[at + layout.SPLIT_FORWARD:at + layout.SPLIT_BACKWARD + 1]) \
        == expected


def _tensor(x):
    import ffnn

    return ffnn.from_numpy(x)


@_CHAINS_ON
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_costly_chain_is_the_whole_chain(blas_split, whole, dtype, rng):
    """Tanh and GELU on 512 rows of 32 (16,384 elements: from ``COSTLY_SPLIT_MIN``, below
    ``SPLIT_MIN``) split, the native chain's output and gradients and the fused step's
    parameters the same as whole, bit for bit (products too small to be summed by parts of
    rows, whose rounding differs from a whole product's)."""
    import ffnn
    from ffnn import nn, optim

    _two_threads(blas_split)
    rows, width = 512, 32
    assert accel.COSTLY_SPLIT_MIN <= rows * width < accel.SPLIT_MIN
    assert blas_split.split_row(rows * width, 4, accel.COSTLY_SPLIT_MIN)[0] != 0
    assert blas_split.split_row(rows * width, 4)[0] == 0  # a ReLU chain's: whole
    x = rng.standard_normal((rows, 3)).astype(dtype)
    y = rng.integers(0, 4, rows)

    def run():
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, width), nn.Tanh(), nn.Linear(width, width),
                              nn.GELU(), nn.Linear(width, 4)).to(dtype)
        out = model(ffnn.from_numpy(x))
        assert "native" in vars(out.grad_fn)
        nn.CrossEntropyLoss()(out, ffnn.from_numpy(y)).backward()
        found = [out.detach().numpy().copy()] + [p.grad.numpy().copy()
                                                  for p in model.parameters()]
        opt = optim.Adam(model.parameters(), lr=1e-2)
        step = ffnn.compile(model, nn.CrossEntropyLoss(), opt, mode="fused")
        losses = [step(x, y) for _ in range(3)]
        assert step.fused is not None
        return found + [p.detach().numpy().copy() for p in model.parameters()], losses

    split, split_losses = run()
    with whole():
        entire, entire_losses = run()
    assert split_losses == entire_losses
    for a, b in zip(split, entire, strict=True):
        np.testing.assert_array_equal(a, b)
