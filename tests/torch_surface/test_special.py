"""``ffnn.special`` against ``torch.special`` (float64): values and first derivatives on
ordinary and edge inputs."""

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close

X = np.array([-3.2, -1.0, -0.4, 0.0, 0.3, 1.0, 2.5, 7.0])
PROBABILITIES = np.array([1e-12, 0.02, 0.3, 0.5, 0.77, 0.999])
CASES = {
    "expit": (lambda m, x: m.expit(x), X),
    "logit": (lambda m, x: m.logit(x), PROBABILITIES),
    "logit_eps": (lambda m, x: m.logit(x, eps=0.05), PROBABILITIES),
    "erf": (lambda m, x: m.erf(x), X),
    "erfc": (lambda m, x: m.erfc(x), X),
    "erfinv": (lambda m, x: m.erfinv(2 * x - 1), PROBABILITIES),
    "exp2": (lambda m, x: m.exp2(x), X),
    "expm1": (lambda m, x: m.expm1(x), X),
    "log1p": (lambda m, x: m.log1p(x), X[X > -1]),
    "gammaln": (lambda m, x: m.gammaln(x), X[X != 0]),
    "digamma": (lambda m, x: m.digamma(x), X[X > 0]),
    "psi": (lambda m, x: m.psi(x), X[X > 0]),
    "multigammaln": (lambda m, x: m.multigammaln(x, 3), X[X > 1.5]),
    "sinc": (lambda m, x: m.sinc(x), X),
    "xlog1py": (lambda m, x: m.xlog1py(x, x * 0.1 + 0.5), X),
    "entr": (lambda m, x: m.entr(x), PROBABILITIES),
    "ndtr": (lambda m, x: m.ndtr(x), X),
    "log_ndtr": (lambda m, x: m.log_ndtr(x), np.concatenate([X, [-19.5, -20.5, -60, 9.0]])),
    "ndtri": (lambda m, x: m.ndtri(x), PROBABILITIES),
    "logsumexp": (lambda m, x: m.logsumexp(x.reshape(2, 4), 1), X),
    "softmax": (lambda m, x: m.softmax(x.reshape(2, 4), 0), X),
    "log_softmax": (lambda m, x: m.log_softmax(x.reshape(2, 4), 1), X),
}


@pytest.mark.parametrize("name", CASES)
def test_special_functions_and_gradients_match_torch(name):
    fn, values = CASES[name]
    found = []
    for lib in (ffnn, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = fn(lib.special, x)
        weights = lib.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))
        (y * weights).sum().backward()
        found.append((y.detach().numpy(), x.grad.numpy()))
    (value, grad), (expected, expected_grad) = found
    assert_close(value, expected, what=f"{name} value")
    assert_close(grad, expected_grad, rtol=1e-8 if name in ("digamma", "psi") else None,
                 what=f"{name} gradient")  # torch's trigamma: ~5e-10


def test_edges_match_torch():
    for name, args in (("xlog1py", ([0.0, 0.0, 2.0], [-1.0, np.nan, -1.0])),
                       ("entr", ([-1.0, 0.0, 1.0],)),
                       ("ndtri", ([0.0, 1.0, 0.5, 1e-300, 1e-20, 1 - 2**-53, -0.1],)),
                       ("log_ndtr", ([-400.0, 40.0, 0.0],))):
        ours = getattr(ffnn.special, name)(*(ffnn.tensor(a, dtype=ffnn.float64) for a in args))
        theirs = getattr(torch.special, name)(*(torch.tensor(a, dtype=torch.float64)
                                                for a in args))
        np.testing.assert_array_equal(np.isnan(ours.numpy()), np.isnan(theirs.numpy()), name)
        finite = np.isfinite(theirs.numpy())
        np.testing.assert_array_equal(ours.numpy()[~finite], theirs.numpy()[~finite], name)
        assert_close(ours.numpy()[finite], theirs.numpy()[finite], what=name)
