"""Binary classification on logits with BCEWithLogitsLoss(pos_weight=...); weights copied in
under no_grad; predictions by torch.sigmoid(logits) > 0.5 and accuracy from .float().mean()."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(21)
X = rng.standard_normal((200, 6)).astype(np.float32)
true_w = rng.standard_normal(6)
y = ((X @ true_w + 0.5 * rng.standard_normal(200)) > 0.8).astype(np.float32)
X_t, y_t = torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)
print("positives", int(y_t.sum().item()), "of", len(y_t))

model = nn.Sequential(nn.Linear(6, 8), nn.LeakyReLU(0.1), nn.Linear(8, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor(rng.uniform(-0.4, 0.4, (8, 6)), dtype=torch.float32))
    model[0].bias.zero_()
    model[2].weight.copy_(torch.tensor(rng.uniform(-0.4, 0.4, (1, 8)), dtype=torch.float32))
    model[2].bias.fill_(0.0)

pos_weight = torch.tensor([(len(y) - y.sum()) / y.sum()], dtype=torch.float32)
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(40):
    optimizer.zero_grad()
    logits = model(X_t)
    loss = criterion(logits, y_t)
    loss.backward()
    optimizer.step()
    if epoch % 10 == 9:
        with torch.no_grad():
            pred = (torch.sigmoid(model(X_t)) > 0.5).float()
            acc = (pred == y_t).float().mean().item()
        print(f"epoch {epoch + 1:3d} loss {loss.item():.5f} acc {acc:.3f}")
