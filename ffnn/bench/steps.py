"""Training-step rows: ffnn, PyTorch, JAX and NumPy's matrix products, each in its own
process (``ffnn.bench.peers``), timed in alternation; one row per case or sweep entry.

A row's ratios: ``ratio`` = ffnn / torch, ``jax_ratio`` = ffnn / JAX (ffnn's eager step, the
PyTorch program's), ``compiled_jax_ratio`` = ffnn's step through ``ffnn.compile`` / JAX's
``jax.jit`` step, and ``step_over_matmul`` / ``compiled_over_matmul`` = ffnn's eager /
compiled step over the time of its matrix products alone (``cases.matmul_shapes``) with the
same NumPy and BLAS.
"""

from __future__ import annotations

from ffnn.bench import cases, peers, sweep

SHAPE_CASE = "shape"
"""The rows of ``ffnn bench --shape`` (``ffnn.bench.shape_text``)."""
PEER_CASES = cases.TRAIN_CASES + tuple(sweep.GROUPS) + (SHAPE_CASE,)

REPEATS = {
    # name: (rounds, seconds per round and library)
    "small": (2, 0.0),
    "quick": (3, 0.03),
    "default": (7, 0.1),
    "large": (15, 0.25),
}


def items(names: list[str], shapes: dict[str, cases.Spec] | None = None
          ) -> list[tuple[str, str | None, cases.Spec]]:
    """(case, variant label or None, Spec) for each training case or group entry in
    ``names``, in order, ``shapes`` ({label: Spec}, ``--shape``) as the entries of the case
    ``shape``; other names are left out."""
    out: list[tuple[str, str | None, cases.Spec]] = []
    for name in names:
        if name == SHAPE_CASE:
            out += [(name, variant, spec) for variant, spec in (shapes or {}).items()]
        elif name in cases.TRAIN_CASES:
            out.append((name, None, cases.SPECS[name]))
        elif name in sweep.GROUPS:
            out += [(name, variant, spec) for variant, spec in sweep.GROUPS[name]().items()]
    return out


def libraries(use_torch: bool, use_jax: bool) -> list[str]:
    """The peer processes to start: ffnn, its compiled step and matmul always, torch and jax
    unless refused."""
    return ["ffnn", "ffnn_compiled"] + (["torch"] if use_torch else []) \
        + (["jax"] if use_jax else []) + ["matmul"]


def _ms(times: dict, library: str) -> float | None:
    return 1e3 * times[library]["median_s"] if library in times else None


def _over(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def step_row(case: str, variant: str | None, spec: cases.Spec, times: dict) -> dict:
    """The row of one measured case: milliseconds per step, ratios, GFLOP/s."""
    ffnn_ms, torch_ms, jax_ms = _ms(times, "ffnn"), _ms(times, "torch"), _ms(times, "jax")
    matmul_ms, compiled_ms = _ms(times, "matmul"), _ms(times, "ffnn_compiled")
    flops = cases.matmul_flops(spec)
    description = sweep.DESCRIPTIONS[case] if variant else cases.DESCRIPTIONS[case]
    return {"case": case, "variant": variant, "description": description,
            "spec": spec.to_dict(), "ffnn_ms": ffnn_ms, "torch_ms": torch_ms, "jax_ms": jax_ms,
            "matmul_ms": matmul_ms, "ratio": _over(ffnn_ms, torch_ms),
            "jax_ratio": _over(ffnn_ms, jax_ms), "step_over_matmul": _over(ffnn_ms, matmul_ms),
            "compiled_ms": compiled_ms, "compiled_mode": cases.compiled_mode(spec),
            "compiled_jax_ratio": _over(compiled_ms, jax_ms),
            "compiled_over_matmul": _over(compiled_ms, matmul_ms),
            "peak_fraction": _over(matmul_ms, ffnn_ms), "flops": flops,
            "gflops": flops / ffnn_ms / 1e6,
            "torch_gflops": None if torch_ms is None else flops / torch_ms / 1e6,
            "matmul_gflops": None if matmul_ms is None else flops / matmul_ms / 1e6,
            "samples": {k: v["samples"] for k, v in times.items()},
            "ffnn_peak_mib": None, "torch_peak_mib": None, "memory_ratio": None}


def step_rows(names: list[str], threads: int, repeat: str, use_torch: bool, use_jax: bool,
              notes: list[str], commands: dict[str, list[str]] | None = None,
              versions: dict[str, str] | None = None,
              shapes: dict[str, cases.Spec] | None = None) -> list[dict]:
    """Start the peers once, measure every training case in ``names`` (``shapes``: the
    entries of ``shape``) and close them; ``versions`` (if given) receives each running
    peer's library version."""
    todo = items(names, shapes)
    if not todo:
        return []
    rounds, round_s = REPEATS[repeat]
    running = peers.start_peers(libraries(use_torch, use_jax), threads, notes, commands)
    if versions is not None:
        versions.update({name: peer.version for name, peer in running.items()})
    try:
        return [step_row(case, variant, spec, peers.measure(running, spec, rounds, round_s))
                for case, variant, spec in todo]
    finally:
        peers.close_peers(running)
