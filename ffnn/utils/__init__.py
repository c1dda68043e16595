"""``ffnn.utils``: tools for users of the library (``profile``: time per layer)."""

from ffnn.utils.profile import profile

__all__ = ["profile"]
