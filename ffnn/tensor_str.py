"""How a tensor prints, as torch prints it: ``tensor([1.5000, 2.0000])``, ``tensor([1., 2.])``,
``tensor([1.0000e-05, 1.0000e+00])``, long tensors summarised with ``...``; the settings are
``torch.set_printoptions``'s (precision 4, threshold 1000, edgeitems 3, linewidth 80).

A floating tensor's entries share one format chosen from its finite nonzero magnitudes:
whole numbers print as ``2.``, otherwise ``precision`` decimals; scientific notation when
max/min > 1000, max > 1e8, or (not whole) min < 1e-4. Entries are right-aligned to one width.
"""

from __future__ import annotations

import math
import sys

import numpy as np

DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
            "sci_mode": None}
PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
            "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
            "full": dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80)}
OPTIONS = dict(DEFAULTS)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """torch's print settings (``profile``: 'default', 'short' or 'full'; ``sci_mode``:
    True/False forces or forbids 1e-05 style, None chooses per tensor)."""
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(PROFILES)}, "
                             f"received {profile!r}")
        OPTIONS.update(PROFILES[profile])
    given = dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                 linewidth=linewidth)
    OPTIONS.update({k: v for k, v in given.items() if v is not None})
    OPTIONS["sci_mode"] = sci_mode


class _Formatter:
    """One format for every entry of ``values`` (see the module docstring)."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        precision = OPTIONS["precision"]
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.width = max(self.width, len(str(value)))
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)]
            if finite.size:
                magnitude = np.abs(finite).astype(np.float64)
                low, high = magnitude.min(), magnitude.max()
                self.int_mode = bool(np.all(finite == np.ceil(finite)))
                wide = high / low > 1000.0 or high > 1.0e8
                self.sci_mode = wide if self.int_mode else wide or low < 1.0e-4
                if OPTIONS["sci_mode"] is not None:  # the widths are the chosen mode's
                    self.sci_mode = OPTIONS["sci_mode"]
                for value in finite.tolist():
                    if self.sci_mode:
                        text = f"{value:.{precision}e}"
                    elif self.int_mode:
                        text = f"{value:.0f}."
                    else:
                        text = f"{value:.{precision}f}"
                    self.width = max(self.width, len(text))
        if OPTIONS["sci_mode"] is not None:
            self.sci_mode = OPTIONS["sci_mode"]

    def format(self, value) -> str:
        precision = OPTIONS["precision"]
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{precision}f}"
        return " " * (self.width - len(text)) + text


def _summarized(values: np.ndarray) -> np.ndarray:
    """The first and last ``edgeitems`` entries along every long axis."""
    edge = OPTIONS["edgeitems"]
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            keep = list(range(edge)) + list(range(size - edge, size))
            values = np.take(values, keep, axis=axis)
    return values


def _vector(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    edge = OPTIONS["edgeitems"]
    per_line = max(1, int(math.floor((OPTIONS["linewidth"] - indent) / (formatter.width + 2))))
    if summarize and values.shape[0] > 2 * edge:
        items = ([formatter.format(v) for v in values[:edge].tolist()] + [" ..."]
                 + [formatter.format(v) for v in values[-edge:].tolist()])
    else:
        items = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, formatter)
    edge, size = OPTIONS["edgeitems"], values.shape[0]
    if summarize and size > 2 * edge:
        rows = ([_nested(values[i], indent + 1, summarize, formatter) for i in range(edge)]
                + ["..."]
                + [_nested(values[i], indent + 1, summarize, formatter)
                   for i in range(size - edge, size)])
    else:
        rows = [_nested(values[i], indent + 1, summarize, formatter) for i in range(size)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(values: np.ndarray, dtype_shown: str | None, autograd_suffix: str | None) -> str:
    """``tensor(…)`` for ``values``; ``dtype_shown``: the dtype suffix's name, or None when it
    is left out; ``autograd_suffix``: 'requires_grad=True' / 'grad_fn=<…>' or None."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if values.size == 0:
        body = "[]"
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
    else:
        summarize = values.size > OPTIONS["threshold"]
        formatter = _Formatter(_summarized(values) if summarize else values)
        body = _nested(values, indent, summarize, formatter)
    if dtype_shown is not None:
        suffixes.append(f"dtype={dtype_shown}")
    if autograd_suffix is not None:
        suffixes.append(autograd_suffix)
    return _with_suffixes(prefix + body, suffixes, indent)
