"""A polynomial model whose coefficients live in nn.ParameterList (and a scale in
nn.ParameterDict), printed and trained with MultiStepLR; then the learning rates of
CosineAnnealingWarmRestarts, OneCycleLR, CyclicLR, MultiplicativeLR, LinearLR, ConstantLR,
PolynomialLR step by step."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
from torch.optim import lr_scheduler

rng = np.random.default_rng(26)


class PolyModel(nn.Module):
    def __init__(self, degree):
        super().__init__()
        self.coefs = nn.ParameterList([nn.Parameter(torch.tensor(float(rng.uniform(-1, 1))))
                                       for _ in range(degree + 1)])
        self.extra = nn.ParameterDict({"scale": nn.Parameter(torch.ones(1))})

    def forward(self, x):
        out = torch.zeros_like(x)
        for k, c in enumerate(self.coefs):
            out = out + c * x ** k
        return out * self.extra["scale"]


model = PolyModel(3)
print(model)
print(len(model.coefs), [n for n, _ in model.named_parameters()])
x = torch.linspace(-1, 1, 50)
y = 0.5 - x + 2 * x ** 3
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
schedulers = {
    "multistep": lr_scheduler.MultiStepLR(opt, milestones=[5, 10], gamma=0.3),
}
for epoch in range(15):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    schedulers["multistep"].step()
    if epoch % 3 == 0:
        print(epoch, f"loss {loss.item():.6f}", f"lr {opt.param_groups[0]['lr']:.5f}")


def lrs(make, steps=12, **opt_kw):
    p = nn.Parameter(torch.zeros(1))
    o = torch.optim.SGD([p], lr=0.1, **opt_kw)
    s = make(o)
    out = []
    for _ in range(steps):
        o.step()
        s.step()
        out.append(round(o.param_groups[0]["lr"], 6))
    return out


print(lrs(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.01)))
print(lrs(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=13)))
print(lrs(lambda o: lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
          momentum=0.9))
print(lrs(lambda o: lr_scheduler.MultiplicativeLR(o, lr_lambda=lambda e: 0.9)))
print(lrs(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4)))
print(lrs(lambda o: lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3)))
print(lrs(lambda o: lr_scheduler.PolynomialLR(o, total_iters=8, power=2.0)))
