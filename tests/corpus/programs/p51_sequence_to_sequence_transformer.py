"""A small sequence-to-sequence nn.Transformer as the translation tutorials build it: token
embeddings and learned positions, a causal target mask from
generate_square_subsequent_mask, padding masks, cross-entropy with ignore_index on the padded
targets, teacher forcing; the task is reversing a sequence, decoded greedily at the end."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(51)
PAD, BOS, EOS, VOCAB, D = 0, 1, 2, 10, 16


def batch(n):
    lengths = rng.integers(3, 6, n)
    src = np.full((n, 6), PAD)
    tgt = np.full((n, 8), PAD)
    for i, length in enumerate(lengths):
        tokens = rng.integers(3, VOCAB, length)
        src[i, :length] = tokens
        tgt[i, :length + 2] = [BOS, *tokens[::-1], EOS]
    return torch.from_numpy(src), torch.from_numpy(tgt)


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D, padding_idx=PAD)
        self.position = nn.Parameter(torch.zeros(8, D))
        self.transformer = nn.Transformer(d_model=D, nhead=2, num_encoder_layers=1,
                                          num_decoder_layers=1, dim_feedforward=32,
                                          dropout=0.0, batch_first=True)
        self.out = nn.Linear(D, VOCAB)

    def forward(self, src, tgt_in):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt_in.size(1))
        s = self.embed(src) + self.position[:src.size(1)]
        t = self.embed(tgt_in) + self.position[:tgt_in.size(1)]
        h = self.transformer(s, t, tgt_mask=mask, src_key_padding_mask=src == PAD,
                             tgt_key_padding_mask=tgt_in == PAD,
                             memory_key_padding_mask=src == PAD)
        return self.out(h)


model = Seq2Seq()
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.2))
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or \
                name.endswith("norm3.weight") or name.endswith("norm.weight"):
            p.add_(1.0)
    model.embed.weight[PAD].zero_()
print("parameters:", sum(p.numel() for p in model.parameters()))
print("first keys:", list(model.state_dict())[:4])

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss(ignore_index=PAD)
src_val, tgt_val = batch(16)
for step in range(60):
    src, tgt = batch(32)
    logits = model(src, tgt[:, :-1])
    loss = criterion(logits.reshape(-1, VOCAB), tgt[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 15 == 0 or step == 59:
        model.eval()
        with torch.no_grad():
            val = criterion(model(src_val, tgt_val[:, :-1]).reshape(-1, VOCAB),
                            tgt_val[:, 1:].reshape(-1))
        model.train()
        print(f"step {step}: loss {loss.item():.6f} validation {val.item():.6f}")

model.eval()
with torch.no_grad():
    src = src_val[:4]
    out = torch.full((4, 1), BOS)
    for _ in range(7):
        next_token = model(src, out)[:, -1].argmax(-1, keepdim=True)
        out = torch.cat([out, next_token], dim=1)
    print("decoded:", out[:, 1:6].tolist())
    print("targets:", tgt_val[:4, 1:6].tolist())
