"""The training package's layering: ``ffnn.io`` never imports ``ffnn.train`` (no cycle), and
the Trainer's loop imports nothing and asks nothing about distribution (a strategy does)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import ffnn

PACKAGE = os.path.dirname(ffnn.__file__)


def _imported_modules(path: str) -> set[str]:
    tree = ast.parse(open(path, encoding="utf-8").read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_io_imports_without_train():
    code = ("import sys, pkgutil, importlib\n"
            "sys.modules['ffnn.train'] = None\n"
            "import ffnn.io\n"
            "for info in pkgutil.iter_modules(ffnn.io.__path__):\n"
            "    importlib.import_module('ffnn.io.' + info.name)\n"
            "print('ok')\n")
    env = {**os.environ, "PYTHONPATH": os.path.dirname(PACKAGE)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_no_io_module_names_train_even_lazily():
    folder = os.path.join(PACKAGE, "io")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            imported = _imported_modules(os.path.join(folder, name))
            assert not {m for m in imported if m.startswith(("ffnn.train", "ffnn.distributed"))}, \
                name


def test_the_trainer_has_no_distributed_branch_and_no_import_in_a_function():
    path = os.path.join(PACKAGE, "train", "trainer.py")
    tree = ast.parse(open(path, encoding="utf-8").read())
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(function):
            assert not isinstance(node, (ast.Import, ast.ImportFrom)), function.name
            assert not (isinstance(node, ast.Attribute) and node.attr == "distributed"), \
                function.name
    assert not {m for m in _imported_modules(path) if m.startswith("ffnn.distributed")}


def test_distributed_calls_no_private_trainer_method():
    folder = os.path.join(PACKAGE, "distributed")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(folder, name), encoding="utf-8").read())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "trainer"):
                assert not node.attr.startswith("_"), f"{name}: trainer.{node.attr}"
