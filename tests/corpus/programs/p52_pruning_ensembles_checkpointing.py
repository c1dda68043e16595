"""What the pruning, model-ensembling and activation-checkpointing tutorials write: magnitude
pruning (l1_unstructured, ln_structured, global_unstructured) and fine-tuning with the masks
on, a focal loss on torch's _WeightedLoss, a block recomputed in the backward
(torch.utils.checkpoint), a step under anomaly detection, an ensemble run as one function
(stack_module_state + vmap over functional_call on a model moved to 'meta'), the ensemble's
covariance, and the losses logged to TensorBoard and read back."""
# corpus: same-numbers
import copy
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.func import functional_call, stack_module_state, vmap
from torch.utils.checkpoint import checkpoint
from torch.utils.tensorboard import SummaryWriter

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(52)
X = torch.from_numpy(rng.standard_normal((64, 8)))
y = torch.from_numpy((X[:, 0].numpy() + X[:, 1].numpy() ** 2 > 1).astype(np.int64))


class FocalLoss(nn.modules.loss._WeightedLoss):
    def __init__(self, weight=None, gamma=2.0):
        super().__init__(weight=weight)
        self.gamma = gamma

    def forward(self, logits, target):
        log_p = F.log_softmax(logits, dim=1)
        ce = F.nll_loss(log_p, target, weight=self.weight, reduction="none")
        p_true = log_p.gather(1, target.unsqueeze(1)).squeeze(1).exp()
        return ((1 - p_true) ** self.gamma * ce).mean()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.block = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 32), nn.GELU())
        self.out = nn.Linear(32, 2)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = h + checkpoint(self.block, h, use_reentrant=False)
        return self.out(h)


def set_weights(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.3))


model = Net()
set_weights(model)
prune.l1_unstructured(model.fc1, name="weight", amount=0.3)
prune.ln_structured(model.block[0], name="weight", amount=0.25, n=2, dim=0)
prune.global_unstructured([(model.block[2], "weight"), (model.out, "weight")],
                          pruning_method=prune.L1Unstructured, amount=40)
print("pruned:", [name for name, _ in model.named_buffers()])
print("zeros in fc1:", int((model.fc1.weight == 0).sum()), "of", model.fc1.weight.numel())

criterion = FocalLoss(weight=torch.tensor([1.0, 2.0]))
print("loss state:", list(criterion.state_dict()))
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
log_dir = tempfile.mkdtemp()
writer = SummaryWriter(log_dir)
for epoch in range(12):
    optimizer.zero_grad()
    with torch.autograd.detect_anomaly(check_nan=True):
        loss = criterion(model(X), y)
        loss.backward()
    optimizer.step()
    writer.add_scalar("loss/train", loss.item(), epoch)
    if epoch % 4 == 0:
        print(f"epoch {epoch}: focal loss {loss.item():.6f}")
writer.close()
events = EventAccumulator(log_dir)
events.Reload()
print("logged:", [(e.step, round(e.value, 5)) for e in events.Scalars("loss/train")][::5])
print("fc1 pruned entries stay zero:", bool((model.fc1.weight[model.fc1.weight_mask == 0] == 0)
                                              .all()))
for module in (model.fc1, model.block[0], model.block[2], model.out):
    prune.remove(module, "weight")
print("after remove:", sorted(name for name, _ in model.named_parameters())[:4],
      prune.is_pruned(model))

members = [Net() for _ in range(3)]
for member in members:
    set_weights(member)
params, buffers = stack_module_state(members)
base = copy.deepcopy(members[0]).to("meta")


def run_member(params, buffers, x):
    return functional_call(base, (params, buffers), (x,))


with torch.no_grad():
    votes = vmap(run_member, in_dims=(0, 0, None))(params, buffers, X[:16])
    loop = torch.stack([member(X[:16]) for member in members])
print("ensemble as one function equals the loop:", torch.allclose(votes, loop))
probabilities = votes.softmax(-1)[..., 1]
print("member covariance:\n", torch.cov(probabilities).numpy().round(5))
print("member correlation:", torch.corrcoef(probabilities)[0, 1:].numpy().round(5))
accuracy = (votes.mean(0).argmax(1) == y[:16]).double().mean()
print(f"ensemble accuracy on 16 rows: {accuracy.item():.4f}")
