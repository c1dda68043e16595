"""EmbeddingBag and F.embedding_bag against torch (float64): every mode, bags as rows or
cut at offsets (empty bags, include_last_offset), padding_idx, per-sample weights; the
output, the weight's gradient and the per-sample weights'; torch's errors and printout."""

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn

BAGS = {
    "rows": (np.array([[1, 2, 4, 5], [4, 3, 2, 9], [0, 0, 7, 1]]), None, False),
    "offsets": (np.array([1, 2, 4, 5, 4, 3, 2, 9, 6]), np.array([0, 4, 4, 7]), False),
    "last offset": (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3, 8]), True),
    "last offset short": (np.array([1, 2, 4, 5, 4]), np.array([0, 2, 3]), True),  # torch's
}


def _run(lib, bags, mode, padding_idx, weighted, weight, upstream_seed=1):
    indices, offsets, last = BAGS[bags]
    layer = lib.nn.EmbeddingBag.from_pretrained(lib.tensor(weight), freeze=False, mode=mode,
                                                include_last_offset=last,
                                                padding_idx=padding_idx)
    samples = None
    if weighted:
        samples = lib.tensor(np.linspace(0.5, 2.0, indices.size).reshape(indices.shape),
                             requires_grad=True)
    out = layer(lib.tensor(indices), None if offsets is None else lib.tensor(offsets),
                per_sample_weights=samples)
    upstream = np.random.default_rng(upstream_seed).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(upstream))
    return (out.detach().numpy(), layer.weight.grad.numpy(),
            None if samples is None else samples.grad.numpy())


@pytest.mark.parametrize("bags", list(BAGS))
@pytest.mark.parametrize("mode, weighted", [("sum", False), ("sum", True), ("mean", False),
                                            ("max", False)])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_matches_torch(bags, mode, weighted, padding_idx, rng):
    weight = rng.standard_normal((10, 3))
    ours = _run(ffnn, bags, mode, padding_idx, weighted, weight)
    theirs = _run(torch, bags, mode, padding_idx, weighted, weight)
    for mine, expected in zip(ours, theirs):
        if expected is None:
            assert mine is None
        else:
            np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-14)


def test_the_text_classification_tutorials_model_trains(rng):
    """torch's AG_NEWS tutorial: EmbeddingBag (mean) then a Linear, SGD on bags by offsets."""
    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)

        def forward(self, text, offsets):
            return self.fc(self.embedding(text, offsets))

    ffnn.manual_seed(0)
    model = TextClassificationModel(50, 8, 2)
    optimizer = ffnn.optim.SGD(model.parameters(), lr=5.0)
    lengths = rng.integers(1, 6, 64)
    labels = rng.integers(0, 2, 64)
    text = np.concatenate([rng.integers(0, 25, n) + 25 * y for n, y in zip(lengths, labels)])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(ffnn.tensor(text), ffnn.tensor(offsets)),
                                           ffnn.tensor(labels))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]


def test_errors_and_printout_as_torchs():
    bag = nn.EmbeddingBag(10, 3)
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        bag(ffnn.tensor([1, 2]), ffnn.tensor([1]))
    with pytest.raises(ValueError, match="only supported for mode='sum'"):
        bag(ffnn.tensor([1, 2]), ffnn.tensor([0]), per_sample_weights=ffnn.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(ffnn.tensor([[1, 2]]), ffnn.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor"):
        bag(ffnn.tensor([1, 2]))
    with pytest.raises(IndexError, match="index 12 is out of range"):
        bag(ffnn.tensor([1, 12]), ffnn.tensor([0]))
    with pytest.raises(TypeError, match="must be integers"):
        bag(ffnn.tensor([1.0, 2.0]), ffnn.tensor([0]))
    with pytest.raises(NotImplementedError, match="max_norm"):
        nn.EmbeddingBag(10, 3, max_norm=1.0)(ffnn.tensor([[1]]))
    for args, kwargs in (((10, 3), {}), ((10, 3), {"mode": "sum", "padding_idx": 2}),
                         ((10, 3), {"mode": "max"})):
        assert repr(nn.EmbeddingBag(*args, **kwargs)) == \
            repr(torch.nn.EmbeddingBag(*args, **kwargs))
    assert np.all(nn.EmbeddingBag(10, 3, padding_idx=2).weight.numpy()[2] == 0)


def test_saves_and_rebuilds(tmp_path):
    model = nn.Sequential(nn.EmbeddingBag(20, 4, mode="sum", padding_idx=0))
    ffnn.save(tmp_path / "bag.safetensors", model)
    loaded = ffnn.load(tmp_path / "bag.safetensors").model
    bags = ffnn.tensor([[0, 3, 5], [7, 7, 0]])
    np.testing.assert_array_equal(loaded(bags).numpy(), model(bags).numpy())
    assert loaded[0].mode == "sum" and loaded[0].padding_idx == 0
