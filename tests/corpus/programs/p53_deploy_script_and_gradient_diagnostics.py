"""A learner's "train, inspect, ship" script: a StackDataset of dict samples through a
DataLoader, gradient norms per layer from full backward hooks, a forward-mode directional
derivative checked against finite differences, then the model scripted, saved and loaded
(torch.jit), exported to ONNX with a dynamic batch (torch.onnx.export) and run by
onnxruntime."""
# corpus: same-numbers
import os
import tempfile

import numpy as np
import onnxruntime as ort
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, StackDataset, TensorDataset

rng = np.random.default_rng(53)
features = torch.from_numpy(rng.standard_normal((48, 5)).astype(np.float32))
labels = torch.from_numpy((features[:, 0] - features[:, 3] > 0).numpy().astype(np.int64))
dataset = StackDataset(x=TensorDataset(features), y=TensorDataset(labels))
loader = DataLoader(dataset, batch_size=16)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(5, 12)
        self.norm = nn.LayerNorm(12)
        self.head = nn.Linear(12, 2)

    def forward(self, x):
        h = F.silu(self.norm(self.hidden(x)))
        return self.head(h + 0.5 * h.tanh())


model = Classifier()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))

norms = {}


def record_norm(module, grad_input, grad_output):
    norms.setdefault(module.out_features, []).append(grad_output[0].norm().item())


handles = [model.hidden.register_full_backward_hook(record_norm),
           model.head.register_full_backward_hook(record_norm)]
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(4):
    total = 0.0
    for batch in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch["x"][0]), batch["y"][0])
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: loss {total / len(loader):.5f}")
for handle in handles:
    handle.remove()
print("gradient norms recorded per hooked layer:", sorted(len(v) for v in norms.values()))
print("largest output-gradient norm: %.5f" % max(max(v) for v in norms.values()))

model.eval()
x0 = features[:4].double()
direction = torch.from_numpy(rng.standard_normal((4, 5)))
model64 = Classifier().double()
model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
model64.eval()
with fwAD.dual_level():
    tangent = fwAD.unpack_dual(model64(fwAD.make_dual(x0, direction))).tangent
with torch.no_grad():
    step = 1e-6
    numeric = (model64(x0 + step * direction) - model64(x0 - step * direction)) / (2 * step)
print("forward-mode derivative vs finite differences:",
      f"{(tangent - numeric).abs().max().item():.1e}" if (tangent - numeric).abs().max() > 1e-7
      else "agree to 1e-7")

folder = tempfile.mkdtemp()
scripted = torch.jit.script(model)
scripted.save(os.path.join(folder, "classifier.pt"))
restored = torch.jit.load(os.path.join(folder, "classifier.pt"))
restored.eval()
with torch.no_grad():
    same = torch.equal(restored(features), model(features))
print("scripted, saved and loaded: same outputs:", same)

onnx_path = os.path.join(folder, "classifier.onnx")
torch.onnx.export(model, features[:2], onnx_path, input_names=["features"],
                  output_names=["logits"], dynamic_axes={"features": {0: "batch"},
                                                         "logits": {0: "batch"}},
                  dynamo=False)
session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
for rows in (1, 7, 48):
    logits = session.run(None, {"features": features[:rows].numpy()})[0]
    with torch.no_grad():
        gap = np.abs(logits - model(features[:rows]).numpy()).max()
    print(f"onnxruntime on {rows} rows: shape {logits.shape}, agrees to 1e-5: {gap < 1e-5}")
with torch.no_grad():
    accuracy = (model(features).argmax(1) == labels).float().mean().item()
print(f"training accuracy: {accuracy:.4f}")
