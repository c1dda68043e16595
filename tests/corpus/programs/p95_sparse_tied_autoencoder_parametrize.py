"""Sparse and tied autoencoders on the 8x8 digits, as the sparse-autoencoder blog posts and
the parametrizations tutorial write them: an L1 penalty on the codes, the KL sparsity penalty
sum(rho * log(rho / rho_hat) + (1 - rho) * log((1 - rho) / (1 - rho_hat))) written by hand and
with F.kl_div (reduction='sum' / 'batchmean', log_target=True), masking noise from
torch.bernoulli for a denoising variant, a decoder tied to the encoder with F.linear(h,
W.t()), then torch.nn.utils.parametrize: a non-negative and a symmetric parametrization
registered on Linear weights, parametrize.cached(), original tensors in the state_dict and
remove_parametrizations. Weights and noise from torch.manual_seed."""
# corpus: same-numbers
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(3)
digits = load_digits()
X = torch.tensor(digits.data[:600], dtype=torch.float32) / 16.0
loader = DataLoader(TensorDataset(X), batch_size=100, shuffle=True)


class SparseAutoencoder(nn.Module):
    def __init__(self, n_in=64, n_hidden=32):
        super().__init__()
        self.encoder = nn.Linear(n_in, n_hidden)
        self.decoder = nn.Linear(n_hidden, n_in)

    def forward(self, x):
        h = torch.sigmoid(self.encoder(x))
        return torch.sigmoid(self.decoder(h)), h


def kl_sparsity(rho, rho_hat):
    return torch.sum(rho * torch.log(rho / rho_hat)
                     + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat)))


model = SparseAutoencoder()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
RHO, BETA, L1 = 0.05, 0.5, 1e-3
for epoch in range(8):
    total = 0.0
    for (xb,) in loader:
        noisy = xb * torch.bernoulli(torch.full_like(xb, 0.8))
        recon, h = model(noisy)
        rho_hat = h.mean(0).clamp(1e-6, 1 - 1e-6)
        mse = F.mse_loss(recon, xb)
        loss = mse + BETA * kl_sparsity(torch.tensor(RHO), rho_hat) / h.shape[1] \
            + L1 * h.abs().sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    if epoch % 2 == 1:
        print(f"epoch {epoch} loss {total / len(loader):.5f} mse {mse.item():.5f} "
              f"mean activation {rho_hat.mean().item():.4f}")

with torch.no_grad():
    recon, h = model(X)
    rho_hat = h.mean(0)
    p = torch.stack([torch.full_like(rho_hat, RHO), 1 - torch.full_like(rho_hat, RHO)], 1)
    q = torch.stack([rho_hat, 1 - rho_hat], 1)
    by_hand = kl_sparsity(torch.tensor(RHO), rho_hat)
    print("KL by hand", by_hand.item())
    print("kl_div sum", F.kl_div(q.log(), p, reduction="sum").item())
    print("kl_div log_target", F.kl_div(q.log(), p.log(), reduction="sum", log_target=True).item())
    print("kl_div batchmean", F.kl_div(q.log(), p, reduction="batchmean").item())
    print("kl_div none", F.kl_div(q.log(), p, reduction="none")[:2])
    print("KLDivLoss mean", nn.KLDivLoss(reduction="mean")(q.log(), p).item())
    print("most active units", torch.topk(rho_hat, 3))
    print("reconstruction error per digit", torch.stack(
        [F.mse_loss(recon[torch.tensor(digits.target[:600]) == d], X[torch.tensor(
            digits.target[:600]) == d]) for d in range(4)]))

# A tied autoencoder: the decoder uses the encoder's weight transposed.
W = nn.Parameter(torch.randn(16, 64) * 0.1)
b_enc, b_dec = nn.Parameter(torch.zeros(16)), nn.Parameter(torch.zeros(64))
tied_opt = torch.optim.SGD([W, b_enc, b_dec], lr=0.5, momentum=0.9)
for step in range(40):
    h = torch.relu(F.linear(X, W, b_enc))
    recon = F.linear(h, W.t(), b_dec)
    loss = F.mse_loss(recon, X)
    tied_opt.zero_grad()
    loss.backward()
    tied_opt.step()
    if step % 10 == 9:
        print(f"tied step {step} loss {loss.item():.5f} |W| {W.norm().item():.4f}")


class NonNegative(nn.Module):
    def forward(self, X):
        return F.softplus(X)


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


layer = nn.Linear(8, 8)
parametrize.register_parametrization(layer, "weight", Symmetric())
print("is parametrized", parametrize.is_parametrized(layer), parametrize.is_parametrized(layer, "bias"))
print("symmetric", torch.allclose(layer.weight, layer.weight.T))
print("keys", sorted(layer.state_dict().keys()))
enc = nn.Linear(64, 16)
parametrize.register_parametrization(enc, "weight", NonNegative())
opt = torch.optim.Adam(enc.parameters(), lr=1e-2)
for step in range(30):
    h = torch.sigmoid(enc(X))
    loss = F.mse_loss(h @ enc.weight, X)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"non-negative loss {loss.item():.5f} min weight {enc.weight.min().item():.6f}")
print("original", enc.parametrizations.weight.original.shape, type(enc).__name__)
with parametrize.cached():
    a = enc.weight
    print("cached same object", a is enc.weight)
parametrize.remove_parametrizations(enc, "weight", leave_parametrized=True)
print("after removal", type(enc).__name__, sorted(enc.state_dict().keys()),
      f"{enc.weight.sum().item():.4f}")
