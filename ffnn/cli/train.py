"""``ffnn train CONFIG.toml`` (flags override config keys) and ``ffnn train --resume RUN_DIR``."""

from __future__ import annotations

import argparse
import dataclasses
import os

from ffnn.cli._common import CLIError, Printer, add_command, table

EXAMPLES = """\
  ffnn init-config > run.toml && ffnn train run.toml
  ffnn train run.toml --epochs 20 --lr 1e-3 --seed 1 --out runs/exp1
  ffnn train --set data.csv=houses.csv --set data.target=price --set model.hidden_sizes=[64,64]
  ffnn train run.toml --log-format json > epochs.jsonl
  ffnn train --resume runs/exp1                 # continue where it stopped (also after a kill)
  ffnn train --resume runs/exp1 --epochs 50     # ... and train longer

writes RUN_DIR/: best.safetensors, last.safetensors, metrics.csv, curves.png, config.toml,
summary.json
"""


def override_options() -> argparse.ArgumentParser:
    """--epochs/--lr/--batch-size/--seed/--out and --set KEY=VALUE (parent parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    g = parent.add_argument_group("config overrides")
    g.add_argument("--epochs", type=int, help="train.epochs")
    g.add_argument("--lr", type=float, help="train.lr")
    g.add_argument("--batch-size", type=int, help="train.batch_size")
    g.add_argument("--seed", type=int, help="seed")
    g.add_argument("--out", help="run folder (out)")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any config key, e.g. --set model.dropout=0.2 (repeatable)")
    return parent


def register(subparsers) -> None:
    p = add_command(subparsers, "train", "train an MLP from a TOML config", EXAMPLES,
                    parents=[override_options()])
    p.add_argument("config", nargs="?", metavar="CONFIG.toml",
                   help="run configuration (default: every key at its default)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    p.set_defaults(func=run)


def overrides(args, cls) -> dict:
    """Dotted config keys from the flags (--set last, so it wins)."""
    from ffnn.cli.config import parse_value

    values = {}
    for flag, key in (("epochs", "train.epochs"), ("lr", "train.lr"),
                      ("batch_size", "train.batch_size"), ("seed", "seed"), ("out", "out")):
        if getattr(args, flag, None) is not None:
            values[key] = getattr(args, flag)
    for item in args.set:
        if "=" not in item:
            raise CLIError(f"--set expects KEY=VALUE. Received: --set {item!r}")
        key, text = item.split("=", 1)
        values[key.strip()] = parse_value(text.strip(), key.strip(), cls)
    return values


def load_config(path: str | None, cls, args):
    """The config from ``path`` (or defaults) with the flags applied, validated."""
    from ffnn.cli import config

    return config.load(path or None, cls, overrides(args, cls))


def run(args) -> int:
    from ffnn.cli import _run
    from ffnn.cli.config import Config

    printer = Printer(args)
    if args.resume:
        if args.config:
            raise CLIError("pass either CONFIG.toml or --resume RUN_DIR, not both")
        saved = os.path.join(args.resume, _run.CONFIG)
        if not os.path.isfile(saved):
            raise FileNotFoundError(f"no run to resume in {args.resume!r} ({saved} is missing)")
        if args.out is not None or args.seed is not None:
            raise CLIError("--out and --seed cannot change when resuming a run")
        _check_not_finetuned(saved, args.resume)
        cfg = dataclasses.replace(load_config(saved, Config, args), out=args.resume)
        _check_resume(cfg, saved, args.resume)
    else:
        cfg = load_config(args.config, Config, args)
    result, data = train_config(cfg, printer, resume=bool(args.resume))
    report(result, data.preprocessing, printer, cfg.out)
    return 0


def _check_not_finetuned(saved: str, run: str) -> None:
    """CLIError for the run folder of ``ffnn finetune`` (its config has a [finetune] table),
    which ``train --resume`` cannot continue."""
    from ffnn.cli.config import read_toml

    if "finetune" in read_toml(saved):
        raise CLIError(f"{run} is a run of ffnn finetune ({saved} has a [finetune] table); "
                       "train --resume continues runs of ffnn train only, and a fine-tuning "
                       "run cannot be resumed: run ffnn finetune again (from "
                       f"{os.path.join(run, 'best.safetensors')} to go on from its best "
                       "model, with another --out)")


def _check_resume(cfg, saved: str, run: str) -> None:
    """The data and the model of a resumed run stay as saved, and it trains no fewer epochs
    than it has done (before anything is written)."""
    import ffnn
    from ffnn.cli import _model_io
    from ffnn.cli.config import Config, load

    before = load(saved, Config)
    for section in ("data", "model"):
        old, new = (dataclasses.asdict(getattr(c, section)) for c in (before, cfg))
        changed = [f"{section}.{k}" for k in old if old[k] != new[k]]
        if changed:
            raise CLIError(f"{', '.join(changed)} cannot change when resuming a run (its "
                           f"checkpoint was trained with the saved value). Received: "
                           f"{changed[0]}={new[changed[0].split('.', 1)[1]]!r}, saved "
                           f"{old[changed[0].split('.', 1)[1]]!r}; train a new run instead")
    last = os.path.join(run, _model_io.LAST)
    if os.path.isfile(last):
        done = ffnn.load(last).metadata.get("epoch")
        if isinstance(done, int) and cfg.train.epochs < done:
            raise CLIError(f"the run in {run!r} has already trained {done} epochs; "
                           f"train.epochs must be at least that to resume it. Received: "
                           f"train.epochs={cfg.train.epochs}")


def train_config(cfg, printer: Printer, resume: bool = False):
    """Run ``cfg`` (a validated Config): (RunResult, Prepared). Writes the run folder."""
    import ffnn
    from ffnn.cli import _build, _run
    from ffnn.cli._data import prepare
    from ffnn.cli.config import to_toml

    ffnn.manual_seed(cfg.seed)
    data = prepare(cfg.data, cfg.seed)
    for note in data.notes:
        printer.say(note)
    model = _build.build_model(cfg.model, data.preprocessing, data.X_train.shape[1],
                               data.num_outputs, cfg.augment)
    printer.say(f"training on {data.X_train.shape[0]} rows, {data.X_train.shape[1]} features "
                f"({data.task}); run folder {cfg.out}")
    result = _run.fit(model, data, cfg.train, cfg.augment, cfg.seed, cfg.out, printer,
                      resume=resume, config_text=to_toml(cfg),
                      extra_meta={"config": dataclasses.asdict(cfg)})
    if resume:  # record a longer schedule (e.g. --epochs 50) for the next resume
        _run.write_text(os.path.join(cfg.out, _run.CONFIG), to_toml(cfg))
    return result, data


def report(result, pre: dict, printer: Printer, out: str | None) -> None:
    """Test metrics (and the confusion matrix), then where the files are."""
    test = result.test
    payload = {"event": "done", "out": out, **result.summary}
    if not test:
        printer.result(f"done in {result.seconds:.1f} s (no test split)", payload)
        return
    if pre["task"] == "classification":
        text = f"test accuracy: {test['accuracy']:.4f}  (loss {test['loss']:.4f})"
        if not printer.quiet:
            text += "\n\nconfusion matrix (rows: true, columns: predicted)\n"
            text += confusion_text(test["confusion_matrix"], pre["classes"])
    else:
        text = f"test r2: {test['r2']:.4f}  mae: {test['mae']:.4g}  mse: {test['mse']:.4g}"
    if out is not None and not printer.quiet:
        text += f"\n\nwrote {out}/: best.safetensors last.safetensors metrics.csv curves.png " \
                "config.toml summary.json"
    printer.result(text, payload)


def confusion_text(matrix: list[list[int]], classes: list[str]) -> str:
    rows = [[c, *row] for c, row in zip(classes, matrix)]
    return table(rows, ["true\\pred", *classes])
