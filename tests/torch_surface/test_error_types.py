"""The exception types of common mistakes against torch's: a program's ``except
RuntimeError`` (or ``IndexError``) catches ffnn's error where it catches torch's. ffnn's own
types stay catchable too (``errors.RuntimeValueError`` is also a ValueError)."""

import warnings

import torch

import ffnn

MISTAKES = {
    "matmul of mismatched shapes": lambda L: L.ones(2, 3) @ L.ones(2, 3),
    "mm of mismatched shapes": lambda L: L.mm(L.ones(2, 3), L.ones(2, 3)),
    "dot of mismatched lengths": lambda L: L.dot(L.ones(2), L.ones(3)),
    "addmm of mismatched shapes": lambda L: L.addmm(L.ones(2), L.ones(2, 3), L.ones(2, 3)),
    "Linear of the wrong width": lambda L: L.nn.Linear(3, 2)(L.ones(4, 5)),
    "add that does not broadcast": lambda L: L.ones(2, 3) + L.ones(4),
    "mul that does not broadcast": lambda L: L.ones(2, 3) * L.ones(2, 2),
    "where that does not broadcast": lambda L: L.where(L.ones(2, dtype=L.bool), L.ones(3),
                                                       L.ones(2)),
    "view of the wrong size": lambda L: L.ones(2, 3).view(4, 2),
    "reshape of the wrong size": lambda L: L.ones(2, 3).reshape(5),
    "expand to a wrong size": lambda L: L.ones(2, 3).expand(4, 4),
    "item of many elements": lambda L: L.ones(2).item(),
    "index out of range": lambda L: L.ones(3)[5],
    "tensor index out of range": lambda L: L.ones(3)[L.tensor([0, 5])],
    "dim out of range": lambda L: L.ones(2, 3).sum(5),
    "backward of a non-scalar": lambda L: (L.ones(2, requires_grad=True) * 2).backward(),
    "backward of no graph": lambda L: L.ones(2).sum().backward(),
    "cat of mismatched shapes": lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]),
    "stack of mismatched shapes": lambda L: L.stack([L.ones(2, 3), L.ones(2, 4)]),
    "setitem of a wrong shape": lambda L: L.ones(2, 3).__setitem__(0, L.ones(4)),
    "gather out of range": lambda L: L.ones(2, 3).gather(1, L.tensor([[5]])),
    "cross_entropy label out of range": lambda L: L.nn.functional.cross_entropy(
        L.ones(2, 3), L.tensor([0, 5])),
    "nll_loss label out of range": lambda L: L.nn.functional.nll_loss(L.ones(2, 3),
                                                                      L.tensor([0, 5])),
    "cross_entropy of float labels": lambda L: L.nn.functional.cross_entropy(
        L.ones(2, 3), L.tensor([0.0, 1.0])),
    "cross_entropy of integer probabilities": lambda L: L.nn.functional.cross_entropy(
        L.ones(2, 3), L.ones(2, 3, dtype=L.int64)),
    "mse_loss of mismatched shapes": lambda L: L.nn.functional.mse_loss(L.ones(2, 3),
                                                                        L.ones(3, 2)),
    "binary_cross_entropy of logits": lambda L: L.nn.functional.binary_cross_entropy(
        L.tensor([1.5]), L.tensor([1.0])),
    "BatchNorm1d of the wrong width": lambda L: L.nn.BatchNorm1d(3)(L.ones(4, 5)),
    "LayerNorm of the wrong shape": lambda L: L.nn.LayerNorm(3)(L.ones(2, 4)),
    "Embedding of float indices": lambda L: L.nn.Embedding(3, 2)(L.tensor([1.0])),
    "Embedding index out of range": lambda L: L.nn.Embedding(3, 2)(L.tensor([5])),
    "in-place change of a leaf": lambda L: L.ones(2, requires_grad=True).add_(1),
    "load_state_dict of a wrong shape": lambda L: L.nn.Linear(2, 2).load_state_dict(
        {"weight": L.ones(3, 2), "bias": L.ones(2)}),
}


def _raised(lib, mistake):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            MISTAKES[mistake](lib)
        except Exception as error:  # noqa: BLE001 - the type is what is compared
            return error
    raise AssertionError(f"{lib.__name__}: {mistake} raised nothing")


def test_each_error_is_an_instance_of_torchs_type():
    wrong = {}
    for mistake in sorted(MISTAKES):
        ours, theirs = _raised(ffnn, mistake), _raised(torch, mistake)
        if not isinstance(ours, type(theirs)):
            wrong[mistake] = (type(ours).__name__, type(theirs).__name__)
    assert not wrong


def test_shape_errors_remain_value_errors():
    """Code written against ffnn's ValueError keeps catching them."""
    from ffnn.errors import RuntimeValueError

    for mistake in ("matmul of mismatched shapes", "add that does not broadcast",
                    "item of many elements", "cat of mismatched shapes"):
        error = _raised(ffnn, mistake)
        assert isinstance(error, ValueError) and isinstance(error, RuntimeValueError)
