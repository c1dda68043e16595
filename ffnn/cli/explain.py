"""``ffnn explain``: one SGD step of a 2-3-1 network, every number printed (ffnn.explain)."""

from __future__ import annotations

import dataclasses

from ffnn.cli._common import CLIError, add_command

EXAMPLES = """\
  ffnn explain
  ffnn explain --activation sigmoid --lr 0.5 --format markdown
  ffnn explain --x "1,2" --y 3 --w1 "0.1,0.2;0.3,0.4;0.5,0.6" --b1 "0.5,0.6,0.7"
  ffnn explain --config step.toml --format latex --graph
"""


def register(subparsers) -> None:
    p = add_command(subparsers, "explain", "print one training step of a small network, "
                    "every value and gradient (checked by finite differences)", EXAMPLES)
    p.add_argument("--config", metavar="FILE.toml", help="x, y, W1, b1, W2, b2, activation, "
                   "loss, lr from a TOML file (flags override it)")
    p.add_argument("--x", help='input vector, e.g. "1,2"')
    p.add_argument("--y", help='target vector, e.g. "3"')
    p.add_argument("--w1", help='hidden weights, rows separated by ";": "0.1,0.2;0.3,0.4;0.5,0.6"')
    p.add_argument("--b1", help='hidden bias, e.g. "0.5,0.6,0.7"')
    p.add_argument("--w2", help='output weights, e.g. "0.7,0.8,0.9"')
    p.add_argument("--b2", help='output bias, e.g. "0.7"')
    p.add_argument("--activation", help="relu, sigmoid, tanh, gelu, … (every activation that "
                   "declares a formula; an unknown name lists them)")
    p.add_argument("--loss", help="half_mse (½(y-ŷ)²) | mse ((y-ŷ)²)")
    p.add_argument("--lr", type=float, help="SGD learning rate η")
    p.add_argument("--format", default="text", choices=("text", "markdown", "latex", "json"))
    p.add_argument("--graph", action="store_true",
                   help="also print the computational graph as a Mermaid flowchart")
    p.set_defaults(func=run)


def parse_vector(text: str, flag: str, whole: str | None = None) -> list[float]:
    """'1, 2' -> [1.0, 2.0]; CLIError naming the flag and the value received (``whole``:
    the flag's whole value, when ``text`` is a part of it)."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        received = text if whole is None else whole
        raise CLIError(f"{flag} must be comma-separated numbers"
                       + ("" if whole is None else ", rows separated by ';'")
                       + f". Received: {flag} {received!r}") from None


def parse_matrix(text: str, flag: str) -> list[list[float]]:
    """'1,2;3,4' -> [[1, 2], [3, 4]] (rows separated by ';')."""
    rows = [parse_vector(row, flag, text) for row in text.split(";")]
    if len({len(r) for r in rows}) != 1:
        raise CLIError(f"{flag}: every row needs the same number of values. Received: {flag} "
                       f"{text!r}")
    return rows


def run(args) -> int:
    from ffnn import explain

    config = explain.load_config(args.config) if args.config else explain.ExplainConfig()
    changes = {}
    for flag, key, parse in (("--x", "x", parse_vector), ("--y", "y", parse_vector),
                             ("--w1", "W1", parse_matrix), ("--b1", "b1", parse_vector),
                             ("--w2", "W2", parse_matrix), ("--b2", "b2", parse_vector)):
        text = getattr(args, flag[2:])
        if text is not None:
            changes[key] = parse(text, flag)
    for key in ("activation", "loss", "lr"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    config = dataclasses.replace(config, **changes)
    result = explain.compute(config)
    print(explain.render(result, args.format, graph=args.graph))
    return 0
