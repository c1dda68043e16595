"""A RealNVP normalising flow on scikit-learn's two moons, as the flow tutorials write it:
alternating binary masks kept with register_buffer, coupling layers whose scale and
translation nets live in nn.ModuleList, log|det J| summed per layer, the base density from
torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2)), the loss
-(prior.log_prob(z) + logdet).mean(), gradient clipping with clip_grad_norm_, a
CosineAnnealingWarmRestarts schedule; then the inverse pass checked against the forward,
sampling from NumPy base noise, the sample covariance jittered through cov.diagonal().add_
before its Cholesky factor, and the buffers listed in the state_dict."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_moons
from torch import distributions

X, _ = make_moons(n_samples=512, noise=0.05, random_state=0)
X = torch.from_numpy(((X - X.mean(0)) / X.std(0)).astype(np.float32))
rng = np.random.default_rng(8)


class Coupling(nn.Module):
    def __init__(self, mask, hidden=32):
        super().__init__()
        self.register_buffer("mask", mask)
        self.nets = nn.ModuleList([
            nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, 2), nn.Tanh()),
            nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(), nn.Linear(hidden, 2)),
        ])

    def forward(self, x):
        x_masked = x * self.mask
        s = self.nets[0](x_masked) * (1 - self.mask)
        t = self.nets[1](x_masked) * (1 - self.mask)
        z = x_masked + (1 - self.mask) * (x * torch.exp(s) + t)
        return z, s.sum(dim=1)

    def inverse(self, z):
        z_masked = z * self.mask
        s = self.nets[0](z_masked) * (1 - self.mask)
        t = self.nets[1](z_masked) * (1 - self.mask)
        return z_masked + (1 - self.mask) * (z - t) * torch.exp(-s)


class RealNVP(nn.Module):
    def __init__(self, n_layers=4):
        super().__init__()
        masks = [torch.tensor([i % 2, (i + 1) % 2], dtype=torch.float32) for i in range(n_layers)]
        self.layers = nn.ModuleList(Coupling(m) for m in masks)
        self.prior = distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det += ld
        return x, log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        return self.prior.log_prob(z) + log_det


flow = RealNVP()
with torch.no_grad():
    for name, p in flow.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.2 if name.endswith("weight") else 0.0, p.shape)))
print([k for k in flow.state_dict() if k.endswith("mask")])
print(sum(p.numel() for p in flow.parameters()), len(list(flow.buffers())))
optimizer = torch.optim.Adam(flow.parameters(), lr=5e-3)
scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=12, T_mult=2, eta_min=1e-4)
perm = torch.from_numpy(rng.permutation(len(X)))
for epoch in range(24):
    total, norms = 0.0, []
    for batch in perm.split(128):
        loss = -flow.log_prob(X[batch]).mean()
        optimizer.zero_grad()
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(flow.parameters(), max_norm=5.0))
        optimizer.step()
        total += loss.item()
    scheduler.step()
    if epoch % 4 == 3:
        print(f"epoch {epoch + 1} loss {total / 4:.4f} max grad norm {torch.stack(norms).max():.3f} "
              f"lr {scheduler.get_last_lr()[0]:.6f}")

flow.eval()
with torch.no_grad():
    z, log_det = flow(X[:5])
    x_back = flow.inverse(z)
    print(z)
    print("inverse error", (x_back - X[:5]).abs().max().item() < 1e-5, log_det.numpy().round(4))
    nll = -flow.log_prob(X).mean()
    print(f"mean nll {nll:.4f} bits/dim {nll / (2 * np.log(2)):.4f}")
    base = torch.from_numpy(rng.standard_normal((400, 2)).astype(np.float32))
    samples = flow.inverse(base)
    print("sample mean", samples.mean(0), "std", samples.std(0))
    cov = torch.cov(samples.T)
    print("sample cov", cov)
    cov.diagonal().add_(1e-3)  # jitter before the Cholesky factor
    print("jittered diagonal", cov.diag(), "cholesky", torch.linalg.cholesky(cov))
    density = flow.log_prob(torch.tensor([[0.0, 0.0], [1.5, -1.0], [-3.0, 3.0]])).exp()
    print("density", density)
    print("prior", flow.prior.mean, flow.prior.covariance_matrix.diagonal(), flow.prior.entropy())
