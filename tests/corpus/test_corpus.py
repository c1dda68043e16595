"""The corpus: short programs written the way real PyTorch programs are (the official
tutorials, pytorch/examples, English and Chinese tutorial repositories), run under torch and,
with only their imports swapped, under ffnn.

Each program says in a ``# corpus:`` line how the two runs are compared:

* ``same-numbers`` — the program draws no random numbers from the library (data from NumPy's
  seeded generator, weights set explicitly), so every printed number must agree to float32
  round-off and print precision (``compare.mismatches``);
* ``trains`` — it draws from the library's generator (``torch.manual_seed``, default
  initialisation, shuffling, dropout), whose numbers differ between the libraries: ffnn must
  run it, print as many lines, only finite numbers, and losses that go down, as torch's do.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus import compare

HERE = Path(__file__).resolve().parent
PROGRAMS = sorted((HERE / "programs").glob("p*.py"))
MODES = ("same-numbers", "trains")


def _mode(program: Path) -> str:
    for line in program.read_text(encoding="utf-8").splitlines():
        if line.startswith("# corpus:"):
            mode = line.split(":", 1)[1].strip()
            assert mode in MODES, f"{program.name}: unknown corpus mode {mode!r}"
            return mode
    raise AssertionError(f"{program.name} has no '# corpus:' line")


def _command(out: Path, use_ffnn: bool) -> list[str]:
    return [sys.executable, str(HERE / "run_programs.py"), *(["--ffnn"] if use_ffnn else []),
            str(out), *map(str, PROGRAMS)]


def _run_both(folder: Path) -> None:
    """Run every program under torch and under ffnn, the two processes side by side, writing
    ``folder``/torch.json and ``folder``/ffnn.json."""
    runs = [subprocess.Popen(_command(folder / f"{name}.json", name == "ffnn"),
                             cwd=HERE.parents[1]) for name in ("torch", "ffnn")]
    try:
        for run in runs:
            assert run.wait(timeout=900) == 0, f"run_programs.py exited with {run.returncode}"
    finally:
        for run in runs:
            if run.poll() is None:  # the other one failed or timed out: leave nothing running
                run.kill()


@pytest.fixture(scope="session")
def corpus_runs(tmp_path_factory) -> dict:
    """{"torch": report, "ffnn": report} (``run_programs.py``), computed once per test
    session: under xdist the first worker to ask runs both libraries while the others wait
    for its files (the folder above each worker's base folder is the session's)."""
    pytest.importorskip("torch")
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    folder = shared / "corpus"
    with FileLock(str(shared / "corpus.lock")):
        if not (folder / "ffnn.json").is_file():
            folder.mkdir(exist_ok=True)
            _run_both(folder)
    return {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in ("torch", "ffnn")}


def test_the_corpus_has_at_least_twenty_programs():
    assert len(PROGRAMS) >= 20
    assert {_mode(p) for p in PROGRAMS} == set(MODES)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_program_runs_on_ffnn_as_on_torch(program, corpus_runs):
    theirs, ours = corpus_runs["torch"][program.name], corpus_runs["ffnn"][program.name]
    assert theirs["error"] is None, f"the program fails under torch:\n{theirs['error']}"
    assert ours["error"] is None, f"the program fails under ffnn:\n{ours['error']}"
    assert theirs["stdout"].strip(), "the program prints nothing to compare"
    if _mode(program) == "same-numbers":
        problems = compare.mismatches(theirs["stdout"], ours["stdout"])
        assert not problems, ("printed numbers differ:\n" + "\n".join(problems[:10])
                              + f"\n--- torch ---\n{theirs['stdout']}\n--- ffnn ---\n"
                              f"{ours['stdout']}")
        return
    assert len(ours["stdout"].splitlines()) == len(theirs["stdout"].splitlines()), (
        f"--- torch ---\n{theirs['stdout']}\n--- ffnn ---\n{ours['stdout']}")
    values = [float(n) for n in compare.numbers(ours["stdout"])]
    assert all(math.isfinite(v) for v in values), ours["stdout"]
    for name, run in (("torch", theirs), ("ffnn", ours)):
        losses = compare.losses(run["stdout"])
        assert len(losses) >= 2, f"{name} printed fewer than two losses:\n{run['stdout']}"
        assert losses[-1] < losses[0], f"{name}'s loss did not go down: {losses}"
