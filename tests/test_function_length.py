"""No function or method in the ``ffnn`` package is longer than 60 lines (docstring
included): each does one job that a reader can hold at once."""

from __future__ import annotations

import ast
import pathlib

import ffnn

LIMIT = 60


def test_no_function_is_over_sixty_lines():
    package = pathlib.Path(ffnn.__file__).parent
    long = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LIMIT:
                    long.append(f"{path.relative_to(package)}:{node.lineno} {node.name} "
                                f"({lines} lines)")
    assert not long, long
