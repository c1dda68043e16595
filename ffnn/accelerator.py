"""``ffnn.accelerator``: torch's device-agnostic accelerator query; there is none here."""

from __future__ import annotations


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    """None: no accelerator (programs then fall back to ``'cpu'``)."""
    return None


def device_count() -> int:
    return 0
