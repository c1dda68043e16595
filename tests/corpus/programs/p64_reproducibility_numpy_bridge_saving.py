"""Housekeeping idioms learners copy: a set_seed() helper and torch.manual_seed reproducibility
checks, a torch.Generator driving random_split and a shuffled DataLoader (same seed, same
order), tensor.numpy()/torch.from_numpy memory sharing and dtype round trips, .tolist(),
f-string formatting of 0-d tensors, and torch.save/torch.load of a dict of tensors, lists and
numbers (a training history)."""
# corpus: same-numbers
import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset, random_split


def set_seed(seed=42):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


set_seed(0)
a1, n1 = torch.rand(3), torch.randn(2, 2)
set_seed(0)
a2, n2 = torch.rand(3), torch.randn(2, 2)
print("same after reseed:", torch.equal(a1, a2), torch.equal(n1, n2))
print("different draws:", not torch.equal(torch.rand(3), torch.rand(3)))
state = torch.get_rng_state()
r1 = torch.randint(0, 10, (5,))
torch.set_rng_state(state)
print("rng state restored:", torch.equal(r1, torch.randint(0, 10, (5,))))
print(r1.dtype == torch.int64, ((r1 >= 0) & (r1 < 10)).all().item(), torch.initial_seed())

X = torch.arange(40, dtype=torch.float32).view(20, 2)
y = torch.arange(20)
ds = TensorDataset(X, y)
g1 = torch.Generator().manual_seed(42)
g2 = torch.Generator().manual_seed(42)
tr1, va1 = random_split(ds, [15, 5], generator=g1)
tr2, va2 = random_split(ds, [15, 5], generator=g2)
print("same split:", tr1.indices == tr2.indices, len(tr1), len(va1), sorted(tr1.indices + va1.indices) == list(range(20)))
parts = random_split(range(10), [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(1))
print("fraction split lengths:", [len(p) for p in parts])
parts = random_split(range(11), [0.34, 0.33, 0.33], generator=torch.Generator().manual_seed(1))
print("fraction split lengths 11:", [len(p) for p in parts])
gl = torch.Generator()
gl.manual_seed(7)
loader = DataLoader(ds, batch_size=4, shuffle=True, generator=gl)
order1 = torch.cat([yb for _, yb in loader])
order2 = torch.cat([yb for _, yb in loader])
gl.manual_seed(7)
order3 = torch.cat([yb for _, yb in loader])
print("loader epochs differ:", not torch.equal(order1, order2), "reseeded same:", torch.equal(order1, order3))
print("all seen:", torch.equal(order1.sort().values, y), len(loader), len(DataLoader(ds, batch_size=6, drop_last=True)))
print(gl.initial_seed(), type(gl.get_state()).__name__ == type(torch.get_rng_state()).__name__)

# NumPy bridge
t = torch.ones(5)
n = t.numpy()
t.add_(1)
print(t, n, n.dtype)
n2 = np.ones(5)
t2 = torch.from_numpy(n2)
np.add(n2, 1, out=n2)
print(t2, t2.dtype == torch.float64, torch.as_tensor(n2).dtype == torch.float64)
t3 = torch.tensor(n2)
n2[0] = 100
print(t3[0].item(), t2[0].item(), torch.as_tensor(n2)[0].item())
x = torch.linspace(0, 1, 5, requires_grad=True)
arr = x.detach().numpy()
print(arr, type(arr).__name__, arr.dtype, (x * 2).detach().cpu().numpy().tolist())
print(torch.tensor([1, 2, 3]).numpy().dtype, torch.from_numpy(np.array([1, 2], dtype=np.int32)).dtype == torch.int32)
print(torch.tensor(np.array([1.5, 2.5])).float().dtype == torch.float32, torch.FloatTensor(np.array([1, 2])).dtype == torch.float32)
print(x.tolist(), torch.tensor([[1, 2], [3, 4]]).tolist(), torch.tensor(2.5).tolist(), type(torch.tensor(2).tolist()).__name__)
loss = (x ** 2).mean()
print(f"loss {loss:.4f} | {loss.item():.6f} | {float(loss):.3e} | {loss.detach():8.3f}|")
print("Loss: {:.5f}".format(loss), "Acc: %.2f%%" % (100 * torch.tensor(0.8731)), str(round(loss.item(), 3)))
print(torch.tensor([0.5, 1.5]).numpy().mean(), np.mean(torch.tensor([1.0, 2.0]).numpy()), np.asarray(torch.tensor([3.0, 4.0])))

# saving a training history
history = {"train_loss": [], "val_acc": [], "weights": [], "epoch": 0}
w = torch.zeros(3)
for epoch in range(4):
    w = w + torch.tensor([0.1, -0.2, 0.3]) * (epoch + 1)
    history["train_loss"].append(1.0 / (epoch + 1))
    history["val_acc"].append(torch.tensor(0.5 + 0.1 * epoch))
    history["weights"].append(w.clone())
    history["epoch"] = epoch
history["best"] = {"epoch": 2, "state": {"w": w, "counts": torch.tensor([3, 4])}}
torch.save(history, "history.pt")
loaded = torch.load("history.pt")
print(loaded["epoch"], loaded["train_loss"], [round(v.item(), 2) for v in loaded["val_acc"]])
print(torch.stack(loaded["weights"]), loaded["best"]["state"]["counts"].dtype == torch.int64)
print(torch.equal(loaded["best"]["state"]["w"], w), type(loaded["train_loss"]).__name__)
torch.save({"X": X, "y": y}, "data.pt")
d = torch.load("data.pt", weights_only=True)
print(d["X"].shape, d["y"][:5], d["X"].dtype == torch.float32)
