"""With ``FFNN_ACCEL=0`` a training step with every activation and optimizer runs on the
NumPy reference alone: numba is never imported; with numba, the compiled paths give the
same model to float32's precision."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ffnn import accel

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
import numpy as np
import ffnn
from ffnn import nn, optim
ffnn.manual_seed(0)
acts = [nn.ReLU(), nn.LeakyReLU(), nn.Sigmoid(), nn.Tanh(), nn.SiLU(), nn.GELU(),
        nn.GELU(approximate="tanh")]
layers = []
for act in acts:
    layers += [nn.Linear(64, 64), act]
model = nn.Sequential(*layers, nn.Linear(64, 1))
x = ffnn.tensor(np.random.default_rng(0).standard_normal((128, 64)).astype(np.float32))
params = list(model.parameters())
opts = [optim.SGD(params[:4], lr=1e-2, momentum=0.9, nesterov=True),
        optim.Adam(params[4:8], lr=1e-3, amsgrad=True), optim.AdamW(params[8:10]),
        optim.RMSprop(params[10:12], centered=True, momentum=0.5),
        optim.Adagrad(params[12:14]), optim.Adadelta(params[14:])]
for _ in range(2):
    for opt in opts:
        opt.zero_grad()
    model(x).square().mean().backward()
    for opt in opts:
        opt.step()
print("numba imported:", "numba" in sys.modules)
print(repr(float(model(x).sum())))
"""


def _run(environment: dict) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                            env=env, cwd=ROOT, check=True, timeout=300)
    return result.stdout.split("\n")


def test_ffnn_accel_0_trains_on_numpy_alone_and_the_compiled_paths_agree():
    reference = _run({"FFNN_ACCEL": "0"})
    assert reference[0] == "numba imported: False"
    assert np.isfinite(float(reference[1]))
    if accel.available:
        compiled = _run({"FFNN_ACCEL": "1"})
        assert compiled[0] == "numba imported: True"
        assert float(compiled[1]) == pytest.approx(float(reference[1]), rel=1e-4)
