"""A linear fit with torch.optim.LBFGS and its closure; @torch.no_grad() and
@torch.inference_mode() as decorators; torch.set_grad_enabled as a call and a context;
NumPy interop: indexing with arrays, None axes, FloatTensor/Tensor constructors, dtypes."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(25)
X = torch.from_numpy(rng.standard_normal((40, 3))).float()
w_true = torch.tensor([[1.5], [-2.0], [0.5]])
y = X @ w_true + 0.3


@torch.no_grad()
def evaluate(model, X, y):
    return nn.functional.mse_loss(model(X), y).item()


@torch.inference_mode()
def predict(model, X):
    return model(X)


model = nn.Linear(3, 1)
nn.init.zeros_(model.weight)
nn.init.zeros_(model.bias)
optimizer = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=20)


def closure():
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X), y)
    loss.backward()
    return loss


for step in range(3):
    loss = optimizer.step(closure)
    print(step, "loss", round(float(loss), 6), "eval", round(evaluate(model, X, y), 8))
p = predict(model, X[:2])
print(p.requires_grad, model.weight.data.round(decimals=3))
torch.set_grad_enabled(False)
z = model(X[:2])
print(z.requires_grad)
torch.set_grad_enabled(True)
print(model(X[:2]).requires_grad, torch.is_grad_enabled())
with torch.set_grad_enabled(False):
    print(model(X[:1]).requires_grad)
a = torch.tensor([1.0, 2.0], requires_grad=True)
print(a.detach().numpy(), np.array(a.detach()), a.tolist())
idx = np.array([0, 2])
print(X[idx].shape, X[X[:, 0] > 0].shape[1], X[:, None].shape, X[..., None].shape)
print(torch.FloatTensor(np.ones((2, 2))).dtype, torch.Tensor([1, 2]).dtype,
      torch.as_tensor([np.float32(1.0), np.float32(2.0)]).dtype)
print(torch.from_numpy(np.arange(3)).type(torch.FloatTensor), X.new_tensor([1, 2]).dtype)
print(torch.tensor(np.float64(2.5)).dtype, torch.tensor([1, 2.5]).dtype,
      torch.tensor([[1, 2]]).dtype)
