"""Random sampling with torch's names: ``multinomial``, ``bernoulli``, ``poisson`` and the
in-place fills ``exponential_``, ``geometric_``, ``cauchy_``, ``log_normal_``.

The streams are ffnn's own, so samples are checked by shape, dtype, reproducibility and
their statistics over large seeded samples, with margins of 5 standard errors; errors are
checked against torch's for the same bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

N = 40000


def _within(samples, mean, var, what: str = "mean") -> None:
    """The sample mean within 5 standard errors of ``mean`` (per column)."""
    samples = np.asarray(samples, dtype=np.float64)
    se = np.sqrt(np.asarray(var, dtype=np.float64) / samples.shape[0])
    assert np.all(np.abs(samples.mean(0) - mean) <= 5 * se), \
        f"{what}: {samples.mean(0)} vs {mean} (5 s.e. = {5 * se})"


def _frequencies_within(draws: np.ndarray, probs: np.ndarray, what: str) -> None:
    """Category frequencies of ``draws`` within 5 standard errors of ``probs``."""
    _within(np.eye(len(probs))[draws.reshape(-1)], probs, probs * (1 - probs), what)


# ----- multinomial ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [ffnn.float32, ffnn.float64])
def test_multinomial_shapes_and_dtype(dtype):
    weights = ffnn.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, 0.0, 0.5, 1.0]], dtype=dtype)
    for replacement in (False, True):
        two_d = ffnn.multinomial(weights, 3, replacement)
        assert two_d.shape == (2, 3) and two_d.dtype == np.int64
        assert not two_d.requires_grad
        one_d = weights[0].multinomial(2, replacement=replacement)
        assert one_d.shape == (2,) and one_d.dtype == np.int64
    assert ffnn.multinomial(weights, 7, True).shape == (2, 7)
    assert ffnn.multinomial(ffnn.ones(0, 3), 2).shape == (0, 2)


def test_multinomial_is_reproducible_with_the_seed_and_a_generator():
    weights = ffnn.tensor([0.1, 0.2, 0.3, 0.4])

    def draws(seed):
        ffnn.manual_seed(seed)
        return ffnn.multinomial(weights, 20, True).numpy(), weights.multinomial(4).numpy()

    first = draws(5)
    for a, b in zip(first, draws(5)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], draws(6)[0])

    ffnn.manual_seed(0)
    expected_global = ffnn.rand(3).numpy()
    ffnn.manual_seed(0)
    with_generator = [ffnn.multinomial(weights, 20, True, generator=ffnn.Generator().manual_seed(9))
                      .numpy() for _ in range(2)]
    np.testing.assert_array_equal(*with_generator)
    np.testing.assert_array_equal(ffnn.rand(3).numpy(), expected_global)  # global untouched


def test_multinomial_without_replacement_never_repeats():
    ffnn.manual_seed(1)
    weights = ffnn.rand(500, 6) + 0.01
    draws = ffnn.multinomial(weights, 6).numpy()
    assert all(sorted(row) == list(range(6)) for row in draws)  # a permutation per row
    partial = ffnn.multinomial(weights, 4).numpy()
    assert all(len(set(row)) == 4 for row in partial)


def test_zero_weight_categories_are_never_drawn():
    ffnn.manual_seed(2)
    weights = ffnn.tensor([[0.0, 3.0, 0.0, 1.0, 2.0], [5.0, 0.0, 0.0, 0.0, 0.0]])
    with_replacement = ffnn.multinomial(weights, 5000, True).numpy()
    assert set(with_replacement[0].tolist()) == {1, 3, 4}
    assert set(with_replacement[1].tolist()) == {0}
    rows = weights.expand(2000, 2, 5).reshape(-1, 5)
    without = ffnn.multinomial(rows[0::2], 3).numpy()
    assert np.all(np.sort(without, axis=1) == [1, 3, 4])
    # too few positive categories: they come first, then the others (as torch's)
    short = ffnn.multinomial(weights[1], 3).numpy()
    assert short[0] == 0 and len(set(short.tolist())) == 3


def test_multinomial_with_replacement_follows_the_weights():
    ffnn.manual_seed(3)
    weights = np.array([2.0, 0.5, 0.0, 1.5, 6.0])
    probs = weights / weights.sum()
    _frequencies_within(ffnn.multinomial(ffnn.tensor(weights), N, True).numpy(), probs,
                        "one row, many samples")
    rows = ffnn.tensor(np.tile(weights, (N, 1)))  # many rows: each row's draw is its own
    _frequencies_within(ffnn.multinomial(rows, 1, True).numpy(), probs, "many rows")


def test_multinomial_without_replacement_is_sequential_sampling():
    ffnn.manual_seed(4)
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    p = weights / weights.sum()
    draws = ffnn.multinomial(ffnn.tensor(np.tile(weights, (N, 1))), 2).numpy()
    _frequencies_within(draws[:, 0], p, "first draw")
    # P(second = j) = Σ_{i≠j} pᵢ·pⱼ/(1 - pᵢ)
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j)
                       for j in range(4)])
    _frequencies_within(draws[:, 1], second, "second draw")


@pytest.mark.parametrize("args, match", [
    (([-1.0, 1.0], 1), "element < 0"),
    (([float("inf"), 1.0], 1), "inf"),
    (([float("nan"), 1.0], 1), "nan"),
    (([0.0, 0.0], 1), "sum of probabilities"),
    (([[1.0, 1.0], [0.0, 0.0]], 1), "sum of probabilities"),
    (([1.0, 1.0], 3), "without replacement"),
    (([1.0, 1.0], 0), "n_sample <= 0"),
    (([[[1.0, 1.0]]], 1), "1 or 2 dim"),
    ((1.0, 1), "1 or 2 dim"),
])
def test_multinomial_errors_as_torch(args, match):
    weights, n = args
    with pytest.raises(RuntimeError, match=match):
        ffnn.multinomial(ffnn.tensor(weights), n)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), n)


def test_multinomial_rejects_integer_weights_as_torch():
    with pytest.raises(RuntimeError, match="floating"):
        ffnn.multinomial(ffnn.tensor([1, 2]), 1)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor([1, 2]), 1)


# ----- bernoulli and poisson ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [ffnn.float32, ffnn.float64])
def test_bernoulli_keeps_the_dtype_and_follows_the_probabilities(dtype):
    ffnn.manual_seed(5)
    probs = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    samples = ffnn.bernoulli(ffnn.tensor(np.tile(probs, (N, 1)), dtype=dtype))
    assert samples.dtype == dtype and samples.shape == (N, 5)
    values = samples.numpy()
    assert set(np.unique(values).tolist()) <= {0.0, 1.0}
    assert values[:, 0].max() == 0 and values[:, 4].min() == 1
    _within(values, probs, probs * (1 - probs) + 1e-12, "bernoulli")
    method = ffnn.tensor(probs, dtype=dtype).bernoulli()
    assert method.dtype == dtype and method.shape == (5,)


def test_bernoulli_with_p_and_integer_input():
    ffnn.manual_seed(6)
    samples = ffnn.bernoulli(ffnn.zeros(N, dtype=ffnn.float64), 0.3)
    assert samples.dtype == np.float64
    _within(samples.numpy(), 0.3, 0.21, "bernoulli(p=0.3)")
    ints = ffnn.bernoulli(ffnn.tensor([0, 1, 2]), 0.5)
    assert ints.dtype == np.int64 == torch.bernoulli(torch.tensor([0, 1, 2]), 0.5).numpy().dtype
    assert ffnn.ones(3).bernoulli(p=1.0).numpy().tolist() == [1.0, 1.0, 1.0]


def test_bernoulli_reproducible_with_a_generator():
    probs = ffnn.rand(50)
    a = ffnn.bernoulli(probs, generator=ffnn.Generator(3)).numpy()
    b = probs.bernoulli(generator=ffnn.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.bernoulli(lib.tensor([0.5, 1.5])), RuntimeError),
    (lambda lib: lib.bernoulli(lib.tensor([0.5, -0.5])), RuntimeError),
    (lambda lib: lib.bernoulli(lib.tensor([float("nan")])), RuntimeError),
    (lambda lib: lib.bernoulli(lib.tensor([0.5]), p=1.3), RuntimeError),
    (lambda lib: lib.bernoulli(lib.tensor([0, 1])), NotImplementedError),
    (lambda lib: lib.poisson(lib.tensor([1.0, -1.0])), RuntimeError),
    (lambda lib: lib.poisson(lib.tensor([float("nan")])), RuntimeError),
    (lambda lib: lib.poisson(lib.tensor([1, 2])), NotImplementedError),
    (lambda lib: lib.zeros(3).exponential_(0), RuntimeError),
    (lambda lib: lib.zeros(3).exponential_(-1), RuntimeError),
    (lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(), RuntimeError),
    (lambda lib: lib.zeros(3).geometric_(0), RuntimeError),
    (lambda lib: lib.zeros(3).geometric_(1), RuntimeError),
    (lambda lib: lib.zeros(3).cauchy_(0, 0), RuntimeError),
    (lambda lib: lib.zeros(3).log_normal_(0, -1), RuntimeError),
    (lambda lib: lib.zeros(3, requires_grad=True).exponential_(), RuntimeError),
])
def test_errors_as_torch(call, error):
    with pytest.raises(error) as ours:
        call(ffnn)
    with pytest.raises(error):
        call(torch)
    assert str(ours.value)  # a message that says what went wrong


def test_error_messages_name_the_problem():
    with pytest.raises(RuntimeError, match=r"p to be in \[0, 1\], but got p=1.3"):
        ffnn.bernoulli(ffnn.zeros(2), 1.3)
    with pytest.raises(RuntimeError, match="lambda > 0.0, but found lambda=-1"):
        ffnn.zeros(2).exponential_(-1)
    with pytest.raises(RuntimeError, match=r"p to be in \(0, 1\), but got p=1.5"):
        ffnn.zeros(2).geometric_(1.5)
    with pytest.raises(RuntimeError, match="sigma > 0.0, but found sigma=0"):
        ffnn.zeros(2).cauchy_(0, 0)
    with pytest.raises(RuntimeError, match="std > 0.0, but found std=0"):
        ffnn.zeros(2).log_normal_(0, 0)
    with pytest.raises(RuntimeError, match="non-negative"):
        ffnn.poisson(ffnn.tensor([-1.0]))
    with pytest.raises(RuntimeError, match="finite"):
        ffnn.poisson(ffnn.tensor([float("inf")]))


@pytest.mark.parametrize("dtype", [ffnn.float32, ffnn.float64])
def test_poisson_keeps_the_dtype_and_has_mean_rate(dtype):
    ffnn.manual_seed(7)
    rates = np.array([0.0, 0.5, 3.0, 40.0])
    counts = ffnn.poisson(ffnn.tensor(np.tile(rates, (N, 1)), dtype=dtype))
    assert counts.dtype == dtype and counts.shape == (N, 4)
    values = counts.numpy()
    assert np.all(values == np.round(values)) and values[:, 0].max() == 0
    _within(values, rates, rates + 1e-12, "poisson")
    a = ffnn.poisson(ffnn.tensor(rates), generator=ffnn.Generator(1)).numpy()
    np.testing.assert_array_equal(a, ffnn.poisson(ffnn.tensor(rates),
                                                  ffnn.Generator(1)).numpy())


# ----- in-place fills -----------------------------------------------------------------------
def test_exponential_fill():
    ffnn.manual_seed(8)
    x = ffnn.zeros(N, dtype=ffnn.float64)
    assert x.exponential_(2.0) is x
    values = x.numpy()
    assert values.min() >= 0
    _within(values, 0.5, 0.25, "exponential mean 1/λ")
    assert ffnn.zeros(3).exponential_().dtype == np.float32


def test_geometric_fill():
    ffnn.manual_seed(9)
    p = 0.25
    x = ffnn.zeros(N, dtype=ffnn.int64).geometric_(p)
    assert x.dtype == np.int64 and x.numpy().min() >= 1
    _within(x.numpy(), 1 / p, (1 - p) / p**2, "geometric mean 1/p")
    _within(x.numpy() == 1, p, p * (1 - p), "P(first trial succeeds)")
    floats = ffnn.zeros(N).geometric_(0.5).numpy()
    assert floats.dtype == np.float32 and np.all(floats == np.round(floats))


def test_cauchy_fill():
    ffnn.manual_seed(10)
    median, sigma = 2.0, 0.5
    values = ffnn.zeros(N, dtype=ffnn.float64).cauchy_(median, sigma).numpy()
    _within(values < median, 0.5, 0.25, "half below the median")
    inside = np.abs(values - median) < sigma  # the quartiles are median ± σ
    _within(inside, 0.5, 0.25, "half within the quartiles")


def test_log_normal_fill():
    ffnn.manual_seed(11)
    mean, std = 0.5, 0.8
    values = ffnn.zeros(N, dtype=ffnn.float64).log_normal_(mean, std).numpy()
    assert values.min() > 0
    _within(np.log(values), mean, std**2, "mean of the log")
    _within((np.log(values) - mean) ** 2, std**2, 2 * std**4, "variance of the log")


@pytest.mark.parametrize("fill", [lambda x, g: x.exponential_(generator=g),
                                  lambda x, g: x.geometric_(0.3, generator=g),
                                  lambda x, g: x.cauchy_(generator=g),
                                  lambda x, g: x.log_normal_(generator=g)])
def test_fills_are_reproducible(fill):
    a = fill(ffnn.zeros(10), ffnn.Generator(4)).numpy()
    b = fill(ffnn.zeros(10), ffnn.Generator(4)).numpy()
    np.testing.assert_array_equal(a, b)
    ffnn.manual_seed(2)
    c = fill(ffnn.zeros(10), None).numpy()
    ffnn.manual_seed(2)
    np.testing.assert_array_equal(c, fill(ffnn.zeros(10), None).numpy())


def test_existing_random_methods_are_kept():
    for name in ("bernoulli_", "random_", "normal_", "uniform_"):
        assert hasattr(ffnn.Tensor, name)
    assert set(ffnn.zeros(1000).random_(0, 3).numpy().tolist()) == {0.0, 1.0, 2.0}
