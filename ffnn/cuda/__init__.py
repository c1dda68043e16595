"""``ffnn.cuda``: what a program asks before choosing a GPU. ffnn runs on the CPU, so
``is_available()`` is False and ``device_count()`` is 0; seeding calls are accepted (there is no
CUDA generator to seed) and anything that needs a GPU raises torch's error."""

from __future__ import annotations

from ffnn.cuda import amp  # noqa: F401 - torch.cuda.amp.GradScaler / autocast
from ffnn.device import check_device


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored: there is no CUDA generator (``ffnn.manual_seed`` seeds the CPU)."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored, as :func:`manual_seed`."""


def empty_cache() -> None:
    """Nothing to free."""


def synchronize(device=None) -> None:
    """Nothing to wait for."""


def is_bf16_supported() -> bool:
    return False


def current_device() -> int:
    check_device("cuda", "ffnn.cuda.current_device()")
    return 0


def get_device_name(device=None) -> str:
    check_device("cuda", "ffnn.cuda.get_device_name()")
    return ""
