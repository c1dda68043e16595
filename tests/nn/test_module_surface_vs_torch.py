"""Every torch.nn module class ffnn has, built with the same arguments in both libraries and
compared as a user sees it: ``print(model)`` (before and after a forward), ``extra_repr()``,
the state_dict keys, the names and shapes of parameters, buffers and submodules, the training
flag, the forward output's shape and dtype, and (torch's state loaded, eval mode, float64) its
values; plus the constructor and forward keywords torch's classes take. A class both libraries
have but no case builds fails ``test_every_shared_class_has_a_case``."""

from __future__ import annotations

import inspect
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close

pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:Implicit dimension choice")]

_rng = np.random.default_rng(0)
X23 = _rng.standard_normal((2, 3))
X24 = _rng.standard_normal((2, 4))
X43 = _rng.standard_normal((4, 3))
X234 = _rng.standard_normal((2, 3, 4))
X243 = _rng.standard_normal((2, 4, 3))
SEQ = _rng.standard_normal((3, 2, 8))
TGT = _rng.standard_normal((4, 2, 8))
P43 = 1 / (1 + np.exp(-X43))
BINARY = (X43 > 0).astype(float)
SIGNS = np.array([1.0, -1.0, 1.0, -1.0])
IDX = np.array([[1, 2, 0, 4, 5], [3, 3, 9, 0, 1]])
LABELS = np.array([0, 2, 1, 2])
MULTI = np.array([[0, 2, -1], [1, -1, 0], [2, 1, 0], [0, -1, 0]])


def _inputs(*arrays):
    """The forward's inputs: float arrays as the default float dtype, integers as int64."""
    def make(lib):
        return tuple(lib.tensor(np.ascontiguousarray(a),
                                dtype=lib.float32 if a.dtype.kind == "f" else lib.int64)
                     for a in arrays)
    return make


def _nn(name, *args, **kwargs):
    return lambda lib: getattr(lib.nn, name)(*args, **kwargs)


def _case(cls, build, inputs=None, id=None):  # noqa: A002 - pytest's word
    return pytest.param(cls, build, inputs, id=id or cls)


ELEMENTWISE = ("CELU", "ELU", "GELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
               "LeakyReLU", "LogSigmoid", "Mish", "PReLU", "ReLU", "ReLU6", "SELU", "SiLU",
               "Sigmoid", "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Identity",
               "Dropout", "AlphaDropout", "RReLU", "Flatten", "Softmax", "LogSoftmax", "Softmin")
REGRESSION = _inputs(X43, P43)
CLASSES = _inputs(X43, LABELS)
TRIPLET = _inputs(X43, P43, X43[::-1])
PAIR = _inputs(X23, X23[::-1])


def _weighted(name, inputs, **kwargs):
    return _case(name, lambda lib: getattr(lib.nn, name)(weight=lib.tensor([1.0, 2.0, 3.0]),
                                                         **kwargs), inputs, f"{name}(weight)")


def _transformer_encoder(lib):
    return lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 2,
                                     lib.nn.LayerNorm(8), enable_nested_tensor=False)


def _containers():
    return [
        _case("Sequential", lambda lib: lib.nn.Sequential(OrderedDict(
            fc=lib.nn.Linear(3, 4), act=lib.nn.Tanh(),
            out=lib.nn.Sequential(lib.nn.Linear(4, 2), lib.nn.Softmax(-1)))), _inputs(X23)),
        _case("ModuleList", lambda lib: lib.nn.ModuleList(
            [lib.nn.Linear(3, 3) for _ in range(3)] + [lib.nn.ReLU(), lib.nn.ReLU()])),
        _case("ModuleDict", lambda lib: lib.nn.ModuleDict({"a": lib.nn.Linear(3, 4),
                                                           "b": lib.nn.ReLU()})),
        _case("ParameterList", lambda lib: lib.nn.ParameterList([
            lib.nn.Parameter(lib.zeros(2, 3)), lib.nn.Parameter(lib.zeros(4, dtype=lib.float64))
        ])),
        _case("ParameterDict", lambda lib: lib.nn.ParameterDict({
            "a": lib.nn.Parameter(lib.zeros(2, 3)), "b": lib.nn.Parameter(lib.zeros(4))})),
        _case("DataParallel", lambda lib: lib.nn.DataParallel(lib.nn.Linear(3, 4)),
              _inputs(X23)),
        _case("Module", lambda lib: lib.nn.Module()),
    ]


def _layers():
    return [
        _case("CELU", _nn("CELU", alpha=0.5), _inputs(X23), "CELU(alpha)"),
        _case("ELU", _nn("ELU", 0.5, True), _inputs(X23), "ELU(inplace)"),
        _case("GELU", _nn("GELU", approximate="tanh"), _inputs(X23), "GELU(tanh)"),
        _case("Hardtanh", _nn("Hardtanh", -2.0, 2.0), _inputs(X23), "Hardtanh(-2, 2)"),
        _case("LeakyReLU", _nn("LeakyReLU", 0.2, True), _inputs(X23), "LeakyReLU(0.2)"),
        _case("PReLU", _nn("PReLU", 3, 0.1), _inputs(X23), "PReLU(3)"),
        _case("RReLU", _nn("RReLU", 0.1, 0.2), _inputs(X23), "RReLU(0.1, 0.2)"),
        _case("Softplus", _nn("Softplus", 2.0, 10.0), _inputs(X23), "Softplus(2, 10)"),
        _case("Threshold", _nn("Threshold", 0.1, 20.0), _inputs(X23)),
        _case("Dropout", _nn("Dropout", 0.2, True), _inputs(X23), "Dropout(0.2, inplace)"),
        _case("Dropout1d", _nn("Dropout1d", 0.2), _inputs(X234)),
        _case("FeatureAlphaDropout", _nn("FeatureAlphaDropout", 0.2), _inputs(X234)),
        _case("Softmax", _nn("Softmax", dim=1), _inputs(X23), "Softmax(1)"),
        _case("GLU", _nn("GLU"), _inputs(X24)),
        _case("Flatten", _nn("Flatten", 0, 1), _inputs(X234), "Flatten(0, 1)"),
        _case("Unflatten", _nn("Unflatten", 1, (2, 2)), _inputs(X24)),
        _case("Linear", _nn("Linear", 3, 4), _inputs(X23)),
        _case("Linear", _nn("Linear", 3, 4, bias=False), _inputs(X23), "Linear(bias=False)"),
        _case("LazyLinear", _nn("LazyLinear", 4), _inputs(X23)),
        _case("Bilinear", _nn("Bilinear", 3, 4, 5), _inputs(X23, X24)),
        _case("Embedding", _nn("Embedding", 10, 3, padding_idx=0), _inputs(IDX)),
        _case("Embedding", _nn("Embedding", 10, 3, max_norm=1.0, norm_type=1.0, sparse=True),
              _inputs(IDX), "Embedding(max_norm)"),
        _case("EmbeddingBag", _nn("EmbeddingBag", 10, 3), _inputs(IDX)),
        _case("EmbeddingBag", _nn("EmbeddingBag", 10, 3, mode="max"), _inputs(IDX),
              "EmbeddingBag(max)"),
        _case("BatchNorm1d", _nn("BatchNorm1d", 3), _inputs(X43)),
        _case("BatchNorm1d", _nn("BatchNorm1d", 3, 1e-3, None, False, False), _inputs(X43),
              "BatchNorm1d(no affine, no stats)"),
        _case("LayerNorm", _nn("LayerNorm", 3), _inputs(X23)),
        _case("LayerNorm", _nn("LayerNorm", [4, 3], elementwise_affine=False), _inputs(X243),
              "LayerNorm([4, 3])"),
        _case("LayerNorm", _nn("LayerNorm", 3, bias=False), _inputs(X23), "LayerNorm(bias)"),
        _case("RMSNorm", _nn("RMSNorm", 3), _inputs(X23)),
        _case("RMSNorm", _nn("RMSNorm", [3], 1e-6, False), _inputs(X23), "RMSNorm(eps)"),
        _case("GroupNorm", _nn("GroupNorm", 2, 4), _inputs(X243)),
        _case("InstanceNorm1d", _nn("InstanceNorm1d", 3), _inputs(X234)),
        _case("InstanceNorm1d", _nn("InstanceNorm1d", 3, affine=True, track_running_stats=True,
                                    bias=False), _inputs(X234), "InstanceNorm1d(affine)"),
        _case("CosineSimilarity", _nn("CosineSimilarity", 0, 1e-6), PAIR),
        _case("PairwiseDistance", _nn("PairwiseDistance", 1.0, 1e-5, True), PAIR),
    ]


def _attention():
    return [
        _case("MultiheadAttention", _nn("MultiheadAttention", 8, 2), _inputs(SEQ, SEQ, SEQ)),
        _case("MultiheadAttention", _nn("MultiheadAttention", 8, 2, dropout=0.1, bias=False,
                                        batch_first=True), _inputs(SEQ, SEQ, SEQ),
              "MultiheadAttention(batch_first)"),
        _case("TransformerEncoderLayer", _nn("TransformerEncoderLayer", 8, 2, 16),
              _inputs(SEQ)),
        _case("TransformerEncoderLayer", _nn("TransformerEncoderLayer", 8, 2, 16, 0.0, "gelu",
                                             1e-6, True, True, False), _inputs(SEQ),
              "TransformerEncoderLayer(gelu)"),
        _case("TransformerDecoderLayer", _nn("TransformerDecoderLayer", 8, 2, 16),
              _inputs(TGT, SEQ)),
        _case("TransformerEncoder", _transformer_encoder, _inputs(SEQ)),
        _case("TransformerDecoder", lambda lib: lib.nn.TransformerDecoder(
            lib.nn.TransformerDecoderLayer(8, 2, 16), 2), _inputs(TGT, SEQ)),
        _case("Transformer", _nn("Transformer", 8, 2, 1, 1, 16), _inputs(SEQ, TGT)),
    ]


def _losses():
    return [
        _case("MSELoss", _nn("MSELoss", reduction="sum"), REGRESSION),
        _case("L1Loss", _nn("L1Loss", reduction="none"), REGRESSION),
        _case("HuberLoss", _nn("HuberLoss", delta=0.5), REGRESSION),
        _case("SmoothL1Loss", _nn("SmoothL1Loss", beta=0.5), REGRESSION),
        _case("BCELoss", _nn("BCELoss"), _inputs(P43, BINARY)),
        _weighted("BCELoss", _inputs(P43, BINARY)),
        _case("BCEWithLogitsLoss", lambda lib: lib.nn.BCEWithLogitsLoss(
            pos_weight=lib.ones(3)), _inputs(X43, BINARY)),
        _case("CrossEntropyLoss", _nn("CrossEntropyLoss"), CLASSES),
        _weighted("CrossEntropyLoss", CLASSES, ignore_index=1, label_smoothing=0.1),
        _weighted("NLLLoss", CLASSES, ignore_index=-1, reduction="sum"),
        _case("KLDivLoss", _nn("KLDivLoss", reduction="batchmean", log_target=True),
              _inputs(X43, X43)),
        _case("CosineEmbeddingLoss", _nn("CosineEmbeddingLoss", margin=0.1),
              _inputs(X43, X43[::-1], SIGNS)),
        _case("GaussianNLLLoss", _nn("GaussianNLLLoss", full=True, eps=1e-3),
              _inputs(X43, P43, P43)),
        _case("HingeEmbeddingLoss", _nn("HingeEmbeddingLoss", 0.5), _inputs(X43, np.sign(X43))),
        _case("MarginRankingLoss", _nn("MarginRankingLoss", 0.1),
              _inputs(SIGNS, SIGNS[::-1], SIGNS)),
        _case("MultiLabelMarginLoss", _nn("MultiLabelMarginLoss"), _inputs(X43, MULTI)),
        _weighted("MultiLabelSoftMarginLoss", _inputs(X43, BINARY)),
        _weighted("MultiMarginLoss", CLASSES, p=2, margin=0.5),
        _case("PoissonNLLLoss", _nn("PoissonNLLLoss", log_input=False, full=True),
              _inputs(P43, P43)),
        _case("SoftMarginLoss", _nn("SoftMarginLoss"), _inputs(X43, np.sign(X43))),
        _case("TripletMarginLoss", _nn("TripletMarginLoss", margin=0.5, swap=True), TRIPLET),
        _case("TripletMarginWithDistanceLoss",
              _nn("TripletMarginWithDistanceLoss", margin=0.5), TRIPLET),
    ]


CASES = [_case(name, _nn(name), _inputs(X23)) for name in ELEMENTWISE] + _containers() \
    + _layers() + _attention() + _losses()


def _shape(tensor):
    try:
        return tuple(tensor.shape)
    except RuntimeError:  # torch's uninitialised parameter of a lazy module
        return None


def _surface(module) -> dict:
    return {"repr": repr(module), "extra_repr": module.extra_repr(),
            "state_dict": list(module.state_dict().keys()),
            "parameters": [(n, _shape(p)) for n, p in module.named_parameters()],
            "buffers": [(n, _shape(b)) for n, b in module.named_buffers()],
            "modules": [n for n, _ in module.named_modules()], "training": module.training}


def _outputs(out) -> list:
    return [(str(o.shape), str(o.dtype).removeprefix("torch.")) if o is not None else None
            for o in (out if isinstance(out, tuple) else (out,))]


@pytest.mark.parametrize("cls, build, inputs", CASES)
def test_a_module_looks_as_torchs(cls, build, inputs):
    """Built, then (where it has a forward) called once in training mode."""
    seen = []
    for lib in (ffnn, torch):
        module = build(lib)
        surface = _surface(module)
        if lib is ffnn and cls == "LazyLinear":  # ffnn's [out, 0] arrays, torch's uninitialised
            surface["parameters"] = [(n, None) for n, _ in surface["parameters"]]
        if inputs is not None:
            surface["outputs"] = _outputs(module(*inputs(lib)))
            surface["after forward"] = _surface(module)
        seen.append(surface)
    ours, theirs = seen
    for key in theirs:
        assert ours[key] == theirs[key], key


def _as_float64(inputs):
    return tuple(x.double() if x.is_floating_point() else x for x in inputs)


@pytest.mark.parametrize("cls, build, inputs",
                         [c for c in CASES if c.values[2] is not None])
def test_a_modules_eval_output_is_torchs_with_torchs_state(cls, build, inputs):
    """float64, eval mode, torch's parameters moved off their initial values and loaded."""
    theirs, ours = build(torch), build(ffnn)
    theirs(*inputs(torch)), ours(*inputs(ffnn))  # a lazy module takes its shapes
    theirs.double(), ours.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.linspace(-0.3, 0.4, p.numel(), dtype=p.dtype).reshape(p.shape))
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    ours.eval(), theirs.eval()
    out, expected = ours(*_as_float64(inputs(ffnn))), theirs(*_as_float64(inputs(torch)))
    for a, b in zip(*(o if isinstance(o, tuple) else (o,) for o in (out, expected))):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a.detach().numpy(), b.detach().numpy())


def _shared_classes() -> list[str]:
    return sorted(name for name, value in vars(ffnn.nn).items()
                  if isinstance(value, type) and issubclass(value, ffnn.nn.Module)
                  and isinstance(getattr(torch.nn, name, None), type))


def test_every_shared_class_has_a_case():
    assert sorted(set(_shared_classes()) - {c.values[0] for c in CASES}) == []


PRIVATE_KEYWORDS = {("Embedding", "__init__"): {"_freeze"}}
"""torch's keywords that ffnn leaves out on purpose: private ones."""


@pytest.mark.parametrize("name", _shared_classes())
@pytest.mark.parametrize("method", ["__init__", "forward"])
def test_a_module_takes_torchs_keywords(name, method):
    ours = inspect.signature(getattr(getattr(ffnn.nn, name), method)).parameters
    theirs = inspect.signature(getattr(getattr(torch.nn, name), method)).parameters
    if any(p.kind is p.VAR_KEYWORD for p in ours.values()):
        return
    missing = set(theirs) - set(ours) - {"args", "kwargs"} - PRIVATE_KEYWORDS.get(
        (name, method), set())
    assert not missing, f"{name}.{method} lacks torch's {sorted(missing)}"
