"""A user's ``scheduler.get_lr()`` warns as torch's ("please use `get_last_lr()`") for each
scheduler whose ``get_lr`` torch warns in; the schedulers' own calls (``step()``, the closed
form, SequentialLR, ChainedScheduler, CosineAnnealingWarmRestarts' fractional epochs) stay
silent, and the flag torch keeps is in the state_dict as in torch's."""

import warnings

import pytest
import torch

import ffnn

SCHEDULERS = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 0.9 ** e),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda e: 0.9),
    "StepLR": lambda s, o: s.StepLR(o, 2),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [1, 3]),
    "ConstantLR": lambda s, o: s.ConstantLR(o, 0.5, 2),
    "LinearLR": lambda s, o: s.LinearLR(o, 0.5, total_iters=3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, 4),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, 4),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.01, 0.1, 2),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, 2),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10),
    "SequentialLR": lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.ExponentialLR(o, 0.9)],
                                                [2]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.StepLR(o, 2),
                                                         s.ExponentialLR(o, 0.9)]),
    "SWALR": None,
}


def _messages(lib, name: str) -> tuple[list, list, bool]:
    """(warnings of construction and steps, warnings of a user's get_lr(), flag saved)."""
    param = lib.nn.Parameter(lib.ones(2))
    optimizer = lib.optim.SGD([param], lr=0.1, momentum=0.9)
    make = SCHEDULERS[name]
    with warnings.catch_warnings(record=True) as stepping:
        warnings.simplefilter("always")
        scheduler = lib.optim.swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=3) \
            if make is None else make(lib.optim.lr_scheduler, optimizer)
        for _ in range(3):
            optimizer.step()
            scheduler.step()
        if name == "CosineAnnealingWarmRestarts":
            scheduler.step(3.5)
    with warnings.catch_warnings(record=True) as asked:
        warnings.simplefilter("always")
        try:
            scheduler.get_lr()
        except NotImplementedError:
            pass
    saved = "_get_lr_called_within_step" in scheduler.state_dict()
    return [str(w.message) for w in stepping], [str(w.message) for w in asked], saved


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_get_lr_warns_as_torch(name):
    ours, theirs = _messages(ffnn, name), _messages(torch, name)
    assert ours == theirs
    assert ours[0] == []


def test_the_warning_names_the_callers_line():
    optimizer = ffnn.optim.SGD([ffnn.nn.Parameter(ffnn.ones(1))], lr=0.1)
    scheduler = ffnn.optim.lr_scheduler.StepLR(optimizer, 2)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`") as caught:
        scheduler.get_lr()
    assert caught[0].filename == __file__
