"""``ffnn.utils.tensorboard``: torch's ``torch.utils.tensorboard`` for ffnn, so that
``from ffnn.utils.tensorboard import SummaryWriter`` logs to TensorBoard.

Needs the optional ``tensorboard`` package (its event-file writer and protos), imported
here, when this module is first imported.
"""

try:
    import tensorboard  # noqa: F401
except ImportError as error:
    raise ImportError("ffnn.utils.tensorboard needs the tensorboard package: pip install "
                      "tensorboard (or pip install 'ffnn[tensorboard]')") from error

from ffnn.utils.tensorboard.arguments import NotAScalarError
from ffnn.utils.tensorboard.writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "NotAScalarError", "SummaryWriter"]
