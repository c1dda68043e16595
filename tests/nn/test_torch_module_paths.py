"""torch's ``torch.nn.modules`` path and its base classes (programs subclass ``_Loss`` and
``_WeightedLoss`` and test ``isinstance(m, _BatchNorm)``), weighted losses' buffers, one
dropout-probability check, and the reason given for layers ffnn does not have."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import ffnn
import ffnn.nn.functional as F
from ffnn import nn
from tests.helpers import assert_close

BASES = ("_Loss", "_WeightedLoss", "_NormBase", "_BatchNorm", "_DropoutNd")
SOURCES = {"_Loss": "loss", "_WeightedLoss": "loss", "_NormBase": "batchnorm",
           "_BatchNorm": "batchnorm", "_DropoutNd": "dropout", "_InstanceNorm": "instancenorm"}


def test_the_bases_sit_where_torchs_do_in_every_class_both_have():
    for base_name, module in SOURCES.items():
        ours = getattr(importlib.import_module(f"ffnn.nn.modules.{module}"), base_name)
        theirs = getattr(importlib.import_module(f"torch.nn.modules.{module}"), base_name)
        for name in nn.__all__:
            cls = getattr(nn, name)
            if isinstance(cls, type) and hasattr(torch.nn, name):
                assert issubclass(cls, ours) == issubclass(getattr(torch.nn, name), theirs), \
                    (name, base_name)


def test_a_programs_weighted_loss_on_torchs_base_follows_torch():
    def focal(lib):
        class FocalLoss(lib.nn.modules.loss._WeightedLoss):
            def __init__(self, weight=None, gamma=2.0):
                super().__init__(weight, reduction="mean")
                self.gamma = gamma

            def forward(self, logits, target):
                log_p = lib.nn.functional.log_softmax(logits, 1)
                ce = lib.nn.functional.nll_loss(log_p, target, weight=self.weight,
                                                reduction="none")
                p = log_p.gather(1, target[:, None]).squeeze(1).exp()
                return ((1 - p) ** self.gamma * ce).mean()
        return FocalLoss

    rng = np.random.default_rng(0)
    logits, target = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    weight = np.array([1.0, 2.0, 0.5])
    results = []
    for lib in (ffnn, torch):
        loss = focal(lib)(weight=lib.tensor(weight))
        x = lib.tensor(logits, requires_grad=True)
        value = loss(x, lib.tensor(target))
        value.backward()
        results.append((value.item(), np.asarray(x.grad), sorted(loss.state_dict())))
    assert results[0][2] == results[1][2] == ["weight"]
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "BCELoss",
                                  "MultiLabelSoftMarginLoss", "MultiMarginLoss"])
def test_a_losss_class_weights_are_a_buffer_as_torchs(name):
    ours = getattr(nn, name)(weight=ffnn.tensor([1.0, 3.0]))
    theirs = getattr(torch.nn, name)(weight=torch.tensor([1.0, 3.0]))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(getattr(nn, name)().state_dict()) == list(getattr(torch.nn, name)().state_dict())
    assert ours.double().weight.dtype == np.float64
    positive = nn.BCEWithLogitsLoss(pos_weight=ffnn.tensor([2.0]))
    assert list(positive.state_dict()) == ["pos_weight"]


@pytest.mark.parametrize("layer", ["Dropout", "Dropout1d", "AlphaDropout",
                                   "FeatureAlphaDropout"])
def test_every_dropout_checks_its_probability_with_one_message(layer):
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"between 0 and 1. Received: p={p}"):
            getattr(nn, layer)(p)
        with pytest.raises(ValueError):
            getattr(torch.nn, layer)(p)
    assert repr(getattr(nn, layer)(0.25)) == repr(getattr(torch.nn, layer)(0.25))


@pytest.mark.parametrize(("module", "name", "family"), [
    (nn, "Conv2d", "convolutions"), (nn, "ConvTranspose1d", "convolutions"),
    (nn, "MaxPool1d", "pooling"), (nn, "AdaptiveAvgPool2d", "pooling"),
    (nn, "LSTM", "recurrent"), (nn, "GRUCell", "recurrent"), (nn, "BatchNorm2d", "images"),
    (nn, "Upsample", "images"), (F, "conv1d", "convolutions"), (F, "max_pool2d", "pooling"),
    (F, "interpolate", "images"), (F, "dropout2d", "images"), (F, "unfold", "convolutions"),
])
def test_layers_outside_dense_networks_raise_attribute_error_with_the_reason(module, name,
                                                                            family):
    assert hasattr(torch.nn if module is nn else torch.nn.functional, name)
    with pytest.raises(AttributeError, match=f"has no attribute '{name}': .*{family}"):
        getattr(module, name)
    assert not hasattr(module, name)


def test_other_missing_names_keep_pythons_message():
    for module, path in ((nn, "ffnn.nn"), (F, "ffnn.nn.functional")):
        with pytest.raises(AttributeError) as error:
            module.Linearr  # noqa: B018 - the attribute access is the test
        assert str(error.value) == f"module '{path}' has no attribute 'Linearr'"


def test_get_parameter_and_get_buffer_follow_torch():
    for lib in (ffnn, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        assert model.get_parameter("0.weight") is model[0].weight
        assert model.get_buffer("1.running_var") is model[1].running_var
        for call, target in ((model.get_parameter, "1.running_var"),
                             (model.get_buffer, "0.weight"), (model.get_parameter, "0.nope"),
                             (model.get_parameter, "7.weight")):
            with pytest.raises(AttributeError):
                call(target)
