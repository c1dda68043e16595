"""Change only a PyTorch program's imports so that it runs on ffnn.

Every ``import`` / ``from … import`` statement naming ``torch`` (or a submodule) is rewritten to
name ``ffnn`` instead, keeping the names the program binds: ``import torch`` becomes ``import
ffnn as torch``, ``import torch.nn as nn`` becomes ``import ffnn.nn as nn``, ``from torch.utils.data
import DataLoader`` becomes ``from ffnn.utils.data import DataLoader``. Nothing else in the
program changes; line numbers stay the same (each statement keeps its lines).
"""

from __future__ import annotations

import ast


def _ffnn_name(module: str) -> str:
    return "ffnn" + module[len("torch"):]


def _is_torch(module: str | None) -> bool:
    return module is not None and (module == "torch" or module.startswith("torch."))


def _rewrite_import(node: ast.Import) -> str | None:
    if not any(_is_torch(alias.name) for alias in node.names):
        return None
    parts = []
    for alias in node.names:
        if not _is_torch(alias.name):
            parts.append(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
        elif alias.asname:
            parts.append(f"import {_ffnn_name(alias.name)} as {alias.asname}")
        else:  # `import torch.nn` binds `torch`: load the submodule, bind the top package
            if alias.name != "torch":
                parts.append(f"import {_ffnn_name(alias.name)}")
            parts.append("import ffnn as torch")
    return "; ".join(parts)


def _rewrite_from(node: ast.ImportFrom) -> str | None:
    if node.level or not _is_torch(node.module):
        return None
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    return f"from {_ffnn_name(node.module)} import {names}"


def swap_imports(source: str) -> str:
    """``source`` with its torch imports pointing at ffnn (see the module docstring)."""
    lines = source.splitlines(keepends=True)
    edits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            new = _rewrite_import(node)
        elif isinstance(node, ast.ImportFrom):
            new = _rewrite_from(node)
        else:
            continue
        if new is not None:
            edits.append((node.lineno, node.end_lineno, node.col_offset, new))
    for start, end, column, new in sorted(edits, reverse=True):
        first, last = lines[start - 1], lines[end - 1]
        ending = "\n" if last.endswith("\n") else ""
        replacement = first[:column] + new + ending
        lines[start - 1:end] = [replacement] + ["\n"] * (end - start)
    return "".join(lines)
