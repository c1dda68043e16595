"""``ffnn eval``, ``ffnn predict`` and ``ffnn summary``: use a saved model on new data."""

from __future__ import annotations

import csv
import io

import numpy as np

from ffnn.cli._common import Printer, add_command, table


def register(subparsers) -> None:
    p = add_command(subparsers, "eval", "metrics of a checkpoint on a labelled CSV",
                    "  ffnn eval runs/train/best.safetensors test.csv\n"
                    "  ffnn eval runs/train test.csv --log-format json\n")
    p.add_argument("checkpoint", help="a .safetensors file written by ffnn train/finetune "
                   "(or its run folder)")
    p.add_argument("data", metavar="DATA.csv", help="CSV with the feature and target columns")
    p.set_defaults(func=run_eval)

    p = add_command(subparsers, "predict", "predictions of a checkpoint for a CSV",
                    "  ffnn predict runs/train/best.safetensors new.csv -o predictions.csv\n"
                    "  ffnn predict runs/train new.csv --proba      # CSV on stdout\n")
    p.add_argument("checkpoint")
    p.add_argument("data", metavar="DATA.csv", help="CSV with the feature columns (a target "
                   "column, if present, is ignored); for a text model, a CSV with its text "
                   "column or a .txt file with one text per line")
    p.add_argument("-o", "--output", metavar="OUT.csv", help="write here (default: stdout)")
    p.add_argument("--proba", action="store_true",
                   help="add one probability column per class (classification)")
    p.set_defaults(func=run_predict)

    p = add_command(subparsers, "summary", "layers, output shapes and parameter counts",
                    "  ffnn summary runs/train/best.safetensors\n")
    p.add_argument("checkpoint")
    p.set_defaults(func=run_summary)


def _read(args, pre: dict, model, need_target: bool):
    """(inputs, targets or None, their file rows or None) of the data file: text rows for a
    text model."""
    if pre.get("text"):
        from ffnn.cli._text import read_new_texts

        return read_new_texts(args.data, pre, model, args.checkpoint, need_target)
    from ffnn.cli._data import read_new_data

    return read_new_data(args.data, pre, args.checkpoint, need_target)


def run_eval(args) -> int:
    from ffnn.cli import _model_io
    from ffnn.cli.train import confusion_text

    printer = Printer(args)
    model, pre, _ = _model_io.load_model(args.checkpoint)
    X, y, rows = _read(args, pre, model, need_target=True)
    out = _model_io.finite_outputs(model, X, pre, args.data, rows)
    metrics = _model_io.metrics_for(pre, model, X, y, out)
    payload = {"rows": int(X.shape[0]), **metrics}
    if pre["task"] == "classification":
        text = f"accuracy: {metrics['accuracy']:.4f}  loss: {metrics['loss']:.4f}  " \
               f"({X.shape[0]} rows)"
        if not printer.quiet:
            text += "\n\nconfusion matrix (rows: true, columns: predicted)\n" + \
                confusion_text(metrics["confusion_matrix"], pre["classes"])
    else:
        text = f"r2: {metrics['r2']:.4f}  mae: {metrics['mae']:.4g}  mse: {metrics['mse']:.4g}" \
               f"  ({X.shape[0]} rows)"
    printer.result(text, payload)
    return 0


def run_predict(args) -> int:
    from ffnn.cli import _model_io
    from ffnn.cli._common import CLIError, check_output
    from ffnn.cli._data import inverse_y
    from ffnn.nn.loss import softmax_probabilities

    if args.output is not None:
        check_output(args.output, "-o", **{"input CSV": args.data, "checkpoint": args.checkpoint})
    model, pre, _ = _model_io.load_model(args.checkpoint)
    X, _, rows = _read(args, pre, model, need_target=False)
    out = _model_io.finite_outputs(model, X, pre, args.data, rows)
    name = f"predicted_{pre['target']}"
    if pre["task"] == "classification":
        probs = softmax_probabilities(out)
        labels = np.asarray(pre["classes"], dtype=object)[probs.argmax(axis=1)]
        header = [name] + ([f"proba_{c}" for c in pre["classes"]] if args.proba else [])
        rows = [[label, *(f"{p:.6g}" for p in row)] if args.proba else [label]
                for label, row in zip(labels, probs)]
    else:
        if args.proba:
            raise CLIError("--proba needs a classification model; this one does regression")
        header = [name]
        rows = [[repr(float(v))] for v in inverse_y(pre, out[:, 0])]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    if args.output is None:
        print(text.getvalue(), end="")
        return 0
    from ffnn.io.atomic import atomic_write_bytes

    atomic_write_bytes(args.output, text.getvalue().encode())
    Printer(args).say(f"wrote {len(rows)} predictions to {args.output}")
    return 0


def layer_rows(model, n_features: int) -> list[list]:
    """[name, type, output shape, trainable, total] per layer (top-level children of a
    Sequential, with shapes from a forward pass on one zero row)."""
    import ffnn
    from ffnn.finetune.freeze import count_parameters
    from ffnn.tensor import Tensor

    x = Tensor._of(np.zeros((1, n_features), dtype=np.float32))
    rows = []
    with ffnn.no_grad():
        for name, child in model._modules.items():  # as forward runs them
            try:
                x = child(x)
                shape = str([None, *x.shape[1:]])
            except Exception:  # a non-sequential model: shapes unknown from here
                shape = "?"
            total, trainable = count_parameters(child), count_parameters(child, True)
            rows.append([name, type(child).__name__, shape, f"{trainable:,}", f"{total:,}"])
    return rows


def run_summary(args) -> int:
    from ffnn.cli import _model_io
    from ffnn.finetune.freeze import count_parameters

    printer = Printer(args)
    model, pre, meta = _model_io.load_model(args.checkpoint)
    n_features = len(pre["features"])
    model.eval()
    rows = layer_rows(model, n_features)
    trainable, total = count_parameters(model, trainable_only=True), count_parameters(model)
    lines = [f"input: [None, {n_features}]  ({pre['task']}"
             + (f", classes {pre['classes']})" if pre["classes"] else ")"),
             table(rows, ["layer", "type", "output shape", "trainable", "params"]),
             f"trainable parameters: {trainable:,}", f"total parameters: {total:,}"]
    if "epoch" in meta:
        lines.append(f"saved after epoch {meta['epoch']}")
    payload = {"features": n_features, "layers": [dict(zip(
        ("name", "type", "output_shape", "trainable", "params"), r)) for r in rows],
        "trainable": trainable, "total": total}
    printer.result("\n".join(lines), payload)
    return 0
