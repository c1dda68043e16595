"""``ffnn demo``: the guided tour (the steps are in ``ffnn.cli._demo``)."""

from __future__ import annotations

from ffnn.cli._common import Printer, add_command

EXAMPLES = """\
  ffnn demo                     writes runs/demo/
  ffnn demo --out /tmp/demo
  ffnn demo --fast              a few epochs only (for tests)
"""


def register(subparsers) -> None:
    p = add_command(subparsers, "demo", "train an MLP on the bundled digits and fine-tune it "
                    "to new classes from a few rows (offline, < 1 min)", EXAMPLES)
    p.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    p.add_argument("--fast", action="store_true", help="a few epochs only (for tests)")
    p.add_argument("--rows-per-class", type=int, default=10,
                   help="labelled rows per new class for the fine-tuning part (default: 10)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ffnn.cli import _demo as demo
    from ffnn.cli._common import CLIError

    if not args.out:
        raise CLIError("--out must name the run folder. Received: --out=''")
    if args.rows_per_class < 1:
        raise CLIError("--rows-per-class must be >= 1. Received: "
                       f"--rows-per-class={args.rows_per_class}")
    demo.run(out=args.out, fast=args.fast, rows_per_class=args.rows_per_class,
             printer=Printer(args))
    return 0
