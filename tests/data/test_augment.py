"""Augmentations: seeded, and they do what they say."""

import numpy as np
import pytest

from ffnn.data import Compose, GaussianNoise, Mixup, RandomShift, shift_images


def _rng(seed=0):
    return np.random.default_rng(seed)


def _reference_shift(img, dy, dx):
    """Loop reference: out[i, j] = img[i - dy, j - dx], zero outside."""
    h, w = img.shape
    out = np.zeros_like(img)
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[i, j] = img[i - dy, j - dx]
    return out


def test_shift_images_matches_loop_reference():
    rng = _rng(1)
    x = rng.random((9, 20)).astype(np.float32)
    dy = np.array([-2, -1, 0, 1, 2, 0, 1, -1, 2])
    dx = np.array([0, 1, -2, 2, -1, 0, 1, -1, 2])
    out = shift_images(x, dy, dx, (4, 5))
    assert out.dtype == np.float32 and out.shape == (9, 20)
    for n in range(9):
        expected = _reference_shift(x[n].reshape(4, 5), dy[n], dx[n])
        assert np.array_equal(out[n].reshape(4, 5), expected)


def test_random_shift_moves_a_pixel_by_at_most_one():
    x = np.zeros((400, 64), dtype=np.float32)
    x[:, 3 * 8 + 4] = 1.0  # a single lit pixel at (3, 4)
    out = RandomShift((8, 8), max_shift=1)(x, _rng(2))
    assert np.all(out.sum(axis=1) == 1.0)  # interior pixel: never pushed out
    rows, cols = np.divmod(out.argmax(axis=1), 8)
    offsets = set(zip(rows - 3, cols - 4))
    assert offsets == {(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)}  # all 9 shifts occur


def test_random_shift_seeded():
    x = _rng(3).random((10, 64))
    a = RandomShift()(x, _rng(7))
    assert np.array_equal(a, RandomShift()(x, _rng(7)))
    assert not np.array_equal(a, RandomShift()(x, _rng(8)))


def test_random_shift_shape_error():
    with pytest.raises(ValueError, match=r"x must have shape \[n, 64\] for image_shape=\(8, 8\)"
                                         r". Received: x with shape \(2, 10\)"):
        RandomShift()(np.zeros((2, 10)), _rng())
    with pytest.raises(ValueError, match=r"Received: max_shift=-1"):
        RandomShift(max_shift=-1)


def test_gaussian_noise_std_and_seed():
    x = np.full((400, 500), 2.0, dtype=np.float32)
    out = GaussianNoise(0.3)(x, _rng(4))
    assert out.dtype == np.float32
    noise = out - x
    assert abs(noise.std() - 0.3) < 0.003  # 200k samples: std error ~ 0.3/sqrt(4e5)
    assert abs(noise.mean()) < 0.003
    assert np.array_equal(out, GaussianNoise(0.3)(x, _rng(4)))
    with pytest.raises(ValueError, match=r"Received: std=-1"):
        GaussianNoise(-1)


def test_mixup_is_a_convex_combination_of_pairs():
    n = 16
    x = np.eye(n, dtype=np.float64) * 5.0  # row i identifies sample i
    y = np.arange(n)
    x_mix, y_mix = Mixup(alpha=0.4, num_classes=n)(x, y, _rng(5))
    assert y_mix.shape == (n, n) and np.allclose(y_mix.sum(axis=1), 1.0)
    assert np.allclose(x_mix, 5.0 * y_mix)  # the same weights mix inputs and targets
    lam = y_mix[np.arange(n), np.arange(n)]
    partner = np.where(y_mix > 0, 1, 0).sum(axis=1)
    assert np.all((partner == 2) | np.isclose(lam, 1.0))  # at most two sources per row
    lam_values = np.unique(np.round(np.maximum(lam, 1 - lam)[lam < 1], 12))
    assert lam_values.size <= 1  # one lambda per batch
    again = Mixup(alpha=0.4, num_classes=n)(x, y, _rng(5))
    assert np.array_equal(again[0], x_mix) and np.array_equal(again[1], y_mix)


def test_mixup_errors():
    with pytest.raises(ValueError, match=r"Mixup\(num_classes=k\). Received: y with shape "
                                         r"\(3,\) and dtype int64, num_classes=None"):
        Mixup(0.2)(np.zeros((3, 2)), np.arange(3), _rng())
    with pytest.raises(ValueError, match=r"Received: alpha=0"):
        Mixup(0)


def test_compose_applies_in_order_and_routes_targets():
    class AddOne:
        def __call__(self, x, rng):
            return x + 1

    class Double:
        def __call__(self, x, rng):
            return x * 2

    assert np.array_equal(Compose([AddOne(), Double()])(np.zeros(2), _rng()), [2.0, 2.0])
    aug = Compose([AddOne(), Mixup(1.0, num_classes=2)])
    assert aug.needs_targets and not Compose([AddOne()]).needs_targets
    x, y = aug(np.zeros((4, 3)), np.array([0, 1, 0, 1]), _rng())
    assert np.allclose(x, 1.0) and y.shape == (4, 2)
    with pytest.raises(ValueError, match=r"needs targets; call compose\(x, y, rng\)"):
        aug(np.zeros((4, 3)), _rng())
