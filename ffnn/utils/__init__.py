"""``ffnn.utils``: tools for users of the library (``profile``: time per layer) and torch's
path to the data tools, ``ffnn.utils.data``."""

from ffnn.utils.profile import profile

__all__ = ["profile", "data"]


def __getattr__(name):
    if name == "data":
        import importlib

        return importlib.import_module("ffnn.utils.data")
    raise AttributeError(f"module 'ffnn.utils' has no attribute {name!r}")
