"""Probability distributions with torch's API (``torch.distributions``): parameters,
``sample``/``rsample`` (reparameterised, gradients reach the parameters), ``log_prob``,
``entropy``, moments, ``cdf``/``icdf`` and ``kl_divergence``, all built from ffnn's
differentiable ops, so log-likelihoods, entropies and KL terms train like any loss.

Families: Bernoulli, Beta, Binomial, Categorical, Cauchy, Chi2, ContinuousBernoulli, Dirichlet,
Exponential, FisherSnedecor, Gamma, GeneralizedPareto, Geometric, Gumbel, HalfCauchy,
HalfNormal, InverseGamma, Kumaraswamy, LKJCholesky, Laplace, LogNormal, LogisticNormal,
LowRankMultivariateNormal, Multinomial, MultivariateNormal, NegativeBinomial, Normal,
OneHotCategorical, Pareto, Poisson, RelaxedBernoulli, RelaxedOneHotCategorical, StudentT,
Uniform, VonMises, Weibull, Wishart; Independent, MixtureSameFamily and TransformedDistribution
with the transforms (Affine, Exp, Power, Sigmoid, Tanh, Abs, Softmax, Softplus, StickBreaking,
LowerCholesky, CorrCholesky, PositiveDefinite, Reshape, Independent, CumulativeDistribution,
Cat, Stack, Compose) of ``ffnn.distributions.transforms``.

Samples come from ffnn's seeded generator (``ffnn.manual_seed``) and are torch's for the same
seed: they draw as torch's do (``ffnn.torch_stream``, ``ffnn.torch_serial``), and Gamma and
Dirichlet carry torch's implicit reparameterisation gradients.
"""

import ffnn.distributions.kl_continuous_bernoulli  # noqa: F401 - registers its KL pairs
import ffnn.distributions.kl_cross  # noqa: F401 - registers the cross-family KL pairs
import ffnn.distributions.kl_families  # noqa: F401 - registers more same-family pairs
import ffnn.distributions.kl_pareto  # noqa: F401 - registers the pairs with a Pareto
from ffnn.distributions import constraints, transforms
from ffnn.distributions.bernoulli import Bernoulli
from ffnn.distributions.beta import Beta
from ffnn.distributions.binomial import Binomial
from ffnn.distributions.categorical import Categorical
from ffnn.distributions.cauchy import Cauchy
from ffnn.distributions.chi2 import Chi2
from ffnn.distributions.constraint_registry import biject_to, transform_to
from ffnn.distributions.continuous_bernoulli import ContinuousBernoulli
from ffnn.distributions.dirichlet import Dirichlet
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.exponential import Exponential
from ffnn.distributions.fishersnedecor import FisherSnedecor
from ffnn.distributions.gamma import Gamma
from ffnn.distributions.generalized_pareto import GeneralizedPareto
from ffnn.distributions.geometric import Geometric
from ffnn.distributions.gumbel import Gumbel
from ffnn.distributions.half_normal import HalfCauchy, HalfNormal
from ffnn.distributions.independent import Independent
from ffnn.distributions.inverse_gamma import InverseGamma
from ffnn.distributions.kl import kl_divergence, register_kl
from ffnn.distributions.kumaraswamy import Kumaraswamy
from ffnn.distributions.laplace import Laplace
from ffnn.distributions.lkj_cholesky import LKJCholesky
from ffnn.distributions.log_normal import LogNormal
from ffnn.distributions.logistic_normal import LogisticNormal
from ffnn.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from ffnn.distributions.mixture_same_family import MixtureSameFamily
from ffnn.distributions.multinomial import Multinomial
from ffnn.distributions.multivariate_normal import MultivariateNormal
from ffnn.distributions.negative_binomial import NegativeBinomial
from ffnn.distributions.normal import Normal
from ffnn.distributions.one_hot_categorical import (
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from ffnn.distributions.pareto import Pareto
from ffnn.distributions.poisson import Poisson
from ffnn.distributions.relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
from ffnn.distributions.relaxed_categorical import (
    ExpRelaxedCategorical,
    RelaxedOneHotCategorical,
)
from ffnn.distributions.studentT import StudentT
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from ffnn.distributions.uniform import Uniform
from ffnn.distributions.von_mises import VonMises
from ffnn.distributions.weibull import Weibull
from ffnn.distributions.wishart import Wishart

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli",
    "Dirichlet", "Distribution", "ExpRelaxedCategorical", "Exponential", "ExponentialFamily",
    "FisherSnedecor", "Gamma", "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy",
    "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace",
    "LogNormal", "LogisticNormal", "LogitRelaxedBernoulli", "LowRankMultivariateNormal",
    "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal",
    "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
    "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution",
    "Uniform", "VonMises", "Weibull", "Wishart",
    "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
    "PositiveDefiniteTransform",
    "CumulativeDistributionTransform", "StackTransform",
    "ExpTransform", "IndependentTransform", "LowerCholeskyTransform", "PowerTransform",
    "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform",
    "StickBreakingTransform", "TanhTransform", "Transform", "identity_transform",
    "biject_to", "constraints", "kl_divergence", "register_kl", "transform_to", "transforms",
]
