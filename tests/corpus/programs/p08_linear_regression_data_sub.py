"""Linear regression with raw tensors: w.data.sub_(lr * w.grad.data), gradients cleared with
w.grad.data.zero_(), data from NumPy (many blog tutorials)."""
# corpus: same-numbers
import numpy as np
import torch

rng = np.random.default_rng(3)
x_np = rng.uniform(-1, 1, (64, 2)).astype(np.float32)
y_np = (x_np @ np.array([[1.5], [-2.0]], dtype=np.float32) + 0.7).astype(np.float32)
x = torch.from_numpy(x_np)
y = torch.from_numpy(y_np)

w = torch.zeros(2, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.1
for epoch in range(60):
    y_hat = x.mm(w) + b
    loss = ((y_hat - y) ** 2).mean()
    loss.backward()
    w.data.sub_(lr * w.grad.data)
    b.data.sub_(lr * b.grad.data)
    w.grad.data.zero_()
    b.grad.data.zero_()
    if (epoch + 1) % 20 == 0:
        print("epoch {}, loss {:.6f}".format(epoch + 1, loss.item()))
print("w =", w.data.numpy().ravel().tolist(), "b =", b.item())
