"""The tutorial's PyTorch program runs on ffnn by changing only its imports, and gives the
same final weights as PyTorch from the same initial weights (float64, ≤ 1e-9)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

TORCH_IMPORTS = """
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
"""
FFNN_IMPORTS = """
import ffnn as torch
import ffnn.nn as nn
import ffnn.optim as optim
from ffnn.data import DataLoader, TensorDataset
"""
PROGRAM = """
torch.set_default_dtype(torch.float64)

class SimpleNN(nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.fc1(x))
        x = self.fc2(x)
        return x

train_loader = DataLoader(TensorDataset(torch.tensor(DATA_X), torch.tensor(DATA_Y)),
                          batch_size=10, shuffle=False)
model = SimpleNN()
model.load_state_dict({name: torch.tensor(value) for name, value in INITIAL.items()})
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)

for epoch in range(100):
    for inputs, targets in train_loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
    LOSSES.append(loss.item())

with torch.no_grad():
    test_input = torch.tensor([[1.0, 2.0]])
    outputs = model(test_input)
    PREDICTION.append(outputs.item())
FINAL.update({name: NP.array(v, dtype=NP.float64) for name, v in model.state_dict().items()})
torch.set_default_dtype(torch.float32)
"""


def _run(imports: str, data_x, data_y, initial) -> dict:
    namespace = {"NP": np, "DATA_X": data_x, "DATA_Y": data_y, "INITIAL": initial, "LOSSES": [],
                 "PREDICTION": [], "FINAL": {}}
    exec(compile(imports + PROGRAM, "<tutorial program>", "exec"), namespace)
    return namespace


def test_same_program_text_gives_torchs_weights():
    rng = np.random.default_rng(7)
    data_x = rng.standard_normal((100, 2))
    data_y = (data_x @ np.array([[2.0], [-1.0]]) + 0.5 + 0.1 * rng.standard_normal((100, 1)))
    initial = {
        "fc1.weight": rng.uniform(-0.7, 0.7, (3, 2)),
        "fc1.bias": rng.uniform(-0.7, 0.7, 3),
        "fc2.weight": rng.uniform(-0.5, 0.5, (1, 3)),
        "fc2.bias": rng.uniform(-0.5, 0.5, 1),
    }
    with_torch = _run(TORCH_IMPORTS, data_x.tolist(), data_y.tolist(), initial)
    with_ffnn = _run(FFNN_IMPORTS, data_x.tolist(), data_y.tolist(), initial)

    assert list(with_ffnn["FINAL"]) == list(with_torch["FINAL"])
    for name, expected in with_torch["FINAL"].items():
        got = with_ffnn["FINAL"][name]
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(with_ffnn["LOSSES"], with_torch["LOSSES"], rtol=1e-9)
    np.testing.assert_allclose(with_ffnn["PREDICTION"], with_torch["PREDICTION"], rtol=1e-9)
    assert with_torch["LOSSES"][-1] < with_torch["LOSSES"][0] / 5  # it really trained


def test_example_script_learns_the_line():
    script = Path(__file__).resolve().parents[1] / "examples" / "seed_simplenn.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, check=True)
    lines = result.stdout.strip().splitlines()
    first_loss = float(lines[0].rsplit(":", 1)[1])
    last_loss = float(lines[-2].rsplit(":", 1)[1])
    prediction = float(lines[-1].split(":")[1].split()[0])
    assert last_loss < 0.05 < first_loss, result.stdout  # the line y = 2x1 - x2 + 0.5 is learnt
    assert abs(prediction - 0.5) < 0.3, result.stdout
