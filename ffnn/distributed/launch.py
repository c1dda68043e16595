"""Start ``mpiexec`` from Python: find it, build the command, run it with a timeout."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence

from ffnn.distributed._mpi import INSTALL_HINT

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}
"""Environment for one BLAS thread per rank (R ranks on R cores, no oversubscription)."""


def find_mpiexec() -> str:
    """``mpiexec`` next to the running Python (a virtual environment with the ``mpich``
    package), else the first on PATH. Raises FileNotFoundError with install advice."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise FileNotFoundError(f"mpiexec not found next to {sys.executable} nor on PATH. "
                                f"{INSTALL_HINT}")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        text = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in text or "OpenRTE" in text


def mpiexec_command(num_processes: int, argv: Sequence[str], mpiexec: str | None = None) -> list:
    """``[mpiexec, -n, N, *argv]``, plus ``--oversubscribe`` (and ``--allow-run-as-root`` as
    root) for Open MPI, which otherwise refuses more ranks than cores or the root user;
    MPICH's hydra needs neither."""
    if isinstance(num_processes, bool) or not isinstance(num_processes, int) \
            or num_processes < 1:
        raise ValueError(f"num_processes must be a positive integer. Received: "
                         f"num_processes={num_processes!r}")
    mpiexec = mpiexec or find_mpiexec()
    extra: list[str] = []
    if _is_open_mpi(mpiexec):
        extra.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            extra.append("--allow-run-as-root")
    return [mpiexec, *extra, "-n", str(num_processes), *argv]


def run_mpi(num_processes: int, argv: Sequence[str], *, timeout: float,
            env: Mapping[str, str] | None = None, one_thread: bool = True,
            cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run ``mpiexec -n num_processes argv`` and capture its output (text). ``timeout``
    (seconds) is required, so that a hung job raises subprocess.TimeoutExpired instead of
    blocking; ``one_thread`` sets one BLAS/OpenMP thread per rank."""
    full_env = dict(os.environ)
    if one_thread:
        full_env.update(ONE_THREAD)
    full_env.update(env or {})
    command = mpiexec_command(num_processes, argv)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=full_env, cwd=cwd, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        stdout, stderr = process.communicate()
        raise subprocess.TimeoutExpired(command, timeout, output=stdout, stderr=stderr) from None
    except BaseException:
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill mpiexec and the ranks it started (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (OSError, AttributeError):
        process.kill()
