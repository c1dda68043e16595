"""``ElementwiseKernel``: a loop over arrays, generated from statements on one element.

A description names the arrays a kernel reads and writes, its scalar coefficients and its
flags, and gives the body: Python statements in which an array's name stands for its
element. From it we write the source of a numba function

    for i in range(n):
        param = param_array[i] ...      (each array read)
        <body>
        param_array[i] = param ...      (each array written)

with every flag replaced by its constant (so ``if nesterov:`` costs nothing in the loop),
compile it once per flag combination and dtype, and call it with arguments by name.
Loops are compiled with fused multiply-adds allowed (``CONTRACT``), nothing else of fast-math,
on 512-bit vectors where the CPU has them (``ffnn.kernels.vector_width``).
The body computes in the arrays' dtype, as the NumPy reference does: scalars are converted
to it before the loop and number literals are wrapped in it (``0.5`` becomes ``W(0.5)``).
The helpers ``exp_small``, ``tanh``, ``expm1`` and ``log1p`` are the vectorising functions
of ``ffnn.ops.special_float32`` and ``ffnn.ops.special_float64`` (16 and 8 SIMD lanes with
AVX-512, 8 and 4 with AVX2);
``normal_cdf`` (Φ) and ``normal_cdf_density`` (Φ and e^{-x²/2}) likewise.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
import types
from collections.abc import Mapping
from operator import is_not, itemgetter
from pathlib import Path

import numpy as np

from ffnn.ops import special_float32, special_float64

_HELPERS = {
    # name in a body: (for float32 arrays, for float64 arrays) as the generated source says it
    "exp_small": ('scalar_helper("exp_small_f32")', 'scalar_helper("exp_small_f64")'),
    "tanh": ('scalar_helper("tanh_fast_f32")', 'scalar_helper("tanh_fast_f64")'),
    "expm1": ('scalar_helper("expm1_small_f32")', 'scalar_helper("expm1_small_f64")'),
    "log1p": ('scalar_helper("log1p_small_f32")', 'scalar_helper("log1p_small_f64")'),
    "normal_cdf": ('scalar_helper("normal_cdf_f32")', 'scalar_helper("normal_cdf_f64")'),
    "normal_cdf_density": ('scalar_helper("normal_cdf_density_f32")',
                           'scalar_helper("normal_cdf_density_f64")'),
}
TRANSCENDENTALS = tuple(_HELPERS)
"""The helpers' names in a body: a loop that calls one costs ~1 ns an element (float32)."""
_SCALAR_FUNCTIONS = {f.__name__: f for f in (
    special_float64.normal_cdf_density_f64, special_float64.normal_cdf_f64,
    special_float64.exp_split_f64, special_float32.normal_cdf_density_f32,
    special_float32.exp_small_f32, special_float32.exp_split_f32, special_float32.tanh_fast_f32,
    special_float32.expm1_small_f32, special_float32.log1p_small_f32,
    special_float32.normal_cdf_f32, special_float64.exp_small_f64,
    special_float64.tanh_fast_f64, special_float64.expm1_small_f64,
    special_float64.log1p_small_f64, special_float64.log_f64,
    special_float64.atanh_series_f64)}
_jitted_helpers: dict = {}
CONTRACT = {"contract"}
"""numba's fast-math flag for the generated loops and helpers: ``a*b + c`` may be one fused
multiply-add (one rounding instead of two, half the instructions of a polynomial); no other
reassociation, so results stay within an ulp of the NumPy reference's."""


def scalar_helper(name: str):
    """The compiled form of the scalar function ``<name>`` of ``ffnn.ops.special_float32`` or
    ``special_float64``, its calls to the other scalar functions bound to their compiled forms."""
    if name not in _jitted_helpers:
        import numba

        import ffnn.kernels.bitcast  # noqa: F401 - registers the helpers' bit casts

        function = _SCALAR_FUNCTIONS[name]
        names = set(function.__code__.co_names) & set(_SCALAR_FUNCTIONS)
        bound = {**function.__globals__, **{n: scalar_helper(n) for n in names}}
        copy = types.FunctionType(function.__code__, bound, name)
        _jitted_helpers[name] = numba.njit(error_model="numpy", inline="always",
                                           fastmath=CONTRACT)(copy)
    return _jitted_helpers[name]


def _reader(names: tuple[str, ...]):
    """``read(mapping) -> tuple`` of the values of ``names``, in order (a KeyError for one
    that is missing), as one C-level call."""
    if not names:
        return lambda mapping: ()
    if len(names) == 1:
        name = names[0]
        return lambda mapping: (mapping[name],)
    return itemgetter(*names)


class ElementwiseKernel:
    """One element-wise loop, described once.

    ``reads``: arrays whose elements the body uses; ``writes``: arrays it assigns (an array
    in both is updated in place); ``optional``: arrays that may be None (then the flag
    ``has_<name>`` is False and the body must not touch them); ``scalars``: numbers;
    ``flags``: booleans fixed per compiled variant; ``body``: the statements;
    ``flush_subnormals``: the loop runs with subnormal inputs and results taken as zero
    (``ffnn.kernels.denormals``; an optimizer's update).
    Raises ValueError at construction when the body does not parse.
    """

    def __init__(self, name: str, *, reads: tuple[str, ...], writes: tuple[str, ...],
                 body: str, scalars: tuple[str, ...] = (), flags: tuple[str, ...] = (),
                 optional: tuple[str, ...] = (), flush_subnormals: bool = False):
        self.name = name
        self.flush_subnormals = flush_subnormals
        self.reads, self.writes = tuple(reads), tuple(writes)
        self.arrays = tuple(dict.fromkeys(self.reads + self.writes))
        self.scalars = tuple(scalars)
        self.optional = tuple(optional)
        self.flags = tuple(flags) + tuple(f"has_{a}" for a in self.optional)
        self.body = inspect.cleandoc(body)
        try:
            ast.parse(self.body)
        except SyntaxError as error:
            raise ValueError(f"kernel {name!r}: the body does not parse: {error}") from None
        self._given_flags = tuple(flags)
        self._expected = frozenset(self.arrays + self.scalars + self._given_flags)
        self._read_arrays, self._read_scalars, self._read_flags, self._read_optional = (
            _reader(names) for names in (self.arrays, self.scalars, self._given_flags,
                                         self.optional))
        self._nones = (None,) * len(self.optional)
        self._compiled: dict[tuple, object] = {}
        self._plain = not self.flags
        self._by_dtype: dict[str, object] = {}

    def __call__(self, **arguments) -> None:
        """Run the loop on ``arguments`` (every array, scalar and flag by name; arrays
        C-contiguous, of one float dtype and one size, or None where optional).
        Raises TypeError naming missing or unexpected arguments."""
        if len(arguments) != len(self._expected):
            self._reject(arguments)
        try:  # read once, by C-level getters: an optimizer calls this per parameter and step
            arrays = self._read_arrays(arguments)
            scalars = map(float, self._read_scalars(arguments))
            flags = tuple(map(bool, self._read_flags(arguments)))
        except KeyError:
            self._reject(arguments)
        first = arrays[0]
        if self._plain:  # no flags, no optional arrays: one compiled loop per dtype
            loop = self._by_dtype.get(first.dtype.char) or self.loop(first.dtype)
        else:
            present = tuple(map(is_not, self._read_optional(arguments), self._nones))
            key = (*flags, *present, first.dtype.char == "f")
            loop = self._compiled.get(key) or self.compiled(key[:-1], key[-1])
            if False in present:
                dummy = first.reshape(-1)[:1]
                arrays = [dummy if a is None else a for a in arrays]
        loop(first.size, *[a if a.ndim == 1 else a.reshape(-1) for a in arrays], *scalars)

    def _reject(self, arguments) -> None:
        missing = sorted(self._expected - arguments.keys())
        extra = sorted(arguments.keys() - self._expected)
        raise TypeError(f"kernel {self.name!r}: missing arguments {missing}, "
                        f"unexpected {extra}")

    def loop(self, dtype: np.dtype):
        """The compiled loop of a kernel without flags or optional arrays, for arrays of
        ``dtype`` (float32 or float64): ``loop(n, *flat arrays in `arrays` order, *scalars
        as floats)``. For callers that run one kernel many times on arrays they allocate
        themselves (``ffnn.ops.pointwise``), without the checks by name."""
        loop = self._by_dtype.get(dtype.char)
        if loop is None:
            if not self._plain:
                raise TypeError(f"kernel {self.name!r} has flags or optional arrays; "
                                "call it by name")
            loop = self._by_dtype[dtype.char] = self.compiled((), dtype.char == "f")
        return loop

    def entry(self, dtype: np.dtype, array_dtypes: Mapping[str, type] | None = None,
              flags: Mapping[str, bool] | None = None) -> int:
        """The address of a C function running the loop, for compiled callers that choose
        the kernel at run time (``ffnn.compiler.fused``): ``void f(int64 n, int64 a0, ...,
        int64 a5, int64 scalars)``, where ``aᵢ`` are the addresses of the arrays in
        ``arrays`` order (each of ``dtype``, or of its type in ``array_dtypes``; an absent
        optional array's is not read), ``scalars`` the address of the scalars as float64, in
        order. ``flags``: every flag and ``has_<optional>`` by name. Called through
        ``ffnn.kernels.native.call_entry``. Raises TypeError for missing or unknown flags."""
        dtype = np.dtype(dtype)
        flags = dict(flags or {})
        if flags.keys() != set(self.flags):
            raise TypeError(f"kernel {self.name!r}: an entry point needs the flags "
                            f"{sorted(self.flags)}. Received: {sorted(flags)}")
        kinds = tuple(np.dtype((array_dtypes or {}).get(a, dtype)).name for a in self.arrays)
        key = ("entry", dtype.char, kinds, *(bool(flags[f]) for f in self.flags))
        found = self._compiled.get(key)
        if found is None:
            if len(self.arrays) > ENTRY_ARRAYS:
                raise TypeError(f"kernel {self.name!r}: an entry point takes at most "
                                f"{ENTRY_ARRAYS} arrays")
            arguments = [f"carray(address_as_pointer(a{i}, numpy.{kind}), n)"
                         for i, kind in enumerate(kinds)]
            arguments += [f"values[{i}]" for i in range(len(self.scalars))]
            source = self.source(flags, dtype.char == "f") + _ENTRY_TEMPLATE.format(
                size=max(len(self.scalars), 1), arguments=", ".join(arguments))
            found = self._compiled[key] = _load(f"{self.name}_entry", source, "entry").address
        return found

    def compiled(self, flag_values: tuple[bool, ...], float32: bool):
        """The jitted loop for these flag values (in ``self.flags`` order), for float32
        arrays or (``float32=False``) float64 ones."""
        key = (*flag_values, float32)
        loop = self._compiled.get(key)
        if loop is None:
            loop = _load(self.name, self.source(dict(zip(self.flags, flag_values)), float32))
            self._compiled[key] = loop
        return loop

    def source(self, flags: Mapping[str, bool], float32: bool) -> str:
        """The generated module's text for these flag values and dtype."""
        tree = _Specialise(flags).visit(ast.parse(self.body))
        tree = _TypeLiterals().visit(tree)
        body = ast.unparse(ast.fix_missing_locations(tree)) or "pass"
        loads = [f"{a} = {a}_array[i]" for a in self.reads if flags.get(f"has_{a}", 1)]
        stores = [f"{a}_array[i] = {a}" for a in self.writes if flags.get(f"has_{a}", 1)]
        inner = "\n".join("        " + line for line in (*loads, *body.splitlines(), *stores))
        helpers = "\n".join(f"{name} = {pair[0] if float32 else pair[1]}"
                            for name, pair in _HELPERS.items())
        params = ", ".join(["n", *(f"{a}_array" for a in self.arrays), *self.scalars])
        typed = "".join(f"    {s} = W({s})\n" for s in self.scalars)
        begin, end = _FLUSH if self.flush_subnormals else ("", "")
        # the helpers' modules whole (their constants too): the compiled loops inline them
        scalar_sources = "".join(inspect.getsource(m) for m in (special_float32,
                                                                special_float64)) \
            + "".join(Path(__file__).with_name(f).read_text()
                      for f in ("bitcast.py", "denormals.py", "vector_width.py"))
        digest = hashlib.sha256(scalar_sources.encode()).hexdigest()[:16]
        return _TEMPLATE.format(name=self.name, flags=dict(flags), digest=digest,
                                helpers=helpers, params=params, inner=inner, typed=typed,
                                begin=begin, end=end,
                                working="float32" if float32 else "float64",
                                fastmath=CONTRACT)


_TEMPLATE = '''\
"""Generated by ffnn.kernels from the description {name!r}, flags {flags}
(scalar helpers {digest})."""
import math

import numba
from numpy import float32, float64  # noqa: F401

from ffnn.kernels.denormals import flush_begin, flush_end  # noqa: F401
from ffnn.kernels.elementwise import scalar_helper
from ffnn.kernels.vector_width import wide_vectors

_jit = numba.njit(error_model="numpy", cache=True, fastmath={fastmath!r})
W = {working}
{helpers}


@_jit
def loop({params}):  # pragma: no cover - compiled
    wide_vectors()
{typed}{begin}    for i in range(n):
{inner}
{end}'''

_FLUSH = ("    saved = flush_begin()\n", "    flush_end(saved)\n")
"""The lines around the loop of a kernel that flushes subnormals to zero."""


ENTRY_ARRAYS = 6
"""Array addresses an entry point takes (unused ones are ignored)."""

_ENTRY_TEMPLATE = '''

import numpy  # noqa: E402
from numba import carray, cfunc  # noqa: E402
from numba import types as _types  # noqa: E402

from ffnn.kernels.native import address_as_pointer  # noqa: E402


@cfunc(_types.void(*[_types.int64] * 8), cache=True)
def entry(n, a0, a1, a2, a3, a4, a5, scalars):  # pragma: no cover - compiled
    values = carray(address_as_pointer(scalars, float64), {size})
    loop(n, {arguments})
'''


class _Specialise(ast.NodeTransformer):
    """Replace flags by constants and drop the branches they rule out."""

    def __init__(self, flags: Mapping[str, bool]):
        self.flags = flags

    def visit_Name(self, node: ast.Name):
        if node.id in self.flags:
            return ast.copy_location(ast.Constant(bool(self.flags[node.id])), node)
        return node

    def _decided(self, test: ast.expr):
        test = self.visit(test)
        if any(isinstance(n, ast.Name) for n in ast.walk(test)):
            return test, None
        return test, bool(eval(compile(ast.Expression(test), "<flag>", "eval")))

    def visit_If(self, node: ast.If):
        node.test, decided = self._decided(node.test)
        if decided is None:
            self.generic_visit(node)
            return node
        kept = []
        for statement in node.body if decided else node.orelse:
            result = self.visit(statement)
            kept.extend(result if isinstance(result, list) else [result])
        return kept or [ast.Pass()]

    def visit_IfExp(self, node: ast.IfExp):
        node.test, decided = self._decided(node.test)
        if decided is None:
            self.generic_visit(node)
            return node
        return self.visit(node.body if decided else node.orelse)


class _TypeLiterals(ast.NodeTransformer):
    """Wrap number literals in the working dtype ``W`` (so float32 stays float32)."""

    def visit_Constant(self, node: ast.Constant):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            call = ast.Call(ast.Name("W", ast.Load()), [node], [])
            return ast.copy_location(call, node)
        return node


def _cache_dir() -> Path:
    """Where generated modules are written: ``$FFNN_KERNEL_CACHE``, else the user's cache."""
    configured = os.environ.get("FFNN_KERNEL_CACHE")
    base = Path(configured) if configured else Path.home() / ".cache" / "ffnn" / "kernels"
    try:
        base.mkdir(parents=True, exist_ok=True)
        probe = base / ".probe"
        probe.touch()
        return base
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"ffnn-kernels-{os.getuid()}"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def _load(name: str, source: str, attribute: str = "loop"):
    """Write ``source`` to a file named by its hash (atomically) and import its ``loop`` (or
    ``attribute``); a file keeps numba's on-disk cache valid between runs."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    path = _cache_dir() / f"{name}_{digest}.py"
    if not path.exists():
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w") as file:
            file.write(source)
        os.replace(temporary, path)
    module_name = f"ffnn_kernel_{name}_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # numba's disk cache imports it by name
        spec.loader.exec_module(module)
    return getattr(module, attribute)
