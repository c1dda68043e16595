"""NumPy's array data on 64-byte boundaries: an allocator for NumPy (NEP 49), four small
functions compiled from LLVM IR (llvmlite, numba's own compiler) that call the C library.

glibc's ``malloc`` aligns to 16 bytes, and arrays of one size allocated one after another lie
16 bytes further into a 4 KiB page each (the heap chunk's header): Adam's two moments, made
in a row by ``zeros_like``, start 16 bytes apart modulo 4096. A loop that reads one array
while it writes another whose address differs from it by less than a vector's width modulo
4096 stalls on every pair of accesses (the core checks a load against earlier stores by the
low 12 bits of their addresses: "4K aliasing"). Measured, Intel Xeon (family 6 model 207),
Adam on 4M float32 elements, one thread: 4.5 ms with the four arrays 64-byte aligned (at
one offset or another), 11.9 ms with them 32, 64 and 96 bytes apart modulo 2 MiB, as the
heap had placed them. PyTorch's and XLA's allocators align every buffer to 64 bytes.

With this allocator an array of ``ALIGNED_FROM`` bytes or more, below glibc's mmap threshold
(``MAPPED_FROM``, as ``ffnn._malloc`` sets it), starts on a 64-byte boundary
(``aligned_alloc``; ``memset`` zeroes it for ``calloc``). A smaller one comes from ``malloc``
as before; a larger one is pages mapped for it alone (glibc), 16 bytes into its first page
like every other such array, and ``calloc``'s stay untouched until written. Same-sized arrays,
the ones a loop streams together, so always share one rule. Arrays of ``HUGE_FROM`` bytes
and more are marked for transparent huge pages (``madvise``) where NumPy marks its own
(``NUMPY_MADVISE_HUGEPAGE``): the flag is the allocator's context, NumPy's first argument.

The compiled code, its table and NumPy's capsule are never freed: arrays made with them
may outlive every module at exit. ``ffnn._malloc.align_arrays`` installs it (Linux, with
the compiled kernels on).
"""

from __future__ import annotations

import ctypes

import numpy as np

from ffnn._malloc import MMAP_THRESHOLD

ALIGNMENT = 64
"""Bytes: a cache line, the widest vector (AVX-512), PyTorch's ``c10::alignment``."""
ALIGNED_FROM = 4096
"""Arrays of fewer bytes keep ``malloc`` (its speed for small blocks, NumPy's alignment)."""
MAPPED_FROM = MMAP_THRESHOLD
"""glibc's mmap threshold as ``ffnn._malloc`` fixes it: from here arrays are mapped pages."""
HUGE_FROM = 4 << 20
"""Bytes from which an array is marked for transparent huge pages (NumPy's own rule)."""
MADV_HUGEPAGE = 14
HANDLER_NAME = "ffnn_aligned_64"

LIBC = ("malloc", "calloc", "realloc", "free", "aligned_alloc", "memset", "memcpy", "madvise")
"""The C library's functions the allocator calls (addresses given to the compiler)."""

# Addresses pass as i64 (a pointer's register in the C calling conventions of x86-64 and
# AArch64), so the IR needs no pointer types across LLVM versions.
IR = f"""
declare i64 @malloc(i64)
declare i64 @calloc(i64, i64)
declare i64 @realloc(i64, i64)
declare void @free(i64)
declare i64 @aligned_alloc(i64, i64)
declare i64 @memset(i64, i32, i64)
declare i64 @memcpy(i64, i64, i64)
declare i32 @madvise(i64, i64, i32)

; whether an array of %size bytes is aligned here
define internal i1 @takes(i64 %size) {{
  %large = icmp uge i64 %size, {ALIGNED_FROM}
  %heap = icmp ult i64 %size, {MAPPED_FROM}
  %both = and i1 %large, %heap
  ret i1 %both
}}

; %size bytes on a 64-byte boundary (0: out of memory); from HUGE_FROM bytes, where %huge
; is 1, the whole pages inside marked for huge pages
define internal i64 @aligned(i64 %size, i64 %huge) {{
  %padded = add i64 %size, {ALIGNMENT - 1}
  %rounded = and i64 %padded, {-ALIGNMENT}
  %data = call i64 @aligned_alloc(i64 {ALIGNMENT}, i64 %rounded)
  %got = icmp ne i64 %data, 0
  %asked = icmp ne i64 %huge, 0
  %big = icmp uge i64 %size, {HUGE_FROM}
  %wanted = and i1 %asked, %big
  %mark = and i1 %got, %wanted
  br i1 %mark, label %advise, label %done
advise:
  %up = add i64 %data, 4095
  %start = and i64 %up, -4096
  %end = add i64 %data, %size
  %length = sub i64 %end, %start
  %ignored = call i32 @madvise(i64 %start, i64 %length, i32 {MADV_HUGEPAGE})
  br label %done
done:
  ret i64 %data
}}

define i64 @allocate(i64 %huge, i64 %size) {{
  %aligned = call i1 @takes(i64 %size)
  br i1 %aligned, label %align, label %plain
align:
  %data = call i64 @aligned(i64 %size, i64 %huge)
  ret i64 %data
plain:
  %block = call i64 @malloc(i64 %size)
  ret i64 %block
}}

; NumPy has checked %count * %item for overflow
define i64 @allocate_zeros(i64 %huge, i64 %count, i64 %item) {{
  %size = mul i64 %count, %item
  %aligned = call i1 @takes(i64 %size)
  br i1 %aligned, label %align, label %plain
align:
  %data = call i64 @aligned(i64 %size, i64 %huge)
  %got = icmp ne i64 %data, 0
  br i1 %got, label %clear, label %done
clear:
  %same = call i64 @memset(i64 %data, i32 0, i64 %size)
  br label %done
done:
  ret i64 %data
plain:
  %block = call i64 @calloc(i64 %count, i64 %item)
  ret i64 %block
}}

; realloc, then moved to an aligned block where it landed off a boundary
define i64 @reallocate(i64 %huge, i64 %old, i64 %size) {{
  %moved = call i64 @realloc(i64 %old, i64 %size)
  %offset = and i64 %moved, {ALIGNMENT - 1}
  %off = icmp ne i64 %offset, 0
  %aligned = call i1 @takes(i64 %size)
  %move = and i1 %off, %aligned
  br i1 %move, label %again, label %keep
again:
  %data = call i64 @aligned(i64 %size, i64 %huge)
  %got = icmp ne i64 %data, 0
  br i1 %got, label %copy, label %keep
copy:
  %same = call i64 @memcpy(i64 %data, i64 %moved, i64 %size)
  call void @free(i64 %moved)
  ret i64 %data
keep:
  ret i64 %moved
}}

define void @release(i64 %huge, i64 %data, i64 %size) {{
  call void @free(i64 %data)
  ret void
}}
"""


class _Handler(ctypes.Structure):
    """NumPy's ``PyDataMem_Handler``, version 1 (``numpy/ndarraytypes.h``)."""

    _fields_ = [("name", ctypes.c_char * 127), ("version", ctypes.c_uint8),
                ("context", ctypes.c_void_p), ("malloc", ctypes.c_void_p),
                ("calloc", ctypes.c_void_p), ("realloc", ctypes.c_void_p),
                ("free", ctypes.c_void_p)]


SET_HANDLER = 304
"""``PyDataMem_SetHandler``'s place in NumPy's C-API table (fixed since NumPy 1.22)."""


def _immortal(value):
    """``value`` with a reference never given back: NumPy calls into it until the end."""
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))
    return value


def _compiled() -> dict[str, int]:
    """The addresses of ``allocate``, ``allocate_zeros``, ``reallocate`` and ``release``."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    libc = ctypes.CDLL(None)
    for name in LIBC:
        llvm.add_symbol(name, ctypes.cast(getattr(libc, name), ctypes.c_void_p).value)
    module = llvm.parse_assembly(IR)
    module.verify()
    machine = llvm.Target.from_default_triple().create_target_machine(opt=2)
    engine = _immortal(llvm.create_mcjit_compiler(module, machine))
    _immortal(machine)
    engine.finalize_object()
    return {name: engine.get_function_address(name)
            for name in ("allocate", "allocate_zeros", "reallocate", "release")}


def _numpy_core():
    return getattr(np, "_core", None) or np.core


def install() -> bool:
    """Make this allocator NumPy's in the calling context (``PyDataMem_SetHandler``); True
    when NumPy reports it in use."""
    core = _numpy_core()
    huge = bool(core.multiarray._get_madvise_hugepage())
    found = _compiled()
    handler = _immortal(_Handler(HANDLER_NAME.encode(), 1, int(huge), found["allocate"],
                                 found["allocate_zeros"], found["reallocate"],
                                 found["release"]))
    name = _immortal(ctypes.create_string_buffer(b"mem_handler"))
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    capsule = new_capsule(ctypes.addressof(handler), ctypes.addressof(name), None)
    pointer = ctypes.pythonapi.PyCapsule_GetPointer
    pointer.restype, pointer.argtypes = ctypes.c_void_p, (ctypes.py_object, ctypes.c_char_p)
    table = ctypes.cast(pointer(core._multiarray_umath._ARRAY_API, None),
                        ctypes.POINTER(ctypes.c_void_p))
    set_handler = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object)(table[SET_HANDLER])
    set_handler(capsule)
    return core.multiarray.get_handler_name() == HANDLER_NAME
