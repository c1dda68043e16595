"""NumPy's array data on 64-byte boundaries: an allocator for NumPy (NEP 49): its malloc,
calloc, realloc and free compiled from LLVM IR (llvmlite, numba's own compiler) around the C
library's.

glibc's ``malloc`` aligns to 16 bytes, and arrays of one size allocated one after another lie
16 bytes further into a 4 KiB page each (the heap chunk's header): Adam's two moments, made
in a row by ``zeros_like``, start 16 bytes apart modulo 4096. A loop that reads one array
while it writes another whose address differs from it by less than a vector's width modulo
4096 stalls (the core checks a load against earlier stores by the low 12 bits of their
addresses: "4K aliasing"). Measured, Intel Xeon (family 6 model 207), Adam on 4M float32
elements, one thread: 4.5 ms with the four arrays 64-byte aligned (at one offset or
another), 11.9 ms with them 32, 64 and 96 bytes apart modulo 2 MiB, as the heap had placed
them. PyTorch's and XLA's allocators align every buffer to 64 bytes.

Here every array's data starts on a 64-byte boundary: ``malloc`` (``calloc`` for zeros, which
leaves large mapped pages untouched until written) of ``SLACK`` bytes more than asked, the
block's size at its start, the data at the first boundary at least 16 bytes in, and the
block's own address in the 8 bytes before it, for ``free`` and ``realloc`` (which moves the
data to the new block's boundary). So a freed block is reused by the next array of its size
exactly, as with ``malloc`` alone (``aligned_alloc`` asks glibc for more than it returns: the
``ffn`` case's peak resident memory rose 173 -> 185 MiB with it, and stays 173 this way).
Arrays of ``HUGE_FROM`` bytes and more are marked for transparent huge pages (``madvise``)
where NumPy marks its own (``NUMPY_MADVISE_HUGEPAGE``): the flag is the allocator's context,
NumPy's first argument.

Blocks of ``KEEP_FROM`` bytes and more are ones glibc maps on their own and unmaps when
freed, so a step that makes such arrays afresh had each page faulted in and zeroed by the
kernel again (64-1024-1 leaky ReLU, batch 8192: 68 huge-page faults a step, ~30% of its
time). A freed one is kept instead, once ``malloc`` has been asked for its size ``STEADY``
times (a loop's arrays; a model's construction makes one-off temporaries of such sizes, and
those are given back), up to ``KEPT_BLOCKS`` blocks and ``KEPT_BYTES`` in all, and handed to
the next ``malloc`` of its exact size. Each slot is emptied atomically before its block is
read, so threads allocating at once never share or lose a block. ``calloc`` never takes one
(fresh mapped pages are zero already).

The compiled code, its table and NumPy's capsule are never freed: arrays made with them
may outlive every module at exit. ``ffnn._malloc.align_arrays`` installs it (Linux with
glibc, the compiled kernels on).
"""

from __future__ import annotations

import ctypes

import numpy as np

ALIGNMENT = 64
"""Bytes: a cache line, the widest vector (AVX-512), PyTorch's ``c10::alignment``."""
HEADER = 16
"""Bytes at least between a block's start and its data: the block's size, then its address."""
SLACK = ALIGNMENT + HEADER
"""Bytes asked for beyond an array's: room to reach a boundary after the header."""
HUGE_FROM = 4 << 20
"""Bytes from which an array is marked for transparent huge pages (NumPy's own rule)."""
MADV_HUGEPAGE = 14
HANDLER_NAME = "ffnn_aligned_64"
KEEP_FROM = 32 << 20
"""Block bytes from which a freed block is kept for the next array of its size: glibc maps
such blocks on their own (``ffnn._malloc.MMAP_THRESHOLD``) and unmaps them when freed."""
KEPT_BLOCKS = 16
"""Freed large blocks kept at most (slots scanned at each large allocation)."""
KEPT_BYTES = 512 << 20
"""Bytes of freed large blocks kept at most."""
STEADY = 3
"""Mallocs of a block's size after which a freed block of that size is kept: sizes a loop
asks for again and again, not the one-off temporaries of a model's construction."""
ASKED_BITS = 6
ASKED_SLOTS = 1 << ASKED_BITS
"""Slots of the table counting mallocs by block size (indexed by a hash of the size)."""

LIBC = ("malloc", "calloc", "realloc", "free", "memmove", "madvise")
"""The C library's functions the allocator calls (addresses given to the compiler)."""

# Addresses pass as i64 (a pointer's register in the C calling conventions of x86-64 and
# AArch64); {ptr} is the one pointer type, {slots} and {asked} the types of those tables'
# addresses, typed ("i64*", "[16 x i64]*") or opaque ("ptr") as the installed llvmlite's
# LLVM parses them.
IR = f"""
declare i64 @malloc(i64)
declare i64 @calloc(i64, i64)
declare i64 @realloc(i64, i64)
declare void @free(i64)
declare i64 @memmove(i64, i64, i64)
declare i32 @madvise(i64, i64, i32)

; freed large blocks (0: an empty slot) and their bytes in all
@slots = internal global [{KEPT_BLOCKS} x i64] zeroinitializer
@kept = internal global i64 0

; how often malloc was asked for each large block size, by a hash of the size: a slot holds
; size << 8 | count (a count up to STEADY), another size's arrival starting it at 1
@asked = internal global [{ASKED_SLOTS} x i64] zeroinitializer

; the first 64-byte boundary at least 16 bytes into the block at %block
define internal i64 @boundary(i64 %block) {{
  %end = add i64 %block, {SLACK - 1}
  %data = and i64 %end, {-ALIGNMENT}
  ret i64 %data
}}

; the block's size kept at its start and its address before %data, and the whole pages of a
; large array marked for huge pages where %huge is 1; returns %data
define internal i64 @keep(i64 %block, i64 %data, i64 %size, i64 %huge) {{
  %padded = add i64 %size, {SLACK}
  %head = inttoptr i64 %block to {{ptr}}
  store i64 %padded, {{ptr}} %head
  %slot = sub i64 %data, 8
  %at = inttoptr i64 %slot to {{ptr}}
  store i64 %block, {{ptr}} %at
  %asked = icmp ne i64 %huge, 0
  %big = icmp uge i64 %size, {HUGE_FROM}
  %mark = and i1 %asked, %big
  br i1 %mark, label %advise, label %done
advise:
  %up = add i64 %data, 4095
  %start = and i64 %up, -4096
  %stop = add i64 %data, %size
  %length = sub i64 %stop, %start
  %ignored = call i32 @madvise(i64 %start, i64 %length, i32 {MADV_HUGEPAGE})
  br label %done
done:
  ret i64 %data
}}

define internal i64 @block_of(i64 %data) {{
  %slot = sub i64 %data, 8
  %at = inttoptr i64 %slot to {{ptr}}
  %block = load i64, {{ptr}} %at
  ret i64 %block
}}

define internal i64 @size_of(i64 %block) {{
  %head = inttoptr i64 %block to {{ptr}}
  %padded = load i64, {{ptr}} %head
  ret i64 %padded
}}

; the data's address in %block, the block kept before it (0 where %block is 0: no memory)
define internal i64 @placed(i64 %block, i64 %size, i64 %huge) {{
  %got = icmp ne i64 %block, 0
  br i1 %got, label %place, label %fail
place:
  %data = call i64 @boundary(i64 %block)
  %kept = call i64 @keep(i64 %block, i64 %data, i64 %size, i64 %huge)
  ret i64 %kept
fail:
  ret i64 0
}}

; the %i-th word of the table at %base
define internal {{ptr}} @word(i64 %base, i64 %i) {{
  %offset = mul i64 %i, 8
  %address = add i64 %base, %offset
  %at = inttoptr i64 %address to {{ptr}}
  ret {{ptr}} %at
}}

define internal {{ptr}} @slot(i64 %i) {{
  %base = ptrtoint {{slots}} @slots to i64
  %at = call {{ptr}} @word(i64 %base, i64 %i)
  ret {{ptr}} %at
}}

; the count's slot: a multiplicative hash of the size, its top ASKED_BITS bits
define internal {{ptr}} @asked_slot(i64 %padded) {{
  %mixed = mul i64 %padded, -7046029254386353131
  %index = lshr i64 %mixed, {64 - ASKED_BITS}
  %base = ptrtoint {{asked}} @asked to i64
  %at = call {{ptr}} @word(i64 %base, i64 %index)
  ret {{ptr}} %at
}}

; the count of mallocs of %padded bytes, counted up to STEADY (the table is a hint: threads
; racing on a slot may lose a count, never corrupt one, each slot being one atomic word)
define internal void @count(i64 %padded) {{
entry:
  %at = call {{ptr}} @asked_slot(i64 %padded)
  %word = load atomic i64, {{ptr}} %at monotonic, align 8
  %size = lshr i64 %word, 8
  %same = icmp eq i64 %size, %padded
  %times = and i64 %word, 255
  %full = icmp uge i64 %times, {STEADY}
  %counted_out = and i1 %same, %full
  br i1 %counted_out, label %done, label %set
set:
  %tagged = shl i64 %padded, 8
  %first = or i64 %tagged, 1
  %next = add i64 %word, 1
  %counted = select i1 %same, i64 %next, i64 %first
  store atomic i64 %counted, {{ptr}} %at monotonic, align 8
  br label %done
done:
  ret void
}}

; whether malloc was asked for %padded bytes STEADY times: a size in steady use
define internal i1 @steady(i64 %padded) {{
  %at = call {{ptr}} @asked_slot(i64 %padded)
  %word = load atomic i64, {{ptr}} %at monotonic, align 8
  %tagged = shl i64 %padded, 8
  %wanted = or i64 %tagged, {STEADY}
  %is = icmp eq i64 %word, %wanted
  ret i1 %is
}}

; a kept block of %padded bytes, taken out of its slot (each slot is emptied before its block
; is read, so no other thread frees it meanwhile; one of another size goes back, or is
; freed where its slot was filled); 0 where none
define internal i64 @take(i64 %padded) {{
entry:
  br label %scan
scan:
  %i = phi i64 [0, %entry], [%next, %skip]
  %at = call {{ptr}} @slot(i64 %i)
  %block = atomicrmw xchg {{ptr}} %at, i64 0 seq_cst
  %empty = icmp eq i64 %block, 0
  br i1 %empty, label %skip, label %look
look:
  %have = call i64 @size_of(i64 %block)
  %fits = icmp eq i64 %have, %padded
  br i1 %fits, label %found, label %back
found:
  %left = atomicrmw sub {{ptr}} @kept, i64 %padded seq_cst
  ret i64 %block
back:
  %pair = cmpxchg {{ptr}} %at, i64 0, i64 %block seq_cst seq_cst
  %returned = extractvalue {{ i64, i1 }} %pair, 1
  br i1 %returned, label %skip, label %drop
drop:
  %less = atomicrmw sub {{ptr}} @kept, i64 %have seq_cst
  call void @free(i64 %block)
  br label %skip
skip:
  %next = add i64 %i, 1
  %more = icmp ult i64 %next, {KEPT_BLOCKS}
  br i1 %more, label %scan, label %none
none:
  ret i64 0
}}

; %block (of %padded bytes) kept in an empty slot where the bytes kept stay within bounds;
; 1 when kept
define internal i1 @give(i64 %block, i64 %padded) {{
entry:
  %before = atomicrmw add {{ptr}} @kept, i64 %padded seq_cst
  %after = add i64 %before, %padded
  %room = icmp ule i64 %after, {KEPT_BYTES}
  br i1 %room, label %scan, label %refuse
scan:
  %i = phi i64 [0, %entry], [%next, %full]
  %at = call {{ptr}} @slot(i64 %i)
  %pair = cmpxchg {{ptr}} %at, i64 0, i64 %block seq_cst seq_cst
  %placed = extractvalue {{ i64, i1 }} %pair, 1
  br i1 %placed, label %done, label %full
full:
  %next = add i64 %i, 1
  %more = icmp ult i64 %next, {KEPT_BLOCKS}
  br i1 %more, label %scan, label %refuse
refuse:
  %undo = atomicrmw sub {{ptr}} @kept, i64 %padded seq_cst
  ret i1 0
done:
  ret i1 1
}}

; NumPy asks for at most 2^63 - 1 bytes (its largest index), so the slack cannot overflow
define i64 @allocate(i64 %huge, i64 %size) {{
entry:
  %padded = add i64 %size, {SLACK}
  %large = icmp uge i64 %padded, {KEEP_FROM}
  br i1 %large, label %reuse, label %fresh
reuse:
  call void @count(i64 %padded)
  %kept = call i64 @take(i64 %padded)
  %found = icmp ne i64 %kept, 0
  br i1 %found, label %place, label %fresh
fresh:
  %new = call i64 @malloc(i64 %padded)
  br label %place
place:
  %block = phi i64 [%kept, %reuse], [%new, %fresh]
  %data = call i64 @placed(i64 %block, i64 %size, i64 %huge)
  ret i64 %data
}}

; NumPy has checked %count * %item for overflow; never a kept block (calloc's large blocks
; are fresh mapped pages, zero until written)
define i64 @allocate_zeros(i64 %huge, i64 %count, i64 %item) {{
  %size = mul i64 %count, %item
  %padded = add i64 %size, {SLACK}
  %block = call i64 @calloc(i64 1, i64 %padded)
  %data = call i64 @placed(i64 %block, i64 %size, i64 %huge)
  ret i64 %data
}}

; realloc of the block, then the data moved from its old offset to the new block's boundary
; (the block's address written after the move: the slot may lie in the old data)
define i64 @reallocate(i64 %huge, i64 %data, i64 %size) {{
  %none = icmp eq i64 %data, 0
  br i1 %none, label %fresh, label %move
fresh:
  %new = call i64 @allocate(i64 %huge, i64 %size)
  ret i64 %new
move:
  %block = call i64 @block_of(i64 %data)
  %offset = sub i64 %data, %block
  %padded = add i64 %size, {SLACK}
  %moved = call i64 @realloc(i64 %block, i64 %padded)
  %got = icmp ne i64 %moved, 0
  br i1 %got, label %place, label %fail
place:
  %target = call i64 @boundary(i64 %moved)
  %source = add i64 %moved, %offset
  %same = call i64 @memmove(i64 %target, i64 %source, i64 %size)
  %kept = call i64 @keep(i64 %moved, i64 %target, i64 %size, i64 %huge)
  ret i64 %kept
fail:
  ret i64 0
}}

; a large block is kept for the next array of its size where there is room, else freed
define void @release(i64 %huge, i64 %data, i64 %size) {{
entry:
  %none = icmp eq i64 %data, 0
  br i1 %none, label %done, label %which
which:
  %block = call i64 @block_of(i64 %data)
  %padded = call i64 @size_of(i64 %block)
  %large = icmp uge i64 %padded, {KEEP_FROM}
  br i1 %large, label %ask, label %free
ask:
  %wanted = call i1 @steady(i64 %padded)
  br i1 %wanted, label %offer, label %free
offer:
  %kept = call i1 @give(i64 %block, i64 %padded)
  br i1 %kept, label %done, label %free
free:
  call void @free(i64 %block)
  br label %done
done:
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
    module = _parsed(llvm)
    machine = llvm.Target.from_default_triple().create_target_machine(opt=2)
    engine = _immortal(llvm.create_mcjit_compiler(module, machine))
    _immortal(machine)
    engine.finalize_object()
    return {name: engine.get_function_address(name)
            for name in ("allocate", "allocate_zeros", "reallocate", "release")}


def _parsed(llvm):
    """``IR`` parsed with typed pointers (LLVM 14, and 15-16 where llvmlite keeps them),
    else with opaque ones (LLVM 17 on)."""
    typed = IR.replace("{ptr}", "i64*").replace("{slots}", f"[{KEPT_BLOCKS} x i64]*")
    typed = typed.replace("{asked}", f"[{ASKED_SLOTS} x i64]*")
    opaque = IR.replace("{ptr}", "ptr").replace("{slots}", "ptr").replace("{asked}", "ptr")
    try:
        module = llvm.parse_assembly(typed)
    except RuntimeError:
        module = llvm.parse_assembly(opaque)
    module.verify()
    return module


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
