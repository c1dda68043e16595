"""``python -m ffnn.distributed bench [--rows 256 --steps 10 --ranks 1 2 --repeats 3 --json]``."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_bench-worker"]:
        from ffnn.bench.distributed import _worker

        _worker(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m ffnn.distributed")
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="samples/s of 1 rank against N ranks (ffn case)")
    bench.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    bench.add_argument("--rows", type=int, default=256)
    bench.add_argument("--steps", type=int, default=10)
    bench.add_argument("--warmup", type=int, default=2)
    bench.add_argument("--d-model", type=int, default=1024)
    bench.add_argument("--d-ff", type=int, default=4096)
    bench.add_argument("--repeats", type=int, default=1, help="keep the best of N runs")
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    from ffnn.bench.distributed import bench_distributed, format_report

    report = bench_distributed(ranks=args.ranks, rows=args.rows, steps=args.steps,
                               warmup=args.warmup, d_model=args.d_model, d_ff=args.d_ff,
                               repeats=args.repeats)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
