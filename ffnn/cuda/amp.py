"""``ffnn.cuda.amp``: torch's older path to ``autocast`` and ``GradScaler`` (see ``ffnn.amp``)."""

from ffnn.amp import GradScaler, autocast  # noqa: F401 - re-exported under torch's path
