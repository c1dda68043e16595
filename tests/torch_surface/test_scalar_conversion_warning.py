"""``float(t)`` of a tensor that requires grad warns as torch's (a UserWarning, once per
process, not under no_grad; ``int``, ``.item()``, ``bool`` and formatting stay silent). The
once-per-process latch is torch's C++ state, so each library runs in a fresh interpreter."""

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import ffnn

SCRIPT = """
import json, math, sys, warnings
lib = __import__(sys.argv[1])
warnings.simplefilter("always")
t = lib.tensor(2.0, requires_grad=True)
seen = []
for name, convert in [("int", int), ("item", lambda v: v.item()), ("bool", bool),
                      ("format", lambda v: f"{v:.2f}"), ("detached", lambda v: float(v.detach())),
                      ("no_grad", None), ("float", float), ("float again", float)]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if convert is None:
            with lib.no_grad():
                float(t)
        else:
            convert(t)
    seen += [(name, w.category.__name__, str(w.message).split(" (Triggered")[0])
             for w in caught]
print(json.dumps(seen))
"""


def _warnings_of(name: str) -> list:
    out = subprocess.run([sys.executable, "-c", SCRIPT, name], capture_output=True, text=True,
                         check=True, timeout=120, cwd=Path(__file__).parents[2])
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_float_of_a_tensor_requiring_grad_warns_once_as_torch():
    ours = _warnings_of("ffnn")
    assert ours == _warnings_of("torch")
    assert [name for name, *_ in ours] == ["float"]


@pytest.mark.parametrize("convert", [float, complex, math.floor])
def test_each_float_conversion_warns_and_names_the_caller(monkeypatch, convert):
    monkeypatch.setattr(sys.modules["ffnn.tensor"], "_scalar_warning_shown", [False])
    t = ffnn.tensor(1.5, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convert(t)
        convert(t)
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert caught[0].filename == __file__
    assert str(caught[0].message).startswith("Converting a tensor with requires_grad=True")
