"""The end of "What is torch.nn really?": TensorDataset + DataLoader (shuffled training data,
double-size validation batches), loss_batch/fit/get_model helpers, SGD with momentum, a
Lambda module inside nn.Sequential, train()/eval() modes and a weighted validation loss."""
# corpus: trains
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
rng = np.random.default_rng(5)
centers = rng.standard_normal((5, 16)) * 2.0


def make(n):
    labels = rng.integers(0, 5, n)
    return (torch.tensor(centers[labels] + rng.standard_normal((n, 16)), dtype=torch.float32),
            torch.tensor(labels))


x_train, y_train = make(400)
x_valid, y_valid = make(100)
train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


def get_data(train_ds, valid_ds, bs):
    return (DataLoader(train_ds, batch_size=bs, shuffle=True),
            DataLoader(valid_ds, batch_size=bs * 2))


def get_model(lr=0.05):
    model = nn.Sequential(Lambda(lambda x: x.view(-1, 16)), nn.Linear(16, 32), nn.ReLU(),
                          nn.Linear(32, 5))
    return model, optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        print(epoch, "val loss", round(float(val_loss), 4))


train_dl, valid_dl = get_data(train_ds, valid_ds, 32)
model, opt = get_model()
fit(4, model, F.cross_entropy, opt, train_dl, valid_dl)
