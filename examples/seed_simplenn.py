"""The tutorial's PyTorch program, unchanged except for its imports.

Swap the four ffnn imports below for `import torch`, `import torch.nn as nn`,
`import torch.optim as optim` and `from torch.utils.data import DataLoader, TensorDataset`
and the same text runs on PyTorch.
"""

import ffnn as torch
import ffnn.nn as nn
import ffnn.optim as optim
from ffnn.data import DataLoader, TensorDataset


class SimpleNN(nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()  # noqa: UP008 - the tutorial's spelling
        self.fc1 = nn.Linear(2, 3)
        self.fc2 = nn.Linear(3, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.fc1(x))
        x = self.fc2(x)
        return x


torch.manual_seed(0)
inputs = torch.randn(100, 2)
targets = inputs[:, 0:1] * 2.0 - inputs[:, 1:2] + 0.5  # y = 2·x₁ - x₂ + 0.5
train_loader = DataLoader(TensorDataset(inputs, targets), batch_size=10, shuffle=True)

model = SimpleNN()
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)

for epoch in range(100):
    for batch_inputs, batch_targets in train_loader:
        optimizer.zero_grad()
        outputs = model(batch_inputs)
        loss = criterion(outputs, batch_targets)
        loss.backward()
        optimizer.step()
    if (epoch + 1) % 10 == 0:
        print(f"Epoch [{epoch + 1}/100], Loss: {loss.item():.4f}")

with torch.no_grad():
    test_input = torch.tensor([[1.0, 2.0]])
    outputs = model(test_input)
    print(f"Prediction for [1.0, 2.0]: {outputs.item():.4f} (target 0.5)")
