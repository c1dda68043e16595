"""The "tensor views" and "tensor printing" material of the docs and cheat sheets: view,
reshape, permute, contiguous, expand, repeat, unfold, transpose with stride() and
is_contiguous(), writes through views reaching their base, data_ptr() to tell shared memory,
in-place ops chained (add_().mul_().clamp_()), then print() of tensors of many dtypes and
shapes (integers, bools, float16/float64, tiny and huge values, NaN/inf, 3-D, empty, long
summarised ones) and torch.set_printoptions."""
# corpus: same-numbers
import numpy as np
import torch

t = torch.arange(24)
v = t.view(2, 3, 4)
print(v.shape, v.stride(), v.is_contiguous(), v.storage_offset())
p = v.permute(2, 0, 1)
print(p.shape, p.stride(), p.is_contiguous())
c = p.contiguous()
print(c.stride(), c.is_contiguous(), c.data_ptr() == p.data_ptr())
r = p.reshape(4, 6)
print(r)
tr = v.transpose(0, 1)
print(tr.shape, tr.stride(), tr[1, 0])
print(v[:, 1].stride(), v[..., ::2].shape, v[..., ::2].stride())

v[0, 0, 0] = 100
print(t[:5], t.data_ptr() == v.data_ptr())
row = v[1]
row.mul_(-1)
print(t[12:16])
t.view(4, 6)[:, 0] = 0
print(v[:, :, 0])

e = torch.tensor([[1.0], [2.0], [3.0]])
x = e.expand(3, 4)
print(x, x.stride())
print(e.expand(-1, 2).shape, e.repeat(2, 3).shape, e.repeat(1, 2))
print(torch.tensor([1, 2, 3]).repeat(2), torch.tensor([1, 2]).repeat(2, 2))
w = torch.arange(1.0, 9.0)
windows = w.unfold(0, 3, 2)
print(windows, windows.shape)
print(w.unfold(0, 4, 4).sum(1))
print(w.view(2, 4).t().flatten(), w.view(2, 2, 2).flatten(start_dim=1))
print(w.view(-1, 2).unsqueeze(1).shape, w.view(1, 8, 1).squeeze().shape)
print(w.narrow(0, 2, 3), w.view(2, 4).unbind(1)[2], w.chunk(3))

a = torch.ones(2, 3)
b = a.add_(1).mul_(3).clamp_(max=5.5).sub_(torch.tensor([0.5, 1.0, 1.5]))
print(a, b is a)
a.t_()
print(a.shape, a.is_contiguous())
a.unsqueeze_(0)
print(a.shape)
z = torch.zeros(3, 3)
z.diagonal().fill_(7)
z[0].add_(torch.arange(3.0))
z[:, 2].copy_(torch.tensor([9.0, 8.0, 7.0]))
print(z)
z.masked_fill_(z > 7.5, -1.0)
print(z, z.sum().item())

rng = np.random.default_rng(0)
print(torch.tensor([1, -22, 333], dtype=torch.int32))
print(torch.tensor([[True, False], [False, True]]))
print(torch.tensor([0, 255, 7], dtype=torch.uint8), torch.tensor([-5, 5], dtype=torch.int8))
print(torch.tensor([0.5, 1.25, -3.0], dtype=torch.float16))
print(torch.tensor([1.0, 2.5], dtype=torch.float64))
print(torch.tensor([1e-8, 1.0, 2.0]), torch.tensor([1e10, 1.0]))
print(torch.tensor([123456.0, 0.001]), torch.tensor([100.0, 200.0, 300.0]))
print(torch.tensor([float('nan'), float('inf'), -float('inf'), 1.5]))
print(torch.tensor([0.0, -0.0, 1e-3]), torch.tensor(3.14159), torch.tensor(7))
print(torch.tensor(rng.normal(size=(2, 3, 4)), dtype=torch.float32))
print(torch.empty(0), torch.zeros(2, 0), torch.ones(0, 3).shape)
print(torch.arange(2000.0))
print(torch.arange(1200).reshape(40, 30))
print(torch.tensor(rng.normal(scale=1000, size=(3, 5))))
print(torch.tensor([1.0, 2.0], requires_grad=True) * 2)
torch.set_printoptions(precision=2)
print(torch.tensor(rng.normal(size=(2, 4)), dtype=torch.float32))
torch.set_printoptions(sci_mode=True)
print(torch.tensor([0.5, 12.0, 3000.0]))
torch.set_printoptions(profile='default')
print(torch.tensor([0.123456789, 2.0]))
torch.set_printoptions(threshold=5, edgeitems=2)
print(torch.arange(10), torch.arange(36.0).reshape(6, 6))
torch.set_printoptions(profile='full')
print(torch.arange(12).reshape(3, 4))
torch.set_printoptions(profile='default', linewidth=40)
print(torch.linspace(0, 1, 12))
torch.set_printoptions(profile='default')
