"""A classifier built from nested nn.Sequential blocks, initialised by a loop over modules(),
with two Adam parameter groups, clip_grad_norm_ printed with a format spec, running accuracy
by `(predicted == y).sum().item()`, a gradient hook registered and removed, and a tour of
the tensor methods tutorials call (mean/var/argmax, new_*, conversions, type())."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(29)
X = torch.from_numpy(rng.standard_normal((30, 4)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, 30))


class Net(nn.Module):
    def __init__(self, in_dim=4, hidden=(8, 6), out_dim=3, p=0.0):
        super().__init__()
        dims = [in_dim, *hidden]
        self.body = nn.Sequential(*[nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Dropout(p))
                                    for a, b in zip(dims[:-1], dims[1:])])
        self.head = nn.Linear(dims[-1], out_dim)

    def forward(self, x):
        return self.head(self.body(x))


net = Net()
for m in net.modules():
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            values = rng.uniform(-0.4, 0.4, m.weight.shape).astype(np.float32)
            m.weight.copy_(torch.from_numpy(values))
            m.bias.fill_(0.0)
print(net)
print(sum(p.numel() for p in net.parameters()), len(list(net.children())), len(list(net.modules())))
print([name for name, _ in net.named_modules()][:4])
opt = torch.optim.Adam([{"params": net.body.parameters()},
                        {"params": net.head.parameters(), "lr": 1e-2}], lr=5e-3)
print([g["lr"] for g in opt.param_groups])
for epoch in range(20):
    net.train()
    logits = net(X)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    opt.step()
    if epoch % 5 == 0:
        _, predicted = torch.max(logits.data, 1)
        correct = (predicted == y).sum().item()
        print(f"[{epoch + 1:3d}] loss: {loss.item():.4f} "
              f"acc: {100 * correct / y.size(0):.1f}% grad-norm {gn:.3f}")
net.eval()
with torch.no_grad():
    probs = F.softmax(net(X[:3]), dim=1)
    print(probs, probs.sum(dim=1))
    conf, cls = probs.max(dim=1)
    print(conf, cls, cls.numpy().tolist())
print(net.head.weight.grad.abs().mean().item() > 0, net.head.weight.is_leaf)
state = net.state_dict()
print(list(state.keys())[:2], state["head.bias"].shape)
h = net.head.weight.register_hook(lambda g: g * 0)
loss = F.cross_entropy(net(X), y)
opt.zero_grad()
loss.backward()
print(net.head.weight.grad.abs().sum().item())
h.remove()
x = torch.arange(6.0).reshape(2, 3)
print(x.mean(), x.mean(0), x.mean(-1, keepdim=True), x.sum(), x.max(), x.argmax(), x.argmax(1))
print(x.std(), x.var(1), x.pow(2).sqrt().equal(x), torch.exp(x).log().allclose(x))
print(x.T @ x, x.mm(x.t()), x.unsqueeze(1).shape, x.view(3, 2).contiguous().is_contiguous())
print(torch.where(x > 2, x, torch.zeros_like(x)), x.clamp(1, 4), x.abs().neg())
print(x.new_zeros(2), x.new_ones((1, 2)), x.new_full((2,), 7.0), torch.full_like(x, 3))
print(x.float().dtype, x.long().dtype, x.int().dtype, x.bool().any().item(), x.half().dtype)
print(x.numpy().dtype, x.size(), x.shape[-1], x.ndim, x.dim(), x.numel(), len(x))
print(x.type(), x.long().type(), x.is_floating_point(), torch.is_tensor(x), x.element_size())
