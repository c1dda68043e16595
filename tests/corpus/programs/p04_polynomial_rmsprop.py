"""The same cubic fit with an optimizer (RMSprop) doing the update (the official "optim"
example): optimizer.zero_grad(), loss.backward(), optimizer.step()."""
# corpus: same-numbers
import math

import torch

x = torch.linspace(-math.pi, math.pi, 300)
y = torch.sin(x)
xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))

model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.5, 0.1, -0.1]]))
    model[0].bias.fill_(0.0)
loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(300):
    loss = loss_fn(model(xx), y)
    if t % 100 == 99:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

w = model[0].weight
print("weights", w[0, 0].item(), w[0, 1].item(), w[0, 2].item(), model[0].bias.item())
