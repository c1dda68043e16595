"""A general checkpoint: a dict with epoch, model and optimizer state_dicts and the loss,
saved with torch.save to a .tar file, loaded with map_location and resumed with model.train()
— the resumed run continues exactly where the first left off."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.default_rng(4)
inputs = torch.tensor(rng.standard_normal((64, 5)), dtype=torch.float32)
targets = torch.tensor(rng.standard_normal((64, 1)), dtype=torch.float32)
start = {"0.weight": rng.uniform(-0.4, 0.4, (6, 5)), "0.bias": np.zeros(6),
         "2.weight": rng.uniform(-0.4, 0.4, (1, 6)), "2.bias": np.zeros(1)}


def build():
    net = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 1))
    net.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in start.items()})
    return net


def train(net, optimizer, epochs):
    criterion = nn.MSELoss()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = criterion(net(inputs), targets)
        loss.backward()
        optimizer.step()
    return loss.item()


model = build()
optimizer = optim.Adam(model.parameters(), lr=0.02)
loss = train(model, optimizer, 10)
torch.save({"epoch": 10, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "loss": loss}, "checkpoint.tar")

model2 = build()
optimizer2 = optim.Adam(model2.parameters(), lr=0.02)
checkpoint = torch.load("checkpoint.tar", map_location=torch.device("cpu"), weights_only=True)
model2.load_state_dict(checkpoint["model_state_dict"])
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
epoch = checkpoint["epoch"]
print("resuming after epoch", epoch, "loss", round(checkpoint["loss"], 6))
model2.train()
resumed = train(model2, optimizer2, 10)
uninterrupted = train(model, optimizer, 10)
print("resumed loss", resumed, "uninterrupted loss", uninterrupted)
