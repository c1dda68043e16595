"""The same small regression net trained from one state_dict by Adamax, NAdam, RAdam,
AdamW with amsgrad and Nesterov SGD, printing each final loss."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(27)
X = torch.tensor(rng.standard_normal((64, 4)), dtype=torch.float32)
y = torch.tensor(rng.standard_normal((64, 1)), dtype=torch.float32)
init = {k: torch.tensor(rng.uniform(-0.5, 0.5, s), dtype=torch.float32)
        for k, s in [("0.weight", (8, 4)), ("0.bias", (8,)), ("2.weight", (1, 8)),
                     ("2.bias", (1,))]}
for name, make in [("Adamax", lambda p: torch.optim.Adamax(p, lr=0.01)),
                   ("NAdam", lambda p: torch.optim.NAdam(p, lr=0.01)),
                   ("RAdam", lambda p: torch.optim.RAdam(p, lr=0.01)),
                   ("AdamW-amsgrad", lambda p: torch.optim.AdamW(p, lr=0.01, amsgrad=True)),
                   ("SGD-nesterov", lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9,
                                                              nesterov=True))]:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    model.load_state_dict(init)
    opt = make(model.parameters())
    for step in range(25):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
    print(f"{name:14s} loss {loss.item():.6f}")
