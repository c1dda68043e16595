"""Four copies of one network (copy.deepcopy) trained side by side with SGD, SGD with momentum,
RMSprop(alpha=0.9) and Adam(betas=(0.9, 0.99)) on the same batches; the loss histories kept in
lists and summarised at the end (a popular tutorial's optimizer comparison)."""
# corpus: same-numbers
import copy

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(32)
x = torch.unsqueeze(torch.linspace(-1, 1, 120), dim=1)
y = x.pow(2) + 0.1 * torch.from_numpy(rng.standard_normal((120, 1)).astype(np.float32))


class Net(torch.nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.hidden = torch.nn.Linear(1, 20)
        self.predict = torch.nn.Linear(20, 1)

    def forward(self, x):
        return self.predict(F.relu(self.hidden(x)))


base = Net()
base.load_state_dict({
    "hidden.weight": torch.tensor(rng.uniform(-1, 1, (20, 1)), dtype=torch.float32),
    "hidden.bias": torch.tensor(rng.uniform(-1, 1, 20), dtype=torch.float32),
    "predict.weight": torch.tensor(rng.uniform(-0.3, 0.3, (1, 20)), dtype=torch.float32),
    "predict.bias": torch.zeros(1),
})
nets = [copy.deepcopy(base) for _ in range(4)]
LR = 0.01
optimizers = [
    torch.optim.SGD(nets[0].parameters(), lr=LR),
    torch.optim.SGD(nets[1].parameters(), lr=LR, momentum=0.8),
    torch.optim.RMSprop(nets[2].parameters(), lr=LR, alpha=0.9),
    torch.optim.Adam(nets[3].parameters(), lr=LR, betas=(0.9, 0.99)),
]
loss_func = torch.nn.MSELoss()
histories = [[], [], [], []]
for epoch in range(5):
    for start in range(0, 120, 30):
        b_x, b_y = x[start:start + 30], y[start:start + 30]
        for net, opt, history in zip(nets, optimizers, histories):
            loss = loss_func(net(b_x), b_y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(loss.data.numpy())
for name, history in zip(["SGD", "Momentum", "RMSprop", "Adam"], histories):
    print(f"{name:>8}: first {float(history[0]):.5f} last {float(history[-1]):.5f} "
          f"mean {float(np.mean(history)):.5f}")
print("base untouched:", torch.equal(base.hidden.weight, nets[0].hidden.weight) is False)
