"""The bench's cases: the layer plan every library builds, the shared initial weights, the
sweep and shapes groups, the matrix products of the timing model and case parsing."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import ffnn
from ffnn.bench import cases, layout, run
from ffnn.bench.cases import Spec
from ffnn.bench.optimizers import OPTIMIZERS
from ffnn.bench.sweep import shape_specs, sweep_specs


def test_layer_plan_puts_norm_activation_dropout_after_each_hidden_linear():
    assert layout.layers((4, 8, 6, 2), "gelu", "layer_norm", 0.25) == [
        ("linear", 4, 8), ("layer_norm", 8), ("act", "gelu"), ("dropout", 0.25),
        ("linear", 8, 6), ("layer_norm", 6), ("act", "gelu"), ("dropout", 0.25),
        ("linear", 6, 2)]
    assert layout.layers((2, 3, 1), "tanh") == [("linear", 2, 3), ("act", "tanh"),
                                                ("linear", 3, 1)]


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "swish"}, "activation must be one of .* Received: activation='swish'"),
    ({"norm": "group_norm"}, "norm must be one of .* Received: norm='group_norm'"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\). Received: dropout=1.0"),
    ({"sizes": (4,)}, r"sizes must be two or more positive widths. Received: sizes=\(4,\)"),
])
def test_layer_plan_refuses_bad_input(kwargs, message):
    args = dict(sizes=(4, 3), activation="relu", norm="none", dropout=0.0) | kwargs
    with pytest.raises(ValueError, match=message):
        layout.layers(**args)


def test_initial_state_has_the_keys_and_shapes_both_libraries_hold():
    spec = Spec((5, 7, 3), "relu", 4, "mse", "adam", norm="batch_norm")
    state = layout.init_state(spec.plan(), "float64", seed=3)
    model, _ = cases.build_ffnn(spec)
    torch_model, _ = cases.build_torch(spec, None)
    for sd in (model.state_dict(), torch_model.state_dict()):
        assert list(sd) == list(state)
        assert all(tuple(sd[k].shape) == state[k].shape for k in state)
    w = state["0.weight"]
    assert w.dtype == np.float64 and np.abs(w).max() <= 1 / np.sqrt(5)
    assert np.abs(w).max() > 0.5 / np.sqrt(5)  # spread over the range, not a constant
    assert np.array_equal(layout.init_state(spec.plan(), "float64", seed=3)["3.weight"],
                          state["3.weight"])


@pytest.mark.parametrize("activation", layout.SHAPE_ACTIVATIONS)
@pytest.mark.parametrize("norm", layout.NORMS)
def test_ffnn_and_torch_builds_take_the_same_steps(activation, norm):
    """Every activation (the sweep's and those only ``--shape`` names) and norm, two
    optimizers per case: the same float64 losses."""
    for optimizer in ("adamw", "nesterov") if norm == "none" else ("rmsprop",):
        spec = Spec((5, 7, 6, 3), activation, 8, "cross_entropy", optimizer, lr=0.05,
                    norm=norm, dtype="float64")
        state = layout.init_state(spec.plan(), "float64")
        _, step = cases.build_ffnn(spec, state=state)
        _, torch_step = cases.build_torch(spec, state)
        ours = [step().item() for _ in range(3)]
        theirs = [torch_step().item() for _ in range(3)]
        assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)
        assert ours[2] != pytest.approx(ours[0], rel=1e-6)  # the steps did move the weights


@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam", "adagrad"])
def test_remaining_optimizers_match_torch_through_the_builds(optimizer):
    spec = Spec((4, 6, 2), "sigmoid", 5, "mse", optimizer, lr=0.1, dtype="float64")
    state = layout.init_state(spec.plan(), "float64", seed=1)
    _, step = cases.build_ffnn(spec, state=state)
    _, torch_step = cases.build_torch(spec, state)
    assert [step().item() for _ in range(4)] == pytest.approx(
        [torch_step().item() for _ in range(4)], rel=1e-10)


def test_compiled_peer_fuses_every_case():
    """Every training case of the bench, the sweep's norms and dropout included, is one
    fused call in the compiled peer (no replay)."""
    specs = [cases.SPECS[name] for name in ("tiny", "mlp", "ffn")]
    specs += [*shape_specs().values(), *sweep_specs().values()]
    for spec in specs:
        model = cases._model(ffnn, spec)
        loss_fn, opt = cases._training(ffnn, spec, model)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fallback warns
            step = ffnn.compile(model, loss_fn, opt, mode=cases.compiled_mode(spec))
        assert step.fused is not None, spec


@pytest.mark.parametrize("name", ["64-32-32-10 tanh b32 adam", "relu adam", "gelu nesterov",
                                  "relu adam dropout 0.1", "relu adam batch_norm",
                                  "relu adam layer_norm"])
def test_compiled_peer_fused_step_follows_the_eager_one_to_rounding(name):
    spec = {**shape_specs(), **sweep_specs()}[name]
    if spec.rows > 64:  # the sweep's shapes, smaller (products still through BLAS)
        spec = Spec((64, 256, 10), spec.activation, 64, spec.loss, spec.optimizer, lr=spec.lr,
                    norm=spec.norm, dropout=spec.dropout)
    state = layout.init_state(spec.plan(), spec.dtype)
    ffnn.manual_seed(3)  # dropout's masks: the same stream on both sides
    eager = cases.build_ffnn(spec, state=state)[1]
    reference = [eager().item() for _ in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        ffnn.manual_seed(3)
        fused = cases.build_ffnn_compiled(spec, state=state)[1]
        ours = [fused() for _ in range(4)]
    assert ours == pytest.approx(reference, rel=1e-5)
    assert ours[3] != pytest.approx(ours[0], rel=1e-4)  # the steps did move the weights


@pytest.mark.parametrize("norm", ["none", "batch_norm"])
def test_the_module_form_trains_as_torch_does_and_compiles_from_its_first_step(norm):
    """``--shape ... module``: a Module subclass calling its layers in its forward, in ffnn
    and torch alike; the compiled peer runs its first step eagerly and fuses the next."""
    spec = Spec((5, 7, 6, 3), "tanh", 8, "cross_entropy", "adam", lr=0.05, norm=norm,
                dtype="float64", dropout=0.0, form="module")
    state = layout.init_state(spec.plan(), "float64")
    model, step = cases.build_ffnn(spec, state=state)
    _, torch_step = cases.build_torch(spec, state)
    assert not isinstance(model, ffnn.nn.Sequential) and "layers.0.weight" in model.state_dict()
    ours = [step().item() for _ in range(3)]
    assert ours == pytest.approx([torch_step().item() for _ in range(3)], rel=1e-10, abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: a declined read or fusion warns
        _, compiled = cases.build_ffnn_compiled(spec, state=state)
        assert [compiled() for _ in range(3)] == pytest.approx(ours, rel=1e-12)


def test_float64_specs_build_float64_models_and_data():
    spec = Spec((3, 2), "relu", 4, "mse", "sgd", dtype="float64")
    model, step = cases.build_ffnn(spec)
    assert model[0].weight.dtype == ffnn.float64 and step().dtype == ffnn.float64
    assert cases.build_torch(spec, None)[1]().dtype == torch.float64


def test_sweep_has_every_activation_with_every_optimizer_and_the_variants():
    specs = sweep_specs()
    assert len(specs) == 6 * 7 + 4
    pairs = {(s.activation, s.optimizer) for s in specs.values()
             if s.norm == "none" and s.dropout == 0 and s.dtype == "float32"}
    assert pairs == {(a, o) for a in layout.ACTIVATIONS for o in OPTIMIZERS}
    assert {s.sizes for s in specs.values()} == {(256, 512, 512, 10)}
    assert {s.rows for s in specs.values()} == {256}
    variants = [s for s in specs.values() if (s.norm, s.dropout, s.dtype) !=
                ("none", 0.0, "float32")]
    assert sorted((s.norm, s.dropout, s.dtype) for s in variants) == [
        ("batch_norm", 0.0, "float32"), ("layer_norm", 0.0, "float32"),
        ("none", 0.0, "float64"), ("none", 0.1, "float32")]
    assert all((s.activation, s.optimizer) == ("relu", "adam") for s in variants)


def test_shapes_are_the_five_of_issue_17():
    assert list(shape_specs()) == [
        "784-512-256-10 relu b128 adam", "1024-4096-1024 gelu b256 adamw",
        "2-3-1 tanh b1 sgd", "300-1000-1000-1 silu b512 sgd_momentum",
        "64-32-32-10 tanh b32 adam"]
    losses = {label: spec.loss for label, spec in shape_specs().items()}
    assert losses["64-32-32-10 tanh b32 adam"] == "cross_entropy"
    assert losses["300-1000-1000-1 silu b512 sgd_momentum"] == "mse"


def test_spec_travels_as_json():
    spec = Spec((5, 7, 3), "silu", 9, "mse", "nesterov", lr=0.5, norm="layer_norm",
                dropout=0.2, dtype="float64")
    assert Spec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_matmul_model_has_forward_and_both_backward_products_per_linear():
    spec = Spec((6, 5, 4, 3), "relu", 7, "mse", "adam", norm="batch_norm", dropout=0.1)
    n = 7
    assert cases.matmul_shapes(spec) == [
        ((n, 6), (6, 5)), ((5, n), (n, 6)),                      # first: no dL/dx
        ((n, 5), (5, 4)), ((4, n), (n, 5)), ((n, 4), (4, 5)),
        ((n, 4), (4, 3)), ((3, n), (n, 4)), ((n, 3), (3, 4))]
    inference = Spec((6, 5, 3), "relu", 7, "none", "none", train=False)
    assert cases.matmul_shapes(inference) == [((7, 6), (6, 5)), ((7, 5), (5, 3))]
    assert cases.matmul_flops(spec) == sum(2 * a * b * c for (a, b), (_, c)
                                           in cases.matmul_shapes(spec))


def test_matmul_model_runs_the_products_it_counts(monkeypatch):
    spec = Spec((6, 5, 4), "relu", 3, "mse", "adam", dtype="float64")
    calls = []

    class Recording(np.ndarray):
        def __matmul__(self, other):
            calls.append((self.shape, other.shape))
            return np.asarray(self) @ np.asarray(other)

    class Generator:
        def __init__(self, seed):
            self.rng = real_default_rng(seed)

        def standard_normal(self, *args, **kwargs):
            return self.rng.standard_normal(*args, **kwargs).view(Recording)

    real_default_rng = np.random.default_rng
    monkeypatch.setattr(np.random, "default_rng", Generator)
    cases.build_matmul(spec)()
    assert calls == cases.matmul_shapes(spec)


def test_case_names_resolve_in_order_each_once():
    assert run.resolve_cases(None) == list(run.DEFAULT_CASES)
    assert run.resolve_cases(["sweep", "tiny", "sweep"]) == ["sweep", "tiny"]
    everything = run.resolve_cases(["tabular", "all", "mlp"])
    assert everything[0] == "tabular" and everything[1:] == list(cases.ALL_CASES)
    assert {"shapes", "sweep"} <= set(cases.ALL_CASES)
    assert run.resolve_cases(None, run.CHECK_CASES) == ["mlp", "ffn", "tiny", "shapes", "sweep"]


def test_quick_flag_and_new_cases_parse():
    args = run._parser().parse_args(["--case", "sweep", "--quick", "--no-jax"])
    assert args.case == ["sweep"] and args.repeat == "quick" and args.jax is False
    assert run._parser().parse_args([]).repeat == "default"
