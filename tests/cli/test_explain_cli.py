"""``ffnn explain``: the numbers the command prints equal torch autograd's (float64)."""

from __future__ import annotations

import json

import numpy as np
import torch

from ffnn import explain

from .conftest import run_ffnn


def torch_step(x, y, W1, b1, W2, b2, activation: str, loss: str, lr: float) -> dict:
    """The same 2-3-1 step with torch autograd: values, gradients, update, loss after."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}
    x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    scale = 0.5 if loss == "half_mse" else 1.0

    def forward(p):
        z1 = p["W1"] @ x + p["b1"]
        a1 = act(z1)
        z2 = p["W2"] @ a1 + p["b2"]
        return z1, a1, z2, scale * ((y - z2) ** 2).sum()

    z1, a1, z2, L = forward(t)
    for v in (z1, a1, z2):
        v.retain_grad()
    L.backward()
    with torch.no_grad():
        updated = {k: p - lr * p.grad for k, p in t.items()}
        after = forward(updated)[3]
    return {"z1": z1, "a1": a1, "z2": z2, "L": L, "after": after, "grads": {
        "∂L/∂ŷ": z2.grad, "∂L/∂W2": t["W2"].grad, "∂L/∂b2": t["b2"].grad, "∂L/∂a1": a1.grad,
        "∂L/∂z1": z1.grad, "∂L/∂W1": t["W1"].grad, "∂L/∂b1": t["b1"].grad}, "updated": updated}


def check_against_torch(payload: dict, ref: dict) -> None:
    values = payload["values"]
    for name in ("z1", "a1", "z2", "L"):
        np.testing.assert_allclose(values[name], ref[name].detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    for name, grad in ref["grads"].items():
        got = payload["gradients"][name]
        np.testing.assert_allclose(got["backward"], grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got["finite_differences"], grad.numpy(), rtol=1e-6,
                                   atol=1e-8)
    for name, value in ref["updated"].items():
        np.testing.assert_allclose(payload["updated"][name], value.numpy(), rtol=1e-10)
    np.testing.assert_allclose(payload["loss_after"], ref["after"].item(), rtol=1e-10)


def test_default_example_matches_torch():
    result = run_ffnn("explain", "--format", "json")
    assert result.returncode == 0, result.stderr
    ref = torch_step([1.0, 2.0], [3.0], [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [0.5, 0.6, 0.7],
                     [[0.7, 0.8, 0.9]], [0.7], "relu", "half_mse", 0.1)
    check_against_torch(json.loads(result.stdout), ref)


def test_flags_change_the_example_and_text_shows_the_numbers():
    args = ["--x", "0.5,-1", "--y", "0.25", "--w1", "0.2,-0.4;0.7,0.1;-0.3,0.9",
            "--b1", "0.1,-0.2,0.05", "--w2", "0.6,-0.5,0.3", "--b2", "-0.1",
            "--activation", "sigmoid", "--loss", "mse", "--lr", "0.5"]
    ref = torch_step([0.5, -1.0], [0.25], [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.9]],
                     [0.1, -0.2, 0.05], [[0.6, -0.5, 0.3]], [-0.1], "sigmoid", "mse", 0.5)
    result = run_ffnn("explain", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    check_against_torch(json.loads(result.stdout), ref)

    text = run_ffnn("explain", *args).stdout
    assert f"before the step: {ref['L'].item():.6g}" in text
    assert f"after the step:  {ref['after'].item():.6g}" in text
    line = next(row for row in text.splitlines() if row.strip().startswith("∂L/∂b2"))
    assert line.endswith(f"= {ref['grads']['∂L/∂b2'].item():.6g}")  # a 1-element gradient
    assert "finite differences" in text


def test_config_file_formats_and_graph(tmp_path):
    config = tmp_path / "step.toml"
    config.write_text('x = [1.0, -2.0]\nactivation = "tanh"\nlr = 0.05\n')
    ref = torch_step([1.0, -2.0], [3.0], [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [0.5, 0.6, 0.7],
                     [[0.7, 0.8, 0.9]], [0.7], "tanh", "half_mse", 0.05)
    result = run_ffnn("explain", "--config", config, "--format", "json")
    assert result.returncode == 0, result.stderr
    check_against_torch(json.loads(result.stdout), ref)

    markdown = run_ffnn("explain", "--config", config, "--format", "markdown", "--graph").stdout
    assert "| gradient | formula | backward | finite differences |" in markdown
    assert "```mermaid\nflowchart LR" in markdown
    latex = run_ffnn("explain", "--format", "latex").stdout
    assert latex.startswith("\\begin{align*}") and "\\frac{\\partial L}" in latex


def test_bad_explain_input_is_one_line_error():
    result = run_ffnn("explain", "--w1", "0.1,0.2;0.3")
    assert result.returncode == 2
    assert result.stderr.startswith("ffnn: error: --w1: every row needs the same number")
    result = run_ffnn("explain", "--activation", "swish")
    assert result.returncode == 2 and "Received: activation='swish'" in result.stderr
    assert "Traceback" not in result.stderr


def test_large_values_are_not_called_a_wrong_gradient(recwarn):
    """x = 1e5: the central differences' round-off (ε·L/h, L ~ 1e10) exceeds 1e-6 relative;
    that was reported as a wrong gradient. A wrong one at that scale still is."""
    result = explain.compute(explain.ExplainConfig(x=[1e5, 1e5]))
    text = explain.render(result)
    assert "within the round-off of finite differences for values up to 1.76e+05" in text
    assert "wrong" not in text and not recwarn.list
    formula, grad, fd = result.gradients["∂L/∂b2"]
    result.gradients["∂L/∂b2"] = (formula, grad * 1.01, fd)
    assert "a gradient is wrong" in explain.render(result)
