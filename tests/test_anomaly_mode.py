"""Anomaly detection (``ffnn.autograd.detect_anomaly`` / ``set_detect_anomaly``): a NaN made
by a backward raises naming the op, as torch's, only while the mode is on; an error in a
backward is preceded by a warning naming where the op was created."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

import ffnn
from ffnn import autograd
from tests.helpers import assert_close

BOTH = pytest.mark.parametrize("lib", [ffnn, torch], ids=["ffnn", "torch"])
NAN_MESSAGE = r"Function '\w+' returned nan values in its 0th output\."


@pytest.fixture(autouse=True)
def _mode_off_after():
    yield
    autograd.set_detect_anomaly(False)
    torch.autograd.set_detect_anomaly(False)


def nan_in_backward(lib):
    """d/dx (sqrt(x) · 0) at x = 0: the sqrt's backward makes 0 / 0."""
    x = lib.tensor([0.0, 4.0], dtype=lib.float64, requires_grad=True)
    return x, (x.sqrt() * 0.0).sum()


def quietly(run):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run()


@BOTH
def test_a_nan_gradient_raises_naming_the_op_in_anomaly_mode(lib):
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = lib.autograd.detect_anomaly()
    with mode:
        x, loss = nan_in_backward(lib)
        with pytest.raises(RuntimeError, match=NAN_MESSAGE) as error:
            quietly(loss.backward)
    if lib is ffnn:
        assert str(error.value) == "Function 'Sqrt' returned nan values in its 0th output."
    assert x.grad is None  # the backward stopped before reaching x


def test_without_anomaly_mode_the_nan_reaches_the_gradient_as_in_torch():
    grads = []
    for lib in (ffnn, torch):
        x, loss = nan_in_backward(lib)
        quietly(loss.backward)
        grads.append(x.grad.numpy())
    assert np.isnan(grads[0][0]) and grads[0][1] == 0.0
    assert_close(grads[0], grads[1])


def test_the_warning_names_the_op_and_the_line_that_created_it():
    with ffnn.autograd.set_detect_anomaly(True):
        x = ffnn.tensor([0.0], dtype=ffnn.float64, requires_grad=True)
        y = x.sqrt()
        with pytest.warns(UserWarning, match="Error detected in Sqrt") as record:
            with pytest.raises(RuntimeError, match=NAN_MESSAGE):
                quietly_numpy(lambda: (y * 0.0).sum().backward())
    message = next(str(r.message) for r in record if "Error detected" in str(r.message))
    assert os.path.basename(__file__) in message and "y = x.sqrt()" in message


def quietly_numpy(run):
    with np.errstate(invalid="ignore", divide="ignore"):
        return run()


@BOTH
def test_check_nan_false_detects_but_does_not_raise(lib):
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        assert lib.is_anomaly_enabled() if lib is torch else autograd.is_anomaly_enabled()
        x, loss = nan_in_backward(lib)
        quietly(loss.backward)
    assert np.isnan(x.grad.numpy()[0])


@BOTH
def test_set_detect_anomaly_as_a_call_and_a_context_manager_as_torch(lib):
    enabled = torch.is_anomaly_enabled if lib is torch else autograd.is_anomaly_enabled
    check_nan = (torch.is_anomaly_check_nan_enabled if lib is torch
                 else autograd.is_anomaly_check_nan_enabled)
    states = [(enabled(), check_nan())]
    lib.autograd.set_detect_anomaly(True, check_nan=False)
    states.append((enabled(), check_nan()))
    with lib.autograd.set_detect_anomaly(False):
        states.append((enabled(), check_nan()))
    states.append((enabled(), check_nan()))
    lib.autograd.set_detect_anomaly(False)
    states.append((enabled(), check_nan()))
    assert states == [(False, True), (True, False), (False, True), (True, False), (False, True)]


def test_detect_anomaly_as_a_decorator_and_restored_after_an_error():
    with pytest.warns(UserWarning, match="Anomaly Detection"):
        decorator = autograd.detect_anomaly()

    @decorator
    def train_step():
        assert autograd.is_anomaly_enabled()
        _, loss = nan_in_backward(ffnn)
        quietly(loss.backward)

    with pytest.raises(RuntimeError, match=NAN_MESSAGE):
        train_step()
    assert not autograd.is_anomaly_enabled()


def boom_function(lib):
    """A user Function named Boom whose backward raises."""

    class Boom(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("boom")

    return Boom


@BOTH
def test_an_error_in_a_backward_is_preceded_by_a_warning_naming_the_node(lib):
    with lib.autograd.set_detect_anomaly(True):
        out = boom_function(lib).apply(lib.ones(2, requires_grad=True)).sum()
        with pytest.warns(UserWarning, match="Error detected in BoomBackward"):
            with pytest.raises(ValueError, match="boom"):
                out.backward()


@BOTH
def test_a_nan_in_a_create_graph_backward_raises(lib):
    with lib.autograd.set_detect_anomaly(True):
        x, loss = nan_in_backward(lib)
        with pytest.raises(RuntimeError, match=NAN_MESSAGE):
            quietly(lambda: lib.autograd.grad(loss, x, create_graph=True))


def test_off_the_forward_records_nothing_and_on_it_records_the_call():
    assert autograd._anomaly_enabled is False
    x = ffnn.tensor([1.0, 2.0], requires_grad=True)
    assert "created_at" not in (x * 2.0).grad_fn.__dict__
    with autograd.set_detect_anomaly(True):
        assert "created_at" in (x * 2.0).grad_fn.__dict__


def test_gradients_in_anomaly_mode_are_the_usual_ones():
    """Anomaly mode writes out every gradient (an indexing's regional one too): same values."""
    grads = []
    for mode in (False, True):
        with autograd.set_detect_anomaly(mode):
            x = ffnn.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
            ((x[1:, ::2] * x[:2, 1::2]).exp().sum() + x[0].sum()).backward()
            grads.append(x.grad.numpy())
    t = torch.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    ((t[1:, ::2] * t[:2, 1::2]).exp().sum() + t[0].sum()).backward()
    assert_close(grads[0], t.grad.numpy())
    assert_close(grads[1], t.grad.numpy())


def test_the_top_level_queries_are_torchs_names_for_the_same_mode():
    import torch

    for name in ("is_anomaly_enabled", "is_anomaly_check_nan_enabled"):
        assert getattr(ffnn, name)() == getattr(torch, name)()
    with ffnn.autograd.detect_anomaly(check_nan=False):
        assert ffnn.is_anomaly_enabled() and not ffnn.is_anomaly_check_nan_enabled()
    assert not ffnn.is_anomaly_enabled()
