"""Learning-rate schedule recipes from blog posts: a linear warmup then cosine decay with
SequentialLR, LambdaLR with one lambda per param group, MultiStepLR with gamma, ChainedScheduler,
CosineAnnealingWarmRestarts stepped with fractional epochs inside the batch loop, OneCycleLR
with Adam (beta1 cycling), ReduceLROnPlateau(mode='max') on a validation accuracy with cooldown,
and a scheduler's state_dict saved and loaded."""
# corpus: same-numbers

import numpy as np
import torch
import torch.nn as nn
from torch.optim import lr_scheduler

rs = np.random.RandomState(5)
X = torch.from_numpy(rs.normal(size=(64, 4)).astype(np.float32))
w_true = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
y = X @ w_true + 0.1 * torch.from_numpy(rs.normal(size=(64, 1)).astype(np.float32))


def make_model():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    r = np.random.RandomState(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(r.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return model


def train_epoch(model, opt, sched=None, per_batch=False, epoch=0):
    total = 0.0
    iters = 4
    for i in range(iters):
        xb, yb = X[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
        if per_batch == "fractional":
            sched.step(epoch + i / iters)
        elif per_batch:
            sched.step()
        total += loss.item()
    return total / iters


# 1. warmup + cosine with SequentialLR
model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
warmup = lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=3)
cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.001)
sched = lr_scheduler.SequentialLR(opt, schedulers=[warmup, cosine], milestones=[3])
for epoch in range(10):
    loss = train_epoch(model, opt)
    sched.step()
    print(f"seq epoch {epoch} loss {loss:.5f} lr {sched.get_last_lr()[0]:.6f}")

# 2. LambdaLR with a lambda per param group
model = make_model()
opt = torch.optim.SGD([{"params": model[0].parameters()},
                       {"params": model[2].parameters(), "lr": 0.05}], lr=0.1)
lambda1 = lambda epoch: epoch // 3
lambda2 = lambda epoch: 0.95 ** epoch
sched = lr_scheduler.LambdaLR(opt, lr_lambda=[lambda2, lambda2])
for epoch in range(6):
    loss = train_epoch(model, opt)
    sched.step()
    print("lambda", epoch, round(loss, 5), [round(g["lr"], 6) for g in opt.param_groups])
opt2 = torch.optim.SGD(model.parameters(), lr=0.1)
s2 = lr_scheduler.LambdaLR(opt2, lr_lambda=lambda1)
print([(s2.step(), opt2.param_groups[0]["lr"])[1] for _ in range(7)])

# 3. MultiStepLR and ChainedScheduler
model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.2)
s = lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5, 8], gamma=0.5)
lrs = []
for epoch in range(10):
    train_epoch(model, opt)
    s.step()
    lrs.append(s.get_last_lr()[0])
print("multistep", lrs, s.last_epoch)
opt = torch.optim.SGD(make_model().parameters(), lr=1.0)
chain = lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=2),
                                       lr_scheduler.ExponentialLR(opt, gamma=0.9)])
out = []
for _ in range(5):
    out.append(round(opt.param_groups[0]["lr"], 6))
    opt.step()
    chain.step()
print("chained", out)

# 4. CosineAnnealingWarmRestarts with fractional epochs
model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
s = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=1e-4)
for epoch in range(7):
    loss = train_epoch(model, opt, s, per_batch="fractional", epoch=epoch)
    print(f"warm restarts epoch {epoch} loss {loss:.5f} lr {opt.param_groups[0]['lr']:.6f} T_i {s.T_i} T_cur {s.T_cur:.2f}")

# 5. OneCycleLR with Adam
model = make_model()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
s = lr_scheduler.OneCycleLR(opt, max_lr=0.05, epochs=5, steps_per_epoch=4, pct_start=0.3)
for epoch in range(5):
    loss = train_epoch(model, opt, s, per_batch=True)
    g = opt.param_groups[0]
    print(f"onecycle {epoch} loss {loss:.5f} lr {g['lr']:.6f} betas {g['betas'][0]:.4f} {g['betas'][1]}")
print(g["initial_lr"], g["max_lr"], g["min_lr"])

# 6. ReduceLROnPlateau on accuracy
opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
s = lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=1, cooldown=1,
                                   threshold=0.01, threshold_mode="abs", min_lr=0.01)
accs = [0.50, 0.60, 0.605, 0.61, 0.612, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70, 0.70]
for a in accs:
    s.step(a)
    print("plateau", a, opt.param_groups[0]["lr"], s.num_bad_epochs, s.cooldown_counter, s.best)

# 7. state_dict round trip
opt = torch.optim.SGD(make_model().parameters(), lr=0.3)
s = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
for _ in range(3):
    opt.step()
    s.step()
state = s.state_dict()
print(sorted(k for k in state.keys()), state["last_epoch"], state["_last_lr"])
opt_b = torch.optim.SGD(make_model().parameters(), lr=0.3)
s_b = lr_scheduler.StepLR(opt_b, step_size=2, gamma=0.1)
s_b.load_state_dict(state)
opt_b.param_groups[0]["lr"] = s.get_last_lr()[0]
for _ in range(3):
    opt_b.step()
    s_b.step()
    print("resumed", s_b.last_epoch, s_b.get_last_lr())
