"""``ffnn finetune CHECKPOINT CONFIG.toml``: adapt a trained model to new data / a new task."""

from __future__ import annotations

import dataclasses

from ffnn.cli._common import CLIError, Printer, add_command

EXAMPLES = """\
  ffnn init-config --finetune -o ft.toml && ffnn finetune runs/train/best.safetensors ft.toml
  ffnn finetune runs/demo ft.toml --set finetune.lora_rank=4 --set finetune.new_head=yes
  ffnn finetune runs/train ft.toml --set finetune.freeze=body --epochs 10

  ffnn finetune minilm text.toml      # [text] column = "review": a CSV text column

config keys ([finetune] table): freeze = none|body, lora_rank, lora_alpha,
new_head = auto|yes|no, widen = [hidden sizes], deepen = N, layer_lr_decay
([text] table): column = the CSV's text column, max_length = tokens per text; then
CHECKPOINT is 'minilm' (the installed all-MiniLM-L6-v2) or a sentence-transformers folder
"""


def register(subparsers) -> None:
    from ffnn.cli.train import override_options

    p = add_command(subparsers, "finetune", "fine-tune a checkpoint (freeze, LoRA, new head, "
                    "widen, deepen, layer-wise learning rates)", EXAMPLES,
                    parents=[override_options()])
    p.add_argument("checkpoint", help="a .safetensors file (or run folder) from ffnn train; "
                   "with a [text] table: 'minilm' or a sentence-transformers folder")
    p.add_argument("config", nargs="?", metavar="CONFIG.toml",
                   help="fine-tuning configuration (ffnn init-config --finetune)")
    p.set_defaults(func=run)


def adapt(model, ft, num_outputs: int, new_classes, old_classes, printer: Printer):
    """Apply the [finetune] surgery in order: widen, deepen, head, freeze, LoRA. Returns the
    model and a list of what was done."""
    import ffnn.finetune as F

    done = []
    if ft.widen:
        _widen(model, ft.widen)
        done.append(f"widened the hidden layers to {ft.widen} units (Net2WiderNet)")
    if ft.deepen:
        _deepen(model, ft.deepen)
        done.append(f"added {ft.deepen} identity-initialised hidden layer(s) (Net2DeeperNet)")
    changed = num_outputs != _head_size(model) or (new_classes != old_classes)
    if ft.new_head == "yes" or (ft.new_head == "auto" and changed):
        from ffnn.finetune.surgery import replace_head

        replace_head(model, num_outputs)
        done.append(f"new output layer ({num_outputs} outputs)")
    elif num_outputs != _head_size(model):
        raise CLIError(f"the model has {_head_size(model)} outputs but the data needs "
                       f"{num_outputs}; set finetune.new_head = 'yes' or 'auto'")
    from ffnn.finetune.surgery import last_linear

    head = last_linear(model)[2]
    if ft.freeze == "body":
        F.freeze(model)
        F.unfreeze(model, head)
        done.append("froze every layer but the output layer")
    if ft.lora_rank:
        check_lora_rank(_lora_linears(model), ft.lora_rank, "hidden Linear layers")
        F.apply_lora(model, "all-linear", r=ft.lora_rank, alpha=ft.lora_alpha)
        F.unfreeze(model, head)
        done.append(f"LoRA rank {ft.lora_rank} on the hidden Linear layers (head trained)")
    return model, done


def _lora_linears(model) -> list:
    """The Linear layers ``apply_lora(model, "all-linear")`` adapts ([] where none: it says so)."""
    from ffnn.finetune.lora import lora_targets

    try:
        return [model.get_submodule(name) for name in lora_targets(model, "all-linear")]
    except ValueError:
        return []


def check_lora_rank(layers: list, rank: int, what: str) -> None:
    """CLIError for a rank above min(in_features, out_features) of one of ``layers`` (the
    Linear layers LoRA adapts, ``what`` in words): B·A cannot have a higher rank, so the extra
    parameters add nothing (LoRA practice: r ≪ that)."""
    if not layers:
        return
    limit = min(min(m.in_features, m.out_features) for m in layers)
    if rank > limit:
        widths = list(dict.fromkeys(f"{m.in_features}→{m.out_features}" for m in layers))
        raise CLIError(f"finetune.lora_rank must be at most {limit}, the smallest width of the "
                       f"{what} it adapts ({', '.join(widths[:8])}): the update "
                       "B·A has rank at most min(in, out), so a larger rank only adds "
                       f"parameters. Received: finetune.lora_rank={rank}")


def _head_size(model) -> int:
    from ffnn.finetune.surgery import last_linear

    return last_linear(model)[2].out_features


def _hidden_linears(model) -> list[int]:
    from ffnn import nn

    if not isinstance(model, nn.Sequential):
        raise CLIError("finetune.widen / finetune.deepen need a Sequential MLP (as ffnn train "
                       f"builds). Received: {type(model).__name__}")
    return [i for i, m in enumerate(model) if type(m) is nn.Linear][:-1]


def _widen(model, sizes: list[int]) -> None:
    """Net2WiderNet on each hidden Linear (small noise breaks the copies' symmetry)."""
    from ffnn.finetune import widen

    positions = _hidden_linears(model)
    if len(sizes) != len(positions):
        raise CLIError(f"finetune.widen needs one size per hidden layer ({len(positions)}). "
                       f"Received: finetune.widen={sizes}")
    for index, size in zip(positions, sizes):
        if size < model[index].out_features:
            raise CLIError(f"finetune.widen cannot shrink hidden layer {positions.index(index)}"
                           f" ({model[index].out_features} units). Received: {sizes}")
        if size > model[index].out_features:
            widen(model, index, size, noise=0.01)


def _deepen(model, count: int) -> None:
    """Net2DeeperNet: ``count`` identity Linear+ReLU layers after the last hidden ReLU."""
    from ffnn import nn
    from ffnn.finetune import deepen

    _hidden_linears(model)
    relus = [i for i, m in enumerate(model) if type(m) is nn.ReLU]
    if not relus:
        raise CLIError("finetune.deepen needs a model with ReLU hidden layers (an identity layer "
                       "keeps the function only for ReLU)")
    for _ in range(count):
        deepen(model, relus[-1])


def say_adaptation(printer: Printer, model, done: list[str], rows: str, out: str) -> None:
    """What the adaptation did, one line each, then how many parameters train on what."""
    from ffnn.finetune.freeze import count_parameters

    for line in done:
        printer.say(f"- {line}")
    trainable, total = count_parameters(model, trainable_only=True), count_parameters(model)
    printer.say(f"training {trainable:,} of {total:,} parameters on {rows}; run folder {out}")


def param_groups(model, ft, lr: float):
    """Per-layer learning rates (lr · decay^depth from the head) or all trainable params."""
    from ffnn.finetune import layerwise_lr_groups, trainable_parameters

    if ft.layer_lr_decay == 1.0:
        return trainable_parameters(model)

    return layerwise_lr_groups(model, lr, ft.layer_lr_decay, trainable_only=True)


def run(args) -> int:
    from ffnn.cli.config import FinetuneConfig
    from ffnn.cli.train import load_config, report

    printer = Printer(args)
    cfg = load_config(args.config, FinetuneConfig, args)
    result, data = finetune_config(args.checkpoint, cfg, printer)
    report(result, data.preprocessing, printer, cfg.out)
    return 0


def _check_out_apart(checkpoint: str, out: str) -> None:
    """CLIError where the run folder ``out`` holds the checkpoint fine-tuned (a run folder
    given as the checkpoint, or a file in it): the run would write its best.safetensors and
    last.safetensors over the model it starts from."""
    import os

    folder = checkpoint if os.path.isdir(checkpoint) else os.path.dirname(
        os.path.abspath(checkpoint))
    if os.path.isdir(out) and os.path.isdir(folder) and os.path.samefile(folder, out):
        raise CLIError(f"--out {out} is the run folder of the checkpoint this command "
                       f"fine-tunes ({checkpoint}); its checkpoints would be overwritten: "
                       "write the fine-tuned run to another folder")


def _check_not_an_encoder(checkpoint: str) -> None:
    """CLIError for a sentence encoder ('minilm', or a folder with its config.json) given
    without text.column: it fine-tunes on a CSV text column."""
    import os

    from ffnn.cli._text import MINILM

    folder = os.path.isdir(checkpoint) and os.path.isfile(os.path.join(checkpoint,
                                                                       "config.json"))
    if (checkpoint == MINILM and not os.path.exists(checkpoint)) or folder:
        raise CLIError(f"{checkpoint!r} is a sentence encoder: it fine-tunes on a CSV text "
                       "column, so set text.column (the [text] table: column = 'review'); "
                       "without it, CHECKPOINT is a checkpoint or run folder of ffnn train")


def finetune_config(checkpoint: str, cfg, printer: Printer):
    """Fine-tune ``checkpoint`` as ``cfg`` (a FinetuneConfig) says: (RunResult, Prepared)."""
    import ffnn
    from ffnn.cli import _build, _model_io, _run
    from ffnn.cli._data import prepare
    from ffnn.cli.config import to_toml

    _check_out_apart(checkpoint, cfg.out)
    if cfg.text.column:
        from ffnn.cli._text import finetune_text

        return finetune_text(checkpoint, cfg, printer)
    _check_not_an_encoder(checkpoint)
    model, base, _ = _model_io.load_model(checkpoint)
    model.train()
    ffnn.manual_seed(cfg.seed)
    data = prepare(cfg.data, cfg.seed, base=base, checkpoint=checkpoint)
    model, done = adapt(model, cfg.finetune, data.num_outputs, data.preprocessing["classes"],
                        base["classes"], printer)
    cfg.train = _build.resolve_train(cfg.train, data.X_train.shape[0],
                                     "tabular" in data.preprocessing)
    say_adaptation(printer, model, done, f"{data.X_train.shape[0]} rows", cfg.out)
    result = _run.fit(model, data, cfg.train, cfg.augment, cfg.seed, cfg.out, printer,
                      param_groups=param_groups(model, cfg.finetune, cfg.train.lr),
                      config_text=to_toml(cfg),
                      extra_meta={"config": dataclasses.asdict(cfg),
                                  "base_checkpoint": str(checkpoint)})
    return result, data
