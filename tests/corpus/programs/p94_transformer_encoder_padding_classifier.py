"""An encoder-only Transformer classifying variable-length token sequences, as the text
classification tutorials write it: nn.Embedding(vocab, d_model, padding_idx=0) scaled by
math.sqrt(d_model), the tutorial's sinusoidal PositionalEncoding kept in a buffer,
nn.TransformerEncoderLayer(batch_first=True, dropout=0.0) stacked by nn.TransformerEncoder,
src_key_padding_mask = (tokens == PAD), masked mean pooling, a pre-norm GELU variant, the
padding row's gradient staying zero, then evaluation under model.eval() and torch.no_grad()
(where torch's fast path returns zeros at padded positions). Weights from torch.manual_seed;
sequences from NumPy."""
# corpus: same-numbers
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
rng = np.random.default_rng(94)
PAD, VOCAB, D_MODEL, MAX_LEN = 0, 12, 16, 10


def make_batch(n):
    lengths = rng.integers(3, MAX_LEN + 1, n)
    tokens = np.zeros((n, MAX_LEN), dtype=np.int64)
    for i, L in enumerate(lengths):
        tokens[i, :L] = rng.integers(1, VOCAB, L)
    labels = ((tokens == 3).sum(1) > (tokens == 4).sum(1)).astype(np.int64)
    return torch.from_numpy(tokens), torch.from_numpy(labels)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class TransformerClassifier(nn.Module):
    def __init__(self, norm_first=False, activation="relu"):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, D_MODEL, padding_idx=PAD)
        self.pos_encoder = PositionalEncoding(D_MODEL, max_len=64)
        layer = nn.TransformerEncoderLayer(D_MODEL, nhead=4, dim_feedforward=32, dropout=0.0,
                                           activation=activation, batch_first=True,
                                           norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.classifier = nn.Linear(D_MODEL, 2)

    def forward(self, tokens):
        pad_mask = tokens == PAD
        x = self.pos_encoder(self.embedding(tokens) * math.sqrt(D_MODEL))
        h = self.encoder(x, src_key_padding_mask=pad_mask)
        keep = (~pad_mask).unsqueeze(-1).float()
        pooled = (h * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        return self.classifier(pooled), h


model = TransformerClassifier()
print("parameters", sum(p.numel() for p in model.parameters() if p.requires_grad))
print("padding row", model.embedding.weight[PAD].abs().sum().item())
print([name for name, _ in model.named_parameters()][:6])
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
train_x, train_y = make_batch(128)
for epoch in range(6):
    model.train()
    total, correct = 0.0, 0
    for i in range(0, 128, 32):
        xb, yb = train_x[i:i + 32], train_y[i:i + 32]
        logits, _ = model(xb)
        loss = F.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        correct += (logits.argmax(1) == yb).sum().item()
    print(f"epoch {epoch} loss {total / 4:.4f} acc {correct / 128:.3f}")
print("padding row grad", model.embedding.weight.grad[PAD].abs().sum().item())

test_x, test_y = make_batch(16)
model.eval()
with torch.no_grad():
    logits, h = model(test_x)
    probs = F.softmax(logits, dim=-1)
print("test acc", (probs.argmax(1) == test_y).float().mean().item())
print("probs", probs[:4])
print("hidden at real tokens", h[0, 0, :4], "at padding", h[test_x == PAD].abs().sum().item() > 0)

# The same layers with norm_first=True and GELU, and the encoder's attention weights by hand.
pre_norm = TransformerClassifier(norm_first=True, activation="gelu")
pre_norm.load_state_dict(model.state_dict())
pre_norm.eval()
with torch.no_grad():
    out, h2 = pre_norm(test_x)
    print("pre-norm logits", out[:3])
    layer = pre_norm.encoder.layers[0]
    x = pre_norm.pos_encoder(pre_norm.embedding(test_x[:2]) * math.sqrt(D_MODEL))
    _, weights = layer.self_attn(x, x, x, key_padding_mask=test_x[:2] == PAD,
                                 need_weights=True, average_attn_weights=True)
    print("attention rows sum to", weights.sum(-1)[0, :3])
    print("weights on padding", weights[0, 0, test_x[0] == PAD].sum().item())

# Causal self-attention mask for a language-model variant of the same encoder.
causal = nn.Transformer.generate_square_subsequent_mask(5)
print(causal)
with torch.no_grad():
    lm_out = model.encoder(torch.randn(2, 5, D_MODEL), mask=causal, is_causal=True)
print("lm out", lm_out.shape, lm_out[0, 0, :4])
