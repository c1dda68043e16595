"""Adamax, NAdam and RAdam's updates on one element (``ffnn.kernels``), with their scalars
at a step; the whole-array NumPy passes of ``ffnn.optim.adam_variants`` stay the reference.

Each kernel is the reference's formula in its order of operations, with one division an
element (torch's forms take two or three; they differ by rounding alone). RAdam's two regimes
are one body, ``p ← p − m·(a + b/(√v + ε))``, with ``a = lr/(1-β₁ᵗ), b = 0`` before the
variance is rectified (ρₜ ≤ 5) and ``a = 0, b = lr·r·√(1-β₂ᵗ)/(1-β₁ᵗ)`` after, so that its
kernel and flags stay the same from step to step (the multi-tensor step reuses them).
NAdam's two step sizes come from the Πμ in its state (``ffnn.optim.adam_variants.nadam_steps``).
"""

from __future__ import annotations

import math

from ffnn.kernels import ElementwiseKernel

ADAMAX_KERNEL = ElementwiseKernel(
    "adamax", reads=("param", "grad", "exp_avg", "exp_inf"),
    writes=("param", "exp_avg", "exp_inf"),
    scalars=("sign", "weight_decay", "one_minus_beta1", "beta2", "eps", "step_size"),
    flush_subnormals=True,
    body="""
    g = sign * grad + weight_decay * param
    exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg)
    exp_inf = max(beta2 * exp_inf, abs(g) + eps)
    param = param - step_size * (exp_avg / exp_inf)
    """)
"""Adamax: ``m ← m + (1-β₁)(g - m)``, ``u ← max(β₂u, |g| + ε)``, ``p ← p − lr/(1-β₁ᵗ)·m/u``."""

_MOMENTS = """
param = param * decay
g = sign * grad + weight_decay * param
exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg)
exp_avg_sq = beta2 * exp_avg_sq + one_minus_beta2 * (g * g)
"""
"""Adam's moments, as ``ADAM_KERNEL`` and the references compute them (``decay = 1 - lr·λ``
for decoupled weight decay, else 1 and ``weight_decay = λ``)."""


def _with_moments(name: str, scalars: tuple[str, ...], step: str) -> ElementwiseKernel:
    """A kernel on (param, grad, exp_avg, exp_avg_sq): ``_MOMENTS``, then ``step``."""
    return ElementwiseKernel(
        name, reads=("param", "grad", "exp_avg", "exp_avg_sq"),
        writes=("param", "exp_avg", "exp_avg_sq"),
        scalars=("decay", "sign", "weight_decay", "one_minus_beta1", "beta2",
                 "one_minus_beta2", *scalars),
        flush_subnormals=True, body=_MOMENTS + step)


NADAM_KERNEL = _with_moments("nadam", ("correction2_sqrt", "eps", "grad_step", "avg_step"), """
denom = math.sqrt(exp_avg_sq) + eps * correction2_sqrt
param = param + (grad_step * g + avg_step * exp_avg) / denom
""")
"""NAdam: Adam's moments, then ``p ← p + (a·g + b·m)/(√v + ε·√(1-β₂ᵗ))`` with ``a``, ``b`` the
two step sizes (``nadam_steps``) times √(1-β₂ᵗ): torch's ``p + a·g/d + b·m/d``,
``d = √(v/(1-β₂ᵗ)) + ε``, in one division where torch's takes three."""

RADAM_KERNEL = _with_moments("radam", ("plain_lr", "adaptive_lr", "eps"), """
param = param - exp_avg * (plain_lr + adaptive_lr / (math.sqrt(exp_avg_sq) + eps))
""")
"""RAdam: Adam's moments, then ``p ← p − m·(a + b/(√v + ε))``, ``a`` and ``b`` divided by
1-β₁ᵗ (torch's ``m̂ = m/(1-β₁ᵗ)``, one division fewer an element)."""


def _moment_terms(lr: float, betas: tuple[float, float], weight_decay: float,
                  decoupled: bool, maximize: bool) -> dict[str, float]:
    """The scalars of ``_MOMENTS``."""
    beta1, beta2 = betas
    return dict(decay=1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0,
                sign=-1.0 if maximize else 1.0,
                weight_decay=0.0 if decoupled else weight_decay,
                one_minus_beta1=1 - beta1, beta2=beta2, one_minus_beta2=1 - beta2)


def adamax_kernel_scalars(*, step: int, lr: float, betas: tuple[float, float], eps: float,
                          weight_decay: float, maximize: bool) -> dict[str, float]:
    """``ADAMAX_KERNEL``'s scalars at step ``step`` (from 1)."""
    beta1, beta2 = betas
    return dict(sign=-1.0 if maximize else 1.0, weight_decay=weight_decay,
                one_minus_beta1=1 - beta1, beta2=beta2, eps=eps,
                step_size=lr / (1 - beta1 ** step))


def nadam_kernel_scalars(*, step: int, lr: float, betas: tuple[float, float], eps: float,
                         weight_decay: float, decoupled_weight_decay: bool, maximize: bool,
                         steps: tuple[float, float]) -> dict[str, float]:
    """``NADAM_KERNEL``'s scalars at step ``step``, its two step sizes given
    (``ffnn.optim.adam_variants.nadam_steps``, from the state's Πμ)."""
    correction2_sqrt = math.sqrt(1 - betas[1] ** step)
    return dict(**_moment_terms(lr, betas, weight_decay, decoupled_weight_decay, maximize),
                correction2_sqrt=correction2_sqrt, eps=eps,
                grad_step=steps[0] * correction2_sqrt, avg_step=steps[1] * correction2_sqrt)


def radam_kernel_scalars(*, step: int, lr: float, betas: tuple[float, float], eps: float,
                         weight_decay: float, decoupled_weight_decay: bool,
                         maximize: bool) -> dict[str, float]:
    """``RADAM_KERNEL``'s scalars at step ``step``: ``a = lr/(1-β₁ᵗ)`` while ρₜ ≤ 5, else
    ``b = lr·r·√(1-β₂ᵗ)/(1-β₁ᵗ)``, ``r = √((ρₜ-4)(ρₜ-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρₜ))``."""
    beta1, beta2 = betas
    correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / correction2
    correction1 = 1 - beta1 ** step
    plain_lr, adaptive_lr = lr / correction1, 0.0
    if rho_t > 5.0:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        plain_lr, adaptive_lr = 0.0, lr * rect * math.sqrt(correction2) / correction1
    return dict(**_moment_terms(lr, betas, weight_decay, decoupled_weight_decay, maximize),
                plain_lr=plain_lr, adaptive_lr=adaptive_lr, eps=eps)
