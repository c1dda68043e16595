"""Shared CLI plumbing: the user-error type, output options and small printing helpers."""

from __future__ import annotations

import argparse
import json
import sys


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (status 2), as every other
    error of the command; ``--help`` still shows the usage."""

    def error(self, message: str):
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def output_options() -> argparse.ArgumentParser:
    """Options every subcommand takes (a parent parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("output")
    group.add_argument("--quiet", "-q", action="store_true",
                       help="print only errors and the final result")
    group.add_argument("--log-format", choices=("text", "json"), default="text",
                       help="json: one JSON object per epoch on stdout (for scripts)")
    group.add_argument("--debug", action="store_true",
                       help="show the full traceback of an error")
    return parent


def add_command(subparsers, name: str, help: str, examples: str, parents=()):
    """A subcommand parser whose --help ends with usage examples."""
    return subparsers.add_parser(
        name, help=help, description=help, epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[output_options(), *parents])


def main_process() -> bool:
    """False on the ranks > 0 of ``mpiexec -n N ffnn …``: only rank 0 prints and writes."""
    from ffnn.distributed import launched_with_mpi

    if not launched_with_mpi():
        return True
    from ffnn.distributed import is_main_process

    return is_main_process()


class Printer:
    """Where a command's messages go: text to stdout unless --quiet; JSON lines for scripts."""

    def __init__(self, args: argparse.Namespace):
        self.quiet = bool(getattr(args, "quiet", False)) or not main_process()
        self.json = getattr(args, "log_format", "text") == "json" and main_process()

    def say(self, text: str = "") -> None:
        """Human-readable progress text (suppressed by --quiet and --log-format json)."""
        if not self.quiet and not self.json:
            print(text, flush=True)

    def result(self, text: str, payload: dict | None = None) -> None:
        """The command's result: text, or one JSON object with --log-format json."""
        if self.json:
            print(json.dumps(payload if payload is not None else {"result": text}), flush=True)
        else:
            print(text, flush=True)

    def event(self, payload: dict) -> None:
        """One JSON line (only with --log-format json)."""
        if self.json:
            print(json.dumps(payload), flush=True)


def table(rows: list[list], header: list[str]) -> str:
    """A plain aligned text table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def warn(text: str) -> None:
    print(f"ffnn: warning: {text}", file=sys.stderr)


def check_output(path: str, flag: str, **inputs: str) -> None:
    """Before anything runs: ``path`` (given by ``flag``) can be written, and it is none of
    the files the command reads (``inputs``: what -> path; a run folder means its
    best.safetensors). CLIError / OSError otherwise."""
    import os

    from ffnn.io.atomic import check_writable

    check_writable(path)
    target = os.path.realpath(path)
    for what, source in inputs.items():
        if source is None:
            continue
        candidates = [source]
        if os.path.isdir(source):  # a run folder: the command reads its best checkpoint
            candidates.append(os.path.join(source, "best.safetensors"))
        if any(os.path.realpath(c) == target for c in candidates):
            raise CLIError(f"{flag} {path} is the {what} this command reads; write the output "
                           "to another file")
