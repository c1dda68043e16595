"""y = w·x fitted sample by sample with w = torch.Tensor([1.0]); the update assigns
w.data = w.data - lr * w.grad.data and clears w.grad.data.zero_() (a Chinese video course)."""
# corpus: same-numbers
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0])
w.requires_grad = True


def forward(x):
    return x * w


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


print("predict (before training)", 4, forward(4).item())
for epoch in range(30):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)  # noqa: E741
        l.backward()
        if epoch % 10 == 0:
            print("\tgrad:", x, y, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    if epoch % 10 == 0:
        print("progress:", epoch, l.item())
print("predict (after training)", 4, forward(4).item())
