"""The activation zoo in torch.nn.functional (elu, gelu, mish, logsigmoid, hardtanh …), a
net with PReLU, LogSoftmax + NLLLoss and Identity trained with Adagrad, parameters_to_vector,
and F.cosine_similarity, pairwise_distance, huber, kl_div, label smoothing, pad, linear."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(24)
x = torch.tensor(rng.standard_normal((6, 5)), dtype=torch.float32)
for name, fn in [("relu", F.relu), ("leaky", lambda t: F.leaky_relu(t, 0.2)),
                 ("elu", F.elu), ("gelu", F.gelu), ("silu", F.silu),
                 ("softplus", F.softplus), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
                 ("relu6", F.relu6), ("hardtanh", F.hardtanh), ("selu", F.selu),
                 ("log_sigmoid", F.logsigmoid), ("mish", F.mish)]:
    print(name, fn(x).sum().item())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.act = nn.PReLU()
        self.fc2 = nn.Linear(8, 3)
        self.out = nn.LogSoftmax(dim=1)
        self.skip = nn.Identity()

    def forward(self, x):
        h = self.act(self.fc1(x))
        h = F.dropout(h, p=0.5, training=self.training)
        return self.out(self.fc2(self.skip(h)))


net = Net()
for name, p in net.named_parameters():
    with torch.no_grad():
        p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)), dtype=torch.float32))
    print(name, list(p.shape))
net.eval()
y = torch.tensor([0, 1, 2, 0, 1, 2])
crit = nn.NLLLoss()
opt = torch.optim.Adagrad(net.parameters(), lr=0.1)
for i in range(5):
    opt.zero_grad()
    loss = crit(net(x), y)
    loss.backward()
    opt.step()
    print(i, f"{loss.item():.6f}", f"{net.act.weight.item():.6f}")
vec = torch.nn.utils.parameters_to_vector(net.parameters())
print(vec.shape, vec.norm().item())
torch.nn.utils.vector_to_parameters(vec * 0.5, net.parameters())
print(net.fc1.bias.sum().item())
print(nn.GELU()(x).mean().item(), nn.SiLU()(x).mean().item(), nn.Softplus(beta=2)(x).mean().item())
print(nn.Softmax(dim=-1)(x)[0].sum().item(), F.log_softmax(x, 1).exp().sum(1))
print(F.cosine_similarity(x[0:2], x[2:4]), F.pairwise_distance(x[0:2], x[2:4]))
print(F.l1_loss(x, torch.zeros_like(x)).item(), F.huber_loss(x, torch.zeros_like(x)).item())
print(F.kl_div(F.log_softmax(x, 1), F.softmax(x.flip(0), 1), reduction="batchmean").item())
print(F.cross_entropy(x[:, :3], y, label_smoothing=0.1).item())
print(F.pad(x[:1, :2], (1, 1)), F.linear(x[:2], torch.ones(2, 5)))
