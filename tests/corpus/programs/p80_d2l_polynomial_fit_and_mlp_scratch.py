"""d2l's "Model Selection, Underfitting, and Overfitting" and "MLP from scratch": polynomial
features with np.power and math.gamma, a bias-free nn.Linear trained on 3, 20 and all features
through load_array / evaluate_loss with an Accumulator; then an MLP written by hand with
nn.Parameter(torch.randn(...) * 0.01), relu as torch.max(X, torch.zeros_like(X)), trained by
torch.optim.SGD on the digits with d2l's train_epoch_ch3 bookkeeping."""
# corpus: same-numbers
import math

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils import data

max_degree = 20
n_train, n_test = 100, 100
true_w = np.zeros(max_degree)
true_w[0:4] = np.array([5, 1.2, -3.4, 5.6])

np.random.seed(0)
features = np.random.normal(size=(n_train + n_test, 1))
np.random.shuffle(features)
poly_features = np.power(features, np.arange(max_degree).reshape(1, -1))
for i in range(max_degree):
    poly_features[:, i] /= math.gamma(i + 1)
labels = np.dot(poly_features, true_w)
labels += np.random.normal(scale=0.1, size=labels.shape)

true_w, features, poly_features, labels = [
    torch.tensor(x, dtype=torch.float32) for x in [true_w, features, poly_features, labels]]
print(features[:2], poly_features[:2, :4], labels[:2])


class Accumulator:
    """Accumulate sums over n variables."""
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx):
        return self.data[idx]


def load_array(data_arrays, batch_size, is_train=True):
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def evaluate_loss(net, data_iter, loss):
    metric = Accumulator(2)  # sum of losses, number of examples
    for X, y in data_iter:
        out = net(X)
        y = y.reshape(out.shape)
        l = loss(out, y)
        metric.add(l.sum(), l.numel())
    return metric[0] / metric[1]


def train(train_features, test_features, train_labels, test_labels, num_epochs=40):
    loss = nn.MSELoss(reduction='none')
    input_shape = train_features.shape[-1]
    net = nn.Sequential(nn.Linear(input_shape, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.linspace(-0.1, 0.1, input_shape).reshape(1, -1))
    batch_size = min(10, train_labels.shape[0])
    train_iter = load_array((train_features, train_labels.reshape(-1, 1)), batch_size,
                            is_train=False)
    test_iter = load_array((test_features, test_labels.reshape(-1, 1)), batch_size,
                           is_train=False)
    trainer = torch.optim.SGD(net.parameters(), lr=0.01)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)
            l.mean().backward()
            trainer.step()
        if epoch == 0 or (epoch + 1) % 20 == 0:
            print(f"epoch {epoch + 1}: train loss {evaluate_loss(net, train_iter, loss):.5f}, "
                  f"test loss {evaluate_loss(net, test_iter, loss):.5f}")
    print('weight:', net[0].weight.data.numpy().round(3))


for n_features in (4, 2, max_degree):
    train(poly_features[:n_train, :n_features], poly_features[n_train:, :n_features],
          labels[:n_train], labels[n_train:])

# ---- MLP from scratch ----
torch.manual_seed(0)
digits = load_digits()
X_all = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y_all = torch.tensor(digits.target)
num_inputs, num_outputs, num_hiddens = 64, 10, 32
W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
params = [W1, b1, W2, b2]
print(W1.shape, W1.is_leaf, W1.grad_fn, float(W1.abs().sum()))


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)  # '@' is matrix multiplication
    return (H @ W2 + b2)


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


loss = nn.CrossEntropyLoss(reduction='none')
updater = torch.optim.SGD(params, lr=0.5)
train_iter = load_array((X_all[:1500], y_all[:1500]), 100, is_train=False)
for epoch in range(6):
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    test_acc = accuracy(net(X_all[1500:]), y_all[1500:]) / len(y_all[1500:])
    print(f'epoch {epoch + 1}, loss {metric[0] / metric[2]:.4f}, '
          f'train acc {metric[1] / metric[2]:.3f}, test acc {test_acc:.3f}')
