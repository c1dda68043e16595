"""`ffnn explain`: the worked example's numbers checked against torch autograd."""

import numpy as np
import pytest

from ffnn import explain

torch = pytest.importorskip("torch")


def _torch_step(config: explain.ExplainConfig):
    t = {k: torch.tensor(getattr(config, k), dtype=torch.float64, requires_grad=True)
         for k in ("W1", "b1", "W2", "b2")}
    x = torch.tensor(config.x, dtype=torch.float64)
    y = torch.tensor(config.y, dtype=torch.float64)
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
           "gelu": torch.nn.functional.gelu, "silu": torch.nn.functional.silu,
           "identity": lambda z: z}[config.activation]
    z1 = t["W1"] @ x + t["b1"]
    z1.retain_grad()
    a1 = act(z1)
    a1.retain_grad()
    z2 = t["W2"] @ a1 + t["b2"]
    z2.retain_grad()
    scale = 0.5 if config.loss == "half_mse" else 1.0
    loss = scale * ((y - z2) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        new = {k: v - config.lr * v.grad for k, v in t.items()}
        z1n = new["W1"] @ x + new["b1"]
        after = scale * ((y - (new["W2"] @ act(z1n) + new["b2"])) ** 2).sum()
    grads = {"∂L/∂ŷ": z2.grad, "∂L/∂a1": a1.grad, "∂L/∂z1": z1.grad,
             **{f"∂L/∂{k}": v.grad for k, v in t.items()}}
    values = {"z1": z1, "a1": a1, "z2": z2, "L": loss}
    return values, grads, new, after.item()


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu", "silu", "identity"])
@pytest.mark.parametrize("loss", ["half_mse", "mse"])
def test_every_number_matches_torch_autograd(activation, loss):
    config = explain.ExplainConfig(activation=activation, loss=loss)
    e = explain.compute(config)
    values, grads, new, after = _torch_step(config)
    for name, expected in values.items():
        np.testing.assert_allclose(e.values[name], expected.detach().numpy(), rtol=1e-12)
    for name, expected in grads.items():
        _, backward, finite = e.gradients[name]
        np.testing.assert_allclose(backward, expected.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(finite, expected.numpy(), rtol=1e-6, atol=1e-8)
    for name, expected in new.items():
        np.testing.assert_allclose(e.updated[name], expected.numpy(), rtol=1e-12)
    assert e.loss_after == pytest.approx(after, rel=1e-12)


def test_default_example_values():
    """The tutorial's numbers, worked by hand: z1 = W1x + b1 = [1.0, 1.7, 2.4], ŷ = 4.92,
    L = ½(3 - 4.92)² = 1.8432, ∂L/∂ŷ = 1.92."""
    e = explain.compute()
    np.testing.assert_allclose(e.values["z1"], [1.0, 1.7, 2.4], rtol=1e-12)
    assert e.values["z2"].item() == pytest.approx(4.92, rel=1e-12)
    assert e.values["L"].item() == pytest.approx(1.8432, rel=1e-12)
    np.testing.assert_allclose(e.gradients["∂L/∂W2"][1], [[1.92, 3.264, 4.608]], rtol=1e-12)
    assert e.loss_after < e.values["L"].item()


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json"])
def test_render_formats_show_the_numbers(fmt):
    text = explain.render(explain.compute(), fmt, graph=fmt != "json")
    assert "1.8432" in text and "1.92" in text and "4.92" in text
    if fmt == "markdown":
        assert "| ∂L/∂W1 |" in text and "```mermaid" in text
    if fmt == "latex":
        assert r"\begin{align*}" in text and r"\frac{\partial L}{\partial W1}" in text


def test_graph_is_the_recorded_graph():
    graph = explain.compute().graph
    assert graph.startswith("flowchart LR")
    for node in ('(["W1"])', '(["x"])', '["ReLU → a1"]', '["Add → z1"]', "MatMul"):
        assert node in graph
    assert graph.count("-->") >= 15  # every edge of the 2-3-1 step, including y - ŷ used twice


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"activation": "softplus"}, "unknown activation"),
        ({"loss": "hinge"}, "unknown loss"),
        ({"lr": -1.0}, "lr must be a positive number"),
        ({"W1": [[0.1, 0.2]]}, "b1 has 3 values but W1 has shape (1, 2)"),
        ({"x": [1.0, float("nan")]}, "x must be finite"),
    ],
)
def test_bad_config_is_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        explain.compute(explain.ExplainConfig(**kwargs))


def test_toml_config(tmp_path):
    path = tmp_path / "step.toml"
    path.write_text('activation = "tanh"\nlr = 0.5\nx = [0.5, -1.0]\n')
    config = explain.load_config(str(path))
    assert (config.activation, config.lr, config.x) == ("tanh", 0.5, [0.5, -1.0])
    path.write_text("learning_rate = 0.5\n")
    with pytest.raises(ValueError, match="unknown key 'learning_rate'"):
        explain.load_config(str(path))


def test_finite_difference_agreement_is_shown_as_a_bound_that_no_cpu_changes():
    """Round-off of the finite differences differs by CPU and BLAS (7.60e-10 here, 5.98e-10 on
    an AMD EPYC): the text shows the same bound for both, and a real mismatch as wrong."""
    assert explain._agreement(7.60e-10) == explain._agreement(5.98e-10)
    assert "< 1e-6" in explain._agreement(5.98e-10)
    assert "wrong" in explain._agreement(2e-3) and "2.00e-03" in explain._agreement(2e-3)


def test_a_wrong_backward_is_reported(monkeypatch):
    result = explain.compute()
    formula, grad, fd = result.gradients["∂L/∂b2"]
    result.gradients["∂L/∂b2"] = (formula, grad + 0.01, fd)
    text = explain.render(result)
    assert "a gradient is wrong" in text and "< 1e-6" not in text
