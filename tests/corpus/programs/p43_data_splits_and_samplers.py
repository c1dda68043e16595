"""torch.utils.data's tools: random_split, Subset, ConcatDataset, SubsetRandomSampler over
shuffled indices, WeightedRandomSampler from bincount class weights, drop_last; then
torch.split/chunk and einsum."""
# corpus: trains
import numpy as np
import torch
from torch.utils.data import (
    ConcatDataset,
    DataLoader,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)

torch.manual_seed(0)
X = torch.randn(100, 3)
y = (X.sum(1) > 0).long()
ds = TensorDataset(X, y)
train_ds, val_ds = random_split(ds, [80, 20])
print(len(train_ds), len(val_ds), type(train_ds).__name__)
first = Subset(ds, list(range(10)))
print(len(first), first[0][0].shape)
both = ConcatDataset([first, val_ds])
print(len(both), both[15][1].dtype)
indices = list(range(100))
np.random.seed(0)
np.random.shuffle(indices)
train_sampler = SubsetRandomSampler(indices[:70])
loader = DataLoader(ds, batch_size=16, sampler=train_sampler)
print(len(loader), sum(len(b[0]) for b in loader))
counts = torch.bincount(y)
weights = 1.0 / counts.float()
sample_weights = weights[y]
wsampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights), replacement=True)
wl = DataLoader(ds, batch_size=20, sampler=wsampler)
print(len(wl), sum(b[0].shape[0] for b in wl))
loader = DataLoader(train_ds, batch_size=32, shuffle=True, drop_last=True)
model = torch.nn.Linear(3, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for epoch in range(3):
    total = 0
    for xb, yb in loader:
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    print(f"epoch {epoch} loss {total / len(loader):.4f}")
vx, vy = next(iter(DataLoader(val_ds, batch_size=len(val_ds))))
print(vx.shape, (model(vx).argmax(1) == vy).float().mean().item() > 0.5)
parts = torch.split(X, 30)
print([p.shape[0] for p in parts], [c.shape for c in torch.chunk(X, 3, dim=1)][0])
print(torch.einsum("ij,jk->ik", X[:2], torch.ones(3, 2)).shape, torch.einsum("ii", torch.eye(3)))
