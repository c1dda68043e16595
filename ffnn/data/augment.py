"""Seeded batch augmentations: callables ``aug(x, rng) -> x`` on numpy batches [n, d].

All randomness comes from the ``rng`` argument (a ``numpy.random.Generator``; ``DataLoader``
passes one derived from its seeded generator), so the same seed gives the same batch.

Augmentations that also change the targets (``Mixup``) set ``needs_targets = True`` and are
called as ``aug(x, y, rng) -> (x, y)``; ``DataLoader`` and ``Compose`` honour the flag.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_batch(x: np.ndarray, owner: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{owner}: x must be a float array. Received: x with dtype {x.dtype}")
    return x


class GaussianNoise:
    """x' = x + ε, ε ~ N(0, std²) elementwise; dtype kept."""

    needs_targets = False

    def __init__(self, std: float):
        if not np.isfinite(std) or std < 0:
            raise ValueError(f"GaussianNoise: std must be a finite number >= 0. "
                             f"Received: std={std!r}")
        self.std = float(std)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = _check_batch(x, "GaussianNoise")
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        noise = rng.standard_normal(x.shape, dtype=dtype)
        noise *= self.std
        return (x + noise).astype(x.dtype, copy=False)

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std})"


def shift_images(x: np.ndarray, dy: np.ndarray, dx: np.ndarray,
                 image_shape: tuple[int, int]) -> np.ndarray:
    """out[n, i, j] = img[n, i - dy[n], j - dx[n]] (0 outside); rows of x are flattened images.

    x: [n, H·W]; dy, dx: [n] integer offsets (positive = down / right). Vectorised: one
    gather from a zero-padded copy, no loop over samples.
    """
    h, w = image_shape
    n = x.shape[0]
    dy = np.asarray(dy, dtype=np.int64)
    dx = np.asarray(dx, dtype=np.int64)
    pad = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    padded = np.zeros((n, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    padded[:, pad:pad + h, pad:pad + w] = x.reshape(n, h, w)
    rows = np.arange(h)[None, :] + pad - dy[:, None]  # [n, H]
    cols = np.arange(w)[None, :] + pad - dx[:, None]  # [n, W]
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(n, h * w)


class RandomShift:
    """Shift each flattened image by random integer offsets in [-max_shift, max_shift] per
    axis, filling with zeros. x: [n, H·W] with ``image_shape = (H, W)``."""

    needs_targets = False

    def __init__(self, image_shape: tuple[int, int] = (8, 8), max_shift: int = 1):
        if len(tuple(image_shape)) != 2 or min(image_shape) < 1:
            raise ValueError("RandomShift: image_shape must be (height, width) of positive "
                             f"ints. Received: image_shape={image_shape!r}")
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
                or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be an integer >= 0. "
                             f"Received: max_shift={max_shift!r}")
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.max_shift = int(max_shift)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = _check_batch(x, "RandomShift")
        h, w = self.image_shape
        if x.ndim != 2 or x.shape[1] != h * w:
            raise ValueError(f"RandomShift: x must have shape [n, {h * w}] for image_shape="
                             f"{self.image_shape}. Received: x with shape {x.shape}")
        dy, dx = rng.integers(-self.max_shift, self.max_shift + 1, size=(2, x.shape[0]))
        return shift_images(x, dy, dx, self.image_shape)

    def __repr__(self) -> str:
        return f"RandomShift(image_shape={self.image_shape}, max_shift={self.max_shift})"


class Mixup:
    """x' = λ·x + (1-λ)·x[perm], y' = λ·y + (1-λ)·y[perm], λ ~ Beta(alpha, alpha) per batch.

    Called as ``mixup(x, y, rng) -> (x, y)`` (``needs_targets = True``). ``y`` is one-hot or
    soft labels [n, k], or integer class indices [n] with ``num_classes`` given; the returned
    ``y`` is float (x's dtype) [n, k].
    """

    needs_targets = True

    def __init__(self, alpha: float = 0.2, num_classes: int | None = None):
        if not np.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"Mixup: alpha must be a finite number > 0. Received: alpha={alpha!r}")
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"Mixup: num_classes must be a positive integer or None. "
                             f"Received: num_classes={num_classes!r}")
        self.alpha = float(alpha)
        self.num_classes = num_classes

    def _soft_targets(self, y: np.ndarray, dtype) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 2:
            return y.astype(dtype, copy=False)
        if y.ndim == 1 and y.dtype.kind in "iu" and self.num_classes is not None:
            if y.size and (y.min() < 0 or y.max() >= self.num_classes):
                raise ValueError(f"Mixup: class indices must lie in [0, {self.num_classes}). "
                                 f"Received: y with min {y.min()} and max {y.max()}")
            return np.eye(self.num_classes, dtype=dtype)[y]
        raise ValueError("Mixup: y must be one-hot/soft labels [n, k], or integer class indices "
                         "[n] with Mixup(num_classes=k). Received: y with shape "
                         f"{y.shape} and dtype {y.dtype}, num_classes={self.num_classes}")

    def __call__(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator):
        x = _check_batch(x, "Mixup")
        y = self._soft_targets(y, x.dtype)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"Mixup: x and y must have the same number of rows. "
                             f"Received: x with shape {x.shape}, y with shape {y.shape}")
        lam = rng.beta(self.alpha, self.alpha)
        perm = rng.permutation(x.shape[0])
        x_mix = (lam * x + (1.0 - lam) * x[perm]).astype(x.dtype, copy=False)
        y_mix = (lam * y + (1.0 - lam) * y[perm]).astype(x.dtype, copy=False)
        return x_mix, y_mix

    def __repr__(self) -> str:
        return f"Mixup(alpha={self.alpha}, num_classes={self.num_classes})"


class Compose:
    """Apply augmentations in order; needs targets if any member does."""

    def __init__(self, transforms: Sequence):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable. Received: {t!r}")

    @property
    def needs_targets(self) -> bool:
        return any(getattr(t, "needs_targets", False) for t in self.transforms)

    def __call__(self, x: np.ndarray, *args):
        """``compose(x, rng) -> x``, or ``compose(x, y, rng) -> (x, y)`` if needs_targets."""
        if len(args) == 1:
            y, rng = None, args[0]
        elif len(args) == 2:
            y, rng = args
        else:
            raise TypeError("Compose expects (x, rng) or (x, y, rng). "
                            f"Received: {1 + len(args)} arguments")
        for t in self.transforms:
            if getattr(t, "needs_targets", False):
                if y is None:
                    raise ValueError(f"Compose: {t!r} needs targets; call compose(x, y, rng).")
                x, y = t(x, y, rng)
            else:
                x = t(x, rng)
        return x if len(args) == 1 else (x, y)

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"
