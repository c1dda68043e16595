"""``ffnn.backends``: the accelerator switches programs set or ask about (``mps``, ``cudnn``).
None is present; the flags are plain attributes so ``torch.backends.cudnn.deterministic = True``
runs unchanged."""

from ffnn.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
