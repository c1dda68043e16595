"""``Compare``: measurements as torch's table, one per label; rows by thread count and
sub-label, columns by description, each cell a median in the table's one unit."""

from __future__ import annotations

import math
from collections.abc import Callable

from ffnn.utils.benchmark import _UNIT_NAMES, Measurement, select_unit


def _trim_sigfig(value: float, figures: int) -> float:
    """``value`` rounded to ``figures`` significant figures."""
    magnitude = int(math.floor(math.log10(abs(value)))) if value else 0
    scale = 10 ** (magnitude - figures + 1)
    return round(value / scale) * scale


class Compare:
    """``Compare(results).print()`` (``trim_significant_figures``: each cell to the digits
    its measurement supports; ``colorize`` and ``highlight_warnings`` are accepted)."""

    def __init__(self, results: list[Measurement]):
        for result in results:
            if not isinstance(result, Measurement):
                raise ValueError(f"Compare: expected Measurements. Received: "
                                 f"{type(result).__name__}")
        self._results, self._trim = list(results), False

    def trim_significant_figures(self) -> None:
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        """Accepted: the table is printed without colours."""

    def highlight_warnings(self) -> None:
        """Accepted: measurements with a wide IQR are not marked."""

    def _column(self, results: list[Measurement], scale: float) -> Callable:
        """torch's number format for one column: right-aligned to the widest integer part,
        one decimal (``trim_significant_figures``: as many as the least certain supports)."""
        digits = [int(math.ceil(math.log10(r.median / scale))) for r in results]
        decimals = min(max(r.significant_figures - d, 0) for r, d in zip(results, digits)) \
            if self._trim else 1
        length = max(digits) + decimals + (1 if decimals else 0)

        def cell(result: Measurement | None) -> str:
            if result is None:
                return " " * len(f"{1:>{length}.{decimals}f}")
            value = result.median / scale
            if self._trim:
                value = _trim_sigfig(value, result.significant_figures)
            return f"{value:>{length}.{decimals}f}"
        return cell

    def _table(self, label, results: list[Measurement]) -> str:
        unit, scale = select_unit(min(r.median for r in results))
        columns = list(dict.fromkeys(r.description or "" for r in results))
        formats = {c: self._column([r for r in results if (r.description or "") == c], scale)
                   for c in columns}
        groups = []  # (threads, rows: [row name, cell per column])
        for count in sorted({r.num_threads for r in results}):
            mine = [r for r in results if r.num_threads == count]
            found = {(r.as_row_name, r.description or ""): r for r in mine}
            names = dict.fromkeys(r.as_row_name for r in mine)
            groups.append((count, [["      " + name] + [formats[c](found.get((name, c)))
                                                          for c in columns] for name in names]))
        table = [[""] + columns] + [row for _, rows in groups for row in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(columns) + 1)]
        header = "  |  ".join(c.center(w) for c, w in zip(table[0], widths))
        lines = [f"[{(' ' + (label or '') + ' ').center(len(header) - 2, '-')}]", header]
        for count, rows in groups:
            lines.append(f"{count} threads: ".ljust(len(header), "-"))
            lines += ["  |  ".join([row[0].ljust(widths[0])] + [
                v.center(w) for v, w in zip(row[1:], widths[1:])]) for row in rows]
        lines.append(f"\nTimes are in {_UNIT_NAMES[unit]} ({unit}).\n")
        return "\n".join(lines)

    def __str__(self) -> str:
        labels = list(dict.fromkeys(r.label for r in self._results))
        return "\n".join(self._table(label, [r for r in self._results if r.label == label])
                         for label in labels)

    def print(self) -> None:
        print(str(self))
