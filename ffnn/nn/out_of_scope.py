"""The error for a torch layer or function ffnn does not have: an AttributeError, as Python's,
whose message says why where the name is one of the families outside a library of dense
feed-forward networks (convolutions, pooling, recurrent layers, image-shaped 2-d / 3-d
layers), so that a copied CNN or RNN program stops at its first such line with a reason."""

from __future__ import annotations

import re

FAMILIES = (
    (re.compile(r"conv|^(un)?fold$|^(Un)?Fold$", re.IGNORECASE), "convolutions"),
    (re.compile(r"pool", re.IGNORECASE), "pooling layers"),
    (re.compile(r"^(RNN|LSTM|GRU)|^(rnn|lstm|gru)(_|$)|^CTCLoss$|^ctc_loss$"),
     "recurrent layers and their losses"),
    (re.compile(r"[23]d$|^Upsampl|^upsample|^interpolate$|[Pp]ixel_?[Uu]?n?[Ss]huffle|"
                r"[Cc]hannel_?[Ss]huffle|^grid_sample$|^affine_grid$|LocalResponseNorm|"
                r"^local_response_norm$|CrossMapLRN"),
     "layers for images and volumes (2-d and 3-d)"),
)
"""(pattern on a name, the family it belongs to)."""


def missing(module: str, name: str) -> AttributeError:
    """The AttributeError for ``module.name``: Python's message, and for a name in one of
    ``FAMILIES`` the reason and where the documentation says what to do instead."""
    message = f"module {module!r} has no attribute {name!r}"
    for pattern, family in FAMILIES:
        if pattern.search(name):
            message += (f": ffnn builds feed-forward networks of dense layers, and {family} "
                        "are not part of it (see 'What does not' in "
                        "docs/torch_compatibility.md: replace them with nn.Linear layers)")
            break
    return AttributeError(message)
