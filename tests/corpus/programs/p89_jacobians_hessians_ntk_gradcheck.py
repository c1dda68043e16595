"""The "Jacobians, Hessians, hvp, vhp, and more" and "Neural Tangent Kernels" tutorials plus the
gradient-checking recipes: Newton's method on Rosenbrock with torch.autograd.functional
jacobian/hessian and torch.linalg.solve, input saliency of a network from jacobian(model, x),
a Hessian-free conjugate-gradient step built on hvp, the empirical NTK from
vmap(jacrev(fnet_single), (None, 0))(params, x) contracted with einsum, and a custom
autograd.Function checked with gradcheck/gradgradcheck and by hand-written finite
differences."""
# corpus: same-numbers
import numpy as np
import torch
import torch.nn as nn
from torch.autograd.functional import hessian, hvp, jacobian
from torch.func import functional_call, jacrev, vmap


def rosenbrock(z):
    return (1 - z[0]) ** 2 + 100 * (z[1] - z[0] ** 2) ** 2


z = torch.tensor([-1.2, 1.0], dtype=torch.float64)
for it in range(6):
    g = jacobian(rosenbrock, z)
    H = hessian(rosenbrock, z)
    z = z - torch.linalg.solve(H, g)
    print(f"newton {it}: z = {z.tolist()}, f = {rosenbrock(z).item():.3e}, "
          f"|g| = {g.norm().item():.3e}")

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(5)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(scale=0.5, size=tuple(p.shape))))
x = torch.from_numpy(rng.normal(size=4))
J = jacobian(model, x)
print('saliency', J.shape, J.abs().sum(0))
logits = model(x)
print('predicted', logits.argmax().item(), 'd logit / dx:', J[logits.argmax()])


def objective(w):
    return 0.5 * (w @ A @ w) - b @ w + 0.25 * (w ** 4).sum()


M = torch.from_numpy(rng.normal(size=(5, 5)))
A = M @ M.T + 5 * torch.eye(5)
b = torch.from_numpy(rng.normal(size=5))
w = torch.zeros(5)
for step in range(3):
    grad = jacobian(objective, w)
    d, r = torch.zeros(5), -grad.clone()
    p_dir = r.clone()
    for cg in range(5):  # solve H d = -g with Hessian-vector products only
        _, Hp = hvp(objective, w, p_dir)
        alpha = (r @ r) / (p_dir @ Hp)
        d = d + alpha * p_dir
        r_new = r - alpha * Hp
        if r_new.norm() < 1e-10:
            break
        p_dir = r_new + (r_new @ r_new) / (r @ r) * p_dir
        r = r_new
    w = w + d
    print(f"hessian-free step {step}: objective {objective(w).item():.8f}, "
          f"|grad| {jacobian(objective, w).norm().item():.2e}")

net = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 2))
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(scale=0.7, size=tuple(p.shape))))
params = {k: v.detach() for k, v in net.named_parameters()}


def fnet_single(params, x):
    return functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)


def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2):
    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = jac1.values()
    jac1 = [j.flatten(2) for j in jac1]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = [j.flatten(2) for j in jac2.values()]
    result = torch.stack([torch.einsum('Naf,Mbf->NMab', j1, j2) for j1, j2 in zip(jac1, jac2)])
    return result.sum(0)


x_train = torch.from_numpy(rng.normal(size=(4, 3)))
x_test = torch.from_numpy(rng.normal(size=(2, 3)))
ntk = empirical_ntk_jacobian_contraction(fnet_single, params, x_train, x_test)
print('ntk', ntk.shape)
print(ntk[:, :, 0, 0])
print('trace per pair', torch.einsum('NMaa->NM', ntk))


class SoftplusCube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inp, beta):
        ctx.save_for_backward(inp)
        ctx.beta = beta
        return torch.log1p(torch.exp(beta * inp)) / beta + inp ** 3

    @staticmethod
    def backward(ctx, grad_output):
        inp, = ctx.saved_tensors
        return grad_output * (torch.sigmoid(ctx.beta * inp) + 3 * inp ** 2), None


inp = torch.from_numpy(rng.normal(size=(3, 2))).requires_grad_()
print('gradcheck', torch.autograd.gradcheck(SoftplusCube.apply, (inp, 2.0), eps=1e-6,
                                            atol=1e-4))
print('gradgradcheck on tanh-net',
      torch.autograd.gradgradcheck(lambda t: net(t).pow(2).sum(), (x_train.requires_grad_(),)))


def numerical_gradient(f, t, eps=1e-6):
    grad = torch.zeros_like(t)
    flat = t.detach().clone().view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = f(flat.view_as(t)).item()
        flat[i] = old - eps
        minus = f(flat.view_as(t)).item()
        flat[i] = old
        grad.view(-1)[i] = (plus - minus) / (2 * eps)
    return grad


f = lambda t: SoftplusCube.apply(t, 2.0).sum()  # noqa: E731
analytic, = torch.autograd.grad(f(inp), inp)
numeric = numerical_gradient(f, inp)
print('max abs diff', f"{(analytic - numeric).abs().max().item():.2e}",
      torch.allclose(analytic, numeric, atol=1e-6))
print(analytic)
