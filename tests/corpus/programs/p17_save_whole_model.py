"""Saving and loading a whole model object: torch.save(model, PATH) and
torch.load(PATH, weights_only=False), then inference in eval mode under no_grad."""
# corpus: same-numbers
import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(8)


class TinyNet(nn.Module):
    def __init__(self, hidden=6):
        super().__init__()
        self.hidden_size = hidden
        self.layers = nn.Sequential(nn.Linear(3, hidden), nn.Sigmoid(), nn.Linear(hidden, 2))

    def forward(self, x):
        return self.layers(x)


model = TinyNet()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.uniform(-1, 1, tuple(p.shape)), dtype=torch.float32))
model.eval()
torch.save(model, "tiny_model.pt")

loaded = torch.load("tiny_model.pt", weights_only=False)
loaded.eval()
x = torch.tensor(rng.standard_normal((4, 3)), dtype=torch.float32)
with torch.no_grad():
    print(loaded(x))
    print("hidden size", loaded.hidden_size, "training", loaded.training)
    print("equal", torch.equal(loaded(x), model(x)))
