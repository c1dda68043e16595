"""The same seed gives torch's random numbers: ``torch.manual_seed`` then ``rand``, ``randint``,
``randperm``, ``uniform_``, a Linear layer's default initialisation, a DataLoader's shuffled
order and ``random_split`` give torch's values bit for bit; normal draws to within float32
round-off of the transcendental functions (torch's own AVX2 and AVX-512 builds differ
there), with the stream after them where torch's is."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

SEEDS = [0, 42, 2**40 + 7]


def _both(seed, draw):
    """draw(library) after manual_seed(seed) in each library, as NumPy arrays."""
    out = []
    for lib in (torch, ffnn):
        lib.manual_seed(seed)
        out.append([np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in draw(lib)])
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_and_integer_draws_are_torchs_bit_for_bit(seed):
    def draw(lib):
        return [lib.rand(1000), lib.rand(7, 3, dtype=lib.float64), lib.randint(-5, 17, (300,)),
                lib.randint(0, 2**40, (20,)), lib.randint(9, (4,)), lib.randperm(500),
                lib.randperm(100),
                lib.empty(600).uniform_(-0.3, 0.3), lib.empty(50).uniform_(2, 5),
                lib.empty(9, dtype=lib.float64).uniform_(-1, 3),
                lib.empty(5, dtype=lib.int64).random_(0, 10),
                lib.empty(3, dtype=lib.int64).random_(), lib.empty(4).random_(),
                lib.rand(4)]

    theirs, ours = _both(seed, draw)
    for i, (t, o) in enumerate(zip(theirs, ours)):
        assert o.dtype == t.dtype and o.shape == t.shape, i
        np.testing.assert_array_equal(o, t, err_msg=f"draw {i}")


@pytest.mark.parametrize("seed", SEEDS)
def test_normal_draws_are_torchs_and_the_stream_goes_on_alike(seed):
    def draw(lib):
        return [lib.randn(1000), lib.randn(1001), lib.randn(5), lib.randn(3),
                lib.randn(40, dtype=lib.float64), lib.randn(2, dtype=lib.float64),
                lib.empty(64).normal_(1.0, 2.0), lib.normal(0.5, 3.0, size=(20,)),
                lib.normal(2 * lib.ones(20, 2), 1), lib.normal(0.5, lib.full((17,), 2.0)),
                lib.normal(lib.ones(3), lib.full((3,), 0.5)), lib.rand(8)]

    theirs, ours = _both(seed, draw)
    for i, (t, o) in enumerate(zip(theirs, ours)):
        assert o.dtype == t.dtype and o.shape == t.shape, i
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-5, err_msg=f"draw {i}")
    np.testing.assert_array_equal(ours[-1], theirs[-1])  # the same place in the stream


def test_default_initialisation_is_torchs():
    def draw(lib):
        model = lib.nn.Sequential(lib.nn.Linear(7, 5), lib.nn.ReLU(), lib.nn.Linear(5, 3))
        w = lib.empty(4, 6)
        return [p.detach() for p in model.parameters()] + [
            lib.nn.init.xavier_uniform_(w).clone(), lib.nn.init.kaiming_uniform_(w).clone()]

    theirs, ours = _both(3, draw)
    for t, o in zip(theirs, ours):
        np.testing.assert_array_equal(o, t)


@pytest.mark.parametrize("bounds", [(-2.0, 2.0), (1.5, 3.0)])
def test_trunc_normal_draws_as_torchs(bounds):
    def draw(lib):
        return [lib.nn.init.trunc_normal_(lib.empty(300), std=1.0, a=bounds[0], b=bounds[1]),
                lib.rand(5)]

    (t, t_next), (o, o_next) = _both(11, draw)
    assert o.min() >= bounds[0] and o.max() <= bounds[1]
    np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(o_next, t_next)


def _epochs(lib, generator=None, shuffle=True):
    data = lib.utils.data.TensorDataset(lib.arange(10))
    loader = lib.utils.data.DataLoader(data, batch_size=4, shuffle=shuffle, generator=generator)
    return [np.concatenate([b[0].numpy() for b in loader]) for _ in range(3)]


@pytest.mark.parametrize("case", ["global", "generator", "in order"])
def test_data_loader_order_and_its_draws_are_torchs(case):
    def draw(lib):
        generator = lib.Generator().manual_seed(5) if case == "generator" else None
        orders = _epochs(lib, generator, shuffle=case != "in order")
        return orders + [lib.rand(3)]  # the global stream after the epochs

    theirs, ours = _both(7, draw)
    for t, o in zip(theirs, ours):
        np.testing.assert_array_equal(o, t)


def test_samplers_and_random_split_are_torchs():
    def draw(lib):
        data = lib.utils.data.TensorDataset(lib.arange(12))
        first, second = lib.utils.data.random_split(data, [8, 4])
        sampler = lib.utils.data.RandomSampler(data)
        with_replacement = lib.utils.data.RandomSampler(data, replacement=True, num_samples=30)
        subset = lib.utils.data.SubsetRandomSampler([3, 5, 7, 9])
        weights = [0.1, 0.9, 0.4, 0.7, 0.0, 2.5]
        weighted = lib.utils.data.WeightedRandomSampler(weights, 40)
        unique = lib.utils.data.WeightedRandomSampler(weights, 4, replacement=False,
                                                      generator=lib.Generator().manual_seed(3))
        return [np.array(first.indices), np.array(second.indices), np.array(list(sampler)),
                np.array(list(with_replacement)), np.array(list(subset)),
                np.array(list(weighted)), np.array(list(unique)), lib.rand(2)]

    theirs, ours = _both(9, draw)
    for t, o in zip(theirs, ours):
        np.testing.assert_array_equal(o, t)


def test_more_samples_than_the_dataset_without_replacement_are_torchs():
    """RandomSampler(num_samples > len) without replacement: whole permutations one after
    another, the last cut short (torch's; ffnn refused it); its errors are torch's."""
    def draw(lib):
        data = list(range(6))
        samplers = [lib.utils.data.RandomSampler(data, num_samples=n) for n in (8, 12, 5)]
        seeded = lib.utils.data.RandomSampler(data, num_samples=14,
                                              generator=lib.Generator().manual_seed(2))
        return [np.array(list(s)) for s in samplers + [seeded]] + [
            np.array([s.num_samples for s in samplers]), lib.rand(2)]

    theirs, ours = _both(4, draw)
    for t, o in zip(theirs, ours):
        np.testing.assert_array_equal(o, t)
    for lib in (torch, ffnn):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value, "
                                             "but got num_samples=0"):
            lib.utils.data.DataLoader([], shuffle=True)
        with pytest.raises(TypeError, match="replacement should be a boolean value"):
            lib.utils.data.RandomSampler(range(3), replacement=1)


def test_a_saved_state_brings_back_the_pending_normal():
    generator = ffnn.Generator(4)
    ffnn.randn(1, generator=generator)  # draws a pair, keeps the second
    state = generator.get_state()
    expected = ffnn.randn(3, generator=generator)
    generator.set_state(state)
    np.testing.assert_array_equal(ffnn.randn(3, generator=generator), expected)


def test_a_pcg64_state_of_an_older_checkpoint_still_draws():
    state = {"seed": 1, "bit_generator": np.random.PCG64(1).state}
    generator = ffnn.Generator(0)
    generator.set_state(state)
    expected = np.random.Generator(np.random.PCG64(1)).permutation(6)
    np.testing.assert_array_equal(ffnn.randperm(6, generator=generator).numpy(), expected)
    generator.manual_seed(2)
    torch_generator = torch.Generator().manual_seed(2)
    np.testing.assert_array_equal(ffnn.randperm(6, generator=generator).numpy(),
                                  torch.randperm(6, generator=torch_generator).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multinomial_and_exponential_draws_are_torchs(dtype):
    weights = np.array([[0.1, 0.5, 0.4, 0.0], [1.0, 2.0, 3.0, 4.0]])

    def draw(lib):
        p = lib.tensor(weights, dtype=getattr(lib, dtype))
        return [lib.multinomial(p, 12, replacement=True), lib.multinomial(p[0], 5, True),
                lib.multinomial(p, 1), lib.multinomial(p, 3), p[1].multinomial(2),
                lib.empty(20, dtype=getattr(lib, dtype)).exponential_(2.0), lib.rand(3)]

    theirs, ours = _both(13, draw)
    for i, (t, o) in enumerate(zip(theirs, ours)):
        assert o.dtype == t.dtype, i
        np.testing.assert_array_equal(o, t, err_msg=f"draw {i}")


@pytest.mark.parametrize("seed", SEEDS)
def test_one_sample_with_replacement_is_torchs_exponential_race(seed):
    """torch draws one sample a row, with replacement or not, by argmax(w / q), q ~ Exp(1)
    (its fast path), not by the cumulative sums it uses for more samples: a policy's
    Categorical(probs).sample() is this draw."""
    weights = np.array([[0.3919, 0.3193, 0.2888], [0.05, 0.05, 0.9]], dtype=np.float32)

    def draw(lib):
        p = lib.tensor(weights)
        draws = [lib.multinomial(p, 1, True) for _ in range(40)]
        draws += [lib.multinomial(p[0], 1, replacement=True) for _ in range(40)]
        dist = lib.distributions.Categorical(probs=p)
        return draws + [dist.sample() for _ in range(40)] + [dist.sample((5,)), lib.rand(3)]

    theirs, ours = _both(seed, draw)
    for i, (t, o) in enumerate(zip(theirs, ours)):
        np.testing.assert_array_equal(o, t, err_msg=f"draw {i}")


@pytest.mark.parametrize("p", [0.15, 0.45, 0.5])
def test_bernoulli_channel_dropout_and_the_dropout_scale_are_torchs(p):
    """bernoulli and channel dropout draw torch's numbers; element-wise dropout draws its
    mask its own (quicker) way, but scales what it keeps by torch's 1/(1 - p), divided in
    float32 (p = 0.15: 1.1764705, not 1/0.85 rounded once)."""
    x = np.linspace(0.5, 1.5, 400, dtype=np.float32).reshape(4, 100)

    def draw(lib):
        return [lib.empty(50).bernoulli_(1 - p), lib.bernoulli(lib.full((30,), p)),
                lib.bernoulli(lib.full((9,), p, dtype=lib.float64)),
                lib.nn.functional.dropout1d(lib.tensor(x).reshape(2, 2, 100), p), lib.rand(3)]

    theirs, ours = _both(3, draw)
    for i, (t, o) in enumerate(zip(theirs, ours)):
        np.testing.assert_array_equal(o, t, err_msg=f"draw {i}")
    dropped = ffnn.nn.functional.dropout(ffnn.tensor(x), p).numpy()
    kept = dropped != 0
    scale = np.float32(1) / np.float32(1 - p)
    np.testing.assert_array_equal(dropped[kept], x[kept] * scale)


def test_a_state_naming_another_bit_generator_is_refused():
    generator = ffnn.Generator(0)
    with pytest.raises(ValueError, match="bit_generator must be one of"):
        generator.set_state({"seed": 1, "bit_generator": {"bit_generator": "seed", "state": {}}})


def _compare(theirs, ours, exact, rtol=1e-6):
    """Each draw's dtype, shape and values: bit for bit for the indices in ``exact``, else to
    ``rtol`` (float64 transcendental functions, an ulp apart between libm builds)."""
    for i, (t, o) in enumerate(zip(theirs, ours)):
        assert o.dtype == t.dtype and o.shape == t.shape, i
        if i in exact:
            np.testing.assert_array_equal(o, t, err_msg=f"draw {i}")
        else:
            np.testing.assert_allclose(o, t, rtol=rtol, atol=rtol, err_msg=f"draw {i}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distribution_samples_are_torchs(dtype):
    """torch.distributions draw through rand, normal_, exponential_, uniform_, bernoulli and
    multinomial: ffnn's give the same samples, and leave the stream where torch's does."""
    def draw(lib):
        D, kind = lib.distributions, getattr(lib, dtype)
        loc, scale = lib.tensor([0.5, -1.0, 2.0], dtype=kind), lib.tensor([1.0, 0.5, 3.0],
                                                                           dtype=kind)
        probs = lib.tensor([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype=kind)
        cov = lib.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=kind)
        return [D.Uniform(loc - 1, loc + scale).sample((7,)),
                D.Bernoulli(probs).sample((4,)), D.Categorical(probs).sample((9,)),
                D.OneHotCategorical(probs[0]).sample((5,)),
                D.Normal(loc, scale).sample((2,)), D.Normal(loc, scale).rsample((9,)),
                D.Normal(0.0, 1.0).sample((40,)), D.Exponential(scale).sample((6,)),
                D.Laplace(loc, scale).sample((5,)),
                D.MultivariateNormal(loc[:2], cov).sample((4,)),
                lib.nn.functional.gumbel_softmax(probs.log(), tau=0.5), lib.rand(3)]

    theirs, ours = _both(21, draw)
    _compare(theirs, ours, exact={0, 1, 2, 3, 11}, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_beta_and_poisson_samples_are_torchs(dtype):
    """Beta samples torch's Dirichlet of (α, β) (gamma rejection sampling, which draws normals
    and keeps the second of a pair), poisson its product and transformed-rejection samplers:
    the same numbers, and the stream and the kept normal after them as torch's."""
    def draw(lib):
        kind = getattr(lib, dtype)
        concentration = lib.tensor([0.3, 2.0, 7.5], dtype=kind)
        rates = lib.tensor([0.0, 0.4, 3.0, 9.9, 10.0, 55.0, 1e4], dtype=kind)
        return [lib.distributions.Beta(concentration, concentration.flip(0)).sample((30,)),
                lib.distributions.Beta(0.5, 0.5).sample((7,)),
                lib.poisson(rates.expand(20, 7)), lib.randn(1), lib.rand(3)]

    theirs, ours = _both(8, draw)
    _compare(theirs, ours, exact={2, 4}, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_geometric_cauchy_and_log_normal_fills_are_torchs(dtype):
    """geometric_ (integers too), cauchy_ and log_normal_ draw each element from float64
    uniforms (log_normal_ normals one after another, an odd count keeping the last one)."""
    def draw(lib):
        kind = getattr(lib, dtype)
        return [lib.empty(40, dtype=kind).geometric_(0.3),
                lib.empty(6, dtype=lib.int64).geometric_(0.05),
                lib.empty(30, dtype=kind).cauchy_(1.0, 2.0),
                lib.empty(33, dtype=kind).log_normal_(0.5, 0.25), lib.randn(3),
                lib.empty(4, dtype=kind).log_normal_(), lib.rand(3)]

    theirs, ours = _both(5, draw)
    _compare(theirs, ours, exact={0, 1, 6}, rtol=1e-6)


def test_in_place_fills_of_non_contiguous_tensors_are_torchs():
    """torch fills a tensor in the order its elements lie in memory (a transposed tensor
    gets its contiguous original's numbers, transposed) and draws a non-contiguous tensor's
    normals one after another, however many."""
    def draw(lib):
        p = lib.linspace(0.05, 0.95, 60).reshape(3, 20)
        return [lib.empty(5, 20).t().normal_(), lib.empty(3, 4).t().normal_(1.0, 2.0),
                lib.empty(4, 40)[:, ::2].normal_(), lib.empty(2, 3, 4).permute(2, 0, 1).uniform_(),
                lib.empty(20, 3).t().bernoulli_(p), lib.empty(6, 5).t().exponential_(),
                lib.empty(7, 3, dtype=lib.int64).t().random_(0, 100),
                lib.empty(1, 30).t().uniform_(-1, 1), lib.rand(3)]

    theirs, ours = _both(17, draw)
    _compare(theirs, ours, exact={3, 4, 5, 6, 7, 8}, rtol=1e-5)


def test_uniform_values_rounded_up_to_the_top_are_the_bottom_as_torchs():
    """float16 uniforms are float32 ones rounded to float16, and torch makes a value rounded
    up to the upper bound the lower one (float16's 1.0 of rand; a float32 range far from 0)."""
    def draw(lib):
        return [lib.rand(20000, dtype=lib.float16),
                lib.empty(3000, dtype=lib.float16).uniform_(-2, 3),
                lib.empty(2000).uniform_(1e6, 1e6 + 1), lib.rand(3)]

    theirs, ours = _both(0, draw)
    assert (theirs[0] == 0).sum() > 0 and (theirs[2] == 1e6).sum() > 0  # the case is met
    _compare(theirs, ours, exact={0, 1, 2, 3})


def test_a_pcg64_state_samples_the_new_fills_with_numpys_methods():
    """A generator at a PCG64 state (the Trainer's epochs, an older checkpoint) draws
    geometric_, cauchy_, log_normal_ and poisson with NumPy's methods: values of the
    right distribution (means within a few standard errors), not torch's."""
    generator = ffnn.Generator(0)
    generator.set_state({"seed": 1, "bit_generator": np.random.PCG64(1).state})
    n = 4000
    trials = ffnn.empty(n).geometric_(0.25, generator=generator).numpy()
    counts = ffnn.poisson(ffnn.full((n,), 12.0), generator=generator).numpy()
    logs = np.log(ffnn.empty(n).log_normal_(0.5, 0.25, generator=generator).numpy())
    median = np.median(ffnn.empty(n).cauchy_(2.0, 1.0, generator=generator).numpy())
    assert trials.min() >= 1 and abs(trials.mean() - 4) < 0.25
    assert abs(counts.mean() - 12) < 0.3 and abs(logs.mean() - 0.5) < 0.03
    assert abs(median - 2) < 0.15
