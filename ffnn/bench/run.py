"""``ffnn bench``: run the cases side by side with PyTorch and print the table."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import platform
import sys

import numpy as np

from ffnn.bench import cases, report, steps, timing
from ffnn.bench.shape_text import shape_specs


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or platform.machine()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        blas.sort(key=lambda i: "numpy" not in str(i.get("filepath")))  # NumPy's own first
        if blas:
            name = f"{blas[0].get('internal_api')} {blas[0].get('version') or ''}".strip()
            return name + _mkl()
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    return "unknown BLAS" + _mkl()


def _mkl() -> str:
    """", ffnn's products by MKL <version>" where ``ffnn.kernels.mkl_products`` uses it."""
    try:
        from ffnn.kernels import mkl_products
    except ImportError:  # no numba: NumPy's products
        return ""
    if mkl_products.gemm_addresses() is None:
        return ""
    return f", ffnn's products by MKL {importlib.metadata.version('mkl')}"


def _torch_version() -> str | None:
    """PyTorch's version where it is installed, read without importing it (seconds that
    a run whose cases all time torch in peer processes need not spend)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return None


def machine_info(torch_version: str | None) -> dict:
    return {"cpu": _cpu_name(), "cores": _cores(), "python": platform.python_version(),
            "numpy": np.__version__, "blas": _blas(), "torch": torch_version}


def _array_case(name: str, torch: bool, args, notes: list[str]) -> dict:
    libraries = ("ffnn", "torch") if torch else ("ffnn",)
    built = cases.build(name, libraries)
    fns = dict(built.steps)
    fns["matmul"] = built.matmul
    warmup, rounds, steps = timing.REPEATS[args.repeat][name]
    times = timing.interleaved(fns, warmup, rounds, steps)
    ffnn_s, mm_s = times["ffnn"]["median_s"], times["matmul"]["median_s"]
    torch_s = times["torch"]["median_s"] if "torch" in times else None
    row = {"case": name, "description": cases.DESCRIPTIONS[name],
           "ffnn_ms": 1e3 * ffnn_s, "torch_ms": None if torch_s is None else 1e3 * torch_s,
           "ratio": None if torch_s is None else ffnn_s / torch_s,
           "matmul_ms": 1e3 * mm_s, "flops": built.flops, "gflops": built.flops / ffnn_s / 1e9,
           "torch_gflops": None if torch_s is None else built.flops / torch_s / 1e9,
           "matmul_gflops": built.flops / mm_s / 1e9, "peak_fraction": mm_s / ffnn_s,
           "step_over_matmul": ffnn_s / mm_s,
           "samples": {k: v["samples"] for k, v in times.items()},
           "jax_ms": None, "jax_ratio": None,
           "ffnn_peak_mib": None, "torch_peak_mib": None, "memory_ratio": None}
    _add_memory(row, torch, args)
    return row


def _add_memory(row: dict, torch: bool, args) -> None:
    """Peak memory of a named case's step in fresh processes (``ffnn.bench.memory``)."""
    if not args.memory or row.get("variant"):
        return
    from ffnn.bench.memory import peak_memory

    name = row["case"]
    row["ffnn_peak_mib"] = peak_memory(name, "ffnn", args.threads)["peak_mib"]
    if torch:
        row["torch_peak_mib"] = peak_memory(name, "torch", args.threads)["peak_mib"]
        row["memory_ratio"] = row["ffnn_peak_mib"] / max(row["torch_peak_mib"], 1e-9)


SKLEARN_SEEDS = 10
"""Seeds per data set in the sklearn case: one test sample of digits is 0.22 % accuracy, so
three seeds decide "equal or better" by chance; ten give a median that means something."""


def _sklearn_rows(args, notes: list[str]) -> list[dict]:
    """One row per data set (digits, breast cancer): medians over the seeds."""
    base = {"case": "sklearn", "description": cases.DESCRIPTIONS["sklearn"]}
    try:
        import sklearn  # noqa: F401

        from ffnn.bench.sklearn import DATASETS, bench_sklearn
    except ImportError as err:
        notes.append(f"sklearn case skipped: {err}")
        return [base]
    small = args.repeat == "small"
    results = bench_sklearn(datasets=DATASETS, epochs=5 if small else 200,
                            repeats=1 if small else SKLEARN_SEEDS)
    rows = []
    for dataset, result in results.items():
        rows.append(dict(
            base, dataset=dataset, epochs=result["epochs"], seeds=result["repeats"],
            ffnn_fit_s=result["ffnn"]["fit_seconds"],
            sklearn_fit_s=result["sklearn"]["fit_seconds"],
            ffnn_accuracy=result["ffnn"]["accuracy"],
            sklearn_accuracy=result["sklearn"]["accuracy"],
            ffnn_mean_accuracy=result["ffnn"]["mean_accuracy"],
            sklearn_mean_accuracy=result["sklearn"]["mean_accuracy"],
            ratio=result["time_ratio"],
            accuracy_deficit=result["sklearn"]["accuracy"] - result["ffnn"]["accuracy"]))
    return rows


def _distributed(args, notes: list[str]) -> dict | None:
    try:
        from ffnn.bench.distributed import bench_distributed, format_report
    except ImportError as err:
        notes.append(f"distributed case skipped: {err}")
        return None
    small = args.repeat == "small"
    try:
        # best of 3 runs per rank count (1 when small): two single-threaded ranks need both
        # cores to themselves, and the best run is the least disturbed one
        result = bench_distributed(steps=2 if small else 10, warmup=1 if small else 2,
                                   repeats=1 if small else 3)
    except (RuntimeError, OSError, FileNotFoundError) as err:
        notes.append(f"distributed case failed: {err}")
        return None
    result["text"] = format_report(result)
    return result


def _encode_row(args, torch: bool, notes: list[str]) -> dict | None:
    try:
        from ffnn.bench.encode import bench_encode

        small = args.repeat == "small"
        return bench_encode(count=8 if small else 128, rounds=1 if small else 3,
                            use_torch=torch)
    except (ImportError, OSError) as err:
        notes.append(f"encode case skipped: {err}")
        return None


def run_benchmarks(case_names, threads: int, repeat: str = "default", memory: bool = True,
                   use_torch: bool = True, use_jax: bool = True,
                   peer_commands: dict[str, list[str]] | None = None,
                   shapes: dict[str, cases.Spec] | None = None) -> dict:
    """Run the cases and return the result dict that the formatters print. Training cases
    (``steps.PEER_CASES``) run each library in its own process; ``shapes`` ({label: Spec},
    ``--shape``) are the entries of the case ``shape``; ``peer_commands`` replaces a
    library's peer command (tests)."""
    torch_version = _torch_version() if use_torch else None
    torch = torch_version is not None
    if torch and any(n in cases.ARRAY_CASES or n == "encode" for n in case_names):
        importlib.import_module("torch")  # in this process before its threads are pinned
    notes: list[str] = []
    if not torch:
        notes.append("PyTorch not installed (or --no-torch): torch columns skipped"
                     if use_torch else "--no-torch: torch columns skipped")
    if not use_jax:
        notes.append("--no-jax: JAX columns skipped")
    args = argparse.Namespace(threads=threads, repeat=repeat, memory=memory)
    result = {"machine": machine_info(torch_version),
              "settings": {"threads": threads, "dtype": "float32", "repeat": repeat},
              "cases": [], "notes": notes}
    versions: dict[str, str] = {}
    step_rows = steps.step_rows([n for n in case_names if n in steps.PEER_CASES], threads,
                                repeat, torch, use_jax, notes, peer_commands,
                                versions, shapes)
    result["machine"]["jax"] = versions.get("jax")
    with timing.pinned_threads(threads):
        for name in case_names:
            if name in steps.PEER_CASES:
                for row in [r for r in step_rows if r["case"] == name]:
                    _add_memory(row, torch, args)
                    row["targets"] = report.check_targets(row)
                    result["cases"].append(row)
                continue
            if name in cases.ARRAY_CASES:
                row = _array_case(name, torch, args, notes)
            elif name == "sklearn":
                for row in _sklearn_rows(args, notes):
                    row["targets"] = report.check_targets(row)
                    result["cases"].append(row)
                continue
            elif name == "encode":
                row = _encode_row(args, torch, notes)
                if row is None:
                    continue
            else:
                result["distributed"] = _distributed(args, notes)
                continue
            row["targets"] = report.check_targets(row)
            result["cases"].append(row)
    return result


def _parser() -> argparse.ArgumentParser:
    from ffnn.cli._common import OneLineParser

    p = OneLineParser(
        prog="ffnn bench",
        description="ffnn side by side with PyTorch (and scikit-learn): time per step "
                    "(median after warm-up, libraries measured in alternation), achieved "
                    "GFLOP/s against NumPy's matrix products on the same shapes, peak memory.")
    p.add_argument("--case", action="append",
                   choices=cases.ALL_CASES + ("tabular", "tabular-extra", "all"),
                   help="case to run (repeatable); default: mlp ffn tiny predict sklearn. "
                   "shapes: five other MLP shapes; sweep: every activation x optimizer on "
                   "one MLP, with norms, dropout and float64. "
                   "tabular: ffnn train on raw CSVs vs scikit-learn (slow; not in 'all'); "
                   "tabular-extra: the same on three other tables")
    p.add_argument("--shape", action="append", metavar="TEXT",
                   help="a network of your own, measured as the sweep's entries (repeatable; "
                   "alone it replaces the default cases): widths first, then any of bN "
                   "(batch), an activation, an optimizer, mse or cross_entropy, batch_norm "
                   "or layer_norm, dropout P, float64, lr X; e.g. "
                   "--shape '784-128-10 relu b64 adam'")
    p.add_argument("--check", action="store_true",
                   help="instead of timing: compare a few float64 steps' losses of every "
                   "peer (torch, JAX) with ffnn's on the training cases chosen (default: "
                   "mlp ffn tiny shapes sweep) and print the largest difference")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--repeat", choices=tuple(timing.REPEATS), default="default",
                   help="how many timed steps (small: a smoke test)")
    p.add_argument("--quick", dest="repeat", action="store_const", const="quick",
                   help="fewer timed steps: --repeat quick")
    p.add_argument("--threads", type=int, default=_cores(),
                   help="threads for both libraries (default: the usable cores)")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory columns (each needs a fresh process)")
    p.add_argument("--no-torch", dest="torch", action="store_false",
                   help="do not run PyTorch")
    p.add_argument("--no-jax", dest="jax", action="store_false",
                   help="do not run JAX (run where installed: pip install 'ffnn[jax]')")
    p.add_argument("--profile", action="store_true",
                   help="print ffnn's forward and backward time per layer for each case "
                   "(and --shape)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ffnn bench`` and ``python -m ffnn.bench``; returns the exit code
    (1 when a library's process fails: one line, then the end of its stderr)."""
    from ffnn.bench.peers import PeerError

    try:
        return _main(argv)
    except PeerError as err:
        print(f"ffnn bench: error: {err}", file=sys.stderr)
        if err.stderr.strip():
            print("its stderr ends with:\n" + err.stderr.rstrip(), file=sys.stderr)
        return 1


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.threads < 1:
        print(f"ffnn bench: error: --threads must be >= 1. Received: --threads={args.threads}",
              file=sys.stderr)
        return 2
    try:
        shapes = shape_specs(args.shape or [])
    except ValueError as err:
        print(f"ffnn bench: error: {err}", file=sys.stderr)
        return 2
    if args.check:
        return _check(args, shapes)
    names = _names(args.case, shapes, DEFAULT_CASES)
    for case in ("tabular", "tabular-extra"):
        if case in names:
            names.remove(case)
            _print_tabular(args, extra=case == "tabular-extra")
    if not names:
        return 0
    if args.profile:
        _print_profiles(names, args, shapes)
    result = run_benchmarks(names, args.threads, args.repeat, args.memory, args.torch,
                            args.jax, shapes=shapes)
    if args.json:
        print(report.to_json(result))
    elif args.markdown:
        print(report.to_markdown(result))
    else:
        print(report.to_text(result))
    return 0


DEFAULT_CASES = ("mlp", "ffn", "tiny", "predict", "sklearn")
CHECK_CASES = tuple(c for c in steps.PEER_CASES if c != steps.SHAPE_CASE)


def resolve_cases(names: list[str] | None, default: tuple[str, ...] = DEFAULT_CASES
                  ) -> list[str]:
    """The cases to run, in order, each once: ``default`` when none is named; ``all`` is
    every case (``cases.ALL_CASES``) in its place, ``tabular`` kept where named."""
    out: list[str] = []
    for name in names or default:
        out += list(cases.ALL_CASES) if name == "all" else [name]
    return list(dict.fromkeys(out))


def _names(case_names: list[str] | None, shapes: dict, default: tuple[str, ...]) -> list[str]:
    """``resolve_cases``, then the case ``shape`` when shapes were given (alone, they
    replace the default cases)."""
    if not shapes:
        return resolve_cases(case_names, default)
    return (resolve_cases(case_names) if case_names else []) + [steps.SHAPE_CASE]


def _check(args, shapes: dict) -> int:
    """``--check``: 0 when every peer's float64 losses agree with ffnn's, else 1."""
    from ffnn.bench import check

    names = [n for n in _names(args.case, shapes, CHECK_CASES) if n in steps.PEER_CASES]
    if not names:
        print("ffnn bench: error: --check compares training cases; choose some of "
              f"{', '.join(CHECK_CASES)} (or --shape). Received: --case {' '.join(args.case)}",
              file=sys.stderr)
        return 2
    notes: list[str] = []
    rows = check.loss_differences(names, args.threads, args.torch, args.jax, notes,
                                  shapes=shapes)
    text, agree = check.to_text(rows, notes)
    print(text)
    return 0 if agree else 1


def _print_tabular(args, extra: bool = False) -> None:
    """The tabular cases: their own table (accuracy / R² and fit seconds, not step times)."""
    import json

    from ffnn.bench.tabular import DATASETS, EXTRA_DATASETS, SEEDS, bench_tabular, to_text

    small = args.repeat == "small"  # a smoke test: one data set, one seed, three epochs
    sets = list(EXTRA_DATASETS if extra else DATASETS)
    notes: list[str] = []
    with timing.pinned_threads(args.threads):
        rows = bench_tabular(sets[:1] if small else sets, seeds=1 if small
                             else SEEDS, epochs=3 if small else None, notes=notes)
    if args.json:
        print(json.dumps({"tabular": rows, "notes": notes}))
    else:
        print(to_text(rows, notes))


def _print_profiles(names, args, shapes: dict | None = None) -> None:
    """ffnn's forward and backward time per layer for each named case in ``names`` and
    each ``--shape`` (``shapes``: {label: Spec})."""
    import ffnn
    from ffnn.utils.profile import profile

    todo = [(f"case {name}: {cases.DESCRIPTIONS[name]}", cases.SPECS[name]) for name in names
            if name in cases.TRAIN_CASES + ("predict",)]
    todo += [(f"shape {label}", spec) for label, spec in (shapes or {}).items()]
    for title, spec in todo:
        model, _ = cases.build_ffnn(spec)
        x_np, y_np = cases.make_data(spec)
        loss_fn = None
        if spec.train:
            loss_fn = ffnn.nn.CrossEntropyLoss() if spec.loss == "cross_entropy" \
                else ffnn.nn.MSELoss()
        print(f"profile of {title}")
        with timing.pinned_threads(args.threads):
            profile(model, ffnn.tensor(x_np), target=None if y_np is None else ffnn.tensor(y_np),
                    loss_fn=loss_fn, repeat=3 if args.repeat == "small" else 10,
                    backward=spec.train)
        print()
