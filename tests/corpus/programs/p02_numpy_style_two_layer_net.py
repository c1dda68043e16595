"""A two-layer net with the backward pass written by hand on tensors (the "warm-up" of
Learning PyTorch with Examples): mm, clamp, .t(), masked assignment, in-place updates."""
# corpus: same-numbers
import numpy as np
import torch

rng = np.random.default_rng(0)
N, D_in, H, D_out = 32, 20, 16, 3
x = torch.from_numpy(rng.standard_normal((N, D_in))).float()
y = torch.from_numpy(rng.standard_normal((N, D_out))).float()
w1 = torch.tensor(rng.standard_normal((D_in, H)) * 0.1, dtype=torch.float32)
w2 = torch.tensor(rng.standard_normal((H, D_out)) * 0.1, dtype=torch.float32)

learning_rate = 1e-3
for t in range(200):
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)

    loss = (y_pred - y).pow(2).sum().item()
    if t % 50 == 0:
        print(t, round(loss, 4))

    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h_relu = grad_y_pred.mm(w2.t())
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_w1 = x.t().mm(grad_h)

    w1 -= learning_rate * grad_w1
    w2 -= learning_rate * grad_w2

print("final loss", (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum().item())
