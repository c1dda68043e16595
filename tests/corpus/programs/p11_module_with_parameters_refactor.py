"""The same model refactored with nn.Module, nn.Parameter and F.cross_entropy; the update
loops over model.parameters() under no_grad and then calls model.zero_grad()."""
# corpus: same-numbers
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

rng = np.random.default_rng(2)
n, features, classes = 240, 10, 3
centers = rng.standard_normal((classes, features)) * 1.5
labels_np = rng.integers(0, classes, n)
x_train = torch.tensor(centers[labels_np] + rng.standard_normal((n, features)),
                       dtype=torch.float32)
y_train = torch.tensor(labels_np)
initial = rng.standard_normal((features, classes)) / math.sqrt(features)


class LogisticModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.tensor(initial, dtype=torch.float32))
        self.bias = nn.Parameter(torch.zeros(classes))

    def forward(self, xb):
        return xb @ self.weights + self.bias


model = LogisticModel()
loss_func = F.cross_entropy
print("initial loss", loss_func(model(x_train), y_train).item())


def fit(epochs=3, bs=40, lr=0.2):
    for epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            xb = x_train[i * bs:i * bs + bs]
            yb = y_train[i * bs:i * bs + bs]
            loss = loss_func(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * lr
                model.zero_grad()
        print("epoch", epoch, "loss", loss_func(model(x_train), y_train).item())


fit()
accuracy = (model(x_train).argmax(dim=1) == y_train).float().mean()
print("accuracy", accuracy.item())
