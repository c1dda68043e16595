"""A multi-task tabular model: input standardisation kept in register_buffer (one persistent, one
not), heads in nn.ModuleDict, weights set by model.apply(init_fn), early stopping keeping
copy.deepcopy(model.state_dict()) with patience, then load_state_dict back and strict=False
loading reporting missing/unexpected keys."""
# corpus: same-numbers
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine

wine = load_wine()
X_np = wine.data.astype(np.float32)
y_np = wine.target
order = np.random.RandomState(0).permutation(len(X_np))
X_np, y_np = X_np[order], y_np[order]
X = torch.from_numpy(X_np)
y_cls = torch.from_numpy(y_np).long()
y_reg = X[:, 0:1].clone()  # predict alcohol from the others
X_in = X[:, 1:]
Xtr, Xva = X_in[:120], X_in[120:]
ctr, cva = y_cls[:120], y_cls[120:]
rtr, rva = y_reg[:120], y_reg[120:]


class MultiTask(nn.Module):
    def __init__(self, mean, std, hidden=16):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std, persistent=False)
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))
        self.trunk = nn.Sequential(nn.Linear(mean.numel(), hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.ModuleDict({"cls": nn.Linear(hidden, 3), "reg": nn.Linear(hidden, 1)})

    def forward(self, x):
        if self.training:
            self.seen += x.shape[0]
        h = self.trunk((x - self.mean) / self.std)
        return {name: head(h) for name, head in self.heads.items()}


mean, std = Xtr.mean(dim=0), Xtr.std(dim=0)
model = MultiTask(mean, std)
init_rs = np.random.RandomState(1)


@torch.no_grad()
def init_fn(m):
    if isinstance(m, nn.Linear):
        fan_in = m.weight.shape[1]
        m.weight.copy_(torch.from_numpy(init_rs.uniform(-1, 1, tuple(m.weight.shape)).astype(np.float32))
                       / fan_in ** 0.5)
        nn.init.constant_(m.bias, 0.01)


model.apply(init_fn)
print([k for k in model.state_dict().keys()])
print([n for n, _ in model.named_buffers()], [n for n, _ in model.named_children()])
print(len(list(model.parameters())), sum(p.numel() for p in model.parameters() if p.requires_grad))
print("heads" in dict(model.named_children()), list(model.heads.keys()), "reg" in model.heads)

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
best_loss, best_state, best_epoch, patience, bad = float("inf"), None, -1, 4, 0
for epoch in range(60):
    model.train()
    for i in range(0, 120, 30):
        out = model(Xtr[i:i + 30])
        loss = F.cross_entropy(out["cls"], ctr[i:i + 30]) + 0.5 * F.mse_loss(out["reg"], rtr[i:i + 30])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(Xva)
        val_loss = (F.cross_entropy(out["cls"], cva) + 0.5 * F.mse_loss(out["reg"], rva)).item()
        acc = (out["cls"].argmax(dim=1) == cva).float().mean().item()
    if epoch % 5 == 0:
        print(f"epoch {epoch:2d} train loss {loss.item():.4f} val loss {val_loss:.4f} acc {acc:.4f}")
    if val_loss < best_loss - 1e-4:
        best_loss, best_epoch, bad = val_loss, epoch, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad += 1
        if bad >= patience:
            print(f"early stop at epoch {epoch}, best epoch {best_epoch} val {best_loss:.4f}")
            break

print("seen", model.seen.item(), model.seen.dtype == torch.long)
print("best seen", best_state["seen"], "std" in best_state)
model.load_state_dict(best_state)
model.eval()
with torch.no_grad():
    out = model(Xva)
    print("restored val", round((F.cross_entropy(out["cls"], cva) + 0.5 * F.mse_loss(out["reg"], rva)).item(), 4))
    print(out["reg"][:4].squeeze(1), rva[:4].squeeze(1))
    print(F.softmax(out["cls"][:3], dim=1))

# best_state must not have changed when the model kept training
model.heads["cls"].weight.data.add_(1.0)
print(torch.equal(best_state["heads.cls.weight"], model.heads["cls"].weight))

new_model = MultiTask(torch.zeros(12), torch.ones(12), hidden=16)
partial = {k: v for k, v in best_state.items() if not k.startswith("heads.reg")}
partial["extra.weight"] = torch.ones(2)
result = new_model.load_state_dict(partial, strict=False)
print(sorted(result.missing_keys), sorted(result.unexpected_keys))
print(torch.allclose(new_model.mean, mean), new_model.std.sum().item())
try:
    new_model.load_state_dict(partial)
except RuntimeError as e:
    print("strict load failed:", type(e).__name__)
new_model.heads["aux"] = nn.Linear(16, 2)
print(len(new_model.heads), [k for k in new_model.heads])
del new_model.heads["aux"]
print(len(new_model.heads), list(new_model.heads.keys()))
