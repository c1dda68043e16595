"""``ffnn explain``: one training step of a 2-3-1 network, every number computed by ffnn.

The forward pass (every z and a), the loss, the backward pass (every gradient with its
formula), the SGD update and the loss after it. Each gradient is cross-checked by central
finite differences of the loss. The default example arranges the tutorial's numbers into a
consistent 2-3-1 network (the tutorial's own arithmetic has errors; these are the right values).
"""

from __future__ import annotations

import json
import numbers
from dataclasses import asdict, dataclass, field

import numpy as np

from ffnn import ops
from ffnn.gradcheck import central_differences
from ffnn.nn import traits
from ffnn.tensor import Tensor


def activations() -> dict[str, traits.Traits]:
    """name → traits of every layer that declares a name and a formula (φ(z), φ'(z))."""
    return {t.name: t for t in traits.all_traits() if t.name and t.formula}


def _activation(name: str) -> tuple:
    """(φ as a function of a Tensor, "φ(z) = …", "φ'(z) = …") for a declared activation."""
    declared = activations()[name]
    return (declared.cls(), *declared.formula)


LOSSES = {
    "half_mse": ("½(y - ŷ)²", "ŷ - y"),
    "mse": ("(y - ŷ)²", "2(ŷ - y)"),
}


@dataclass
class ExplainConfig:
    """The network and the step to explain (defaults: the tutorial's numbers)."""

    x: list = field(default_factory=lambda: [1.0, 2.0])
    y: list = field(default_factory=lambda: [3.0])
    W1: list = field(default_factory=lambda: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    b1: list = field(default_factory=lambda: [0.5, 0.6, 0.7])
    W2: list = field(default_factory=lambda: [[0.7, 0.8, 0.9]])
    b2: list = field(default_factory=lambda: [0.7])
    activation: str = "relu"
    loss: str = "half_mse"
    lr: float = 0.1

    def validate(self) -> None:
        if isinstance(self.lr, bool) or not isinstance(self.lr, numbers.Real):
            raise ValueError(f"explain: lr must be a positive number. Received: lr={self.lr!r}")
        for name in ("x", "y", "W1", "b1", "W2", "b2"):
            value = getattr(self, name)
            try:
                array = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                array = None
            matrix = name.startswith("W")
            if array is None or array.ndim != (2 if matrix else 1) or isinstance(value, str):
                kind = "a list of rows of numbers" if matrix else "a list of numbers"
                raise ValueError(f"explain: {name} must be {kind}. Received: {name}={value!r}")
        if self.activation not in activations():
            raise ValueError(
                f"explain: unknown activation. Expected one of {sorted(activations())}. "
                f"Received: activation={self.activation!r}"
            )
        if self.loss not in LOSSES:
            raise ValueError(
                f"explain: unknown loss. Expected one of {sorted(LOSSES)}. Received: "
                f"loss={self.loss!r}"
            )
        if not np.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"explain: lr must be a positive number. Received: lr={self.lr}")
        self._check_shapes()
        for name, value in asdict(self).items():
            if isinstance(value, list) and not np.all(np.isfinite(np.asarray(value, float))):
                raise ValueError(f"explain: {name} must be finite. Received: {name}={value}")


    def _check_shapes(self) -> None:
        """Each pair of sizes that must agree, named together: x feeds W1's columns, W1's rows
        are the hidden units (b1, W2's columns), W2's rows the outputs (b2, y)."""
        x, w1, b1, w2, b2, y = (
            np.asarray(v, float) for v in (self.x, self.W1, self.b1, self.W2, self.b2, self.y)
        )
        pairs = (("W1", w1.shape[1], "columns", "x", x.size, "one per input"),
                 ("b1", b1.size, "values", "W1", w1.shape[0], "one per hidden unit: W1's rows"),
                 ("W2", w2.shape[1], "columns", "W1", w1.shape[0], "one per hidden unit: W1's "
                  "rows"),
                 ("b2", b2.size, "values", "W2", w2.shape[0], "one per output: W2's rows"),
                 ("y", y.size, "values", "W2", w2.shape[0], "one per output: W2's rows"))
        sizes = {"x": f"{x.size} values", "W1": f"shape {w1.shape}", "W2": f"shape {w2.shape}"}
        for name, got, what, other, want, rule in pairs:
            if got != want:
                raise ValueError(
                    f"explain: {name} has {got} {what} but {other} has {sizes[other]}: {name} "
                    f"needs {want} ({rule}). Received: {name}={getattr(self, name)}, "
                    f"{other}={getattr(self, other)}")


@dataclass
class Explanation:
    """Every value of the step, as float64 arrays, keyed by name."""

    config: ExplainConfig
    values: dict
    gradients: dict  # name -> (formula, backward value, finite-difference value)
    updated: dict
    loss_after: float
    graph: str


def _t(value, requires_grad=False) -> Tensor:
    return Tensor._of(np.array(value, dtype=np.float64), requires_grad=requires_grad)


def _loss(y_hat: Tensor, y: Tensor, kind: str) -> Tensor:
    diff = y - y_hat
    scale = 0.5 if kind == "half_mse" else 1.0
    return ops.sum(diff * diff) * scale


def _forward(params: dict, x: Tensor, y: Tensor, config: ExplainConfig) -> dict:
    act = _activation(config.activation)[0]
    z1 = ops.matmul(params["W1"], x) + params["b1"]
    a1 = act(z1)
    z2 = ops.matmul(params["W2"], a1) + params["b2"]
    return {"z1": z1, "a1": a1, "z2": z2, "y_hat": z2, "L": _loss(z2, y, config.loss)}


FD_STEP = 1e-6
"""The step h of the central differences."""


def _finite_difference(loss_of, value: np.ndarray, eps: float = FD_STEP) -> np.ndarray:
    """∂L/∂value by central differences of ``loss_of(array) -> float`` (``ffnn.gradcheck``)."""
    trial = value.copy()
    return central_differences(lambda: loss_of(trial), trial, eps)


def compute(config: ExplainConfig | None = None) -> Explanation:
    """Run the forward pass, backward pass and one SGD step with ffnn's engine (float64).
    Raises ValueError for an invalid config, or one whose step overflows float64 (naming the
    argument: the largest input or parameter, or lr)."""
    config = config or ExplainConfig()
    config.validate()
    with np.errstate(all="ignore"):  # an overflow is refused below, naming the argument
        explanation = _step(config)
    _refuse_overflow(explanation)
    return explanation


def _refuse_overflow(e: Explanation) -> None:
    c = e.config
    passes = [e.values[k] for k in ("z1", "a1", "z2", "L")]
    passes += [a for _, g, fd in e.gradients.values() for a in (g, fd)]
    if not all(np.isfinite(v).all() for v in passes):
        name = max(("x", "y", "W1", "b1", "W2", "b2"),
                   key=lambda n: np.abs(np.asarray(getattr(c, n), float)).max())
        raise ValueError(f"explain: {name} is too large: the forward or backward pass (or its "
                         f"finite-difference check) overflows float64 (L = {e.values['L']:g}); "
                         f"use smaller values. Received: {name}={getattr(c, name)}")
    if not (all(np.isfinite(v).all() for v in e.updated.values())
            and np.isfinite(e.loss_after)):
        raise ValueError(f"explain: lr is too large: the SGD step overflows float64 (loss after "
                         f"the step: {e.loss_after:g}); use a smaller lr. Received: lr={c.lr}")


def _step(config: ExplainConfig) -> Explanation:
    x, y = _t(config.x), _t(config.y)
    params = {name: _t(getattr(config, name), True) for name in ("W1", "b1", "W2", "b2")}
    out = _forward(params, x, y, config)
    for name in ("z1", "a1", "z2"):
        out[name].retain_grad()
    names = {**params, "x": x, "y": y, "z1": out["z1"], "a1": out["a1"], "ŷ = z2": out["z2"],
             "L": out["L"]}
    graph = to_mermaid(out["L"], names)
    out["L"].backward()
    act = _activation(config.activation)[0]

    def loss_from_z2(z2):
        return _loss(_t(z2), y, config.loss).item()

    def loss_from_a1(a1):
        z2 = ops.matmul(params["W2"].detach(), _t(a1)) + params["b2"].detach()
        return loss_from_z2(z2._data)

    def loss_from_z1(z1):
        return loss_from_a1(act(_t(z1))._data)

    def loss_with(name):
        def loss_of(value):
            trial = {k: _t(v._data) for k, v in params.items()}
            trial[name] = _t(value)
            return _forward(trial, x, y, config)["L"].item()

        return loss_of

    d_yhat = LOSSES[config.loss][1]
    d_act = _activation(config.activation)[2].split(" = ")[0].replace("(z)", "(z1)")
    fd = _finite_difference
    gradients = {
        "∂L/∂ŷ": (d_yhat, out["z2"]._grad, fd(loss_from_z2, out["z2"]._data)),
        "∂L/∂W2": ("∂L/∂ŷ · a1ᵀ", params["W2"]._grad, fd(loss_with("W2"), params["W2"]._data)),
        "∂L/∂b2": ("∂L/∂ŷ", params["b2"]._grad, fd(loss_with("b2"), params["b2"]._data)),
        "∂L/∂a1": ("W2ᵀ · ∂L/∂ŷ", out["a1"]._grad, fd(loss_from_a1, out["a1"]._data)),
        "∂L/∂z1": (f"∂L/∂a1 ⊙ {d_act}", out["z1"]._grad, fd(loss_from_z1, out["z1"]._data)),
        "∂L/∂W1": ("∂L/∂z1 · xᵀ", params["W1"]._grad, fd(loss_with("W1"), params["W1"]._data)),
        "∂L/∂b1": ("∂L/∂z1", params["b1"]._grad, fd(loss_with("b1"), params["b1"]._data)),
    }
    updated = {name: p._data - config.lr * p._grad for name, p in params.items()}
    after = _forward({k: _t(v) for k, v in updated.items()}, x, y, config)["L"].item()
    values = {"x": x._data, "y": y._data, **{k: p._data for k, p in params.items()},
              **{k: v._data for k, v in out.items()}}
    return Explanation(config, values, gradients, updated, after, graph)


# ----- the computational graph as Mermaid ------------------------------------------------
def to_mermaid(root: Tensor, names: dict) -> str:
    """The graph recorded behind ``root`` as a Mermaid flowchart (leaves and ops)."""
    label = {id(t): n for n, t in names.items() if isinstance(t, Tensor)}
    lines, seen, stack, counter = ["flowchart LR"], set(), [root], [0]
    node_id: dict[int, str] = {}

    def ident(t: Tensor) -> str:
        if id(t) not in node_id:
            counter[0] += 1
            node_id[id(t)] = f"n{counter[0]}"
            text = label.get(id(t))
            if t._ctx is None:
                lines.append(f'  {node_id[id(t)]}(["{text or _fmt(t._data)}"])')
            else:
                op = t._ctx.op_name
                lines.append(f'  {node_id[id(t)]}["{op}{" → " + text if text else ""}"]')
        return node_id[id(t)]

    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        me = ident(t)
        if t._ctx is not None:
            for parent in t._ctx.parents:
                if parent is not None:
                    lines.append(f"  {ident(parent)} --> {me}")
                    stack.append(parent)
    return "\n".join(lines)


# ----- rendering ---------------------------------------------------------------------------
def _fmt(value) -> str:
    array = np.asarray(value, dtype=float)
    if array.size == 1:
        return f"{array.item():.6g}"
    text = np.array2string(array, precision=6, separator=", ", suppress_small=True,
                           max_line_width=200)
    return " ".join(text.split())


def render(explanation: Explanation, fmt: str = "text", graph: bool = False) -> str:
    """The explanation as ``text``, ``markdown`` or ``latex``."""
    if fmt not in ("text", "markdown", "latex", "json"):
        raise ValueError(
            f"explain: format must be text, markdown, latex or json. Received: {fmt!r}"
        )
    if fmt == "json":
        return json.dumps(_as_json(explanation), indent=2)
    e, c = explanation, explanation.config
    act_formula = _activation(c.activation)[1]
    v = e.values
    rows = [
        ("Forward pass", [
            ("z1", "W1 · x + b1", v["z1"]),
            ("a1", act_formula.split(" = ")[0].replace("z", "z1"), v["a1"]),
            ("z2 = ŷ", "W2 · a1 + b2", v["z2"]),
            ("L", LOSSES[c.loss][0], v["L"]),
        ]),
    ]
    checks = [(name, formula, grad, fd) for name, (formula, grad, fd) in e.gradients.items()]
    update = [(f"{k} ← {k} - η ∂L/∂{k}", e.updated[k]) for k in ("W1", "b1", "W2", "b2")]
    check = _agreement(*_fd_check(e.values, checks))
    if fmt == "latex":
        text = _latex(c, rows, checks, update, e.loss_after, check)
    else:
        text = _text(c, rows, checks, update, e.loss_after, check, markdown=fmt == "markdown")
    if graph:
        fence = "```mermaid\n{}\n```" if fmt == "markdown" else "{}"
        text += "\n\nComputational graph (Mermaid):\n" + fence.format(e.graph)
    return text


FD_TOLERANCE = 1e-6
"""Central differences with h = 1e-6 in float64 agree with an exact gradient to ~1e-9 relative
(round-off ~ε·L/h, truncation ~h²); their digits past that differ by CPU and BLAS, so the
agreement is shown as this bound, and a larger difference as a wrong gradient."""


_BOUND = f"1e{round(np.log10(FD_TOLERANCE))}"

ROUNDOFF = 64
"""Central differences of a loss L computed in float64 carry a round-off of about ε·|L|/h;
with values up to M, L ≤ 4(1 + M)², so an entry may differ by ROUNDOFF·ε·(1 + M)²/h more than
FD_TOLERANCE allows (that much only matters for values far above 1e3)."""


def _agreement(worst: float, coarse_at: float | None = None) -> str:
    """The finite-difference check as one line: a bound when it holds, else the difference.
    ``worst``: max |backward - finite differences| / max(1, |backward|) over every entry;
    ``coarse_at``: the largest value, where the differences stay within the round-off that
    finite differences have at that scale (not a wrong gradient; see ``_fd_check``)."""
    if worst < FD_TOLERANCE:
        return f"largest |backward - finite differences| < {_BOUND} (relative: round-off only)"
    if coarse_at is not None:
        return (f"largest |backward - finite differences| = {worst:.2e} (relative): within the "
                f"round-off of finite differences for values up to {coarse_at:.3g} (the check "
                "cannot be finer at this scale)")
    return (f"largest |backward - finite differences| = {worst:.2e} (relative): more than "
            f"the {_BOUND} of round-off, a gradient is wrong")


def _fd_check(values: dict, checks: list) -> tuple[float, float | None]:
    """(worst, coarse_at) for ``_agreement``: an entry may differ by FD_TOLERANCE ·
    max(1, |backward|) plus the round-off of central differences with values up to M."""
    scale = max(float(np.abs(v).max()) for k, v in values.items() if k != "L")
    noise = ROUNDOFF * np.finfo(np.float64).eps * (1 + scale) ** 2 / FD_STEP
    worst = excess = 0.0
    for _, _, g, fd in checks:
        gap, room = np.abs(g - fd), np.maximum(1.0, np.abs(g))
        worst = max(worst, float(np.max(gap / room)))
        excess = max(excess, float(np.max(gap / (FD_TOLERANCE * room + noise))))
    return worst, (scale if excess <= 1 else None)


def _text(c, rows, checks, update, loss_after, check: str, markdown: bool) -> str:
    h = "### " if markdown else ""
    out = [f"{h}A {len(c.x)}-{len(c.b1)}-{len(c.b2)} network, one SGD step (η = {c.lr})", ""]
    out.append(f"x = {_fmt(c.x)}, y = {_fmt(c.y)}, hidden activation {c.activation}, "
               f"L = {LOSSES[c.loss][0]}")
    out.append(f"W1 = {_fmt(c.W1)}, b1 = {_fmt(c.b1)}, W2 = {_fmt(c.W2)}, b2 = {_fmt(c.b2)}")
    for title, entries in rows:
        out += ["", f"{h}{title}"]
        if markdown:
            out += ["| quantity | formula | value |", "| --- | --- | --- |"]
            out += [f"| {n} | {f} | {_fmt(val)} |" for n, f, val in entries]
        else:
            out += [f"  {n:<8} = {f:<22} = {_fmt(val)}" for n, f, val in entries]
    out += ["", f"{h}Backward pass (each gradient checked by central finite differences)"]
    if markdown:
        out += ["| gradient | formula | backward | finite differences |",
                "| --- | --- | --- | --- |"]
        out += [f"| {n} | {f} | {_fmt(g)} | {_fmt(fd)} |" for n, f, g, fd in checks]
    else:
        for n, f, g, fd in checks:
            out.append(f"  {n:<7} = {f:<22} = {_fmt(g)}")
            out.append(f"  {'':<7}   finite differences       = {_fmt(fd)}")
    out.append(f"  {check}")
    out += ["", f"{h}SGD update (η = {c.lr})"]
    out += [("| " if markdown else "  ") + f"{n} = {_fmt(val)}" + (" |" if markdown else "")
            for n, val in update]
    before = rows[0][1][-1][2]
    out += ["", f"{h}Loss", f"  before the step: {_fmt(before)}",
            f"  after the step:  {loss_after:.6g}"]
    return "\n".join(out)


def _latex_array(value) -> str:
    array = np.atleast_1d(np.asarray(value, dtype=float))
    if array.ndim == 1:
        return r"\begin{bmatrix}" + r" \\ ".join(f"{x:.6g}" for x in array) + r"\end{bmatrix}"
    body = r" \\ ".join(" & ".join(f"{x:.6g}" for x in row) for row in array)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def _latex(c, rows, checks, update, loss_after, check: str) -> str:
    symbols = {"∂": r"\partial ", "ŷ": r"\hat{y}", "ᵀ": "^T", "⊙": r"\odot", "·": r"\cdot",
               "←": r"\leftarrow", "η": r"\eta", "½": r"\tfrac12", "²": "^2", "σ": r"\sigma"}

    def tex(s: str) -> str:
        for k, val in symbols.items():
            s = s.replace(k, val)
        return s

    out = [r"\begin{align*}"]
    for _, entries in rows:
        out += [rf"{tex(n)} &= {tex(f)} = {_latex_array(val)} \\" for n, f, val in entries]
    out += [rf"\frac{{{tex(n.split('/')[0])}}}{{{tex(n.split('/')[1])}}} &= {tex(f)} = "
            rf"{_latex_array(g)} \\" for n, f, g, _ in checks]
    out += [rf"{tex(n)} &: {_latex_array(val)} \\" for n, val in update]
    out += [rf"L_{{\text{{after}}}} &= {loss_after:.6g}", r"\end{align*}",
            f"% {check}"]
    return "\n".join(out)


def _as_json(e: Explanation) -> dict:
    return {
        "config": asdict(e.config),
        "values": {k: np.asarray(v).tolist() for k, v in e.values.items()},
        "gradients": {k: {"formula": f, "backward": np.asarray(g).tolist(),
                          "finite_differences": np.asarray(fd).tolist()}
                      for k, (f, g, fd) in e.gradients.items()},
        "updated": {k: np.asarray(v).tolist() for k, v in e.updated.items()},
        "loss_after": e.loss_after,
    }


def load_config(path: str) -> ExplainConfig:
    """An ExplainConfig from a TOML file with any of its fields (unknown keys are errors)."""
    from ffnn.cli.config import read_toml

    data = read_toml(path)
    known = set(ExplainConfig.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"explain config {path}: unknown key {unknown[0]!r}. Valid keys: {sorted(known)}"
        )
    return ExplainConfig(**data)
