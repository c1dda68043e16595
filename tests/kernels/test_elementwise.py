"""``ffnn.kernels.ElementwiseKernel``: the generated loop computes its description's body on
every element, flags select the branches, arguments go by name."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn import accel
from ffnn.kernels import ElementwiseKernel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

AXPY = ElementwiseKernel(
    "test_axpy", reads=("x", "y", "z"), writes=("y", "z"), optional=("z",), flags=("negate",),
    scalars=("a",), body="""
    t = a * x + y
    if negate:
        t = -t
    y = t
    if has_z:
        z = z + t * t
    """)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("negate", [False, True])
@pytest.mark.parametrize("with_z", [False, True])
def test_the_loop_computes_the_body_on_every_element(dtype, negate, with_z):
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal((7, 9)).astype(dtype) for _ in range(3))
    expected_y = (-1 if negate else 1) * (x.astype(np.float64) * 1.5 + y)
    expected_z = z + expected_y * expected_y
    z_before = z.copy()
    AXPY(x=x, y=y, z=z if with_z else None, a=1.5, negate=negate)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected_y, rtol=1e-6 if dtype == np.float32 else 1e-15)
    if with_z:
        np.testing.assert_allclose(z, expected_z, rtol=1e-6 if dtype == np.float32 else 1e-14)
    else:
        np.testing.assert_array_equal(z, z_before)


def test_flags_become_constants_and_drop_the_other_branch():
    source = AXPY.source({"negate": False, "has_z": False}, float32=False)
    assert "t = -t" not in source and "z_array" not in source.split("for i in")[1]
    source = AXPY.source({"negate": True, "has_z": True}, float32=False)
    assert "t = -t" in source and "z_array[i] = z" in source


def test_arguments_go_by_name_and_a_wrong_name_is_named():
    x = np.ones(4)
    with pytest.raises(TypeError, match=r"missing arguments \['a'\], unexpected \['b'\]"):
        AXPY(x=x, y=x.copy(), z=None, b=1.0, negate=False)


def test_a_body_that_does_not_parse_is_refused_at_construction():
    with pytest.raises(ValueError, match="kernel 'broken': the body does not parse"):
        ElementwiseKernel("broken", reads=("x",), writes=("x",), body="x = = 1")


PLAIN = ElementwiseKernel("test_scale_add", reads=("x", "y"), writes=("y",), scalars=("a",),
                          body="y = a * x + y")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_positional_loop_is_the_kernel_called_by_name(dtype):
    """``loop(dtype)`` (what ``Pointwise`` calls) runs the very loop the by-name call runs."""
    rng = np.random.default_rng(1)
    x, y = (rng.standard_normal(33).astype(dtype) for _ in range(2))
    by_name, positional = y.copy(), y.copy()
    PLAIN(x=x, y=by_name, a=0.25)
    PLAIN.loop(np.dtype(dtype))(x.size, x, positional, 0.25)
    np.testing.assert_array_equal(positional, by_name)
    np.testing.assert_allclose(by_name, 0.25 * x.astype(np.float64) + y,
                               rtol=1e-6 if dtype == np.float32 else 1e-15)


def test_a_kernel_with_flags_has_no_positional_loop():
    with pytest.raises(TypeError, match="call it by name"):
        AXPY.loop(np.dtype(np.float64))
