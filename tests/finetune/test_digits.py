"""The fine-tuning story on real data (examples/finetune_digits.py), with the numbers it gives.

Test accuracy on digits 5-9 (224 test rows) after learning from 10% of their training rows
(67 rows), for seeds 0-9 (the seed picks the 67 rows and the initialisations):

    method                    mean   per seed 0..9
    from scratch              0.958  .982 .951 .955 .946 .960 .964 .982 .924 .960 .955
    frozen body + new head    0.957  .946 .942 .969 .946 .964 .982 .960 .955 .951 .951
    full FT, layer-wise lr    0.959  .964 .946 .951 .960 .960 .973 .978 .946 .955 .960
    LoRA r=4 + new head       0.948  .955 .938 .920 .946 .960 .960 .951 .938 .955 .955

(dropout's masks as drawn since SplitMix64 keys them; with the earlier masks the means were
0.963, 0.955, 0.961 and 0.952: the methods move by a row or two of the test set with the
random stream, which is why the test takes all ten seeds.)

So on this data transfer from digits 0-4 does *not* beat training from scratch: the methods
tie within the seed spread. Tried without success: widths 256-1024, one or two hidden layers,
30-120 pretraining epochs, shift/affine/noise/mixup augmentation, weight decay, rotation
pretext classes, LP-FT; shifts while fine-tuning hurt every method. A linear head on the
pretrained hidden layer does no better than one on a random ReLU layer (0.957 vs 0.956),
and a from-scratch MLP on all 672 rows reaches only 0.98, so 67 rows leave little to gain.
The test checks what holds: pretraining works, each method learns 5-9 nearly as well as
scratch, freezing/LoRA leave the pretrained weights alone, and the parameter budgets.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

import ffnn
from ffnn import finetune

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "finetune_digits.py"
SEEDS = tuple(range(10))


def _example():
    spec = importlib.util.spec_from_file_location("finetune_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _logits(model, X):
    model.eval()
    with ffnn.no_grad():
        return model(ffnn.tensor(X)).numpy()


def test_finetune_digits_story():
    example = _example()
    results = [example.run(seed) for seed in SEEDS]
    accuracy = {method: [] for method in example.METHODS}
    for result in results:
        assert result["pretrain_accuracy"] > 0.95  # digits 0-4: measured 0.973-0.991
        for row in result["rows"]:
            accuracy[row["method"]].append(row["accuracy"])
    mean = {method: np.mean(values) for method, values in accuracy.items()}
    for method, values in accuracy.items():
        assert min(values) > 0.90, (method, values)  # chance is 0.2; measured >= 0.920
        # measured: at most 0.010 below scratch on average over the ten seeds
        assert mean[method] > mean["from scratch"] - 0.025, mean

    rows = {row["method"]: row for row in results[0]["rows"]}
    pretrained = results[0]["pretrained"]
    hidden = 64 * 512 + 512
    assert rows["from scratch"]["trainable"] == hidden + 512 * 5 + 5
    assert rows["full fine-tuning, layer-wise lr"]["trainable"] == hidden + 512 * 5 + 5
    assert rows["frozen body + new head"]["trainable"] == 512 * 5 + 5
    assert rows["LoRA r=4 + new head"]["trainable"] == 4 * (64 + 512) + 512 * 5 + 5

    frozen = rows["frozen body + new head"]["model"]
    np.testing.assert_array_equal(frozen[0].weight.data, pretrained[0].weight.data)
    full = rows["full fine-tuning, layer-wise lr"]["model"]
    assert not np.allclose(full[0].weight.data, pretrained[0].weight.data)
    lora = rows["LoRA r=4 + new head"]["model"]
    np.testing.assert_array_equal(lora[0].base.weight.data, pretrained[0].weight.data)
    assert np.abs(lora[0].lora_B.data).max() > 0  # the adapter learnt something
    X = example.digits_split(SEEDS[0])["test"][0]
    merged = finetune.merge_lora(lora)
    np.testing.assert_allclose(_logits(merged, X), _logits(lora, X), rtol=1e-4, atol=1e-4)
