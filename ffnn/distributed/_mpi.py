"""The MPI world: lazy ``mpi4py`` import, rank and size, and abort-on-error.

``mpi4py`` is imported on first use, never at ``import ffnn``; a missing ``mpi4py`` raises an
ImportError that says what to install. When the world has more than one rank, an uncaught
exception on any rank prints that rank's traceback and calls ``MPI_Abort``, which ends every
rank of the job at once instead of leaving the others waiting forever in a collective.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings

INSTALL_HINT = (
    "ffnn.distributed needs mpi4py and an MPI library. Install both from PyPI with "
    "`pip install 'ffnn[mpi]'` (mpi4py, plus the `mpich` package, which puts `mpiexec` in the "
    "virtual environment), or `pip install mpi4py` against a system MPI (Open MPI, MPICH, "
    "Intel MPI), then launch with `mpiexec -n 2 python script.py`."
)

# environment variables set by MPI launchers for each rank (MPICH/hydra, Open MPI, PMIx, Slurm)
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")

_state: dict = {"MPI": None, "hook": False, "noted": False}


def mpi():
    """The ``mpi4py.MPI`` module (initialises MPI on first call). Raises ImportError if missing."""
    if _state["MPI"] is None:
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError(f"{INSTALL_HINT} (import failed: {error})") from error
        _state["MPI"] = MPI
    return _state["MPI"]


def comm():
    """``MPI.COMM_WORLD``; on the first call in a world of several ranks, installs the abort
    hook (see :func:`install_abort_handler`)."""
    world = mpi().COMM_WORLD
    if not _state["hook"] and world.Get_size() > 1:
        install_abort_handler()
    return world


def rank() -> int:
    """This process's rank in ``MPI.COMM_WORLD``: 0 … world_size() - 1."""
    return comm().Get_rank()


def world_size() -> int:
    """Number of processes in ``MPI.COMM_WORLD`` (1 when not started by ``mpiexec``)."""
    return comm().Get_size()


def is_main_process() -> bool:
    """True on rank 0, the one that writes checkpoints, logs and progress."""
    return rank() == 0


def is_available() -> bool:
    """True when ``mpi4py`` can be imported (does not raise)."""
    try:
        mpi()
    except ImportError:
        return False
    return True


def launched_with_mpi() -> bool:
    """True when an MPI launcher started this process with more than one rank, judged from
    the environment alone (no ``mpi4py`` import): ``PMI_SIZE`` (MPICH), ``OMPI_COMM_WORLD_SIZE``
    (Open MPI), ``PMIX_SIZE``, ``MPI_LOCALNRANKS``."""
    for name in _LAUNCHER_SIZE_VARS:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


def barrier() -> None:
    """Wait until every rank reaches this point."""
    comm().Barrier()


_ABORT_GRACE_SECONDS = 0.5


def _abort_hook(exc_type, exc, tb) -> None:
    """sys.excepthook for several ranks: print this rank's error, then MPI_Abort the job."""
    world = _state["MPI"].COMM_WORLD
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    try:
        sys.stderr.write(
            f"[ffnn.distributed] rank {world.Get_rank()} of {world.Get_size()} failed; "
            f"aborting all ranks.\n{text}"
        )
        sys.stderr.flush()
        sys.stdout.flush()
        # the launcher forwards each rank's output asynchronously; MPI_Abort tears its
        # proxies down at once, so give them a moment to deliver this rank's message
        time.sleep(_ABORT_GRACE_SECONDS)
    finally:
        world.Abort(1)


def install_abort_handler() -> None:
    """Make an uncaught exception on any rank abort the whole job (``MPI_Abort``) after
    printing its traceback, so the other ranks never hang in a collective. Installed
    automatically when the world has more than one rank."""
    mpi()
    if not _state["hook"]:
        sys.excepthook = _abort_hook
        _state["hook"] = True


def note_single_process(where: str = "ffnn.distributed") -> None:
    """Warn once that the world has one rank (the script was not started by ``mpiexec``)."""
    if not _state["noted"]:
        _state["noted"] = True
        warnings.warn(
            f"{where}: world size is 1, so training runs in this one process. To train on N "
            f"processes, launch with `mpiexec -n N ...` (see docs/distributed.md).",
            RuntimeWarning,
            stacklevel=3,
        )


def init() -> int:
    """Start MPI, install the abort-on-error hook when there are several ranks, note a world
    of one rank; returns the world size. Optional: every other function starts MPI itself."""
    size = world_size()
    if size == 1:
        note_single_process()
    return size
