"""An MLP variational autoencoder on 8x8 digits as the VAE tutorials write it, with
torch.distributions: Normal(mu, std) posterior and prior, kl_divergence(...).sum(-1),
Bernoulli(logits=...).log_prob(x), Independent, the reparameterisation z = mu + std * eps
(eps from NumPy so both runs agree), ELBO, and sampling the decoder from prior codes."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

digits = load_digits()
x_all = torch.tensor((digits.data[:256] > 7).astype(np.float32))
rs = np.random.RandomState(2)


class VAE(nn.Module):
    def __init__(self, d_in=64, hidden=32, latent=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU())
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, d_in))
        self.latent = latent

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, eps)
        return self.decoder(z), mu, logvar


def loss_function(recon_logits, x, mu, logvar):
    BCE = F.binary_cross_entropy_with_logits(recon_logits, x, reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD, BCE, KLD


model = VAE()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rs.normal(0, 0.15, tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(1, 9):
    model.train()
    train_loss = 0
    for i in range(0, 256, 32):
        data = x_all[i:i + 32]
        eps = torch.from_numpy(rs.normal(size=(data.shape[0], 4)).astype(np.float32))
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data, eps)
        loss, bce, kld = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    print('====> Epoch: {} Average loss: {:.4f}  (last bce {:.3f} kld {:.3f})'.format(
        epoch, train_loss / 256, bce.item(), kld.item()))

# the same ELBO with torch.distributions
model.eval()
with torch.no_grad():
    data = x_all[:16]
    mu, logvar = model.encode(data)
    std = torch.exp(0.5 * logvar)
    q = Normal(mu, std)
    p = Normal(torch.zeros_like(mu), torch.ones_like(std))
    kl = kl_divergence(q, p).sum(-1)
    kl_manual = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
    print("kl", kl[:4], torch.allclose(kl, kl_manual, atol=1e-5))
    eps = torch.from_numpy(rs.normal(size=mu.shape).astype(np.float32))
    z = mu + std * eps
    logits = model.decoder(z)
    px = Independent(Bernoulli(logits=logits), 1)
    log_px = px.log_prob(data)
    print("log p(x|z)", log_px[:4], px.batch_shape, px.event_shape)
    print("bce check", torch.allclose(-log_px.sum(), F.binary_cross_entropy_with_logits(logits, data, reduction='sum')))
    elbo = log_px - kl
    print(f"ELBO mean {elbo.mean():.4f}")
    log_qz = q.log_prob(z).sum(-1)
    log_pz = p.log_prob(z).sum(-1)
    print("mc kl", (log_qz - log_pz)[:4])
    qi = Independent(Normal(mu, std), 1)
    print(qi.log_prob(z)[:3], qi.entropy()[:3], q.entropy().sum(-1)[:3])
    print(q.mean[0], q.stddev[0], q.variance[0])
    print(Normal(0.0, 1.0).cdf(torch.tensor([-1.0, 0.0, 1.96])), Normal(0.0, 1.0).icdf(torch.tensor([0.025, 0.5, 0.975])))
    b = Bernoulli(probs=torch.tensor([0.1, 0.5, 0.9]))
    print(b.log_prob(torch.tensor([1.0, 0.0, 1.0])), b.entropy(), b.mean, b.variance)
    b2 = Bernoulli(logits=torch.tensor([-2.0, 0.0, 3.0]))
    print(b2.probs, b2.logits)
    z_prior = torch.from_numpy(rs.normal(size=(3, 4)).astype(np.float32))
    samples = torch.sigmoid(model.decoder(z_prior))
    print(samples.view(3, 8, 8)[0, :3], (samples > 0.5).sum(dim=1))
