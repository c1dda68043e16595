"""A custom layer written like torch's own Linear: weights allocated with torch.Tensor(out, in)
wrapped in nn.Parameter, reset_parameters() with kaiming_uniform_(a=sqrt(5)) and a uniform_
bias, F.linear in forward, extra_repr; used inside a model trained with AdamW."""
# corpus: trains
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super(MyLinear, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.Tensor(out_features, in_features))
        if bias:
            self.bias = nn.Parameter(torch.Tensor(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return "in_features={}, out_features={}, bias={}".format(
            self.in_features, self.out_features, self.bias is not None)


torch.manual_seed(33)
model = nn.Sequential(MyLinear(3, 16), nn.ReLU(), MyLinear(16, 1, bias=False))
print(model)
x = torch.rand(200, 3) * 2 - 1
y = (x[:, :1] * x[:, 1:2] - x[:, 2:]).detach()
optimizer = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.01)
for step in range(150):
    loss = F.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 149:
        print(f"step {step:3d} loss {loss.item():.5f}")
