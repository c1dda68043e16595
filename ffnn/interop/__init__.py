"""Interop: PyTorch state_dicts both ways (``ffnn.interop.torch``), pretrained FFN weights
(``ffnn.interop.pretrained``) and ONNX export (``ffnn.interop.onnx``).

Submodules load lazily, so ``import ffnn.interop`` needs neither torch nor onnx.
"""

__all__ = ["torch", "pretrained", "onnx"]


def __getattr__(name):
    if name in __all__:
        import importlib

        return importlib.import_module(f"ffnn.interop.{name}")
    raise AttributeError(f"module 'ffnn.interop' has no attribute {name!r}")
