"""C entry points compile on first use (``ffnn.kernels.first_use``): importing a kernel
module compiles none, a dtype's row of entry points compiles that dtype's, and a norm's only
where the network has a norm; the fused step and the native chain compile a norm's code only
for a network with a norm (their ``norms`` argument)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ffnn import accel
from ffnn.kernels import first_use

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")


def _run(program: str) -> str:
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_compiles_no_entry_point_and_a_dtype_compiles_its_own():
    _run(
        "import numpy as np\n"
        "from ffnn import _kernels\n"
        "from ffnn.kernels import bias_rows, mkl_products, native, norm_parts, outer_rows, "
        "row_parts\n"
        "modules = [bias_rows, mkl_products, norm_parts, outer_rows, row_parts]\n"
        "assert not any({'part_f32', 'part_f64'} & set(vars(m)) for m in modules)\n"
        "assert not {'layer_norm_part_f32', 'keep_mask_part'} & set(vars(_kernels))\n"
        "row = native.blas_functions(np.float32)\n"
        "if row[native.ROWS_PART]:\n"
        "    assert row[native.ROWS_PART] == row_parts.part_f32.address\n"
        "    assert 'part_f64' not in vars(row_parts)\n"
        "    assert row[native.NORM_PART] == 0 and 'part_f32' not in vars(norm_parts)\n"
        "    normed = native.blas_functions(np.float32, norms=True)\n"
        "    assert normed[native.NORM_PART] == norm_parts.part_f32.address\n"
        "    assert normed[native.LAYER_NORM_PART] == _kernels.layer_norm_part_f32.address\n"
        "    assert (normed[:native.NORM_PART] == row[:native.NORM_PART]).all()\n"
        "    assert (normed[native.BIAS_ROWS_PART:] == row[native.BIAS_ROWS_PART:]).all()\n"
        "    assert 'part_f64' not in vars(norm_parts)\n")


def test_a_name_that_is_no_entry_point_is_an_attribute_error():
    from ffnn.kernels import norm_parts

    with pytest.raises(AttributeError, match="has no attribute 'part_f16'"):
        getattr(norm_parts, "part_f16")  # noqa: B009 - the module's __getattr__ is the subject
    assert first_use.entry_point(norm_parts, "part", np.float64) == norm_parts.part_f64.address



def test_a_network_with_a_norm_gets_the_norm_entry_points():
    """The fused step and the native chain of a network with a layer norm run its passes by
    parts of rows as the eager op does: their rows of entry points have the norm's."""
    import ffnn
    from ffnn import nn, optim
    from ffnn.compiler import native_chain
    from ffnn.kernels import native, norm_parts

    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3))
    loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1)
    x, y = ffnn.randn(16, 6), ffnn.tensor(np.arange(16) % 3)
    loss_fn(model(x), y).backward()
    step = ffnn.compile(model, loss_fn, opt, mode="fused")
    step(x, y)
    expected = norm_parts.part_f32.address if native.blas_functions(np.float32)[
        native.ROWS_PART] else 0
    assert step.fused is not None and step.fused.blas[native.NORM_PART] == expected
    if accel.enabled:  # the eager step's native chain (FFNN_ACCEL=0: the graph's ops)
        chains = [c for c in native_chain._chains.values()
                  if isinstance(c, native_chain.NativeChain)
                  and any(b.norm is not None for b in c.blocks)]
        assert chains and all(c.blas[native.NORM_PART] == expected for c in chains)


def _globals_after_pruning(function, norms_type) -> set[str]:
    """The globals ``function``'s IR still names once numba has pruned its branches for
    arguments of these types (the last one ``norms``), as its compiler does before typing."""
    from numba.core import analysis, compiler, ir, types

    func_ir = compiler.run_frontend(function.py_func)
    analysis.dead_branch_prune(func_ir, [types.int64] * (func_ir.arg_count - 1) + [norms_type])
    return {statement.value.name for block in func_ir.blocks.values()
            for statement in block.body if isinstance(statement, ir.Assign)
            and isinstance(statement.value, (ir.Global, ir.FreeVar))}


def test_the_norms_code_is_pruned_where_norms_is_none():
    from numba.core import types

    from ffnn.compiler import _fused_kernel

    for function, norm_pass in [(_fused_kernel._forward, "_normalize"),
                                (_fused_kernel._backward, "_denormalize")]:
        assert norm_pass in _globals_after_pruning(function, types.boolean)
        assert norm_pass not in _globals_after_pruning(function, types.none)


@pytest.mark.parametrize("norm, expected", [(None, None), ("layer_norm", True)])
def test_only_a_network_with_a_norm_has_the_norms_code_compiled(norm, expected):
    """The fused step's kernel and the native chain's get ``norms`` None for a network with
    dropout but no norm (no norm's code compiled), True for one with a layer norm."""
    import ffnn
    from ffnn import nn, optim
    from ffnn.compiler import native_chain

    ffnn.manual_seed(0)
    layers = [nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)]
    if norm:
        layers.insert(1, nn.LayerNorm(8))
    model = nn.Sequential(*layers)
    loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1)
    x, y = ffnn.randn(16, 6), ffnn.tensor(np.arange(16) % 3)
    step = ffnn.compile(model, loss_fn, opt, mode="fused")
    assert step.fused is not None
    seen, kernel = [], step.fused.kernel
    step.fused.kernel = lambda *arguments: seen.append(arguments[-1]) or kernel(*arguments)
    step(x, y)
    assert seen == [expected]
    if accel.enabled:  # the eager step's native chain (FFNN_ACCEL=0: the graph's ops)
        native_chain._chains.clear()
        loss_fn(model(x), y).backward()
        chains = [c for c in native_chain._chains.values()
                  if isinstance(c, native_chain.NativeChain)]
        assert chains and all(c._norms is expected for c in chains)
