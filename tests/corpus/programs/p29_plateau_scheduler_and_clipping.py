"""ReduceLROnPlateau stepped with the epoch's loss, gradient clipping with
nn.utils.clip_grad_norm_, an MLP with BatchNorm1d in eval for prediction; weights from NumPy."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.default_rng(29)
x = torch.tensor(rng.standard_normal((100, 4)), dtype=torch.float32)
y = torch.tensor(np.tanh(rng.standard_normal((100, 1)) + x.numpy()[:, :1]), dtype=torch.float32)

model = nn.Sequential(nn.Linear(4, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 1))
model.load_state_dict({
    "0.weight": torch.tensor(rng.uniform(-0.5, 0.5, (10, 4)), dtype=torch.float32),
    "0.bias": torch.zeros(10),
    "1.weight": torch.ones(10), "1.bias": torch.zeros(10),
    "1.running_mean": torch.zeros(10), "1.running_var": torch.ones(10),
    "1.num_batches_tracked": torch.tensor(0),
    "3.weight": torch.tensor(rng.uniform(-0.5, 0.5, (1, 10)), dtype=torch.float32),
    "3.bias": torch.zeros(1),
})
optimizer = optim.SGD(model.parameters(), lr=0.5)
scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
criterion = nn.MSELoss()
for epoch in range(12):
    model.train()
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    optimizer.step()
    scheduler.step(loss.item())
    print(f"epoch {epoch} loss {loss.item():.5f} grad norm {float(norm):.4f} "
          f"lr {optimizer.param_groups[0]['lr']:.4f}")
model.eval()
with torch.no_grad():
    print("eval loss", criterion(model(x), y).item())
    print("running mean", model[1].running_mean[:3])
