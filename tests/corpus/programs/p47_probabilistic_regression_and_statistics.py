"""A probabilistic regression network as the uncertainty tutorials write it: the network
predicts a mean and a log-variance, trained by the Gaussian negative log-likelihood from
torch.distributions, with a KL term against a prior; then calibration read off with
quantiles, cdf/icdf and torch.special, nearest neighbours with cdist, and the statistics
functions (median, quantile, kthvalue, cummax, searchsorted, histc)."""
# corpus: same-numbers
import math

import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Independent, Normal, kl_divergence

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(47)
x = torch.from_numpy(np.sort(rng.uniform(-3, 3, (160, 1)), axis=0))
noise = 0.1 + 0.2 * x.abs()
y = torch.sin(x) + noise * torch.from_numpy(rng.standard_normal((160, 1)))


class GaussianNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh())
        self.mean = nn.Linear(32, 1)
        self.log_var = nn.Linear(32, 1)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), self.log_var(h).clamp(-8, 4)


model = GaussianNet()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
prior = Normal(torch.zeros(1), torch.ones(1))
for epoch in range(150):
    optimizer.zero_grad()
    mean, log_var = model(x)
    predictive = Independent(Normal(mean, torch.exp(0.5 * log_var)), 1)
    nll = -predictive.log_prob(y).mean()
    kl = kl_divergence(Normal(mean.mean(), log_var.mean().exp().sqrt()), prior).sum()
    loss = nll + 0.01 * kl
    loss.backward()
    optimizer.step()
    if epoch % 30 == 0 or epoch == 149:
        print(f"epoch {epoch}: nll {nll.item():.5f} kl {kl.item():.5f}")

with torch.no_grad():
    mean, log_var = model(x)
    std = torch.exp(0.5 * log_var)
    dist = Normal(mean, std)
    coverage = ((y > dist.icdf(torch.tensor(0.05))) & (y < dist.icdf(torch.tensor(0.95))))
    print("90% interval coverage:", round(coverage.double().mean().item(), 4))
    z = (y - mean) / std
    pit = torch.special.ndtr(z).squeeze(1)
    print("PIT quantiles:", [round(v, 4) for v in torch.quantile(pit, torch.tensor(
        [0.1, 0.5, 0.9])).tolist()])
    print("PIT histogram:", torch.histc(pit, bins=5, min=0, max=1).tolist())
    print("log Φ of the worst point:", round(torch.special.log_ndtr(z.min()).item(), 5))
    print("entropy mean:", round(dist.entropy().mean().item(), 5))
    residual = (y - mean).abs().squeeze(1)
    print("median |residual|:", round(residual.median().item(), 5))
    value, index = torch.kthvalue(residual, 10)
    print("10th smallest residual:", round(value.item(), 6), "at", index.item())
    running, where = torch.cummax(residual, 0)
    print("running max at the end:", round(running[-1].item(), 5), "first reached at",
          where[-1].item())
    grid = torch.linspace(-3, 3, 7)
    print("bins of the grid:", torch.searchsorted(x.squeeze(1).contiguous(), grid).tolist())
    distances = torch.cdist(grid.unsqueeze(1), x)
    nearest = distances.argmin(1)
    print("nearest points:", nearest.tolist())
    print("their predicted std:", [round(v, 4) for v in std.squeeze(1)[nearest].tolist()])
    print("atan2 of the last residual:", round(torch.atan2(y[-1], mean[-1]).item(), 6))
    print("log-gamma of 4.5:", round(torch.lgamma(torch.tensor(4.5)).item(), 10),
          round(math.lgamma(4.5), 10))
