"""Extending autograd and looking inside a model, as the "Extending PyTorch" notes, the hooks
tutorials and forum answers write it: custom torch.autograd.Function classes using
ctx.needs_input_grad, ctx.mark_non_differentiable, ctx.set_materialize_grads,
@once_differentiable and a straight-through estimator, checked with gradcheck and
torch.testing.assert_close; register_forward_hook collecting activations into a dict,
register_full_backward_hook and register_forward_pre_hook, handles removed; Tensor.register_hook
rescaling a gradient; nested no_grad / enable_grad / set_grad_enabled; then gradient
accumulation over micro-batches with clip_grad_value_ and parameters_to_vector /
vector_to_parameters. Weights from torch.manual_seed."""
# corpus: same-numbers
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable
from torch.nn.utils import clip_grad_value_, parameters_to_vector, vector_to_parameters

torch.manual_seed(7)


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class SortWithIndex(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, idx = x.sort(dim=-1)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        ctx.set_materialize_grads(False)
        return values, idx

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_values, grad_idx):
        (idx,) = ctx.saved_tensors
        if grad_values is None:
            return None
        return torch.zeros_like(grad_values).scatter_(-1, idx, grad_values)


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x * 4) / 4

    @staticmethod
    def backward(ctx, g):
        return g


x = torch.randn(5, 4, dtype=torch.double, requires_grad=True)
w = torch.randn(3, 4, dtype=torch.double, requires_grad=True)
b = torch.randn(3, dtype=torch.double, requires_grad=True)
print("gradcheck", torch.autograd.gradcheck(LinearFunction.apply, (x, w, b), eps=1e-6, atol=1e-4))
out = LinearFunction.apply(x, w, b)
torch.testing.assert_close(out, F.linear(x, w, b))
out.pow(2).sum().backward()
print("grad w", w.grad, "\ngrad b", b.grad)
w_frozen = w.detach()
x.grad = None
LinearFunction.apply(x, w_frozen).sum().backward()
print("x grad with a frozen weight", x.grad.sum(0))

v = torch.tensor([[3.0, -1.0, 2.0, 0.5]], requires_grad=True)
values, idx = SortWithIndex.apply(v)
print("sorted", values, idx, idx.requires_grad)
(values * torch.arange(1.0, 5.0)).sum().backward()
print("grad through sort", v.grad)
q = torch.linspace(-1, 1, 7, requires_grad=True)
y = RoundSTE.apply(q)
(y * q).sum().backward()
print("ste", y, q.grad)
try:
    torch.testing.assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]))
except AssertionError as e:
    print("assert_close says:", str(e).splitlines()[0])
torch.testing.assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-6]))

model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
activations, grad_norms, seen = {}, {}, []


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


def grad_hook(module, grad_input, grad_output):
    grad_norms[module.__class__.__name__ + str(id(module) % 1)] = grad_output[0].norm().item()


handles = [m.register_forward_hook(save_activation(n)) for n, m in model.named_modules() if n]
handles.append(model[2].register_full_backward_hook(grad_hook))
handles.append(model[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].shape)))
inp = torch.randn(6, 4)
logits = model(inp)
h = logits.register_hook(lambda g: g * 0.5)
F.cross_entropy(logits, torch.tensor([0, 1, 0, 1, 1, 0])).backward()
for name, a in activations.items():
    print(f"layer {name}: shape {tuple(a.shape)} mean {a.mean():.4f} frac>0 {(a > 0).float().mean():.3f}")
print("backward hook", grad_norms, "pre-hook saw", seen)
print("grad of last bias (halved by the hook)", model[4].bias.grad)
for handle in handles:
    handle.remove()
h.remove()
activations.clear()
model(inp)
print("after remove", len(activations), len(model[0]._forward_hooks))

a = torch.ones(2, requires_grad=True)
with torch.no_grad():
    b1 = a * 2
    with torch.enable_grad():
        b2 = a * 2
        with torch.set_grad_enabled(False):
            b3 = a * 2
    b4 = a * 2
torch.set_grad_enabled(True)
print("grad modes", [t.requires_grad for t in (b1, b2, b3, b4)], torch.is_grad_enabled())

# Gradient accumulation: four micro-batches of 8 make one step.
model.zero_grad()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
X, Y = torch.randn(64, 4), torch.randint(0, 2, (64,))
accum = 4
for step, (xb, yb) in enumerate(zip(X.split(8), Y.split(8))):
    loss = F.cross_entropy(model(xb), yb) / accum
    loss.backward()
    if (step + 1) % accum == 0:
        clip_grad_value_(model.parameters(), clip_value=0.05)
        opt.step()
        opt.zero_grad()
        print(f"step {step + 1}: loss {loss.item() * accum:.4f}")
vec = parameters_to_vector(model.parameters())
print("parameters", vec.numel(), f"norm {vec.norm():.4f}")
vector_to_parameters(vec * 0.5, model.parameters())
print("halved", f"{parameters_to_vector(model.parameters()).norm():.4f}", model[0].bias.data[:3])
