"""``ffnn bench --shape``: a network described in a line of text, measured and checked like
the sweep's entries."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ffnn.bench import main
from ffnn.bench.cases import Spec, build_ffnn, make_data
from ffnn.bench.shape_text import memory_needed, parse_shape, shape_label, shape_specs
from ffnn.bench.sweep import shape_specs as named_shapes
from ffnn.bench.sweep import sweep_specs

SMALL = ["--repeat", "small", "--no-memory", "--no-jax"]


def test_every_named_shape_and_sweep_entry_reads_back_from_its_label():
    for spec in [*named_shapes().values(), *sweep_specs().values()]:
        assert parse_shape(shape_label(spec)) == spec, shape_label(spec)


def test_defaults_and_words_in_any_order():
    assert parse_shape("784-128-10") == Spec((784, 128, 10), "relu", 128, "cross_entropy",
                                             "adam", lr=1e-3)
    assert parse_shape("784-128-1").loss == "mse"
    assert parse_shape("10-20-3 sgd B16 tanh") == Spec((10, 20, 3), "tanh", 16,
                                                        "cross_entropy", "sgd", lr=1e-2)
    spec = parse_shape("128-256-1 lr 0.05 float64, dropout 0.2 layer_norm silu b64 nesterov")
    assert spec == Spec((128, 256, 1), "silu", 64, "mse", "nesterov", lr=0.05,
                        norm="layer_norm", dropout=0.2, dtype="float64")
    assert shape_label(spec) == "128-256-1 silu b64 nesterov layer_norm dropout 0.2 float64 lr 0.05"


def test_the_module_form_is_a_word_of_its_own():
    spec = parse_shape("64-32-10 tanh b8 subclass")
    assert spec.form == "module" and spec == replace(parse_shape("64-32-10 tanh b8"),
                                                     form="module")
    assert shape_label(spec) == "64-32-10 tanh b8 adam module"
    assert parse_shape(shape_label(spec)) == spec
    with pytest.raises(ValueError, match="form is given twice"):
        parse_shape("64-32-10 module subclass")


def test_a_shape_given_twice_is_one_row():
    assert list(shape_specs(["8-4-2 tanh b4 sgd", "8-4-2 sgd b4 tanh", "8-4-2"])) == [
        "8-4-2 tanh b4 sgd", "8-4-2 relu b128 adam"]


@pytest.mark.parametrize("text, expected", [
    ("300-1000-1000-1 SiLU b512 SGD momentum", "300-1000-1000-1 silu b512 sgd_momentum"),
    ("300-1000-1000-1 silu b512 momentum", "300-1000-1000-1 silu b512 sgd_momentum"),
    ("8-4-2 sgd+momentum swish", "8-4-2 silu sgd_momentum"),
    ("8-4-2 LeakyReLU AdamW", "8-4-2 leaky_relu adamw")])
def test_words_as_they_are_often_written(text, expected):
    assert parse_shape(text) == parse_shape(expected)


def test_sgd_then_another_optimizer_is_refused():
    with pytest.raises(ValueError, match="optimizer is given twice"):
        parse_shape("8-4-2 sgd adam")


@pytest.mark.parametrize("text, message", [
    ("", "expected widths such as 784-128-10"),
    ("784", "two or more positive integers joined by '-'"),
    ("10-0-3", "Received: '10-0-3'"),
    ("784-128-10 relu b64 adam foo", "word 'foo' is not understood; expected one of: bN"),
    ("784-128-1 cross_entropy", "cross_entropy needs two or more outputs. Received: 1"),
    ("10-5 lr", "lr needs a number after it"),
    ("10-5 lr x", "lr needs a number after it. Received: 'x'"),
    ("10-5 lr -1", "lr must be a positive number. Received: -1.0"),
    ("10-5 lr nan", "lr must be a positive number"),
    ("10-5 relu tanh", "activation is given twice ('relu' and 'tanh')"),
    ("10-5 b0", "the batch must be at least 1 row. Received: b0"),
    ("10-5-2 b1 batch_norm", "batch_norm needs a batch of 2 rows or more"),
    ("10-5 dropout 1.5", "dropout must be in [0, 1). Received: dropout=1.5"),
])
def test_bad_text_is_refused_naming_what_is_wrong(text, message):
    with pytest.raises(ValueError, match="--shape") as caught:
        parse_shape(text)
    assert message in str(caught.value)


def test_cli_measures_the_shapes_after_the_cases_named(capsys):
    assert main(["--case", "tiny", "--shape", "8-4-2 tanh b4 sgd",
                 "--shape", "6-3-1 relu b2 rmsprop float64", "--json", *SMALL]) == 0
    rows = json.loads(capsys.readouterr().out)["cases"]
    assert [(r["case"], r.get("variant")) for r in rows] == [
        ("tiny", None), ("shape", "8-4-2 tanh b4 sgd"), ("shape", "6-3-1 relu b2 rmsprop float64")]
    for row in rows[1:]:
        assert row["ffnn_ms"] > 0 and row["compiled_ms"] > 0 and row["torch_ms"] > 0
        assert row["spec"] == parse_shape(row["variant"]).to_dict()
        assert row["ratio"] == pytest.approx(row["ffnn_ms"] / row["torch_ms"])
        assert row["targets"]["ffnn/torch <= 0.8"] == (row["ratio"] <= 0.8)
        assert row["ffnn_peak_mib"] is None  # --no-memory


def test_cli_check_compares_the_shapes_with_torch(capsys):
    assert main(["--check", "--no-jax", "--shape", "8-5-3 gelu b6 adamw layer_norm"]) == 0
    out = capsys.readouterr().out
    assert "shape 8-5-3 gelu b6 adamw layer_norm: ffnn_compiled" in out
    assert "torch" in out and "(agrees; tolerance" in out


def test_cli_refuses_a_bad_shape_in_one_line(capsys):
    assert main(["--shape", "8-4-2 tahn"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ffnn bench: error: --shape '8-4-2 tahn': word 'tahn' is not")
    assert err.count("\n") == 1


def test_a_shape_too_large_for_the_machine_is_refused_in_one_line(capsys):
    assert main(["--shape", "784-128-10 b99999999999 sgd"]) == 2
    err = capsys.readouterr().err
    assert "one library's process would need about" in err and "GiB" in err
    assert "Use fewer rows (bN)" in err and err.count("\n") == 1


@pytest.mark.parametrize("text", ["784-512-256-10 relu b300 adam",
                                  "20-64-64-1 tanh b50 sgd float64"])
def test_the_memory_estimate_covers_the_data_and_parameters_a_process_holds(text):
    spec = parse_shape(text)
    x, y = make_data(spec)
    model, _ = build_ffnn(spec)
    held = x.nbytes + y.nbytes + sum(p.numpy().nbytes for p in model.parameters())
    # the inputs are drawn in float64, then cast; weights, gradients and optimizer state
    assert held + x.size * 8 + 2 * held < memory_needed(spec) < 20 * held


def test_a_float64_shape_keeps_its_dtype():
    spec = parse_shape("4-3-2 float64")
    assert replace(spec, dtype="float32") == parse_shape("4-3-2")


def test_cli_profiles_cases_and_shapes_layer_by_layer(capsys):
    assert main(["--case", "tiny", "--shape", "8-4-2 tanh b4 sgd layer_norm", "--profile",
                 *SMALL]) == 0
    out = capsys.readouterr().out
    start = out.index("profile of shape 8-4-2 tanh b4 sgd layer_norm")
    assert "backward ms" in out[out.index("profile of case tiny"):start]
    profile = out[start:]
    assert "backward ms" in profile
    for layer in ("Linear", "LayerNorm", "Tanh"):
        assert layer in profile, layer
