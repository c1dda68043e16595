"""How the corpus reads numbers out of printed output and compares them."""

from tests.corpus import compare


def test_numbers_are_tokens_not_digits_inside_words():
    text = ("epoch 3, loss 0.125 tensor([1.0000, -2.5000e-03], dtype=torch.float64, "
            "grad_fn=<AddBackward0>) Size([2, 3]) 95.5% nan -inf float32")
    assert compare.numbers(text) == ["3", "0.125", "1.0000", "-2.5000e-03", "2", "3", "95.5",
                                     "nan", "-inf"]


def test_tolerance_follows_the_printed_precision():
    assert compare.close("0.1235", "0.12345678")  # torch rounds to 4 decimals
    assert not compare.close("0.1235", "0.1250")
    assert compare.close("1.", "1.0000")
    assert not compare.close("12", "13")  # counts must agree exactly
    assert compare.close("2.5e-03", "0.00250004")
    assert compare.close("nan", "nan") and not compare.close("nan", "1.0")
    assert compare.close("-inf", "-inf") and not compare.close("inf", "-inf")
    assert compare.close("100.0", "100.009")  # float32 round-off margin, relative


def test_mismatches_and_losses():
    assert compare.mismatches("a 1 b 2.0", "a 1 b 2.00001") == []
    assert compare.mismatches("1 2", "1") == ["torch printed 2 numbers, ffnn 1"]
    assert compare.mismatches("loss 0.5", "loss 0.6") == ["number 0: torch 0.5, ffnn 0.6"]
    text = "epoch 1 loss 0.9 acc 0.5\nno number here\nEpoch 2: Loss: 0.4\ntrain loss nan"
    assert compare.losses(text)[:2] == [0.9, 0.4]
