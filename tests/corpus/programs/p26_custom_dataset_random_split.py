"""A Dataset subclass with __len__/__getitem__ returning tensors, split with random_split and a
seeded torch.Generator, loaded with DataLoader(shuffle=True, num_workers=2, drop_last=True),
a validation pass with torch.no_grad() and the best epoch tracked."""
# corpus: trains
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, random_split


class TabularDataset(Dataset):
    def __init__(self, n=300):
        rng = np.random.default_rng(26)
        self.x = rng.standard_normal((n, 7)).astype(np.float32)
        self.y = (self.x[:, :3].sum(axis=1) > 0).astype(np.int64)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return torch.tensor(self.x[idx], dtype=torch.float32), torch.tensor(self.y[idx])


torch.manual_seed(42)
full = TabularDataset()
train_set, val_set = random_split(full, [240, 60], generator=torch.Generator().manual_seed(42))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=2, drop_last=True)
val_loader = DataLoader(val_set, batch_size=60)
print("batches per epoch", len(train_loader), "validation samples", len(val_set))

model = nn.Sequential(nn.Linear(7, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.CrossEntropyLoss()
best = float("inf")
for epoch in range(5):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = sum(criterion(model(xb), yb).item() for xb, yb in val_loader)
    best = min(best, val_loss)
    print(f"epoch {epoch} val_loss {val_loss:.4f} best {best:.4f}")
