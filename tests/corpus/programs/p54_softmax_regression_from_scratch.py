"""Softmax regression from scratch, Dive-into-Deep-Learning style: softmax with torch.exp and
X_exp.sum(1, keepdim=True), cross-entropy by y_hat[range(len(y_hat)), y], an Accumulator class,
accuracy via argmax with .type(y.dtype), sgd updating params in place under no_grad."""
# corpus: same-numbers
import numpy as np
import torch
from sklearn.datasets import load_digits

digits = load_digits()
X_all = torch.tensor(digits.data[:600] / 16.0, dtype=torch.float32)
y_all = torch.tensor(digits.target[:600])
train_X, test_X = X_all[:480], X_all[480:]
train_y, test_y = y_all[:480], y_all[480:]

num_inputs, num_outputs = 64, 10
rs = np.random.RandomState(1)
W = torch.tensor(rs.normal(0, 0.01, size=(num_inputs, num_outputs)), dtype=torch.float32,
                 requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)

X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(X.sum(0, keepdim=True), X.sum(1, keepdim=True))


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # broadcasting


X = torch.tensor(rs.normal(0, 1, (2, 5)), dtype=torch.float32)
X_prob = softmax(X)
print(X_prob, X_prob.sum(1))


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


y = torch.tensor([0, 2])
y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
print(y_hat[[0, 1], y])


def cross_entropy(y_hat, y):
    return - torch.log(y_hat[range(len(y_hat)), y])


print(cross_entropy(y_hat, y))


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


print(accuracy(y_hat, y) / len(y))


class Accumulator:
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def data_iter(X, y, batch_size):
    for i in range(0, len(X), batch_size):
        yield X[i:i + batch_size], y[i:i + batch_size]


def evaluate_accuracy(net, X, y):
    metric = Accumulator(2)
    with torch.no_grad():
        for Xb, yb in data_iter(X, y, 64):
            metric.add(accuracy(net(Xb), yb), yb.numel())
    return metric[0] / metric[1]


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def updater(batch_size):
    return sgd([W, b], lr, batch_size)


def train_epoch_ch3(net, X, y, loss, updater):
    metric = Accumulator(3)
    for Xb, yb in data_iter(X, y, 32):
        y_hat = net(Xb)
        l = loss(y_hat, yb)
        l.sum().backward()
        updater(Xb.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, yb), yb.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


lr = 0.1
for epoch in range(8):
    train_metrics = train_epoch_ch3(net, train_X, train_y, cross_entropy, updater)
    test_acc = evaluate_accuracy(net, test_X, test_y)
    print(f"epoch {epoch + 1}, loss {train_metrics[0]:.5f}, train acc {train_metrics[1]:.4f}, "
          f"test acc {test_acc:.4f}")

preds = net(test_X[:12]).argmax(axis=1)
print("labels", test_y[:12].tolist())
print("preds ", preds.tolist())
print(W.norm().item(), b.detach().numpy().round(4))
print(W.grad.abs().sum(), b.grad)
