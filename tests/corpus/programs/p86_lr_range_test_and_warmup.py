"""A learning-rate range test as the "LR finder" blog posts write it (fastai/Leslie Smith):
the model and optimizer state saved with copy.deepcopy, the rate grown exponentially by a
LambdaLR per batch, a smoothed loss with bias correction, stopping when it explodes, the
steepest descent picked with numpy.gradient, the states restored; then training with a
linear warmup (LambdaLR) chained to cosine decay by SequentialLR, param_groups edited by
hand, get_last_lr() vs param_groups, and the warmup scheduler's state_dict."""
# corpus: same-numbers
import copy
import math

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_wine
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LinearLR, SequentialLR

wine = load_wine()
X = torch.tensor(wine.data, dtype=torch.float32)
X = (X - X.mean(dim=0)) / X.std(dim=0)
y = torch.tensor(wine.target)
order = np.random.default_rng(0).permutation(len(y))
X, y = X[order], y[order]
batches = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 160, 16)]


def build():
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 3))
    with torch.no_grad():
        for name, p in model.named_parameters():
            k = np.arange(p.numel()).reshape(p.shape)
            p.copy_(torch.from_numpy(0.2 * np.sin(k * 1.3 + len(name))).float())
    return model


model = build()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
saved_model, saved_opt = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())

start_lr, end_lr, num_iter = 1e-4, 10.0, 40
gamma = (end_lr / start_lr) ** (1 / num_iter)
finder = LambdaLR(optimizer, lambda it: gamma ** it)
lrs, losses, avg_loss, beta, best = [], [], 0.0, 0.9, math.inf
for it in range(num_iter):
    xb, yb = batches[it % len(batches)]
    optimizer.zero_grad()
    loss = criterion(model(xb), yb)
    loss.backward()
    optimizer.step()
    avg_loss = beta * avg_loss + (1 - beta) * loss.item()
    smoothed = avg_loss / (1 - beta ** (it + 1))
    lrs.append(finder.get_last_lr()[0])
    losses.append(smoothed)
    best = min(best, smoothed)
    finder.step()
    if it % 5 == 0:
        print(f"iter {it:2d} lr {lrs[-1]:.3e} smoothed loss {smoothed:.4f}")
    if smoothed > 4 * best or not math.isfinite(smoothed):
        print(f"stopped at iter {it}: loss exploded")
        break
grads = np.gradient(np.array(losses), np.log10(np.array(lrs)))
suggested = lrs[int(np.argmin(grads))]
print(f"suggested lr {suggested:.3e}, min loss {min(losses):.4f} at {lrs[int(np.argmin(losses))]:.3e}")

model.load_state_dict(saved_model)
optimizer.load_state_dict(saved_opt)
print('restored lr', optimizer.param_groups[0]['lr'], 'state', len(optimizer.state))

lr = round(suggested, 4)
optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
warmup_steps, total_steps = 10, 50
warmup = LambdaLR(optimizer, lr_lambda=lambda step: (step + 1) / warmup_steps)
cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=lr * 0.01)
scheduler = SequentialLR(optimizer, schedulers=[warmup, cosine], milestones=[warmup_steps])
for step in range(total_steps):
    xb, yb = batches[step % len(batches)]
    optimizer.zero_grad()
    loss = criterion(model(xb), yb)
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 7 == 0 or step == warmup_steps:
        print(f"step {step:2d} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.6f} "
              f"group lr {optimizer.param_groups[0]['lr']:.6f}")
with torch.no_grad():
    acc = (model(X[160:]).argmax(1) == y[160:]).float().mean().item()
print(f"held-out accuracy {acc:.3f}")
print(sorted(k for k in warmup.state_dict() if not k.startswith('_')),
      warmup.state_dict()['last_epoch'], warmup.state_dict()['base_lrs'])

opt2 = torch.optim.AdamW([{'params': model[0].parameters(), 'lr': 1e-3},
                          {'params': model[2].parameters()}], lr=5e-3)
sched2 = LinearLR(opt2, start_factor=0.25, total_iters=4)
for group in opt2.param_groups:
    group['lr'] *= 2  # edited by hand after the scheduler was built
for i in range(6):
    opt2.step()
    sched2.step()
    print(i, [f"{g['lr']:.6f}" for g in opt2.param_groups],
          [f"{v:.6f}" for v in sched2.get_last_lr()])
