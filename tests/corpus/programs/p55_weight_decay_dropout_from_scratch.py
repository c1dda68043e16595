"""d2l's regularisation chapters: high-dimensional linear regression with an L2 penalty written
by hand (torch.sum(w.pow(2)) / 2) and the concise version with per-parameter-group
weight_decay; then dropout from scratch with a mask from (torch.rand(X.shape) > dropout).float(),
here with the mask drawn from NumPy so both runs agree."""
# corpus: same-numbers
import numpy as np
import torch
from torch import nn

rs = np.random.RandomState(0)
n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5
true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05


def synthetic_data(w, b, num_examples):
    X = torch.from_numpy(rs.normal(0, 1, (num_examples, len(w))).astype(np.float32))
    y = torch.matmul(X, w) + b
    y += torch.from_numpy(rs.normal(0, 0.01, y.shape).astype(np.float32))
    return X, y.reshape((-1, 1))


train_X, train_y = synthetic_data(true_w, true_b, n_train)
test_X, test_y = synthetic_data(true_w, true_b, n_test)


def init_params():
    w = torch.from_numpy(rs.normal(0, 1, size=(num_inputs, 1)).astype(np.float32))
    w.requires_grad_(True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def evaluate_loss(net, X, y, loss):
    with torch.no_grad():
        return loss(net(X), y).mean().item()


def train(lambd):
    w, b = init_params()
    net, loss = lambda X: linreg(X, w, b), squared_loss
    num_epochs, lr = 60, 0.003
    for epoch in range(num_epochs):
        for i in range(0, n_train, batch_size):
            X, y = train_X[i:i + batch_size], train_y[i:i + batch_size]
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        if (epoch + 1) % 20 == 0:
            print(f"lambd={lambd} epoch {epoch + 1}: train loss {evaluate_loss(net, train_X, train_y, loss):.6f}"
                  f" test loss {evaluate_loss(net, test_X, test_y, loss):.6f}")
    print("L2 norm of w:", torch.norm(w).item())


train(lambd=0)
train(lambd=3)


def train_concise(wd):
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(rs.normal(0, 1, (1, num_inputs)).astype(np.float32)))
        net[0].bias.fill_(0.0)
    loss = nn.MSELoss(reduction='none')
    num_epochs, lr = 60, 0.003
    trainer = torch.optim.SGD([
        {"params": net[0].weight, 'weight_decay': wd},
        {"params": net[0].bias}], lr=lr)
    for epoch in range(num_epochs):
        for i in range(0, n_train, batch_size):
            X, y = train_X[i:i + batch_size], train_y[i:i + batch_size]
            trainer.zero_grad()
            l = loss(net(X), y)
            l.mean().backward()
            trainer.step()
        if (epoch + 1) % 30 == 0:
            print(f"wd={wd} epoch {epoch + 1}: {evaluate_loss(net, train_X, train_y, loss):.6f}"
                  f" {evaluate_loss(net, test_X, test_y, loss):.6f}")
    print('L2 norm of w:', net[0].weight.norm().item())
    print([g["weight_decay"] for g in trainer.param_groups])


train_concise(0)
train_concise(3)

# dropout from scratch
mask_rs = np.random.RandomState(42)


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    u = torch.from_numpy(mask_rs.rand(*X.shape).astype(np.float32))
    mask = (u > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print(X)
print(dropout_layer(X, 0.))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.))

num_inputs2, num_outputs, num_hiddens1, num_hiddens2 = 64, 10, 32, 32
dropout1, dropout2 = 0.2, 0.5


class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, is_training=True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training == True:
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return out


net = Net(num_inputs2, num_outputs, num_hiddens1, num_hiddens2)
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rs.normal(0, 0.1, tuple(p.shape)).astype(np.float32)))
from sklearn.datasets import load_digits

d = load_digits()
Xd = torch.tensor(d.data[:400], dtype=torch.float32) / 16
yd = torch.tensor(d.target[:400], dtype=torch.long)
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.5)
for epoch in range(5):
    net.train()
    total = 0.0
    for i in range(0, 400, 50):
        trainer.zero_grad()
        l = loss(net(Xd[i:i + 50]), yd[i:i + 50])
        l.mean().backward()
        trainer.step()
        total += l.sum().item()
    net.eval()
    with torch.no_grad():
        acc = (net(Xd).argmax(dim=1) == yd).float().mean().item()
    print(f"epoch {epoch} loss {total / 400:.5f} acc {acc:.4f} training={net.training}")
