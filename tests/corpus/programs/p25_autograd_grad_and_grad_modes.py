"""torch.autograd.grad for a gradient without touching .grad, requires_grad flags, the grad
modes (no_grad, enable_grad, set_grad_enabled, inference_mode) and detach() — the "autograd
mechanics" material of the tutorials."""
# corpus: same-numbers
import torch

x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
w = torch.tensor([1.5, 0.25, -0.75], requires_grad=True)
y = (w * x).pow(2).sum() + torch.sin(x).sum()

gx, gw = torch.autograd.grad(y, [x, w])
print("dy/dx", gx)
print("dy/dw", gw)
print("x.grad untouched:", x.grad is None)

z = (x * w).sum()
z.backward()
print("backward grads", x.grad, w.grad)

with torch.no_grad():
    a = x * 2
print("no_grad:", a.requires_grad)
with torch.no_grad():
    with torch.enable_grad():
        b = x * 2
print("enable_grad inside no_grad:", b.requires_grad)
with torch.set_grad_enabled(False):
    c = x * 2
print("set_grad_enabled(False):", c.requires_grad)
with torch.inference_mode():
    d = x * 2
print("inference_mode:", d.requires_grad)
e = x.detach()
print("detach:", e.requires_grad, e.tolist())
print("is_leaf:", x.is_leaf, y.is_leaf)
