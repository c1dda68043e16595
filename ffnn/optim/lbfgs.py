"""L-BFGS, as ``torch.optim.LBFGS``: each ``step(closure)`` runs up to ``max_iter`` iterations
on the parameters flattened into one vector x.

With g the gradient, the direction d = −H·g comes from the two-loop recursion over the last
``history_size`` pairs (s = t·d, y = g_new − g_old, kept when yᵀs > 1e-10), starting from
H₀ = (yᵀs / yᵀy)·I; x ← x + t·d with t = lr (the first iteration: min(1, 1/‖g‖₁)·lr), or,
with ``line_search_fn="strong_wolfe"``, the step the strong-Wolfe line search finds from
that t (``ffnn.optim.line_search``). It stops when max|g| ≤ tolerance_grad, the directional
derivative gᵀd > −tolerance_change, the step or the loss change falls below
tolerance_change, or after ``max_eval`` closure calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ffnn import autograd
from ffnn.optim.line_search import strong_wolfe
from ffnn.optim.optimizer import Optimizer, check_learning_rate, learning_rate


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None)``; ``step`` needs a
    closure that clears the gradients, computes the loss, calls ``backward`` and returns it."""

    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError("LBFGS: line_search_fn must be None (a fixed step of lr) or "
                             f"'strong_wolfe'. Received: line_search_fn={line_search_fn!r}")
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check_group(self, group) -> None:
        check_learning_rate(group["lr"])

    @staticmethod
    def _load_value(param, index: int, name: str, value):
        """A loaded state entry: LBFGS keeps flat vectors over all its parameters and
        histories of them (``old_dirs``, ``old_stps``, ``ro``), so arrays and lists are
        copied as they are, with no parameter shape to match; numbers stay numbers."""
        if isinstance(value, (list, tuple)):
            return [np.array(v, copy=True) if hasattr(v, "shape") else v for v in value]
        if isinstance(value, np.generic) or (hasattr(value, "ndim") and value.ndim == 0):
            return value.item()
        return np.array(value, copy=True) if hasattr(value, "shape") else value

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([
            np.zeros(p.numel(), p.dtype) if p._grad is None else p._grad.reshape(-1)
            for p in self._params])

    def _add_to_params(self, step: float, direction: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            n = p.numel()
            p._data += (step * direction[offset:offset + n]).reshape(p.shape).astype(p.dtype)
            autograd.bump_version(p)
            offset += n

    def step(self, closure: Callable | None = None):
        """Up to ``max_iter`` L-BFGS iterations; returns the closure's first loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that recomputes the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = learning_rate(group), group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = _number(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            d = self._direction(state, flat_grad, prev_flat_grad, d, t)
            prev_flat_grad, prev_loss = flat_grad.copy(), loss
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            slope = flat_grad.dot(d)
            if slope > -tol_change:
                break
            if group["line_search_fn"] is None:
                loss, flat_grad, evals = self._fixed_step(closure, t, d, loss, flat_grad,
                                                          n_iter != max_iter)
            else:
                loss, flat_grad, t, evals = self._line_search(closure, t, d, loss, flat_grad,
                                                              slope)
            current_evals += evals
            state["func_evals"] += evals
            if n_iter == max_iter or current_evals >= max_eval:
                break
            if evals and np.abs(flat_grad).max() <= tol_grad:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        state.update(d=d, t=t, prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def _fixed_step(self, closure: Callable, t, d, loss, flat_grad, evaluate: bool):
        """x ← x + t·d, then (unless it is the last iteration) the loss and gradient there:
        (loss, gradient, closure calls)."""
        self._add_to_params(t, d)
        if not evaluate:
            return loss, flat_grad, 0
        return _number(self._evaluate(closure)), self._flat_grad(), 1

    def _line_search(self, closure: Callable, t, d, loss, flat_grad, slope):
        """x ← x + t·d with t from the strong-Wolfe search started at ``t``: (loss and
        gradient there, t, closure calls)."""
        start = [p._data.copy() for p in self._params]

        def evaluate(step):
            self._add_to_params(step, d)
            found = _number(self._evaluate(closure)), self._flat_grad()
            for p, data in zip(self._params, start):
                p._data[...] = data
                autograd.bump_version(p)
            return found

        loss, flat_grad, t, evals = strong_wolfe(evaluate, t, d, loss, flat_grad, slope)
        self._add_to_params(t, d)
        return loss, flat_grad, t, evals

    @staticmethod
    def _evaluate(closure: Callable):
        with autograd.enable_grad():
            return closure()

    def _direction(self, state: dict, flat_grad: np.ndarray, prev_flat_grad, d, t):
        """d = −H·g: on the first iteration −g (history reset); then the pair (s, y) joins
        the history when yᵀs > 1e-10 and the two-loop recursion gives H·g."""
        if state["n_iter"] == 1:
            state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            return -flat_grad
        old_dirs, old_steps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        y, s = flat_grad - prev_flat_grad, d * t
        ys = y.dot(s)
        if ys > 1e-10:
            if len(old_dirs) == self.param_groups[0]["history_size"]:
                old_dirs.pop(0)
                old_steps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_steps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / y.dot(y)
        alphas = [None] * len(old_dirs)
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            alphas[i] = old_steps[i].dot(q) * ro[i]
            q = q - alphas[i] * old_dirs[i]
        r = q * state["H_diag"]
        for i in range(len(old_dirs)):
            beta = old_dirs[i].dot(r) * ro[i]
            r = r + (alphas[i] - beta) * old_steps[i]
        return r


def _number(loss) -> float:
    """A closure's loss as a float (torch's step runs under no_grad, so its ``float(loss)``
    of a loss that requires grad does not warn)."""
    return loss.item() if hasattr(loss, "item") else float(loss)
