"""Control flow and weight sharing (Learning PyTorch with Examples): a cubic plus a random
number of higher-order terms sharing one scalar nn.Parameter made from torch.randn(()); the
number of terms drawn per step with Python's random; SGD with momentum."""
# corpus: trains
import math
import random

import torch


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return (f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + "
                f"{self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?")


torch.manual_seed(34)
random.seed(34)
x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
model = DynamicNet()
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=2e-8, momentum=0.9)
for t in range(900):
    loss = criterion(model(x), y)
    if t % 300 == 299:
        print(t, "loss", loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with torch.no_grad():
    random.seed(0)
    print("final loss", criterion(model(x), y).item(), "terms", len(model.string().split("+")))
