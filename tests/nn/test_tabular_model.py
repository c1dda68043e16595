"""TabularModel: forward and gradients equal a PyTorch model with the same weights; the
checkpoint round trip; the ONNX graph (Gather per embedding) equals the model in
onnxruntime; its input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.data import TabularPreprocessor


def _inputs(rng, n=7):
    cont = rng.standard_normal((n, 3))
    cats = np.stack([rng.integers(0, 5, n), rng.integers(0, 9, n)], axis=1)
    cats[:3, 0] = 4  # a repeated index: its gradient rows add up
    return cont, cats


def _torch_twin(model: nn.TabularModel):
    tables = [torch.nn.Embedding(c, d).double() for c, d in
              zip(model.cardinalities, model.embedding_dims)]
    linears = [m for m in model.mlp.modules() if isinstance(m, nn.Linear)]
    layers = []
    for i, lin in enumerate(linears):
        t = torch.nn.Linear(lin.in_features, lin.out_features).double()
        t.weight.data = torch.from_numpy(np.array(lin.weight.numpy(), np.float64))
        t.bias.data = torch.from_numpy(np.array(lin.bias.numpy(), np.float64))
        layers += [t] + ([torch.nn.ReLU()] if i < len(linears) - 1 else [])
    for table, ours in zip(tables, model.embeddings):
        table.weight.data = torch.from_numpy(np.array(ours.weight.numpy(), np.float64))
    return tables, torch.nn.Sequential(*layers)


def test_forward_and_backward_match_torch():
    rng = np.random.default_rng(0)
    model = nn.TabularModel(3, [5, 9], [2, 4], hidden_sizes=(6,), out_features=2,
                            dtype="float64")
    for table in model.embeddings:  # reserved rows start at zero; give them values too
        table.weight.numpy()[...] = rng.standard_normal(table.weight.shape)
    cont, cats = _inputs(rng)
    x = np.concatenate([cont, cats], axis=1)
    out = model(ffnn.tensor(x))
    (out * ffnn.tensor(np.arange(14.0).reshape(7, 2))).sum().backward()

    tables, mlp = _torch_twin(model)
    h = torch.cat([torch.from_numpy(cont)] + [t(torch.from_numpy(cats[:, j]))
                                              for j, t in enumerate(tables)], dim=1)
    expected = mlp(h)
    (expected * torch.arange(14.0, dtype=torch.float64).reshape(7, 2)).sum().backward()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(model.embeddings, tables):
        np.testing.assert_allclose(np.asarray(ours.weight.grad), theirs.weight.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
    first = [m for m in model.mlp.modules() if isinstance(m, nn.Linear)][0]
    np.testing.assert_allclose(np.asarray(first.weight.grad), mlp[0].weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    # the two-argument form gives the same outputs
    again = model(ffnn.tensor(cont), cats)
    np.testing.assert_array_equal(again.numpy(), out.numpy())


def test_reserved_rows_start_at_zero_and_unseen_adds_nothing():
    model = nn.TabularModel(0, [6], [3], hidden_sizes=(), out_features=1)
    np.testing.assert_array_equal(model.embeddings[0].weight.numpy()[:2], 0)
    bias = model.mlp[0].bias.numpy()
    with ffnn.no_grad():
        out = model(ffnn.tensor(np.array([[0.0], [1.0]], np.float32)))
    np.testing.assert_allclose(out.numpy(), [bias, bias], rtol=1e-6)


def test_checkpoint_round_trip(tmp_path):
    model = nn.TabularModel(2, [4, 30], [3, 8], hidden_sizes=(5,), out_features=3)
    x = np.array([[0.5, -1.0, 2, 17], [1.0, 0.0, 3, 29]], np.float32)
    path = tmp_path / "m.safetensors"
    ffnn.save(path, model)
    loaded = ffnn.load(path).model
    assert isinstance(loaded, nn.TabularModel) and loaded.cardinalities == [4, 30]
    with ffnn.no_grad():
        np.testing.assert_array_equal(loaded(ffnn.tensor(x)).numpy(),
                                      model(ffnn.tensor(x)).numpy())


def test_onnx_gather_export_matches_onnxruntime(tmp_path):
    import onnxruntime as ort

    from ffnn.interop.onnx import export, input_shape

    rng = np.random.default_rng(1)
    table = {"size": rng.standard_normal(60), "city": np.array(
        [f"c{i % 20}" for i in range(60)], dtype=object),
        "color": np.array(["r", "g", None] * 20, dtype=object)}
    pre = TabularPreprocessor(onehot_max=4).fit(table)
    model = nn.TabularModel.from_preprocessor(pre, hidden_sizes=(8,), out_features=2)
    model.eval()
    X = pre.transform(table)
    assert input_shape(model) == (X.shape[1],)
    path = export(model, tmp_path / "t.onnx", X[:1])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": X})[0]
    with ffnn.no_grad():
        np.testing.assert_allclose(got, model(ffnn.tensor(X)).numpy(), rtol=1e-5, atol=1e-6)
    import onnx

    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"Gather", "Slice", "Cast", "Concat"} <= ops


def test_input_errors():
    model = nn.TabularModel(2, [4], [3])
    with pytest.raises(ValueError, match=r"expects input \[n, 3\] \(2 continuous \+ 1 category"):
        model(ffnn.tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(ValueError, match="whole numbers"):
        model(ffnn.tensor(np.array([[0, 0, 1.5]], np.float32)))
    with pytest.raises(IndexError, match="out of range for num_embeddings=4"):
        model(ffnn.tensor(np.array([[0, 0, 4.0]], np.float32)))
    with pytest.raises(ValueError, match="one embedding dim per categorical column"):
        nn.TabularModel(2, [4, 5], [3])
