"""The ``ffnn`` command: ``demo``, ``train``, ``finetune``, ``eval``, ``predict``, ``summary``,
``explain``, ``export``, ``bench``, ``init-config``.

Each subcommand lives in its own module with ``register(subparsers)`` and ``run(args)``.
A user error (bad config, missing file, bad CSV, mismatched checkpoint) prints one line
``ffnn: error: ...`` and exits with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from ffnn.cli._common import CLIError, OneLineParser

__all__ = ["main", "build_parser", "CLIError"]

EXAMPLES = """\
examples:
  ffnn demo                             train and fine-tune on the bundled digits (< 1 min)
  ffnn init-config > run.toml           a commented example config
  ffnn train run.toml --epochs 20       train; writes runs/train/
  ffnn train --resume runs/train        continue a stopped run
  ffnn eval runs/train/best.safetensors data.csv
  ffnn predict runs/train/best.safetensors data.csv -o predictions.csv --proba
  ffnn summary runs/train/best.safetensors
  ffnn explain --format markdown --graph

  ffnn COMMAND --help shows each command's options and examples.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from ffnn import __version__
    from ffnn.cli import demo, evaluate, explain, finetune, tools, train

    parser = OneLineParser(
        prog="ffnn", description="Build, train, fine-tune and inspect feed-forward networks.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ffnn {__version__}")
    parser.add_argument("--debug", dest="debug_all", action="store_true",
                        help="show full tracebacks of errors")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (demo, train, finetune, evaluate, explain, tools):
        module.register(subparsers)
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CLIError, ValueError, KeyError, OSError,
                                         ImportError]
    try:
        from ffnn.io.checkpoint import CheckpointError
        errors.append(CheckpointError)
    except ImportError:
        pass
    return tuple(errors)


def _one_line(error: BaseException) -> str:
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    text = " ".join(str(text).split())
    return text or type(error).__name__


def _bench_arguments(argv: list[str]) -> list[str] | None:
    """The arguments after ``bench`` when it is the command (only global flags before it)."""
    if "bench" not in argv:
        return None
    index = argv.index("bench")
    if all(a == "--debug" for a in argv[:index]):
        return argv[index + 1:]
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the ``ffnn`` command; returns the exit status (0 ok, 2 user error)."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    parser = build_parser()
    bench = _bench_arguments(argv)
    if bench is not None:  # everything after `bench` belongs to ffnn.bench
        from ffnn.cli import tools

        args = argparse.Namespace(func=lambda _: tools.bench(bench), debug_all="--debug" in
                                  argv[:argv.index("bench")])
    else:
        args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    debug = args.debug_all or getattr(args, "debug", False)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `ffnn explain | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("ffnn: interrupted", file=sys.stderr)
        return 130
    except _expected_errors() as error:
        if debug:
            raise
        print(f"ffnn: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except MemoryError as error:  # a model or data too large for this machine
        if debug:
            raise
        print(f"ffnn: error: not enough memory ({_one_line(error)}): use a smaller model "
              "(model.hidden_sizes), batch or data set", file=sys.stderr)
        return 2
