"""``ffnn.backends.cudnn``: flags programs set for reproducibility; they change nothing here
(ffnn's CPU results are deterministic)."""

deterministic = False
benchmark = False
enabled = True


def is_available() -> bool:
    return False
