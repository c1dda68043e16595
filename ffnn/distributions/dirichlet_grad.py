"""Reparameterised Dirichlet draws: ``sample_dirichlet(α)`` gives torch's
``_sample_dirichlet`` numbers and torch's implicit gradient (``_dirichlet_grad``): each xᵢ
is the Beta(αᵢ, α₀ - αᵢ) marginal, dxᵢ/dαᵢ = -(∂F/∂αᵢ)/p, evaluated as torch's
``dirichlet_grad_one`` (``ATen/native/Distributions.h``): Taylor series near x = 0 and
x = 1, Rice's saddle point when both αᵢ and α₀ - αᵢ exceed 6, else a rational correction
of an analytic approximation. Computed in float64 (torch uses float32 in some branches for
float32 tensors, so float32 gradients can differ from torch's in the last digits).
"""

from __future__ import annotations

import numpy as np

from ffnn import torch_serial
from ffnn.custom_function import Function
from ffnn.distributions.gamma_grad import _digamma
from ffnn.tensor import Tensor

__all__ = ["dirichlet_grad", "sample_dirichlet"]

_C = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])


def _alpha_small(x, alpha, beta):
    """Near x = 0: the Taylor series of -∂F/∂α / p in x (ten terms)."""
    factor = _digamma(alpha) - _digamma(alpha + beta) - np.log(x)
    numer = np.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** -beta * series
    return np.where(np.isnan(result), 0.0, result)


def _beta_small(x, alpha, beta):
    """Near x = 0: the Taylor series of the gradient with respect to β (eight terms)."""
    factor = _digamma(alpha + beta) - _digamma(beta)
    numer, betas, dbetas = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -((1 - x) ** (1 - beta)) * series
    return np.where(np.isnan(result), 0.0, result)


def _alpha_mid_near(x, alpha, beta, total):
    """Both concentrations large, x within 0.1 standard deviations of the mean."""
    bb = beta * beta
    poly = 47 * x * bb * bb + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * bb * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * bb + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    return prefactor_num / (1 - x) * poly / prefactor_den


def _alpha_mid(x, alpha, beta):
    """Both concentrations large: Rice's saddle-point expansion."""
    total = alpha + beta
    mean = alpha / total
    std = np.sqrt(alpha * beta / (total + 1)) / total
    prefactor = -x / np.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
                * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / (np.sqrt(2 * alpha / beta) * total**1.5 * axbx * axbx)
    term2 = 0.5 * np.log(alpha / (total * x))
    term3 = np.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4_base = beta * np.log(beta / (total * (1 - x))) + alpha * np.log(alpha / (total * x))
    term4 = term4_base**-1.5
    term1234 = term1 + term2 * (term3 + np.where(x < mean, term4, -term4))
    far = stirling * prefactor * term1234
    near = (mean - 0.1 * std <= x) & (x <= mean + 0.1 * std)
    return np.where(near, _alpha_mid_near(x, alpha, beta, total), far)


def _rational(x, alpha, total):
    """Elsewhere: x(ψ(α₀) - ψ(α))/β times a rational function of log x, log α - log x and
    log α₀ - (log α - log x)."""
    u = np.log(x)
    a = np.log(alpha) - u
    b = np.log(total) - a
    p, q = np.zeros_like(x), np.zeros_like(x)
    for i, pow_u in enumerate((1, u, u * u)):
        for j, pow_a in enumerate((1, a, a * a)):
            ua = pow_u * pow_a
            cp, cq = _C[0, i, j], _C[1, i, j]
            p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * (_digamma(total) - _digamma(alpha)) / (total - alpha)
    return p / q * approx


def dirichlet_grad(x, alpha, total) -> np.ndarray:
    """torch's ``_dirichlet_grad(x, α, α₀)`` element-wise, in x's dtype."""
    x64, a, t = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, alpha, total)))
    beta = t - a
    boundary = t * x64 * (1 - x64)
    with np.errstate(all="ignore"):
        out = _rational(x64, a, t)
        out = np.where((a > 6) & (beta > 6), _alpha_mid(x64, a, beta), out)
        out = np.where((x64 >= 0.5) & (boundary < 0.75), -_beta_small(1 - x64, beta, a), out)
        out = np.where((x64 <= 0.5) & (boundary < 2.5), _alpha_small(x64, a, beta), out)
    return out.astype(np.asarray(x).dtype)


class _Dirichlet(Function):
    """x ~ Dirichlet(α) (torch's numbers); dL/dαⱼ = gⱼ·(Gⱼ - Σᵢ xᵢGᵢ), g =
    ``dirichlet_grad(x, α, Σα)``, G = dL/dx (torch's ``_Dirichlet`` backward)."""

    @staticmethod
    def forward(ctx, concentration: Tensor) -> Tensor:
        alpha = np.ascontiguousarray(concentration.numpy())
        draw = torch_serial.dirichlet(None, alpha)
        ctx.alpha, ctx.draw = alpha, draw
        return Tensor._make(draw, False, None)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> Tensor:
        alpha, x = ctx.alpha, ctx.draw
        total = np.broadcast_to(alpha.sum(-1, keepdims=True), alpha.shape)
        grad = Tensor._make(dirichlet_grad(x, alpha, total), False, None)
        x = Tensor._make(x, False, None)
        return grad * (grad_output - (x * grad_output).sum(-1, keepdim=True))


def sample_dirichlet(concentration: Tensor) -> Tensor:
    """Dirichlet(α) draws over the last dimension (torch's numbers), with torch's gradient."""
    return _Dirichlet.apply(concentration)
