"""``python -m ffnn``: the ``ffnn`` command."""

from ffnn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
