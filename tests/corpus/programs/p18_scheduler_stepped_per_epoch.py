"""An optimizer with a StepLR scheduler stepped once per epoch after the batch loop over a
DataLoader; the learning rate read from scheduler.get_last_lr() and param_groups."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
from torch.optim import SGD
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(6)
features = torch.tensor(rng.standard_normal((120, 3)), dtype=torch.float32)
labels = features @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
loader = DataLoader(TensorDataset(features, labels), batch_size=20, shuffle=False)

model = nn.Linear(3, 1)
nn.init.zeros_(model.weight)
nn.init.constant_(model.bias, 0.1)
criterion = nn.MSELoss()
optimizer = SGD(model.parameters(), lr=0.1, momentum=0.5)
scheduler = StepLR(optimizer, step_size=2, gamma=0.5)

for epoch in range(6):
    running_loss = 0.0
    for batch_x, batch_y in loader:
        optimizer.zero_grad()
        loss = criterion(model(batch_x), batch_y)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * batch_x.size(0)
    scheduler.step()
    print(f"epoch {epoch}: loss {running_loss / len(loader.dataset):.6f} "
          f"lr {scheduler.get_last_lr()[0]:.4f} {optimizer.param_groups[0]['lr']:.4f}")
print("weight", model.weight.detach().numpy().round(4).tolist())
