"""A denoising-diffusion toy as the "diffusion from scratch" notebooks write it, on 2-D
points: a linear beta schedule, q_sample with alphas_cumprod gathered per timestep, an MLP
predicting the noise from (x_t, t embedding), mean_flat over all but the batch dimension,
and reverse sampling over torch.flip(torch.arange(T), dims=[0]). Noise comes from NumPy."""
# corpus: same-numbers
import math

import numpy as np
import torch
import torch.nn as nn

rs = np.random.RandomState(0)
theta = rs.uniform(0, 2 * math.pi, 256)
data = torch.tensor(np.stack([np.cos(theta), np.sin(theta)], 1) * 2 + rs.normal(0, 0.05, (256, 2)), dtype=torch.float32)
T = 20
betas = torch.linspace(1e-4, 0.2, T)
alphas = 1.0 - betas
alphas_cumprod = torch.cumprod(alphas, dim=0)
print(alphas_cumprod[[0, T // 2, T - 1]])


def extract(a, t, x_shape):
    out = a.gather(-1, t)
    return out.reshape(t.shape[0], *((1,) * (len(x_shape) - 1)))


def mean_flat(tensor):
    return tensor.mean(dim=list(range(1, len(tensor.shape))))


def timestep_embedding(t, dim=8):
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2 + 8, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 2))

    def forward(self, x, t):
        return self.net(torch.cat([x, timestep_embedding(t)], dim=-1))


model = Denoiser()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rs.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for step in range(150):
    idx = torch.from_numpy(rs.randint(0, 256, 64))
    x0 = data[idx]
    t = torch.from_numpy(rs.randint(0, T, 64))
    noise = torch.from_numpy(rs.normal(size=(64, 2)).astype(np.float32))
    sqrt_ab = extract(alphas_cumprod, t, x0.shape).sqrt()
    x_t = sqrt_ab * x0 + (1 - sqrt_ab ** 2).sqrt() * noise
    per_sample = mean_flat((model(x_t, t) - noise) ** 2)
    weights = extract(1.0 / (1.0 - alphas_cumprod), t, per_sample.shape)
    loss = (per_sample * weights).mean() / mean_flat(weights).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 30 == 0:
        print(f"step {step} loss {loss.item():.5f} per-sample shape {tuple(per_sample.shape)} weights {tuple(mean_flat(weights).shape)}")

with torch.no_grad():
    x = torch.from_numpy(rs.normal(size=(128, 2)).astype(np.float32))
    for i in torch.flip(torch.arange(T), dims=[0]):
        t = torch.full((128,), int(i), dtype=torch.long)
        eps = model(x, t)
        a, ab, b = alphas[i], alphas_cumprod[i], betas[i]
        x = (x - b / (1 - ab).sqrt() * eps) / a.sqrt()
        if i > 0:
            x = x + b.sqrt() * torch.from_numpy(rs.normal(size=(128, 2)).astype(np.float32))
    radius = x.norm(dim=1)
    print(f"sample radius mean {radius.mean():.4f} std {radius.std():.4f}")
    print(torch.histc(radius, bins=5, min=0, max=4))
    nll_like = torch.logsumexp(-((x[:, None, :] - data[None, :64, :]) ** 2).sum(-1), dim=(1,))
    print(nll_like.mean(), x.unsqueeze(-1).squeeze((-1,)).shape)
