"""Multinomial logistic regression written from scratch ("What is torch.nn really?", first
part): hand-written log_softmax and negative log-likelihood with index arrays, accuracy with
argmax, weights updated under no_grad and grads zeroed in place."""
# corpus: same-numbers
import math

import numpy as np
import torch

rng = np.random.default_rng(1)
n, features, classes = 300, 12, 4
centers = rng.standard_normal((classes, features)) * 2.0
labels_np = rng.integers(0, classes, n)
x_np = centers[labels_np] + rng.standard_normal((n, features))
x_train, y_train = map(torch.tensor, (x_np.astype(np.float32), labels_np))
n, c = x_train.shape
print(x_train.shape, y_train.min(), y_train.max())

weights = torch.tensor(rng.standard_normal((features, classes)) / math.sqrt(features),
                       dtype=torch.float32)
weights.requires_grad_()
bias = torch.zeros(classes, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


loss_func = nll
bs, lr, epochs = 50, 0.1, 3
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
    print(epoch, "loss", loss_func(model(x_train), y_train).item(),
          "accuracy", accuracy(model(x_train), y_train).item())
