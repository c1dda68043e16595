"""The official quickstart's shape: device chosen from cuda/mps availability, a NeuralNetwork
with nn.Flatten and a linear_relu_stack moved .to(device), train()/test() loops printing
f-string progress, accuracy from (pred.argmax(1) == y).type(torch.float).sum().item()."""
# corpus: same-numbers
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

device = ("cuda" if torch.cuda.is_available()
          else "mps" if torch.backends.mps.is_available() else "cpu")
print(f"Using {device} device")

rng = np.random.default_rng(24)
prototypes = rng.uniform(0, 1, (4, 5, 5))


def dataset(n):
    labels = rng.integers(0, 4, n)
    images = prototypes[labels] + 0.5 * rng.standard_normal((n, 5, 5))
    return TensorDataset(torch.tensor(images, dtype=torch.float32), torch.tensor(labels))


train_dataloader = DataLoader(dataset(256), batch_size=64)
test_dataloader = DataLoader(dataset(128), batch_size=64)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(25, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


model = NeuralNetwork().to(device)
model.load_state_dict({name: torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)),
                                          dtype=torch.float32)
                       for name, p in model.state_dict().items()})
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 2 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


epochs = 3
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")
