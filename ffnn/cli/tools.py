"""``ffnn init-config``, ``ffnn export`` and ``ffnn bench`` (thin wrappers)."""

from __future__ import annotations

import importlib
import os

from ffnn.cli._common import CLIError, add_command


def register(subparsers) -> None:
    p = add_command(subparsers, "init-config", "write a commented example config",
                    "  ffnn init-config > run.toml\n  ffnn init-config -o run.toml\n"
                    "  ffnn init-config --finetune -o finetune.toml\n")
    p.add_argument("-o", "--output", metavar="FILE.toml", help="write here instead of stdout")
    p.add_argument("--finetune", action="store_true", help="the config of `ffnn finetune`")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=init_config)

    p = add_command(subparsers, "export", "export a checkpoint to ONNX",
                    "  ffnn export runs/train/best.safetensors --onnx model.onnx\n")
    p.add_argument("checkpoint")
    p.add_argument("--onnx", required=True, metavar="OUT.onnx", help="the ONNX file to write")
    p.set_defaults(func=export)

    subparsers.add_parser(
        "bench", help="side-by-side benchmarks (ffnn vs PyTorch); arguments go to ffnn.bench",
        add_help=False)  # main() hands everything after `bench` to ffnn.bench.main(argv)


def init_config(args) -> int:
    from ffnn.cli import config

    text = config.example(config.FinetuneConfig if args.finetune else config.Config)
    if args.output is None:
        print(text, end="")
        return 0
    if os.path.isdir(args.output):
        raise CLIError(f"-o {args.output} is a folder; give the path of the TOML file to write "
                       f"(e.g. {os.path.join(args.output, 'run.toml')})")
    if os.path.exists(args.output) and not args.force:
        raise CLIError(f"{args.output} already exists (use --force to overwrite it)")
    from ffnn.io.atomic import atomic_write_bytes, check_writable

    check_writable(args.output)
    atomic_write_bytes(args.output, text.encode())
    if not args.quiet:
        print(f"wrote {args.output}")
    return 0


def export(args) -> int:
    from ffnn.cli._common import check_output

    if os.path.isdir(args.checkpoint):  # a run folder, as eval/predict/summary take
        args.checkpoint = os.path.join(args.checkpoint, "best.safetensors")
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f"checkpoint not found: {args.checkpoint!r}")
    check_output(args.onnx, "--onnx", checkpoint=args.checkpoint)
    from ffnn.interop.onnx import export_checkpoint

    export_checkpoint(args.checkpoint, args.onnx)
    if not args.quiet:
        print(f"wrote {args.onnx}")
    return 0


def bench(argv: list[str]) -> int:
    """``ffnn.bench.main(argv)``, or a one-line error when ffnn.bench is not installed."""
    try:
        module = importlib.import_module("ffnn.bench")
    except ModuleNotFoundError as err:
        if err.name != "ffnn.bench":
            raise
        raise CLIError("ffnn bench is not available in this installation "
                       "(module ffnn.bench is missing)") from None
    entry = getattr(module, "main", None)
    if entry is None:
        raise CLIError("ffnn.bench has no main(argv) function")
    return int(entry(list(argv)) or 0)
