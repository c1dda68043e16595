"""A multi-task tabular network as the multi-task-learning posts write it, on scikit-learn's
wine data: a shared trunk (a bias-free Linear before BatchNorm1d) and task heads in
nn.ModuleDict (classification, regression, a binary flag), labels missing at random stored as NaN / -1 and masked out
(torch.isnan, torch.where, masked_fill, ignore_index, nan_to_num, nanmean), losses weighted by
learned log-variances (Kendall et al.'s uncertainty weighting) with torch.exp(-s); an EMA of
the weights and buffers with AveragedModel(multi_avg_fn=get_ema_multi_avg_fn(0.9),
use_buffers=True), then SWA with SWALR(anneal_strategy='linear') and update_bn, the evaluation
of all three under model.eval(). Weights and shuffling from torch.manual_seed."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(98)
rng = np.random.default_rng(98)
wine = load_wine()
X = torch.tensor(wine.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y_cls = torch.tensor(wine.target)
y_reg = torch.tensor(wine.data[:, 12] / 1000.0, dtype=torch.float32)  # proline, rescaled
y_bin = (torch.tensor(wine.data[:, 0]) > 13.0).float()
X = X[:, :12]  # proline is a target, not a feature
y_cls = torch.where(torch.from_numpy(rng.random(len(X)) < 0.2), -1, y_cls)
y_reg = y_reg.masked_fill(torch.from_numpy(rng.random(len(X)) < 0.3), float("nan"))
y_bin[torch.from_numpy(rng.random(len(X)) < 0.25)] = float("nan")
print("missing", (y_cls == -1).sum().item(), torch.isnan(y_reg).sum().item(),
      int(y_bin.isnan().sum()))
loader = DataLoader(TensorDataset(X, y_cls, y_reg, y_bin), batch_size=32, shuffle=True)


class MultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(12, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(),
                                   nn.Linear(32, 16), nn.ReLU())
        self.heads = nn.ModuleDict({"cls": nn.Linear(16, 3), "reg": nn.Linear(16, 1),
                                    "bin": nn.Linear(16, 1)})
        self.log_vars = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        h = self.trunk(x)
        return {name: head(h) for name, head in self.heads.items()}


def task_losses(out, yc, yr, yb):
    cls = F.cross_entropy(out["cls"], yc, ignore_index=-1) if (yc >= 0).any() \
        else out["cls"].sum() * 0
    mask = ~torch.isnan(yr)
    reg = F.mse_loss(out["reg"].squeeze(1)[mask], yr[mask]) if mask.any() else torch.tensor(0.)
    known = ~yb.isnan()
    per = F.binary_cross_entropy_with_logits(out["bin"].squeeze(1), torch.nan_to_num(yb),
                                             reduction="none")
    bce = (per * known).sum() / known.sum().clamp(min=1)
    return torch.stack([cls, reg, bce])


model = MultiTaskNet()
ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(10):
    model.train()
    totals = torch.zeros(3)
    for xb, yc, yr, yb in loader:
        losses = task_losses(model(xb), yc, yr, yb)
        loss = (torch.exp(-model.log_vars) * losses + model.log_vars).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.update_parameters(model)
        totals += losses.detach()
    if epoch % 3 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f} tasks {(totals / len(loader)).tolist()} "
              f"weights {torch.exp(-model.log_vars).detach()}")


def evaluate(net, name):
    net.eval()
    with torch.no_grad():
        out = net(X)
        labelled = y_cls >= 0
        acc = (out["cls"].argmax(1)[labelled] == y_cls[labelled]).float().mean()
        err = (out["reg"].squeeze(1) - y_reg).abs()
        flag = ((out["bin"].squeeze(1) > 0).float() == y_bin)[~y_bin.isnan()].float().mean()
    print(f"{name}: acc {acc.item():.4f} reg MAE {err.nanmean().item():.4f} "
          f"bin acc {flag.item():.4f} nan count {torch.isnan(err).sum().item()}")


evaluate(model, "model")
evaluate(ema, "ema")
print("ema n_averaged", ema.n_averaged.item(), "running mean",
      ema.module.trunk[1].running_mean[:3])

swa_model = AveragedModel(model)
swa_scheduler = SWALR(optimizer, swa_lr=5e-3, anneal_epochs=3, anneal_strategy="linear")
for epoch in range(5):
    model.train()
    for xb, yc, yr, yb in loader:
        loss = task_losses(model(xb), yc, yr, yb).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    swa_model.update_parameters(model)
    swa_scheduler.step()
    print(f"swa epoch {epoch} lr {swa_scheduler.get_last_lr()[0]:.6f} loss {loss.item():.4f}")
update_bn(((xb, yc) for xb, yc, _, _ in loader), swa_model)
print("swa bn running var", swa_model.module.trunk[1].running_var[:3])
evaluate(swa_model, "swa")
print("state keys", [k for k in swa_model.state_dict() if "trunk.1" in k or k == "n_averaged"])
