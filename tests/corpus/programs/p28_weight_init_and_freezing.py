"""Initialising weights with model.apply(fn) and nn.init, listing named_modules()/children(),
freezing the first layer with requires_grad_(False), optimising only trainable parameters and
zero_grad(set_to_none=True)."""
# corpus: trains
import torch
import torch.nn as nn


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


torch.manual_seed(28)
model = nn.Sequential(nn.Linear(4, 12), nn.Tanh(), nn.Linear(12, 12), nn.Tanh(),
                      nn.Linear(12, 1))
model.apply(init_weights)
for name, module in model.named_modules():
    if name:
        print(name, type(module).__name__)
print("children", len(list(model.children())))

model[0].requires_grad_(False)
trainable = [p for p in model.parameters() if p.requires_grad]
print("trainable tensors", len(trainable), "frozen", sum(not p.requires_grad
                                                        for p in model.parameters()))
frozen_before = model[0].weight.detach().clone()

x = torch.randn(128, 4)
y = torch.sin(x.sum(dim=1, keepdim=True))
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
loss_fn = nn.MSELoss()
for step in range(60):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 20 == 0 or step == 59:
        print("step", step, "loss", round(loss.item(), 5))
print("first layer unchanged:", torch.equal(frozen_before, model[0].weight))
