"""A pandas-backed Dataset whose __getitem__ returns a dict of NumPy values and an int id,
another returning (array, python float); default collation into tensors (float64 for
Python floats, as torch), training, keeping the best state with copy.deepcopy, restoring it."""
# corpus: same-numbers
import copy

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class CSVDataset(Dataset):
    def __init__(self, frame):
        self.X = frame[["a", "b", "c"]].values.astype(np.float32)
        self.y = frame["t"].values.astype(np.float32)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, idx):
        if torch.is_tensor(idx):
            idx = idx.tolist()
        return {"features": self.X[idx], "target": self.y[idx], "id": idx}


class TupleDataset(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.X[i], float(self.y[i])


rng = np.random.default_rng(23)
frame = pd.DataFrame(rng.standard_normal((50, 3)), columns=["a", "b", "c"])
frame["t"] = frame["a"] * 2 - frame["c"]
ds = CSVDataset(frame)
loader = DataLoader(ds, batch_size=16, shuffle=False)
batch = next(iter(loader))
print(sorted(batch.keys()), batch["features"].shape, batch["target"].dtype, batch["id"][:3])
print(type(batch["features"]).__name__, batch["features"].dtype, batch["id"].dtype)
td = TupleDataset(frame[["a", "b", "c"]].values.astype(np.float32), frame["t"].values)
xb, yb = next(iter(DataLoader(td, batch_size=8)))
print(xb.shape, xb.dtype, yb.shape, yb.dtype)
model = nn.Sequential(nn.Linear(3, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.1, 0.2, 0.3]]))
    model[0].bias.zero_()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
best_loss, best_state = float("inf"), None
history = []
for epoch in range(6):
    total = 0.0
    for b in loader:
        pred = model(b["features"]).squeeze(1)
        loss = nn.functional.mse_loss(pred, b["target"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(b["target"])
    epoch_loss = total / len(ds)
    history.append(epoch_loss)
    if epoch_loss < best_loss:
        best_loss = epoch_loss
        best_state = copy.deepcopy(model.state_dict())
    print(f"epoch {epoch} loss {epoch_loss:.6f}")
with torch.no_grad():
    model[0].weight.fill_(0.0)
model.load_state_dict(best_state)
print(model[0].weight, best_loss == min(history))
clone = copy.deepcopy(model)
clone[0].bias.data += 1
print(model[0].bias.item() != clone[0].bias.item())
