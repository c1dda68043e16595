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


def _run_all(tmp_path_factory, use_ffnn: bool) -> dict:
    out = tmp_path_factory.mktemp("corpus") / "report.json"
    command = [sys.executable, str(HERE / "run_programs.py"), *(["--ffnn"] if use_ffnn else []),
               str(out), *map(str, PROGRAMS)]
    subprocess.run(command, check=True, timeout=900, cwd=HERE.parents[1])
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def torch_runs(tmp_path_factory):
    pytest.importorskip("torch")
    return _run_all(tmp_path_factory, use_ffnn=False)


@pytest.fixture(scope="module")
def ffnn_runs(tmp_path_factory):
    return _run_all(tmp_path_factory, use_ffnn=True)


def test_the_corpus_has_at_least_twenty_programs():
    assert len(PROGRAMS) >= 20
    assert {_mode(p) for p in PROGRAMS} == set(MODES)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_program_runs_on_ffnn_as_on_torch(program, torch_runs, ffnn_runs):
    theirs, ours = torch_runs[program.name], ffnn_runs[program.name]
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
