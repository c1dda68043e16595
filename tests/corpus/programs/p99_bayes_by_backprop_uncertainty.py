"""A Bayesian neural network trained by "Bayes by Backprop" (Blundell et al.), as the
uncertainty tutorials write it: a BayesianLinear layer with weight means and rho parameters,
sigma = torch.log1p(torch.exp(rho)), weights sampled as mu + sigma * torch.randn_like(sigma)
in every forward pass, the closed-form KL to a Normal prior through
torch.distributions.kl_divergence, the ELBO with a KL weight per minibatch; predictive mean
and standard deviation from 50 sampled passes under torch.no_grad(), printed with
torch.set_printoptions(precision=3, sci_mode=False); then heteroscedastic noise drawn with
Normal(...).rsample(), Laplace / Uniform / Exponential / Bernoulli / Beta samples and
log-probabilities. Every number from torch.manual_seed."""
# corpus: same-numbers
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import (
    Bernoulli,
    Beta,
    Exponential,
    Laplace,
    Normal,
    Uniform,
    kl_divergence,
)

torch.manual_seed(99)
torch.set_printoptions(precision=3, sci_mode=False)

x = torch.linspace(-3, 3, 120).unsqueeze(1)
noise_scale = 0.1 + 0.2 * (x > 0).float()
y = torch.sin(x) + Normal(torch.zeros_like(x), noise_scale).rsample()
print("data", x.shape, y[:4].squeeze(1), f"noise std {(y - torch.sin(x)).std().item():.4f}")


class BayesianLinear(nn.Module):
    def __init__(self, in_features, out_features, prior_sigma=1.0):
        super().__init__()
        self.w_mu = nn.Parameter(torch.empty(out_features, in_features).uniform_(-0.2, 0.2))
        self.w_rho = nn.Parameter(torch.full((out_features, in_features), -5.0))
        self.b_mu = nn.Parameter(torch.empty(out_features).uniform_(-0.2, 0.2))
        self.b_rho = nn.Parameter(torch.full((out_features,), -5.0))
        self.prior = Normal(0.0, prior_sigma)

    def forward(self, x):
        w_sigma = torch.log1p(torch.exp(self.w_rho))
        b_sigma = torch.log1p(torch.exp(self.b_rho))
        w = self.w_mu + w_sigma * torch.randn_like(w_sigma)
        b = self.b_mu + b_sigma * torch.randn_like(b_sigma)
        self.kl = (kl_divergence(Normal(self.w_mu, w_sigma), self.prior).sum()
                   + kl_divergence(Normal(self.b_mu, b_sigma), self.prior).sum())
        return F.linear(x, w, b)


class BayesianNet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.l1 = BayesianLinear(1, hidden)
        self.l2 = BayesianLinear(hidden, 1)
        self.log_noise = nn.Parameter(torch.tensor(-1.0))

    def forward(self, x):
        return self.l2(torch.tanh(self.l1(x)))

    def kl(self):
        return self.l1.kl + self.l2.kl


net = BayesianNet()
optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
num_batches, n = 4, len(x)
for epoch in range(80):
    perm = torch.randperm(n)
    for i in range(num_batches):
        idx = perm[i::num_batches]
        pred = net(x[idx])
        nll = -Normal(pred, net.log_noise.exp()).log_prob(y[idx]).sum()
        loss = (nll * num_batches + net.kl() * 0.1) / n
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch % 20 == 19:
        print(f"epoch {epoch} loss {loss.item():.4f} noise {net.log_noise.exp().item():.4f} "
              f"kl {net.kl().item():.2f}")

with torch.no_grad():
    x_test = torch.tensor([[-4.0], [-2.0], [0.0], [2.0], [4.0]])
    samples = torch.stack([net(x_test) for _ in range(50)])
    mean, std = samples.mean(0), samples.std(0)
    print("predictive mean", mean.squeeze(1), "\npredictive std", std.squeeze(1))
    print("true", torch.sin(x_test).squeeze(1))
    z = (torch.sin(x_test) - mean) / (std ** 2 + net.log_noise.exp() ** 2).sqrt()
    print("z-scores", z.squeeze(1), "\nsigma of w1", torch.log1p(net.l1.w_rho.exp()).mean())

torch.set_printoptions(profile="default")
for dist in (Laplace(0.0, 2.0), Uniform(-1.0, 3.0), Exponential(torch.tensor([0.5, 4.0])),
             Bernoulli(probs=torch.tensor([0.2, 0.9])), Beta(2.0, 5.0),
             Normal(torch.tensor([0.0, 10.0]), torch.tensor([1.0, 0.1]))):
    s = dist.sample((4,))
    print(type(dist).__name__, s.T if s.dim() > 1 else s, "log_prob", dist.log_prob(s).sum())
    print("  mean", dist.mean, "var", dist.variance, "entropy", dist.entropy())
print("exact", math.log(2.0), Normal(0.0, 1.0).cdf(torch.tensor(1.96)).item())
