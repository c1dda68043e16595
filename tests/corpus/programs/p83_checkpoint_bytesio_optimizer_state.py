"""Checkpointing as the "saving and loading a general checkpoint" recipe and forum answers
write it, in memory: a dict of model, optimizer and scheduler state_dicts, the epoch, a loss
tensor and the RNG state saved with torch.save to an io.BytesIO, seek(0), torch.load; the
optimizer's state inspected (exp_avg / exp_avg_sq norms, step) and moved "to the device" with
the isinstance(v, torch.Tensor) loop, a resumed run checked against an uninterrupted one,
and a state_dict's keys, shapes and dtypes listed."""
# corpus: same-numbers
import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(7)
X = torch.tensor(rng.normal(size=(64, 5)), dtype=torch.float32)
y = torch.tensor(rng.integers(0, 3, size=64))


def make_model():
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.tensor(np.cos(np.arange(p.numel()) + i).reshape(p.shape) * 0.3))
    return model


def make_training(model):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    return optimizer, scheduler


def train_epochs(model, optimizer, scheduler, epochs):
    for _ in range(epochs):
        for i in range(0, 64, 16):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X[i:i + 16]), y[i:i + 16])
            loss.backward()
            optimizer.step()
        scheduler.step()
    return loss


model = make_model()
optimizer, scheduler = make_training(model)
loss = train_epochs(model, optimizer, scheduler, 4)
print(f"after 4 epochs: loss {loss.item():.5f}, lr {scheduler.get_last_lr()[0]:.5f}")

for key, value in model.state_dict().items():
    print(key, tuple(value.shape), value.dtype, f"{value.norm():.4f}")
sd = optimizer.state_dict()
print(sorted(sd.keys()), list(sd['state'].keys()), sd['param_groups'][0]['params'])
print({k: v for k, v in sd['param_groups'][0].items() if k in ('lr', 'betas', 'eps', 'weight_decay',
                                                               'initial_lr')})
for idx, state in sd['state'].items():
    print(idx, sorted(state.keys()), int(state['step']),
          f"{torch.as_tensor(state['exp_avg']).norm():.6f}",
          f"{torch.as_tensor(state['exp_avg_sq']).sum():.8f}")

buffer = io.BytesIO()
torch.save({
    'epoch': 4,
    'model_state_dict': model.state_dict(),
    'optimizer_state_dict': optimizer.state_dict(),
    'scheduler_state_dict': scheduler.state_dict(),
    'loss': loss.detach(),
    'history': [1.5, 1.2, 1.0],
}, buffer)
print('checkpoint bytes > 0:', buffer.getbuffer().nbytes > 0)

reference = train_epochs(model, optimizer, scheduler, 3)
print(f"uninterrupted: loss {reference.item():.6f}")

buffer.seek(0)
checkpoint = torch.load(buffer, weights_only=True)
print(sorted(checkpoint.keys()), checkpoint['epoch'], checkpoint['loss'], checkpoint['history'])
print(checkpoint['scheduler_state_dict']['last_epoch'],
      checkpoint['scheduler_state_dict']['_last_lr'])
model2 = make_model()
optimizer2, scheduler2 = make_training(model2)
print(model2.load_state_dict(checkpoint['model_state_dict']))
optimizer2.load_state_dict(checkpoint['optimizer_state_dict'])
scheduler2.load_state_dict(checkpoint['scheduler_state_dict'])
device = torch.device('cpu')
for state in optimizer2.state.values():
    for k, v in state.items():
        if isinstance(v, torch.Tensor):
            state[k] = v.to(device)
model2.train()
resumed = train_epochs(model2, optimizer2, scheduler2, 3)
print(f"resumed: loss {resumed.item():.6f}, lr {optimizer2.param_groups[0]['lr']:.6f}")
same = all(torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters()))
print('same weights as uninterrupted:', same)

state_buffer = io.BytesIO()
torch.save(model2.state_dict(), state_buffer)
state_buffer.seek(0)
loaded = torch.load(state_buffer)
print(type(loaded).__name__, list(loaded)[:2], loaded['0.bias'])
tensors = {'ints': torch.arange(4, dtype=torch.int16), 'mask': torch.tensor([True, False]),
           'half': torch.tensor([0.5, 1.5], dtype=torch.float16), 'nested': {'a': [torch.ones(2)]}}
buf = io.BytesIO()
torch.save(tensors, buf)
buf.seek(0)
back = torch.load(buf)
print(back['ints'], back['mask'], back['half'], back['nested'])
print([(k, v.dtype) for k, v in back.items() if torch.is_tensor(v)])
