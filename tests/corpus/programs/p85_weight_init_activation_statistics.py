"""The "why initialisation matters" experiment of the blog posts (Xavier vs Kaiming): a deep
MLP whose Linear layers are re-initialised with model.apply(init_fn) using nn.init.*
(normal_, xavier_uniform_ with calculate_gain, kaiming_normal_ fan_out, orthogonal_,
trunc_normal_, sparse_, constant_ biases), forward hooks recording each layer's activation
mean and std under torch.no_grad(), the fan computation of nn.init, then the same net trained
briefly from each initialisation under torch.manual_seed."""
# corpus: same-numbers
import functools
import math

import torch
import torch.nn as nn
from sklearn.datasets import load_digits

print('gains:', nn.init.calculate_gain('linear'), nn.init.calculate_gain('sigmoid'),
      nn.init.calculate_gain('tanh'), round(nn.init.calculate_gain('relu'), 4),
      round(nn.init.calculate_gain('leaky_relu', 0.2), 4), nn.init.calculate_gain('selu'))
w = torch.empty(16, 48)
print('fans:', nn.init._calculate_fan_in_and_fan_out(w),
      nn.init._calculate_correct_fan(w, 'fan_out'))


def make_net(act, depth=8, width=64):
    layers = [nn.Linear(64, width), act()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), act()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def init_weights(m, scheme):
    if isinstance(m, nn.Linear):
        if scheme == 'normal':
            nn.init.normal_(m.weight, mean=0.0, std=1.0)
        elif scheme == 'small':
            nn.init.normal_(m.weight, std=0.01)
        elif scheme == 'xavier':
            nn.init.xavier_uniform_(m.weight, gain=nn.init.calculate_gain('tanh'))
        elif scheme == 'kaiming':
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif scheme == 'orthogonal':
            nn.init.orthogonal_(m.weight, gain=math.sqrt(2))
        elif scheme == 'trunc':
            nn.init.trunc_normal_(m.weight, std=0.05, a=-0.1, b=0.1)
        elif scheme == 'sparse':
            nn.init.sparse_(m.weight, sparsity=0.5, std=0.2)
        if m.bias is not None:
            nn.init.constant_(m.bias, 0.01)


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
X = (X - X.mean(0)) / (X.std(0) + 1e-6)
y = torch.tensor(digits.target)

stats = []


def record(module, inputs, output, name):
    stats.append((name, output.mean().item(), output.std().item()))


for act, schemes in ((nn.Tanh, ('normal', 'small', 'xavier')),
                     (nn.ReLU, ('kaiming', 'orthogonal', 'trunc', 'sparse'))):
    for scheme in schemes:
        torch.manual_seed(0)
        net = make_net(act)
        net.apply(functools.partial(init_weights, scheme=scheme))
        handles = [m.register_forward_hook(functools.partial(record, name=str(i)))
                   for i, m in enumerate(net) if isinstance(m, act)]
        stats.clear()
        with torch.no_grad():
            net(X[:256])
        for h in handles:
            h.remove()
        line = ' '.join(f'{s:.3f}' for _, _, s in stats)
        print(f'{act.__name__:4s} {scheme:10s} std per layer: {line}')
        print(f'     last layer mean {stats[-1][1]:.4f}; zero weights in layer 0: '
              f'{int((net[0].weight == 0).sum())}')

for scheme in ('xavier', 'kaiming'):
    torch.manual_seed(1)
    act = nn.Tanh if scheme == 'xavier' else nn.ReLU
    net = make_net(act, depth=4, width=32)
    net.apply(lambda m: init_weights(m, scheme))  # noqa: B023
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(4):
        perm = torch.randperm(1500)
        for i in range(0, 1500, 100):
            idx = perm[i:i + 100]
            optimizer.zero_grad()
            loss = loss_fn(net(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            acc = (net(X[1500:]).argmax(1) == y[1500:]).float().mean().item()
        print(f'{scheme}: epoch {epoch} loss {loss.item():.4f} test acc {acc:.3f}')
    grads = [p.grad.norm().item() for n, p in net.named_parameters() if n.endswith('weight')]
    print('weight grad norms:', [f'{g:.4f}' for g in grads])
