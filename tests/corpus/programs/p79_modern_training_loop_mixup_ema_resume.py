"""A "modern training loop" as recent blog posts and templates write it, on the wine data:
parameter groups without weight decay for biases and norms (chosen by name and p.ndim),
AdamW + OneCycleLR stepped per batch, mixup with a NumPy Beta draw and soft-target
F.cross_entropy (with label_smoothing on the plain loss), the AMP boilerplate left disabled on
the CPU (torch.autocast(..., enabled=False), torch.amp.GradScaler(enabled=False) with
scale/unscale_/step/update), clip_grad_norm_ after unscale_, an EMA copy of the weights updated
with lerp_, a forward pre-hook, get_submodule, set_printoptions, and a full checkpoint (model,
EMA, optimizer, scheduler, scaler, epoch) written to a temporary file and resumed exactly."""
# corpus: same-numbers
import copy
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine
from torch.utils.data import DataLoader, TensorDataset

torch.set_printoptions(precision=3, sci_mode=False)
rng = np.random.default_rng(17)
wine = load_wine()
order = rng.permutation(len(wine.target))
X = torch.tensor(wine.data[order], dtype=torch.float32)
y = torch.tensor(wine.target[order])
X = (X - X[:130].mean(0)) / X[:130].std(0)
train_ds, val_ds = TensorDataset(X[:130], y[:130]), TensorDataset(X[130:], y[130:])
train_loader = DataLoader(train_ds, batch_size=26)

model = nn.Sequential(nn.Linear(13, 32), nn.LayerNorm(32), nn.GELU(), nn.Dropout(p=0.0), nn.Linear(32, 3))
with torch.no_grad():
    for name, p in model.named_parameters():
        if p.ndim == 2:
            p.copy_(torch.from_numpy(rng.normal(0, 0.25, p.shape).astype(np.float32)))
        elif name.endswith("bias"):
            p.zero_()
calls = []
handle = model.get_submodule("4").register_forward_pre_hook(lambda m, args: calls.append(args[0].shape[0]))
decay, no_decay = [], []
for name, p in model.named_parameters():
    (no_decay if p.ndim < 2 or name.endswith(".bias") else decay).append(p)
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                               {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
EPOCHS = 8
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-2, epochs=EPOCHS,
                                                steps_per_epoch=len(train_loader), pct_start=0.25)
scaler = torch.amp.GradScaler("cuda", enabled=False)
ema = copy.deepcopy(model).eval()
for p in ema.parameters():
    p.requires_grad_(False)
print(len(decay), len(no_decay), [g["weight_decay"] for g in optimizer.param_groups], scaler.is_enabled())


def train_one_epoch(epoch):
    model.train()
    running = 0.0
    for xb, yb in train_loader:
        lam = float(rng.beta(0.4, 0.4))
        perm = torch.from_numpy(rng.permutation(len(xb)))
        mixed = lam * xb + (1 - lam) * xb[perm]
        target = lam * F.one_hot(yb, 3).float() + (1 - lam) * F.one_hot(yb[perm], num_classes=3).float()
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=False):
            logits = model(mixed)
            loss = F.cross_entropy(logits, target)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        with torch.no_grad():
            for e, p in zip(ema.parameters(), model.parameters()):
                e.lerp_(p, 0.2)
        running += loss.item()
    return running / len(train_loader), norm


@torch.no_grad()
def evaluate(net):
    net.eval()
    xb, yb = val_ds.tensors
    logits = net(xb)
    return F.cross_entropy(logits, yb, label_smoothing=0.1).item(), (logits.argmax(-1) == yb).float().mean().item()


for epoch in range(EPOCHS // 2):
    loss, norm = train_one_epoch(epoch)
    print(f"epoch {epoch} mixup loss {loss:.4f} last grad norm {norm:.4f} lr {scheduler.get_last_lr()[0]:.5f} "
          f"val {evaluate(model)[0]:.4f} ema val {evaluate(ema)[0]:.4f}")
handle.remove()
print("pre-hook calls", len(calls), calls[:3])

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "last.pt")
    torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "epoch": epoch,
                "rng": rng.bit_generator.state}, path)
    reference = [train_one_epoch(e)[0] for e in range(EPOCHS // 2, EPOCHS)]
    ckpt = torch.load(path, weights_only=False)
model.load_state_dict(ckpt["model"])
ema.load_state_dict(ckpt["ema"])
optimizer.load_state_dict(ckpt["optimizer"])
scheduler.load_state_dict(ckpt["scheduler"])
scaler.load_state_dict(ckpt["scaler"])
rng.bit_generator.state = ckpt["rng"]
print("resume from epoch", ckpt["epoch"] + 1, "lr", scheduler.get_last_lr(), "scheduler step", scheduler.last_epoch)
resumed = [train_one_epoch(e)[0] for e in range(ckpt["epoch"] + 1, EPOCHS)]
print("resumed == uninterrupted:", np.allclose(reference, resumed), [round(v, 4) for v in resumed])
val_loss, val_acc = evaluate(model)
ema_loss, ema_acc = evaluate(ema)
print(f"final val loss {val_loss:.4f} acc {val_acc:.3f} | ema loss {ema_loss:.4f} acc {ema_acc:.3f}")
print(model[4].weight[:, :5])
print(torch.tensor([g["lr"] for g in optimizer.param_groups] + [val_loss, 1e-5]))
print(optimizer.state_dict()["param_groups"][1]["params"], optimizer.param_groups[0]["betas"])
