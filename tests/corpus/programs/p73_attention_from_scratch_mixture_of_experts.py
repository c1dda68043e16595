"""Attention and mixture-of-experts written from scratch, as the "attention is all you need"
walkthroughs and MoE blog posts write them: scaled dot-product attention with
masked_fill(mask == 0, float('-inf')) and a causal torch.tril mask, checked against
F.scaled_dot_product_attention (attn_mask= and is_causal=) and nn.MultiheadAttention
(key_padding_mask, average_attn_weights=False) with its in_proj weights split by chunk;
multi-head reshaping with view/transpose/contiguous and einsum; then a top-2 gated
mixture of experts in nn.ModuleList routing tokens with topk, torch.where and index_add_,
with a load-balancing auxiliary loss, trained a few steps; last a nanoGPT-style model whose
lm_head shares the token embedding's weight, its state_dict saved to an io.BytesIO and loaded."""
# corpus: same-numbers
import io
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(11)


def t(*shape, scale=1.0):
    return torch.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32))


def attention(q, k, v, mask=None, dropout=None):
    d_k = q.size(-1)
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    p_attn = scores.softmax(dim=-1)
    if dropout is not None:
        p_attn = dropout(p_attn)
    return torch.matmul(p_attn, v), p_attn


B, L, E, H = 2, 5, 8, 2
q, k, v = t(B, L, E), t(B, L, E), t(B, L, E)
causal = torch.tril(torch.ones(L, L))
out, weights = attention(q, k, v, mask=causal)
print(weights[0])
ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
ref2 = F.scaled_dot_product_attention(q, k, v, attn_mask=causal.bool())
print(torch.allclose(out, ref, atol=1e-6), (ref - ref2).abs().max().item() < 1e-6)
print("row sums", weights.sum(-1)[0].tolist())
additive = torch.zeros(L, L).masked_fill(~causal.bool(), -1e9)
print(torch.allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=additive), out, atol=1e-5))

# multi-head by hand, then nn.MultiheadAttention with the same weights
mha = nn.MultiheadAttention(embed_dim=E, num_heads=H, batch_first=True)
with torch.no_grad():
    mha.in_proj_weight.copy_(t(3 * E, E, scale=0.3))
    mha.in_proj_bias.copy_(t(3 * E, scale=0.1))
    mha.out_proj.weight.copy_(t(E, E, scale=0.3))
    mha.out_proj.bias.zero_()
w_q, w_k, w_v = mha.in_proj_weight.chunk(3, dim=0)
b_q, b_k, b_v = mha.in_proj_bias.chunk(3)
x = t(B, L, E)
pad = torch.tensor([[False] * L, [False, False, False, True, True]])


def heads(z):
    return z.view(B, L, H, E // H).transpose(1, 2)


Q, K, V = heads(F.linear(x, w_q, b_q)), heads(F.linear(x, w_k, b_k)), heads(F.linear(x, w_v, b_v))
keep = (~pad)[:, None, None, :]
ctx, p = attention(Q, K, V, mask=keep)
manual = mha.out_proj(ctx.transpose(1, 2).contiguous().view(B, L, E))
with torch.no_grad():
    lib_out, lib_w = mha(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    _, avg_w = mha(x, x, x, key_padding_mask=pad)
print(lib_out.shape, lib_w.shape, avg_w.shape)
print(torch.allclose(manual, lib_out, atol=1e-5), torch.allclose(p, lib_w, atol=1e-6))
print(avg_w[1, 0], p[1, :, 0].mean(0))
scores = torch.einsum("bhqd,bhkd->bhqk", Q, K) / (E // H) ** 0.5
print(torch.allclose(scores.masked_fill(~keep, float("-inf")).softmax(-1), p, atol=1e-6))


class Expert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.net(x)


class MoE(nn.Module):
    def __init__(self, dim=8, n_experts=4, top_k=2):
        super().__init__()
        self.gate = nn.Linear(dim, n_experts, bias=False)
        self.experts = nn.ModuleList([Expert(dim, 16) for _ in range(n_experts)])
        self.top_k, self.n_experts = top_k, n_experts

    def forward(self, x):
        tokens = x.reshape(-1, x.shape[-1])
        logits = self.gate(tokens)
        top_vals, top_idx = torch.topk(logits, self.top_k, dim=-1)
        gates = F.softmax(top_vals, dim=-1)
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            token_ids, slot = torch.where(top_idx == e)
            if token_ids.numel() == 0:
                continue
            y = expert(tokens[token_ids]) * gates[token_ids, slot].unsqueeze(-1)
            out.index_add_(0, token_ids, y)
        probs = F.softmax(logits, dim=-1)
        load = F.one_hot(top_idx[:, 0], num_classes=self.n_experts).float().mean(0)
        aux = self.n_experts * (load * probs.mean(0)).sum()
        return out.view_as(x), aux, torch.bincount(top_idx.flatten(), minlength=self.n_experts)


moe = MoE()
with torch.no_grad():
    for p_ in moe.parameters():
        p_.copy_(t(*p_.shape, scale=0.4))
data = t(4, 6, 8)
target = torch.tanh(data.flip(-1))
opt = torch.optim.Adam(moe.parameters(), lr=1e-2)
for step in range(25):
    y, aux, counts = moe(data)
    loss = F.mse_loss(y, target) + 0.01 * aux
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 6 == 0:
        print(f"step {step} loss {loss.item():.5f} aux {aux.item():.4f} tokens per expert {counts.tolist()}")
print([e.net[0].weight.grad is not None for e in moe.experts])
print(f"gate grad norm {moe.gate.weight.grad.norm():.4f}")


# a nanoGPT-style language model whose output layer shares the token embedding's weight
class TinyGPT(nn.Module):
    def __init__(self, vocab=7, dim=8, block=6):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, dim), nn.Embedding(block, dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ln = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx, targets=None):
        pos = torch.arange(0, idx.size(1), dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        q, k, v = self.qkv(self.ln(x)).split(x.size(-1), dim=2)
        x = x + self.proj(F.scaled_dot_product_attention(q, k, v, is_causal=True))
        logits = self.lm_head(x)
        loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


gpt = TinyGPT()
with torch.no_grad():
    for p_ in gpt.parameters():
        p_.copy_(t(*p_.shape, scale=0.3))
print("tied", gpt.wte.weight is gpt.lm_head.weight, "params", sum(p_.numel() for p_ in gpt.parameters()))
seq = torch.tensor([[0, 1, 2, 3, 4, 5, 6], [3, 4, 5, 6, 0, 1, 2]])
opt = torch.optim.AdamW(gpt.parameters(), lr=3e-2, weight_decay=0.1)
for step in range(30):
    _, loss = gpt(seq[:, :-1], seq[:, 1:].contiguous())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(gpt.parameters(), 1.0)
    opt.step()
    if step % 10 == 0:
        print(f"gpt step {step} loss {loss.item():.4f}")
buffer = io.BytesIO()
torch.save(gpt.state_dict(), buffer)
buffer.seek(0)
state = torch.load(buffer, weights_only=True)
print(len(state), state["wte.weight"].data_ptr() == state["lm_head.weight"].data_ptr())
clone = TinyGPT()
clone.load_state_dict(state)
print("same logits", torch.equal(clone(seq[:, :-1])[0], gpt(seq[:, :-1])[0]), clone.wte.weight is clone.lm_head.weight)
