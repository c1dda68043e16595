"""A mixture density network on Bishop's inverse problem, as the MDN blog posts write it: an
MLP emitting mixture logits, means and log-scales, the negative log-likelihood as
-torch.logsumexp(log_softmax(pi) + Normal(mu, sigma).log_prob(y), dim=1), sampling with
Categorical(logits=...).sample() and gather; then count and rate models written with
torch.lgamma / torch.special (a negative-binomial regression, a Student-t likelihood, a
Beta-distributed proportion), the Gamma shape's maximum likelihood by Newton's method with
torch.digamma and torch.polygamma(1, ·), and a table of torch.special functions."""
# corpus: same-numbers
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Normal

torch.manual_seed(0)
rng = np.random.default_rng(91)
n = 400
y_np = rng.uniform(0, 1, n)
x_np = y_np + 0.3 * np.sin(2 * np.pi * y_np) + rng.uniform(-0.1, 0.1, n)
x = torch.from_numpy(x_np).unsqueeze(1)  # float64: the MDN is trained in double precision
y = torch.from_numpy(y_np).unsqueeze(1)


class MDN(nn.Module):
    def __init__(self, n_hidden=24, n_gaussians=3):
        super().__init__()
        self.z_h = nn.Sequential(nn.Linear(1, n_hidden), nn.Tanh())
        self.z_pi = nn.Linear(n_hidden, n_gaussians)
        self.z_mu = nn.Linear(n_hidden, n_gaussians)
        self.z_sigma = nn.Linear(n_hidden, n_gaussians)

    def forward(self, x):
        z_h = self.z_h(x)
        pi = F.log_softmax(self.z_pi(z_h), -1)
        sigma = torch.exp(self.z_sigma(z_h)).clamp(min=1e-3)
        return pi, self.z_mu(z_h), sigma


def mdn_loss_fn(log_pi, mu, sigma, y):
    m = Normal(loc=mu, scale=sigma)
    log_prob = m.log_prob(y.expand_as(mu))
    return -torch.logsumexp(log_pi + log_prob, dim=1).mean()


model = MDN().double()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(201):
    log_pi, mu, sigma = model(x)
    loss = mdn_loss_fn(log_pi, mu, sigma, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d} loss {loss.item():.4f}")

with torch.no_grad():
    x_test = torch.linspace(0.1, 0.9, 5, dtype=torch.float64).unsqueeze(1)
    log_pi, mu, sigma = model(x_test)
    print("mixture weights\n", log_pi.exp())
    k = Categorical(logits=log_pi).sample((3,))
    print("components", k.T)
    samples = Normal(mu.gather(1, k.T), sigma.gather(1, k.T)).sample()
    print("samples", samples)
    mean = (log_pi.exp() * mu).sum(1)
    var = (log_pi.exp() * (sigma ** 2 + mu ** 2)).sum(1) - mean ** 2
    print("mixture mean", mean, "std", var.sqrt())

# Negative-binomial regression on counts: log p(k) = lgamma(k + r) - lgamma(r) - lgamma(k + 1)
#   + r log(r / (r + m)) + k log(m / (r + m)).
features = torch.from_numpy(rng.standard_normal((200, 3))).float()
rate = torch.exp(features @ torch.tensor([0.4, -0.3, 0.2]) + 1.0)
counts = torch.from_numpy(rng.negative_binomial(3, (3 / (3 + rate)).numpy())).float()
w = torch.zeros(3, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
log_r = torch.zeros(1, requires_grad=True)
opt = torch.optim.LBFGS([w, b, log_r], lr=0.5, max_iter=40, line_search_fn="strong_wolfe")


def nb_nll():
    opt.zero_grad()
    m, r = torch.exp(features @ w + b), log_r.exp()
    ll = (torch.lgamma(counts + r) - torch.lgamma(r) - torch.lgamma(counts + 1)
          + r * torch.log(r / (r + m)) + torch.special.xlogy(counts, m / (r + m)))
    loss = -ll.mean()
    loss.backward()
    return loss


for step in range(3):
    loss = opt.step(nb_nll)
    print(f"NB step {step} loss {loss.item():.5f} r {log_r.exp().item():.4f} w {w.detach()}")

# Student-t log-likelihood of residuals, by hand.
resid = torch.from_numpy(rng.standard_t(4, 500)).double()
for nu in (1.0, 4.0, 30.0):
    nu_t = torch.tensor(nu, dtype=torch.float64)
    ll = (torch.lgamma((nu_t + 1) / 2) - torch.lgamma(nu_t / 2) - 0.5 * torch.log(nu_t * math.pi)
          - (nu_t + 1) / 2 * torch.log1p(resid ** 2 / nu_t)).sum()
    print(f"student-t nu={nu:g} log-lik {ll.item():.6f}")

# Beta log-density of proportions; the Gamma shape by Newton on digamma (ML estimate).
p = torch.from_numpy(rng.beta(2.0, 5.0, 300)).double()
a, b2 = torch.tensor(2.0, dtype=torch.float64), torch.tensor(5.0, dtype=torch.float64)
log_beta = torch.lgamma(a) + torch.lgamma(b2) - torch.lgamma(a + b2)
print("beta log-lik", ((a - 1) * torch.log(p) + (b2 - 1) * torch.log1p(-p) - log_beta).sum())
g = torch.from_numpy(rng.gamma(2.5, 1.5, 1000)).double()
s = torch.log(g.mean()) - torch.log(g).mean()
k = (3 - s + torch.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
for it in range(4):
    k = k - (torch.log(k) - torch.digamma(k) - s) / (1 / k - torch.polygamma(1, k))
    print(f"gamma shape newton {it}: {k.item():.8f}")
print("gamma scale", (g.mean() / k).item())

t = torch.tensor([0.05, 0.3, 0.5, 0.9, 2.5, 7.0], dtype=torch.float64)
sp = torch.special
print("gammaln", sp.gammaln(t))
print("digamma", sp.digamma(t), "\npolygamma2", sp.polygamma(2, t))
print("multigammaln", sp.multigammaln(t + 2, 3))
print("erf", sp.erf(t), "\nerfc", sp.erfc(t), "\npsi", sp.psi(t))
print("ndtr", sp.ndtr(t), "\nlog_ndtr", sp.log_ndtr(-t), "\nndtri", sp.ndtri(t / 8))
print("erfinv", sp.erfinv(t / 8), "\nlogit", sp.logit(t / 8), "\nexpit", sp.expit(t))
print("xlog1py", sp.xlog1py(t, t), "\nentr", sp.entr(t / 8), "\nsinc", sp.sinc(t))
print("log_softmax", sp.log_softmax(t, 0), "\nsoftmax", sp.softmax(t, 0))
print("logsumexp", torch.logsumexp(t, 0), sp.logsumexp(t.view(2, 3), 1))
print("float32 lgamma", torch.lgamma(t.float()), torch.mvlgamma(t.float() + 2, p=2))
