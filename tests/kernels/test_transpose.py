"""``ffnn.kernels.transpose.into``: every element of dst is src's transposed, whatever the
shape's remainder against the tile."""

import numpy as np
import pytest

from ffnn.kernels import transpose


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (17, 33), (1024, 32), (16, 16)])
def test_into_writes_the_transpose(shape, dtype, rng):
    src = rng.standard_normal(shape).astype(dtype)
    dst = np.full(shape[::-1], np.nan, dtype)
    transpose.into(src, dst)
    np.testing.assert_array_equal(dst, src.T)
