"""Training tricks as recent tutorials write them: weight norm and spectral norm
parametrizations, group norm, an EMA of the weights with AveragedModel and SWA with SWALR
and update_bn, DP-SGD style per-sample gradient clipping with torch.func (functional_call,
grad, vmap), and ASGD."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(46)
X = torch.from_numpy(rng.standard_normal((96, 6)))
y = torch.from_numpy((X[:, 0].numpy() * X[:, 1].numpy() > 0).astype(np.int64))


def set_weights(model, scale=0.4):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * scale))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.utils.parametrizations.weight_norm(nn.Linear(6, 16))
        self.norm = nn.GroupNorm(4, 16)
        self.fc2 = nn.utils.parametrizations.spectral_norm(nn.Linear(16, 16))
        self.bn = nn.BatchNorm1d(16)
        self.out = nn.Linear(16, 2)

    def forward(self, x):
        x = F.gelu(self.norm(self.fc1(x)))
        x = torch.tanh(self.bn(self.fc2(x)))
        return self.out(x)


model = Net()
set_weights(model)
sn = model.fc2.parametrizations.weight[0]
with torch.no_grad():
    for name in ("_u", "_v"):
        vector = torch.from_numpy(rng.standard_normal(16))
        getattr(sn, name).copy_(vector / vector.norm())
print("state:", ", ".join(model.state_dict().keys()))

ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
swa = AveragedModel(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
swa_scheduler = SWALR(optimizer, swa_lr=0.02, anneal_epochs=3, anneal_strategy="linear")
loader = [(X[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32)]
for epoch in range(8):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        ema.update_parameters(model)
        total += loss.item()
    if epoch >= 4:
        swa.update_parameters(model)
        swa_scheduler.step()
    print(f"epoch {epoch}: loss {total / 3:.6f} lr {optimizer.param_groups[0]['lr']:.4f}")

update_bn(loader, swa)
for name, net in (("model", model), ("ema", ema), ("swa", swa)):
    net.eval()
    with torch.no_grad():
        logits = net(X)
    accuracy = (logits.argmax(1) == y).double().mean().item()
    print(f"{name}: loss {F.cross_entropy(logits, y).item():.6f} accuracy {accuracy:.4f}")
print("swa averaged", int(swa.n_averaged), "ema averaged", int(ema.n_averaged))

# DP-SGD: per-sample gradients, each clipped to norm 1, then averaged and noised (no noise
# here, to compare numbers)
plain = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 2))
set_weights(plain)
params = {k: v.detach() for k, v in plain.named_parameters()}


def sample_loss(params, x, target):
    logits = functional_call(plain, params, (x.unsqueeze(0),))
    return F.cross_entropy(logits, target.unsqueeze(0))


asgd = torch.optim.ASGD(plain.parameters(), lr=0.2, t0=3)
for step in range(6):
    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, X, y)
    norms = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in per_sample.values()))
    factor = (1.0 / norms).clamp(max=1.0)
    for name, p in plain.named_parameters():
        clipped = per_sample[name] * factor.reshape(-1, *([1] * (per_sample[name].dim() - 1)))
        p.grad = clipped.mean(0)
    asgd.step()
    params = {k: v.detach() for k, v in plain.named_parameters()}
    with torch.no_grad():
        loss = F.cross_entropy(plain(X), y).item()
    print(f"dp step {step}: loss {loss:.6f} largest per-sample norm {norms.max().item():.5f}")
ax = asgd.state[plain[0].weight]["ax"]
print("asgd average of the first weight:", round(float(ax.sum()), 6))
