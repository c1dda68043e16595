"""Train briefly, save model.state_dict() with torch.save to a .pth file, load it into a new
instance with torch.load(..., weights_only=True), switch to eval() and compare predictions."""
# corpus: same-numbers
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.default_rng(11)
X = torch.tensor(rng.standard_normal((80, 4)), dtype=torch.float32)
Y = torch.tensor(rng.integers(0, 3, 80))


class Classifier(nn.Module):
    def __init__(self):
        super(Classifier, self).__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def initial_state():
    return {"fc1.weight": torch.tensor(rng.uniform(-0.5, 0.5, (8, 4)), dtype=torch.float32),
            "fc1.bias": torch.zeros(8),
            "fc2.weight": torch.tensor(rng.uniform(-0.5, 0.5, (3, 8)), dtype=torch.float32),
            "fc2.bias": torch.zeros(3)}


model = Classifier()
model.load_state_dict(initial_state())
optimizer = optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
for epoch in range(30):
    optimizer.zero_grad()
    loss = criterion(model(X), Y)
    loss.backward()
    optimizer.step()
print("trained loss", loss.item())

PATH = "classifier.pth"
torch.save(model.state_dict(), PATH)
print("saved", os.path.exists(PATH))
for name, tensor in model.state_dict().items():
    print(name, tuple(tensor.shape))

restored = Classifier()
restored.load_state_dict(torch.load(PATH, weights_only=True))
restored.eval()
with torch.no_grad():
    same = torch.allclose(restored(X), model(X))
    print("same predictions", same, restored(X[:2]).argmax(dim=1).tolist())
