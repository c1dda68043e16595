"""Recurrent models written by hand, as the "LSTM from scratch" and "seq2seq with attention"
walkthroughs do (no nn.LSTM): an LSTM cell whose four gates come from one nn.Linear on
torch.cat((x, h), 1) split by .chunk(4, 1), unrolled over a sine wave with truncated
backpropagation (h.detach()) and autoregressive generation; a bidirectional pass by
torch.flip; then an encoder-decoder on sequence copying with Bahdanau (additive) attention:
energies from torch.tanh(W1 h + W2 s), a length mask from torch.arange(T)[None] <
lengths[:, None], masked_fill(-inf), softmax, context by torch.bmm, teacher forcing, and
greedy decoding. Weights from torch.manual_seed."""
# corpus: same-numbers
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(11)


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.gates = nn.Linear(input_size + hidden_size, 4 * hidden_size)
        with torch.no_grad():
            self.gates.bias[hidden_size:2 * hidden_size].fill_(1.0)  # forget-gate bias

    def forward(self, x, state):
        h, c = state
        i, f, g, o = self.gates(torch.cat((x, h), dim=1)).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class SineModel(nn.Module):
    def __init__(self, hidden=24):
        super().__init__()
        self.cell = LSTMCell(1, hidden)
        self.head = nn.Linear(hidden, 1)

    def init_state(self, batch):
        z = torch.zeros(batch, self.cell.hidden_size)
        return z, z.clone()

    def forward(self, seq, state):
        outputs = []
        for t in range(seq.size(1)):
            state = self.cell(seq[:, t], state)
            outputs.append(self.head(state[0]))
        return torch.stack(outputs, dim=1), state


t = np.arange(0, 400) * 0.1
phases = np.array([0.0, 0.7, 1.9, 2.5])
wave = torch.tensor(np.sin(t[None, :] + phases[:, None]), dtype=torch.float32).unsqueeze(-1)
model = SineModel()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
BPTT = 25
for epoch in range(3):
    state, total = model.init_state(4), 0.0
    for start in range(0, 200, BPTT):
        x = wave[:, start:start + BPTT]
        y = wave[:, start + 1:start + BPTT + 1]
        state = tuple(s.detach() for s in state)
        pred, state = model(x, state)
        loss = F.mse_loss(pred, y)
        opt.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True)
        opt.step()
        total += loss.item()
    print(f"epoch {epoch} loss {total / 8:.5f} last grad norm {norm.item():.4f}")

with torch.no_grad():
    pred, state = model(wave[:, :200], model.init_state(4))
    last, generated = pred[:, -1], []
    for _ in range(20):
        state = model.cell(last, state)
        last = model.head(state[0])
        generated.append(last)
    generated = torch.cat(generated, 1)
    print("generated", generated[0, :6], "\nrmse", (generated - wave[:, 200:220, 0]).pow(2).mean().sqrt())
    back, _ = model(torch.flip(wave[:, :50], dims=[1]), model.init_state(4))
    both = torch.cat([pred[:, :50], torch.flip(back, dims=[1])], dim=-1)
    print("bidirectional features", both.shape, both[1, 10])

# Sequence copying with an attention decoder.
V, H, T, SOS, PAD = 8, 32, 6, 1, 0
rng = np.random.default_rng(96)
lengths = torch.from_numpy(rng.integers(3, T + 1, 64))
src = torch.from_numpy(rng.integers(2, V, (64, T)))
src = src.masked_fill(torch.arange(T)[None, :] >= lengths[:, None], PAD)


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, 16, padding_idx=PAD)
        self.enc = LSTMCell(16, H)
        self.dec = LSTMCell(16 + H, H)
        self.W1, self.W2 = nn.Linear(H, H, bias=False), nn.Linear(H, H)
        self.v = nn.Linear(H, 1, bias=False)
        self.out = nn.Linear(2 * H, V)

    def forward(self, src, lengths, target=None, steps=T):
        B = src.size(0)
        state, enc_out = (torch.zeros(B, H), torch.zeros(B, H)), []
        for t in range(src.size(1)):
            state = self.enc(self.emb(src[:, t]), state)
            enc_out.append(state[0])
        enc_out = torch.stack(enc_out, 1)
        mask = torch.arange(src.size(1))[None, :] < lengths[:, None]
        token, logits_all, attn_all = torch.full((B,), SOS, dtype=torch.long), [], []
        for t in range(steps):
            s = state[0]
            energy = self.v(torch.tanh(self.W1(enc_out) + self.W2(s).unsqueeze(1))).squeeze(2)
            attn = F.softmax(energy.masked_fill(~mask, float("-inf")), dim=1)
            context = torch.bmm(attn.unsqueeze(1), enc_out).squeeze(1)
            state = self.dec(torch.cat([self.emb(token), context], 1), state)
            logits = self.out(torch.cat([state[0], context], 1))
            logits_all.append(logits)
            attn_all.append(attn)
            token = target[:, t] if target is not None else logits.argmax(1)
        return torch.stack(logits_all, 1), torch.stack(attn_all, 1)


net = Seq2Seq()
opt = torch.optim.Adam(net.parameters(), lr=0.01)
for epoch in range(12):
    logits, attn = net(src, lengths, target=src)
    loss = F.cross_entropy(logits.reshape(-1, V), src.reshape(-1), ignore_index=PAD)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 4 == 3:
        print(f"seq2seq epoch {epoch} loss {loss.item():.4f} ppl {math.exp(loss.item()):.3f}")
with torch.no_grad():
    logits, attn = net(src[:4], lengths[:4])
    print("source ", src[:2])
    print("decoded", logits.argmax(-1)[:2])
    print("attention of step 0", attn[0, 0], "\nrows sum", attn[0].sum(1))
