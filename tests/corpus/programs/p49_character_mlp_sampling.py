"""A character-level MLP language model as the "makemore" lectures build it (Bengio et al.
2003): an embedding table indexed directly, a tanh hidden layer with batch norm written by
hand, minibatches drawn with torch.randint from a seeded torch.Generator, the learning rate
found on a torch.logspace grid, and names sampled with torch.multinomial; then a Gumbel-softmax
sample and a REINFORCE-style Categorical log-likelihood."""
# corpus: trains
import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Categorical

rng = np.random.default_rng(49)
syllables = ["ka", "ri", "mo", "na", "le", "ta", "si", "ro", "mi", "an", "el", "o", "a"]
words = ["".join(rng.choice(syllables, rng.integers(2, 4))) for _ in range(400)]
chars = sorted(set("".join(words)))
stoi = {c: i + 1 for i, c in enumerate(chars)}
stoi["."] = 0
itos = {i: c for c, i in stoi.items()}
vocab, block = len(stoi), 3

X, Y = [], []
for w in words:
    context = [0] * block
    for ch in w + ".":
        X.append(context)
        Y.append(stoi[ch])
        context = context[1:] + [stoi[ch]]
X, Y = torch.tensor(X), torch.tensor(Y)
print(f"{X.shape[0]} examples, vocabulary {vocab}")

g = torch.Generator().manual_seed(2147483647)
C = torch.randn((vocab, 10), generator=g)
W1 = torch.randn((block * 10, 64), generator=g) * (5 / 3) / (block * 10) ** 0.5
W2 = torch.randn((64, vocab), generator=g) * 0.01
b2 = torch.zeros(vocab)
bn_gain, bn_bias = torch.ones((1, 64)), torch.zeros((1, 64))
bn_mean, bn_std = torch.zeros((1, 64)), torch.ones((1, 64))
parameters = [C, W1, W2, b2, bn_gain, bn_bias]
for p in parameters:
    p.requires_grad = True
print("parameters:", sum(p.nelement() for p in parameters))

candidates = torch.logspace(-3, 0, 1000)
print("learning-rate grid:", round(candidates[0].item(), 6), "...",
      round(candidates[-1].item(), 6))
for step in range(1500):
    ix = torch.randint(0, X.shape[0], (64,), generator=g)
    emb = C[X[ix]]
    hpre = emb.view(emb.shape[0], -1) @ W1
    mean, std = hpre.mean(0, keepdim=True), hpre.std(0, keepdim=True)
    h = torch.tanh(bn_gain * (hpre - mean) / std + bn_bias)
    with torch.no_grad():
        bn_mean = 0.99 * bn_mean + 0.01 * mean
        bn_std = 0.99 * bn_std + 0.01 * std
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if step < 1000 else 0.01
    for p in parameters:
        p.data += -lr * p.grad
    if step % 300 == 0:
        print(f"step {step}: loss {loss.item():.4f}")

with torch.no_grad():
    emb = C[X]
    h = torch.tanh(bn_gain * (emb.view(emb.shape[0], -1) @ W1 - bn_mean) / bn_std + bn_bias)
    print(f"full loss {F.cross_entropy(h @ W2 + b2, Y).item():.4f}")
    for _ in range(5):
        out, context = [], [0] * block
        while True:
            emb = C[torch.tensor([context])]
            hidden = torch.tanh(bn_gain * (emb.view(1, -1) @ W1 - bn_mean) / bn_std + bn_bias)
            probs = F.softmax(hidden @ W2 + b2, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            if ix == 0 or len(out) > 12:
                break
            out.append(itos[ix])
        print("sampled a name of", len(out), "letters")
    soft = F.gumbel_softmax(torch.log(probs), tau=0.5, hard=True)
    print("gumbel one-hot sums to", soft.sum().item())

logits = torch.randn(8, vocab, generator=g, requires_grad=True)
policy = Categorical(logits=logits)
actions = policy.sample()
advantage = torch.linspace(-1, 1, 8)
loss = -(policy.log_prob(actions) * advantage).mean() - 0.01 * policy.entropy().mean()
loss.backward()
print(f"policy objective {loss.item():.4f}, gradient norm {logits.grad.norm().item():.4f}")
