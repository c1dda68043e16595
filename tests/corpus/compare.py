"""Reading numbers out of two programs' printed output and comparing them.

Numbers are the tokens a reader sees as numbers (``12``, ``-0.5``, ``3.2e-05``, ``nan``), not
digits inside words (``float32``, ``AddBackward0``). Two runs agree when they print the same
count of numbers and each pair differs by at most half a unit in the last digit printed (torch
prints tensors with 4 decimals, ffnn with NumPy's precision) plus a float32 round-off margin.
"""

from __future__ import annotations

import math
import re

NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf)(?![\w])")
LOSS = re.compile(r"loss", re.IGNORECASE)
RTOL, ATOL = 1e-4, 1e-6


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def _unit(token: str) -> float:
    """One unit in the last printed digit of ``token`` (0 for nan/inf)."""
    mantissa, _, exponent = token.lower().lstrip("+-").partition("e")
    if mantissa in ("nan", "inf"):
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def close(expected: str, actual: str) -> bool:
    a, b = float(expected), float(actual)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    tolerance = 0.5 * max(_unit(expected), _unit(actual)) + RTOL * max(abs(a), abs(b)) + ATOL
    return abs(a - b) <= tolerance


def mismatches(expected_text: str, actual_text: str) -> list[str]:
    """Human-readable differences between the numbers of two outputs (empty: they agree)."""
    expected, actual = numbers(expected_text), numbers(actual_text)
    if len(expected) != len(actual):
        return [f"torch printed {len(expected)} numbers, ffnn {len(actual)}"]
    return [f"number {i}: torch {e}, ffnn {a}" for i, (e, a) in enumerate(zip(expected, actual))
            if not close(e, a)]


def losses(text: str) -> list[float]:
    """The first number after the word 'loss' on each line that has one."""
    found = []
    for line in text.splitlines():
        match = LOSS.search(line)
        if match:
            after = numbers(line[match.end():])
            if after:
                found.append(float(after[0]))
    return found
