"""``ffnn.utils.data.dataloader``: torch's path to the loader (:mod:`ffnn.data.loader`)."""

from ffnn.data.iterable import get_worker_info  # noqa: F401 - torch's module path
from ffnn.data.loader import DataLoader, default_collate  # noqa: F401 - torch's module path
