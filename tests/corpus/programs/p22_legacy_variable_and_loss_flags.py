"""Older tutorial idioms: tensors wrapped in torch.autograd.Variable, losses configured with the
deprecated size_average= / reduce= flags, nn.MSELoss(size_average=False) summing the errors."""
# corpus: same-numbers
import warnings

import numpy as np
import torch
from torch.autograd import Variable

warnings.filterwarnings("ignore")
rng = np.random.default_rng(22)
x = Variable(torch.from_numpy(rng.standard_normal((30, 3)).astype(np.float32)))
y = Variable(torch.from_numpy(rng.standard_normal((30, 2)).astype(np.float32)))
labels = Variable(torch.from_numpy(rng.integers(0, 2, 30)))

model = torch.nn.Linear(3, 2)
model.weight.data = torch.from_numpy(rng.uniform(-0.5, 0.5, (2, 3)).astype(np.float32))
model.bias.data = torch.zeros(2)

sum_loss = torch.nn.MSELoss(size_average=False)
mean_loss = torch.nn.MSELoss(reduce=True, size_average=True)
per_sample = torch.nn.CrossEntropyLoss(reduce=False)
print("sum", sum_loss(model(x), y).item(), "mean", mean_loss(model(x), y).item())
print("per-sample shape", per_sample(model(x), labels).shape)

optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(20):
    loss = sum_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 5 == 4:
        print("step", step + 1, "loss", loss.data.item())
