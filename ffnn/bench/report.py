"""Turning a benchmark result into a text table, a Markdown table or JSON; the targets."""

from __future__ import annotations

import json

JAX_TARGET = ("jax_ratio", 1.0, "ffnn/JAX <= 1.0")
COMPILED_TARGET = ("compiled_jax_ratio", 1.0, "compiled/JAX <= 1.0")
STEP_TARGET = ("step_over_matmul", 1.25, "step/matmul <= 1.25")
COMPILED_STEP_TARGET = ("compiled_over_matmul", 1.25, "compiled step/matmul <= 1.25")
GROUP_TARGETS = [("ratio", 0.8, "ffnn/torch <= 0.8"), JAX_TARGET, COMPILED_TARGET, STEP_TARGET,
                 COMPILED_STEP_TARGET]

# case -> [(metric, limit, label)]: a target is met when result[metric] <= limit
TARGETS = {
    "mlp": [("ratio", 0.8, "ffnn/torch <= 0.8"), JAX_TARGET, COMPILED_TARGET, STEP_TARGET,
            COMPILED_STEP_TARGET],
    "ffn": [("ratio", 0.9, "ffnn/torch <= 0.9"), JAX_TARGET, COMPILED_TARGET, STEP_TARGET,
            COMPILED_STEP_TARGET, ("memory_ratio", 1.0, "peak memory <= torch")],
    "tiny": [("ratio", 0.5, "ffnn/torch <= 0.5"), JAX_TARGET, COMPILED_TARGET],
    "shapes": GROUP_TARGETS,
    "sweep": GROUP_TARGETS,
    "shape": GROUP_TARGETS,
    "predict": [("ratio", 0.9, "ffnn/torch <= 0.9")],
    "sklearn": [("ratio", 1 / 3, "fit time <= 1/3 of MLPClassifier"),
                ("accuracy_deficit", 0.0, "accuracy >= MLPClassifier")],
    "encode": [("ratio", 1.0, "ffnn/torch time <= 1.0"),
               ("max_abs_diff", 1e-5, "embeddings within 1e-5")],
}


DISTRIBUTED_SPEEDUP = 1.6
"""samples/s of 2 ranks over 1 rank (the best method) on the ffn case."""


def check_targets(row: dict) -> dict[str, bool | None]:
    """{label: met?} for the row's case (None when the metric could not be measured)."""
    out: dict[str, bool | None] = {}
    for metric, limit, label in TARGETS.get(row["case"], []):
        value = row.get(metric)
        out[label] = None if value is None else bool(value <= limit + 1e-12)
    return out


def _fmt(value, spec: str, missing: str = "—") -> str:
    return missing if value is None else format(value, spec)


def mark(row: dict, metric: str) -> str:
    """" ✓" or " ✗" after a ratio that has a target in the row's case, else ""."""
    for name, limit, _ in TARGETS.get(row["case"], []):
        if name == metric and row.get(metric) is not None:
            return " ✓" if row[metric] <= limit + 1e-12 else " ✗"
    return ""


def case_label(row: dict) -> str:
    """``mlp``, or ``sweep relu adam`` for an entry of a group."""
    return f"{row['case']} {row['variant']}" if row.get("variant") else row["case"]


_COLUMNS = [
    ("case", "case", "s"),
    ("ffnn ms", "ffnn_ms", ".3f"),
    ("torch ms", "torch_ms", ".3f"),
    ("JAX ms", "jax_ms", ".3f"),
    ("ffnn/torch", "ratio", ".2f"),
    ("ffnn/JAX", "jax_ratio", ".2f"),
    ("compiled ms", "compiled_ms", ".3f"),
    ("compiled/JAX", "compiled_jax_ratio", ".2f"),
    ("step/matmuls", "step_over_matmul", ".2f"),
    ("compiled/matmuls", "compiled_over_matmul", ".2f"),
    ("GFLOP/s", "gflops", ".1f"),
    ("of matmul peak", "peak_fraction", ".0%"),
    ("ffnn MiB", "ffnn_peak_mib", ".1f"),
    ("torch MiB", "torch_peak_mib", ".1f"),
]
_MARKED = ("ratio", "jax_ratio", "compiled_jax_ratio", "step_over_matmul",
           "compiled_over_matmul")


def _cell(row: dict, key: str, spec: str) -> str:
    if key == "case":
        return case_label(row)
    text = _fmt(row.get(key), spec)
    return text + mark(row, key) if key in _MARKED else text


def _rows(result: dict) -> list[list[str]]:
    rows = []
    for row in result["cases"]:
        if row["case"] in ("sklearn", "encode"):
            continue
        rows.append([_cell(row, key, spec) for _, key, spec in _COLUMNS])
    return rows


def _sklearn_lines(result: dict) -> list[str]:
    lines = []
    for row in result["cases"]:
        if row["case"] != "sklearn" or row.get("ffnn_fit_s") is None:
            continue
        lines.append(
            f"sklearn ({row['dataset']}, {row['epochs']} epochs, medians of {row['seeds']} "
            f"seeds): FFNNClassifier fit {row['ffnn_fit_s']:.3f} s, accuracy "
            f"{row['ffnn_accuracy']:.4f} (mean {row['ffnn_mean_accuracy']:.4f}); MLPClassifier "
            f"fit {row['sklearn_fit_s']:.3f} s, accuracy {row['sklearn_accuracy']:.4f} (mean "
            f"{row['sklearn_mean_accuracy']:.4f}); time ratio {row['ratio']:.2f}")
    if any(row["case"] == "encode" for row in result["cases"]):
        from ffnn.bench.encode import encode_line

        lines += [encode_line(row) for row in result["cases"] if row["case"] == "encode"]
    return lines


def group_target_lines(rows: list[dict]) -> list[str]:
    """Per group (``sweep``, ``shapes``) and target: on how many entries it is met, and
    which entries miss it."""
    lines = []
    for group in dict.fromkeys(r["case"] for r in rows if r.get("variant")):
        entries = [r for r in rows if r["case"] == group and r.get("variant")]
        for label in entries[0].get("targets", {}):
            verdicts = [(r["variant"], r["targets"][label]) for r in entries]
            measured = [(v, met) for v, met in verdicts if met is not None]
            if not measured:
                lines.append(f"{group}: {label}: not measured")
                continue
            missed = [v for v, met in measured if not met]
            line = f"{group}: {label}: met on {len(measured) - len(missed)} of {len(measured)}"
            lines.append(line + (f" (NOT met: {', '.join(missed)})" if missed else ""))
    return lines


def _target_lines(result: dict) -> list[str]:
    lines = group_target_lines(result["cases"])
    for row in result["cases"]:
        if row.get("variant"):
            continue
        for label, met in row.get("targets", {}).items():
            verdict = "not measured" if met is None else "met" if met else "NOT met"
            where = f"{row['case']} ({row['dataset']})" if row.get("dataset") else row["case"]
            lines.append(f"{where}: {label}: {verdict}")
    if result.get("distributed"):
        from ffnn.bench.distributed import best_speedup

        speedup = best_speedup(result["distributed"], 2)
        verdict = ("not measured" if speedup is None else
                   f"{'met' if speedup >= DISTRIBUTED_SPEEDUP else 'NOT met'} ({speedup:.2f}x)")
        lines.append(f"distributed: 2 ranks >= {DISTRIBUTED_SPEEDUP}x the samples/s of 1: "
                     f"{verdict}")
    return lines


def _header(result: dict) -> list[str]:
    m, s = result["machine"], result["settings"]
    return [f"ffnn bench — {m['cpu']} ({m['cores']} cores); {s['threads']} thread(s) per "
            f"library, {s['dtype']}, median of {s['repeat']} repeats; numpy {m['numpy']} "
            f"({m['blas']}), torch {m['torch'] or 'not installed'}"
            + (f", jax {m['jax']}" if m.get("jax") else "")
            + "; training steps: each library in its own process"]


def to_text(result: dict) -> str:
    """An aligned plain-text table, then sklearn, targets and notes."""
    header = [title for title, _, _ in _COLUMNS]
    rows = _rows(result)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = _header(result)
    lines.append("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    lines += _sklearn_lines(result)
    if result.get("distributed"):
        lines.append(result["distributed"]["text"])
    lines += ["targets:"] + ["  " + t for t in _target_lines(result)]
    lines += ["note: " + n for n in result["notes"]]
    return "\n".join(lines)


def to_markdown(result: dict) -> str:
    """The same as a Markdown table, with the machine line on top."""
    header = [title for title, _, _ in _COLUMNS]
    lines = ["**" + _header(result)[0] + "**", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in _rows(result)]
    extra = _sklearn_lines(result)
    if extra:
        lines += [""] + ["- " + line for line in extra]
    if result.get("distributed"):
        lines += ["", "```", result["distributed"]["text"], "```"]
    lines += ["", "Targets:", ""] + ["- " + t for t in _target_lines(result)]
    if result["notes"]:
        lines += ["", "Notes:", ""] + ["- " + n for n in result["notes"]]
    return "\n".join(lines)


def to_json(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=False)
