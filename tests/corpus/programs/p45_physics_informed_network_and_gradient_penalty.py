"""A physics-informed network as the PINN tutorials write it: u(x) solves u'' = -π² sin(πx)
with u(0) = u(1) = 0, its derivatives from torch.autograd.grad(create_graph=True); then a
WGAN-GP style gradient penalty on a critic, and backward(create_graph=True)."""
# corpus: same-numbers
import math

import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(45)


class PINN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                                 nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


model = PINN()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))

x = torch.linspace(0, 1, 32).reshape(-1, 1).requires_grad_(True)
boundary = torch.tensor([[0.0], [1.0]])
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)


def pde_residual(model, x):
    u = model(x)
    u_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x),
                               create_graph=True)[0]
    return u_xx + math.pi ** 2 * torch.sin(math.pi * x)


for epoch in range(201):
    optimizer.zero_grad()
    loss = pde_residual(model, x).pow(2).mean() + model(boundary).pow(2).mean()
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0:
        print(f"epoch {epoch} loss {loss.item():.6g}")
print("u(0.5)", round(model(torch.tensor([[0.5]])).item(), 6))

critic = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
with torch.no_grad():
    for p in critic.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
real = torch.from_numpy(rng.standard_normal((6, 2)))
fake = torch.from_numpy(rng.standard_normal((6, 2)))
alpha = torch.from_numpy(rng.uniform(size=(6, 1)))
mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
scores = critic(mixed)
grads = torch.autograd.grad(outputs=scores, inputs=mixed, grad_outputs=torch.ones_like(scores),
                            create_graph=True, retain_graph=True)[0]
penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
critic_loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
critic_loss.backward()
print("penalty", round(penalty.item(), 6))
print("critic grad norm", round(sum(p.grad.pow(2).sum() for p in critic.parameters()).item(), 6))

w = torch.tensor([0.5, -1.5], requires_grad=True)
loss = (w.tanh() * w).sum()
loss.backward(create_graph=True)
hessian_vector = torch.autograd.grad(w.grad @ torch.tensor([1.0, 2.0]), w)[0]
print("grad", w.grad.detach().numpy().round(6), "Hv", hessian_vector.numpy().round(6))
