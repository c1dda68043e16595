"""Run corpus programs in this process, one after another, and print a JSON report.

``python run_programs.py [--ffnn] OUT.json PROGRAM.py …``: each program runs as ``__main__``
(``runpy``) in a fresh working folder, with its printed output captured; with ``--ffnn`` its
imports are first swapped to ffnn (``swap_imports``) and nothing else changes. The report
maps each program's file name to ``{"stdout": …, "error": traceback or null, "seconds": …}``.
Process-wide settings a program may change (default dtype) are restored between programs;
the temporary folders a program makes (``tempfile.mkdtemp()``) lie in its working folder and
go with it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.corpus.swap_imports import swap_imports  # noqa: E402


def _run_one(path: Path, use_ffnn: bool, workdir: Path) -> dict:
    source = path.read_text(encoding="utf-8")
    if use_ffnn:
        source = swap_imports(source)
    script = workdir / path.name
    script.write_text(source, encoding="utf-8")
    captured, error = io.StringIO(), None
    old_cwd, old_argv, old_tempdir = os.getcwd(), sys.argv, tempfile.tempdir
    os.chdir(workdir)
    sys.argv = [str(script)]
    tempfile.tempdir = str(workdir)  # a program's mkdtemp() goes with its folder
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(captured):
            runpy.run_path(str(script), run_name="__main__")
    except BaseException:  # noqa: BLE001 - a failing program is reported, not fatal
        error = traceback.format_exc(limit=-8)
    finally:
        os.chdir(old_cwd)
        sys.argv = old_argv
        tempfile.tempdir = old_tempdir
    return {"stdout": captured.getvalue(), "error": error,
            "seconds": round(time.perf_counter() - start, 3)}


def main(argv: list[str]) -> None:
    use_ffnn = argv[0] == "--ffnn"
    out, *programs = argv[1:] if use_ffnn else argv
    lib = __import__("ffnn" if use_ffnn else "torch")
    if not use_ffnn:
        lib.set_num_threads(1)  # small programs: threads only contend on a shared machine
    default_dtype = lib.get_default_dtype()
    report = {}
    with tempfile.TemporaryDirectory() as root:
        for name in programs:
            path = Path(name)
            workdir = Path(root) / path.stem
            workdir.mkdir()
            report[path.name] = _run_one(path, use_ffnn, workdir)
            lib.set_default_dtype(default_dtype)
    Path(out).write_text(json.dumps(report), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
