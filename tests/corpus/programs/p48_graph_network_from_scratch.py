"""A graph convolutional network written from scratch, as the "GNN from scratch" tutorials
do: messages gathered along edges and summed with index_add_ / scatter_add, degrees from
bincount, the normalised adjacency checked against a dense one built with diagonal,
block_diag and kron; node classification with a train mask; then a DQN-style update that
reads Q(s, a) with gather."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(48)
communities, size = 3, 12
labels = torch.arange(communities).repeat_interleave(size)
n = communities * size
pairs = [(i, j) for i in range(n) for j in range(i + 1, n)
         if rng.random() < (0.35 if labels[i] == labels[j] else 0.03)]
src = torch.tensor([i for i, j in pairs] + [j for i, j in pairs])
dst = torch.tensor([j for i, j in pairs] + [i for i, j in pairs])
loops = torch.arange(n)
src, dst = torch.cat([src, loops]), torch.cat([dst, loops])
degree = torch.bincount(dst, minlength=n).double()
norm = degree[src].rsqrt() * degree[dst].rsqrt()
print("edges:", src.numel(), "max degree:", int(degree.max()))

adjacency = torch.zeros(n, n)
adjacency[dst, src] = norm
blocks = torch.block_diag(*[torch.ones(size, size)] * communities)
within = (adjacency * blocks).sum() / adjacency.sum()
print("share of the weight within communities:", round(within.item(), 6))
print("self-loop weights:", [round(v, 5) for v in torch.diagonal(adjacency)[:4].tolist()])
print("kron check:", torch.equal(torch.kron(torch.eye(communities), torch.ones(size, size)),
                                 blocks))

features = torch.from_numpy(rng.standard_normal((n, 8))) + F.one_hot(labels, 8) * 0.8


class GCNLayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)

    def forward(self, x):
        h = self.linear(x)
        messages = h[src] * norm.unsqueeze(1)
        return torch.zeros_like(h).index_add_(0, dst, messages)


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = GCNLayer(8, 16), GCNLayer(16, communities)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(x)))


model = GCN()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.4))
train_mask = torch.zeros(n, dtype=torch.bool)
train_mask[torch.tensor([0, 1, 12, 13, 24, 25])] = True
optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
for epoch in range(60):
    optimizer.zero_grad()
    out = model(features)
    loss = F.cross_entropy(out[train_mask], labels[train_mask])
    loss.backward()
    optimizer.step()
    if epoch % 15 == 0 or epoch == 59:
        accuracy = (out.argmax(1) == labels).double().mean().item()
        print(f"epoch {epoch}: loss {loss.item():.6f} accuracy {accuracy:.4f}")

# the same aggregation with scatter_add, as other tutorials write it
h = model.conv1.linear(features)
by_scatter = torch.zeros_like(h).scatter_add(0, dst.unsqueeze(1).expand(-1, h.size(1)),
                                             h[src] * norm.unsqueeze(1))
print("index_add_ == scatter_add:", torch.allclose(model.conv1(features), by_scatter))

# a DQN-style update: Q(s, a) read with gather, the target with max
q_net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
with torch.no_grad():
    for p in q_net.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))
states = torch.from_numpy(rng.standard_normal((32, 4)))
next_states = torch.from_numpy(rng.standard_normal((32, 4)))
actions = torch.from_numpy(rng.integers(0, 3, 32))
rewards = torch.from_numpy(rng.standard_normal(32))
done = torch.from_numpy(rng.random(32) < 0.1)
q_optimizer = torch.optim.RMSprop(q_net.parameters(), lr=0.01)
for step in range(5):
    q_values = q_net(states).gather(1, actions.unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        target = rewards + 0.99 * q_net(next_states).max(1)[0] * (~done)
    loss = F.smooth_l1_loss(q_values, target)
    q_optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(q_net.parameters(), 1.0)
    q_optimizer.step()
    print(f"dqn step {step}: loss {loss.item():.6f} mean Q {q_values.mean().item():.6f}")
