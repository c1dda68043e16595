"""``ffnn.nn``: modules, layers, activations and losses with PyTorch's names."""

from ffnn.nn import functional, init
from ffnn.nn.activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from ffnn.nn.activation_more import (
    CELU,
    GLU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    LogSigmoid,
    Mish,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from ffnn.nn.attention import MultiheadAttention
from ffnn.nn.bilinear import Bilinear
from ffnn.nn.buffer import Buffer
from ffnn.nn.channel_dropout import Dropout1d
from ffnn.nn.container import ModuleDict, ModuleList, Sequential
from ffnn.nn.data_parallel import DataParallel
from ffnn.nn.distance import CosineSimilarity
from ffnn.nn.embedding import Embedding
from ffnn.nn.embedding_bag import EmbeddingBag
from ffnn.nn.feature_dropout import FeatureAlphaDropout
from ffnn.nn.ffn import GEGLU, FeedForward, GatedFeedForward, ResidualFFN, SwiGLU
from ffnn.nn.group_norms import GroupNorm, InstanceNorm1d
from ffnn.nn.linear import Flatten, Identity, LazyLinear, Linear, Unflatten
from ffnn.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from ffnn.nn.loss_more import (
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    PairwiseDistance,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from ffnn.nn.margin_losses import MultiLabelMarginLoss, TripletMarginWithDistanceLoss
from ffnn.nn.module import Module
from ffnn.nn.normalization import BatchNorm1d, Dropout, LayerNorm, RMSNorm
from ffnn.nn.parameter import Parameter
from ffnn.nn.parameter_containers import ParameterDict, ParameterList
from ffnn.nn.random_layers import AlphaDropout, RReLU
from ffnn.nn.tabular import TabularModel
from ffnn.nn.transformer import TransformerEncoder, TransformerEncoderLayer
from ffnn.nn.transformer_decoder import Transformer, TransformerDecoder, TransformerDecoderLayer

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "Identity",
    "Flatten", "Unflatten", "SmoothL1Loss", "Embedding", "Dropout", "BatchNorm1d", "LayerNorm",
    "RMSNorm", "ReLU", "LeakyReLU",
    "Sigmoid", "Tanh", "GELU", "SiLU", "Softmax", "LogSoftmax", "MSELoss", "L1Loss",
    "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "functional",
    "init", "utils",
    "FeedForward", "GatedFeedForward", "SwiGLU", "GEGLU", "ResidualFFN", "TabularModel",
    "ELU", "SELU", "Softplus", "Hardtanh", "ReLU6", "PReLU", "KLDivLoss", "CosineSimilarity",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "CELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "LogSigmoid", "Mish", "Softmin",
    "Softshrink", "Softsign", "Tanhshrink", "Threshold", "CosineEmbeddingLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "PairwiseDistance", "PoissonNLLLoss", "SoftMarginLoss",
    "TripletMarginLoss", "ParameterList", "ParameterDict", "RReLU", "AlphaDropout",
    "LazyLinear", "EmbeddingBag", "GroupNorm", "InstanceNorm1d", "Bilinear", "Dropout1d",
    "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "DataParallel",
    "FeatureAlphaDropout", "Buffer", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss",
]


from ffnn.nn import activation_onnx  # noqa: E402,F401 - the activations' ONNX converters

# torch's base classes, for programs that subclass them or test isinstance against them
from ffnn.nn.group_norms import _InstanceNorm  # noqa: E402,F401
from ffnn.nn.linear import NonDynamicallyQuantizableLinear  # noqa: E402,F401
from ffnn.nn.loss import _Loss, _WeightedLoss  # noqa: E402,F401
from ffnn.nn.normalization import _BatchNorm, _DropoutNd, _NormBase  # noqa: E402,F401


def __getattr__(name):
    if name in ("utils", "modules"):
        import importlib

        return importlib.import_module(f"ffnn.nn.{name}")
    from ffnn.nn.out_of_scope import missing

    raise missing("ffnn.nn", name)
